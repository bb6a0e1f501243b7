/** A recurrent layer's strength contribution (spec metrics.md section 2), from its matrices with the gates summed. */
import { CntError, quoteName } from "../../errors.js";
import type { LayerInfo } from "../../model/types.js";
import { tensor, type Sums } from "./sums.js";

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
