/**
 * The kernels' linear memory: every number the host uses to lay it out for assembly/, in one
 * place (STYLE habit 7: kernels see a fixed window, never the file, and do not allocate).
 *
 * assembly/ keeps its own copy of the moments state (assembly/state.ts) and the scratch area
 * (assembly/scratch.ts), because AssemblyScript cannot import a TypeScript module: change both
 * sides together. The kernel tests (test/kernels/) read and write the state through STATE below,
 * so a copy that drifts fails them. asconfig.json (JSON, no imports) repeats THREADS_MEMORY.
 *
 * One instance's memory, in 64 KiB pages, grown only between passes (Kernels.reserve; every
 * typed view is rebuilt after a grow):
 *
 *   0 ─ static data: constants, the default scratch ─ heapBase() ─ base = align(heapBase, ALIGN) ─ arena ──►
 *
 * Each pass lays out its own window from `base`, every region starting ALIGN-aligned:
 *
 *   tensor pass   state ─ edges f64[bins+1] ─ counts i64[bins] ─ fine u32[FINE_BUCKETS]? ─ conv sums?
 *                 ─ rows f64[] ─ band cols f64[] ─ 2 x raw block ─ f32 block       (measure/tensor-pass.ts)
 *   parts pass    states [count][STATE_BYTES] ─ edges f64[count][bins+1] ─ counts i64[count][bins]
 *                 ─ raw block ─ f32 block                                          (measure/parts-pass.ts)
 *   a vector      state ─ edges f64[bins+1] ─ counts i64[bins] ─ values f64[n]    (measure/vector-distribution.ts)
 *   conv maps     taps f64[] ─ rows f64[] ─ cols f64[] ─ scratch f64[kh*W] ─ out f64[channels*H*W]
 *                                                                                  (graph/ops/conv/strengths.ts)
 *   warm-up       state and slack (WARM_UP_SLACK) ─ WARM_UP_VALUES x 8 B of input
 *                 ─ output: WARM_UP_VALUES f64, or a fine histogram                (kernels/kernels.ts)
 *
 * The band pool's threads share one memory (the threads build, node/band-pool.ts):
 *
 *   static ─ per worker: scratch (scratchBytes()), 2 x raw block, f32 block (first its warm-up area)
 *          ─ allocate()d inputs ─ per pass: counters (COUNTER_BYTES), flags (Int32 per slot),
 *            band map (Int32 per band, when the histogram pass follows in the workers: THEN),
 *            edges, rows, per worker: counts, then per worker: a ring of slots of (state, band
 *            cols f64[cols]), as many as fit SLOTS_BYTES (at least 2, at most the pass's bands)
 *
 * The moments state a stats kernel adds into (spec metrics.md section 2), STATE_BYTES long; the
 * host zeroes it, sets SHIFT and the extrema, then reads it after the last block:
 *
 *   state + 0   f64  SUM        sum of finite values
 *   state + 8   f64  SQ         sum of (x - SHIFT)^2 over finite values
 *   state + 16  f64  SHIFT      a finite value of the tensor (set by the host)
 *   state + 24  f32  MIN        smallest finite value, f32 kernels (host sets +Inf)
 *   state + 28  f32  MAX        largest finite value, f32 kernels  (host sets -Inf)
 *   state + 32  f64  NAN_COUNT  count of NaN
 *   state + 40  f64  POS_INF    count of +Inf
 *   state + 48  f64  NEG_INF    count of -Inf
 *   state + 64  f64  MIN64      smallest finite value, f64 kernels (host sets +Inf)
 *   state + 72  f64  MAX64      largest finite value, f64 kernels  (host sets -Inf)
 */

/** Bytes of one page of WebAssembly memory (the unit of memory.grow). */
export const PAGE_BYTES = 65536;

/** Every region of an arena starts at a multiple of this (a cache line; SIMD loads never split one). */
export const ALIGN = 64;

/** Byte offsets in the moments state (assembly/state.ts). */
export const STATE = {
  SUM: 0,
  SQ: 8,
  SHIFT: 16,
  MIN: 24,
  MAX: 28,
  NAN_COUNT: 32,
  POS_INF: 40,
  NEG_INF: 48,
  MIN64: 64,
  MAX64: 72,
} as const;

/** The same fields as indices of an f64 view from the state's start (MIN and MAX are f32: see STATE). */
export const STATE_F64 = {
  SUM: STATE.SUM / 8,
  SQ: STATE.SQ / 8,
  SHIFT: STATE.SHIFT / 8,
  NAN_COUNT: STATE.NAN_COUNT / 8,
  POS_INF: STATE.POS_INF / 8,
  NEG_INF: STATE.NEG_INF / 8,
  MIN64: STATE.MIN64 / 8,
  MAX64: STATE.MAX64 / 8,
} as const;

/** f64 values from the state's start through MAX64: the length of an f64 view over every field. */
export const STATE_F64_LENGTH = STATE_F64.MAX64 + 1;

/** Bytes of one moments state (assembly/state.ts STATE_BYTES). */
export const STATE_BYTES = 128;

/** u32 buckets of the fine stream histogram: one per top 16 bits of an f32 (assembly/histogram.ts histogramFine). */
export const FINE_BUCKETS = 65536;

/** The warm-up area (Kernels.warmUp): the state and slack before the input. */
export const WARM_UP_SLACK = 1024;
/** Values of the warm-up block. */
export const WARM_UP_VALUES = 4096;
/** Bytes warmUp writes from its start: state and slack, WARM_UP_VALUES values, WARM_UP_VALUES f64 of output, a fine histogram. */
export const WARM_UP_BYTES = WARM_UP_SLACK + WARM_UP_VALUES * 16 + FINE_BUCKETS * 4;

/**
 * The band pool's counters, a cache line before the slot flags, Int32 each: the next band to take
 * (at 0), then, for a statistics pass its workers follow with the histogram pass (THEN), the bands
 * run, the next band of the histogram pass, and whether that pass is ready to start.
 */
export const COUNTER_BYTES = 64;
export const THEN = { DONE: 1, SECOND: 2, READY: 3 } as const;
/** THEN.READY: 0 not yet; edges written, uniform or not; no histogram (no finite value); the pass was stopped. */
export const THEN_READY = { WAIT: 0, UNIFORM: 1, EDGES: 2, NONE: 3, STOP: 4 } as const;
/**
 * Bytes of slots (a band's state and column sums) per band pool worker and pass: room for every
 * band of a pass up to 16,000 columns (32 bands of 128 + 8 x cols bytes), so that no worker waits
 * for the merges. Each slot has an Int32 flag, 1 while it is free.
 */
export const SLOTS_BYTES = 4 << 20;

/** The shared memory of the threads build, in pages (asconfig.json "threads": initialMemory, maximumMemory). */
export const THREADS_MEMORY = { initial: 2, maximum: 65536 } as const;

/** `n` rounded up to a multiple of `to`. */
export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
