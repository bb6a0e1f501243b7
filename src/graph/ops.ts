/**
 * Op families by what they do to nodes (spec metrics.md 1b). Readers name ops by these
 * lowercase names (LayerInfo.attributes.op for weightless layers; the kind for weighted ones).
 */
import type { LayerInfo } from "../model/types.js";

export type OpFamily =
  /** Links: dense, conv, recurrent. */
  | "weighted"
  /** Elements map one to one (activations, norms, reshapes, a binary op with a constant). */
  | "elementwise"
  /** Two or more data operands into one value (Add, Mul, Concat, ...). */
  | "merge"
  /** Constant indices along an axis (Split, Slice, Gather of constants). */
  | "select"
  /** Mixing by data or merging nodes: pooling, resize, attention, lookups; the chain breaks. */
  | "break"
  /** Reads only a shape (Shape, Size): not a data read. */
  | "shape"
  /** Shape arithmetic that is data only when it reaches data (Range, ConstantOfShape, Expand, ...). */
  | "plumbing"
  /** Padding: placed by folding into the conv or pool that reads it. */
  | "pad"
  /** Not known to the walk: the node layers it touches are left out with a note. */
  | "unknown";

const WEIGHTED = new Set(["dense", "conv2d", "conv1d", "conv2d_transpose", "rnn", "lstm", "gru"]);

const FAMILY: Record<string, OpFamily> = {
  activation: "elementwise", dropout: "elementwise", identity: "elementwise", cast: "elementwise", flatten: "elementwise",
  reshape: "elementwise", transpose: "elementwise", squeeze: "elementwise", unsqueeze: "elementwise", norm: "elementwise",
  rescale: "elementwise", relu: "elementwise", sigmoid: "elementwise", tanh: "elementwise", softmax: "elementwise",
  expand: "elementwise", permute: "elementwise", repeat: "break",
  add: "merge", sub: "merge", subtract: "merge", mul: "merge", multiply: "merge", div: "merge", max: "merge", maximum: "merge",
  min: "merge", minimum: "merge", sum: "merge", mean: "merge", average: "merge", pow: "merge", mod: "merge", concat: "merge", where: "merge",
  split: "select", slice: "select", gather: "select",
  pool: "break", global_pool: "break", upsample: "break", matmul: "break", einsum: "break", reduce: "break", attention: "break",
  lookup: "break", gather_nd: "break", non_max_suppression: "break", depth_to_space: "break", space_to_depth: "break", topk: "break", argmax: "break", dot: "break", crop: "break",
  shape: "shape", size: "shape",
  constant_of_shape: "plumbing", range: "plumbing", compare: "plumbing", nonzero: "plumbing", tile: "plumbing",
  pad: "pad",
};

/** The op's name for the walk: the kind of weighted layers, else attributes.op (lowercase). */
export function opName(layer: LayerInfo): string {
  if (WEIGHTED.has(layer.kind)) return layer.kind;
  if (layer.kind === "norm") return "norm";
  if (layer.kind === "embedding") return "lookup";
  return String(layer.attributes?.op ?? layer.kind);
}

export function opFamily(op: string): OpFamily {
  if (WEIGHTED.has(op)) return "weighted";
  return Object.hasOwn(FAMILY, op) ? FAMILY[op] : "unknown";
}

export const RECURRENT_OPS = new Set(["rnn", "lstm", "gru"]);
export const CONV_OPS = new Set(["conv2d", "conv1d", "conv2d_transpose"]);
