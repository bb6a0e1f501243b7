import { asCntError, CntError, quoteName } from "../errors.js";
import type { DType, TensorInfo } from "../model/types.js";
import type { ByteSource } from "../source/types.js";
import { align, Kernels } from "../wasm/kernels.js";
import type { Moments } from "./moments.js";

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
}

/** A conv kernel read as axes A (in `groups` groups), B and K taps, in [A, B, K] or [K, B, A] order. */
export interface ConvSumsRequest {
  tapMajor: boolean;
  A: number;
  B: number;
  K: number;
  groups: number;
}

export interface TensorPassResult {
  moments: Moments;
  rowSums?: Float64Array;
  colSums?: Float64Array;
  counts?: number[];
  fine?: Float64Array;
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
}

const STATE_BYTES = 128; // assembly/state.ts
const FINE_BUCKETS = 65536;
const WIDTH: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, f64: 8 };

/**
 * Stream one tensor through the kernels, block by block, from the source straight into wasm
 * memory. Blocks sit on a fixed grid from the tensor's start, so results do not depend on how
 * the source chunks its bytes. Memory use: one block plus the row and column sums.
 *
 *   base ─ state(64) ─ edges f64[bins+1] ─ counts i64[bins] ─ fine u32[65536]? ─ rows f64[] ─ cols f64[] ─ raw block ─ f32 block
 */
export async function runTensorPass(ctx: PassContext, request: TensorPassRequest): Promise<TensorPassResult> {
  const { kernels } = ctx;
  const { tensor, matrix, edges } = request;
  const width = WIDTH[tensor.dtype];
  const total = tensor.byteLength / width;
  const blockElements = Math.max(1, Math.floor(ctx.blockBytes / width / 8) * 8);

  const state = kernels.base;
  const edgesPtr = state + STATE_BYTES;
  const bins = edges ? edges.values.length - 1 : 0;
  const countsPtr = align(edgesPtr + (bins + 1) * 8, 64);
  const finePtr = align(countsPtr + bins * 8, 64);
  const conv = request.conv;
  const sumOverBPtr = align(finePtr + (request.fine ? FINE_BUCKETS * 4 : 0), 64);
  const sumOverAPtr = align(sumOverBPtr + (conv ? conv.A * conv.K * 8 : 0), 64);
  const rowsPtr = align(sumOverAPtr + (conv ? conv.groups * conv.B * conv.K * 8 : 0), 64);
  const colsPtr = align(rowsPtr + (matrix ? matrix.rows * 8 : 0), 64);
  const rawPtr = align(colsPtr + (matrix ? matrix.cols * 8 : 0), 64);
  // f64 is read at full precision; f16 and bf16 are widened into an f32 block first.
  const wide = tensor.dtype === "f64";
  const f32Ptr = tensor.dtype === "f32" ? rawPtr : align(rawPtr + blockElements * width, 64);
  const end = f32Ptr + blockElements * 4;
  try {
    kernels.reserve(end);
  } catch (error) {
    throw new CntError("TOO_LARGE", `Tensor ${quoteName(tensor.name)} needs ${end.toLocaleString("en-US")} bytes of working memory, more than WebAssembly can give.`, { tensor: tensor.name, cause: error });
  }
  kernels.bytes(state, end - state).fill(0);
  new Float32Array(kernels.memory.buffer, state + 24, 2).set([Infinity, -Infinity]);
  kernels.f64(state + 64, 2).set([Infinity, -Infinity]);
  if (edges) kernels.f64(edgesPtr, bins + 1).set(edges.values);

  const k = kernels.exports;
  // u32 buckets could overflow past 2^32 values: such tensors drain them after every block.
  const fineTotals = request.fine && total > 0xffffffff ? new Float64Array(FINE_BUCKETS) : undefined;
  let done = 0;
  let shiftSet = false;
  while (done < total) {
    if (ctx.signal?.aborted) throw new CntError("ABORTED", `Analysis aborted while reading tensor ${quoteName(tensor.name)}.`, { tensor: tensor.name, cause: ctx.signal.reason });
    const n = Math.min(blockElements, total - done);
    await ctx.source.readInto(tensor.offset + done * width, kernels.bytes(rawPtr, n * width));
    try {
      if (tensor.dtype === "f16") k.widenF16(rawPtr, f32Ptr, n);
      else if (tensor.dtype === "bf16") k.widenBF16(rawPtr, f32Ptr, n);
      const values = wide ? rawPtr : f32Ptr;
      if (!request.histogramOnly) {
        if (!shiftSet) {
          // The shift is fixed by the first block (0 when it has no finite value): SQ is summed around one shift.
          setShift(kernels, values, n, state, wide);
          shiftSet = true;
        }
        const row = matrix ? Math.floor(done / matrix.cols) : 0;
        const col = matrix ? done - row * matrix.cols : 0;
        if (wide) k.statsRowsColsF64(values, n, row, col, matrix ? matrix.cols : n, matrix ? rowsPtr : 0, colsPtr, state);
        else if (matrix) k.statsRowsCols(values, n, row, col, matrix.cols, rowsPtr, colsPtr, state);
        else k.statsOnly(values, n, state);
      }
      if (conv && !request.histogramOnly) {
        (wide ? k.convTapSumsF64 : k.convTapSums)(values, n, done, conv.tapMajor ? 1 : 0, conv.A, conv.B, conv.K, conv.groups, sumOverBPtr, sumOverAPtr);
      }
      if (edges) {
        if (edges.uniform) (wide ? k.histogramUniformF64 : k.histogramUniform)(values, n, bins, edgesPtr, countsPtr);
        else (wide ? k.histogramEdgesF64 : k.histogramEdges)(values, n, bins, edgesPtr, countsPtr);
      }
      if (request.fine) {
        // The fine buckets are f32 bit patterns: an f64 block is narrowed for them alone.
        if (wide) k.narrowF64(rawPtr, f32Ptr, n);
        k.histogramFine(f32Ptr, n, finePtr);
        if (fineTotals) drainFine(kernels, finePtr, fineTotals);
      }
    } catch (error) {
      throw asCntError(error, { tensor: tensor.name });
    }
    done += n;
    ctx.onBlock?.(done * width);
  }

  const view = kernels.f64(state, 8);
  const mem = kernels.memory.buffer;
  const minmax = wide ? kernels.f64(state + 64, 2) : new Float32Array(mem, state + 24, 2);
  const nan = view[4], posInf = view[5], negInf = view[6];
  const count = total - nan - posInf - negInf;
  const sum = view[0], sq = view[1], shift = view[2];
  const mean = count > 0 ? sum / count : 0;
  const moments: Moments = {
    count,
    mean,
    // sum (x - K)^2 = M2 + n (mean - K)^2
    m2: count > 0 ? Math.max(0, sq - count * (mean - shift) * (mean - shift)) : 0,
    min: count > 0 ? minmax[0] : null,
    max: count > 0 ? minmax[1] : null,
    nan,
    posInf,
    negInf,
  };
  const result: TensorPassResult = { moments };
  if (matrix) {
    result.rowSums = kernels.f64(rowsPtr, matrix.rows).slice();
    result.colSums = kernels.f64(colsPtr, matrix.cols).slice();
  }
  if (edges) {
    const counts = new BigInt64Array(mem, countsPtr, bins);
    result.counts = Array.from(counts, (c) => Number(c));
  }
  if (request.fine) result.fine = fineTotals ?? Float64Array.from(new Uint32Array(mem, finePtr, FINE_BUCKETS));
  if (conv) {
    result.sumOverB = kernels.f64(sumOverBPtr, conv.A * conv.K).slice();
    result.sumOverA = kernels.f64(sumOverAPtr, conv.groups * conv.B * conv.K).slice();
  }
  return result;
}

function drainFine(kernels: Kernels, finePtr: number, totals: Float64Array): void {
  const buckets = new Uint32Array(kernels.memory.buffer, finePtr, FINE_BUCKETS);
  for (let i = 0; i < FINE_BUCKETS; i++) totals[i] += buckets[i];
  buckets.fill(0);
}

/**
 * Use the first block's first finite value as the shift of the squared sums. For f32 kernels it
 * must be an f32 value (the kernel substitutes it for non-finite lanes and needs x - shift = 0).
 */
function setShift(kernels: Kernels, ptr: number, n: number, state: number, wide: boolean): void {
  const values = wide ? kernels.f64(ptr, n) : kernels.f32(ptr, n);
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(values[i])) {
      kernels.f64(state, 3)[2] = values[i];
      return;
    }
  }
}
