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
  /**
   * Relative path of the sibling file that holds the bytes (ONNX external data, TF.js shards),
   * opened with ByteSource.sibling; absent: the model's own source.
   */
  file?: string;
  /**
   * Bytes a reader decoded from the model's structure (ONNX typed fields), bounded by
   * limits.maxHeaderBytes; `offset` is then relative to them. Not enumerable (src/source/tensor-sources.ts
   * attachData), so descriptions stay printable as JSON.
   */
  data?: Uint8Array;
  /**
   * How stored bytes that are not the dtype's plain little-endian values decode to them (TF.js
   * shards split across files, base64 text shards, quantized weights; deflated .npz entries;
   * big-endian .npy). Read by src/source/tensor-bytes.ts; `byteLength` is the decoded size.
   */
  decode?: TensorDecode;
}

/** A coded region of a file: [start, start + length) of the file decodes to a byte stream. */
export type StoredContainer =
  /** Raw deflate (zip method 8); `size` is the declared inflated size, never exceeded; `crc32` the zip's checksum of the inflated bytes, checked when a read reaches the end. */
  | { kind: "deflate-raw"; start: number; length: number; size: number; crc32?: number }
  /** Base64 text (standard alphabet, '=' padding only at the end). */
  | { kind: "base64"; start: number; length: number };

/** One piece of a tensor's stored bytes. */
export interface StoredPart {
  /** Sibling file, relative to the main source (as ByteSource.sibling takes it); absent: the main source. */
  file?: string;
  /** Start in the file, or in the container's decoded bytes. */
  offset: number;
  /** Stored bytes of this piece. */
  length: number;
  container?: StoredContainer;
}

/** How stored elements become `dtype` values. */
export type ValueCoding =
  /** TF.js weight quantization: w = q * scale + min in f64, rounded to f32 (dtype must be f32). */
  | { kind: "dequantize"; from: "uint8" | "uint16"; scale: number; min: number }
  /** Stored big-endian (NumPy '>f4'); each element's bytes are reversed. */
  | { kind: "byteswap" }
  /**
   * llama.cpp (GGUF) block quantization, dequantized to f32 (dtype must be f32) block by block in
   * the wasm kernels (assembly/dequant.ts). Stored length = elements / block elements x block bytes
   * (GGUF_BLOCKS); the tensor's innermost dim is a whole number of blocks.
   */
  | { kind: "gguf"; type: GgufQuant };

/** GGUF block quantizations the kernels dequantize. */
export type GgufQuant = "Q4_0" | "Q4_1" | "Q5_0" | "Q5_1" | "Q8_0" | "Q2_K" | "Q3_K" | "Q4_K" | "Q5_K" | "Q6_K";

/** Elements and bytes of one block of each GGUF quantization (ggml-common.h block_q4_0 ... block_q6_K). */
export const GGUF_BLOCKS: Readonly<Record<GgufQuant, { elements: number; bytes: number }>> = Object.freeze({
  Q4_0: { elements: 32, bytes: 18 },
  Q4_1: { elements: 32, bytes: 20 },
  Q5_0: { elements: 32, bytes: 22 },
  Q5_1: { elements: 32, bytes: 24 },
  Q8_0: { elements: 32, bytes: 34 },
  Q2_K: { elements: 256, bytes: 84 },
  Q3_K: { elements: 256, bytes: 110 },
  Q4_K: { elements: 256, bytes: 144 },
  Q5_K: { elements: 256, bytes: 176 },
  Q6_K: { elements: 256, bytes: 210 },
});

/** Where a tensor's stored bytes are and how they decode. Plain, serialisable data. */
export interface TensorDecode {
  /** The stored bytes, in order (a tensor split over TF.js shards, or inside a container). */
  parts?: StoredPart[];
  values?: ValueCoding;
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
 * How a weight tensor is stored relative to the spec's orientation (dense W [n_in, n_out];
 * conv K [kh, kw, c_in/groups, c_out]); importers map by index, never by copying:
 *   "in_out"  dense [n_in, n_out]: math, Keras Dense, TF.js, recurrent Keras kernels
 *   "out_in"  dense [n_out, n_in]: PyTorch nn.Linear, ONNX Gemm transB=1, PyTorch/ONNX RNN weights
 *   "oihw"    conv [c_out, c_in/g, kh, kw] (conv1d: [c_out, c_in/g, kw]): PyTorch, ONNX Conv
 *   "hwio"    conv [kh, kw, c_in/g, c_out] (conv1d: [kw, c_in/g, c_out]): Keras, TF.js
 *   "iohw"    transposed conv [c_in, c_out/g, kh, kw]: PyTorch ConvTranspose, ONNX ConvTranspose
 *   "hwoi"    transposed conv [kh, kw, c_out, c_in]: Keras Conv2DTranspose
 */
export type WeightLayout = "in_out" | "out_in" | "oihw" | "hwio" | "iohw" | "hwoi";

/** Activation functions by their spec name (used by the data-dependent metrics). */
export type Activation =
  | "linear" | "relu" | "tanh" | "sigmoid" | "softmax" | "gelu" | "elu" | "leaky_relu" | "softplus" | "unknown";

export interface LayerInfo {
  name: string;
  kind: LayerKind;
  /** Name of the weight tensor (matrix or kernel; for recurrent layers the input matrix), if any. */
  weight?: string;
  weightLayout?: WeightLayout;
  /** Name of the bias tensor, if any (recurrent: the input-side bias). */
  bias?: string;
  /** Recurrent layers: the hidden-to-hidden matrix (same layout as `weight`) and its bias. */
  recurrentWeight?: string;
  recurrentBias?: string;
  activation?: Activation;
  /**
   * Hyper-parameters by name. Conventions every reader follows:
   *   conv*:  stride number[], dilation number[], pads number[] (ONNX order: begins then ends,
   *           [top, left, bottom, right] for 2-D, [left, right] for 1-D), autoPad "notset" |
   *           "valid" | "same_upper" | "same_lower" (Keras "same" = "same_upper"), groups number,
   *           outputPadding number[] (transposed only)
   *   rnn/lstm/gru: hidden number, gateOrder string (one letter per gate block in the stacked
   *           matrices: PyTorch/ONNX-after-import LSTM "ifgo", Keras LSTM "ifco", PyTorch GRU "rzn",
   *           Keras GRU "zrh", ONNX LSTM "iofc", ONNX GRU "zrh"), direction "forward" | "reverse" |
   *           "bidirectional" (bidirectional tensors stack [forward, reverse] on the first axis)
   *   none:   op "flatten" | "reshape" | "activation" | "dropout" | "identity" | "pool" |
   *           "global_pool" | "upsample" | "pad" | "add" | "concat" | other text; pool: kernel,
   *           stride, pads as for conv
   */
  attributes?: Record<string, number | number[] | string>;
  /**
   * The values this op reads and writes (src/graph/types.ts): data inputs, weights and constants
   * by name, as the graph gives them. Absent on every layer of a chain: the graph walk then
   * links each layer to the one before it (src/graph/build.ts).
   */
  inputs?: string[];
  outputs?: string[];
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
  /** Shape of one input sample, without the batch axis, in the format's own order (conv needs it). */
  inputShape?: number[];
  /**
   * Order of feature maps: "channels_first" (c, y, x: PyTorch, ONNX) or "channels_last"
   * (y, x, c: Keras, TF.js). It fixes the flatten order between conv and dense layers.
   */
  dataFormat?: "channels_first" | "channels_last";
  /** Tensors the file holds in dtypes the metrics do not read (integer counters, bool masks). */
  skipped?: SkippedTensor[];
  /** Free-form text metadata of the file (safetensors __metadata__, .cnt metadata). */
  metadata?: Record<string, string>;
  /** The graph's inputs, outputs and shape constants, when the layers carry inputs and outputs. */
  graph?: GraphInfo;
  /** What the reader assumed in making the graph (a block template, an order by shape), for the report's notes. */
  notes?: string[];
}

/** What a graph file says beyond its ops: where data enters and leaves, and the small constants its shapes are computed from. */
export interface GraphInfo {
  /** Graph inputs that are data (not weights), with their shapes: a number per static dim, null per symbolic one. */
  inputs: { name: string; shape?: (number | null)[]; dtype?: string }[];
  outputs: string[];
  /** Integer constants (ONNX INT64 initializers and Constant nodes: Reshape targets, axes, indices), at most 65,536 values each. */
  constants?: Record<string, { shape: number[]; values: number[]; float?: boolean }>;
  /** Shapes the file declares for values inside the graph (ONNX value_info), by name. */
  shapes?: Record<string, (number | null)[]>;
}

export interface SkippedTensor {
  name: string;
  dtype: string;
  shape: number[];
  reason: string;
}
