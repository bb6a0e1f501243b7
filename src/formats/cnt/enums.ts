/**
 * Wire codes of the `.cnt` enums: the index in each list is the value in schemas/model.fbs. The
 * verifier and the writer use these plain lists instead of the generated enums, so only read.ts and
 * write.ts touch generated code; test/formats/cnt/schema.test.ts pins them to the generated enums.
 */
import type { Activation, DType, LayerKind, WeightLayout } from "../../model/types.js";

export const DTYPE_CODES: readonly DType[] = ["f32", "f16", "bf16", "f64"];

export const LAYER_KIND_CODES: readonly LayerKind[] = [
  "dense", "conv2d", "conv1d", "conv2d_transpose", "rnn", "lstm", "gru", "embedding", "norm", "none", "other",
];

export const WEIGHT_LAYOUT_CODES: readonly WeightLayout[] = ["in_out", "out_in", "oihw", "hwio", "iohw", "hwoi"];

export const ACTIVATION_CODES: readonly Activation[] = [
  "linear", "relu", "tanh", "sigmoid", "softmax", "gelu", "elu", "leaky_relu", "softplus", "unknown",
];

/** Wire code of `value` in `codes`, or -1 when it has none. */
export function codeOf<T>(codes: readonly T[], value: T): number {
  return codes.indexOf(value);
}
