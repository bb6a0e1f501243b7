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
// Speed: the SIMD loop assumes every value is finite except for the sums, where non-finite
// lanes are masked to 0. It counts the finite lanes; when a block holds any non-finite value
// (rare in trained weights) its counts, extrema and squared sum are redone by a scalar pass over
// the block (fixBlock), so the loop needs no NaN/Inf bookkeeping.
//
// Accumulation order, stated because rounding depends on it: column sums add rows in order; a
// row sum adds lanes in pairs (x0+x2+..., x1+x3+...) then the pairs, then the scalar tail. The
// host feeds blocks on a fixed grid from the tensor's start, so the result does not depend on
// how the source chunked the bytes.
import { SUM, SQ, SHIFT, MIN, MAX, NAN_COUNT, POS_INF, NEG_INF } from "./state";

// @ts-ignore: decorator
@inline function laneSum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline function laneMin(v: v128): f32 {
  return min(min(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), min(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function laneMax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * Add a finite-only block's extrema and squared sum to the state, or, when the block holds
 * non-finite values, redo its counts, extrema and squared sum with a scalar pass.
 */
// @ts-ignore: decorator
@inline function flushBlock(src: usize, n: i32, finite: i32, state: usize, shift: f64, mn: f32, mx: f32, sq: f64): void {
  if (finite == n) {
    if (mn < load<f32>(state + MIN)) store<f32>(state + MIN, mn);
    if (mx > load<f32>(state + MAX)) store<f32>(state + MAX, mx);
    store<f64>(state + SQ, load<f64>(state + SQ) + sq);
  } else {
    fixBlock(src, n, state, shift);
  }
}

function fixBlock(src: usize, n: i32, state: usize, shift: f64): void {
  let mn = load<f32>(state + MIN), mx = load<f32>(state + MAX);
  let nan: f64 = 0, pinf: f64 = 0, ninf: f64 = 0, sq: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = load<f32>(src + (<usize>i << 2));
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

/** Moments, extrema and non-finite counts of `n` f32 values at `src`, added into `state`. */
export function statsOnly(src: usize, n: i32, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  const inf4 = f32x4.splat(Infinity);
  const k2 = f64x2.splat(shift);
  let sumA = f64x2.splat(0), sumB = f64x2.splat(0), sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  let minv = inf4, maxv = f32x4.splat(-Infinity);
  let fin = i32x4.splat(0);
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    const finite = f32x4.lt(f32x4.abs(v), inf4);
    fin = i32x4.sub(fin, finite);
    minv = f32x4.pmin(minv, v);
    maxv = f32x4.pmax(maxv, v);
    const xz = v128.and(v, finite);
    const lo = f64x2.promote_low_f32x4(xz);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(xz, xz, 2, 3, 2, 3));
    sumA = f64x2.add(sumA, lo);
    sumB = f64x2.add(sumB, hi);
    const dA = f64x2.sub(lo, k2);
    const dB = f64x2.sub(hi, k2);
    sqA = f64x2.add(sqA, f64x2.mul(dA, dA));
    sqB = f64x2.add(sqB, f64x2.mul(dB, dB));
  }
  let finite = laneSum(fin);
  let mn = laneMin(minv), mx = laneMax(maxv);
  const s = f64x2.add(sumA, sumB);
  const q = f64x2.add(sqA, sqB);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  for (let i = body; i < n; i++) {
    const x = load<f32>(src + (<usize>i << 2));
    if (abs(x) < Infinity) {
      finite++;
      sum += <f64>x;
      const d = <f64>x - shift;
      sq += d * d;
      mn = min(mn, x);
      mx = max(mx, x);
    }
  }
  flushBlock(src, n, finite, state, shift, mn, mx, sq);
  store<f64>(state + SUM, load<f64>(state + SUM) + sum);
}

/**
 * statsOnly plus f64 row sums and column sums of a row-major matrix with `cols` columns, for a
 * block that starts at (row, col). rowSums and colSums point at row 0 and column 0.
 */
export function statsRowsCols(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  const inf4 = f32x4.splat(Infinity);
  const k2 = f64x2.splat(shift);
  let sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  let minv = inf4, maxv = f32x4.splat(-Infinity);
  let fin = i32x4.splat(0);
  let finite = 0;
  let mn: f32 = Infinity, mx: f32 = -Infinity;
  let sq: f64 = 0;
  let total: f64 = 0;
  let p = src;
  let remaining = n;
  let r = row;
  let c = col;
  while (remaining > 0) {
    const seg = min(cols - c, remaining);
    const body = seg & ~3;
    let rowA = f64x2.splat(0), rowB = f64x2.splat(0);
    let colp = colSums + (<usize>c << 3);
    for (let i = 0; i < body; i += 4) {
      const v = v128.load(p + (<usize>i << 2));
      const finite = f32x4.lt(f32x4.abs(v), inf4);
      fin = i32x4.sub(fin, finite);
      minv = f32x4.pmin(minv, v);
      maxv = f32x4.pmax(maxv, v);
      const xz = v128.and(v, finite);
      const lo = f64x2.promote_low_f32x4(xz);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(xz, xz, 2, 3, 2, 3));
      rowA = f64x2.add(rowA, lo);
      rowB = f64x2.add(rowB, hi);
      v128.store(colp, f64x2.add(v128.load(colp), lo));
      v128.store(colp, f64x2.add(v128.load(colp, 16), hi), 16);
      colp += 32;
      const dA = f64x2.sub(lo, k2);
      const dB = f64x2.sub(hi, k2);
      sqA = f64x2.add(sqA, f64x2.mul(dA, dA));
      sqB = f64x2.add(sqB, f64x2.mul(dB, dB));
    }
    const rs = f64x2.add(rowA, rowB);
    let rowSum = f64x2.extract_lane(rs, 0) + f64x2.extract_lane(rs, 1);
    for (let i = body; i < seg; i++) {
      const x = load<f32>(p + (<usize>i << 2));
      if (abs(x) < Infinity) {
        finite++;
        rowSum += <f64>x;
        store<f64>(colp, load<f64>(colp) + <f64>x);
        const d = <f64>x - shift;
        sq += d * d;
        mn = min(mn, x);
        mx = max(mx, x);
      }
      colp += 8;
    }
    const rowp = rowSums + (<usize>r << 3);
    store<f64>(rowp, load<f64>(rowp) + rowSum);
    total += rowSum;
    p += <usize>seg << 2;
    remaining -= seg;
    r++;
    c = 0;
  }
  finite += laneSum(fin);
  const q = f64x2.add(sqA, sqB);
  sq += f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  flushBlock(src, n, finite, state, shift, min(mn, laneMin(minv)), max(mx, laneMax(maxv)), sq);
  store<f64>(state + SUM, load<f64>(state + SUM) + total);
}
