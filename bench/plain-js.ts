/**
 * The plain-JavaScript one-pass baseline a user would write: moments, extrema, NaN count, row
 * and column sums, and a histogram over known [lo, hi], in f64, over a row-major matrix.
 */
export function plainDenseStats(values: Float32Array, rows: number, cols: number, lo: number, hi: number, bins: number) {
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  const counts = new Float64Array(bins);
  const scale = bins / (hi - lo);
  let sum = 0, sq = 0, min = Infinity, max = -Infinity, nan = 0;
  for (let r = 0, i = 0; r < rows; r++) {
    let rowSum = 0;
    for (let c = 0; c < cols; c++, i++) {
      const x = values[i];
      if (x !== x) {
        nan++;
        continue;
      }
      rowSum += x;
      colSums[c] += x;
      sq += x * x;
      if (x < min) min = x;
      if (x > max) max = x;
      const bin = Math.min(bins - 1, Math.floor((x - lo) * scale));
      counts[bin]++;
    }
    rowSums[r] = rowSum;
    sum += rowSum;
  }
  return { sum, sq, min, max, nan, rowSums, colSums, counts };
}
