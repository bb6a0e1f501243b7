// The f64 twins of moments.ts: f64 tensors are read at full precision (no narrowing to f32),
// so a float64 model keeps float64 statistics. Same state layout (state.ts; extrema in MIN64 and
// MAX64), same block and matrix layout, same accumulation order:
//
//   src ──► [ x(row, col) ... ] n f64 values     rowSums ──► f64[rows]    colSums ──► f64[cols]
import { SUM, SQ, SHIFT, MIN64, MAX64, NAN_COUNT, POS_INF, NEG_INF } from "./state";

// @ts-ignore: decorator
@inline function scalarStep64(x: f64, state: usize, shift: f64): f64 {
  if (x != x) { store<f64>(state + NAN_COUNT, load<f64>(state + NAN_COUNT) + 1); return 0; }
  if (x == Infinity) { store<f64>(state + POS_INF, load<f64>(state + POS_INF) + 1); return 0; }
  if (x == -Infinity) { store<f64>(state + NEG_INF, load<f64>(state + NEG_INF) + 1); return 0; }
  if (x < load<f64>(state + MIN64)) store<f64>(state + MIN64, x);
  if (x > load<f64>(state + MAX64)) store<f64>(state + MAX64, x);
  const d = x - shift;
  store<f64>(state + SQ, load<f64>(state + SQ) + d * d);
  return x;
}

// @ts-ignore: decorator
@inline function flush64(state: usize, nanc: v128, pinf: v128, ninf: v128, minv: v128, maxv: v128, sq: v128): void {
  store<f64>(state + NAN_COUNT, load<f64>(state + NAN_COUNT) + <f64>(i64x2.extract_lane(nanc, 0) + i64x2.extract_lane(nanc, 1)));
  store<f64>(state + POS_INF, load<f64>(state + POS_INF) + <f64>(i64x2.extract_lane(pinf, 0) + i64x2.extract_lane(pinf, 1)));
  store<f64>(state + NEG_INF, load<f64>(state + NEG_INF) + <f64>(i64x2.extract_lane(ninf, 0) + i64x2.extract_lane(ninf, 1)));
  const mn = min(min(f64x2.extract_lane(minv, 0), f64x2.extract_lane(minv, 1)), load<f64>(state + MIN64));
  const mx = max(max(f64x2.extract_lane(maxv, 0), f64x2.extract_lane(maxv, 1)), load<f64>(state + MAX64));
  store<f64>(state + MIN64, mn);
  store<f64>(state + MAX64, mx);
  store<f64>(state + SQ, load<f64>(state + SQ) + f64x2.extract_lane(sq, 0) + f64x2.extract_lane(sq, 1));
}

/** statsOnly for f64 values. */
export function statsOnlyF64(src: usize, n: i32, state: usize): void {
  statsRowsColsF64(src, n, 0, 0, n, 0, 0, state);
}

/** statsRowsCols for f64 values; rowSums == 0 skips the row and column sums. */
export function statsRowsColsF64(src: usize, n: i32, row: i32, col: i32, cols: i32, rowSums: usize, colSums: usize, state: usize): void {
  const shift = load<f64>(state + SHIFT);
  const inf2 = f64x2.splat(Infinity);
  const ninf2 = f64x2.splat(-Infinity);
  const nan2 = f64x2.splat(NaN);
  const k2 = f64x2.splat(shift);
  const sums = rowSums != 0;
  let sq = f64x2.splat(0);
  let minv = inf2, maxv = ninf2;
  let nanc = i64x2.splat(0), pinf = i64x2.splat(0), ninf = i64x2.splat(0);
  let total: f64 = 0;
  let p = src;
  let remaining = n;
  let r = row;
  let c = col;
  while (remaining > 0) {
    const seg = min(cols - c, remaining);
    const body = seg & ~1;
    let rowAcc = f64x2.splat(0);
    let colp = colSums + (<usize>c << 3);
    for (let i = 0; i < body; i += 2) {
      const v = v128.load(p + (<usize>i << 3));
      const finite = f64x2.lt(f64x2.abs(v), inf2);
      nanc = i64x2.sub(nanc, f64x2.ne(v, v));
      pinf = i64x2.sub(pinf, f64x2.eq(v, inf2));
      ninf = i64x2.sub(ninf, f64x2.eq(v, ninf2));
      const xm = v128.bitselect(v, nan2, finite);
      minv = f64x2.pmin(minv, xm);
      maxv = f64x2.pmax(maxv, xm);
      const xz = v128.and(v, finite);
      rowAcc = f64x2.add(rowAcc, xz);
      if (sums) {
        v128.store(colp, f64x2.add(v128.load(colp), xz));
        colp += 16;
      }
      const d = f64x2.sub(v128.bitselect(v, k2, finite), k2);
      sq = f64x2.add(sq, f64x2.mul(d, d));
    }
    let rowSum = f64x2.extract_lane(rowAcc, 0) + f64x2.extract_lane(rowAcc, 1);
    for (let i = body; i < seg; i++) {
      const x = scalarStep64(load<f64>(p + (<usize>i << 3)), state, shift);
      rowSum += x;
      if (sums) {
        store<f64>(colp, load<f64>(colp) + x);
        colp += 8;
      }
    }
    if (sums) {
      const rowp = rowSums + (<usize>r << 3);
      store<f64>(rowp, load<f64>(rowp) + rowSum);
    }
    total += rowSum;
    p += <usize>seg << 3;
    remaining -= seg;
    r++;
    c = 0;
  }
  flush64(state, nanc, pinf, ninf, minv, maxv, sq);
  store<f64>(state + SUM, load<f64>(state + SUM) + total);
}
