// Histograms of f32 values, binned in f64 against f64 edges.
//
// Bin rule (numpy.histogram's, so a float64 numpy reference agrees bin for bin): bin i holds
// edges[i] <= x < edges[i+1], the last bin also holds x == edges[bins]; values outside
// [edges[0], edges[bins]] and non-finite values are not counted here (the host counts them).
//
//   edges  ──► f64[bins + 1]   ascending
//   counts ──► i64[bins]       added into, never cleared here

//
// histogramUniform reads f32; histogramUniformF16 / histogramUniformBF16 read IEEE half / bfloat16
// patterns and widen them in registers (assembly/widen.ts quad, the stored types of
// assembly/moments.ts): each value is the f32 that widenF16 / widenBF16 would give, so the counts
// are those of widening first and calling histogramUniform. Long calls instead look each
// pattern's bin up in a table of all 65,536 patterns, built once per edges (HALF_LUT below).
import { touch } from "./prefetch";
import { scratch, PAIR_TABLE, PAIR_COLS, LANE_CONSTS, LANE_SPILL, HALF_LUT, LUT_KEY } from "./scratch";
import { quad, one, halfConsts, isHalf, widenF16, widenBF16 } from "./widen";
import { SPAN_F32 } from "./scratch";

/**
 * Uniform edges (edges[i] = lo + i * step, as numpy.linspace makes them).
 *
 * Fast path (bins <= PAIR_BINS, f32-friendly range, see f32Margin): each value's bin position
 * t = (x - lo32) * norm32 is computed in f32, four lanes at a time, and f = floor(t) is taken as
 * its bin when t is at least `margin` away from an integer; f32Margin proves that such an f is
 * the bin the f64 edges give (numpy's rule), or, when f < 0 or f >= bins, that x is outside
 * [lo, hi]. Values are taken eight at a time as four pairs (x[i+j], x[i+4+j]) and each pair bumps
 * one u32 cell of a table with a sentinel row and column on each side (f clamped to -1 .. bins:
 * out-of-range values, NaN and +-Inf land in a sentinel, which is never harvested), so a cell is
 * bumped without a range test. Pairs halve the scalar read-modify-writes; the 18 KiB table stays
 * in L1. The fractions t - f of BLOCK values are folded into a min and a max and tested once; the
 * block's cells are bumped only if all pass, else the block goes value by value through binOne
 * (f64, checked against the edges themselves). The table's row and column sums are added into
 * `counts` at the end of the call. Measured against the per-eight test with range checks it
 * replaced: 1.1-1.2x on Gaussian weights; blocks of 8 or 32 were slower than 16 (32 holds more
 * vectors than V8 keeps in registers).
 *
 * Otherwise: the f64 estimate floor((x - lo) * norm), counted directly when at least `margin`
 * (which bounds the rounding of that estimate and of the edges, in bins) from an integer, else
 * checked by binOne.
 */
export function histogramUniform(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  histogramUniformOf<f32>(src, n, bins, edges, counts);
}

/** histogramUniform over `n` IEEE half values (2 bytes each) at `src`. */
export function histogramUniformF16(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  halfConsts();
  histogramUniform16<u16>(src, n, bins, edges, counts);
}

/** histogramUniform over `n` bfloat16 values (2 bytes each) at `src`. */
export function histogramUniformBF16(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  histogramUniform16<i16>(src, n, bins, edges, counts);
}

/** 16-bit patterns (T: u16 f16, i16 bf16): long calls through the pattern table, others widened. */
// @ts-ignore: decorator
@inline function histogramUniform16<T>(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  const kind = isHalf<T>() ? 1 : 2;
  if (bins <= PAIR_BINS && n >= 8 && (lutMatches(kind, bins, edges) || (n >= LUT_MIN && buildLut<T>(kind, bins, edges)))) {
    const done = n & ~7;
    lutCount(src, done, bins, counts);
    if (done < n) histogramUniformOf<T>(src + (<usize>done << 1), n - done, bins, edges, counts);
  } else {
    histogramUniformOf<T>(src, n, bins, edges, counts);
  }
}

// @ts-ignore: decorator
@inline function histogramUniformOf<T>(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  const lo = load<f64>(edges);
  const hi = load<f64>(edges + (<usize>bins << 3));
  const norm = <f64>bins / (hi - lo);
  let done = 0;
  if (bins <= PAIR_BINS && n >= BLOCK) {
    const m = f32Margin(lo, hi, bins, edges, norm);
    if (m > 0) {
      done = n & ~(BLOCK - 1);
      pairCount<T>(src, done, bins, edges, counts, lo, hi, norm, m);
    }
  }
  if (done < n) histogramUniformRest<T>(src + <usize>done * sizeof<T>(), n - done, bins, edges, counts, lo, hi, norm);
}

// @ts-ignore: decorator
@inline function histogramUniformRest<T>(src: usize, n: i32, bins: i32, edges: usize, counts: usize, lo: f64, hi: f64, norm: f64): void {
  const margin = min(0.25, <f64>bins * (4 + 4 * (abs(lo) + abs(hi)) / (hi - lo)) * 8.881784197001252e-16); // 2^-50
  const lo2 = f64x2.splat(lo);
  const norm2 = f64x2.splat(norm);
  const margin2 = f64x2.splat(margin);
  const upper2 = f64x2.splat(1 - margin);
  const zero2 = f64x2.splat(0);
  const bins2 = f64x2.splat(<f64>bins);
  const last = bins - 1;
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = quad<T>(src + <usize>i * sizeof<T>());
    const xa = f64x2.promote_low_f32x4(v);
    const xb = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    const ta = f64x2.mul(f64x2.sub(xa, lo2), norm2);
    const tb = f64x2.mul(f64x2.sub(xb, lo2), norm2);
    const fa = f64x2.floor(ta);
    const fb = f64x2.floor(tb);
    const ea = i32x4.trunc_sat_f64x2_s_zero(fa);
    const eb = i32x4.trunc_sat_f64x2_s_zero(fb);
    if (safe(ta, fa, margin2, upper2, zero2, bins2) & safe(tb, fb, margin2, upper2, zero2, bins2)) {
      bump64(counts, i32x4.extract_lane(ea, 0));
      bump64(counts, i32x4.extract_lane(ea, 1));
      bump64(counts, i32x4.extract_lane(eb, 0));
      bump64(counts, i32x4.extract_lane(eb, 1));
    } else {
      binOne(f64x2.extract_lane(xa, 0), i32x4.extract_lane(ea, 0), lo, hi, last, edges, counts);
      binOne(f64x2.extract_lane(xa, 1), i32x4.extract_lane(ea, 1), lo, hi, last, edges, counts);
      binOne(f64x2.extract_lane(xb, 0), i32x4.extract_lane(eb, 0), lo, hi, last, edges, counts);
      binOne(f64x2.extract_lane(xb, 1), i32x4.extract_lane(eb, 1), lo, hi, last, edges, counts);
    }
  }
  for (let i = body; i < n; i++) {
    const x = <f64>one<T>(src, i);
    binOne(x, <i32>Math.floor((x - lo) * norm), lo, hi, last, edges, counts);
  }
}

/** Largest bins of the pair table (PAIR_TABLE in assembly/scratch.ts: bins + 2 rows of S cells, see pairCount). */
const PAIR_BINS: i32 = 64;
/** Values per fast-path block: their fractions are tested together, once. */
const BLOCK: i32 = 16;
// The pair table, its column sums and pairCount's vector constants live in the instance's
// scratch (assembly/scratch.ts).

/**
 * The margin, in bins, that makes the f32 bin estimate exact, or -1 when the f32 path does not
 * apply. Notation: N = bins / (hi - lo) exactly, T(x) = (x - lo) * N (real arithmetic), so that
 * x >= edges[i] <=> T(x) >= tau_i := (edges[i] - lo) * N (N > 0), with tau_0 = 0, tau_bins = bins.
 *  - D >= max_i |tau_i - i|: measured here from the edges actually given (c_i = (e_i - lo) * norm
 *    in f64 is within 2^-50 |c_i| of tau_i), so any edges, not only numpy's, are handled.
 *  - The kernel computes t = f32(f32(x - lo32) * norm32) with lo32 = f32(lo), norm32 =
 *    f32(norm), norm = f64(bins / f64(hi - lo)) = N (1 + a), |a| <= 2^-52. Three f32 roundings
 *    (norm32 normal; x - lo32 is exact when it underflows; an f32 product that underflows gives
 *    t < 2^-126, rejected below) give t = (T + (lo - lo32) N)(1 + h), |h| <= 3.01 * 2^-24, so
 *    whenever 0 <= t < bins: |t - T| <= E := bins * 3.02 * 2^-24 + |lo - lo32| * norm * 1.0001.
 *  - With m >= E + D, a lane is accepted only if f = floor(t) in [0, bins) and
 *    m < t - f < 1 - m; then f + D < T < f + 1 - D, i.e. tau_f < T < tau_(f+1), i.e.
 *    edges[f] < x < edges[f+1]: x is in bin f. Overflow, NaN and +-Inf give t - f = NaN (or t
 *    out of range) and are rejected; rejected lanes go through binOne.
 *  - Sentinels: a lane whose f is outside [0, bins) is accepted into a sentinel cell (not
 *    counted) when its fraction passes the same test. That is right only if x is outside
 *    [lo, hi]. Suppose x were inside, i.e. 0 <= T <= bins: |lo|, |hi| <= 2^126 (required here)
 *    keep x - lo32 and t finite, and the error bound gives -E <= t <= bins + E. Then f = -1
 *    means -E <= t < 0 and the computed fraction fl(t + 1) >= 1 - E - 2^-25 >= 1 - m (m
 *    includes an extra 2^-23), and f = bins means t - bins <= E < m (exact, Sterbenz): both
 *    rejected. NaN/+-Inf x (or an overflowing t) give a NaN fraction, which the min/max fold
 *    skips, and f = NaN/+-Inf, clamped to a sentinel: not counted, as numpy does.
 * The f32 constants are rounded the safe way: m32 >= m, 1 - m32' <= 1 - m.
 */
function f32Margin(lo: f64, hi: f64, bins: i32, edges: usize, norm: f64): f64 {
  const lo32 = <f32>lo;
  const norm32 = <f32>norm;
  if (!(abs(lo) <= 8.507059173023462e37 && abs(hi) <= 8.507059173023462e37)) return -1; // 2^126
  if (!(norm32 >= 1.1754943508222875e-38 && norm32 < Infinity)) return -1;
  let d: f64 = 0;
  for (let i = 0; i <= bins; i++) {
    const c = (load<f64>(edges + (<usize>i << 3)) - lo) * norm;
    d = max(d, abs(c - <f64>i) + abs(c) * 8.881784197001252e-16); // 2^-50
  }
  const e = <f64>bins * 3.02 * 5.960464477539063e-8 + abs(lo - <f64>lo32) * norm * 1.0001; // 2^-24
  const m = (e + d) * 1.0001 + 1.1920928955078125e-7; // + 2^-23 (the sentinels)
  if (!(m < 0.125)) return -1;
  return m;
}

// @ts-ignore: decorator
@inline function f32Up(x: f64): f32 {
  // Smallest f32 >= x, for 0 < x < 1.
  let y = <f32>x;
  if (<f64>y < x) y = reinterpret<f32>(reinterpret<u32>(y) + 1);
  return y;
}

/** Smallest f32 >= x, for finite x within the f32 range. */
function f32UpAny(x: f64): f32 {
  const y = <f32>x;
  if (<f64>y >= x) return y;
  return y >= 0 ? reinterpret<f32>(reinterpret<u32>(y) + 1) : reinterpret<f32>(reinterpret<u32>(y) - 1);
}

/** Largest f32 <= x, for finite x within the f32 range. */
function f32DownAny(x: f64): f32 {
  return -f32UpAny(-x);
}

// @ts-ignore: decorator
@inline function f32Down(x: f64): f32 {
  // Largest f32 <= x, for 0 < x < 1.
  let y = <f32>x;
  if (<f64>y > x) y = reinterpret<f32>(reinterpret<u32>(y) - 1);
  return y;
}

/**
 * The fast path of histogramUniform over n (a multiple of BLOCK) values; see f32Margin.
 *
 *   table ──► u32[(bins + 2) x S]   S = bins + 2 rounded up to a multiple of 4
 *             row f(x[i+j]) + 1, column f(x[i+4+j]) + 1, f clamped to -1 .. bins:
 *             row 0 / column 0 (x < lo) and row / column bins + 1 (x > hi, NaN, +-Inf) are
 *             sentinels, never harvested.
 */
// @ts-ignore: decorator
@inline function pairCount<T>(src: usize, n: i32, bins: i32, edges: usize, counts: usize, lo: f64, hi: f64, norm: f64, m: f64): void {
  const table = scratch() + PAIR_TABLE;
  const S = (bins + 5) & ~3;
  // The loop's vector constants live in memory: V8 would rebuild splats inside the loop, a load
  // (usually folded into the instruction using it) is cheaper.
  const k = scratch() + LANE_CONSTS;
  v128.store(k, f32x4.splat(<f32>lo), 0);
  v128.store(k, f32x4.splat(<f32>norm), 16);
  v128.store(k, f32x4.splat(f32Up(m)), 32);
  v128.store(k, f32x4.splat(f32Down(1 - m)), 48);
  v128.store(k, f32x4.splat(<f32>bins), 64);
  v128.store(k, f32x4.splat(-1), 80);
  v128.store(k, f32x4.splat(<f32>S), 96);
  // 1.5 * 2^23 + S + 1: adding it puts the cell (f + 1) * S + (g + 1) in the low mantissa bits.
  v128.store(k, f32x4.splat(<f32>(<i32>12582912 + S + 1)), 112);
  v128.store(k, f32x4.splat(0.5), 128);
  // (0x4B400000 + cell) * 4 wraps to cell * 4 + 0x2D000000 in 32-bit address arithmetic.
  const tableAt = table - 0x2d000000;
  const last = bins - 1;
  const m32 = f32Up(m), top32 = f32Down(1 - m);
  const spill = scratch() + LANE_SPILL;
  // f16: each TOUCH values are widened into an L1 span first (the in-register widening would
  // lengthen this loop, already the kernel's bottleneck); bf16 is widened in registers.
  const buf = scratch() + SPAN_F32;
  for (let i = 0; i < n; i += BLOCK) {
    let p = src + <usize>i * sizeof<T>();
    if ((i & (TOUCH - 1)) == 0) {
      if (isHalf<T>()) widenF16(p, buf, min(TOUCH, n - i));
      else touch(p, <usize>min(TOUCH, n - i) * sizeof<T>());
    }
    if (isHalf<T>()) p = buf + (<usize>(i & (TOUCH - 1)) << 2);
    // Two groups of eight: cells held, fractions folded, then one test for the block's 16 values.
    // pmin(acc, x) / pmax(acc, x) keep acc when x is NaN (such a lane goes to a sentinel).
    const half = v128.load(k, 128);
    const a0 = binPosition(pairLoad<T>(p, 0), k), b0 = binPosition(pairLoad<T>(p, 4), k);
    const a1 = binPosition(pairLoad<T>(p, 8), k), b1 = binPosition(pairLoad<T>(p, 12), k);
    const fa0 = f32x4.floor(a0), fb0 = f32x4.floor(b0), fa1 = f32x4.floor(a1), fb1 = f32x4.floor(b1);
    const gmin = f32x4.pmin(f32x4.pmin(f32x4.pmin(f32x4.pmin(half, f32x4.sub(a0, fa0)), f32x4.sub(b0, fb0)), f32x4.sub(a1, fa1)), f32x4.sub(b1, fb1));
    const gmax = f32x4.pmax(f32x4.pmax(f32x4.pmax(f32x4.pmax(half, f32x4.sub(a0, fa0)), f32x4.sub(b0, fb0)), f32x4.sub(a1, fa1)), f32x4.sub(b1, fb1));
    if (i8x16.bitmask(v128.and(f32x4.gt(gmin, v128.load(k, 32)), f32x4.lt(gmax, v128.load(k, 48)))) == 0xffff) {
      bumpCells(tableAt, pairCell(fa0, fb0, k));
      bumpCells(tableAt, pairCell(fa1, fb1, k));
    } else {
      // A value near an edge: the block value by value. Each value's own t (recomputed, the same
      // arithmetic: keeping a0 .. b1 alive into this branch slowed the loop) passes the same test
      // as above or goes through binOne; values on edges are common in coarse data (f32 holding
      // bf16 or f16 values), so the others in the block stay cheap. A passing f outside [0, bins)
      // is a value outside [lo, hi] (the sentinels).
      for (let j = 0; j < BLOCK; j += 4) v128.store(spill + (<usize>j << 2), binPosition(pairLoad<T>(p, j), k));
      for (let j = 0; j < BLOCK; j++) {
        const t = load<f32>(spill + (<usize>j << 2));
        const f = Mathf.floor(t);
        if (t - f > m32 && t - f < top32) {
          if (f >= 0 && f < <f32>bins) bump64(counts, <i32>f);
        } else {
          const x = <f64>(isHalf<T>() ? load<f32>(p + (<usize>j << 2)) : one<T>(p, j));
          binOne(x, <i32>Math.floor((x - lo) * norm), lo, hi, last, edges, counts);
        }
      }
    }
  }
  harvestPairs(table, bins, counts);
}

/** Add the pair table's row and column sums into counts and leave it zeroed (see pairCount). */
function harvestPairs(table: usize, bins: i32, counts: usize): void {
  const S = (bins + 5) & ~3;
  // Each cell (a, b) counted one value in bin a - 1 and one in bin b - 1 (sentinels aside). Row
  // sums as they come, column sums into PAIR_COLS; both left zeroed. A sum stays below 2^32 (n < 2^31).
  const cols = scratch() + PAIR_COLS;
  for (let a = 0; a < bins + 2; a++) {
    const rowp = table + (<usize>(a * S) << 2);
    let row = i32x4.splat(0);
    for (let b = 0; b < S; b += 4) {
      const cell = rowp + (<usize>b << 2);
      const c = v128.load(cell);
      row = i32x4.add(row, c);
      const at = cols + (<usize>b << 2);
      v128.store(at, i32x4.add(v128.load(at), c));
      v128.store(cell, i32x4.splat(0));
    }
    if (a >= 1 && a <= bins) {
      const sum = <u32>i32x4.extract_lane(row, 0) + <u32>i32x4.extract_lane(row, 1) + <u32>i32x4.extract_lane(row, 2) + <u32>i32x4.extract_lane(row, 3);
      const at = counts + (<usize>(a - 1) << 3);
      store<i64>(at, load<i64>(at) + <i64>sum);
    }
  }
  for (let b = 1; b <= bins; b++) {
    const at = counts + (<usize>(b - 1) << 3);
    store<i64>(at, load<i64>(at) + <i64>load<u32>(cols + (<usize>b << 2)));
  }
  memory.fill(cols, 0, <usize>S << 2);
}

/** Four values from value `at` on: f32 as is, bf16 widened in registers, f16 already widened into the span at p. */
// @ts-ignore: decorator
@inline function pairLoad<T>(p: usize, at: i32): v128 {
  return isHalf<T>() ? v128.load(p + (<usize>at << 2)) : quad<T>(p + <usize>at * sizeof<T>());
}

/** t = (x - lo32) * norm32, lane by lane (constants at k, see pairCount). */
// @ts-ignore: decorator
@inline function binPosition(x: v128, k: usize): v128 {
  return f32x4.mul(f32x4.sub(x, v128.load(k, 0)), v128.load(k, 16));
}

/** The byte offsets (+ 0x2D000000) of the cells (fv, fw), each clamped to -1 .. bins (NaN: bins). */
// @ts-ignore: decorator
@inline function pairCell(fv: v128, fw: v128, k: usize): v128 {
  // pmin(bins, f) gives bins for a NaN f; pmax(-1, .) then raises -Inf (and anything lower) to -1.
  const cv = f32x4.pmax(v128.load(k, 80), f32x4.pmin(v128.load(k, 64), fv));
  const cw = f32x4.pmax(v128.load(k, 80), f32x4.pmin(v128.load(k, 64), fw));
  // Shifted left by 2 as i32 lanes: byte offsets, read lane by lane (measured 6-13% faster than
  // storing the vector and loading four scalars back).
  return i32x4.shl(f32x4.add(f32x4.add(f32x4.mul(cv, v128.load(k, 96)), cw), v128.load(k, 112)), 2);
}

/** Add 1 to the four u32 cells at tableAt + each lane of `cell`. */
// @ts-ignore: decorator
@inline function bumpCells(tableAt: usize, cell: v128): void {
  // Two 64-bit lanes split in scalar registers: measured faster than four 32-bit lane extracts.
  const x = i64x2.extract_lane(cell, 0);
  const y = i64x2.extract_lane(cell, 1);
  bump32(tableAt + <usize><u32>x);
  bump32(tableAt + <usize><u32>(x >>> 32));
  bump32(tableAt + <usize><u32>y);
  bump32(tableAt + <usize><u32>(y >>> 32));
}

/** Values per touch: see touch. */
const TOUCH: i32 = 2048;

// @ts-ignore: decorator
@inline function bump32(at: usize): void {
  store<u32>(at, load<u32>(at) + 1);
}

/** Both lanes inside [0, bins) and at least `margin` away from a bin boundary (false for NaN). */
// @ts-ignore: decorator
@inline function safe(t: v128, f: v128, margin2: v128, upper2: v128, zero2: v128, bins2: v128): bool {
  const frac = f64x2.sub(t, f);
  const ok = v128.and(v128.and(f64x2.gt(frac, margin2), f64x2.lt(frac, upper2)), v128.and(f64x2.ge(f, zero2), f64x2.lt(f, bins2)));
  return i64x2.all_true(ok);
}

// @ts-ignore: decorator
@inline function bump64(counts: usize, idx: i32): void {
  const at = counts + (<usize>idx << 3);
  store<i64>(at, load<i64>(at) + 1);
}

// @ts-ignore: decorator
@inline function binOne(x: f64, estimate: i32, lo: f64, hi: f64, last: i32, edges: usize, counts: usize): void {
  const idx = binIndex(x, estimate, lo, hi, last, edges);
  if (idx < 0) return;
  const at = counts + (<usize>idx << 3);
  store<i64>(at, load<i64>(at) + 1);
}

/** numpy's bin of x (-1 outside [lo, hi] or NaN), from an estimate at most one bin off. */
// @ts-ignore: decorator
@inline function binIndex(x: f64, estimate: i32, lo: f64, hi: f64, last: i32, edges: usize): i32 {
  if (!(x >= lo && x <= hi)) return -1;
  let idx = estimate;
  if (idx > last) idx = last;
  if (idx < 0) idx = 0;
  if (x < load<f64>(edges + (<usize>idx << 3))) idx--;
  else if (idx != last && x >= load<f64>(edges + (<usize>(idx + 1) << 3))) idx++;
  return idx;
}

/**
 * f16 and bf16 through a table of all 65,536 patterns: HALF_LUT[h] = (numpy's bin of the widened
 * h) + 1, or bins + 1 for NaN, +-Inf and values outside [lo, hi] (a sentinel of the pair table).
 * Each entry is computed once per dtype and edges (LUT_KEY holds the dtype, 1 f16 or 2 bf16,
 * bins and a copy of the edges the table was built for), exactly: the f32 estimate with
 * f32Margin's test, an exact f32 comparison with the range, else binIndex against the edges.
 * Coarse 16-bit values often sit exactly on an edge, which sends the pair path's blocks to the
 * value-by-value check (bf16 ran at 0.44x the f32 histogram's values/s that way); the table
 * decides those once per pattern.
 * Counting then needs no arithmetic and no test per value: two table reads per pair of values
 * and one bump of the pair table. A call builds the table only when it is long (LUT_MIN values,
 * the host's whole kernel call): measured, a build takes about 70 us, a call of 131,072 values
 * about 85 us with the table and 160 us without (widening into the span, then pairCount), so
 * even a tensor of one such call does not lose, and each further call with the same edges gains.
 */
const LUT_MIN: i32 = 131072;

function lutMatches(kind: i32, bins: i32, edges: usize): bool {
  const key = scratch() + LUT_KEY;
  if (load<i32>(key) != kind || load<i32>(key, 4) != bins) return false;
  for (let i = 0; i <= bins; i++) {
    if (load<u64>(key + 8 + (<usize>i << 3)) != load<u64>(edges + (<usize>i << 3))) return false;
  }
  return true;
}

// Inlined into histogramUniformF16, like lutCount, so the warm-up's calls (kernels.ts warmUp, too
// short to build the table) tier them up with it.
// @ts-ignore: decorator
@inline function buildLut<T>(kind: i32, bins: i32, edges: usize): bool {
  const lut = scratch() + HALF_LUT;
  const lo = load<f64>(edges);
  const hi = load<f64>(edges + (<usize>bins << 3));
  const norm = <f64>bins / (hi - lo);
  const last = bins - 1;
  const m = f32Margin(lo, hi, bins, edges, norm);
  const lo32 = <f32>lo, norm32 = <f32>norm, m32 = m > 0 ? f32Up(m) : 1, top32 = m > 0 ? f32Down(1 - m) : 0;
  const pattern = scratch() + SPAN_F32 + 8192; // u16[2048], widened into the span's first half
  const wide = scratch() + SPAN_F32;
  const lo4 = f32x4.splat(lo32), norm4 = f32x4.splat(norm32), m4 = f32x4.splat(m32), top4 = f32x4.splat(top32);
  const bins4 = f32x4.splat(<f32>bins);
  // 1.5 * 2^23 + 1: adding it to f puts f + 1 in the low byte of each lane.
  const magic4 = f32x4.splat(12582913);
  const sentinel4 = i32x4.splat(bins + 1);
  const below4 = f32x4.splat(f32UpAny(lo)), above4 = f32x4.splat(f32DownAny(hi));
  for (let h0 = 0; h0 < 65536; h0 += 2048) {
    for (let j = 0; j < 2048; j += 8) v128.store(pattern + (<usize>j << 1), i16x8.add(i16x8.splat(<i16>(h0 + j)), v128(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0)));
    if (isHalf<T>()) widenF16(pattern, wide, 2048);
    else widenBF16(pattern, wide, 2048);
    for (let j = 0; j < 2048; j += 4) {
      const x = v128.load(wide + (<usize>j << 2));
      const t = f32x4.mul(f32x4.sub(x, lo4), norm4);
      const f = f32x4.floor(t);
      const frac = f32x4.sub(t, f);
      const ok = v128.and(v128.and(f32x4.gt(frac, m4), f32x4.lt(frac, top4)), v128.and(f32x4.ge(f, f32x4.splat(0)), f32x4.lt(f, bins4)));
      // Outside [lo, hi], exactly (x is an f32): x < f32Up(lo) or x > f32Down(hi). Not NaN.
      const out = v128.or(f32x4.lt(x, below4), f32x4.gt(x, above4));
      const at = lut + <usize>(h0 + j);
      if (m > 0 && i32x4.all_true(v128.or(ok, out))) {
        // The low byte of each lane: f + 1, or the sentinel bins + 1.
        const b = v128.bitselect(sentinel4, f32x4.add(f, magic4), out);
        v128.store32_lane(at, i8x16.shuffle(b, b, 0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
      } else {
        for (let q = 0; q < 4; q++) {
          const y = <f64>load<f32>(wide + (<usize>(j + q) << 2));
          const b = binIndex(y, <i32>Math.floor((y - lo) * norm), lo, hi, last, edges);
          store<u8>(at + <usize>q, <u8>(b < 0 ? bins + 1 : b + 1));
        }
      }
    }
  }
  const key = scratch() + LUT_KEY;
  store<i32>(key, kind);
  store<i32>(key, bins, 4);
  memory.copy(key + 8, edges, <usize>(bins + 1) << 3);
  return true;
}

/** n (a multiple of 8) 16-bit patterns at src through HALF_LUT into the pair table, then into counts. */
// @ts-ignore: decorator
@inline function lutCount(src: usize, n: i32, bins: i32, counts: usize): void {
  const table = scratch() + PAIR_TABLE;
  const lut = scratch() + HALF_LUT;
  const S = (bins + 5) & ~3;
  for (let i = 0; i < n; i += 8) {
    const p = src + (<usize>i << 1);
    if ((i & (TOUCH - 1)) == 0) touch(p, <usize>min(TOUCH, n - i) << 1);
    // Eight patterns as two 64-bit lanes, split in scalar registers; pairs (x[i+j], x[i+4+j]).
    const v = v128.load(p);
    const x = i64x2.extract_lane(v, 0);
    const y = i64x2.extract_lane(v, 1);
    bump32(table + (<usize>(<u32>load<u8>(lut + <usize>(<u32>x & 0xffff)) * S + <u32>load<u8>(lut + <usize>(<u32>y & 0xffff))) << 2));
    bump32(table + (<usize>(<u32>load<u8>(lut + <usize>(<u32>(x >>> 16) & 0xffff)) * S + <u32>load<u8>(lut + <usize>(<u32>(y >>> 16) & 0xffff))) << 2));
    bump32(table + (<usize>(<u32>load<u8>(lut + <usize>(<u32>(x >>> 32) & 0xffff)) * S + <u32>load<u8>(lut + <usize>(<u32>(y >>> 32) & 0xffff))) << 2));
    bump32(table + (<usize>(<u32>load<u8>(lut + <usize><u32>(x >>> 48)) * S + <u32>load<u8>(lut + <usize><u32>(y >>> 48))) << 2));
  }
  harvestPairs(table, bins, counts);
}

/** histogramUniform for f64 values. */
export function histogramUniformF64(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  const lo = load<f64>(edges);
  const hi = load<f64>(edges + (<usize>bins << 3));
  const norm = <f64>bins / (hi - lo);
  const lo2 = f64x2.splat(lo);
  const norm2 = f64x2.splat(norm);
  const last = bins - 1;
  const body = n & ~1;
  for (let i = 0; i < body; i += 2) {
    const x = v128.load(src + (<usize>i << 3));
    const e = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.mul(f64x2.sub(x, lo2), norm2)));
    binOne(f64x2.extract_lane(x, 0), i32x4.extract_lane(e, 0), lo, hi, last, edges, counts);
    binOne(f64x2.extract_lane(x, 1), i32x4.extract_lane(e, 1), lo, hi, last, edges, counts);
  }
  if (body < n) {
    const x = load<f64>(src + (<usize>body << 3));
    binOne(x, <i32>Math.floor((x - lo) * norm), lo, hi, last, edges, counts);
  }
}

/** Any ascending edges (caller-given, possibly uneven): binary search per value. */
export function histogramEdges(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  for (let i = 0; i < n; i++) binSearch(<f64>load<f32>(src + (<usize>i << 2)), bins, edges, counts);
}

/** histogramEdges for f64 values. */
export function histogramEdgesF64(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  for (let i = 0; i < n; i++) binSearch(load<f64>(src + (<usize>i << 3)), bins, edges, counts);
}

// @ts-ignore: decorator
@inline function binSearch(x: f64, bins: i32, edges: usize, counts: usize): void {
  if (!(x >= load<f64>(edges) && x <= load<f64>(edges + (<usize>bins << 3)))) return;
  // Largest idx with edges[idx] <= x, capped at the last bin (x == the last edge lands there).
  let a = 0, b = bins;
  while (b - a > 1) {
    const mid = (a + b) >>> 1;
    if (load<f64>(edges + (<usize>mid << 3)) <= x) a = mid; else b = mid;
  }
  const at = counts + (<usize>a << 3);
  store<i64>(at, load<i64>(at) + 1);
}

/**
 * Fine mergeable histogram for one-shot streams, where min and max are not known before the
 * data: one u32 bucket per top 16 bits of the f32 pattern (sign, exponent, 7 mantissa bits), so
 * every bucket spans under 1/128 of its values' magnitude. Buckets merge by adding; the host
 * rebins them to [min, max] at the end (see src/measure/fine-histogram.ts for the error bound).
 *
 *   counts ──► u32[65536]   (the host keeps n per call below 2^32)
 */
export function histogramFine(src: usize, n: i32, counts: usize): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const b = i32x4.shl(i32x4.shr_u(v128.load(src + (<usize>i << 2)), 16), 2);
    bump(counts + <usize>i32x4.extract_lane(b, 0));
    bump(counts + <usize>i32x4.extract_lane(b, 1));
    bump(counts + <usize>i32x4.extract_lane(b, 2));
    bump(counts + <usize>i32x4.extract_lane(b, 3));
  }
  for (let i = body; i < n; i++) {
    bump(counts + (<usize>(load<u32>(src + (<usize>i << 2)) >>> 16) << 2));
  }
}

// @ts-ignore: decorator
@inline function bump(at: usize): void {
  store<u32>(at, load<u32>(at) + 1);
}
