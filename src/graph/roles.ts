/**
 * Which axes of a value are nodes (spec metrics.md 1b, "positions are replicas"): the batch axis
 * never is; the axes a dense or recurrent op shares its weights over (sequence positions) are
 * replicas; conv and pooling maps keep every (c, y, x). Axes are linked through the ops that
 * carry them (elementwise, transpose, reshape groups, concat, dense's leading axes, ...) with a
 * union-find, each set takes the strongest mark any op put on it, and unmarked axes are nodes.
 * O(total axes) with path compression.
 */
import { CONV_OPS, opFamily, RECURRENT_OPS } from "./ops.js";
import type { GraphValue, ModelGraph } from "./types.js";
import { known } from "./dims.js";

export type AxisRole = "batch" | "map" | "seq" | "node";
const RANK: Record<AxisRole, number> = { node: 0, seq: 1, map: 2, batch: 3 };

export class AxisRoles {
  private readonly base = new Map<string, number>();
  private readonly parent: number[] = [];
  private readonly mark: number[] = [];

  constructor(graph: ModelGraph) {
    for (const v of graph.values.values()) {
      if (v.kind !== "data" || !v.shape) continue;
      this.base.set(v.name, this.parent.length);
      for (let i = 0; i < v.shape.length; i++) {
        this.parent.push(this.parent.length);
        this.mark.push(0);
      }
    }
  }

  private id(v: GraphValue | undefined, axis: number): number | undefined {
    if (!v?.shape || axis < 0 || axis >= v.shape.length) return undefined;
    const b = this.base.get(v.name);
    return b === undefined ? undefined : b + axis;
  }

  private find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]];
      i = this.parent[i];
    }
    return i;
  }

  link(a: GraphValue | undefined, i: number, b: GraphValue | undefined, j: number): void {
    const x = this.id(a, i), y = this.id(b, j);
    if (x === undefined || y === undefined) return;
    const rx = this.find(x), ry = this.find(y);
    if (rx === ry) return;
    this.parent[ry] = rx;
    this.mark[rx] = Math.max(this.mark[rx], this.mark[ry]);
  }

  set(v: GraphValue | undefined, axis: number, role: AxisRole): void {
    const x = this.id(v, axis);
    if (x === undefined) return;
    const r = this.find(x);
    this.mark[r] = Math.max(this.mark[r], RANK[role]);
  }

  role(v: GraphValue, axis: number): AxisRole {
    const x = this.id(v, axis);
    if (x === undefined) return "node";
    const m = this.mark[this.find(x)];
    return m === 3 ? "batch" : m === 2 ? "map" : m === 1 ? "seq" : "node";
  }

  /** The axes of `v` that are nodes (map or plain nodes), in the value's order. */
  nodeAxes(v: GraphValue): number[] {
    const out: number[] = [];
    for (let i = 0; i < (v.shape?.length ?? 0); i++) {
      const r = this.role(v, i);
      if (r === "map" || r === "node") out.push(i);
    }
    return out;
  }
}

/** A size the walk can use: a non-negative safe integer (a file may declare anything). */

/** Link and mark every data value's axes over the whole graph. */
export function inferRoles(graph: ModelGraph): AxisRoles {
  const roles = new AxisRoles(graph);
  const get = (name: string | undefined) => (name === undefined ? undefined : graph.values.get(name));
  const data = (name: string | undefined) => {
    const v = get(name);
    return v && v.kind === "data" && v.shape ? v : undefined;
  };
  const all = (a: GraphValue, b: GraphValue) => {
    for (let i = 0; i < Math.min(a.shape!.length, b.shape!.length); i++) roles.link(a, i, b, i);
  };
  const fromRight = (a: GraphValue, out: GraphValue) => {
    const r = a.shape!.length, R = out.shape!.length;
    for (let i = 1; i <= Math.min(r, R); i++) {
      if (a.shape![r - i] === out.shape![R - i] && a.shape![r - i] !== 1) roles.link(a, r - i, out, R - i);
    }
  };
  if (graph.batched) {
    for (const name of graph.inputs) {
      const v = data(name);
      if (v && v.shape!.length >= 2) roles.set(v, 0, "batch");
    }
  }
  for (const op of graph.ops) {
    // A binary op's data operand may be on either side (`1 - x`, `c / x`, TF's Mul(constant, x)): its first data input.
    const x = data(op.inputs[0]) ?? (opFamily(op.op) === "merge" ? op.inputs.map(data).find((v) => v !== undefined) : undefined);
    const y = data(op.outputs[0]);
    const lead = (v: GraphValue, spatial: number) => v.shape!.length - spatial - 1;
    if (op.op === "dense" && x && y) {
      for (let i = 0; i < x.shape!.length - 1; i++) {
        roles.set(x, i, "seq");
        roles.link(x, i, y, i);
      }
      continue;
    }
    if (op.op === "global_pool") {
      // Over a map it merges nodes (a break); over positions it is one to one on features (the walk
      // decides by the node counts): it marks nothing, and keeps batch and channels linked.
      if (x && y) {
        const last = (op.layer.attributes?.dataFormat ?? graph.dataFormat) === "channels_last";
        const lead = graph.batched ? 1 : 0;
        if (lead) roles.link(x, 0, y, 0);
        roles.link(x, last ? x.shape!.length - 1 : lead, y, last ? y.shape!.length - 1 : lead);
      }
      continue;
    }
    if (CONV_OPS.has(op.op) || op.op === "pool" || op.op === "upsample" || op.op === "depth_to_space" || op.op === "space_to_depth") {
      const size = op.layer.attributes?.kernel ?? op.layer.attributes?.size;
      // A conv's spatial rank is its own (a TimeDistributed conv reads [N, T, H, W, C]: T is not a map axis).
      const spatial = op.op === "conv1d" ? 1 : CONV_OPS.has(op.op) ? 2 : Array.isArray(size) ? size.length : x ? Math.max(x.shape!.length - (graph.batched ? 2 : 1), 1) : 2;
      const steps = op.layer.attributes?.timeDistributed === 1;
      for (const v of [x, y]) {
        if (!v) continue;
        const l = Math.max(lead(v, Math.min(spatial, v.shape!.length - 1)), 0);
        for (let i = 0; i < v.shape!.length; i++) roles.set(v, i, i < l ? (steps && i === 1 ? "seq" : "batch") : "map");
      }
      if (x && y) for (let i = 0; i < Math.max(lead(x, spatial), 0); i++) roles.link(x, i, y, i);
      continue;
    }
    if (RECURRENT_OPS.has(op.op)) {
      const [yAll] = op.outputs.map(data);
      if (x && op.layer.weightLayout === "in_out") {
        // Keras: [N, T, I] in, [N, T, D*H] (return_sequences) or [N, D*H] out.
        for (let i = 0; i < x.shape!.length - 1; i++) roles.set(x, i, i === 0 && graph.batched ? "batch" : "seq");
        if (yAll) for (let i = 0; i < yAll.shape!.length - 1; i++) roles.link(x, i, yAll, i);
      } else if (x && x.shape!.length === 3) {
        roles.set(x, 0, "seq");
        roles.set(x, 1, "batch");
        const [, yLast, yCell] = op.outputs.map(data);
        if (yAll?.shape!.length === 4) {
          roles.link(x, 0, yAll, 0);
          roles.set(yAll, 2, "batch");
        }
        for (const h of [yLast, yCell]) if (h?.shape!.length === 3) roles.set(h, 1, "batch");
      } else if (x && x.shape!.length >= 2) {
        for (let i = 0; i < x.shape!.length - 1; i++) roles.set(x, i, "seq");
      }
      continue;
    }
    const family = opFamily(op.op);
    if (op.op === "lookup" || (op.op === "gather" && get(op.inputs[0])?.kind !== "data" && data(op.inputs[1]))) {
      const ids = data(op.layer.weight ? op.inputs[0] : op.inputs[1]);
      if (ids && y) for (let i = 0; i < ids.shape!.length; i++) {
        roles.set(y, i, "seq");
        roles.link(ids, i, y, i);
      }
      continue;
    }
    if (!x || !y) continue;
    switch (op.op) {
      case "transpose":
      case "permute": {
        const perm = (op.layer.attributes?.perm as number[] | undefined) ?? x.shape!.map((_, i) => x.shape!.length - 1 - i);
        perm.forEach((p, i) => roles.link(x, p, y, i));
        continue;
      }
      case "reshape":
      case "flatten":
        reshapeLinks(roles, x, y);
        continue;
      case "squeeze":
      case "unsqueeze": {
        const [small, big] = op.op === "squeeze" ? [y, x] : [x, y];
        const given = (op.layer.attributes?.axes as number[] | undefined) ?? get(op.inputs[1])?.values;
        const rank = big.shape!.length;
        const removed = given ? new Set(given.map((a) => (a < 0 ? a + rank : a))) : new Set(big.shape!.flatMap((d, i) => (d === 1 ? [i] : [])));
        let k = 0;
        for (let i = 0; i < rank && k < small.shape!.length; i++) if (!removed.has(i)) roles.link(small, k++, big, i);
        continue;
      }
      case "pad":
        // A pad keeps its axes (reflect and edge pads copy nodes along them).
        all(x, y);
        continue;
      case "concat":
        for (const name of op.inputs) {
          const v = data(name);
          if (v && v.shape!.length === y.shape!.length) all(v, y);
        }
        continue;
      case "reduce": {
        const keep = op.layer.attributes?.keepdims ?? 1;
        const axes = new Set(((op.layer.attributes?.axes as number[] | undefined) ?? get(op.inputs[1])?.values ?? []).map((a) => (a < 0 ? a + x.shape!.length : a)));
        let k = 0;
        for (let i = 0; i < x.shape!.length; i++) {
          if (axes.has(i)) {
            if (keep) k++;
            continue;
          }
          roles.link(x, i, y, k++);
        }
        continue;
      }
      case "matmul":
      case "einsum":
      case "attention": {
        const r = x.shape!.length;
        if (y.shape!.length === r) for (let i = 0; i < r - 1; i++) roles.link(x, i, y, i);
        continue;
      }
    }
    if (family === "elementwise" || family === "merge" || family === "select" || op.layer.kind === "norm") {
      for (const name of op.inputs) {
        const v = data(name);
        if (!v) continue;
        if (op.op === "gather" && v.shape!.length !== y.shape!.length) {
          // A scalar index removes its axis: the others link in order (x[:, -1, :] keeps batch and features).
          const axisAttr = Number(op.layer.attributes?.axis ?? 0);
          const ax = axisAttr < 0 ? axisAttr + v.shape!.length : axisAttr;
          if (v.shape!.length === y.shape!.length + 1) for (let i = 0, k = 0; i < v.shape!.length; i++) if (i !== ax) roles.link(v, i, y, k++);
          continue;
        }
        if (family === "select" || (family === "elementwise" && v.shape!.length === y.shape!.length)) {
          all(v, y);
        } else fromRight(v, y);
      }
      for (const out of op.outputs.slice(1).map(data)) if (out && family === "select") all(x, out);
    }
  }
  return roles;
}

/** Reshape: axes grouped where running products meet; every axis of a group is linked to the group's others. */
function reshapeLinks(roles: AxisRoles, x: GraphValue, y: GraphValue): void {
  const a = x.shape!, b = y.shape!;
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    // Symbolic dims (a batch) pair with each other.
    if (!known(a[i]) || !known(b[j])) {
      if (!known(a[i]) && !known(b[j])) roles.link(x, i, y, j);
      else {
        // One symbolic axis split into or merged from several ([T * B, E] <-> [T, B, E]): what the
        // known dims after it do not account for is one group.
        const rest = splitGroup(a, b, i, j);
        if (rest) {
          for (let p = i; p < rest[0]; p++) for (let q = j; q < rest[1]; q++) roles.link(x, p, y, q);
          [i, j] = rest;
          continue;
        }
      }
      i++;
      j++;
      continue;
    }
    if (a[i] === 1 && b[j] !== 1) { i++; continue; }
    if (b[j] === 1 && a[i] !== 1) { j++; continue; }
    const gi = [i], gj = [j];
    let pa = a[i] as number, pb = b[j] as number;
    i++;
    j++;
    while (pa !== pb) {
      if (pa < pb && i < a.length && known(a[i])) { pa *= a[i] as number; gi.push(i++); }
      else if (pb < pa && j < b.length && known(b[j])) { pb *= b[j] as number; gj.push(j++); }
      else return;
    }
    for (const p of gi) for (const q of gj) roles.link(x, p, y, q);
  }
}

/**
 * Where a[i..] and b[j..] end their leading group when one side starts with a lone symbolic axis:
 * the known dims from the right are matched group by group up to that axis, and what is left on
 * the other side (with at most one symbolic dim) is its group; undefined when that does not hold.
 */
function splitGroup(a: readonly (number | null)[], b: readonly (number | null)[], i: number, j: number): [number, number] | undefined {
  let ea = a.length, eb = b.length;
  // Trailing groups of known dims with equal products, from the right.
  while (ea > i && eb > j && known(a[ea - 1]) && known(b[eb - 1])) {
    let pa = a[ea - 1] as number, pb = b[eb - 1] as number;
    let sa = ea - 1, sb = eb - 1;
    while (pa !== pb) {
      if (pa < pb && sa - 1 >= i && known(a[sa - 1])) pa *= a[--sa] as number;
      else if (pb < pa && sb - 1 >= j && known(b[sb - 1])) pb *= b[--sb] as number;
      else break;
    }
    if (pa !== pb) break;
    ea = sa;
    eb = sb;
  }
  const lone = (v: readonly (number | null)[], s: number, e: number) => e === s + 1 && v[s] === null;
  const fewNull = (v: readonly (number | null)[], s: number, e: number) => e > s && v.slice(s, e).filter((d) => d === null).length <= 1;
  if ((lone(a, i, ea) && fewNull(b, j, eb)) || (lone(b, j, eb) && fewNull(a, i, ea))) return [ea, eb];
  return undefined;
}
