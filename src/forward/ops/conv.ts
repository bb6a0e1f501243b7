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
  let checked = false;
  return {
    run([x]) {
      if (!x) throw new ForwardUnsupported(op, "it has no data input");
      const e = memory.exports;
      const d = mapDims(op, x, spatial, last);
      if (d.c !== cIn) throw new ForwardUnsupported(op, `its input has ${d.c} channels; the kernel reads ${cIn}`);
      const g = geometryOf(op, layer, [d.h, d.w], [kh, kw]);
      const [ay, ax] = g.axes;
      const oh = ay.out, ow = ax.out;
      const outShape = mapShape(d.n, cOut, oh, ow, spatial, last);
      if (!checked) checkOutputShape(op, ctx.graph, outShape);
      checked = true;
      const out = memory.tensor(outShape);
      const inSample = cIn * d.h * d.w, outSample = cOut * oh * ow, N = oh * ow;
      const geo = [kh, kw, ay.stride, ax.stride, ay.dilation, ax.dilation, ay.padBegin, ax.padBegin, oh, ow] as const;
      if (depthwise) {
        const mult = cOut / cIn;
        const fn = last ? e.convDepthwiseCL : e.convDepthwiseCF;
        for (let b = 0; b < d.n; b++) fn(x.ptr + 4 * b * inSample, kernel.ptr, kernel.bias, out.ptr + 4 * b * outSample, cIn, mult, d.h, d.w, ...geo);
        return { outputs: [out] };
      }
      const cOutG = cOut / groups;
      const pointwise = kh === 1 && kw === 1 && ay.stride === 1 && ax.stride === 1 && ay.padBegin === 0 && ax.padBegin === 0 && ay.padEnd === 0 && ax.padEnd === 0;
      const col = pointwise ? 0 : memory.alloc(K * N);
      try {
        for (let b = 0; b < d.n; b++) {
          const xb = x.ptr + 4 * b * inSample, ob = out.ptr + 4 * b * outSample;
          for (let gi = 0; gi < groups; gi++) {
            const bias = kernel.bias ? kernel.bias + 4 * gi * cOutG : 0;
            if (!last) {
              const xg = xb + 4 * gi * cInG * d.h * d.w;
              if (!pointwise) e.convIm2colCF(xg, col, cInG, d.h, d.w, ...geo);
              e.gemm(kernel.ptr + 4 * gi * cOutG * K, pointwise ? xg : col, ob + 4 * gi * cOutG * N, cOutG, N, K, K, N, N, bias, bias ? 2 : 0, 0);
            } else {
              const xg = xb + 4 * gi * cInG;
              if (!pointwise) e.convIm2colCL(xg, col, cIn, cInG, d.h, d.w, ...geo);
              e.gemm(pointwise ? xg : col, kernel.ptr + 4 * gi * cOutG, ob + 4 * gi * cOutG, N, cOutG, K, pointwise ? cIn : K, cOut, cOut, bias, bias ? 1 : 0, 0);
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
  let checked = false;
  return {
    run([x]) {
      if (!x) throw new ForwardUnsupported(op, "it has no data input");
      const e = memory.exports;
      const d = mapDims(op, x, 2, last);
      if (d.c !== cIn) throw new ForwardUnsupported(op, `its input has ${d.c} channels; the kernel reads ${cIn}`);
      const g = geometryOf(op, op.layer, [d.h, d.w], [kh, kw]);
      const [ay, ax] = g.axes;
      const oh = ay.out, ow = ax.out;
      if (Array.isArray(wanted) && (wanted.length !== 2 || wanted[0] !== oh || wanted[1] !== ow)) {
        throw new ForwardUnsupported(op, `its output_shape [${wanted.join(", ")}] is not the ${oh}x${ow} its pads give; pads from an output shape are not derived here`);
      }
      const outShape = mapShape(d.n, cOut, oh, ow, 2, last);
      if (!checked) checkOutputShape(op, ctx.graph, outShape);
      checked = true;
      const out = memory.tensor(outShape);
      const HW = d.h * d.w, inSample = cIn * HW, outSample = cOut * oh * ow;
      const rows = cOutG * taps;
      const col = memory.alloc(rows * HW);
      memory.f32(out.ptr, d.n * outSample).fill(0);
      const geo = [d.h, d.w, kh, kw, ay.stride, ax.stride, ay.dilation, ax.dilation, ay.padBegin, ax.padBegin, oh, ow] as const;
      try {
        for (let b = 0; b < d.n; b++) {
          const xb = x.ptr + 4 * b * inSample, ob = out.ptr + 4 * b * outSample;
          for (let gi = 0; gi < groups; gi++) {
            const wg = kernel.ptr + 4 * gi * cInG * rows;
            if (!last) {
              e.gemm(wg, xb + 4 * gi * cInG * HW, col, rows, HW, cInG, cInG, HW, HW, 0, 0, 0);
              e.convCol2imCF(col, ob + 4 * gi * cOutG * oh * ow, cOutG, ...geo);
            } else {
              e.gemm(xb + 4 * gi * cInG, wg, col, HW, rows, cInG, cIn, rows, rows, 0, 0, 0);
              e.convCol2imCL(col, ob + 4 * gi * cOutG, cOut, cOutG, ...geo);
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

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { conv1d: prepareConv, conv2d: prepareConv, conv2d_transpose: prepareConvTranspose };
