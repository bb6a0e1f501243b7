import { CntError } from "./errors.js";
import { validEdges } from "./measure/histogram.js";
import { resolveLimits, type Limits } from "./model/limits.js";
import type { Layout } from "./graph/layout.js";
import type { DataInputs } from "./forward/inputs/arrays.js";
import type { LabelSource } from "./forward/inputs/types.js";

/** Options of analyze(); every field is optional. */
export interface AnalyzeOptions {
  /** Bias as a link from a unit node into its neuron ("in", default) or left out ("ignore"). */
  bias?: "in" | "ignore";
  /** s_in of input nodes and s_out of output nodes: 1 ("unit", default, the reference code's) or 0. */
  boundary?: "unit" | "zero";
  /** A skip connection (a merge operand that other ops read too) links into the merge by unit links ("unit", default) or not at all ("none"). */
  skip?: "unit" | "none";
  /** Histogram bins over [min, max] (default 64). */
  bins?: number;
  /** Recurrent gates: one link per (i, j) with the gates' weights summed ("sum", default), or every gate also reported as its own layer ("separate"). Strengths are the same either way. */
  gates?: "sum" | "separate";
  /** Fixed histogram edges for every link-weight distribution, so networks compare bin for bin. */
  linkEdges?: number[];
  /** Fixed histogram edges for every strength distribution. */
  strengthEdges?: number[];
  /**
   * Fixed histogram edges per tensor, by tensor name (over linkEdges for that tensor), so each
   * layer can get its own edges shared across networks (compareFiles sets it from a first pass).
   */
  tensorEdges?: Record<string, number[]>;
  /** Shape of one input sample without the batch axis, in the model's own order ((c, h, w) for PyTorch/ONNX, (h, w, c) for Keras); needed when the file does not say and the first layer is a conv. */
  inputShape?: number[];
  /** Facts a graph-less file cannot give (conv strides and padding, pooling, input shape), merged over what was read (src/graph/layout.ts). */
  layout?: Layout;
  /** Add every node's s, s_in and s_out to the node layers (as Float64Array). */
  perNode?: boolean;
  /**
   * Keep every distribution's fine histogram (`Distribution.fine`: one bucket per top 16 bits of
   * an f32, non-empty buckets only), so the reports of many files merge exactly and rebin to
   * edges shared after the fact (populations, partials from several machines).
   */
  fine?: boolean;
  /** Bytes of a tensor handed to the kernels at a time (default 4 MiB). Memory use is about this plus the strength vectors. */
  blockBytes?: number;
  /**
   * Bytes of a tensor kept in memory between its statistics pass and its histogram pass, so that
   * a file is read once (default 192 MiB: a 4096 x 11008 f32 matrix fits; 0 to 2^31). A tensor
   * stored larger than this is read twice instead. Memory use is about this plus the above.
   */
  memoryBudget?: number;
  /**
   * Input samples for the data-dependent metrics (spec metrics.md section 3): the network runs
   * forward on them and each node layer gets neuronStrength (z) and neuronActivation (a). One
   * array { data, shape: [N, ...one sample] }, arrays by graph input name, or a SampleSource
   * (src/forward/inputs/types.ts) read a batch at a time.
   */
  inputs?: DataInputs;
  /** Class index per sample: the report's data.accuracy is the share of argmax predictions that match. */
  labels?: ArrayLike<number> | LabelSource;
  /** Samples per forward batch (default 64): memory is about the weights plus one batch's live values. */
  batch?: number;
  /** Name of the model for messages and the report, when the input has none. */
  name?: string;
  /** Byte size of a ReadableStream input, when known (enables header checks before reading). */
  size?: number;
  /** Limits on what a file may declare (see the README's "What we check"). */
  limits?: Partial<Limits>;
  signal?: AbortSignal;
  /** Progress of long work: called after each block. */
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  /** Tensor being read. */
  tensor: string;
  /** Bytes of tensor data read so far, over all passes. */
  bytesDone: number;
  /** Bytes to read in all, over all passes (known once the header is read). */
  bytesTotal: number;
  /**
   * What the bytes are read for: "moments" (the first read of a tensor), "histogram" (a second
   * read of the same tensor, when its range was not known before the first) or "copy" (convert
   * writing the tensor out). Absent when the work is shared over workers.
   */
  pass?: "moments" | "histogram" | "copy" | "forward";
  /** The forward pass (pass "forward"): samples run so far and in all; `tensor` is then the batch's first input. */
  samples?: { done: number; total: number };
}

export interface ResolvedOptions {
  bias: "in" | "ignore";
  skip: "unit" | "none";
  gates: "sum" | "separate";
  boundary: "unit" | "zero";
  bins: number;
  linkEdges?: number[];
  strengthEdges?: number[];
  tensorEdges?: Map<string, number[]>;
  perNode: boolean;
  fine: boolean;
  inputShape?: number[];
  blockBytes: number;
  memoryBudget: number;
  /** Samples per forward batch. */
  batch: number;
  limits: Limits;
}

export const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;
/** 192 MiB: a 4096 x 11008 f32 matrix (180,355,072 bytes) is held, not read twice. */
const DEFAULT_MEMORY_BUDGET = 192 * 1024 * 1024;

export function resolveOptions(options: AnalyzeOptions): ResolvedOptions {
  const bias = options.bias ?? "in";
  const boundary = options.boundary ?? "unit";
  const bins = options.bins ?? 64;
  if (bias !== "in" && bias !== "ignore") throw badOption("bias", bias, '"in" or "ignore"');
  if (boundary !== "unit" && boundary !== "zero") throw badOption("boundary", boundary, '"unit" or "zero"');
  const skip = options.skip ?? "unit";
  if (skip !== "unit" && skip !== "none") throw badOption("skip", skip, '"unit" or "none"');
  const gates = options.gates ?? "sum";
  if (gates !== "sum" && gates !== "separate") throw badOption("gates", gates, '"sum" or "separate"');
  if (!Number.isSafeInteger(bins) || bins < 1 || bins > 1_000_000) throw badOption("bins", bins, "an integer from 1 to 1,000,000");
  for (const key of ["linkEdges", "strengthEdges"] as const) {
    const edges = options[key];
    if (edges !== undefined && !(Array.isArray(edges) && validEdges(edges))) throw badOption(key, edges, "at least two finite, strictly ascending numbers");
  }
  let tensorEdges: Map<string, number[]> | undefined;
  if (options.tensorEdges !== undefined) {
    const given = options.tensorEdges;
    if (given === null || typeof given !== "object" || Array.isArray(given)) throw badOption("tensorEdges", given, "an object of tensor name to edges");
    tensorEdges = new Map();
    for (const [name, edges] of Object.entries(given)) {
      if (!(Array.isArray(edges) && edges.length <= 1_000_001 && validEdges(edges))) throw badOption(`tensorEdges[${JSON.stringify(name).slice(0, 60)}]`, edges, "2 to 1,000,001 finite, strictly ascending numbers");
      tensorEdges.set(name, edges);
    }
  }
  if (options.inputShape !== undefined && !(Array.isArray(options.inputShape) && options.inputShape.length >= 1 && options.inputShape.every((d) => Number.isSafeInteger(d) && d > 0))) {
    throw badOption("inputShape", options.inputShape, "positive integers, e.g. [1, 28, 28]");
  }
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  if (!Number.isSafeInteger(blockBytes) || blockBytes < 64 || blockBytes > 1 << 30) throw badOption("blockBytes", blockBytes, "an integer from 64 to 2^30");
  const memoryBudget = options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  if (!Number.isSafeInteger(memoryBudget) || memoryBudget < 0 || memoryBudget > 2 ** 31) throw badOption("memoryBudget", memoryBudget, "an integer from 0 to 2^31");
  const batch = options.batch ?? 64;
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > 1 << 20) throw badOption("batch", batch, "an integer from 1 to 2^20");
  return {
    bias,
    skip,
    gates,
    boundary,
    bins: options.linkEdges ? options.linkEdges.length - 1 : bins,
    linkEdges: options.linkEdges,
    strengthEdges: options.strengthEdges,
    ...(tensorEdges ? { tensorEdges } : {}),
    perNode: options.perNode ?? false,
    fine: options.fine ?? false,
    inputShape: options.inputShape,
    blockBytes: Math.floor(blockBytes / 64) * 64,
    memoryBudget,
    batch,
    limits: resolveLimits(options.limits),
  };
}

function badOption(name: string, value: unknown, wanted: string): CntError {
  return new CntError("BAD_OPTION", `Option ${name} must be ${wanted}; got ${JSON.stringify(value)?.slice(0, 60)}.`);
}
