/**
 * Merges (spec metrics.md 1b: two or more operands into one value): elementwise binary and n-ary
 * ops with numpy broadcasting, where, compare, concat. Also the helpers the shape and norm runners
 * share: operands read as host ints or f32 in memory, strided copies, integer operands from
 * attributes, graph constants or run-time tensors.
 *
 * Broadcasting is numpy's over the tensors' shapes as they are: data values carry the batch axis
 * first, constants their stored shape (right-aligned, as numpy does). Kernels (assembly/forward/
 * elementwise.ts): same shapes (ewBinary), one operand that varies along one run of axes only
 * (ewBinaryMid: a row vector, a per-channel vector, a scalar), and anything else by expanding both
 * operands to the output's shape first (stridedCopy) and then ewBinary.
 *
 * Shape arithmetic (Shape -> Gather -> Concat -> Reshape in PyTorch exports) runs on the host over
 * `ints` tensors (ptr -1): an op whose operands are all host ints or constants, with at least one
 * host int, is computed on the host, and its result is host ints when every value is an integer.
 */
import type { GraphOp } from "../../graph/types.js";
import { formatShape } from "../../errors.js";
import type { ForwardMemory, PrepareContext, PrepareOp, PreparedOp, Tensor } from "../types.js";
import { elementsOf, ForwardUnsupported } from "../types.js";

// ------------------------------------------------------------------------------ shared helpers

/** Binary op codes of assembly/forward/elementwise.ts. */
export const BINARY = {
  add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, squaredDifference: 7, floorDiv: 8, divNoNan: 9,
  equal: 10, less: 11, greater: 12, lessOrEqual: 13, greaterOrEqual: 14, and: 15, or: 16, notEqual: 17,
} as const;

/** One binary op on host numbers, as the kernel computes it (f32 rounding left out: host values are small integers). */
export function applyHost(code: number, a: number, b: number, ints: boolean): number {
  switch (code) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    // Integer division truncates (C, ONNX Runtime; the graph's constant folding does the same).
    case 3: return ints ? Math.trunc(a / b) : a / b;
    case 4: return a > b || Number.isNaN(a) ? a : b;
    case 5: return a < b || Number.isNaN(a) ? a : b;
    case 6: return a ** b;
    case 7: return (a - b) * (a - b);
    case 8: return Math.floor(a / b);
    case 9: return b === 0 ? 0 : a / b;
    case 10: return a === b ? 1 : 0;
    case 11: return a < b ? 1 : 0;
    case 12: return a > b ? 1 : 0;
    case 13: return a <= b ? 1 : 0;
    case 14: return a >= b ? 1 : 0;
    case 15: return a !== 0 && b !== 0 ? 1 : 0;
    case 16: return a !== 0 || b !== 0 ? 1 : 0;
    case 17: return a !== b ? 1 : 0;
  }
  return NaN;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

/** numpy broadcasting of two shapes; undefined when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Strides to read `shape` as if broadcast to `out` (0 on broadcast axes), right-aligned. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const own = stridesOf(shape);
  const lead = out.length - shape.length;
  return out.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]));
}

/** An axis counted from the end when negative; throws ForwardUnsupported when out of range. */
export function axisOf(op: GraphOp, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ForwardUnsupported(op, `axis ${axis} is outside a value of rank ${rank}`);
  return a;
}

/** A host tensor of integer values. */
export function intsTensor(values: number[], shape: number[] = [values.length]): Tensor {
  return { ptr: -1, shape, ints: values };
}

/** Whether a tensor is data (neither host ints nor a constant). */
export function isData(t: Tensor | undefined): boolean {
  return t !== undefined && t.ints === undefined && !t.constant;
}

/** A tensor's values on the host (ints as they are, memory values read as numbers). */
export function hostValues(memory: ForwardMemory, t: Tensor): number[] {
  if (t.ints) return t.ints;
  return Array.from(memory.f32(t.ptr, elementsOf(t.shape)));
}

/** The result of a host computation: host ints when every value is an integer, else an f32 constant in memory. */
export function hostResult(memory: ForwardMemory, values: number[], shape: number[]): Tensor {
  if (values.every((v) => Number.isSafeInteger(v))) return intsTensor(values, shape);
  const t = memory.tensor(shape);
  t.constant = true;
  memory.f32(t.ptr, values.length).set(values);
  return t;
}

/** A tensor in memory: memory tensors as they are; host ints copied into fresh memory (`temp` says to free it). */
export function inMemory(memory: ForwardMemory, t: Tensor): { tensor: Tensor; temp: boolean } {
  if (t.ints === undefined) return { tensor: t, temp: false };
  const out = memory.tensor(t.shape);
  out.constant = true;
  memory.f32(out.ptr, t.ints.length).set(t.ints);
  return { tensor: out, temp: true };
}

/**
 * Strided copy: dst[dstOff + Σ i_k·dstStrides_k] = src[srcOff + Σ i_k·srcStrides_k] over the index
 * grid `dims` (offsets and strides in elements). Axes of size 1 are dropped and neighbours that
 * are contiguous in both are merged, so the kernel's inner loop is as long as it can be.
 */
export function stridedCopy(memory: ForwardMemory, src: number, srcOff: number, dims: readonly number[], srcStrides: readonly number[], dst: number, dstOff: number, dstStrides: readonly number[]): void {
  const plan = coalesce(dims, srcStrides, dstStrides);
  if (plan.dims.some((d) => d === 0)) return;
  const rank = plan.dims.length;
  if (rank > 0 && plan.src[rank - 1] === 1 && plan.dst[rank - 1] === 1 && rank === 1) {
    memory.exports.copyBlocks(src + srcOff * 4, 0, dst + dstOff * 4, 0, 1, plan.dims[0]);
    return;
  }
  const table = memory.alloc(1 + 4 * Math.max(rank, 1));
  const view = new Int32Array(memory.exports.memory.buffer, table, 1 + 4 * Math.max(rank, 1));
  view[0] = rank;
  view.set(plan.dims, 1);
  view.set(plan.src, 1 + rank);
  view.set(plan.dst, 1 + 2 * rank);
  memory.exports.stridedCopy(src + srcOff * 4, dst + dstOff * 4, table);
  memory.free(table);
}

/** The same copy over host arrays. */
export function stridedCopyHost(src: readonly number[], srcOff: number, dims: readonly number[], srcStrides: readonly number[], dst: number[], dstOff: number, dstStrides: readonly number[]): void {
  const rank = dims.length;
  if (dims.some((d) => d === 0)) return;
  const at = new Array<number>(rank).fill(0);
  for (;;) {
    let s = srcOff, d = dstOff;
    for (let k = 0; k < rank; k++) {
      s += at[k] * srcStrides[k];
      d += at[k] * dstStrides[k];
    }
    dst[d] = src[s];
    let k = rank - 1;
    while (k >= 0 && ++at[k] === dims[k]) at[k--] = 0;
    if (k < 0) return;
  }
}

function coalesce(dims: readonly number[], s: readonly number[], d: readonly number[]): { dims: number[]; src: number[]; dst: number[] } {
  const out = { dims: [] as number[], src: [] as number[], dst: [] as number[] };
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const k = out.dims.length - 1;
    if (k >= 0 && out.src[k] === s[i] * dims[i] && out.dst[k] === d[i] * dims[i]) {
      out.dims[k] *= dims[i];
      out.src[k] = s[i];
      out.dst[k] = d[i];
    } else {
      out.dims.push(dims[i]);
      out.src.push(s[i]);
      out.dst.push(d[i]);
    }
  }
  return out;
}

/** `t` broadcast to `shape` as a fresh contiguous tensor. */
export function expandTo(memory: ForwardMemory, t: Tensor, shape: number[]): Tensor {
  const out = memory.tensor(shape);
  stridedCopy(memory, t.ptr, 0, shape, broadcastStrides(t.shape, shape), out.ptr, 0, stridesOf(shape));
  return out;
}

/**
 * Integers an op takes from an attribute (older opsets) or from its input at `index`: host ints or
 * a constant in memory at run time, else a graph constant folded at analysis time. Shape
 * arithmetic the graph folded (kind "shape") is not taken from the graph: it can hold the file's
 * traced batch size (torch's value_info says batch 1), where the run computes it from the batch.
 * Undefined when none gives them; values that are not integers throw ForwardUnsupported.
 */
export function intsOperand(op: GraphOp, ctx: PrepareContext, key: string | undefined, index: number, inputs?: (Tensor | undefined)[]): number[] | undefined {
  const a = key === undefined ? undefined : op.layer.attributes?.[key];
  if (Array.isArray(a)) return [...a];
  if (typeof a === "number") return [a];
  const name = op.inputs[index];
  if (!name) return undefined;
  const t = inputs?.[index];
  if (t) {
    if (isData(t)) throw new ForwardUnsupported(op, `its operand ${index} (${name}) is data, where the forward pass needs integers known before the op runs`);
    const values = hostValues(ctx.memory, t);
    if (!values.every((v) => Number.isSafeInteger(v))) throw new ForwardUnsupported(op, `its operand ${index} (${name}) holds values that are not integers`);
    return values;
  }
  const folded = ctx.graph.values.get(name);
  return folded?.kind === "constant" && folded.values ? [...folded.values] : undefined;
}

/** The shape an integer operand has (a scalar index has []), from the run-time tensor or the graph. */
export function operandShape(ctx: PrepareContext, op: GraphOp, index: number, inputs?: (Tensor | undefined)[]): number[] | undefined {
  const t = inputs?.[index];
  if (t) return t.shape;
  const s = ctx.graph.values.get(op.inputs[index])?.shape;
  return s && s.every((d) => typeof d === "number") ? (s as number[]) : undefined;
}

/** A runner whose `run` is synchronous over the context (most of these ops have nothing to prepare). */
export function simple(run: (op: GraphOp, ctx: PrepareContext, inputs: (Tensor | undefined)[]) => (Tensor | undefined)[], check?: (op: GraphOp, ctx: PrepareContext) => void): PrepareOp {
  return async (op, ctx): Promise<PreparedOp> => {
    check?.(op, ctx);
    return { run: (inputs) => ({ outputs: run(op, ctx, inputs) }) };
  };
}

/** The present inputs, or a ForwardUnsupported naming the one missing. */
export function need(op: GraphOp, inputs: (Tensor | undefined)[], count: number): Tensor[] {
  const out: Tensor[] = [];
  for (let i = 0; i < count; i++) {
    const t = inputs[i];
    if (!t) throw new ForwardUnsupported(op, `its input ${i} (${op.inputs[i] || "absent"}) has no value`);
    out.push(t);
  }
  return out;
}

// ------------------------------------------------------------------------------------- binary

/** a op b with numpy broadcasting; the operands are left as they are. */
export function binary(op: GraphOp, memory: ForwardMemory, code: number, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) throw new ForwardUnsupported(op, `its operands ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
  // Shape arithmetic on the host.
  if (!isData(a) && !isData(b) && (a.ints || b.ints)) {
    const ints = (a.ints ?? hostValues(memory, a)).every(Number.isSafeInteger) && (b.ints ?? hostValues(memory, b)).every(Number.isSafeInteger);
    const av = hostValues(memory, a), bv = hostValues(memory, b);
    const sa = broadcastStrides(a.shape, shape), sb = broadcastStrides(b.shape, shape);
    const n = elementsOf(shape);
    const out = new Array<number>(n);
    const st = stridesOf(shape);
    for (let i = 0; i < n; i++) {
      let ia = 0, ib = 0, r = i;
      for (let k = 0; k < shape.length; k++) {
        const c = Math.floor(r / st[k]);
        r -= c * st[k];
        ia += c * sa[k];
        ib += c * sb[k];
      }
      out[i] = applyHost(code, av[ia], bv[ib], ints);
    }
    return hostResult(memory, out, shape);
  }
  const ma = inMemory(memory, a), mb = inMemory(memory, b);
  try {
    const out = binaryInMemory(memory, code, ma.tensor, mb.tensor, shape);
    if (!isData(a) && !isData(b)) out.constant = true;
    return out;
  } finally {
    if (ma.temp) memory.free(ma.tensor.ptr);
    if (mb.temp) memory.free(mb.tensor.ptr);
  }
}

function binaryInMemory(memory: ForwardMemory, code: number, a: Tensor, b: Tensor, shape: number[]): Tensor {
  const k = memory.exports;
  const n = elementsOf(shape);
  const out = memory.tensor(shape);
  const full = (t: Tensor) => elementsOf(t.shape) === n;
  if (full(a) && full(b)) {
    k.ewBinary(code, a.ptr, b.ptr, out.ptr, n);
    return out;
  }
  // One operand full, the other varying along one run of the output's axes only.
  for (const [x, y, swap] of [[a, b, 0], [b, a, 1]] as const) {
    if (!full(x)) continue;
    const run = varyingRun(y.shape, shape);
    if (!run) continue;
    k.ewBinaryMid(code, x.ptr, y.ptr, out.ptr, elementsOf(shape.slice(0, run[0])), elementsOf(shape.slice(run[0], run[1])), elementsOf(shape.slice(run[1])), swap);
    return out;
  }
  // General: both expanded to the output's shape.
  const ea = full(a) ? a : expandTo(memory, a, shape);
  const eb = full(b) ? b : expandTo(memory, b, shape);
  k.ewBinary(code, ea.ptr, eb.ptr, out.ptr, n);
  if (ea !== a) memory.free(ea.ptr);
  if (eb !== b) memory.free(eb.ptr);
  return out;
}

/** [from, to): the output axes along which `shape` (right-aligned) is not 1, when they are one run matching the output's dims. */
function varyingRun(shape: readonly number[], out: readonly number[]): [number, number] | undefined {
  const lead = out.length - shape.length;
  let from = -1, to = -1;
  for (let i = 0; i < out.length; i++) {
    const d = i < lead ? 1 : shape[i - lead];
    if (d === 1) continue;
    if (d !== out[i]) return undefined;
    if (from < 0) from = i;
    else if (to !== i) return undefined;
    to = i + 1;
  }
  return from < 0 ? [0, 0] : [from, to];
}

// ------------------------------------------------------------------------------------- runners

/** The kernel code of an arithmetic merge, from its op name and the file's own op (TF.js graph models carry `tf`). */
function codeOf(op: GraphOp): number {
  const tf = op.layer.attributes?.tf;
  if (tf === "SquaredDifference") return BINARY.squaredDifference;
  if (tf === "FloorDiv") return BINARY.floorDiv;
  if (tf === "DivNoNan") return BINARY.divNoNan;
  switch (op.op) {
    case "add": case "sum": case "mean": case "average": return BINARY.add;
    case "sub": case "subtract": return BINARY.sub;
    case "mul": case "multiply": return BINARY.mul;
    case "div": return BINARY.div;
    case "max": case "maximum": return BINARY.max;
    case "min": case "minimum": return BINARY.min;
    case "pow": return BINARY.pow;
  }
  throw new ForwardUnsupported(op, "it is not an arithmetic merge");
}

/**
 * A TF BiasAdd with data_format NCHW adds its vector along axis 1, not the last: the vector is
 * read as [C, 1, ..., 1] (the same values).
 */
function biasAlongChannels(op: GraphOp, ins: Tensor[]): Tensor[] {
  if (op.layer.attributes?.dataFormat !== "channels_first" || ins.length !== 2) return ins;
  const [x, b] = ins;
  if (b.shape.length !== 1 || x.shape.length < 3 || x.shape[1] !== b.shape[0]) return ins;
  return [x, { ...b, shape: [b.shape[0], ...new Array<number>(x.shape.length - 2).fill(1)] }];
}

/** Add, Sub, Mul, ... over two or more operands (Keras merges and ONNX Sum/Max/Min/Mean take any number), folded left to right. */
const arithmetic: PrepareOp = simple((op, ctx, inputs) => {
  const code = codeOf(op);
  const ins = biasAlongChannels(op, inputs.filter((t): t is Tensor => t !== undefined));
  if (ins.length === 0) throw new ForwardUnsupported(op, "it has no operands");
  const m = ctx.memory;
  if (ins.length === 1) return [copyOf(m, ins[0])];
  let acc = binary(op, m, code, ins[0], ins[1]);
  for (let i = 2; i < ins.length; i++) {
    const next = binary(op, m, code, acc, ins[i]);
    if (acc.ptr >= 0) m.free(acc.ptr);
    acc = next;
  }
  if (op.op === "mean" || op.op === "average") {
    const scale: Tensor = { ptr: -1, shape: [], ints: [ins.length] };
    const next = binary(op, m, BINARY.div, acc, scale);
    if (acc.ptr >= 0) m.free(acc.ptr);
    acc = next;
  }
  return [acc];
});

/** A fresh copy of a tensor (host ints: the same values). */
export function copyOf(memory: ForwardMemory, t: Tensor, shape: number[] = t.shape): Tensor {
  if (t.ints) return intsTensor([...t.ints], [...shape]);
  const out = memory.tensor(shape);
  if (t.constant) out.constant = true;
  memory.exports.copyBlocks(t.ptr, 0, out.ptr, 0, 1, elementsOf(shape));
  return out;
}

const COMPARE_ONNX: Record<string, number> = { Equal: BINARY.equal, Less: BINARY.less, Greater: BINARY.greater, LessOrEqual: BINARY.lessOrEqual, GreaterOrEqual: BINARY.greaterOrEqual, And: BINARY.and, Or: BINARY.or };
const COMPARE_TF: Record<string, number> = {
  Equal: BINARY.equal, NotEqual: BINARY.notEqual, Less: BINARY.less, LessEqual: BINARY.lessOrEqual, Greater: BINARY.greater, GreaterEqual: BINARY.greaterOrEqual,
  LogicalAnd: BINARY.and, LogicalOr: BINARY.or,
};

/** Which compare: ONNX keeps its op type in `onnx`, TF.js in `tf`. */
function compareCode(op: GraphOp): number {
  const a = op.layer.attributes ?? {};
  const code = typeof a.onnx === "string" && Object.hasOwn(COMPARE_ONNX, a.onnx) ? COMPARE_ONNX[a.onnx] : typeof a.tf === "string" && Object.hasOwn(COMPARE_TF, a.tf) ? COMPARE_TF[a.tf] : undefined;
  if (code === undefined) throw new ForwardUnsupported(op, "the file's description does not say which comparison it is");
  return code;
}

const compare: PrepareOp = async (op, ctx) => {
  const code = compareCode(op);
  return { run: (inputs) => {
    const [a, b] = need(op, inputs, 2);
    return { outputs: [binary(op, ctx.memory, code, a, b)] };
  } };
};

/** where(condition, x, y): all three broadcast to one shape; the condition is 1/0 (a compare's output) or a constant. */
const where = simple((op, ctx, inputs) => {
  const [cond, x, y] = need(op, inputs, 3);
  // TF's Select (v1): a vector condition picks whole rows of x and y (SelectV2 broadcasts as numpy does).
  const c = op.layer.attributes?.tf === "Select" && cond.shape.length === 1 && x.shape.length > 1 ? { ...cond, shape: [cond.shape[0], ...x.shape.slice(1).map(() => 1)] } : cond;
  const m = ctx.memory;
  const shape = [c.shape, x.shape, y.shape].reduce<number[] | undefined>((s, t) => (s ? broadcastShapes(s, t) : undefined), []);
  if (!shape) throw new ForwardUnsupported(op, `its operands ${formatShape(c.shape)}, ${formatShape(x.shape)} and ${formatShape(y.shape)} do not broadcast`);
  if (!isData(c) && !isData(x) && !isData(y) && (c.ints || x.ints || y.ints)) {
    const [cv, xv, yv] = [c, x, y].map((t) => hostValues(m, t));
    const [sc, sx, sy] = [c, x, y].map((t) => broadcastStrides(t.shape, shape));
    const st = stridesOf(shape);
    const out = Array.from({ length: elementsOf(shape) }, (_, i) => {
      let ic = 0, ix = 0, iy = 0, r = i;
      for (let k = 0; k < shape.length; k++) {
        const q = Math.floor(r / st[k]);
        r -= q * st[k];
        ic += q * sc[k];
        ix += q * sx[k];
        iy += q * sy[k];
      }
      return cv[ic] !== 0 ? xv[ix] : yv[iy];
    });
    return [hostResult(m, out, shape)];
  }
  const n = elementsOf(shape);
  const held = [c, x, y].map((t) => inMemory(m, t));
  const full = held.map(({ tensor }) => (elementsOf(tensor.shape) === n ? tensor : expandTo(m, tensor, shape)));
  const out = m.tensor(shape);
  m.exports.ewWhere(full[0].ptr, full[1].ptr, full[2].ptr, out.ptr, n);
  held.forEach(({ tensor, temp }, i) => {
    if (full[i] !== tensor) m.free(full[i].ptr);
    if (temp) m.free(tensor.ptr);
  });
  if (!isData(c) && !isData(x) && !isData(y)) out.constant = true;
  return [out];
});

/** concat along an axis (negative counts from the end; Keras's default -1); data and constants of the same rank. */
const concat = simple((op, ctx, inputs) => {
  // Scalars (TF.js Pack of shape arithmetic, read as a concat) are joined as one value each.
  const ins = inputs.filter((t): t is Tensor => t !== undefined).map((t) => (t.shape.length === 0 ? { ...t, shape: [1] } : t));
  if (ins.length === 0) throw new ForwardUnsupported(op, "it has no operands");
  const rank = ins[0].shape.length;
  const attr = op.layer.attributes?.axis;
  const axis = axisOf(op, typeof attr === "number" ? attr : -1, rank);
  for (const t of ins) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== ins[0].shape[i])) {
      throw new ForwardUnsupported(op, `its operands ${ins.map((s) => formatShape(s.shape)).join(", ")} do not fit along axis ${axis}`);
    }
  }
  const shape = [...ins[0].shape];
  shape[axis] = ins.reduce((s, t) => s + t.shape[axis], 0);
  const outer = elementsOf(shape.slice(0, axis)), inner = elementsOf(shape.slice(axis + 1));
  const m = ctx.memory;
  if (ins.every((t) => !isData(t)) && ins.some((t) => t.ints)) {
    const out = new Array<number>(elementsOf(shape));
    let at = 0;
    for (const t of ins) {
      const v = hostValues(m, t);
      const block = t.shape[axis] * inner;
      for (let o = 0; o < outer; o++) for (let j = 0; j < block; j++) out[o * shape[axis] * inner + at + j] = v[o * block + j];
      at += block;
    }
    return [hostResult(m, out, shape)];
  }
  const held = ins.map((t) => inMemory(m, t));
  const out = m.tensor(shape);
  let at = 0;
  for (const { tensor } of held) {
    const block = tensor.shape[axis] * inner;
    if (block > 0) m.exports.copyBlocks(tensor.ptr, block, out.ptr + at * 4, shape[axis] * inner, outer, block);
    at += block;
  }
  for (const { tensor, temp } of held) if (temp) m.free(tensor.ptr);
  if (ins.every((t) => !isData(t))) out.constant = true;
  return [out];
});

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = {
  add: arithmetic, sub: arithmetic, subtract: arithmetic, mul: arithmetic, multiply: arithmetic, div: arithmetic,
  max: arithmetic, maximum: arithmetic, min: arithmetic, minimum: arithmetic, pow: arithmetic,
  sum: arithmetic, mean: arithmetic, average: arithmetic,
  compare, where, concat,
};
