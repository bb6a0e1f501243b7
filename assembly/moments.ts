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
// Accumulation order, stated because rounding depends on it: column sums add rows in order; a
// row sum adds lanes in pairs (x0+x2+..., x1+x3+...) then the pairs, then the scalar tail. The
// host feeds blocks on a fixed grid from the tensor's start, so the result does not depend on
// how the source chunked the bytes.
import { SUM, SQ, SHIFT, MIN, MAX, NAN_COUNT, POS_INF, NEG_INF } from "./state";

// @ts-ignore: decorator
@inline function flushCounts(state: usize, nanc: v128, pinf: v128, ninf: v128, minv: v128, maxv: v128): void {
  const nanTotal = i32x4.extract_lane(nanc, 0) + i32x4.extract_lane(nanc, 1) + i32x4.extract_lane(nanc, 2) + i32x4.extract_lane(nanc, 3);
  const pTotal = i32x4.extract_lane(pinf, 0) + i32x4.extract_lane(pinf, 1) + i32x4.extract_lane(pinf, 2) + i32x4.extract_lane(pinf, 3);
  const nTotal = i32x4.extract_lane(ninf, 0) + i32x4.extract_lane(ninf, 1) + i32x4.extract_lane(ninf, 2) + i32x4.extract_lane(ninf, 3);
  // Lane counters are i32 but a lane sees at most n/4 < 2^29 values per call: no overflow.
  store<f64>(state + NAN_COUNT, load<f64>(state + NAN_COUNT) + <f64>nanTotal);
  store<f64>(state + POS_INF, load<f64>(state + POS_INF) + <f64>pTotal);
  store<f64>(state + NEG_INF, load<f64>(state + NEG_INF) + <f64>nTotal);
  let mn = load<f32>(state + MIN);
  let mx = load<f32>(state + MAX);
  for (let lane = 0; lane < 4; lane++) {
    // Lanes that saw only non-finite values hold NaN-free +Inf / -Inf from the initial splat.
    const a = f32x4.extract_lane(minv, 0);
    const b = f32x4.extract_lane(maxv, 0);
    if (a < mn) mn = a;
    if (b > mx) mx = b;
    minv = v128.shuffle<f32>(minv, minv, 1, 2, 3, 0);
    maxv = v128.shuffle<f32>(maxv, maxv, 1, 2, 3, 0);
  }
  store<f32>(state + MIN, mn);
  store<f32>(state + MAX, mx);
}

// @ts-ignore: decorator
@inline function scalarStep(x: f32, state: usize, shift: f64): f64 {
  // Returns the value to add to sums (0 for non-finite) and updates counts, extrema, SQ.
  if (x != x) { store<f64>(state + NAN_COUNT, load<f64>(state + NAN_COUNT) + 1); return 0; }
  if (x == Infinity) { store<f64>(state + POS_INF, load<f64>(state + POS_INF) + 1); return 0; }
  if (x == -Infinity) { store<f64>(state + NEG_INF, load<f64>(state + NEG_INF) + 1); return 0; }
  if (x < load<f32>(state + MIN)) store<f32>(state + MIN, x);
  if (x > load<f32>(state + MAX)) store<f32>(state + MAX, x);
  const d = <f64>x - shift;
  store<f64>(state + SQ, load<f64>(state + SQ) + d * d);
  return <f64>x;
}

/** Moments, extrema and non-finite counts of `n` f32 values at `src`, added into `state`. */
export function statsOnly(src: usize, n: i32, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  const shift32 = <f32>shift;
  const inf4 = f32x4.splat(Infinity);
  const ninf4 = f32x4.splat(-Infinity);
  const nan4 = f32x4.splat(NaN);
  const k4 = f32x4.splat(shift32);
  const k2 = f64x2.splat(shift);
  let sumA = f64x2.splat(0), sumB = f64x2.splat(0), sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  let minv = inf4, maxv = ninf4;
  let nanc = i32x4.splat(0), pinf = i32x4.splat(0), ninf = i32x4.splat(0);
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    const finite = f32x4.lt(f32x4.abs(v), inf4);
    nanc = i32x4.sub(nanc, f32x4.ne(v, v));
    pinf = i32x4.sub(pinf, f32x4.eq(v, inf4));
    ninf = i32x4.sub(ninf, f32x4.eq(v, ninf4));
    const xm = v128.bitselect(v, nan4, finite);
    minv = f32x4.pmin(minv, xm);
    maxv = f32x4.pmax(maxv, xm);
    const xz = v128.and(v, finite);
    sumA = f64x2.add(sumA, f64x2.promote_low_f32x4(xz));
    sumB = f64x2.add(sumB, f64x2.promote_low_f32x4(v128.shuffle<f32>(xz, xz, 2, 3, 2, 3)));
    // The shift is an f32 value, so x - shift is exact for non-finite lanes replaced by it (0).
    const xk = v128.bitselect(v, k4, finite);
    const dA = f64x2.sub(f64x2.promote_low_f32x4(xk), k2);
    const dB = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(xk, xk, 2, 3, 2, 3)), k2);
    sqA = f64x2.add(sqA, f64x2.mul(dA, dA));
    sqB = f64x2.add(sqB, f64x2.mul(dB, dB));
  }
  flushCounts(state, nanc, pinf, ninf, minv, maxv);
  const s = f64x2.add(sumA, sumB);
  const q = f64x2.add(sqA, sqB);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  store<f64>(state + SQ, load<f64>(state + SQ) + f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1));
  for (let i = body; i < n; i++) sum += scalarStep(load<f32>(src + (<usize>i << 2)), state, shift);
  store<f64>(state + SUM, load<f64>(state + SUM) + sum);
}

/**
 * statsOnly plus f64 row sums and column sums of a row-major matrix with `cols` columns, for a
 * block that starts at (row, col). rowSums and colSums point at row 0 and column 0.
 */
export function statsRowsCols(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  const shift32 = <f32>shift;
  const inf4 = f32x4.splat(Infinity);
  const ninf4 = f32x4.splat(-Infinity);
  const nan4 = f32x4.splat(NaN);
  const k4 = f32x4.splat(shift32);
  const k2 = f64x2.splat(shift);
  let sqA = f64x2.splat(0), sqB = f64x2.splat(0);
  let minv = inf4, maxv = ninf4;
  let nanc = i32x4.splat(0), pinf = i32x4.splat(0), ninf = i32x4.splat(0);
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
      nanc = i32x4.sub(nanc, f32x4.ne(v, v));
      pinf = i32x4.sub(pinf, f32x4.eq(v, inf4));
      ninf = i32x4.sub(ninf, f32x4.eq(v, ninf4));
      const xm = v128.bitselect(v, nan4, finite);
      minv = f32x4.pmin(minv, xm);
      maxv = f32x4.pmax(maxv, xm);
      const xz = v128.and(v, finite);
      const lo = f64x2.promote_low_f32x4(xz);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(xz, xz, 2, 3, 2, 3));
      rowA = f64x2.add(rowA, lo);
      rowB = f64x2.add(rowB, hi);
      v128.store(colp, f64x2.add(v128.load(colp), lo));
      v128.store(colp, f64x2.add(v128.load(colp, 16), hi), 16);
      colp += 32;
      const xk = v128.bitselect(v, k4, finite);
      const dA = f64x2.sub(f64x2.promote_low_f32x4(xk), k2);
      const dB = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(xk, xk, 2, 3, 2, 3)), k2);
      sqA = f64x2.add(sqA, f64x2.mul(dA, dA));
      sqB = f64x2.add(sqB, f64x2.mul(dB, dB));
    }
    const rs = f64x2.add(rowA, rowB);
    let rowSum = f64x2.extract_lane(rs, 0) + f64x2.extract_lane(rs, 1);
    for (let i = body; i < seg; i++) {
      const x = scalarStep(load<f32>(p + (<usize>i << 2)), state, shift);
      rowSum += x;
      store<f64>(colp, load<f64>(colp) + x);
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
  flushCounts(state, nanc, pinf, ninf, minv, maxv);
  const q = f64x2.add(sqA, sqB);
  store<f64>(state + SQ, load<f64>(state + SQ) + f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1));
  store<f64>(state + SUM, load<f64>(state + SUM) + total);
}
