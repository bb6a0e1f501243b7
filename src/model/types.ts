/**
 * The model description every reader produces: what the file holds (tensors, in file order) and
 * how the network is wired (layers, in graph order). Plain serialisable data; no tensor bytes.
 */

/** Element types the kernels read. Everything is widened (or narrowed, for f64) to f32 on the way in. */
export type DType = "f32" | "f16" | "bf16" | "f64";

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { f32: 4, f16: 2, bf16: 2, f64: 8 };

/** Distribution facts known before reading the data (the .cnt header stores them). */
export interface KnownTensorStats {
  /** Smallest and largest finite value after widening to f32 (null when there is none). */
  min: number | null;
  max: number | null;
}

export interface TensorInfo {
  name: string;
  dtype: DType;
  /** Shape as stored in the file. */
  shape: number[];
  /** Absolute byte offset of the first element in the source. */
  offset: number;
  byteLength: number;
  stats?: KnownTensorStats;
}

/**
 * Layer kinds. `dense` is a fully connected layer; `none` keeps weightless layers in the list;
 * `other` is any tensor we cannot place in a graph (reported as a distribution only).
 */
export type LayerKind =
  | "dense"
  | "conv2d"
  | "conv1d"
  | "conv2d_transpose"
  | "rnn"
  | "lstm"
  | "gru"
  | "embedding"
  | "norm"
  | "none"
  | "other";

/**
 * How a dense weight tensor is stored relative to the spec's [n_in, n_out]:
 * "in_out" (math, Keras, .npy of W) or "out_in" (PyTorch nn.Linear, ONNX Gemm transB=1).
 */
export type WeightLayout = "in_out" | "out_in";

/** Activation functions by their spec name (used by the data-dependent metrics). */
export type Activation =
  | "linear" | "relu" | "tanh" | "sigmoid" | "softmax" | "gelu" | "elu" | "leaky_relu" | "softplus" | "unknown";

export interface LayerInfo {
  name: string;
  kind: LayerKind;
  /** Name of the weight tensor (matrix or kernel), if any. */
  weight?: string;
  weightLayout?: WeightLayout;
  /** Name of the bias tensor, if any. */
  bias?: string;
  activation?: Activation;
  /** Hyper-parameters by name (stride, padding, dilation, groups, units, ...). */
  attributes?: Record<string, number | number[] | string>;
}

export interface ModelInfo {
  /** Format id as in the report: "cnt", "safetensors", ... */
  format: string;
  /** File name (or "<memory>", "<stream>"). */
  name: string;
  /** Size in bytes, when known before reading. */
  bytes: number | undefined;
  /** Every tensor, sorted by offset. */
  tensors: TensorInfo[];
  /** Layers in graph order. */
  layers: LayerInfo[];
  /** Shape of one input sample, when the format says it (conv needs it). */
  inputShape?: number[];
  /** Tensors the file holds in dtypes the metrics do not read (integer counters, bool masks). */
  skipped?: SkippedTensor[];
  /** Free-form text metadata of the file (safetensors __metadata__, .cnt metadata). */
  metadata?: Record<string, string>;
}

export interface SkippedTensor {
  name: string;
  dtype: string;
  shape: number[];
  reason: string;
}
