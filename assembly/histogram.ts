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
// are those of widening first and calling histogramUniform.
import { touch } from "./prefetch";
import { scratch, PAIR_TABLE, LANE_CONSTS } from "./scratch";
import { quad, one, halfConsts, isHalf, widenF16 } from "./widen";
import { SPAN_F32 } from "./scratch";

/**
 * Uniform edges (edges[i] = lo + i * step, as numpy.linspace makes them).
 *
 * Fast path (bins <= PAIR_BINS, f32-friendly range, see f32Margin): each value's bin position
 * t = (x - lo32) * norm32 is computed in f32, four lanes at a time, and f = floor(t) is taken as
 * its bin when t is at least `margin` away from an integer and 0 <= f < bins; f32Margin proves
 * that such an f is the bin the f64 edges give (numpy's rule). Values are taken eight at a time
 * as four pairs (x[i+j], x[i+4+j]) and each pair bumps one u32 cell of a bins x bins table
 * (pairs halve the scalar read-modify-writes, and the 16 KiB table stays in L1); the table's row
 * and column sums are added into `counts` at the end of the call. Any group of eight with a
 * value near an edge, out of range, NaN or +-Inf goes value by value through binOne (f64, checked
 * against the edges themselves).
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
  histogramUniformOf<u16>(src, n, bins, edges, counts);
}

/** histogramUniform over `n` bfloat16 values (2 bytes each) at `src`. */
export function histogramUniformBF16(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  histogramUniformOf<i16>(src, n, bins, edges, counts);
}

// @ts-ignore: decorator
@inline function histogramUniformOf<T>(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  const lo = load<f64>(edges);
  const hi = load<f64>(edges + (<usize>bins << 3));
  const norm = <f64>bins / (hi - lo);
  let done = 0;
  if (bins <= PAIR_BINS && n >= 16) {
    const m = f32Margin(lo, bins, edges, norm);
    if (m > 0) {
      done = n & ~7;
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

/** Largest bins of the pair table; it holds PAIR_BINS^2 u32 cells (16 KiB), zero between calls. */
const PAIR_BINS: i32 = 64;
// The pair table (PAIR_BINS^2 u32 cells) and pairCount's vector constants live in the
// instance's scratch (assembly/scratch.ts).

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
 * The f32 constants are rounded the safe way: m32 >= m, 1 - m32' <= 1 - m.
 */
function f32Margin(lo: f64, bins: i32, edges: usize, norm: f64): f64 {
  const lo32 = <f32>lo;
  const norm32 = <f32>norm;
  if (!(abs(lo32) < Infinity && norm32 >= 1.1754943508222875e-38 && norm32 < Infinity)) return -1;
  let d: f64 = 0;
  for (let i = 0; i <= bins; i++) {
    const c = (load<f64>(edges + (<usize>i << 3)) - lo) * norm;
    d = max(d, abs(c - <f64>i) + abs(c) * 8.881784197001252e-16); // 2^-50
  }
  const e = <f64>bins * 3.02 * 5.960464477539063e-8 + abs(lo - <f64>lo32) * norm * 1.0001; // 2^-24
  const m = (e + d) * 1.0001;
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

// @ts-ignore: decorator
@inline function f32Down(x: f64): f32 {
  // Largest f32 <= x, for 0 < x < 1.
  let y = <f32>x;
  if (<f64>y > x) y = reinterpret<f32>(reinterpret<u32>(y) - 1);
  return y;
}

/** The fast path of histogramUniform over n (a multiple of 8) values; see f32Margin. */
// @ts-ignore: decorator
@inline function pairCount<T>(src: usize, n: i32, bins: i32, edges: usize, counts: usize, lo: f64, hi: f64, norm: f64, m: f64): void {
  const table = scratch() + PAIR_TABLE;
  // The loop's vector constants live in memory: V8 would rebuild splats inside the loop, a load
  // (usually folded into the instruction using it) is cheaper.
  const k = scratch() + LANE_CONSTS;
  v128.store(k, f32x4.splat(<f32>lo), 0);
  v128.store(k, f32x4.splat(<f32>norm), 16);
  v128.store(k, f32x4.splat(f32Up(m)), 32);
  v128.store(k, f32x4.splat(f32Down(1 - m)), 48);
  v128.store(k, f32x4.splat(<f32>bins), 64);
  v128.store(k, f32x4.splat(12582912), 80); // 1.5 * 2^23: adding it puts a small integer in the low mantissa bits
  // (0x4B400000 + cell) * 4 wraps to cell * 4 + 0x2D000000 in 32-bit address arithmetic.
  const tableAt = table - 0x2d000000;
  const last = bins - 1;
  // f16: each TOUCH values are widened into an L1 span first (the in-register widening would
  // lengthen this loop, already the kernel's bottleneck); bf16 is widened in registers.
  const buf = scratch() + SPAN_F32;
  for (let i = 0; i < n; i += 8) {
    let p = src + <usize>i * sizeof<T>();
    if ((i & (TOUCH - 1)) == 0) {
      if (isHalf<T>()) widenF16(p, buf, min(TOUCH, n - i));
      else touch(p, <usize>min(TOUCH, n - i) * sizeof<T>());
    }
    if (isHalf<T>()) p = buf + (<usize>(i & (TOUCH - 1)) << 2);
    const v = isHalf<T>() ? v128.load(p) : quad<T>(p);
    const w = isHalf<T>() ? v128.load(p, 16) : quad<T>(p + 4 * sizeof<T>());
    const tv = f32x4.mul(f32x4.sub(v, v128.load(k, 0)), v128.load(k, 16));
    const tw = f32x4.mul(f32x4.sub(w, v128.load(k, 0)), v128.load(k, 16));
    const fv = f32x4.floor(tv);
    const fw = f32x4.floor(tw);
    const gv = f32x4.sub(tv, fv);
    const gw = f32x4.sub(tw, fw);
    // pmin/pmax keep a NaN only from their first operand: v's NaN fails the first test, w's the second.
    const fracOk = v128.and(f32x4.gt(f32x4.pmin(gv, gw), v128.load(k, 32)), f32x4.lt(f32x4.pmax(gw, gv), v128.load(k, 48)));
    const rangeOk = v128.and(f32x4.ge(f32x4.pmin(fv, fw), f32x4.splat(0)), f32x4.lt(f32x4.pmax(fv, fw), v128.load(k, 64)));
    if (i8x16.bitmask(v128.and(fracOk, rangeOk)) == 0xffff) {
      // Cell fv * bins + fw (exact small integers), as i32 via the magic constant.
      // Shifted left by 2 as i32 lanes: byte offsets, read lane by lane (measured 6-13% faster than
      // storing the vector and loading four scalars back).
      const cell = i32x4.shl(f32x4.add(f32x4.add(f32x4.mul(fv, v128.load(k, 64)), fw), v128.load(k, 80)), 2);
      bump32(tableAt + <usize>i32x4.extract_lane(cell, 0));
      bump32(tableAt + <usize>i32x4.extract_lane(cell, 1));
      bump32(tableAt + <usize>i32x4.extract_lane(cell, 2));
      bump32(tableAt + <usize>i32x4.extract_lane(cell, 3));
    } else {
      for (let j = 0; j < 8; j++) {
        const x = <f64>(isHalf<T>() ? load<f32>(p + (<usize>j << 2)) : one<T>(p, j));
        binOne(x, <i32>Math.floor((x - lo) * norm), lo, hi, last, edges, counts);
      }
    }
  }
  // Each cell (a, b) counted one value in bin a and one in bin b. Leave the table zeroed.
  for (let a = 0; a < bins; a++) {
    let row: i64 = 0;
    const rowp = table + (<usize>(a * bins) << 2);
    for (let b = 0; b < bins; b++) {
      const cell = rowp + (<usize>b << 2);
      const c = <i64>load<u32>(cell);
      if (c != 0) {
        row += c;
        const at = counts + (<usize>b << 3);
        store<i64>(at, load<i64>(at) + c);
        store<u32>(cell, 0);
      }
    }
    const at = counts + (<usize>a << 3);
    store<i64>(at, load<i64>(at) + row);
  }
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
  if (!(x >= lo && x <= hi)) return;
  let idx = estimate;
  if (idx > last) idx = last;
  if (idx < 0) idx = 0;
  if (x < load<f64>(edges + (<usize>idx << 3))) idx--;
  else if (idx != last && x >= load<f64>(edges + (<usize>(idx + 1) << 3))) idx++;
  const at = counts + (<usize>idx << 3);
  store<i64>(at, load<i64>(at) + 1);
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
