/**
 * What each weighted op adds to the strengths of the nodes it reads and writes (spec metrics.md
 * section 2), from the sums the measuring pass made: a dense layer's row and column sums, a
 * conv kernel's per-tap channel sums, a recurrent cell's matrices with their gates summed.
 */
import { CntError, quoteName } from "../errors.js";
import { convKernel } from "../graph/conv-layer.js";
import { convStrengthMaps, type ConvStrengthMaps } from "../graph/conv-strengths.js";
import type { TensorSummary } from "../metrics/measure.js";
import type { LayerInfo, TensorInfo } from "../model/types.js";
import type { Kernels } from "../wasm/kernels.js";

export interface Sums {
  tensors: Map<string, TensorInfo>;
  summaries: Map<string, TensorSummary>;
  bias: "in" | "ignore";
}

/** Dense: what leaves each input feature and what enters each output feature (bias included under bias "in"). */
export function denseSums(layer: LayerInfo, sums: Sums): { nIn: number; nOut: number; outOfInputs: Float64Array; intoOutputs: Float64Array } {
  const w = tensor(sums, layer.weight, layer);
  const s = sums.summaries.get(w.name)!;
  const outIn = layer.weightLayout !== "in_out";
  const nIn = outIn ? w.shape[1] : w.shape[0];
  const nOut = outIn ? w.shape[0] : w.shape[1];
  const intoOutputs = Float64Array.from(outIn ? s.rowSums! : s.colSums!);
  addBias(intoOutputs, layer, sums, 1);
  return { nIn, nOut, outOfInputs: Float64Array.from(outIn ? s.colSums! : s.rowSums!), intoOutputs };
}

/** Conv: strength maps over the input and output maps, channel-major (c, y, x), bias included under bias "in". */
export function convSums(kernels: Kernels, layer: LayerInfo, inputHW: [number, number], sums: Sums): ConvStrengthMaps & { cIn: number; cOut: number } {
  const w = tensor(sums, layer.weight, layer);
  const kernel = convKernel(layer, w);
  const s = sums.summaries.get(w.name)!;
  const maps = convStrengthMaps(kernels, layer, kernel, inputHW, { sumOverA: s.sumOverA!, sumOverB: s.sumOverB! });
  const [h, wAxis] = maps.geometry.axes;
  addBias(maps.intoOutputs, layer, sums, h.out * wAxis.out);
  return { ...maps, cIn: kernel.cIn, cOut: kernel.cOut };
}

/** A conv kernel's input and output channel counts (from its shape and layout). */
export function convChannels(layer: LayerInfo, sums: Sums): { cIn: number; cOut: number } {
  const k = convKernel(layer, tensor(sums, layer.weight, layer));
  return { cIn: k.cIn, cOut: k.cOut };
}

/**
 * One direction of a recurrent layer in the steady step of its unrolled graph (spec section 1,
 * "Recurrent"; the project's own extension): the gates' matrices are summed into one link per
 * (i, j) pair. Input matrix W_x [G*H, n] ("out_in", PyTorch/ONNX) or [n, G*H] ("in_out", Keras).
 *   out of input i:   sum of W_x's links leaving x_i
 *   into hidden j:    W_x links + W_h links entering h_j, plus every bias block of unit j
 *   out of hidden k:  W_h links leaving h_k (to the next step; the next layer adds its own)
 */
export function recurrentSums(layer: LayerInfo, sums: Sums): { outOfInputs: Float64Array; intoHidden: Float64Array; outOfHidden: Float64Array } {
  const wx = tensor(sums, layer.weight, layer);
  const wh = tensor(sums, layer.recurrentWeight, layer);
  const outIn = layer.weightLayout !== "in_out";
  const hidden = outIn ? wh.shape[1] : wh.shape[0];
  const x = sums.summaries.get(wx.name)!, h = sums.summaries.get(wh.name)!;
  const intoHidden = fold(outIn ? x.rowSums! : x.colSums!, hidden, layer);
  const fromHidden = fold(outIn ? h.rowSums! : h.colSums!, hidden, layer);
  for (let j = 0; j < hidden; j++) intoHidden[j] += fromHidden[j];
  if (sums.bias === "in") {
    for (const b of [layer.bias, layer.recurrentBias]) {
      if (!b) continue;
      const folded = fold(sums.summaries.get(b)!.colSums!, hidden, layer);
      for (let j = 0; j < hidden; j++) intoHidden[j] += folded[j];
    }
  }
  return {
    outOfInputs: Float64Array.from(outIn ? x.colSums! : x.rowSums!),
    intoHidden,
    outOfHidden: Float64Array.from(outIn ? h.colSums! : h.rowSums!),
  };
}

/** Sum gate blocks: values[g * hidden + j] over g (biases with extra blocks, like Keras GRU's, fold the same way). */
function fold(values: Float64Array, hidden: number, layer: LayerInfo): Float64Array {
  if (hidden === 0 || values.length % hidden !== 0) {
    throw new CntError("BAD_SHAPE", `Recurrent layer ${quoteName(layer.name)}: ${values.length} values do not split into gate blocks of ${hidden} units.`);
  }
  const out = new Float64Array(hidden);
  for (let i = 0; i < values.length; i++) out[i % hidden] += values[i];
  return out;
}

/** Add b[channel] to every node of the channel under bias "in". */
function addBias(sIn: Float64Array, layer: LayerInfo, sums: Sums, perChannel: number): void {
  if (sums.bias !== "in" || !layer.bias) return;
  const b = sums.summaries.get(layer.bias)!.colSums!;
  if (b.length * perChannel !== sIn.length) {
    throw new CntError("BAD_SHAPE", `Layer ${quoteName(layer.name)}: bias ${quoteName(layer.bias)} has ${b.length} values for ${sIn.length / perChannel} channels.`, { tensor: layer.bias });
  }
  for (let c = 0; c < b.length; c++) for (let i = c * perChannel; i < (c + 1) * perChannel; i++) sIn[i] += b[c];
}

export function tensor(sums: Sums, name: string | undefined, layer: LayerInfo): TensorInfo {
  const t = name === undefined ? undefined : sums.tensors.get(name);
  if (!t) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)} refers to tensor ${quoteName(name ?? "")}, which the file does not hold.`, { tensor: name });
  return t;
}
