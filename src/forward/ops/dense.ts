/**
 * Products (spec metrics.md section 3: z = sum_i W[i, j] a_i + b_j): dense layers, matrix
 * products of data (attention's Q.K^T and A.V, ONNX MatMul/Gemm not read as dense, TF
 * BatchMatMul) and two-operand Einsum. Kernels: assembly/forward/gemm.ts.
 *
 *   dense   x [..., n_in] . W -> [..., n_out] (+ b): the product runs over the last axis, every
 *           other axis passes through. W is [n_in, n_out] ("in_out") or [n_out, n_in] ("out_in"),
 *           packed once at prepare time into gemm's panels (packB); ONNX Gemm's alpha and beta
 *           scale W and b there. A chain's dense after a feature map whose sample has n_in values
 *           in all reads it flattened (the sample in its stored order), as Flatten would.
 *           The fused activation is the executor's (applyActivation), not this runner's.
 *   matmul  numpy matmul: [..., m, k] . [..., k, n] with the batch axes broadcast, a 1-D operand
 *           promoted and its axis dropped; transA/transB (TF MatMul transpose_a/b, BatchMatMul
 *           adj_x/adj_y, ONNX Gemm transB); ONNX Gemm: alpha A.B + beta C, C broadcast to [m, n].
 *   einsum  two operands, every letter either shared (batch: in the output; contracted: not) or
 *           in one operand and the output; "..." as shared batch axes of equal sizes. Anything
 *           else (a letter summed in one operand, a diagonal, one operand) is ForwardUnsupported.
 */
import type { GraphOp } from "../../graph/types.js";
import type { ForwardMemory, PrepareOp, Tensor } from "../types.js";
import { elementsOf, ForwardUnsupported } from "../types.js";

// ------------------------------------------------------------------------------------ dense

const prepareDense: PrepareOp = async (op, ctx) => {
  const layer = op.layer;
  const memory = ctx.memory;
  if (!layer.weight) throw new ForwardUnsupported(op, "it has no weight tensor");
  const shape = ctx.tensorShape(layer.weight);
  if (!shape || shape.length !== 2) throw new ForwardUnsupported(op, `its weight has shape [${shape?.join(", ") ?? "?"}], not a matrix`);
  const layout = layer.weightLayout ?? "in_out";
  if (layout !== "in_out" && layout !== "out_in") throw new ForwardUnsupported(op, `its weight layout ${JSON.stringify(layout)} is not in_out or out_in`);
  const [k, n] = layout === "in_out" ? shape : [shape[1], shape[0]];
  const attributes = layer.attributes ?? {};
  // ONNX Gemm: Y = alpha A.B + beta C (a TF fused LeakyRelu's alpha sits beside fusedActivation and is not this).
  const alpha = attributes.fusedActivation === undefined && typeof attributes.alpha === "number" ? attributes.alpha : 1;
  const beta = attributes.fusedActivation === undefined && typeof attributes.beta === "number" ? attributes.beta : 1;
  const w = await ctx.weight(layer.weight);
  if (alpha !== 1) for (let i = 0; i < w.length; i++) w[i] *= alpha;
  let bias = -1;
  if (layer.bias) {
    const b = await ctx.weight(layer.bias);
    if (b.length !== n) throw new ForwardUnsupported(op, `its bias has ${b.length} values for ${n} outputs`);
    if (beta !== 1) for (let i = 0; i < b.length; i++) b[i] *= beta;
    bias = memory.alloc(n);
    memory.f32(bias, n).set(b);
  }
  const packed = memory.alloc(memory.exports.packedSize(k, n));
  const raw = memory.alloc(w.length);
  memory.f32(raw, w.length).set(w);
  memory.exports.packB(raw, layout === "in_out" ? n : k, k, n, layout === "in_out" ? 0 : 1, packed);
  memory.free(raw);
  return {
    run: (inputs) => {
      const x = inputs[0];
      if (!x) throw new ForwardUnsupported(op, "it has no input value");
      let lead: number[];
      if (x.shape[x.shape.length - 1] === k) lead = x.shape.slice(0, -1);
      else if (!x.constant && x.shape.length > 2 && elementsOf(x.shape.slice(1)) === k) lead = [x.shape[0]];
      else throw new ForwardUnsupported(op, `its input has shape [${x.shape.join(", ")}] but the weight takes ${k} values`);
      const out = memory.tensor([...lead, n]);
      memory.exports.gemmPacked(x.ptr, packed, out.ptr, elementsOf(lead), n, k, k, n, bias < 0 ? 0 : bias, bias < 0 ? 0 : 1, 0);
      return { outputs: [out] };
    },
    dispose: () => {
      memory.free(packed);
      if (bias >= 0) memory.free(bias);
    },
  };
};

// ------------------------------------------------------------------------------------ matmul

/** C[m x n] = A[m x k] . op(B) for each broadcast batch matrix; transB reads B stored [n, k]. */
function batchedProduct(memory: ForwardMemory, a: Tensor, b: Tensor, transA: boolean, transB: boolean, op: GraphOp): Tensor {
  let aShape = a.shape, bShape = b.shape;
  const aVector = aShape.length === 1, bVector = bShape.length === 1;
  if (aVector) aShape = transA ? [aShape[0], 1] : [1, aShape[0]];
  if (bVector) bShape = transB ? [1, bShape[0]] : [bShape[0], 1];
  const ar = aShape.length, br = bShape.length;
  const [m, k] = transA ? [aShape[ar - 1], aShape[ar - 2]] : [aShape[ar - 2], aShape[ar - 1]];
  const [kb, n] = transB ? [bShape[br - 1], bShape[br - 2]] : [bShape[br - 2], bShape[br - 1]];
  if (k !== kb) throw new ForwardUnsupported(op, `its operands [${a.shape.join(", ")}] and [${b.shape.join(", ")}] do not share the contracted axis`);
  const aBatch = aShape.slice(0, -2), bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pa = [...new Array<number>(rank - aBatch.length).fill(1), ...aBatch];
  const pb = [...new Array<number>(rank - bBatch.length).fill(1), ...bBatch];
  const batch = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new ForwardUnsupported(op, `its batch axes [${aBatch.join(", ")}] and [${bBatch.join(", ")}] do not broadcast`);
    return Math.max(d, pb[i]);
  });
  const outShape = [...batch, ...(aVector ? [] : [m]), ...(bVector ? [] : [n])];
  const out = memory.tensor(outShape);
  const count = elementsOf(batch);
  if (count === 0 || m === 0 || n === 0) return out;
  const stridesOf = (shape: number[]) => shape.map((d, i) => (d === 1 ? 0 : elementsOf(shape.slice(i + 1))));
  const sa = stridesOf(pa), sb = stridesOf(pb);
  // A transposed is copied to [m, k] first (rare: TF transpose_a / adj_x); B transposed is packed by packB.
  const aT = transA ? memory.alloc(m * k) : -1;
  const panel = transB ? memory.alloc(memory.exports.packedSize(k, n)) : -1;
  const index = new Array<number>(rank).fill(0);
  for (let t = 0; t < count; t++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += index[d] * sa[d];
      ib += index[d] * sb[d];
    }
    let aPtr = a.ptr + ia * m * k * 4;
    const bPtr = b.ptr + ib * k * n * 4;
    const cPtr = out.ptr + t * m * n * 4;
    if (transA) {
      const src = memory.f32(aPtr, m * k), dst = memory.f32(aT, m * k);
      for (let p = 0; p < k; p++) for (let i = 0; i < m; i++) dst[i * k + p] = src[p * m + i];
      aPtr = aT;
    }
    if (transB) {
      memory.exports.packB(bPtr, k, k, n, 1, panel);
      memory.exports.gemmPacked(aPtr, panel, cPtr, m, n, k, k, n, 0, 0, 0);
    } else memory.exports.gemm(aPtr, bPtr, cPtr, m, n, k, k, n, n, 0, 0, 0);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
  if (aT >= 0) memory.free(aT);
  if (panel >= 0) memory.free(panel);
  return out;
}

const prepareMatmul: PrepareOp = async (op, ctx) => {
  const memory = ctx.memory;
  const attributes = op.layer.attributes ?? {};
  const flag = (key: string) => attributes[key] === 1 || (attributes[key] as unknown) === true;
  const gemm = attributes.onnx === "Gemm";
  const alpha = gemm && typeof attributes.alpha === "number" ? attributes.alpha : 1;
  const beta = gemm && typeof attributes.beta === "number" ? attributes.beta : 1;
  const transA = flag("transA"), transB = flag("transB");
  return {
    run: (inputs) => {
      const [a, b, c] = inputs;
      if (!a || !b) throw new ForwardUnsupported(op, "it needs two operands");
      if (gemm && (a.shape.length !== 2 || b.shape.length !== 2)) throw new ForwardUnsupported(op, "Gemm's operands are not matrices");
      const out = batchedProduct(memory, a, b, transA, transB, op);
      if (!gemm || (alpha === 1 && !(c && beta !== 0))) return { outputs: [out] };
      const [m, n] = out.shape;
      let cValues: Float32Array | undefined;
      let cShape: number[] = [];
      if (c && beta !== 0) {
        cShape = c.shape.length === 0 ? [1, 1] : c.shape.length === 1 ? [1, c.shape[0]] : c.shape;
        if (cShape.length !== 2 || (cShape[0] !== 1 && cShape[0] !== m) || (cShape[1] !== 1 && cShape[1] !== n)) {
          memory.free(out.ptr);
          throw new ForwardUnsupported(op, `Gemm's C of shape [${c.shape.join(", ")}] does not broadcast to [${m}, ${n}]`);
        }
        cValues = memory.f32(c.ptr, elementsOf(c.shape)).slice();
      }
      const y = memory.f32(out.ptr, m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let v = alpha * y[i * n + j];
          if (cValues) v += beta * cValues[(cShape[0] === 1 ? 0 : i) * cShape[1] + (cShape[1] === 1 ? 0 : j)];
          y[i * n + j] = v;
        }
      }
      return { outputs: [out] };
    },
  };
};

// ------------------------------------------------------------------------------------ einsum

interface EinsumPlan {
  /** Axis letters of each operand and the output (ellipsis axes as upper-case private letters). */
  a: string[];
  b: string[];
  out: string[];
}

/** Parse a two-operand equation into letters, or say why it is not one this runner takes. */
export function parseEinsum(equation: string, aRank: number, bRank: number): EinsumPlan | string {
  const text = equation.replace(/\s+/g, "");
  const arrow = text.indexOf("->");
  if (arrow < 0) return "the equation has no explicit output (->)";
  const operands = text.slice(0, arrow).split(",");
  if (operands.length !== 2) return `it has ${operands.length} operands, not 2`;
  const ellipsis = (term: string, rank: number): string[] | string => {
    const at = term.indexOf("...");
    const letters = (s: string) => (/^[A-Za-z]*$/.test(s) ? [...s] : undefined);
    if (at < 0) {
      const l = letters(term);
      if (!l) return `the term ${JSON.stringify(term)} is not letters`;
      if (l.length !== rank) return `the term ${JSON.stringify(term)} has ${l.length} axes for a rank-${rank} operand`;
      return l;
    }
    const before = letters(term.slice(0, at)), after = letters(term.slice(at + 3));
    if (!before || !after) return `the term ${JSON.stringify(term)} is not letters with one "..."`;
    const extra = rank - before.length - after.length;
    if (extra < 0) return `the term ${JSON.stringify(term)} has more axes than the rank-${rank} operand`;
    // "..." axes are aligned from the right, as numpy does; private names #0, #1, ... counted from the last.
    return [...before, ...Array.from({ length: extra }, (_, i) => `#${extra - 1 - i}`), ...after];
  };
  const a = ellipsis(operands[0], aRank), b = ellipsis(operands[1], bRank);
  if (typeof a === "string") return a;
  if (typeof b === "string") return b;
  const outTerm = text.slice(arrow + 2);
  const dots = Math.max(a.filter((l) => l.startsWith("#")).length, b.filter((l) => l.startsWith("#")).length);
  const out = ellipsis(outTerm, outTerm.replace("...", "").length + (outTerm.includes("...") ? dots : 0));
  if (typeof out === "string") return out;
  for (const [term, name] of [[a, "first"], [b, "second"], [out, "output"]] as const) {
    if (new Set(term).size !== term.length) return `the ${name} term repeats an axis (a diagonal)`;
  }
  for (const l of out) if (!a.includes(l) && !b.includes(l)) return `the output axis ${l} is in neither operand`;
  for (const l of [...a, ...b]) {
    const inA = a.includes(l), inB = b.includes(l);
    if (!out.includes(l) && !(inA && inB)) return `the axis ${l.startsWith("#") ? "of ..." : l} is summed within one operand`;
  }
  return { a, b, out };
}

/** out[perm-ordered] = x: a transposed copy, done on the host (einsum operands are small next to the products). */
function permute(memory: ForwardMemory, x: Tensor, from: string[], to: string[]): Tensor {
  const shape = to.map((l) => x.shape[from.indexOf(l)]);
  const out = memory.tensor(shape);
  const total = elementsOf(shape);
  const src = memory.f32(x.ptr, elementsOf(x.shape)), dst = memory.f32(out.ptr, total);
  const srcStrides = from.map((_, i) => elementsOf(x.shape.slice(i + 1)));
  const strides = to.map((l) => srcStrides[from.indexOf(l)]);
  const index = new Array<number>(shape.length).fill(0);
  let s = 0;
  for (let e = 0; e < total; e++) {
    dst[e] = src[s];
    for (let d = shape.length - 1; d >= 0; d--) {
      s += strides[d];
      if (++index[d] < shape[d]) break;
      s -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

const prepareEinsum: PrepareOp = async (op, ctx) => {
  const equation = op.layer.attributes?.equation;
  if (typeof equation !== "string") throw new ForwardUnsupported(op, "the reader did not keep its equation");
  return {
    run: (inputs) => {
      const [a, b] = inputs;
      if (!a || !b || inputs.length !== 2) throw new ForwardUnsupported(op, `Einsum ${JSON.stringify(equation.slice(0, 80))} does not have two operands`);
      const plan = parseEinsum(equation, a.shape.length, b.shape.length);
      if (typeof plan === "string") throw new ForwardUnsupported(op, `Einsum ${JSON.stringify(equation.slice(0, 80))}: ${plan}`);
      return { outputs: [einsum(ctx.memory, a, b, plan, op, equation)] };
    },
  };
};

function einsum(memory: ForwardMemory, a: Tensor, b: Tensor, plan: EinsumPlan, op: GraphOp, equation: string): Tensor {
  const size = new Map<string, number>();
  for (const [term, t] of [[plan.a, a], [plan.b, b]] as const) {
    term.forEach((l, i) => {
      const d = t.shape[i];
      if (size.has(l) && size.get(l) !== d) throw new ForwardUnsupported(op, `Einsum ${JSON.stringify(equation.slice(0, 80))}: axis ${l.startsWith("#") ? "of ..." : l} has sizes ${size.get(l)} and ${d}`);
      size.set(l, d);
    });
  }
  const batch = plan.out.filter((l) => plan.a.includes(l) && plan.b.includes(l));
  const freeA = plan.a.filter((l) => !plan.b.includes(l));
  const freeB = plan.b.filter((l) => !plan.a.includes(l));
  const contracted = plan.a.filter((l) => plan.b.includes(l) && !plan.out.includes(l));
  const dim = (ls: string[]) => elementsOf(ls.map((l) => size.get(l)!));
  const pa = permute(memory, a, plan.a, [...batch, ...freeA, ...contracted]);
  const pb = permute(memory, b, plan.b, [...batch, ...contracted, ...freeB]);
  const nb = dim(batch), m = dim(freeA), k = dim(contracted), n = dim(freeB);
  const product = batchedProduct(memory, { ptr: pa.ptr, shape: [nb, m, k] }, { ptr: pb.ptr, shape: [nb, k, n] }, false, false, op);
  memory.free(pa.ptr);
  memory.free(pb.ptr);
  const order = [...batch, ...freeA, ...freeB];
  const result = permute(memory, { ptr: product.ptr, shape: order.map((l) => size.get(l)!) }, order, plan.out);
  memory.free(product.ptr);
  return result;
}

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = {
  dense: prepareDense,
  matmul: prepareMatmul,
  einsum: prepareEinsum,
};
