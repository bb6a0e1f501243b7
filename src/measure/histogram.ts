/**
 * Histogram edges and the bin rule, numpy.histogram's: `bins` equal bins over [min, max] with
 * edges from numpy.linspace (edges[i] = min + i * step, the last edge exactly max); bin i holds
 * edges[i] <= x < edges[i+1] and the last bin also x == max; a constant sample (min == max) is
 * binned over [min - 0.5, max + 0.5], as numpy does.
 */
export interface Histogram {
  edges: number[] | null;
  counts: number[];
  /** False when the counts come from rebinning a fine histogram (one-shot streams). */
  exact?: boolean;
}

export function uniformEdges(min: number, max: number, bins: number): Float64Array {
  let lo = min, hi = max;
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
    if (lo === hi) {
      // |x| >= 2^53: x ± 0.5 rounds back to x (numpy refuses such a range); widen relatively instead.
      lo = min - Math.abs(min) * 2 ** -20;
      hi = max + Math.abs(max) * 2 ** -20;
    }
  }
  const edges = new Float64Array(bins + 1);
  const step = (hi - lo) / bins;
  if (Number.isFinite(step)) {
    for (let i = 0; i <= bins; i++) edges[i] = i * step + lo;
  } else {
    // A span wider than the largest double: interpolate without forming it.
    for (let i = 0; i <= bins; i++) edges[i] = lo * ((bins - i) / bins) + hi * (i / bins);
  }
  edges[bins] = hi;
  return edges;
}

/**
 * Whether the kernels' uniform fast path applies: it needs a finite, positive edge span, and a
 * finite bins / span (a span of f64 subnormals, under 64 / 2^1024, overflows it and would put
 * values in wrong bins; such edges are binned by search, exactly).
 */
export function isUniformSpan(edges: ArrayLike<number>): boolean {
  const span = edges[edges.length - 1] - edges[0];
  return Number.isFinite(span) && span > 0 && Number.isFinite((edges.length - 1) / span);
}

/** Bin index of x under the rule above, or -1 when x lies outside the edges or is not finite. */
export function binOf(x: number, edges: ArrayLike<number>): number {
  const bins = edges.length - 1;
  if (!(x >= edges[0] && x <= edges[bins])) return -1;
  let a = 0, b = bins;
  while (b - a > 1) {
    const mid = (a + b) >>> 1;
    if (edges[mid] <= x) a = mid;
    else b = mid;
  }
  return a;
}

/** Checks caller-given edges: at least two, finite, strictly ascending. */
export function validEdges(edges: readonly number[]): boolean {
  if (edges.length < 2) return false;
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1])) return false;
  }
  return true;
}
