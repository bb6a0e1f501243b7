/**
 * Index arithmetic over a value's nodes (row-major over its node axes), shared by the graph walk:
 * where a transposed, selected, concatenated or channels-last value's node k sits in its space.
 * Pure functions over numbers; no graph, no state.
 */
import type { Dim, GraphOp, GraphValue } from "../graph/types.js";
import { known } from "../graph/dims.js";


/** The operand repeats along an axis where the result has more than one element (numpy broadcasting, aligned from the right). */
export function broadcasts(shape: readonly Dim[] | undefined, out: readonly Dim[] | undefined): boolean {
  if (!shape || !out) return false;
  for (let i = 1; i <= out.length; i++) {
    const o = out[out.length - i], d = i <= shape.length ? shape[shape.length - i] : 1;
    if (known(o) && o > 1 && d === 1) return true;
  }
  return false;
}

export function isFloat(v: GraphValue): boolean {
  return v.dtype === undefined || /FLOAT|DOUBLE|float|f16|f32|f64|bf16/i.test(v.dtype);
}


export function isIdentityPool(op: GraphOp): boolean {
  const a = op.layer.attributes ?? {};
  if (op.op === "global_pool" || op.op === "upsample") return true;
  const ones = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => x === 1));
  const zeros = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => x === 0));
  return ones(a.kernel) && ones(a.stride) && zeros(a.pads);
}

/** Node index of a channels-last map (y, x, c) to its channel-major index (c, y, x). */
export function channelMajor(dims: number[]): Int32Array {
  const c = dims[dims.length - 1];
  const spatial = dims.slice(0, -1).reduce((a, b) => a * b, 1);
  // A plain loop: Int32Array.from with a mapping function takes V8's generic path (0.5 s on a
  // BlazeFace-sized model).
  const order = new Int32Array(c * spatial);
  for (let p = 0, k = 0; p < spatial; p++) for (let ch = 0; ch < c; ch++, k++) order[k] = ch * spatial + p;
  return order;
}

/** For each node of the transposed value, the node index in the input value. */
export function permutedNodes(nx: { axes: number[]; dims: number[] }, ny: { axes: number[]; dims: number[] }, perm: number[]): number[] | undefined {
  // Output node axis i is input axis perm[axis]; input node strides by input node axis.
  const inStride = new Map<number, number>();
  let stride = 1;
  for (let i = nx.axes.length - 1; i >= 0; i--) {
    inStride.set(nx.axes[i], stride);
    stride *= nx.dims[i];
  }
  const strides = ny.axes.map((a) => inStride.get(perm[a]));
  if (strides.some((s) => s === undefined)) return undefined;
  const count = ny.dims.reduce((a, b) => a * b, 1);
  const out = new Array<number>(count);
  for (let k = 0; k < count; k++) {
    let rest = k, index = 0;
    for (let i = ny.axes.length - 1; i >= 0; i--) {
      index += (rest % ny.dims[i]) * strides[i]!;
      rest = Math.floor(rest / ny.dims[i]);
    }
    out[k] = index;
  }
  return out;
}

/** Input node indices of a selection along a node axis (drop: the axis is removed, a scalar index). */
export function selectedNodes(nx: { axes: number[]; dims: number[] }, axis: number, indices: number[]): number[] | undefined {
  const pos = nx.axes.indexOf(axis);
  if (pos < 0 || indices.some((i) => i < 0 || i >= nx.dims[pos])) return undefined;
  const outDims = nx.dims.map((d, i) => (i === pos ? indices.length : d));
  const count = outDims.reduce((a, b) => a * b, 1);
  const out = new Array<number>(count);
  for (let k = 0; k < count; k++) {
    let rest = k, index = 0, stride = 1;
    for (let i = nx.axes.length - 1; i >= 0; i--) {
      const c = rest % outDims[i];
      rest = Math.floor(rest / outDims[i]);
      index += (i === pos ? indices[c] : c) * stride;
      stride *= nx.dims[i];
    }
    out[k] = index;
  }
  return out;
}

export function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
