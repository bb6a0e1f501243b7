import { CntError, quoteName } from "../errors.js";
import { DTYPE_BYTES, GGUF_BLOCKS, type TensorInfo } from "../model/types.js";
import type { ByteSource } from "../source/types.js";
import type { Kernels } from "../kernels/kernels.js";
import { ALIGN, align, FINE_BUCKETS, STATE_BYTES } from "../kernels/layout.js";
import { ReadAhead, type BlockRead } from "./read-ahead.js";
import { BandPlan, bandMoments, bandReads, blockElements, runBand, kernelCallElements, quantBlockElements, storedSpan, type BandArea, type BandInput, type BandJob } from "./bands.js";
import { kernelQuant } from "../source/tensor-bytes.js";
import { EMPTY_MOMENTS, mergeMoments, type Moments } from "./moments.js";
import { sparseFine, type FineHistogram } from "./fine-histogram.js";
import type { ConvSumsRequest } from "../kernels/conv-tap-sums.js";

/** What one pass over a tensor computes besides its moments. */
export interface TensorPassRequest {
  tensor: TensorInfo;
  /** Row and column sums of the tensor read as a row-major [rows, cols] matrix. */
  matrix?: { rows: number; cols: number };
  /** Bin against these edges (uniform ones take the fast kernel). */
  edges?: { values: Float64Array; uniform: boolean };
  /** Keep the fine stream histogram (when min/max are not known before the data). */
  fine?: boolean;
  /** Skip the moments (a second, histogram-only pass). */
  histogramOnly?: boolean;
  /** Per-tap channel sums of a conv kernel (assembly/conv.ts convTapSums). */
  conv?: ConvSumsRequest;
  /**
   * The tensor's stored bytes held in linear memory across two passes, so the file is read once:
   * "keep" reads them into the held region and leaves them there; "reuse" (the next pass over
   * the same tensor) reads nothing and works on them. Single thread: the held region is the
   * arena's start; a band pool keeps its own (src/node/band-pool.ts).
   */
  hold?: "keep" | "reuse";
}

export interface TensorPassResult {
  moments: Moments;
  rowSums?: Float64Array;
  colSums?: Float64Array;
  counts?: number[];
  /** The fine stream histogram's non-empty buckets (src/measure/fine-histogram.ts). */
  fine?: FineHistogram;
  /** Conv: sums over B per (a, tap) [A][K], and over A within each group per (g*B + b, tap) [G*B][K]. */
  sumOverB?: Float64Array;
  sumOverA?: Float64Array;
}

export interface PassContext {
  kernels: Kernels;
  source: ByteSource;
  /** Bytes of the tensor read per kernel call (a multiple of 64). */
  blockBytes: number;
  signal?: AbortSignal;
  /** Called after each block with the bytes of this tensor read so far. */
  onBlock?: (bytes: number) => void;
  /**
   * The source holds the tensor's stored GGUF blocks at `tensor.offset` (the model's own source,
   * src/source/tensor-bytes.ts kernelQuant), not its decoded f32 values: the kernels dequantize
   * them block by block. Absent: the source holds the decoded values (TensorSources.for).
   */
  blocks?: boolean;
}

/**
 * Stream one tensor through the kernels in this thread, band by band (src/measure/bands.ts),
 * block by block, from the source straight into wasm memory, the next block read while the
 * kernels work on this one (src/measure/read-ahead.ts). Blocks sit on a fixed grid from each
 * band's start, so results do not depend on how the source chunks its bytes, and a pool of
 * threads (src/node/band-pool.ts) gets the same result bit for bit. Memory use: two blocks, the
 * row sums and two rows of column sums.
 *
 *   base ─ held bytes? ─ state(STATE_BYTES) ─ edges f64[bins+1] ─ counts i64[bins] ─ fine u32[FINE_BUCKETS]? ─ conv sums? ─ rows f64[] ─ band cols f64[] ─ 2 x raw block? ─ f32 block
 *   (every region ALIGN-aligned; the whole map of memory: src/kernels/layout.ts). With request.hold
 *   the tensor's stored bytes sit at base, each block read straight into its place there (no raw
 *   blocks), and stay for the next pass.
 */
export async function runTensorPass(ctx: PassContext, request: TensorPassRequest): Promise<TensorPassResult> {
  const { kernels } = ctx;
  const { tensor, matrix, edges, conv } = request;
  const width = DTYPE_BYTES[tensor.dtype];
  const total = tensor.byteLength / width;
  const quant = ctx.blocks ? kernelQuant(tensor) : undefined;
  const block = quant ? quantBlockElements(ctx.blockBytes, quant) : blockElements(ctx.blockBytes, width);
  const stored = storedSpan({ tensor, quant }, block);

  const held = kernels.base;
  const state = request.hold ? align(held + storedSpan({ tensor, quant }, total), ALIGN) : kernels.base;
  const edgesPtr = state + STATE_BYTES;
  const bins = edges ? edges.values.length - 1 : 0;
  const countsPtr = align(edgesPtr + (bins + 1) * 8, ALIGN);
  const finePtr = align(countsPtr + bins * 8, ALIGN);
  const sumOverBPtr = align(finePtr + (request.fine ? FINE_BUCKETS * 4 : 0), ALIGN);
  const sumOverAPtr = align(sumOverBPtr + (conv ? conv.A * conv.K * 8 : 0), ALIGN);
  const rowsPtr = align(sumOverAPtr + (conv ? conv.groups * conv.B * conv.K * 8 : 0), ALIGN);
  const colsPtr = align(rowsPtr + (matrix ? matrix.rows * 8 : 0), ALIGN);
  const rawPtr = align(colsPtr + (matrix ? matrix.cols * 8 : 0), ALIGN);
  // Two read buffers: the next block is read while the kernels work on this one (a held tensor's blocks have their own places).
  const rawBytes = request.hold ? 0 : stored;
  const raw2Ptr = align(rawPtr + rawBytes, ALIGN);
  // f64 is read at full precision; f16 and bf16 are widened, GGUF blocks dequantized, into an f32 block first.
  const f32Ptr = align(raw2Ptr + rawBytes, ALIGN);
  const end = f32Ptr + (tensor.dtype === "f32" && !quant ? 0 : kernelCallElements(block) * 4);
  try {
    kernels.reserve(end);
  } catch (error) {
    throw new CntError("TOO_LARGE", `Tensor ${quoteName(tensor.name)} needs ${end.toLocaleString("en-US")} bytes of working memory, more than WebAssembly can give.`, { tensor: tensor.name, cause: error });
  }
  kernels.bytes(state, rawPtr - state).fill(0);
  if (edges) kernels.f64(edgesPtr, bins + 1).set(edges.values);

  const area: BandArea = { state, counts: countsPtr, cols: colsPtr, fine: finePtr, sumOverB: sumOverBPtr, sumOverA: sumOverAPtr, raw: rawPtr, f32: f32Ptr };
  const job: BandJob = { tensor, matrix, rows: rowsPtr, edges: edges && { at: edgesPtr, bins, uniform: edges.uniform }, fine: request.fine, histogramOnly: request.histogramOnly, conv, blockElements: block, quant };
  // u32 buckets could overflow past 2^32 values: such tensors drain them after every block.
  const fineTotals = request.fine && total > 0xffffffff ? new Float64Array(FINE_BUCKETS) : undefined;
  const plan = new BandPlan(total, matrix?.cols, conv !== undefined || request.fine === true, quant ? GGUF_BLOCKS[quant].elements : 1);
  const colTotals = matrix && !request.histogramOnly ? new Float64Array(matrix.cols) : undefined;
  let moments: Moments = EMPTY_MOMENTS;
  let done = 0;
  // A held tensor whose bytes lie in several files is read file piece by file piece (pieceReads), not block by block.
  const pieces = request.hold === "keep" && !quant && inPieces(tensor);
  const places = request.hold ? { at: (read: BlockRead) => held + read.offset - tensor.offset } : ([rawPtr, raw2Ptr] as [number, number]);
  const ahead = request.hold === "reuse" ? undefined : new ReadAhead(kernels, ctx.source, places, pieces ? pieceReads(tensor, ctx.blockBytes) : bandReads(job, plan));
  const input: BandInput = pieces ? { at: held, through: (end) => ahead!.through(end) } : ahead ? { ahead } : { at: held };
  try {
    for (let b = 0; b < plan.count; b++) {
      const band = plan.band(b);
      await runBand(kernels, input, job, band, area, ctx.signal, (n) => ctx.onBlock?.((done += n) * width), fineTotals && (() => drainFine(kernels, finePtr, fineTotals)));
      if (request.histogramOnly) continue;
      moments = mergeMoments(moments, bandMoments(kernels, state, tensor.dtype, band.count));
      if (colTotals) addInto(colTotals, kernels.f64(colsPtr, colTotals.length));
    }
  } finally {
    await ahead?.close();
  }

  const result: TensorPassResult = { moments: plan.count === 0 ? bandMoments(kernels, state, tensor.dtype, 0) : moments };
  if (matrix) {
    result.rowSums = kernels.f64(rowsPtr, matrix.rows).slice();
    result.colSums = colTotals ?? new Float64Array(matrix.cols);
  }
  if (edges) result.counts = Array.from(new BigInt64Array(kernels.memory.buffer, countsPtr, bins), (c) => Number(c));
  // Read straight from linear memory: a dense f64 copy of the 65,536 buckets per pass was the
  // largest cost of a small model's analysis with option fine (and most of its garbage).
  if (request.fine) result.fine = sparseFine(fineTotals ?? new Uint32Array(kernels.memory.buffer, finePtr, FINE_BUCKETS));
  if (conv) {
    result.sumOverB = kernels.f64(sumOverBPtr, conv.A * conv.K).slice();
    result.sumOverA = kernels.f64(sumOverAPtr, conv.groups * conv.B * conv.K).slice();
  }
  return result;
}

/** Whether a tensor's bytes are plain pieces of several files (TF.js weights across shard files), read as they are stored. */
function inPieces(tensor: TensorInfo): boolean {
  const decode = tensor.decode;
  return decode?.parts !== undefined && decode.parts.length > 1 && decode.values === undefined && decode.parts.every((p) => p.container === undefined);
}

/**
 * The reads of a tensor held whole (request.hold) whose bytes are pieces of several files: each
 * piece in reads of at most `most` bytes, from its start, none across its end. Block reads cut one
 * read in two at every file's end (TF.js: a 4 MB shard file ends inside about every other 2 MiB
 * block), each a trip to the file system; these cost one trip per piece of up to `most` bytes.
 * Where the bytes land does not depend on the reads (each has its place in the held region), so
 * the kernels see the same blocks and give the same results.
 */
export function* pieceReads(tensor: TensorInfo, most: number): Generator<BlockRead> {
  let at = tensor.offset;
  for (const part of tensor.decode!.parts!) {
    for (let done = 0; done < part.length; done += most) yield { offset: at + done, bytes: Math.min(most, part.length - done) };
    at += part.length;
  }
}

/** Add a band's column sums into the totals (band order, so the same on any number of threads). */
export function addInto(totals: Float64Array, band: Float64Array): void {
  for (let i = 0; i < totals.length; i++) totals[i] += band[i];
}

function drainFine(kernels: Kernels, finePtr: number, totals: Float64Array): void {
  const buckets = new Uint32Array(kernels.memory.buffer, finePtr, FINE_BUCKETS);
  for (let i = 0; i < FINE_BUCKETS; i++) totals[i] += buckets[i];
  buckets.fill(0);
}
