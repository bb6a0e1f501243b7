// Per-node statistics of a batch (src/forward/collect.ts): the forward pass's values, rows of
// observations by columns of nodes, summed in f64 so a batch's partial merges with Chan's formula;
// and the predictions (argmaxRows).

/** Index of the largest of each row's cols values (first on ties; NaN never wins) into i32 out[rows]. */
export function argmaxRows(src: usize, rows: i32, cols: i32, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const row = src + ((<usize>i * cols) << 2);
    let best = 0;
    let value = load<f32>(row);
    for (let j = 1; j < cols; j++) {
      const x = load<f32>(row + (<usize>j << 2));
      if (x > value || value != value) {
        value = x;
        best = j;
      }
    }
    store<i32>(out + (<usize>i << 2), best);
  }
}

/**
 * The mean and M2 of each column, the extremes and the non-finite counts, in one contiguous pass:
 * each column's sums are taken about its first row's value (a shift that keeps the squares from
 * cancelling: the spread about a sample of the column is of the order of the column's std), in
 * f64, four columns at a time; mean = shift + s1 / rows, M2 = s2 - s1^2 / rows. Extremes and
 * non-finite counts of all values go to f64 range[5]: min and max of the finite values (+Inf
 * and -Inf when there is none), then the counts of NaN, +Inf and -Inf. Rows are dense
 * (stride cols).
 */
export function columnStats(src: usize, rows: i32, cols: i32, mean: usize, m2: usize, range: usize): void {
  const body = cols & ~3;
  for (let j = 0; j < cols; j++) {
    store<f64>(mean + (<usize>j << 3), 0);
    store<f64>(m2 + (<usize>j << 3), 0);
  }
  let lo = f32x4.splat(Infinity);
  let hi = f32x4.splat(-Infinity);
  let bad = i32x4.splat(0);
  const inf = f32x4.splat(Infinity);
  for (let i = 0; i < rows; i++) {
    const row = src + ((<usize>i * cols) << 2);
    for (let j = 0; j < body; j += 4) {
      const x = v128.load(row + (<usize>j << 2));
      const k = v128.load(src + (<usize>j << 2));
      const finite = f32x4.lt(f32x4.abs(x), inf);
      lo = f32x4.min(lo, v128.bitselect(x, inf, finite));
      hi = f32x4.max(hi, v128.bitselect(x, f32x4.neg(inf), finite));
      bad = i32x4.sub(bad, v128.not(finite));
      const dLow = f64x2.sub(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(k));
      const dHigh = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(k, k, 2, 3, 0, 1)));
      const s = mean + (<usize>j << 3);
      const q = m2 + (<usize>j << 3);
      v128.store(s, f64x2.add(v128.load(s), dLow));
      v128.store(s + 16, f64x2.add(v128.load(s + 16), dHigh));
      v128.store(q, f64x2.add(v128.load(q), f64x2.mul(dLow, dLow)));
      v128.store(q + 16, f64x2.add(v128.load(q + 16), f64x2.mul(dHigh, dHigh)));
    }
  }
  let mn = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
  let mx = max(max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
  let nonFinite = i32x4.extract_lane(bad, 0) + i32x4.extract_lane(bad, 1) + i32x4.extract_lane(bad, 2) + i32x4.extract_lane(bad, 3);
  for (let j = body; j < cols; j++) {
    const k = <f64>load<f32>(src + (<usize>j << 2));
    let s1: f64 = 0, s2: f64 = 0;
    for (let i = 0; i < rows; i++) {
      const x = load<f32>(src + ((<usize>i * cols + j) << 2));
      if (abs(x) < Infinity) {
        mn = min(mn, x);
        mx = max(mx, x);
      } else nonFinite++;
      const d = <f64>x - k;
      s1 += d;
      s2 += d * d;
    }
    store<f64>(mean + (<usize>j << 3), s1);
    store<f64>(m2 + (<usize>j << 3), s2);
  }
  const inv: f64 = 1.0 / <f64>rows;
  for (let j = 0; j < cols; j++) {
    const s1 = load<f64>(mean + (<usize>j << 3));
    const s2 = load<f64>(m2 + (<usize>j << 3));
    store<f64>(mean + (<usize>j << 3), <f64>load<f32>(src + (<usize>j << 2)) + s1 * inv);
    store<f64>(m2 + (<usize>j << 3), max<f64>(0, s2 - s1 * s1 * inv));
  }
  let nan: f64 = 0, pos: f64 = 0, neg: f64 = 0;
  if (nonFinite > 0) {
    const n = rows * cols;
    for (let i = 0; i < n; i++) {
      const x = load<f32>(src + (<usize>i << 2));
      if (x != x) nan++;
      else if (x == Infinity) pos++;
      else if (x == -Infinity) neg++;
    }
  }
  store<f64>(range, <f64>mn);
  store<f64>(range + 8, <f64>mx);
  store<f64>(range + 16, nan);
  store<f64>(range + 24, pos);
  store<f64>(range + 32, neg);
}
