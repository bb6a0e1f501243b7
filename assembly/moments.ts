// One pass over a block of f32 values: count of NaN/+Inf/-Inf, f64 sum, f64 shifted sum of
// squares, min and max of the finite values and, for matrices, f64 row sums and column sums.
// Non-finite values are excluded from everything but their counts (spec section 2; they add 0
// to row and column sums, so a node's strength counts its finite links only).
//
// Matrix layout (row-major, `cols` columns); a block may start and end anywhere in a row:
//
//   src ──► [ x(row, col) x(row, col+1) ... x(row, cols-1) | x(row+1, 0) ... ]   n f32 values
//   rowSums ──► f64[rows]   (the host points it at row 0 of the matrix)
//   colSums ──► f64[cols]
//
// How a block is processed (speed; see /work/shared/spec/kernel-notes.md):
//  - The block is cut into spans of at most SPAN values of one row (or the same columns of two
//    rows, see below). Each span is first `touch`ed (one load per cache line: this loop starts a
//    cache miss every few instructions, so many are in flight; the arithmetic loops below have
//    so many instructions per line that on these machines they stream from memory at a third
//    of the rate) and then read by `scan`: a light f32 loop that takes the min and max and an
//    f32 running sum whose only use is to tell whether every value is finite.
//  - A span whose values are all finite (the scan's sum is finite) then goes through an f64 loop
//    with no NaN/Inf handling at all: promotion, row sums, column sums, shifted squares.
//  - A span with any non-finite value (or whose f32 sum overflowed) goes through a masked loop
//    instead (non-finite lanes add 0 to the sums), and the block's counts, extrema and squared
//    sum are then redone by a scalar pass over the whole block (fixBlock). Trained weights
//    rarely hold NaN/Inf, so that path is slow but rare.
//  - Whole rows are taken two at a time, so each column sum is loaded and stored once per two
//    rows.
//
// Accumulation order, stated because rounding depends on it (every sum is f64):
//  - column sums: for two rows r, r+1 taken together (whole rows of the block, paired from the
//    block's first whole row on), col += (x(r) + x(r+1)); for a row taken alone, col += x(r).
//  - a row sum is the sum, in column order, of its spans' sums (spans of SPAN columns); a span's
//    sum has two lanes: lane j adds (x[4i+j] + x[4i+j+2]) over the span's quads in order, then
//    lane 0 + lane 1, then the span's scalar tail in order.
//  - SUM adds the block's row sums (row segments) in row order.
//  - SQ adds, per span, two f64x2 lanes of shifted squares (for two rows: (d(r)^2 + d(r+1)^2)
//    per element pair), combined and then the tail, span after span.
// The host feeds blocks on a fixed grid from the tensor's start, so the result does not depend on
// how the source chunked the bytes.
//
// Stored types (the kernels are generic over T, the type of one stored value; every variant does
// the same f64 arithmetic in the same order on the same f32 values, so results are bit-identical
// to widening the block to f32 first and running the f32 kernel):
//   f32  f32 values                                   statsOnly, statsRowsCols
//   u16  IEEE half (f16) bit patterns                 statsOnlyF16, statsRowsColsF16
//   i16  bfloat16 bit patterns (top half of an f32)   statsOnlyBF16, statsRowsColsBF16
// bf16 is widened in registers (a 16-bit shift, assembly/widen.ts quad). f16 takes more
// instructions, and this kernel reads each value twice (scan, then the sums): an f16 span is
// widened once into an L1 scratch span (SPAN_F32) that the f32 code then reads. Either way no f32
// copy of the block is made, and the kernel reads half the bytes of an f32 one. The span helpers
// are inlined into each export (binaryen inlined them into the single f32 caller before there were
// three; test/kernels/wat-simd.test.ts reads the SIMD loops in the exports' own bodies).
import { SUM, SQ, SHIFT, MIN, MAX, NAN_COUNT, POS_INF, NEG_INF } from "./state";
import { touch } from "./prefetch";
import { quad, one, halfConsts, isHalf, widenF16 } from "./widen";
import { scratch, SPAN_F32 } from "./scratch";

/** Values (of one row) per span: 2 x 8 KiB of data and 16 KiB of column sums stay in L1. */
const SPAN: i32 = 2048;

// Results of the span helpers, in module globals (wasm globals belong to the instance, and a
// kernel call never re-enters).
let vMin: v128 = f32x4.splat(Infinity);
let vMax: v128 = f32x4.splat(-Infinity);
let gRow0: f64 = 0;
let gRow1: f64 = 0;
let gSq: f64 = 0;

// @ts-ignore: decorator
@inline function laneMin(v: v128): f32 {
  return min(min(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), min(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function laneMax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}


/**
 * Read `len` f32 values at `p`: fold them into vMin/vMax (the lane-wise pmin/pmax skip NaN; the
 * extrema only count when the whole block turns out finite) and return whether all are finite.
 * An f32 running sum is finite exactly when no lane saw NaN or +-Inf, unless finite values
 * overflow it, which only sends the span down the slower exact path.
 */
// @ts-ignore: decorator
@inline function scan<T>(p: usize, len: i32): bool {
  let mn = vMin, mx = vMax;
  let sa = f32x4.splat(0), sb = f32x4.splat(0);
  const body = len & ~7;
  for (let i = 0; i < body; i += 8) {
    const a = quad<T>(p + <usize>i * sizeof<T>());
    const b = quad<T>(p + <usize>(i + 4) * sizeof<T>());
    sa = f32x4.add(sa, a);
    sb = f32x4.add(sb, b);
    mn = f32x4.pmin(mn, f32x4.pmin(a, b));
    mx = f32x4.pmax(mx, f32x4.pmax(a, b));
  }
  let s = f32x4.add(sa, sb);
  for (let i = body; i < len; i++) {
    const x = f32x4.splat(one<T>(p, i));
    s = f32x4.add(s, x);
    mn = f32x4.pmin(mn, x);
    mx = f32x4.pmax(mx, x);
  }
  vMin = mn;
  vMax = mx;
  return i32x4.all_true(f32x4.eq(f32x4.sub(s, s), f32x4.splat(0)));
}

/**
 * Two rows' spans of `len` finite values at p0 and p1, over the same columns: row sums into
 * gRow0/gRow1, col += (x0 + x1), shifted squares into gSq.
 */
// @ts-ignore: decorator
@inline function sumPair<T>(p0: usize, p1: usize, colp: usize, len: i32, shift: f64): void {
  const k2 = f64x2.splat(shift);
  let r0 = f64x2.splat(0), r1 = f64x2.splat(0), sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  const body = len & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = quad<T>(p0 + <usize>i * sizeof<T>());
    const w = quad<T>(p1 + <usize>i * sizeof<T>());
    const vl = f64x2.promote_low_f32x4(v);
    const vh = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    const wl = f64x2.promote_low_f32x4(w);
    const wh = f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 2, 3));
    r0 = f64x2.add(r0, f64x2.add(vl, vh));
    r1 = f64x2.add(r1, f64x2.add(wl, wh));
    const c = colp + (<usize>i << 3);
    v128.store(c, f64x2.add(v128.load(c), f64x2.add(vl, wl)));
    v128.store(c, f64x2.add(v128.load(c, 16), f64x2.add(vh, wh)), 16);
    const a = f64x2.sub(vl, k2), b = f64x2.sub(vh, k2), d = f64x2.sub(wl, k2), e = f64x2.sub(wh, k2);
    sqA = f64x2.add(sqA, f64x2.add(f64x2.mul(a, a), f64x2.mul(d, d)));
    sqB = f64x2.add(sqB, f64x2.add(f64x2.mul(b, b), f64x2.mul(e, e)));
  }
  let s0 = f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1);
  let s1 = f64x2.extract_lane(r1, 0) + f64x2.extract_lane(r1, 1);
  const q = f64x2.add(sqA, sqB);
  let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  for (let i = body; i < len; i++) {
    const x = <f64>one<T>(p0, i);
    const y = <f64>one<T>(p1, i);
    s0 += x;
    s1 += y;
    const c = colp + (<usize>i << 3);
    store<f64>(c, load<f64>(c) + (x + y));
    sq += (x - shift) * (x - shift) + (y - shift) * (y - shift);
  }
  gRow0 = s0;
  gRow1 = s1;
  gSq += sq;
}

/** One row's span of `len` finite values: its sum into gRow0, col += x (if colp), shifted squares into gSq. */
// @ts-ignore: decorator
@inline function sumRow<T>(p: usize, colp: usize, len: i32, shift: f64): void {
  const k2 = f64x2.splat(shift);
  let r0 = f64x2.splat(0), sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  const body = len & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = quad<T>(p + <usize>i * sizeof<T>());
    const vl = f64x2.promote_low_f32x4(v);
    const vh = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    r0 = f64x2.add(r0, f64x2.add(vl, vh));
    const c = colp + (<usize>i << 3);
    v128.store(c, f64x2.add(v128.load(c), vl));
    v128.store(c, f64x2.add(v128.load(c, 16), vh), 16);
    const a = f64x2.sub(vl, k2), b = f64x2.sub(vh, k2);
    sqA = f64x2.add(sqA, f64x2.mul(a, a));
    sqB = f64x2.add(sqB, f64x2.mul(b, b));
  }
  let s0 = f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1);
  const q = f64x2.add(sqA, sqB);
  let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  for (let i = body; i < len; i++) {
    const x = <f64>one<T>(p, i);
    s0 += x;
    const c = colp + (<usize>i << 3);
    store<f64>(c, load<f64>(c) + x);
    sq += (x - shift) * (x - shift);
  }
  gRow0 = s0;
  gSq += sq;
}

/** A row's span that holds non-finite values: returns its sum and adds to the column sums with non-finite lanes as 0. */
// @ts-ignore: decorator
@inline function sumRowMasked<T>(p: usize, colp: usize, len: i32): f64 {
  const inf4 = f32x4.splat(Infinity);
  let r0 = f64x2.splat(0);
  const body = len & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = quad<T>(p + <usize>i * sizeof<T>());
    const xz = v128.and(v, f32x4.lt(f32x4.abs(v), inf4));
    const vl = f64x2.promote_low_f32x4(xz);
    const vh = f64x2.promote_low_f32x4(v128.shuffle<f32>(xz, xz, 2, 3, 2, 3));
    r0 = f64x2.add(r0, f64x2.add(vl, vh));
    const c = colp + (<usize>i << 3);
    v128.store(c, f64x2.add(v128.load(c), vl));
    v128.store(c, f64x2.add(v128.load(c, 16), vh), 16);
  }
  let s0 = f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1);
  for (let i = body; i < len; i++) {
    const x = one<T>(p, i);
    if (abs(x) < Infinity) {
      s0 += <f64>x;
      const c = colp + (<usize>i << 3);
      store<f64>(c, load<f64>(c) + <f64>x);
    }
  }
  return s0;
}

/**
 * The spans of two rows over the same columns: their sums into gRow0 / gRow1 (and the column
 * sums), by the all-finite loop or, returning true, the masked one.
 */
// @ts-ignore: decorator
@inline function pairSpan<T>(p0: usize, p1: usize, colp: usize, len: i32, shift: f64): bool {
  if (scan<T>(p0, len) & scan<T>(p1, len)) {
    sumPair<T>(p0, p1, colp, len, shift);
    return false;
  }
  gRow0 = sumRowMasked<T>(p0, colp, len);
  gRow1 = sumRowMasked<T>(p1, colp, len);
  return true;
}

/** One row's span: its sum into gRow0 (and the column sums); true when it held non-finite values. */
// @ts-ignore: decorator
@inline function rowSpan<T>(p: usize, colp: usize, len: i32, shift: f64): bool {
  if (scan<T>(p, len)) {
    sumRow<T>(p, colp, len, shift);
    return false;
  }
  gRow0 = sumRowMasked<T>(p, colp, len);
  return true;
}

/** A span without column sums: its sum into gRow0; true when it held non-finite values. */
// @ts-ignore: decorator
@inline function flatSpan<T>(p: usize, len: i32, shift: f64): bool {
  if (scan<T>(p, len)) {
    sumFlat<T>(p, len, shift);
    return false;
  }
  gRow0 = sumFlatMasked<T>(p, len);
  return true;
}

/**
 * Add a finite-only block's extrema and squared sum to the state, or, when the block holds
 * non-finite values, redo its counts, extrema and squared sum with a scalar pass.
 */
// @ts-ignore: decorator
@inline function flushBlock<T>(src: usize, n: i32, dirty: bool, state: usize, shift: f64): void {
  if (!dirty) {
    const mn = laneMin(vMin), mx = laneMax(vMax);
    if (mn < load<f32>(state + MIN)) store<f32>(state + MIN, mn);
    if (mx > load<f32>(state + MAX)) store<f32>(state + MAX, mx);
    store<f64>(state + SQ, load<f64>(state + SQ) + gSq);
  } else {
    fixBlock<T>(src, n, state, shift);
  }
}

function fixBlock<T>(src: usize, n: i32, state: usize, shift: f64): void {
  let mn = load<f32>(state + MIN), mx = load<f32>(state + MAX);
  let nan: f64 = 0, pinf: f64 = 0, ninf: f64 = 0, sq: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = one<T>(src, i);
    if (x != x) nan++;
    else if (x == Infinity) pinf++;
    else if (x == -Infinity) ninf++;
    else {
      if (x < mn) mn = x;
      if (x > mx) mx = x;
      const d = <f64>x - shift;
      sq += d * d;
    }
  }
  store<f32>(state + MIN, mn);
  store<f32>(state + MAX, mx);
  store<f64>(state + SQ, load<f64>(state + SQ) + sq);
  store<f64>(state + NAN_COUNT, load<f64>(state + NAN_COUNT) + nan);
  store<f64>(state + POS_INF, load<f64>(state + POS_INF) + pinf);
  store<f64>(state + NEG_INF, load<f64>(state + NEG_INF) + ninf);
}

// @ts-ignore: decorator
@inline function startBlock(): void {
  vMin = f32x4.splat(Infinity);
  vMax = f32x4.splat(-Infinity);
  gSq = 0;
}

/** Moments, extrema and non-finite counts of `n` f32 values at `src`, added into `state`. */
export function statsOnly(src: usize, n: i32, state: usize): void {
  statsOnlyOf<f32>(src, n, state);
}

/** statsOnly over `n` IEEE half values (2 bytes each) at `src`: the same results as widenF16 then statsOnly. */
export function statsOnlyF16(src: usize, n: i32, state: usize): void {
  halfConsts(); // for fixBlock's scalar reads
  statsOnlyOf<u16>(src, n, state);
}

/** statsOnly over `n` bfloat16 values (2 bytes each) at `src`: the same results as widenBF16 then statsOnly. */
export function statsOnlyBF16(src: usize, n: i32, state: usize): void {
  statsOnlyOf<i16>(src, n, state);
}

// @ts-ignore: decorator
@inline function statsOnlyOf<T>(src: usize, n: i32, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  startBlock();
  let dirty = false;
  let total: f64 = 0;
  for (let o = 0; o < n; o += SPAN) {
    const len = min(SPAN, n - o);
    const p = src + <usize>o * sizeof<T>();
    if (isHalf<T>()) {
      const buf = scratch() + SPAN_F32;
      widenF16(p, buf, len);
      if (flatSpan<f32>(buf, len, shift)) dirty = true;
    } else if (flatSpan<T>(p, len, shift)) dirty = true;
    total += gRow0;
  }
  flushBlock<T>(src, n, dirty, state, shift);
  store<f64>(state + SUM, load<f64>(state + SUM) + total);
}

/** sumRow without column sums. */
// @ts-ignore: decorator
@inline function sumFlat<T>(p: usize, len: i32, shift: f64): void {
  const k2 = f64x2.splat(shift);
  let r0 = f64x2.splat(0), sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  const body = len & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = quad<T>(p + <usize>i * sizeof<T>());
    const vl = f64x2.promote_low_f32x4(v);
    const vh = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    r0 = f64x2.add(r0, f64x2.add(vl, vh));
    const a = f64x2.sub(vl, k2), b = f64x2.sub(vh, k2);
    sqA = f64x2.add(sqA, f64x2.mul(a, a));
    sqB = f64x2.add(sqB, f64x2.mul(b, b));
  }
  let s0 = f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1);
  const q = f64x2.add(sqA, sqB);
  let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  for (let i = body; i < len; i++) {
    const x = <f64>one<T>(p, i);
    s0 += x;
    sq += (x - shift) * (x - shift);
  }
  gRow0 = s0;
  gSq += sq;
}

/** sumRowMasked without column sums. */
// @ts-ignore: decorator
@inline function sumFlatMasked<T>(p: usize, len: i32): f64 {
  const inf4 = f32x4.splat(Infinity);
  let r0 = f64x2.splat(0);
  const body = len & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = quad<T>(p + <usize>i * sizeof<T>());
    const xz = v128.and(v, f32x4.lt(f32x4.abs(v), inf4));
    r0 = f64x2.add(r0, f64x2.add(f64x2.promote_low_f32x4(xz), f64x2.promote_low_f32x4(v128.shuffle<f32>(xz, xz, 2, 3, 2, 3))));
  }
  let s0 = f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1);
  for (let i = body; i < len; i++) {
    const x = one<T>(p, i);
    if (abs(x) < Infinity) s0 += <f64>x;
  }
  return s0;
}

/**
 * statsOnly plus f64 row sums and column sums of a row-major matrix with `cols` columns, for a
 * block that starts at (row, col). rowSums and colSums point at row 0 and column 0.
 */
export function statsRowsCols(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  statsRowsColsOf<f32>(src, n, row, col, cols, rowSums, colSums, state);
}

/** statsRowsCols over IEEE half values (2 bytes each): the same results as widenF16 then statsRowsCols. */
export function statsRowsColsF16(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  halfConsts();
  statsRowsColsOf<u16>(src, n, row, col, cols, rowSums, colSums, state);
}

/** statsRowsCols over bfloat16 values (2 bytes each): the same results as widenBF16 then statsRowsCols. */
export function statsRowsColsBF16(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  statsRowsColsOf<i16>(src, n, row, col, cols, rowSums, colSums, state);
}

// @ts-ignore: decorator
@inline function statsRowsColsOf<T>(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  startBlock();
  let dirty = false;
  let total: f64 = 0;
  let p = src;
  let remaining = n;
  let r = row;
  let c = col;
  const rowBytes = <usize>cols * sizeof<T>();
  while (remaining > 0) {
    if (c == 0 && remaining >= cols << 1) {
      // Two whole rows, span by span over the same columns.
      let s0: f64 = 0, s1: f64 = 0;
      for (let o = 0; o < cols; o += SPAN) {
        const len = min(SPAN, cols - o);
        const p0 = p + <usize>o * sizeof<T>();
        const p1 = p0 + rowBytes;
        const colp = colSums + (<usize>o << 3);
        touch(p0, <usize>len * sizeof<T>());
        touch(p1, <usize>len * sizeof<T>());
        if (isHalf<T>()) {
          const buf = scratch() + SPAN_F32;
          widenF16(p0, buf, len);
          widenF16(p1, buf + (<usize>SPAN << 2), len);
          if (pairSpan<f32>(buf, buf + (<usize>SPAN << 2), colp, len, shift)) dirty = true;
        } else if (pairSpan<T>(p0, p1, colp, len, shift)) dirty = true;
        s0 += gRow0;
        s1 += gRow1;
      }
      const rowp = rowSums + (<usize>r << 3);
      store<f64>(rowp, load<f64>(rowp) + s0);
      store<f64>(rowp, load<f64>(rowp, 8) + s1, 8);
      total += s0;
      total += s1;
      p += rowBytes << 1;
      remaining -= cols << 1;
      r += 2;
    } else {
      // A row segment: the block's first (partial) row or its last rows.
      const seg = min(cols - c, remaining);
      let s0: f64 = 0;
      for (let o = 0; o < seg; o += SPAN) {
        const len = min(SPAN, seg - o);
        const ps = p + <usize>o * sizeof<T>();
        const colp = colSums + (<usize>(c + o) << 3);
        touch(ps, <usize>len * sizeof<T>());
        if (isHalf<T>()) {
          const buf = scratch() + SPAN_F32;
          widenF16(ps, buf, len);
          if (rowSpan<f32>(buf, colp, len, shift)) dirty = true;
        } else if (rowSpan<T>(ps, colp, len, shift)) dirty = true;
        s0 += gRow0;
      }
      const rowp = rowSums + (<usize>r << 3);
      store<f64>(rowp, load<f64>(rowp) + s0);
      total += s0;
      p += <usize>seg * sizeof<T>();
      remaining -= seg;
      c += seg;
      if (c == cols) {
        c = 0;
        r++;
      }
    }
  }
  flushBlock<T>(src, n, dirty, state, shift);
  store<f64>(state + SUM, load<f64>(state + SUM) + total);
}
