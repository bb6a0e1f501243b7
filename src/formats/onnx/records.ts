/**
 * What the ONNX reader keeps of the protobuf structure it walks (read.ts): tensors located in the
 * file, nodes with their attributes, graphs and their subgraphs. The helpers that read ops off
 * these records (einsum.ts, control-flow.ts) share them.
 */
import type { CntErrorCode } from "../../errors.js";

/** A run of typed-field bytes in the file, or values already decoded (unpacked fields). */
export type Part = { offset: number; length: number } | { inline: number[] };

export interface TensorRec {
  name: string;
  /** Offset of the TensorProto message in the file (for messages). */
  at: number;
  dataType?: number;
  dims: number[];
  raw?: { offset: number; length: number };
  floatParts: Part[];
  doubleParts: Part[];
  int32: number[] | undefined;
  /** int64_data values, kept for small tensors only (shape constants). */
  int64?: number[];
  otherTyped: string | undefined;
  external: [string, string][];
  location: number;
  segment: boolean;
  /** The first problem met while walking, raised once the name is known. */
  problem?: { code: CntErrorCode; message: (name: string) => string; offset: number; actual?: unknown };
}

export type AttrValue =
  | { kind: "i"; value: number }
  | { kind: "f"; value: number }
  | { kind: "s"; value: string | undefined }
  | { kind: "ints"; value: number[] }
  /** Short strings (recurrent activations); a longer one is undefined. */
  | { kind: "strings"; value: (string | undefined)[] }
  | { kind: "floats" }
  | { kind: "t"; value: TensorRec }
  | { kind: "sparse" }
  /** A subgraph: its index in the node's `subgraphs` (a `graphs` list is marked without one). */
  | { kind: "graph"; index?: number }
  | { kind: "other" };

export interface NodeRec {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttrValue>;
  at: number;
  subgraphs: GraphRec[];
}

export interface GraphRec {
  name: string;
  nodes: NodeRec[];
  initializers: TensorRec[];
  sparse: { name: string; at: number }[];
  inputs: ValueInfoRec[];
  outputs: ValueInfoRec[];
  valueInfo: ValueInfoRec[];
}

export interface ValueInfoRec {
  name: string;
  dims: (number | undefined)[] | undefined;
  elemType?: number;
}
