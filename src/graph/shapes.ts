/**
 * Static shapes and constant folding over the graph (spec metrics.md 1b: "shape computations are
 * not part of the network; constant-fold them to learn the data path's shapes"). One pass in
 * topological order, O(ops + folded values): every op's output gets a shape where its inputs'
 * shapes (and any constant it reads: Reshape targets, axes, indices) fix it; integer values are
 * folded where every input is known. Unknown stays unknown (undefined, or null dims), never guessed.
 */
import type { ModelInfo } from "../model/types.js";
import { convKernel } from "./ops/conv/layer.js";
import { convGeometry } from "./ops/conv/geometry.js";
import { opFamily } from "./ops.js";
import type { Dim, GraphOp, GraphValue, ModelGraph } from "./types.js";
import { known, MAX_RANK, validShape } from "./dims.js";

/** An absent optional input. */
const ABSENT: GraphValue = { name: "", kind: "constant", consumers: [] };

/** Folded integer tensors stay small: shapes, axes and indices. */
const MAX_FOLDED = 65536;

export function inferShapes(graph: ModelGraph, model: ModelInfo): void {
  const dataFormat = model.dataFormat;
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  const declared = model.graph?.shapes ?? {};
  const sym = new Symbols();
  for (const op of graph.ops) {
    // Absent optional inputs (ONNX "") stay as holes so positions keep their meaning.
    const ins = op.inputs.map((n) => graph.values.get(n) ?? ABSENT);
    const outs = op.outputs.map((n) => graph.values.get(n)).filter((v): v is GraphValue => v !== undefined && v.producer === op);
    const anyData = ins.some((v) => v.kind === "data");
    const anyShape = ins.some((v) => v.kind === "shape");
    const family = opFamily(op.op);
    // Outputs of ops over constants and shapes only are constants or shape arithmetic, not data.
    if (family === "shape") for (const o of outs) o.kind = "shape";
    else if (!anyData || (family === "plumbing" && op.op !== "tile")) for (const o of outs) o.kind = anyShape || anyData ? "shape" : "constant";
    let shapes: (Dim[] | undefined)[] = [];
    try {
      shapes = infer(op, ins, outs.length, tensors, graph.batched, dataFormat, sym);
    } catch {
      shapes = [];
    }
    // Shapes by output position (an absent optional output keeps its place).
    op.outputs.forEach((name, i) => {
      const o = graph.values.get(name);
      if (!o || o.producer !== op) return;
      o.shape = [shapes[i], declared[o.name], o.shape].find(validShape);
      if (o.kind !== "data") {
        const folded = fold(op, ins, o.shape);
        if (folded && folded.length <= MAX_FOLDED) o.values = folded;
        else if (i === 0) {
          // Shape arithmetic over a symbolic dim (a dynamic batch): each element a number, a multiple of a dim, or unknown.
          const elems = foldSymbolic(op, ins, sym);
          if (elems && elems.every((e) => typeof e === "number")) o.values = elems as number[];
          else if (elems && elems.some((e) => e !== null)) sym.elems.set(o.name, elems);
        }
      } else if (i === 0 && o.shape) sym.propagate(op, ins, o, graph.batched);
    });
  }
}

/**
 * A symbolic size: k times the size of one symbolic axis. The axis is named by its origin, the
 * value where that size first appears (a graph input's batch), carried through the ops that keep
 * it (unary elementwise ops, norms, dense and conv batch axes, Transpose, Reshape's copied axes),
 * so `x.view(x.size(0), -1)` of any value downstream still reads "copy this axis".
 */
export interface SymDim {
  key: string;
  k: number;
}
/** One element of a folded integer tensor: a number, a symbolic size, or unknown. */
export type Elem = number | SymDim | null;

/** Ops that move axes: their origins come from their own rules, or are not kept. */
const RELAYOUT = new Set(["reshape", "flatten", "squeeze", "unsqueeze", "expand", "transpose", "permute"]);
const UNARY = new Set(["activation", "dropout", "identity", "cast", "relu", "sigmoid", "tanh", "softmax", "rescale"]);

class Symbols {
  /** Shape arithmetic values with some element known or symbolic. */
  readonly elems = new Map<string, Elem[]>();
  /** Origins of a data value's symbolic axes (absent: the value itself). */
  private readonly origins = new Map<string, (string | undefined)[]>();
  /** The latest Reshape's copied axes, for its output's origins. */
  reshaped?: { op: GraphOp; from: (number | undefined)[] };

  origin(v: GraphValue, axis: number): string | undefined {
    if (v.kind !== "data" || !v.shape || v.shape[axis] !== null) return undefined;
    return this.origins.get(v.name)?.[axis] ?? `${v.name}#${axis}`;
  }

  of(v: GraphValue | undefined): Elem[] | undefined {
    if (!v) return undefined;
    return v.values ?? this.elems.get(v.name);
  }

  /** Origins of a data output's symbolic axes, where the op keeps an input's axis. */
  propagate(op: GraphOp, ins: GraphValue[], y: GraphValue, batched: boolean): void {
    const x = ins[0];
    const yShape = y.shape!;
    if (!x?.shape || x.kind !== "data" || !yShape.includes(null)) return;
    const from: (number | undefined)[] = new Array(yShape.length).fill(undefined);
    const family = opFamily(op.op);
    if (op.op === "transpose" || op.op === "permute") {
      const perm = intsAttr(op, "perm") ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
      if (perm.length === yShape.length) perm.forEach((p, i) => (from[i] = p));
    } else if (op.op === "reshape") {
      if (this.reshaped?.op === op) this.reshaped.from.forEach((j, i) => (from[i] = j));
    } else if (UNARY.has(op.op) || op.layer.kind === "norm" || (family === "elementwise" && !RELAYOUT.has(op.op))) {
      if (x.shape.length === yShape.length) for (let i = 0; i < yShape.length; i++) from[i] = i;
    } else if (op.op === "dense" && x.shape.length === yShape.length) {
      for (let i = 0; i < yShape.length - 1; i++) from[i] = i;
    } else if ((CONV_FAMILY.has(op.op) || op.op === "pool" || op.op === "global_pool") && batched && x.shape.length === yShape.length) {
      from[0] = 0;
    }
    const out = from.map((j, i) => (j !== undefined && yShape[i] === null ? this.origin(x, j) : undefined));
    if (out.some((o) => o !== undefined)) this.origins.set(y.name, out);
  }
}

const CONV_FAMILY = new Set(["conv2d", "conv1d", "conv2d_transpose"]);

const isSym = (e: Elem | undefined): e is SymDim => typeof e === "object" && e !== null;

/** Elementwise integer arithmetic where one side may be a symbolic size: k * d stays a size under * and exact / by constants. */
function symArith(op: string, p: Elem, q: Elem): Elem {
  if (typeof p === "number" && typeof q === "number") return op === "add" ? p + q : op === "sub" ? p - q : op === "mul" ? p * q : q === 0 ? null : Math.trunc(p / q);
  if (op === "mul") {
    if (isSym(p) && typeof q === "number") return q === 0 ? 0 : { key: p.key, k: p.k * q };
    if (typeof p === "number" && isSym(q)) return p === 0 ? 0 : { key: q.key, k: q.k * p };
    return null;
  }
  if (op === "div" && isSym(p) && typeof q === "number" && q > 0 && p.k % q === 0) return { key: p.key, k: p.k / q };
  if ((op === "add" || op === "sub") && isSym(p) && q === 0) return p;
  if (op === "add" && p === 0 && isSym(q)) return q;
  return null;
}

/** Shape arithmetic with symbolic sizes: Shape, Gather, Slice, Unsqueeze / Squeeze / Cast / Identity, Concat, Add / Sub / Mul / Div. */
function foldSymbolic(op: GraphOp, ins: GraphValue[], sym: Symbols): Elem[] | undefined {
  const a = op.layer.attributes ?? {};
  const e = ins.map((v) => sym.of(v));
  const flat = (v: GraphValue | undefined) => !v?.shape || v.shape.length <= 1;
  let out: Elem[] | undefined;
  switch (op.op) {
    case "shape": {
      const x = ins[0];
      if (!x?.shape) return undefined;
      const start = typeof a.start === "number" ? a.start : 0;
      const end = typeof a.end === "number" ? a.end : x.shape.length;
      const all: Elem[] = x.shape.map((d, i) => (known(d) ? d : d === null && sym.origin(x, i) ? { key: sym.origin(x, i)!, k: 1 } : null));
      const norm = (i: number) => Math.min(Math.max(i < 0 ? i + all.length : i, 0), all.length);
      out = all.slice(norm(start), norm(end));
      break;
    }
    case "identity": case "cast": case "squeeze": case "unsqueeze": case "reshape": case "flatten":
      out = e[0] && flat(ins[0]) ? e[0] : undefined;
      break;
    case "concat":
      out = e.every((x, i) => x && flat(ins[i])) ? e.flatMap((x) => x!) : undefined;
      break;
    case "gather": {
      const idx = ins[1]?.values;
      if (!e[0] || !idx || !flat(ins[0])) return undefined;
      const n = e[0].length;
      out = idx.map((i) => (i >= -n && i < n ? e[0]![i < 0 ? i + n : i] : null));
      break;
    }
    case "slice": {
      if (!e[0] || !flat(ins[0])) return undefined;
      const starts = intsOf(op, ins, "starts", 1), ends = intsOf(op, ins, "ends", 2), steps = intsOf(op, ins, "steps", 4);
      const axes = intsOf(op, ins, "axes", 3);
      if (!starts || !ends || starts.length !== 1 || ends.length !== 1 || (axes && (axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1)))) return undefined;
      const n = e[0].length, step = steps?.[0] ?? 1;
      if (step === 0 || !Number.isSafeInteger(step)) return undefined;
      out = [];
      let s = starts[0] < 0 ? starts[0] + n : Math.min(starts[0], n);
      const end = ends[0] < 0 ? ends[0] + n : Math.min(ends[0], n);
      if (step > 0) for (s = Math.max(s, 0); s < end; s += step) out.push(e[0][s]);
      else for (s = Math.min(s, n - 1); s > end && s >= 0; s += step) out.push(e[0][s]);
      break;
    }
    case "add": case "sub": case "mul": case "div": {
      if (!e[0] || !e[1] || !flat(ins[0]) || !flat(ins[1])) return undefined;
      const n = Math.max(e[0].length, e[1].length);
      if ((e[0].length !== n && e[0].length !== 1) || (e[1].length !== n && e[1].length !== 1)) return undefined;
      const at = (x: Elem[], i: number) => x[x.length === 1 ? 0 : i];
      out = Array.from({ length: n }, (_, i) => symArith(op.op, at(e[0]!, i), at(e[1]!, i)));
      break;
    }
  }
  return out && out.length <= MAX_RANK ? out : undefined;
}

const product = (dims: readonly Dim[]): Dim => dims.reduce<Dim>((a, d) => (known(a) && known(d) ? a * d : null), 1);
const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function intAttr(op: GraphOp, key: string): number | undefined {
  const v = op.layer.attributes?.[key];
  return typeof v === "number" ? v : undefined;
}
function intsAttr(op: GraphOp, key: string): number[] | undefined {
  const v = op.layer.attributes?.[key];
  return Array.isArray(v) ? v : typeof v === "number" ? [v] : undefined;
}
/** An int list given as an attribute (older opsets) or as the constant input at `index`. */
function intsOf(op: GraphOp, ins: GraphValue[], key: string, index: number): number[] | undefined {
  return intsAttr(op, key) ?? (ins[index]?.values ? [...ins[index].values!] : undefined);
}

/** Output shapes of one op. */
function infer(op: GraphOp, ins: GraphValue[], count: number, tensors: Map<string, { shape: number[] }>, batched: boolean, dataFormat: ModelInfo["dataFormat"], sym: Symbols): (Dim[] | undefined)[] {
  const channelsLast = (op.layer.attributes?.dataFormat ?? dataFormat) === "channels_last";
  const x = ins[0]?.shape;
  const a = op.layer.attributes ?? {};
  switch (op.op) {
    case "dense": {
      const w = tensors.get(op.layer.weight!);
      if (!w || w.shape.length !== 2) return [];
      const nOut = op.layer.weightLayout === "in_out" ? w.shape[1] : w.shape[0];
      const nIn = op.layer.weightLayout === "in_out" ? w.shape[0] : w.shape[1];
      if (!x) return [batched ? undefined : [nOut]];
      // A chain's dense layer right after a feature map reads it flattened.
      const lead = batched ? 1 : 0;
      // (and where the sizes do not fit at all, the walk notes it; the outputs are nOut features still).
      const out = x[x.length - 1] !== nIn && x.length > lead + 1 ? [...x.slice(0, lead), nOut] : [...x.slice(0, -1), nOut];
      // A second output is the product before its bias (ONNX MatMul + Add, where its shape is read): the same shape.
      return [out, out];
    }
    case "conv2d":
    case "conv1d":
    case "conv2d_transpose":
      return [convOutput(op, x, tensors, channelsLast)];
    case "rnn":
    case "lstm":
    case "gru": {
      const directions = 1 + (op.directions?.length ?? 0);
      const hidden = Number(a.hidden) || 0;
      if (!batched) return [[directions * hidden]];
      // Keras (kernels [in, out]): batch first, directions concatenated on the features.
      if (op.layer.weightLayout === "in_out") return x && x.length === 3 ? [a.returnSequences ? [x[0], x[1], directions * hidden] : [x[0], directions * hidden]] : [];
      if (!x || x.length !== 3) return [];
      // ONNX: X [T, N, I] -> Y [T, D, N, H], Y_h and Y_c [D, N, H].
      return [[x[0], directions, x[1], hidden], [directions, x[1], hidden], [directions, x[1], hidden]];
    }
    case "lookup": {
      const w = tensors.get(op.layer.weight ?? op.inputs[0]);
      const ids = op.layer.weight ? ins[0] : ins[1];
      if (!w) return [];
      const dim = w.shape[w.shape.length - 1];
      return [ids?.shape ? [...ids.shape, dim] : batched ? undefined : [dim]];
    }
  }
  if (op.layer.kind === "norm") return [x];
  switch (op.op) {
    case "activation": case "dropout": case "identity": case "cast": case "relu": case "sigmoid": case "tanh": case "softmax": case "rescale":
    case "compare": case "not":
      return [x, ...(count > 1 ? [x] : [])];
    case "add": case "sub": case "subtract": case "mul": case "multiply": case "div": case "max": case "maximum": case "min": case "minimum":
    case "sum": case "mean": case "average": case "pow": case "mod": case "where":
      return [ins.reduce<Dim[] | undefined>((s, v) => (s && v.shape ? broadcast(s, v.shape) : undefined), ins.length > 0 ? [] : undefined)];
    case "flatten": {
      if (!x) return [];
      if (a.onnx !== "Flatten" && !batched) return [[product(x)]];
      // Keras TimeDistributed(Flatten): every step flattened, the steps kept (positions are replicas).
      if (a.timeDistributed === 1 && batched && x.length >= 3) return [[x[0], x[1], product(x.slice(2))]];
      const axis = normAxis(intAttr(op, "axis") ?? 1, x.length);
      return [[product(x.slice(0, axis)), product(x.slice(axis))]];
    }
    case "reshape": {
      // Keras Reshape gives one sample's target shape; the batch axis stays.
      const keras = intsAttr(op, "targetShape");
      if (keras) return [reshape(x, batched ? [-2, ...keras] : keras, false, x?.[0] ?? null)];
      const target = sym.of(ins[1]);
      if (!target) return [ins[1]?.shape && known(ins[1].shape[0]) && ins[1].shape[0] <= MAX_RANK ? new Array<Dim>(ins[1].shape[0]).fill(null) : undefined];
      const allowZero = intAttr(op, "allowzero") === 1;
      // A symbolic element that is exactly one of the input's symbolic axes copies it (x.view(x.size(0), -1)).
      const from: (number | undefined)[] = target.map((t, i) => (t === 0 && !allowZero && x && i < x.length ? i : undefined));
      target.forEach((t, i) => {
        if (!isSym(t) || t.k !== 1 || !x) return;
        const j = x.findIndex((_, j) => !from.includes(j) && sym.origin(ins[0], j) === t.key);
        if (j >= 0) from[i] = j;
      });
      sym.reshaped = { op, from };
      return [reshape(x, target.map((t) => (typeof t === "number" ? t : NaN)), allowZero, null, from)];
    }
    case "transpose": case "permute": {
      if (!x) return [];
      const perm = intsAttr(op, "perm") ?? x.map((_, i) => x.length - 1 - i);
      return [perm.map((p) => x[p])];
    }
    case "squeeze": {
      if (!x) return [];
      const axes = intsOf(op, ins, "axes", 1)?.map((ax) => normAxis(ax, x.length));
      return [x.filter((d, i) => (axes ? !axes.includes(i) : d !== 1))];
    }
    case "unsqueeze": {
      if (!x) return [];
      const axes = intsOf(op, ins, "axes", 1);
      if (!axes) return [];
      const rank = x.length + axes.length;
      const at = new Set(axes.map((ax) => normAxis(ax, rank)));
      const out: Dim[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : x[k++]);
      return [out];
    }
    case "concat": {
      const shapes = ins.map((v) => v.shape);
      if (shapes.some((s) => !s) || shapes.length === 0) return [];
      const rank = shapes[0]!.length;
      const axis = normAxis(intAttr(op, "axis") ?? -1, rank);
      const out = [...shapes[0]!];
      out[axis] = shapes.reduce<Dim>((sum, s) => (known(sum) && known(s![axis]) ? sum + (s![axis] as number) : null), 0);
      return [out];
    }
    case "split": {
      if (!x) return [];
      const axis = normAxis(intAttr(op, "axis") ?? 0, x.length);
      const sizes = intsOf(op, ins, "split", 1) ?? (known(x[axis]) && x[axis]! % count === 0 ? new Array(count).fill(x[axis]! / count) : undefined);
      if (!sizes) return [];
      return sizes.map((n) => x.map((d, i) => (i === axis ? n : d)));
    }
    case "slice": {
      if (!x) return [];
      const starts = intsOf(op, ins, "starts", 1), ends = intsOf(op, ins, "ends", 2);
      if (!starts || !ends) return [];
      const axes = intsOf(op, ins, "axes", 3) ?? starts.map((_, i) => i);
      const steps = intsOf(op, ins, "steps", 4) ?? starts.map(() => 1);
      const out = [...x];
      axes.forEach((ax, i) => {
        const axis = normAxis(ax, x.length);
        out[axis] = sliceLength(x[axis], starts[i], ends[i], steps[i]);
      });
      return [out];
    }
    case "gather": {
      const indices = ins[1];
      if (!x || !indices?.shape) return [];
      const axis = normAxis(intAttr(op, "axis") ?? 0, x.length);
      return [[...x.slice(0, axis), ...indices.shape, ...x.slice(axis + 1)]];
    }
    case "gather_nd": {
      // GatherNd(params, indices [..., k]): indices' leading axes, then params' axes after the first k.
      const idx = ins[1]?.shape;
      const depth = idx?.[idx.length - 1];
      return x && idx && idx.length >= 1 && known(depth) && depth <= x.length ? [[...idx.slice(0, -1), ...x.slice(depth)]] : [];
    }
    case "argmax": {
      // ONNX: attribute axis (default 0), keepdims (default 1). TF's ArgMax drops its axis, which the reader gives when it is a constant.
      const given = intAttr(op, "axis");
      if (!x || (given === undefined && op.layer.attributes?.tf !== undefined)) return [];
      const axis = normAxis(given ?? 0, x.length);
      return [(intAttr(op, "keepdims") ?? 1) ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis)];
    }
    case "shape": return [x ? [x.length] : undefined];
    case "size": return [[]];
    case "constant_of_shape": return [ins[0]?.values ? [...ins[0].values] : undefined];
    case "range": {
      const [s, l, d] = ins.map((v) => v.values?.[0]);
      return [[known(s) && known(l) && known(d) && d !== 0 ? Math.max(Math.ceil((l - s) / d), 0) : null]];
    }
    case "expand": {
      const target = ins[1]?.values;
      return [x && target ? broadcast(x, target) : undefined];
    }
    case "reduce": {
      if (!x) return [];
      const axes = (intsOf(op, ins, "axes", 1) ?? x.map((_, i) => i)).map((ax) => normAxis(ax, x.length));
      const keep = intAttr(op, "keepdims") ?? 1;
      return [keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))];
    }
    case "global_pool": {
      // Spatial axes become 1: after the channel axis (channels first) or before it (channels last).
      if (!x) return [];
      const last = channelsLast;
      const lead = batched ? 1 : 0;
      if (op.layer.attributes?.keepdims === 0) return [last ? [...x.slice(0, lead), x[x.length - 1]] : x.slice(0, lead + 1)];
      return [x.map((d, i) => (i < lead ? d : last ? (i === x.length - 1 ? d : 1) : i === lead ? d : 1))];
    }
    case "pool": return [poolOutput(op, x, batched, channelsLast)];
    case "upsample": return [upsampleOutput(op, ins)];
    case "depth_to_space":
    case "space_to_depth": return [depthToSpaceOutput(op.op, x, intAttr(op, "blocksize"), channelsLast)];
    case "matmul": {
      const y = ins[1]?.shape;
      if (!x || !y || x.length < 2 || y.length < 2) return [];
      const lead = broadcast(x.slice(0, -2), y.slice(0, -2));
      return [lead ? [...lead, x[x.length - 2], y[y.length - 1]] : undefined];
    }
    case "pad": {
      const pads = intsOf(op, ins, "pads", 1);
      if (!x || !pads || pads.length !== 2 * x.length) return [];
      return [x.map((d, i) => (known(d) ? d + pads[i] + pads[i + x.length] : null))];
    }
    case "attention": return [ins[0]?.shape];
    case "tile": {
      const reps = ins[1]?.values;
      return [x && reps && reps.length === x.length ? x.map((d, i) => (known(d) ? d * reps[i] : null)) : undefined];
    }
  }
  return [];
}

/** numpy broadcasting; undefined when the shapes cannot broadcast. */
export function broadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    // Missing leading axes broadcast as 1; an unknown (null) dim stays unknown.
    const x = i < rank - a.length ? 1 : a[a.length - rank + i], y = i < rank - b.length ? 1 : b[b.length - rank + i];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (known(x) && known(y)) {
      if (x !== y) return undefined;
      out.push(x);
    } else out.push(known(x) ? x : y);
  }
  return out;
}

/**
 * ONNX Reshape: 0 copies the input's dim (unless allowzero), -1 takes what is left; `from[i]` names
 * the input axis that element i copies (a 0, or a symbolic size that is that axis), NaN is unknown.
 */
function reshape(x: Dim[] | undefined, target: readonly number[], allowZero: boolean, batch: Dim = null, from: readonly (number | undefined)[] = []): Dim[] | undefined {
  // -2 marks a kept batch axis (Keras targets).
  const out: Dim[] = target.map((t, i) => (from[i] !== undefined ? x?.[from[i]!] ?? null : t === -2 ? batch : t === 0 && !allowZero ? x?.[i] ?? null : t === -1 || Number.isNaN(t) ? null : t));
  const free = target.indexOf(-1);
  if (free >= 0 && x) {
    // Copied axes stand for themselves on both sides, known or not.
    const copied = new Set(from.filter((j): j is number => j !== undefined));
    const total = product(x.filter((_, j) => !copied.has(j)));
    const rest = product(out.filter((_, i) => i !== free && from[i] === undefined));
    if (known(total) && known(rest) && rest > 0) out[free] = total / rest;
    else if (!known(total)) {
      // A symbolic batch: -1 stands for it when the other dims account for the rest of the input.
      const knownPart = product(x.filter((d, j) => known(d) && !copied.has(j)));
      if (known(rest) && known(knownPart) && rest === knownPart) out[free] = null;
    }
  }
  return out;
}

function sliceLength(dim: Dim, start: number, end: number, step: number): Dim {
  if (!known(dim) || step === 0) return null;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + dim : start, e = end < 0 ? end + dim : end;
  if (step > 0) {
    const a = clamp(s, 0, dim), b = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((b - a) / step));
  }
  const a = clamp(s, -1, dim - 1), b = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((b - a) / step));
}

function convOutput(op: GraphOp, x: Dim[] | undefined, tensors: Map<string, { shape: number[] }>, last: boolean): Dim[] | undefined {
  const w = tensors.get(op.layer.weight ?? "");
  if (!w || !x) return undefined;
  let kernel;
  try {
    kernel = convKernel(op.layer, w as never);
  } catch {
    return undefined;
  }
  const spatial = op.op === "conv1d" ? 1 : 2;
  const lead = x.length - spatial - 1;
  if (lead < 0) return undefined;
  const hw = last ? x.slice(lead, lead + spatial) : x.slice(lead + 1);
  if (!hw.every(known) || (op.layer.attributes?.stride === undefined && op.layer.attributes?.autoPad === undefined)) {
    const out = [...x];
    out[last ? x.length - 1 : lead] = kernel.cOut;
    for (let i = 0; i < spatial; i++) out[(last ? lead : lead + 1) + i] = null;
    return out;
  }
  const size: [number, number] = spatial === 1 ? [1, hw[0] as number] : [hw[0] as number, hw[1] as number];
  const g = convGeometry(op.layer, size, [kernel.kh, kernel.kw]);
  const outHW = spatial === 1 ? [g.axes[1].out] : [g.axes[0].out, g.axes[1].out];
  return last ? [...x.slice(0, lead), ...outHW, kernel.cOut] : [...x.slice(0, lead), kernel.cOut, ...outHW];
}

function poolOutput(op: GraphOp, x: Dim[] | undefined, batched: boolean, last: boolean): Dim[] | undefined {
  const kernel = op.layer.attributes?.kernel;
  if (!x || !Array.isArray(kernel) || kernel.length < 1 || kernel.length > 2) return undefined;
  const spatial = kernel.length;
  const lead = x.length - spatial - 1;
  if (lead < 0 || (!batched && lead !== 0) ) return undefined;
  const hw = last ? x.slice(lead, lead + spatial) : x.slice(lead + 1);
  if (!hw.every(known)) return last ? [...x.slice(0, lead), ...new Array<Dim>(spatial).fill(null), x[x.length - 1]] : [...x.slice(0, lead), x[lead], ...new Array<Dim>(spatial).fill(null)];
  const size: [number, number] = spatial === 1 ? [1, hw[0] as number] : [hw[0] as number, hw[1] as number];
  const layer = { ...op.layer, kind: spatial === 1 ? "conv1d" : "conv2d" } as const;
  const g = convGeometry(layer as never, size, spatial === 1 ? [1, kernel[0]] : [kernel[0], kernel[1]]);
  const ceil = op.layer.attributes?.ceilMode === 1;
  const outOf = (axis: { size: number; kernel: number; stride: number; dilation: number; padBegin: number; padEnd: number; out: number }) =>
    ceil ? Math.ceil((axis.size + axis.padBegin + axis.padEnd - axis.dilation * (axis.kernel - 1) - 1) / axis.stride) + 1 : axis.out;
  const outHW = spatial === 1 ? [outOf(g.axes[1])] : [outOf(g.axes[0]), outOf(g.axes[1])];
  return last ? [...x.slice(0, lead), ...outHW, x[x.length - 1]] : [...x.slice(0, lead), x[lead], ...outHW];
}

function upsampleOutput(op: GraphOp, ins: GraphValue[]): Dim[] | undefined {
  const x = ins[0]?.shape;
  if (!x) return undefined;
  const a = op.layer.attributes ?? {};
  const size = a.size;
  if (Array.isArray(size)) {
    // Keras UpSampling (channels last): [.., h, w, c] -> [.., h*sh, w*sw, c].
    const lead = x.length - size.length - 1;
    return x.map((d, i) => (i >= lead && i < lead + size.length && known(d) ? d * size[i - lead] : d));
  }
  // TF ResizeBilinear / ResizeNearestNeighbor(images [n, h, w, c], size [h, w]): the size is a constant or folded shape arithmetic.
  if (a.sizeInput === 1) {
    const hw = ins[1]?.values;
    return hw?.length === 2 && x.length === 4 && hw.every((d) => Number.isSafeInteger(d) && d >= 0) ? [x[0], hw[0], hw[1], x[3]] : [x[0], null, null, x[3]];
  }
  // ONNX Resize(X, roi, scales, sizes) / Upsample(X, scales): scales are floats, held as tensors.
  const sizes = ins[3]?.values;
  if (sizes && sizes.length === x.length) return [...sizes];
  const scales = (ins.length >= 3 ? ins[2] : ins[1])?.floats;
  if (!scales || scales.length !== x.length) return x.map(() => null);
  return x.map((d, i) => (known(d) ? Math.floor(d * scales[i]) : null));
}

/** DepthToSpace moves blocks of b x b channels to space ([n, h, w, c] -> [n, h*b, w*b, c/b^2]); SpaceToDepth the reverse. */
function depthToSpaceOutput(op: string, x: Dim[] | undefined, block: number | undefined, last: boolean): Dim[] | undefined {
  if (!x || x.length !== 4 || block === undefined || !Number.isSafeInteger(block) || block < 1) return undefined;
  const [c, h, w] = last ? [3, 1, 2] : [1, 2, 3];
  const out = [...x];
  const b2 = block * block;
  const channels = x[c];
  if (op === "depth_to_space") {
    out[c] = known(channels) && channels % b2 === 0 ? channels / b2 : null;
    out[h] = known(x[h]) ? x[h] * block : null;
    out[w] = known(x[w]) ? x[w] * block : null;
  } else {
    out[c] = known(channels) ? channels * b2 : null;
    out[h] = known(x[h]) && x[h] % block === 0 ? x[h] / block : null;
    out[w] = known(x[w]) && x[w] % block === 0 ? x[w] / block : null;
  }
  return out;
}

/** The values at the grid of picked indices per axis (row-major), of a tensor of these dims. */
function gatherGrid(values: number[], dims: number[], picks: number[][]): number[] {
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((p, d) => p * d, 1));
  const out: number[] = [];
  const walk = (i: number, at: number) => {
    if (i === dims.length) return void out.push(values[at]);
    for (const c of picks[i]) walk(i + 1, at + c * strides[i]);
  };
  walk(0, 0);
  return out;
}

/** Integer values of an op over constants, where every input's values are known. */
function fold(op: GraphOp, ins: GraphValue[], shape: Dim[] | undefined): number[] | undefined {
  const v = ins.map((i) => i.values);
  const a = op.layer.attributes ?? {};
  switch (op.op) {
    case "shape": return ins[0]?.shape && ins[0].shape.every(known) ? (ins[0].shape as number[]).slice(typeof a.start === "number" ? a.start : 0) : undefined;
    case "size": return ins[0]?.shape && ins[0].shape.every(known) ? [(ins[0].shape as number[]).reduce((p, d) => p * d, 1)] : undefined;
    case "identity": case "cast": case "squeeze": case "unsqueeze": case "reshape": case "flatten": return v[0];
    case "concat": return v.every((x) => x) ? v.flatMap((x) => x!) : undefined;
    case "gather": {
      if (!v[0] || !v[1] || !ins[0].shape) return undefined;
      if (ins[0].shape.length !== 1) return undefined;
      const n = v[0].length;
      return v[1].map((i) => v[0]![i < 0 ? i + n : i]);
    }
    case "slice": {
      // Any rank: PyTorch writes F.pad's pads as a [n, 2] constant reversed by a Slice with step -1.
      const dims = ins[0]?.shape;
      if (!v[0] || !dims || !dims.every(known) || product(dims) !== v[0].length) return undefined;
      const starts = intsOf(op, ins, "starts", 1), ends = intsOf(op, ins, "ends", 2), steps = intsOf(op, ins, "steps", 4);
      if (!starts || !ends || starts.length !== ends.length) return undefined;
      const axes = (intsOf(op, ins, "axes", 3) ?? starts.map((_, i) => i)).map((x) => normAxis(x, dims.length));
      const picks = (dims as number[]).map((n) => Array.from({ length: n }, (_, i) => i));
      for (let k = 0; k < axes.length; k++) {
        const n = dims[axes[k]] as number, step = steps?.[k] ?? 1;
        if (axes[k] < 0 || axes[k] >= dims.length || step === 0 || !Number.isSafeInteger(step)) return undefined;
        const out: number[] = [];
        let s = starts[k] < 0 ? starts[k] + n : Math.min(starts[k], n);
        const e = ends[k] < 0 ? ends[k] + n : Math.min(ends[k], n);
        if (step > 0) for (s = Math.max(s, 0); s < e; s += step) out.push(s);
        else for (s = Math.min(s, n - 1); s > e && s >= 0; s += step) out.push(s);
        picks[axes[k]] = out;
      }
      return gatherGrid(v[0], dims as number[], picks);
    }
    case "transpose": {
      const dims = ins[0]?.shape;
      if (!v[0] || !dims || !dims.every(known) || product(dims) !== v[0].length) return undefined;
      const perm = (a.perm as number[] | undefined) ?? dims.map((_, i) => dims.length - 1 - i);
      if (perm.length !== dims.length) return undefined;
      // Output axis i walks input axis perm[i]: the grid of the permuted axes, read through the input's strides.
      const strides = (dims as number[]).map((_, i) => (dims as number[]).slice(i + 1).reduce((p, d) => p * d, 1));
      const out: number[] = [];
      const walk = (i: number, at: number) => {
        if (i === perm.length) return void out.push(v[0]![at]);
        for (let c = 0; c < (dims[perm[i]] as number); c++) walk(i + 1, at + c * strides[perm[i]]);
      };
      walk(0, 0);
      return out;
    }
    case "add": case "sub": case "mul": case "div": {
      if (!v[0] || !v[1]) return undefined;
      const n = Math.max(v[0].length, v[1].length);
      if (v[0].length !== n && v[0].length !== 1) return undefined;
      if (v[1].length !== n && v[1].length !== 1) return undefined;
      const at = (x: number[], i: number) => x[x.length === 1 ? 0 : i];
      return Array.from({ length: n }, (_, i) => {
        const p = at(v[0]!, i), q = at(v[1]!, i);
        return op.op === "add" ? p + q : op.op === "sub" ? p - q : op.op === "mul" ? p * q : Math.trunc(p / q);
      });
    }
    case "constant_of_shape": {
      // The fill value the reader keeps (ONNX's default 0; a TF Fill whose value is not a constant: not folded).
      const value = typeof a.value === "number" ? a.value : a.tf === undefined ? 0 : undefined;
      const count = shape && shape.every(known) ? (shape as number[]).reduce((p, d) => p * d, 1) : undefined;
      return count !== undefined && count <= MAX_FOLDED && value !== undefined && Number.isSafeInteger(value) ? new Array(count).fill(value) : undefined;
    }
    case "range": {
      const [s, l, d] = v.map((x) => x?.[0]);
      if (!known(s) || !known(l) || !known(d) || d === 0) return undefined;
      const out: number[] = [];
      for (let x = s; d > 0 ? x < l : x > l; x += d) {
        out.push(x);
        if (out.length > MAX_FOLDED) return undefined;
      }
      return out;
    }
  }
  return undefined;
}
