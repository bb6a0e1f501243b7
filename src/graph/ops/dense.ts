/** A dense layer's strength contribution (spec metrics.md section 2), from its row and column sums. */
import type { LayerInfo } from "../../model/types.js";
import { addBias, tensor, type Sums } from "./sums.js";

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
