/**
 * Selections and shape ops of the forward pass: reshape, flatten, transpose, squeeze/unsqueeze,
 * expand, tile, split, slice, gather, cast, identity/dropout, shape/size, constant_of_shape,
 * range, reduce. Every output is a fresh contiguous row-major copy (the next kernel reads it so);
 * a selection is one strided copy (assembly/forward/elementwise.ts stridedCopy) of an index grid
 * over the input. Over host ints (shape arithmetic: ptr -1) the same grids run on the host.
 *
 * Data values carry the batch axis first. Static shapes from the graph are used only where the
 * op's meaning needs them (a Squeeze without axes); a chain's graph values have no batch axis.
 */
import type { GraphOp } from "../../graph/types.js";
import { formatShape } from "../../errors.js";
import type { ForwardMemory, PrepareContext, PrepareOp, Tensor } from "../types.js";
import { elementsOf, ForwardUnsupported } from "../types.js";
import {
  axisOf, broadcastShapes, broadcastStrides, copyOf, hostResult, hostValues, intsOperand, intsTensor, isData, need, operandShape, simple,
  stridedCopy, stridedCopyHost, stridesOf,
} from "./merge.js";

/** One strided copy from the input into the output (offsets and strides in elements). */
interface Step {
  srcOff: number;
  dims: number[];
  src: number[];
  dstOff: number;
  dst: number[];
}

/** The output of `shape` made by copy steps out of `t`: on the host for host ints, else in memory. */
function gridCopy(memory: ForwardMemory, t: Tensor, shape: number[], steps: Step[]): Tensor {
  if (t.ints) {
    const out = new Array<number>(elementsOf(shape)).fill(0);
    for (const s of steps) stridedCopyHost(t.ints, s.srcOff, s.dims, s.src, out, s.dstOff, s.dst);
    return intsTensor(out, shape);
  }
  const out = memory.tensor(shape);
  if (t.constant) out.constant = true;
  for (const s of steps) stridedCopy(memory, t.ptr, s.srcOff, s.dims, s.src, out.ptr, s.dstOff, s.dst);
  return out;
}

/** The whole output read through `src` strides (transpose, slice, expand). */
function view(memory: ForwardMemory, t: Tensor, shape: number[], srcOff: number, src: number[]): Tensor {
  return gridCopy(memory, t, shape, [{ srcOff, dims: shape, src, dstOff: 0, dst: stridesOf(shape) }]);
}

const copy = simple((op, ctx, inputs) => [copyOf(ctx.memory, need(op, inputs, 1)[0])]);

/** ONNX Cast's `to` (TensorProto data types): float types keep values, integer types truncate, bool is x != 0. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13]);

const CAST_UNKNOWN = "the file's description does not keep the type it casts to (a float type keeps values, an integer type truncates them)";

const cast = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const m = ctx.memory;
  // Host ints are integers whatever the target type (a shape cast to int64 or to float).
  if (x.ints) return [copyOf(m, x)];
  const to = op.layer.attributes?.to;
  if (typeof to === "number" && FLOAT_TYPES.has(to)) return [copyOf(m, x)];
  if (typeof to === "number" && INT_TYPES.has(to)) {
    const out = m.tensor(x.shape);
    out.constant = x.constant;
    m.exports.ewTrunc(x.ptr, out.ptr, elementsOf(x.shape));
    return [out];
  }
  if (to === 9) {
    const out = m.tensor(x.shape);
    out.constant = x.constant;
    const z = m.tensor([]);
    m.f32(z.ptr, 1)[0] = 0;
    m.exports.ewBinaryMid(17, x.ptr, z.ptr, out.ptr, 1, 1, elementsOf(x.shape), 0);
    m.free(z.ptr);
    return [out];
  }
  throw new ForwardUnsupported(op, CAST_UNKNOWN);
}, (op, ctx) => {
  // Data with no target type: refused before the first batch (host ints need none).
  if (typeof op.layer.attributes?.to !== "number" && ctx.graph.values.get(op.inputs[0])?.kind === "data") throw new ForwardUnsupported(op, CAST_UNKNOWN);
});

/** ONNX Reshape: 0 copies the input's dim (unless allowzero), -1 takes what is left. */
function reshapeTarget(op: GraphOp, x: number[], target: readonly number[], allowZero: boolean): number[] {
  const out = target.map((t, i) => (t === 0 && !allowZero ? x[i] : t));
  const free = out.indexOf(-1);
  const total = elementsOf(x);
  if (free >= 0) {
    const rest = elementsOf(out.filter((_, i) => i !== free));
    if (rest === 0 || total % rest !== 0) throw new ForwardUnsupported(op, `it cannot reshape ${formatShape(x)} to ${formatShape(target)}`);
    out[free] = total / rest;
  }
  if (out.some((d) => !Number.isSafeInteger(d) || d < 0) || elementsOf(out) !== total) throw new ForwardUnsupported(op, `it cannot reshape ${formatShape(x)} to ${formatShape(target)}`);
  return out;
}

const reshape = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const keras = op.layer.attributes?.targetShape;
  let target: number[];
  if (Array.isArray(keras)) target = reshapeTarget(op, x.shape, [x.shape[0], ...keras], true);
  else {
    const t = intsOperand(op, ctx, undefined, 1, inputs);
    if (!t) throw new ForwardUnsupported(op, "its target shape is not known");
    target = reshapeTarget(op, x.shape, t, op.layer.attributes?.allowzero === 1);
  }
  return [copyOf(ctx.memory, x, target)];
});

const flatten = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const a = op.layer.attributes ?? {};
  const m = ctx.memory;
  // Keras Flatten (it always carries dataFormat): every axis after the batch (after the steps in
  // TimeDistributed); channels_first moves the channel axis last first, as Keras does.
  if (typeof a.dataFormat === "string") {
    const lead = a.timeDistributed === 1 ? 2 : 1;
    if (x.shape.length <= lead) return [copyOf(m, x)];
    const shape = [...x.shape.slice(0, lead), elementsOf(x.shape.slice(lead))];
    if (a.dataFormat === "channels_first" && x.shape.length > lead + 1) {
      const perm = [...x.shape.keys()];
      perm.splice(lead, 1);
      perm.push(lead);
      const t = transposeBy(m, x, perm);
      const out = copyOf(m, t, shape);
      if (t.ptr >= 0) m.free(t.ptr);
      return [out];
    }
    return [copyOf(m, x, shape)];
  }
  const axis = typeof a.axis === "number" ? (a.axis < 0 ? a.axis + x.shape.length : a.axis) : 1;
  if (axis < 0 || axis > x.shape.length) throw new ForwardUnsupported(op, `axis ${a.axis} is outside a value of rank ${x.shape.length}`);
  return [copyOf(m, x, [elementsOf(x.shape.slice(0, axis)), elementsOf(x.shape.slice(axis))])];
});

function transposeBy(memory: ForwardMemory, x: Tensor, perm: number[]): Tensor {
  const st = stridesOf(x.shape);
  return view(memory, x, perm.map((p) => x.shape[p]), 0, perm.map((p) => st[p]));
}

const transpose = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const attr = op.layer.attributes?.perm;
  const perm = Array.isArray(attr) ? attr : [...x.shape.keys()].reverse();
  if (perm.length !== x.shape.length || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new ForwardUnsupported(op, `its permutation [${perm.join(", ")}] does not fit a value of shape ${formatShape(x.shape)}`);
  }
  return [transposeBy(ctx.memory, x, perm)];
});

/** The static shape of an op's input as run-time axes: a chain's graph values have no batch axis. */
function staticShape(ctx: PrepareContext, op: GraphOp, rank: number): (number | null)[] | undefined {
  const s = ctx.graph.values.get(op.inputs[0])?.shape;
  if (!s) return undefined;
  const shape = ctx.graph.batched || s.length === rank ? s : [null, ...s];
  return shape.length === rank ? shape : undefined;
}

const squeeze = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const rank = x.shape.length;
  let axes = intsOperand(op, ctx, "axes", 1, inputs)?.map((a) => axisOf(op, a, rank));
  if (!axes) {
    // Every axis of size 1, as the file's shapes say (a batch of one sample is not one of them).
    const s = staticShape(ctx, op, rank);
    if (!s) throw new ForwardUnsupported(op, "it names no axes and its input's shape is not known before the run");
    axes = s.flatMap((d, i) => (d === 1 ? [i] : []));
  }
  for (const a of axes) if (x.shape[a] !== 1) throw new ForwardUnsupported(op, `axis ${a} of ${formatShape(x.shape)} is not of size 1`);
  return [copyOf(ctx.memory, x, x.shape.filter((_, i) => !axes!.includes(i)))];
});

const unsqueeze = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const given = intsOperand(op, ctx, "axes", 1, inputs);
  if (!given) throw new ForwardUnsupported(op, "its axes are not known");
  const rank = x.shape.length + given.length;
  const at = new Set(given.map((a) => axisOf(op, a, rank)));
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(at.has(i) ? 1 : x.shape[k++]);
  return [copyOf(ctx.memory, x, shape)];
});

const expand = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const target = intsOperand(op, ctx, undefined, 1, inputs);
  if (!target) throw new ForwardUnsupported(op, "its target shape is not known");
  const shape = broadcastShapes(x.shape, target);
  if (!shape) throw new ForwardUnsupported(op, `${formatShape(x.shape)} does not broadcast to ${formatShape(target)}`);
  return [view(ctx.memory, x, shape, 0, broadcastStrides(x.shape, shape))];
});

const tile = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const reps = intsOperand(op, ctx, undefined, 1, inputs);
  if (!reps || reps.length !== x.shape.length || reps.some((r) => r < 0)) throw new ForwardUnsupported(op, `its repeats ${reps ? `[${reps.join(", ")}]` : "(not known)"} do not fit a value of rank ${x.shape.length}`);
  const shape = x.shape.map((d, i) => d * reps[i]);
  const st = stridesOf(x.shape), ost = stridesOf(shape);
  // Output index q·d + j of each axis: a grid of (repeat, position) pairs.
  const dims = x.shape.flatMap((d, i) => [reps[i], d]);
  const src = x.shape.flatMap((_, i) => [0, st[i]]);
  const dst = x.shape.flatMap((d, i) => [d * ost[i], ost[i]]);
  return [gridCopy(ctx.memory, x, shape, [{ srcOff: 0, dims, src, dstOff: 0, dst }])];
});

const split = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const a = op.layer.attributes ?? {};
  const axis = axisOf(op, typeof a.axis === "number" ? a.axis : 0, x.shape.length);
  const count = op.outputs.length;
  const dim = x.shape[axis];
  // Without sizes: equal parts (ONNX 18: ceil(dim / n) each, the last one smaller).
  const sizes = intsOperand(op, ctx, "split", 1, inputs) ?? Array.from({ length: count }, (_, k) => Math.max(0, Math.min(Math.ceil(dim / count), dim - k * Math.ceil(dim / count))));
  if (sizes.length !== count || sizes.some((s) => s < 0) || sizes.reduce((p, s) => p + s, 0) !== dim) {
    throw new ForwardUnsupported(op, `its sizes [${sizes.join(", ")}] do not split axis ${axis} of ${formatShape(x.shape)} into ${count} parts`);
  }
  const st = stridesOf(x.shape);
  let at = 0;
  return sizes.map((n, k) => {
    const shape = x.shape.map((d, i) => (i === axis ? n : d));
    const out = op.outputs[k] === "" ? undefined : view(ctx.memory, x, shape, at * st[axis], st);
    at += n;
    return out;
  });
});

/** ONNX Slice: negative starts and ends count from the end, then clamp; a negative step walks back. */
export function sliceAxis(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + dim : start, e = end < 0 ? end + dim : end;
  if (step > 0) {
    const a = clamp(s, 0, dim), b = clamp(e, 0, dim);
    return { first: a, count: Math.max(0, Math.ceil((b - a) / step)) };
  }
  const a = clamp(s, -1, dim - 1), b = clamp(e, -1, dim - 1);
  return { first: a, count: Math.max(0, Math.ceil((b - a) / step)) };
}

const slice = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const starts = intsOperand(op, ctx, "starts", 1, inputs), ends = intsOperand(op, ctx, "ends", 2, inputs);
  if (!starts || !ends || starts.length !== ends.length) throw new ForwardUnsupported(op, "its starts and ends are not known");
  const axes = intsOperand(op, ctx, "axes", 3, inputs) ?? starts.map((_, i) => i);
  const steps = intsOperand(op, ctx, "steps", 4, inputs) ?? starts.map(() => 1);
  const st = stridesOf(x.shape);
  const shape = [...x.shape], src = [...st];
  let off = 0;
  axes.forEach((ax, i) => {
    const a = axisOf(op, ax, x.shape.length);
    if (!steps[i]) throw new ForwardUnsupported(op, "a step is 0");
    const { first, count } = sliceAxis(x.shape[a], starts[i], ends[i], steps[i]);
    shape[a] = count;
    src[a] = st[a] * steps[i];
    if (count > 0) off += first * st[a];
  });
  return [view(ctx.memory, x, shape, off, src)];
});

const gather = simple((op, ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  if (isData(inputs[1])) throw new ForwardUnsupported(op, "its indices are data (a selection by data)");
  const indices = intsOperand(op, ctx, undefined, 1, inputs);
  const ishape = operandShape(ctx, op, 1, inputs);
  if (!indices || !ishape || elementsOf(ishape) !== indices.length) throw new ForwardUnsupported(op, "its indices are not known");
  const a = op.layer.attributes?.axis;
  const axis = axisOf(op, typeof a === "number" ? a : 0, x.shape.length);
  const dim = x.shape[axis];
  const st = stridesOf(x.shape);
  const outer = elementsOf(x.shape.slice(0, axis)), inner = st[axis];
  const shape = [...x.shape.slice(0, axis), ...ishape, ...x.shape.slice(axis + 1)];
  const steps = indices.map((v, k): Step => {
    const i = v < 0 ? v + dim : v;
    if (i < 0 || i >= dim) throw new ForwardUnsupported(op, `index ${v} is outside axis ${axis} of ${formatShape(x.shape)}`);
    return { srcOff: i * inner, dims: [outer, inner], src: [dim * inner, 1], dstOff: k * inner, dst: [indices.length * inner, 1] };
  });
  return [gridCopy(ctx.memory, x, shape, steps)];
});

const shapeOp = simple((op, _ctx, inputs) => {
  const [x] = need(op, inputs, 1);
  const a = op.layer.attributes ?? {};
  const rank = x.shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = typeof a.start === "number" ? clamp(a.start) : 0, end = typeof a.end === "number" ? clamp(a.end) : rank;
  return [intsTensor(x.shape.slice(start, Math.max(start, end)))];
});

const size = simple((op, _ctx, inputs) => [intsTensor([elementsOf(need(op, inputs, 1)[0].shape)], [])]);

const constantOfShape = simple((op, ctx, inputs) => {
  const shape = intsOperand(op, ctx, undefined, 0, inputs);
  const value = op.layer.attributes?.value;
  if (!shape) throw new ForwardUnsupported(op, "its shape is not known");
  if (typeof value !== "number") throw new ForwardUnsupported(op, FILL_UNKNOWN);
  return [hostResult(ctx.memory, new Array<number>(elementsOf(shape)).fill(value), shape)];
}, (op) => {
  if (typeof op.layer.attributes?.value !== "number") throw new ForwardUnsupported(op, FILL_UNKNOWN);
});

const FILL_UNKNOWN = "the file's description does not keep the value it fills with (ONNX ConstantOfShape's value, TF Fill's value operand)";

const range = simple((op, ctx, inputs) => {
  const [s, l, d] = need(op, inputs, 3).map((t) => hostValues(ctx.memory, t)[0]);
  if (d === 0 || ![s, l, d].every(Number.isFinite)) throw new ForwardUnsupported(op, "its delta is 0 or its bounds are not finite");
  const n = Math.max(Math.ceil((l - s) / d), 0);
  return [hostResult(ctx.memory, Array.from({ length: n }, (_, i) => s + i * d), [n])];
});

const REDUCE_ONNX: Record<string, number> = { ReduceSum: 0, ReduceMean: 1, ReduceMax: 2, ReduceMin: 3, ReduceProd: 4, ReduceL1: 5, ReduceL2: 6, ReduceSumSquare: 7, ReduceLogSumExp: 8 };
const REDUCE_TF: Record<string, number> = { sum: 0, mean: 1, max: 2, min: 3, prod: 4 };

function reduceHost(code: number, v: number[]): number {
  let acc = code === 2 ? -Infinity : code === 3 ? Infinity : code === 4 ? 1 : 0;
  const top = code === 8 ? Math.max(...v) : 0;
  for (const x of v) {
    if (code <= 1) acc += x;
    else if (code === 2) acc = x > acc || Number.isNaN(x) ? x : acc;
    else if (code === 3) acc = x < acc || Number.isNaN(x) ? x : acc;
    else if (code === 4) acc *= x;
    else if (code === 5) acc += Math.abs(x);
    else if (code === 6 || code === 7) acc += x * x;
    else acc += Math.exp(x - (Number.isFinite(top) ? top : 0));
  }
  if (code === 1) acc /= v.length;
  if (code === 6) acc = Math.sqrt(acc);
  if (code === 8) acc = Math.log(acc) + (Number.isFinite(top) ? top : 0);
  return acc;
}

/** Reduce over axes (absent or empty: every axis, unless noop_with_empty_axes), keepdims default 1. */
function runReduce(op: GraphOp, ctx: PrepareContext, inputs: (Tensor | undefined)[], code: number): Tensor {
  const [x] = need(op, inputs, 1);
  const rank = x.shape.length;
  const a = op.layer.attributes ?? {};
  let axes = intsOperand(op, ctx, "axes", 1, inputs)?.map((ax) => axisOf(op, ax, rank));
  if (!axes || axes.length === 0) {
    if (a.noop_with_empty_axes === 1) return copyOf(ctx.memory, x);
    axes = [...x.shape.keys()];
  }
  const reduced = new Set(axes);
  const kept = [...x.shape.keys()].filter((i) => !reduced.has(i));
  const order = [...kept, ...[...reduced].sort((p, q) => p - q)];
  const outer = elementsOf(kept.map((i) => x.shape[i])), mid = elementsOf([...reduced].map((i) => x.shape[i]));
  const shape = a.keepdims === 0 ? kept.map((i) => x.shape[i]) : x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const m = ctx.memory;
  // Kept axes first, reduced axes last, contiguous (a copy only when the order changes).
  const inOrder = order.every((p, i) => p === i);
  const t = inOrder ? x : transposeBy(m, x, order);
  if (t.ints) {
    const out = Array.from({ length: outer }, (_, o) => reduceHost(code, t.ints!.slice(o * mid, (o + 1) * mid)));
    return hostResult(m, out, shape);
  }
  const out = m.tensor(shape);
  if (x.constant) out.constant = true;
  m.exports.reduceMid(code, t.ptr, out.ptr, outer, mid, 1);
  if (t !== x) m.free(t.ptr);
  return out;
}

const reduceOp: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  const code = typeof a.onnx === "string" && Object.hasOwn(REDUCE_ONNX, a.onnx) ? REDUCE_ONNX[a.onnx] : typeof a.reduce === "string" && Object.hasOwn(REDUCE_TF, a.reduce) ? REDUCE_TF[a.reduce] : undefined;
  if (code === undefined) throw new ForwardUnsupported(op, `the reduction ${typeof (a.onnx ?? a.reduce) === "string" ? String(a.onnx ?? a.reduce) : "(not named)"} is not one the forward pass runs`);
  return { run: (inputs) => ({ outputs: [runReduce(op, ctx, inputs, code)] }) };
};

/**
 * An op whose outputs the graph folded to integer constants at analysis time (no data or shape
 * input reaches it): those values, whatever the op.
 */
function foldedOr(runner: PrepareOp): PrepareOp {
  return async (op, ctx) => {
    const outs = op.outputs.map((name) => ctx.graph.values.get(name));
    if (outs.length > 0 && outs.every((v) => v && v.kind === "constant" && v.values && v.shape && v.shape.every((d) => typeof d === "number"))) {
      return { run: () => ({ outputs: outs.map((v) => intsTensor([...v!.values!], [...(v!.shape as number[])])) }) };
    }
    return runner(op, ctx);
  };
}

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = Object.fromEntries(Object.entries({
  identity: copy, dropout: copy, cast, reshape, flatten, transpose, permute: transpose, squeeze, unsqueeze, expand, tile,
  split, slice, gather, shape: shapeOp, size, constant_of_shape: constantOfShape, range, reduce: reduceOp,
  // The graph folds ConstantOfShape as zeros, but the ONNX reader does not keep its value attribute: not taken.
}).map(([name, runner]) => [name, name === "constant_of_shape" ? runner : foldedOr(runner)]));
