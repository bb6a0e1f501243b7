/** A conv layer's strength contribution (spec metrics.md section 2), from its kernel's per-tap channel sums. */
import type { LayerInfo } from "../../model/types.js";
import type { Kernels } from "../../kernels/kernels.js";
import { convKernel } from "./conv/layer.js";
import { convStrengthMaps, type ConvStrengthMaps } from "./conv/strengths.js";
import { addBias, tensor, type Sums } from "./sums.js";

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
