/**
 * The plain-JavaScript one-pass baseline a user would write for the same work as the wasm kernels
 * statsRowsCols + histogramUniform: NaN/+Inf/-Inf counts, and over the finite values the f64
 * sum, the sum of squares around a shift (the first finite value, as the host does), min, max,
 * row and column sums, and a histogram over known [lo, hi] with equal bins (values outside
 * [lo, hi] not counted, hi in the last bin), all in f64 over a row-major matrix.
 *
 * One simplification in its favour: the bin is floor((x - lo) * bins / (hi - lo)) without numpy's
 * correction against the edges (the kernels do make it), so a value within rounding distance of
 * an edge may land one bin off here.
 */
export function plainDenseStats(values: Float32Array, rows: number, cols: number, lo: number, hi: number, bins: number) {
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  const counts = new Float64Array(bins);
  const scale = bins / (hi - lo);
  let shift = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      shift = values[i];
      break;
    }
  }
  let sum = 0, sq = 0, min = Infinity, max = -Infinity, nan = 0, posInf = 0, negInf = 0;
  for (let r = 0, i = 0; r < rows; r++) {
    let rowSum = 0;
    for (let c = 0; c < cols; c++, i++) {
      const x = values[i];
      if (x - x !== 0) {
        // NaN or +-Inf (x - x is 0 for every finite x).
        if (x !== x) nan++;
        else if (x > 0) posInf++;
        else negInf++;
        continue;
      }
      rowSum += x;
      colSums[c] += x;
      const d = x - shift;
      sq += d * d;
      if (x < min) min = x;
      if (x > max) max = x;
      if (x >= lo && x <= hi) counts[Math.min(bins - 1, Math.floor((x - lo) * scale))]++;
    }
    rowSums[r] = rowSum;
    sum += rowSum;
  }
  return { sum, sq, shift, min, max, nan, posInf, negInf, rowSums, colSums, counts };
}
