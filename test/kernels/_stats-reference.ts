// Plain-JS float64 reference for the stats kernels, straight from the definitions in
// assembly/state.ts and assembly/moments.ts, and the checks every stats test applies.
import * as assert from "uvu/assert";
import { near, type StateView, F32_MAX, F32_MIN_NORMAL, F32_MIN_SUB, nextDownF32 } from "./_support.js";

export interface StatsRef {
  n: number;
  count: number; // finite values
  nan: number;
  posInf: number;
  negInf: number;
  min: number; // +Inf / -Inf when no finite value
  max: number;
  sum: number;
  sumAbs: number;
  mean: number;
  m2: number; // two-pass: sum of (x - mean)^2 over finite x
  rowSums: number[];
  rowAbs: number[];
  colSums: number[];
  colAbs: number[];
}

/** Reference over values laid out row-major with `cols` columns (cols = n for a flat vector). */
export function statsReference(values: ArrayLike<number>, cols: number): StatsRef {
  const n = values.length;
  const rows = Math.max(1, Math.ceil(n / Math.max(cols, 1)));
  const ref: StatsRef = {
    n, count: 0, nan: 0, posInf: 0, negInf: 0, min: Infinity, max: -Infinity, sum: 0, sumAbs: 0, mean: NaN, m2: 0,
    rowSums: new Array(rows).fill(0), rowAbs: new Array(rows).fill(0), colSums: new Array(cols).fill(0), colAbs: new Array(cols).fill(0),
  };
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (Number.isNaN(x)) ref.nan++;
    else if (x === Infinity) ref.posInf++;
    else if (x === -Infinity) ref.negInf++;
    else {
      const r = Math.floor(i / cols), c = i % cols;
      ref.count++;
      ref.sum += x;
      ref.sumAbs += Math.abs(x);
      if (x < ref.min) ref.min = x;
      if (x > ref.max) ref.max = x;
      ref.rowSums[r] += x;
      ref.rowAbs[r] += Math.abs(x);
      ref.colSums[c] += x;
      ref.colAbs[c] += Math.abs(x);
    }
  }
  if (ref.count > 0) {
    ref.mean = ref.sum / ref.count;
    for (let i = 0; i < n; i++) {
      const x = values[i];
      if (Number.isFinite(x)) ref.m2 += (x - ref.mean) * (x - ref.mean);
    }
  }
  return ref;
}

/** The shift the host uses: the first finite value (0 when there is none). */
export function firstFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) return values[i];
  return 0;
}

/**
 * Checks a kernel's state against the reference.
 *  - NaN/+Inf/-Inf counts and min/max: exactly (min/max compared with ===, so -0 and +0 are equal).
 *  - SUM (and the mean): within 1e-12 relative to sum |x|. The kernel adds lanes in another order
 *    than the reference; both are within ~n*eps*sum|x| of the exact sum, which is the bound that
 *    holds whatever the cancellation.
 *  - M2 = SQ - count*(mean - SHIFT)^2: within `m2Rel` relative of the two-pass reference.
 * `wide` selects which extrema pair the kernel writes (MIN64/MAX64 for the f64 kernels); the other
 * pair must stay at the +Inf/-Inf the host set.
 */
export function checkMoments(s: StateView, ref: StatsRef, wide: boolean, what: string, m2Rel = 1e-10): void {
  assert.is(s.nan, ref.nan, `${what}: NaN count`);
  assert.is(s.posInf, ref.posInf, `${what}: +Inf count`);
  assert.is(s.negInf, ref.negInf, `${what}: -Inf count`);
  const [mn, mx, otherMn, otherMx] = wide ? [s.min64, s.max64, s.min32, s.max32] : [s.min32, s.max32, s.min64, s.max64];
  assert.ok(mn === ref.min, `${what}: min ${mn} expected ${ref.min}`);
  assert.ok(mx === ref.max, `${what}: max ${mx} expected ${ref.max}`);
  assert.ok(otherMn === Infinity && otherMx === -Infinity, `${what}: the other extrema pair was touched (${otherMn}, ${otherMx})`);
  near(s.sum, ref.sum, 1e-12 * ref.sumAbs, `${what}: SUM`);
  const count = ref.n - s.nan - s.posInf - s.negInf;
  assert.is(count, ref.count, `${what}: finite count`);
  if (count === 0) {
    assert.is(s.sq, 0, `${what}: SQ with no finite value`);
    return;
  }
  const mean = s.sum / count;
  near(mean, ref.mean, 1e-12 * (ref.sumAbs / count), `${what}: mean`);
  const m2 = s.sq - count * (mean - s.shift) * (mean - s.shift);
  // For a constant sample M2 is 0 and only the rounding of the mean is left.
  const floor = count * (4 * Number.EPSILON * Math.abs(ref.mean)) ** 2;
  near(m2, ref.m2, m2Rel * ref.m2 + floor, `${what}: M2 (variance * count)`);
}

/** Row and column sums within 1e-12 relative to the row's / column's sum |x|; all-non-finite lines exactly 0. */
export function checkLineSums(rowSums: ArrayLike<number>, colSums: ArrayLike<number>, ref: StatsRef, what: string): void {
  for (let r = 0; r < ref.rowSums.length; r++) near(rowSums[r], ref.rowSums[r], 1e-12 * ref.rowAbs[r], `${what}: row ${r} sum`);
  for (let c = 0; c < ref.colSums.length; c++) near(colSums[c], ref.colSums[c], 1e-12 * ref.colAbs[c], `${what}: column ${c} sum`);
}

/** Values the f32 kernels must treat specially or carefully. */
export const SPECIALS_F32 = [
  NaN, Infinity, -Infinity, -0, 0, F32_MIN_SUB, -F32_MIN_SUB, Math.fround(1e-40), Math.fround(-3e-39),
  F32_MIN_NORMAL, nextDownF32(F32_MIN_NORMAL), F32_MAX, -F32_MAX, Math.fround(1e30), Math.fround(-2.5e29), 65504,
];

/** Cut [0, n) into consecutive blocks with random lengths in [1, maxLen]; returns [start, length] pairs. */
export function randomBlocks(rand: () => number, n: number, maxLen: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (let start = 0; start < n; ) {
    const len = Math.min(n - start, 1 + Math.floor(rand() * maxLen));
    blocks.push([start, len]);
    start += len;
  }
  return blocks;
}
