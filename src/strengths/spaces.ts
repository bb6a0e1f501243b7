/**
 * Node spaces: the classes of nodes that values share (spec metrics.md 1b, "node layers are
 * classes of values"). A value sees its space through a view: value node index -> space node
 * index (absent: the identity). Joining two spaces (a merge whose operands are read by nothing
 * else) adds one's strengths into the other through an alignment and leaves a forward pointer,
 * so views taken earlier still resolve: O(nodes) per join, nothing rewritten.
 */
export class Space {
  readonly producers: string[] = [];
  readonly values: string[] = [];
  /** False once an op the walk cannot place reads or writes these nodes. */
  complete = true;
  /** A link (weighted, bias or unit) enters or leaves these nodes. */
  linked = false;
  parent?: Space;
  /** Node j of this space is node align[j] of the parent. */
  align?: Int32Array;
  // Held only once a link or a boundary touches the nodes: a space a file declares but no weight
  // confirms (a hostile input shape) costs nothing.
  private arrays?: { sIn: Float64Array; sOut: Float64Array; inBoundary: Uint8Array; outBoundary: Uint8Array };

  constructor(readonly order: number, readonly size: number, public shape: number[]) {}

  /** After reorder: old node index -> new node index, for views taken before. */
  renumber?: Int32Array;

  /** List the nodes in another order: node k becomes old node `order[k]` (a permutation of the space). */
  reorder(order: Int32Array, shape: number[]): void {
    const renumber = new Int32Array(order.length);
    for (let k = 0; k < order.length; k++) renumber[order[k]] = k;
    this.renumber = this.renumber ? this.renumber.map((i) => renumber[i]) : renumber;
    const a = this.held();
    const pick = <T extends Float64Array | Uint8Array>(x: T): T => x.map((_, k) => x[order[k]]) as T;
    this.arrays = { sIn: pick(a.sIn), sOut: pick(a.sOut), inBoundary: pick(a.inBoundary), outBoundary: pick(a.outBoundary) };
    this.shape = shape;
  }

  private held() {
    return (this.arrays ??= { sIn: new Float64Array(this.size), sOut: new Float64Array(this.size), inBoundary: new Uint8Array(this.size), outBoundary: new Uint8Array(this.size) });
  }
  get sIn(): Float64Array {
    return this.held().sIn;
  }
  get sOut(): Float64Array {
    return this.held().sOut;
  }
  /** Nodes that get s_in (s_out) by the boundary rule: of a graph input or a break's output (a graph output, or a value read only by breaks). Per node, since a joined slice keeps its own. */
  get inBoundary(): Uint8Array {
    return this.held().inBoundary;
  }
  get outBoundary(): Uint8Array {
    return this.held().outBoundary;
  }

  root(): Space {
    let s: Space = this;
    while (s.parent) s = s.parent;
    return s;
  }
}

export interface View {
  space: Space;
  /** Value node index -> space node index; absent: the identity. */
  map?: Int32Array;
  /** Nodes of the value (the map's length, or the space's size). */
  count: number;
}

/** The view resolved to the space's current root. */
export function resolve(view: View): View {
  let { space, map } = view;
  if (!space.parent) return view;
  while (space.parent) {
    const align = space.align!;
    map = map ? map.map((i) => align[i]) : Int32Array.from(align);
    space = space.parent;
  }
  // Path compression: the view itself now points at the root (the same nodes), so the next
  // resolve costs nothing.
  view.space = space;
  view.map = map;
  return view;
}

export function at(view: View, k: number): number {
  return view.map ? view.map[k] : k;
}

/** The view reaches every node of its space exactly once (so the space can join another). */
export function coversSpace(view: View): boolean {
  const v = resolve(view);
  if (v.count !== v.space.size) return false;
  if (!v.map) return true;
  const seen = new Uint8Array(v.space.size);
  for (const i of v.map) {
    if (seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}

/**
 * Join the space of `from` into the space of `into`: node k of the value seen by `from` is node k
 * of the value seen by `into`. Both views must cover their spaces (coversSpace).
 */
export function join(into: View, from: View): void {
  let a = resolve(into), b = resolve(from);
  if (a.space === b.space) return;
  // The older space absorbs the newer one (the join is symmetric): a running sum joined at every
  // step keeps its forward chains one deep instead of growing with the graph.
  // (Only where both views reach all of their space: a Concat's slice does not.)
  if (b.space.order < a.space.order && a.count === a.space.size && coversSpace(a)) [a, b] = [b, a];
  const align = new Int32Array(b.space.size);
  for (let k = 0; k < b.count; k++) align[at(b, k)] = at(a, k);
  absorb(a.space, b.space, align);
}

/** Add `source`'s strengths, boundary flags, producers and values into `target` (node j of source is node align[j] of target) and leave a forward pointer. */
function absorb(target: Space, source: Space, align: Int32Array): void {
  for (let j = 0; j < source.size; j++) {
    target.sIn[align[j]] += source.sIn[j];
    target.sOut[align[j]] += source.sOut[j];
    target.inBoundary[align[j]] |= source.inBoundary[j];
    target.outBoundary[align[j]] |= source.outBoundary[j];
  }
  target.producers.push(...source.producers.filter((p) => !target.producers.includes(p)));
  target.values.push(...source.values);
  target.complete &&= source.complete;
  target.linked ||= source.linked;
  source.parent = target;
  source.align = align;
}

/**
 * Fold pieces of one node layer onto each other (spec 1b "Selections" meeting at a merge: the
 * gate and up halves of a fused gate_up projection multiplied together). `pieces` are views of one
 * space, all `n` nodes long, that reach each of its nodes exactly once; node k of every piece
 * becomes node k of a new space of n nodes, which sums their strengths, so the product is one
 * node layer, as an unfused gate_proj and up_proj joined at their product. The old space forwards
 * to the new one (several old nodes to one new node), so views taken earlier still resolve. The
 * new space keeps the old one's order; the caller lists it in the old one's place. Undefined when
 * the pieces do not partition their space.
 */
export function fold(pieces: View[], shape: number[]): Space | undefined {
  const parts = pieces.map(resolve);
  const source = parts[0].space, n = parts[0].count;
  if (parts.some((p) => p.space !== source || p.count !== n) || n * parts.length !== source.size) return undefined;
  const align = new Int32Array(source.size).fill(-1);
  for (const p of parts) {
    for (let k = 0; k < n; k++) {
      const j = at(p, k);
      if (align[j] !== -1) return undefined;
      align[j] = k;
    }
  }
  const target = new Space(source.order, n, shape);
  absorb(target, source, align);
  return target;
}

/**
 * A piece of one space (a Split or Slice output read by nothing but a Concat: ShuffleNet's
 * pass-through half) that is also the slice of another space: node k of the piece is node k of the
 * slice (spec 1b: "Concat ... an operand that no other op reads joins the output's node layer as its
 * slice"). The two spaces become one class: the piece's space's nodes in their order, then the
 * slice's space's other nodes in theirs: the piece's space holds the layer's first value (the
 * piece's producer's input comes before the Concat), whose order the per-node arrays follow (spec
 * 1b). When an earlier piece already made them one space (a Concat of every piece of one value:
 * the slices are then the same nodes as the pieces), the paired nodes are made one node each.
 * Undefined where the piece repeats a node or there is nothing to pair.
 */
export function unite(slice: View, piece: View): Space | undefined {
  const a = resolve(slice), b = resolve(piece);
  if (a.count !== b.count) return undefined;
  const same = a.space === b.space;
  // Nodes of both spaces in one numbering: the piece's space first, then (if another) the slice's.
  const offset = same ? 0 : b.space.size;
  const total = offset + a.space.size;
  const seen = new Uint8Array(b.space.size);
  const parent = Int32Array.from({ length: total }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  let paired = 0;
  for (let k = 0; k < b.count; k++) {
    const j = at(b, k);
    if (seen[j]) return undefined;
    seen[j] = 1;
    const x = find(j), y = find(offset + at(a, k));
    if (x === y) continue;
    // The smaller number stays the class's representative, so the piece's order leads.
    if (x < y) parent[y] = x;
    else parent[x] = y;
    paired++;
  }
  if (same && paired === 0) return undefined;
  const classOf = new Int32Array(total).fill(-1);
  let size = 0;
  for (let i = 0; i < total; i++) {
    const r = find(i);
    if (classOf[r] === -1) classOf[r] = size++;
    classOf[i] = classOf[r];
  }
  const target = new Space(Math.min(a.space.order, b.space.order), size, [size]);
  const sources: [Space, Int32Array][] = same ? [[b.space, classOf]] : [[b.space, classOf.subarray(0, offset)], [a.space, classOf.subarray(offset)]];
  // The piece's space came first in the data flow: its producers and values lead.
  for (const [source, map] of sources) absorb(target, source, Int32Array.from(map));
  return target;
}

/**
 * Add values[k % values.length] into node k of the value (a dense or recurrent op's per-feature
 * sums, repeated over node axes that come before the features): a loop over numbers, where a
 * per-node callback would box every double it returns (the walk's largest garbage at scale).
 */
export function addFeatures(view: View, side: "sIn" | "sOut", values: Float64Array): void {
  const v = resolve(view);
  const target = v.space[side], n = values.length;
  if (v.map) for (let k = 0; k < v.count; k++) target[v.map[k]] += values[k % n];
  else for (let k = 0; k < v.count; k++) target[k] += values[k % n];
  v.space.linked = true;
}

/**
 * Add a conv's channel-major strength map (c, y, x) into the value's nodes: in that order, or, for
 * a channels-last value, read (y, x, c). A loop without a per-node callback or a reordered copy.
 */
export function addMap(view: View, side: "sIn" | "sOut", map: Float64Array, channels: number, channelsLast: boolean): void {
  if (!channelsLast) return addFeatures(view, side, map);
  const v = resolve(view);
  const target = v.space[side], spatial = map.length / channels;
  for (let p = 0, k = 0; p < spatial && k < v.count; p++) for (let c = 0; c < channels; c++, k++) target[at(v, k)] += map[c * spatial + p];
  v.space.linked = true;
}

/** Add per-value-node amounts into a space's s_in or s_out. */
export function addInto(view: View, side: "sIn" | "sOut", amounts: (k: number) => number): void {
  const v = resolve(view);
  const target = v.space[side];
  for (let k = 0; k < v.count; k++) target[at(v, k)] += amounts(k);
  v.space.linked = true;
}

/** Flag the value's nodes for the boundary rule. */
export function markBoundary(view: View, side: "inBoundary" | "outBoundary"): void {
  const v = resolve(view);
  const flags = v.space[side];
  if (v.map) for (let k = 0; k < v.count; k++) flags[v.map[k]] = 1;
  else flags.fill(1, 0, v.count);
}
