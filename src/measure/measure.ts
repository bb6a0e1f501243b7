import { CntError, quoteName } from "../errors.js";
import type { ModelInfo, TensorInfo } from "../model/types.js";
import type { ResolvedOptions } from "../options.js";
import type { ByteSource } from "../source/types.js";
import { TensorSources } from "../source/tensor-sources.js";
import { kernelQuant, storedLength } from "../source/tensor-bytes.js";
import type { Kernels } from "../kernels/kernels.js";
import { rebinFine, type FineHistogram } from "./fine-histogram.js";
import { isUniformSpan, uniformEdges, type Histogram } from "./histogram.js";
import type { Moments } from "./moments.js";
import { runTensorPass, type PassContext, type TensorPassRequest, type TensorPassResult } from "./tensor-pass.js";
import { measureParts } from "./parts-pass.js";
import { emptyHistogram } from "./distribution.js";

/** How one pass over a tensor runs: in this thread (runTensorPass) or on a pool of threads (src/node/band-pool.ts). */
export type RunPass = (pass: PassContext, request: TensorPassRequest) => Promise<TensorPassResult>;

/** Everything measured about one tensor: plain data, the input of the report. */
export interface TensorSummary {
  moments: Moments;
  histogram: Histogram;
  /** Row and column sums when the tensor was read as a matrix (dense weights, bias vectors as [1, n]). */
  rowSums?: Float64Array;
  colSums?: Float64Array;
  /** Recurrent tensors under gates "separate": one distribution per gate block. */
  gates?: { moments: Moments; histogram: Histogram }[];
  /** Conv kernels: per-tap channel sums (src/measure/tensor-pass.ts). */
  sumOverA?: Float64Array;
  sumOverB?: Float64Array;
  /** The fine stream histogram (its non-empty buckets), with option fine. */
  fine?: FineHistogram;
}

export interface MeasureContext {
  kernels: Kernels;
  source: ByteSource;
  options: ResolvedOptions;
  signal?: AbortSignal;
  onProgress?: (progress: { tensor: string; bytesDone: number; bytesTotal: number; pass?: "moments" | "histogram" }) => void;
}

/**
 * Read every tensor once, in file order (streams can only go forward). When its range was not
 * known beforehand and the source can be read again, a second, histogram-only pass follows: over
 * the tensor's bytes held in memory from the first pass when they fit options.memoryBudget,
 * else over a second read.
 *
 * How each link-weight histogram gets its [min, max] (the brief's choice, stated):
 *   - caller-given edges (option tensorEdges for that tensor, else linkEdges): one pass, exact;
 *   - min/max stored in the file (.cnt header): one pass, exact;
 *   - a source that can be read again (memory, Blob, file): a second, histogram-only pass, exact,
 *     over the held bytes (one read) or, for a tensor stored larger than the budget, a second read;
 *   - a one-shot stream: a fine histogram in the same pass, rebinned at the end (exact: false).
 */
export async function measureTensors(ctx: MeasureContext, model: ModelInfo, plans: Map<string, Pick<TensorPassRequest, "matrix" | "conv">>, runPass: RunPass = runTensorPass): Promise<Map<string, TensorSummary>> {
  const { options } = ctx;
  const planned = model.tensors.map((tensor) => ({ tensor, twoPass: needsSecondPass(ctx, tensor) }));
  const bytesTotal = planned.reduce((sum, p) => sum + bytesToRead(ctx, p.tensor), 0);
  let bytesBefore = 0;
  const summaries = new Map<string, TensorSummary>();
  // A tensor's bytes may sit in a sibling file (ONNX external data) or be decoded already (ONNX typed fields).
  const sources = new TensorSources(ctx.source);
  try {
  for (const { tensor, twoPass } of planned) {
    let label: "moments" | "histogram" = "moments";
    const hold = heldBetweenPasses(ctx, tensor);
    // A held tensor's second pass reads nothing: it reports no progress (and no second read).
    const progress = (bytes: number) => (hold && label === "histogram" ? undefined : ctx.onProgress?.({ tensor: tensor.name, bytesDone: bytesBefore + bytes, bytesTotal, pass: label }));
    // GGUF blocks are read from the model's own source and dequantized in the kernels' windows.
    const blocks = kernelQuant(tensor) !== undefined;
    const pass = { kernels: ctx.kernels, source: blocks ? ctx.source : await sources.for(tensor), blockBytes: options.blockBytes, signal: ctx.signal, onBlock: progress, blocks };
    const request: TensorPassRequest = { tensor, ...plans.get(tensor.name), ...(hold ? { hold: "keep" as const } : {}) };
    const known = knownEdges(ctx, tensor);
    if (known) request.edges = known;
    else if (!twoPass) request.fine = true;
    if (options.fine) request.fine = true;
    const first = await runPass(pass, request);
    bytesBefore += tensor.byteLength;

    let histogram: Histogram;
    const m = first.moments;
    if (known) {
      if (tensor.stats && !ctx.options.linkEdges && (tensor.stats.min !== m.min || tensor.stats.max !== m.max)) {
        throw new CntError("BAD_HEADER", `Tensor ${quoteName(tensor.name)}: the header says its values run from ${tensor.stats.min} to ${tensor.stats.max}, but the data runs from ${m.min} to ${m.max}.`, { file: ctx.source.name, tensor: tensor.name, expected: [tensor.stats.min, tensor.stats.max], actual: [m.min, m.max] });
      }
      histogram = { edges: Array.from(known.values), counts: first.counts! };
    } else if (m.count === 0) {
      histogram = emptyHistogram(options.bins);
    } else if (twoPass) {
      const edges = uniformEdges(m.min!, m.max!, options.bins);
      label = "histogram";
      const second = await runPass(pass, { tensor, edges: { values: edges, uniform: isUniformSpan(edges) }, histogramOnly: true, ...(hold ? { hold: "reuse" as const } : {}) });
      if (!hold) bytesBefore += tensor.byteLength;
      histogram = { edges: Array.from(edges), counts: second.counts! };
    } else {
      const edges = uniformEdges(m.min!, m.max!, options.bins);
      histogram = { edges: Array.from(edges), counts: rebinFine(first.fine!, edges), exact: false };
    }
    summaries.set(tensor.name, { moments: m, histogram, rowSums: first.rowSums, colSums: first.colSums, sumOverA: first.sumOverA, sumOverB: first.sumOverB, ...(options.fine ? { fine: first.fine } : {}) });
  }
  } finally {
    await sources.close();
  }
  return summaries;
}

function knownEdges(ctx: Pick<MeasureContext, "options">, tensor: TensorInfo): { values: Float64Array; uniform: boolean } | undefined {
  const own = ctx.options.tensorEdges?.get(tensor.name);
  if (own) return { values: Float64Array.from(own), uniform: false };
  if (ctx.options.linkEdges) return { values: Float64Array.from(ctx.options.linkEdges), uniform: false };
  const stats = tensor.stats;
  if (stats && stats.min !== null && stats.max !== null) {
    const values = uniformEdges(stats.min, stats.max, ctx.options.bins);
    return { values, uniform: isUniformSpan(values) };
  }
  return undefined;
}

/** The bytes measureTensors reads for a tensor: twice its size when the histogram takes a second read. */
export function bytesToRead(ctx: Pick<MeasureContext, "source" | "options">, tensor: TensorInfo): number {
  return tensor.byteLength * (needsSecondPass(ctx, tensor) && !holds(ctx, tensor) ? 2 : 1);
}

/** Whether measureTensors holds a tensor's bytes in memory between two passes (it takes two, and it fits). */
export function heldBetweenPasses(ctx: Pick<MeasureContext, "source" | "options">, tensor: TensorInfo): boolean {
  return needsSecondPass(ctx, tensor) && holds(ctx, tensor);
}

/**
 * Whether a tensor that takes two passes keeps its bytes in memory between them: its stored
 * bytes fit options.memoryBudget. Only the model's own source and sibling files are held (their
 * bytes are read into linear memory as stored); bytes a reader decoded (typed fields, TF.js
 * codecs) are already in memory or cheap to decode again.
 */
function holds(ctx: Pick<MeasureContext, "options">, tensor: TensorInfo): boolean {
  return tensor.data === undefined && heldBytes(tensor) <= ctx.options.memoryBudget && heldBytes(tensor) > 0;
}

/** Bytes a held tensor takes in linear memory: its stored bytes (GGUF: its blocks). */
export function heldBytes(tensor: TensorInfo): number {
  return kernelQuant(tensor) !== undefined ? storedLength(tensor) : tensor.byteLength;
}

function needsSecondPass(ctx: Pick<MeasureContext, "source" | "options">, tensor: TensorInfo): boolean {
  // Tensors in sibling files or decoded bytes can be read again even when the main source cannot.
  return (ctx.source.randomAccess || tensor.file !== undefined || tensor.data !== undefined) && knownEdges(ctx, tensor) === undefined;
}

const GATE_COUNT: Record<string, number> = { rnn: 1, gru: 3, lstm: 4 };

/**
 * Per-gate distributions of recurrent layers (option gates "separate"): every gate block of the
 * input matrix, the recurrent matrix and the biases, measured as parts of their tensors.
 */
export async function measureGates(ctx: MeasureContext, model: ModelInfo, summaries: Map<string, TensorSummary>): Promise<void> {
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  const sources = new TensorSources(ctx.source);
  try {
  for (const layer of model.layers) {
    const gates = GATE_COUNT[layer.kind];
    if (!gates || !layer.weight || !layer.recurrentWeight) continue;
    const wh = tensors.get(layer.recurrentWeight)!;
    const outIn = layer.weightLayout !== "in_out";
    const hidden = outIn ? wh.shape[1] : wh.shape[0];
    for (const name of [layer.weight, layer.recurrentWeight, layer.bias, layer.recurrentBias]) {
      if (!name) continue;
      const t = tensors.get(name)!;
      const matrix = t.shape.length === 2 && name !== layer.bias && name !== layer.recurrentBias;
      const period = matrix && outIn ? hidden * t.shape[1] : hidden;
      const pass = { kernels: ctx.kernels, source: await sources.for(t), blockBytes: ctx.options.blockBytes, signal: ctx.signal };
      summaries.get(name)!.gates = await measureParts(pass, t, { period, count: gates }, ctx.options.bins);
    }
  }
  } finally {
    await sources.close();
  }
}
