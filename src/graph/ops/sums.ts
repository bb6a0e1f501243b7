/**
 * What each weighted op adds to the strengths of the nodes it reads and writes (spec metrics.md
 * section 2) comes from the sums the measuring pass made: a dense layer's row and column sums
 * (dense.ts), a conv kernel's per-tap channel sums (conv.ts), a recurrent cell's matrices with
 * their gates summed (recurrent.ts). This file holds what they share.
 */
import { CntError, quoteName } from "../../errors.js";
import type { LayerInfo, TensorInfo } from "../../model/types.js";

/**
 * The sums of one tensor that the ops read, as the measuring pass gives them (measure/measure.ts
 * TensorSummary has these fields): declared here so that the graph does not import measurement.
 */
export interface TensorSums {
  /** Row and column sums of a tensor read as a matrix (dense weights, bias vectors as [1, n]). */
  rowSums?: Float64Array;
  colSums?: Float64Array;
  /** Conv kernels: per-tap channel sums (kernels/conv-tap-sums.ts). */
  sumOverA?: Float64Array;
  sumOverB?: Float64Array;
}

export interface Sums {
  tensors: Map<string, TensorInfo>;
  summaries: ReadonlyMap<string, TensorSums>;
  bias: "in" | "ignore";
}

/** Add b[channel] to every node of the channel under bias "in". */
export function addBias(sIn: Float64Array, layer: LayerInfo, sums: Sums, perChannel: number): void {
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
