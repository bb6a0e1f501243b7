import type { Kernels } from "../../../kernels/kernels.js";
import { ALIGN, align } from "../../../kernels/layout.js";
import { convGeometry, coveringTaps, placementTaps, type ConvGeometry } from "./geometry.js";
import type { ConvKernel } from "./layer.js";

/** A conv layer's strength maps, channel-major (c, y, x). */
export interface ConvStrengthMaps {
  geometry: ConvGeometry;
  /** Out-strength of every input node: c_in x H x W. */
  outOfInputs: Float64Array;
  /** In-strength of every output node without bias: c_out x H' x W'. */
  intoOutputs: Float64Array;
}

/**
 * The spec's efficient form (metrics.md section 2, "Conv"): with per-tap channel sums S (leaving
 * each input channel) and T (entering each output channel), s_out[ic] = A_h S_ic A_w^T and
 * s_in[oc] = B_h T_oc B_w^T, where A and B are the 0/1 "tap lands inside" matrices. A transposed
 * conv swaps the roles: its placements run over the input map.
 */
export function convStrengthMaps(kernels: Kernels, layer: Parameters<typeof convGeometry>[0], kernel: ConvKernel, inputHW: [number, number], sums: { sumOverA: Float64Array; sumOverB: Float64Array }): ConvStrengthMaps {
  const geometry = convGeometry(layer, inputHW, [kernel.kh, kernel.kw]);
  const [h, w] = geometry.axes;
  const into = kernel.intoOutputs === "A" ? sums.sumOverA : sums.sumOverB;
  const out = kernel.outOfInputs === "A" ? sums.sumOverA : sums.sumOverB;
  let inputRows: Float64Array, inputCols: Float64Array, outputRows: Float64Array, outputCols: Float64Array;
  if (!geometry.transposed) {
    inputRows = coveringTaps(h.size, h.kernel, h.stride, h.dilation, h.padBegin, h.out);
    inputCols = coveringTaps(w.size, w.kernel, w.stride, w.dilation, w.padBegin, w.out);
    outputRows = placementTaps(h.size, h.kernel, h.stride, h.dilation, h.padBegin, h.out);
    outputCols = placementTaps(w.size, w.kernel, w.stride, w.dilation, w.padBegin, w.out);
  } else {
    inputRows = placementTaps(h.out, h.kernel, h.stride, h.dilation, h.padBegin, h.size);
    inputCols = placementTaps(w.out, w.kernel, w.stride, w.dilation, w.padBegin, w.size);
    outputRows = coveringTaps(h.out, h.kernel, h.stride, h.dilation, h.padBegin, h.size);
    outputCols = coveringTaps(w.out, w.kernel, w.stride, w.dilation, w.padBegin, w.size);
  }
  return {
    geometry,
    outOfInputs: separable(kernels, out, kernel.cIn, kernel.kh, kernel.kw, inputRows, h.size, inputCols, w.size),
    intoOutputs: separable(kernels, into, kernel.cOut, kernel.kh, kernel.kw, outputRows, h.out, outputCols, w.out),
  };
}

/** Run assembly/conv.ts separableMaps for every channel; its inputs and output are laid out from the arena base (src/kernels/layout.ts). */
function separable(kernels: Kernels, taps: Float64Array, channels: number, kh: number, kw: number, rows: Float64Array, H: number, cols: Float64Array, W: number): Float64Array {
  const colsT = new Float64Array(kw * W);
  for (let j = 0; j < W; j++) for (let m = 0; m < kw; m++) colsT[m * W + j] = cols[j * kw + m];
  const tapsPtr = kernels.base;
  const rowsPtr = align(tapsPtr + taps.byteLength, ALIGN);
  const colsPtr = align(rowsPtr + rows.byteLength, ALIGN);
  const scratchPtr = align(colsPtr + colsT.byteLength, ALIGN);
  const outPtr = align(scratchPtr + kh * W * 8, ALIGN);
  kernels.reserve(outPtr + channels * H * W * 8);
  kernels.f64(tapsPtr, taps.length).set(taps);
  kernels.f64(rowsPtr, rows.length).set(rows);
  kernels.f64(colsPtr, colsT.length).set(colsT);
  kernels.exports.separableMaps(tapsPtr, channels, kh, kw, rowsPtr, H, colsPtr, W, scratchPtr, outPtr);
  return kernels.f64(outPtr, channels * H * W).slice();
}
