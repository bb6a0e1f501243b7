/**
 * Convolutions in the forward pass: conv1d, conv2d (groups, depthwise) and conv2d_transpose, in
 * either data layout (channels first [n, c, h, w], channels last [n, h, w, c]; 1-D maps have no h).
 *
 *   ordinary conv     im2col of one sample and one group, then gemm with the packed kernel
 *                     (channels first: W [c_out/g, k] . col [k, oh*ow]; channels last:
 *                     col [oh*ow, k] . W [k, c_out], the group's columns); a 1x1 conv with stride 1
 *                     and no padding reads the input as its columns
 *   depthwise         (groups = c_in, one input channel per group) a direct kernel
 *   transposed        gemm of the input with the packed kernel into columns (one per input
 *                     position and tap), then col2im adds them into the output, then the bias
 *
 * The kernel is packed once at prepare time in the layout the data's layout wants (channels first:
 * oihw, channels last: hwio), whatever the file's layout (src/model/types.ts WeightLayout). Output
 * z only: the executor applies a fused activation.
 */
import { convGeometry, type ConvGeometry } from "../../graph/ops/conv/geometry.js";
import { depthwiseAsGrouped } from "../../formats/shared/depthwise.js";
import type { GraphOp, ModelGraph } from "../../graph/types.js";
import type { LayerInfo } from "../../model/types.js";
import { elementsOf, ForwardUnsupported, type ForwardMemory, type PrepareContext, type PrepareOp, type PreparedOp, type Tensor } from "../types.js";

/** Whether the op's feature maps are channels last: its own dataFormat, else the model's. */
export function isChannelsLast(op: GraphOp, ctx: { channelsLast: boolean }): boolean {
  const f = op.layer.attributes?.dataFormat;
  return f === undefined ? ctx.channelsLast : f === "channels_last";
}

/** The op's geometry for an input of h x w (1-D: h = 1); geometry errors stop the forward pass at this op. */
export function geometryOf(op: GraphOp, layer: LayerInfo, hw: [number, number], kernel: [number, number]): ConvGeometry {
  try {
    return convGeometry(layer, hw, kernel);
  } catch (e) {
    throw new ForwardUnsupported(op, e instanceof Error ? e.message.replace(/\.$/, "") : String(e));
  }
}

/** Spatial dims and channels of a data tensor [n, c, (h,) w] or [n, (h,) w, c]. */
export function mapDims(op: GraphOp, x: Tensor, spatial: number, channelsLast: boolean): { n: number; c: number; h: number; w: number } {
  if (x.constant || x.shape.length !== spatial + 2) throw new ForwardUnsupported(op, `its input has shape [${x.shape.join(", ")}], not a batch of ${spatial}-D feature maps`);
  const s = x.shape;
  const c = channelsLast ? s[s.length - 1] : s[1];
  const sp = channelsLast ? s.slice(1, -1) : s.slice(2);
  return { n: s[0], c, h: spatial === 1 ? 1 : sp[0], w: sp[spatial - 1] };
}

/** The shape of a feature map with these dims. */
export function mapShape(n: number, c: number, h: number, w: number, spatial: number, channelsLast: boolean): number[] {
  const sp = spatial === 1 ? [w] : [h, w];
  return channelsLast ? [n, ...sp, c] : [n, c, ...sp];
}

/**
 * The output shape must be the one the graph inferred where it knows it (a chain's values have
 * no batch axis): a mismatch means the op was read differently here, so it stops.
 */
export function checkOutputShape(op: GraphOp, graph: ModelGraph, shape: number[], index = 0): void {
  const known = graph.values.get(op.outputs[index])?.shape;
  if (!known) return;
  const tail = known.length === shape.length ? known.slice(1) : known.length === shape.length - 1 ? known : undefined;
  const mine = shape.slice(1);
  if (!tail || tail.some((d, i) => d !== null && d !== mine[i])) {
    throw new ForwardUnsupported(op, `it gives [${mine.join(", ")}] per sample where the graph's shapes say [${known.map((d) => d ?? "?").join(", ")}]`);
  }
}

/**
 * Most f32 values an im2col (or col2im) buffer holds: a sample's columns are made for a block of
 * output (transposed: input) rows at a time. 2^22 values = 16 MiB. Tests lower it to exercise blocks.
 */
export const COLUMNS = { limit: 2 ** 22 };

/**
 * Where the graph knows the data input's shape (every dim of a sample), the shape-dependent
 * checks of `plan` run at prepare time, so an op that cannot run stops there with a note.
 */
export function checkAtPrepare(op: GraphOp, ctx: PrepareContext, plan: (x: Tensor) => unknown): void {
  const s = ctx.graph.values.get(op.inputs[0])?.shape;
  if (!s) return;
  const sample = ctx.graph.batched ? s.slice(1) : s;
  if (sample.length === 0 || !sample.every((d): d is number => typeof d === "number" && d >= 0)) return;
  plan({ ptr: -1, shape: [1, ...sample] });
}

interface Kernel {
  /** Packed: channels first oihw [c_out, c_in/g, kh, kw] (transposed: per group [(co, ky, kx), ci]); channels last hwio [kh, kw, c_in/g, c_out] (transposed: per group [ci, (ky, kx, co)]). */
  ptr: number;
  cIn: number;
  cOut: number;
  kh: number;
  kw: number;
  groups: number;
  bias: number;
}

/** The kernel as f32 [c_out, c_in/g, kh, kw] (forward) or [c_in, c_out/g, kh, kw] (transposed), from the file's layout. */
async function canonicalKernel(op: GraphOp, ctx: PrepareContext): Promise<{ w: Float32Array; A: number; B: number; kh: number; kw: number }> {
  const layer = op.layer;
  if (!layer.weight) throw new ForwardUnsupported(op, "its kernel is not a constant tensor of the file");
  const transposed = layer.kind === "conv2d_transpose";
  const layout = layer.weightLayout ?? (transposed ? "iohw" : "oihw");
  const allowed = transposed ? ["iohw", "hwoi"] : ["oihw", "hwio"];
  if (!allowed.includes(layout)) throw new ForwardUnsupported(op, `kernel layout ${layout} is not one of ${allowed.join(", ")}`);
  let shape = ctx.tensorShape(layer.weight);
  if (!shape) throw new ForwardUnsupported(op, `the file has no tensor ${layer.weight}`);
  // A depthwise kernel as stored [kh, kw, c_in, mult] is the grouped hwio kernel [kh, kw, 1, c_in*mult] (same bytes).
  const stored = layer.attributes?.storedShape;
  if (Array.isArray(stored) && stored.length === 4 && stored.every((d, i) => d === shape![i]) && layer.attributes?.depthMultiplier !== undefined) shape = depthwiseAsGrouped(shape);
  const rank = layer.kind === "conv1d" ? 3 : 4;
  if (shape.length !== rank) throw new ForwardUnsupported(op, `kernel ${layer.weight} has shape [${shape.join(", ")}], not rank ${rank}`);
  // 1-D kernels as 2-D ones with kh = 1.
  const s4 = rank === 3 ? (layout.startsWith("hw") ? [1, ...shape] : [shape[0], shape[1], 1, shape[2]]) : shape;
  const raw = await ctx.weight(layer.weight);
  if (raw.length !== elementsOf(s4)) throw new ForwardUnsupported(op, `kernel ${layer.weight} holds ${raw.length} values for shape [${shape.join(", ")}]`);
  if (!layout.startsWith("hw")) return { w: raw, A: s4[0], B: s4[1], kh: s4[2], kw: s4[3] };
  // [kh, kw, B, A] (hwio: B = c_in/g, A = c_out; hwoi: B = c_out, A = c_in) -> [A, B, kh, kw].
  const [kh, kw, B, A] = s4;
  const w = new Float32Array(raw.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let b = 0; b < B; b++) for (let a = 0; a < A; a++) w[((a * B + b) * kh + y) * kw + x] = raw[((y * kw + x) * B + b) * A + a];
  return { w, A, B, kh, kw };
}

async function loadBias(op: GraphOp, ctx: PrepareContext, cOut: number): Promise<number> {
  const name = op.layer.bias;
  if (!name) return 0;
  const b = await ctx.weight(name);
  if (b.length !== cOut) throw new ForwardUnsupported(op, `bias ${name} has ${b.length} values for ${cOut} output channels`);
  const ptr = ctx.memory.alloc(cOut);
  ctx.memory.f32(ptr, cOut).set(b);
  return ptr;
}

function place(memory: ForwardMemory, values: Float32Array): number {
  const ptr = memory.alloc(values.length);
  memory.f32(ptr, values.length).set(values);
  return ptr;
}

function groupsOf(op: GraphOp): number {
  const g = op.layer.attributes?.groups ?? 1;
  if (typeof g !== "number" || !Number.isSafeInteger(g) || g < 1) throw new ForwardUnsupported(op, `groups is ${JSON.stringify(g)}`);
  return g;
}

const prepareConv: PrepareOp = async (op, ctx) => {
  const spatial = op.op === "conv1d" ? 1 : 2;
  const last = isChannelsLast(op, ctx);
  const groups = groupsOf(op);
  const { w, A: cOut, B: cInG, kh, kw } = await canonicalKernel(op, ctx);
  if (cOut % groups !== 0) throw new ForwardUnsupported(op, `${cOut} output channels do not split into ${groups} groups`);
  const cIn = cInG * groups;
  const depthwise = cInG === 1 && groups > 1;
  const K = cInG * kh * kw;
  let packed = w;
  if (last) {
    // oihw -> hwio [kh, kw, c_in/g, c_out].
    packed = new Float32Array(w.length);
    for (let o = 0; o < cOut; o++) for (let i = 0; i < cInG; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) packed[((y * kw + x) * cInG + i) * cOut + o] = w[((o * cInG + i) * kh + y) * kw + x];
  }
  const memory = ctx.memory;
  const kernel: Kernel = { ptr: place(memory, packed), cIn, cOut, kh, kw, groups, bias: await loadBias(op, ctx, cOut) };
  const layer = { ...op.layer, kind: spatial === 1 ? "conv1d" : "conv2d" } as LayerInfo;
  const plan = (x: Tensor) => {
    const d = mapDims(op, x, spatial, last);
    if (d.c !== cIn) throw new ForwardUnsupported(op, `its input has ${d.c} channels; the kernel reads ${cIn}`);
    const [ay, ax] = geometryOf(op, layer, [d.h, d.w], [kh, kw]).axes;
    const outShape = mapShape(d.n, cOut, ay.out, ax.out, spatial, last);
    checkOutputShape(op, ctx.graph, outShape);
    return { d, ay, ax, oh: ay.out, ow: ax.out, outShape };
  };
  checkAtPrepare(op, ctx, plan);
  return {
    run([x]) {
      if (!x) throw new ForwardUnsupported(op, "it has no data input");
      const e = memory.exports;
      const { d, ay, ax, oh, ow, outShape } = plan(x);
      const out = memory.tensor(outShape);
      const inSample = cIn * d.h * d.w, outSample = cOut * oh * ow, N = oh * ow;
      if (depthwise) {
        const geo = [kh, kw, ay.stride, ax.stride, ay.dilation, ax.dilation, ay.padBegin, ax.padBegin, oh, ow] as const;
        const mult = cOut / cIn;
        const fn = last ? e.convDepthwiseCL : e.convDepthwiseCF;
        for (let b = 0; b < d.n; b++) fn(x.ptr + 4 * b * inSample, kernel.ptr, kernel.bias, out.ptr + 4 * b * outSample, cIn, mult, d.h, d.w, ...geo);
        return { outputs: [out] };
      }
      const cOutG = cOut / groups;
      const pointwise = kh === 1 && kw === 1 && ay.stride === 1 && ax.stride === 1 && ay.padBegin === 0 && ax.padBegin === 0 && ay.padEnd === 0 && ax.padEnd === 0;
      // Columns for a block of output rows at a time (the block's top padding shifts by its first row).
      const block = Math.max(1, Math.min(oh, Math.floor(COLUMNS.limit / (K * ow))));
      const col = pointwise ? 0 : memory.alloc(K * ow * block);
      try {
        for (let b = 0; b < d.n; b++) {
          const xb = x.ptr + 4 * b * inSample, ob = out.ptr + 4 * b * outSample;
          for (let gi = 0; gi < groups; gi++) {
            const bias = kernel.bias ? kernel.bias + 4 * gi * cOutG : 0;
            const xg = last ? xb + 4 * gi * cInG : xb + 4 * gi * cInG * d.h * d.w;
            if (pointwise) {
              if (!last) e.gemm(kernel.ptr + 4 * gi * cOutG * K, xg, ob + 4 * gi * cOutG * N, cOutG, N, K, K, N, N, bias, bias ? 2 : 0, 0);
              else e.gemm(xg, kernel.ptr + 4 * gi * cOutG, ob + 4 * gi * cOutG, N, cOutG, K, cIn, cOut, cOut, bias, bias ? 1 : 0, 0);
              continue;
            }
            for (let r0 = 0; r0 < oh; r0 += block) {
              const r = Math.min(block, oh - r0), n = r * ow;
              const part = [kh, kw, ay.stride, ax.stride, ay.dilation, ax.dilation, ay.padBegin - r0 * ay.stride, ax.padBegin, r, ow] as const;
              if (!last) {
                e.convIm2colCF(xg, col, cInG, d.h, d.w, ...part);
                e.gemm(kernel.ptr + 4 * gi * cOutG * K, col, ob + 4 * (gi * cOutG * N + r0 * ow), cOutG, n, K, K, n, N, bias, bias ? 2 : 0, 0);
              } else {
                e.convIm2colCL(xg, col, cIn, cInG, d.h, d.w, ...part);
                e.gemm(col, kernel.ptr + 4 * gi * cOutG, ob + 4 * (r0 * ow * cOut + gi * cOutG), n, cOutG, K, K, cOut, cOut, bias, bias ? 1 : 0, 0);
              }
            }
          }
        }
      } finally {
        if (col) memory.free(col);
      }
      return { outputs: [out] };
    },
    dispose() {
      memory.free(kernel.ptr);
      if (kernel.bias) memory.free(kernel.bias);
    },
  } satisfies PreparedOp;
};

const prepareConvTranspose: PrepareOp = async (op, ctx) => {
  const last = isChannelsLast(op, ctx);
  const groups = groupsOf(op);
  const { w, A: cIn, B: cOutG, kh, kw } = await canonicalKernel(op, ctx);
  if (cIn % groups !== 0) throw new ForwardUnsupported(op, `${cIn} input channels do not split into ${groups} groups`);
  const cInG = cIn / groups, cOut = cOutG * groups;
  const taps = kh * kw;
  // Per group: channels first [(co, ky, kx), ci], channels last [ci, (ky, kx, co)].
  const packed = new Float32Array(w.length);
  for (let gi = 0; gi < groups; gi++) {
    const base = gi * cInG * cOutG * taps;
    for (let i = 0; i < cInG; i++) for (let o = 0; o < cOutG; o++) for (let t = 0; t < taps; t++) {
      const v = w[((gi * cInG + i) * cOutG + o) * taps + t];
      packed[base + (last ? i * taps * cOutG + t * cOutG + o : (o * taps + t) * cInG + i)] = v;
    }
  }
  const memory = ctx.memory;
  const kernel: Kernel = { ptr: place(memory, packed), cIn, cOut, kh, kw, groups, bias: await loadBias(op, ctx, cOut) };
  const wanted = op.layer.attributes?.outputShape;
  const plan = (x: Tensor) => {
    const d = mapDims(op, x, 2, last);
    if (d.c !== cIn) throw new ForwardUnsupported(op, `its input has ${d.c} channels; the kernel reads ${cIn}`);
    const g = geometryOf(op, op.layer, [d.h, d.w], [kh, kw]);
    const [ay, ax] = Array.isArray(wanted) ? outputShapeAxes(op, g, wanted) : g.axes;
    const outShape = mapShape(d.n, cOut, ay.out, ax.out, 2, last);
    checkOutputShape(op, ctx.graph, outShape);
    return { d, ay, ax, oh: ay.out, ow: ax.out, outShape };
  };
  checkAtPrepare(op, ctx, plan);
  return {
    run([x]) {
      if (!x) throw new ForwardUnsupported(op, "it has no data input");
      const e = memory.exports;
      const { d, ay, ax, oh, ow, outShape } = plan(x);
      const out = memory.tensor(outShape);
      const HW = d.h * d.w, inSample = cIn * HW, outSample = cOut * oh * ow;
      const rows = cOutG * taps;
      // Columns for a block of input rows at a time.
      const block = Math.max(1, Math.min(d.h, Math.floor(COLUMNS.limit / (rows * d.w))));
      const col = memory.alloc(rows * d.w * block);
      memory.f32(out.ptr, d.n * outSample).fill(0);
      try {
        for (let b = 0; b < d.n; b++) {
          const xb = x.ptr + 4 * b * inSample, ob = out.ptr + 4 * b * outSample;
          for (let gi = 0; gi < groups; gi++) {
            const wg = kernel.ptr + 4 * gi * cInG * rows;
            for (let r0 = 0; r0 < d.h; r0 += block) {
              const r = Math.min(block, d.h - r0), n = r * d.w;
              const part = [r, d.w, kh, kw, ay.stride, ax.stride, ay.dilation, ax.dilation, ay.padBegin - r0 * ay.stride, ax.padBegin, oh, ow] as const;
              if (!last) {
                e.gemm(wg, xb + 4 * (gi * cInG * HW + r0 * d.w), col, rows, n, cInG, cInG, HW, n, 0, 0, 0);
                e.convCol2imCF(col, ob + 4 * gi * cOutG * oh * ow, cOutG, ...part);
              } else {
                e.gemm(xb + 4 * (r0 * d.w * cIn + gi * cInG), wg, col, n, rows, cInG, cIn, rows, rows, 0, 0, 0);
                e.convCol2imCL(col, ob + 4 * gi * cOutG, cOut, cOutG, ...part);
              }
            }
          }
          if (kernel.bias) e.convAddBias(ob, kernel.bias, cOut, oh * ow, last ? 1 : 0);
        }
      } finally {
        memory.free(col);
      }
      return { outputs: [out] };
    },
    dispose() {
      memory.free(kernel.ptr);
      if (kernel.bias) memory.free(kernel.bias);
    },
  } satisfies PreparedOp;
};

/**
 * A transposed conv given its output size (ONNX output_shape, TF Conv2DBackpropInput's
 * input_sizes): the pads follow from it. total = (in - 1) s + span - out (+ output_padding in
 * ONNX); ONNX puts the larger half at the start unless SAME_UPPER; TF ("same" as same_upper, or
 * "valid" with no begin padding) takes max(total, 0) and the smaller half at the start.
 */
function outputShapeAxes(op: GraphOp, g: ConvGeometry, wanted: unknown[]): ConvGeometry["axes"] {
  if (wanted.length !== 2 || !wanted.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 1)) throw new ForwardUnsupported(op, `its output shape is ${JSON.stringify(wanted)}`);
  const a = op.layer.attributes ?? {};
  const tf = a.dataFormat !== undefined;
  const autoPad = String(a.autoPad ?? "notset");
  const outputPadding = Array.isArray(a.outputPadding) ? (a.outputPadding as number[]) : [0, 0];
  return g.axes.map((axis, i) => {
    const out = wanted[i] as number;
    const span = axis.dilation * (axis.kernel - 1) + 1;
    let padBegin: number;
    if (tf) {
      const total = Math.max((axis.size - 1) * axis.stride + span - out, 0);
      padBegin = autoPad === "valid" ? 0 : autoPad === "notset" ? axis.padBegin : Math.floor(total / 2);
    } else {
      const total = (axis.size - 1) * axis.stride + (outputPadding[i] ?? 0) + span - out;
      padBegin = autoPad === "same_upper" ? Math.floor(total / 2) : total - Math.floor(total / 2);
    }
    return { ...axis, padBegin, padEnd: (axis.size - 1) * axis.stride + span - out - padBegin, out };
  }) as ConvGeometry["axes"];
}

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { conv1d: prepareConv, conv2d: prepareConv, conv2d_transpose: prepareConvTranspose };
