/**
 * The graph model every reader's description becomes (spec metrics.md 1b): ops over named values.
 * A chain of layers is the special case where op i reads op i-1's output (src/graph/build.ts).
 *
 *   value  one tensor flowing in the graph: a graph input, an op output, a weight or a constant
 *   op     one layer of the description (LayerInfo): its kind, weights, attributes, and the
 *          values it reads (`inputs`, data first for weighted ops) and writes (`outputs`)
 */
import type { LayerInfo } from "../model/types.js";

/** A dimension: a number, or null where the file leaves it symbolic (batch, sequence, image size). */
export type Dim = number | null;

/** What a value holds: data that flows from a graph input, a stored tensor or constant, or shape arithmetic over data. */
export type ValueKind = "data" | "constant" | "shape";

export interface GraphValue {
  name: string;
  kind: ValueKind;
  /** Inferred shape (batch and sequence axes included where the graph has them); undefined when not known. */
  shape?: Dim[];
  /** Integer values known at analysis time (folded shape arithmetic, Reshape targets, indices). */
  values?: number[];
  /** Small float constants known at analysis time (Resize scales). */
  floats?: number[];
  dtype?: string;
  producer?: GraphOp;
  consumers: GraphOp[];
}

export interface GraphOp {
  /** Position in topological order. */
  index: number;
  name: string;
  layer: LayerInfo;
  /** The op's family name (src/graph/ops.ts). */
  op: string;
  inputs: string[];
  outputs: string[];
  /** Further layers that are the same op (the reverse direction of a bidirectional recurrent op). */
  directions?: LayerInfo[];
}

export interface ModelGraph {
  values: Map<string, GraphValue>;
  /** In topological order. */
  ops: GraphOp[];
  inputs: string[];
  outputs: string[];
  /** True when the description had no inputs and outputs and was read as a chain. */
  chain: boolean;
  /** Graph inputs carry a batch axis first (ONNX, TF.js); a chain's input is one sample. */
  batched: boolean;
  /** The order of the model's feature maps, where its layers do not say. */
  dataFormat?: "channels_first" | "channels_last";
  /** What building the graph could not place (ops in a cycle, values no one produces). */
  notes: string[];
}
