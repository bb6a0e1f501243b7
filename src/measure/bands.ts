import { asCntError, quoteName, throwIfAborted } from "../errors.js";
import { DTYPE_BYTES, GGUF_BLOCKS, type DType, type GgufQuant, type TensorInfo } from "../model/types.js";
import type { ByteSource } from "../source/types.js";
import { DEQUANT_KERNEL, type Kernels } from "../kernels/kernels.js";
import { STATE, STATE_BYTES, STATE_F64, STATE_F64_LENGTH } from "../kernels/layout.js";
import type { Moments } from "./moments.js";
import type { BlockRead, BlockReader } from "./read-ahead.js";

// A tensor pass is cut into bands: runs of whole matrix rows (or fixed slices of a flat tensor)
// whose partial results are merged in band order. Every band starts its own block grid, its own
// squared-sum shift and its own column sums, so a band's partial is the same whichever thread
// computes it, and merging in band order makes the result the same, bit for bit, on one thread
// (src/measure/tensor-pass.ts) or many (src/node/band-pool.ts).

/** Elements per band at least (rounded down to whole rows, at least one row): 2 MiB of f32. */
export const BAND_ELEMENTS = 1 << 19;
/**
 * Elements per kernel call: 512 KiB of f32, so a block read by the statistics kernel is still in
 * the core's L2 cache when the histogram kernel reads it (measured: about 0.05 of the copy's rate
 * better than 4 MiB calls on a 4096 x 11008 one-pass run). Reads may be larger.
 */
export const KERNEL_ELEMENTS = 1 << 17;
/**
 * About the most bands a tensor gets (larger tensors get larger bands): every band costs the
 * pool's main thread a merge, which takes time from the workers on a machine with few cores,
 * while 32 still leaves little idle time at a pass's end.
 */
export const MAX_BANDS = 32;

/** Elements [start, start + count) of the tensor, band number `index`. */
export interface Band {
  index: number;
  start: number;
  count: number;
}

/** How a tensor of `total` elements splits into bands; `whole` keeps it one band (conv and stream passes). */
export class BandPlan {
  readonly step: number;
  readonly count: number;

  /** `quantum`: bands start on multiples of it (GGUF blocks; rows are whole blocks already). */
  constructor(readonly total: number, cols: number | undefined, whole: boolean, quantum = 1) {
    const target = Math.max(BAND_ELEMENTS, Math.ceil(total / MAX_BANDS));
    this.step = whole || total === 0 ? Math.max(1, total) : cols ? Math.max(1, Math.floor(target / cols)) * cols : Math.ceil(target / quantum) * quantum;
    this.count = total === 0 ? 0 : Math.ceil(total / this.step);
  }

  band(index: number): Band {
    return bandOf(this, index);
  }
}

/** Band `index` of a plan (a BandPlan, or its fields posted to a worker). */
export function bandOf(plan: { step: number; total: number }, index: number): Band {
  const start = index * plan.step;
  return { index, start, count: Math.min(plan.step, plan.total - start) };
}

/** Where one executor (this thread, or one worker of a pool) keeps a band's results; byte offsets in linear memory. */
export interface BandArea {
  /** Moments state of the band (src/kernels/layout.ts STATE), rebuilt per band. */
  state: number;
  /** i64[bins], added into over all the executor's bands. */
  counts: number;
  /** f64[cols], the band's column sums, rebuilt per band. */
  cols: number;
  /** u32[FINE_BUCKETS] (src/kernels/layout.ts; fine passes only). */
  fine: number;
  /** Conv tap sums (conv passes only, which are one band). */
  sumOverB: number;
  sumOverA: number;
  /** The block as read, and widened to f32 (f16, bf16). */
  raw: number;
  f32: number;
}

/** What a band pass computes; pointers to what all executors share. */
export interface BandJob {
  tensor: TensorInfo;
  matrix?: { rows: number; cols: number };
  /** f64[rows] row sums at row 0 of the matrix (bands write disjoint rows). */
  rows: number;
  edges?: { at: number; bins: number; uniform: boolean };
  fine?: boolean;
  histogramOnly?: boolean;
  conv?: { tapMajor: boolean; A: number; B: number; K: number; groups: number };
  /** Elements per read (see blockElements). */
  blockElements: number;
  /**
   * The source holds the tensor's stored GGUF blocks (src/source/tensor-bytes.ts kernelQuant):
   * reads are whole blocks, dequantized into the f32 block like f16 is widened.
   */
  quant?: GgufQuant;
}

/** Stored bytes of `elements` elements of the job's tensor (GGUF: whole blocks). */
export function storedSpan(job: Pick<BandJob, "tensor" | "quant">, elements: number): number {
  if (job.quant) return (elements / GGUF_BLOCKS[job.quant].elements) * GGUF_BLOCKS[job.quant].bytes;
  return elements * DTYPE_BYTES[job.tensor.dtype];
}

/** blockElements for GGUF blocks: whole blocks, a multiple of KERNEL_ELEMENTS when at least that. */
export function quantBlockElements(blockBytes: number, quant: GgufQuant): number {
  const { elements: qk, bytes } = GGUF_BLOCKS[quant];
  const elements = Math.max(1, Math.floor(blockBytes / bytes)) * qk;
  return elements >= KERNEL_ELEMENTS ? Math.floor(elements / KERNEL_ELEMENTS) * KERNEL_ELEMENTS : elements;
}

/**
 * Elements per read for `blockBytes`: a multiple of KERNEL_ELEMENTS when at least that (each read
 * then holds whole kernel calls on the band's grid, and the result does not depend on blockBytes),
 * else a multiple of 8 (one kernel call per read).
 */
export function blockElements(blockBytes: number, width: number): number {
  const elements = Math.max(8, Math.floor(blockBytes / width / 8) * 8);
  return elements >= KERNEL_ELEMENTS ? Math.floor(elements / KERNEL_ELEMENTS) * KERNEL_ELEMENTS : elements;
}

/**
 * The tensor's bytes: from a source, from a reader of the pass's blocks (read ahead, or read when
 * asked for), or in linear memory at `at` (element 0), already or once `through(end)` (the source
 * offset a block ends at) settles.
 */
export type BandInput = { source: ByteSource } | { ahead: BlockReader } | { at: number; through?: (end: number) => Promise<void> };

/** The reads runBand makes for these bands, in order (what a BlockReader must be given). */
export function* bandReads(job: BandJob, plan: BandPlan): Generator<BlockRead> {
  for (let b = 0; b < plan.count; b++) yield* bandBlockReads(job, plan.band(b));
}

/** The reads runBand makes for one band, in order. */
export function* bandBlockReads(job: BandJob, band: Band): Generator<BlockRead> {
  const end = band.start + band.count;
  for (let done = band.start; done < end; done += job.blockElements) {
    yield { offset: job.tensor.offset + storedSpan(job, done), bytes: storedSpan(job, Math.min(job.blockElements, end - done)) };
  }
}

/**
 * Elements of one kernel call when `left` remain in a read: at most KERNEL_ELEMENTS. Also what
 * the f32 block must hold for reads of `left` elements (f16/bf16 are widened one call at a time).
 */
export function kernelCallElements(left: number): number {
  return Math.min(left, KERNEL_ELEMENTS);
}

/** Run one band through the kernels, block by block from the band's start; results in `area`. */
export async function runBand(kernels: Kernels, input: BandInput, job: BandJob, band: Band, area: BandArea, signal?: AbortSignal, onBlock?: (elements: number) => void, onFineBlock?: () => void): Promise<void> {
  const { tensor, matrix, edges, conv } = job;
  const k = kernels.exports;
  const wide = tensor.dtype === "f64";
  if (!job.histogramOnly) {
    kernels.bytes(area.state, STATE_BYTES).fill(0);
    kernels.f32(area.state + STATE.MIN, 2).set([Infinity, -Infinity]);
    kernels.f64(area.state + STATE.MIN64, 2).set([Infinity, -Infinity]);
    if (matrix) kernels.f64(area.cols, matrix.cols).fill(0);
  }
  let shiftSet = false;
  // Stored f16/bf16 values (not GGUF blocks, whose values are dequantized to f32).
  const half = !job.quant && (tensor.dtype === "f16" || tensor.dtype === "bf16");
  const f16 = tensor.dtype === "f16";
  const end = band.start + band.count;
  for (let done = band.start; done < end; ) {
    throwIfAborted(signal, `Reading tensor ${quoteName(tensor.name)}`, { tensor: tensor.name });
    const read = Math.min(job.blockElements, end - done);
    let rawRead: number;
    if ("at" in input) {
      await input.through?.(tensor.offset + storedSpan(job, done + read));
      rawRead = input.at + storedSpan(job, done);
    }
    else if ("ahead" in input) {
      const next = input.ahead.next();
      rawRead = typeof next === "number" ? next : await next;
    }
    else {
      rawRead = area.raw;
      await input.source.readInto(tensor.offset + storedSpan(job, done), kernels.bytes(rawRead, storedSpan(job, read)));
    }
    // Kernel calls of KERNEL_ELEMENTS on the band's grid (reads hold whole calls, or are one).
    for (const readEnd = done + read; done < readEnd; ) {
      const n = kernelCallElements(readEnd - done);
      const raw = rawRead + storedSpan(job, done - (readEnd - read));
      try {
        // f16/bf16 go straight into the fused kernels (assembly/moments.ts statsOnlyF16 and kin:
        // the same results as widening first); a block is widened only for what has no fused
        // kernel: the band's shift, conv sums, uneven edges, the fine histogram.
        const widen = !half || conv !== undefined || job.fine === true || (edges !== undefined && !edges.uniform) || (!job.histogramOnly && !shiftSet);
        if (job.quant) k[DEQUANT_KERNEL[job.quant]](raw, area.f32, n / GGUF_BLOCKS[job.quant].elements);
        else if (tensor.dtype === "f16" && widen) k.widenF16(raw, area.f32, n);
        else if (tensor.dtype === "bf16" && widen) k.widenBF16(raw, area.f32, n);
        const values = wide || (tensor.dtype === "f32" && !job.quant) ? raw : area.f32;
        if (!job.histogramOnly) {
          if (!shiftSet) {
            // The band's shift is fixed by its first block (0 when that has no finite value): SQ is summed around one shift.
            setShift(kernels, values, n, area.state, wide);
            shiftSet = true;
          }
          // Column sums are band-relative (area.cols is column 0); rows are the matrix's.
          const row = matrix ? Math.floor(done / matrix.cols) : 0;
          const col = matrix ? done - row * matrix.cols : 0;
          if (wide) k.statsRowsColsF64(values, n, row, col, matrix ? matrix.cols : n, matrix ? job.rows : 0, area.cols, area.state);
          else if (half && matrix) (f16 ? k.statsRowsColsF16 : k.statsRowsColsBF16)(raw, n, row, col, matrix.cols, job.rows, area.cols, area.state);
          else if (half) (f16 ? k.statsOnlyF16 : k.statsOnlyBF16)(raw, n, area.state);
          else if (matrix) k.statsRowsCols(values, n, row, col, matrix.cols, job.rows, area.cols, area.state);
          else k.statsOnly(values, n, area.state);
          if (conv) (wide ? k.convTapSumsF64 : k.convTapSums)(values, n, done, conv.tapMajor ? 1 : 0, conv.A, conv.B, conv.K, conv.groups, area.sumOverB, area.sumOverA);
        }
        if (edges) {
          if (edges.uniform && half) (f16 ? k.histogramUniformF16 : k.histogramUniformBF16)(raw, n, edges.bins, edges.at, area.counts);
          else if (edges.uniform) (wide ? k.histogramUniformF64 : k.histogramUniform)(values, n, edges.bins, edges.at, area.counts);
          else (wide ? k.histogramEdgesF64 : k.histogramEdges)(values, n, edges.bins, edges.at, area.counts);
        }
        if (job.fine) {
          // The fine buckets are f32 bit patterns: an f64 block is narrowed for them alone.
          if (wide) k.narrowF64(raw, area.f32, n);
          k.histogramFine(wide ? area.f32 : values, n, area.fine);
          onFineBlock?.();
        }
      } catch (error) {
        throw asCntError(error, { tensor: tensor.name });
      }
      done += n;
      onBlock?.(n);
    }
  }
}

/** The moments of the band just run (band.count elements) from its state. */
export function bandMoments(kernels: Kernels, state: number, dtype: DType, elements: number): Moments {
  const view = kernels.f64(state, STATE_F64_LENGTH);
  const minmax = dtype === "f64" ? kernels.f64(state + STATE.MIN64, 2) : kernels.f32(state + STATE.MIN, 2);
  const nan = view[STATE_F64.NAN_COUNT], posInf = view[STATE_F64.POS_INF], negInf = view[STATE_F64.NEG_INF];
  const count = elements - nan - posInf - negInf;
  const sum = view[STATE_F64.SUM], sq = view[STATE_F64.SQ], shift = view[STATE_F64.SHIFT];
  const mean = count > 0 ? sum / count : 0;
  return {
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
}

/**
 * Use the block's first finite value as the shift of the squared sums. For f32 kernels it must
 * be an f32 value (the kernel substitutes it for non-finite lanes and needs x - shift = 0).
 */
function setShift(kernels: Kernels, ptr: number, n: number, state: number, wide: boolean): void {
  const values = wide ? kernels.f64(ptr, n) : kernels.f32(ptr, n);
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(values[i])) {
      kernels.f64(state, STATE_F64_LENGTH)[STATE_F64.SHIFT] = values[i];
      return;
    }
  }
}
