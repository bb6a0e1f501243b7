/**
 * `jeffreys-reference` (spec metrics.md sections 4 and 4b): what the reference code calls its
 * "Shannon divergence", replayed. Each sample gets a Gaussian kernel density estimate with
 * scipy.stats.gaussian_kde's defaults (Scott's rule: bandwidth = sample sd (ddof 1) x n^(-1/5));
 * both densities are evaluated at 1000 points spaced evenly over the union of the two ranges
 * (numpy.linspace), and the Jeffreys sum  sum_i (p_i - q_i) ln(p_i / q_i)  is taken over the grid
 * WITHOUT the grid step, so the value scales with 1 / range and is not a divergence of the
 * distributions themselves. Offered only to reproduce published figures (compat: "reference").
 *
 * Samples: raw values where we have them (per-node strengths); for link weights, which a streamed
 * report does not keep, the fine histogram stands in: each fine bucket's centre repeated `count`
 * times (the bucket is 1/128 of its values' magnitude wide). That is an approximation: the test
 * measures it against scipy on the raw weights (test/compare/jeffreys-reference.test.ts).
 */
import type { FineHistogram } from "../measure/fine-histogram.js";

export const REFERENCE_GRID_POINTS = 1000;

/** A sample for the KDE: points, each with a count (1 for raw values). */
export interface KdeSample {
  points: ArrayLike<number>;
  counts?: ArrayLike<number>;
}

/** The fine histogram as a KDE sample: bucket centres (the midpoint of the bucket's f32 values) with their counts. */
export function sampleOfFine(fine: FineHistogram): KdeSample {
  const word = new DataView(new ArrayBuffer(4));
  const valueOf = (bits: number) => {
    word.setUint32(0, bits >>> 0);
    return word.getFloat32(0);
  };
  const points = fine.buckets.map((b) => (valueOf(b << 16) + valueOf((b << 16) | 0xffff)) / 2);
  return { points, counts: fine.counts };
}

interface Kde {
  points: ArrayLike<number>;
  counts: ArrayLike<number> | undefined;
  n: number;
  bandwidth: number;
  min: number;
  max: number;
}

/** scipy.stats.gaussian_kde's bandwidth (Scott) for the sample, or null when it has under 2 values or no spread (scipy refuses those). */
function kde(sample: KdeSample): Kde | null {
  const { points, counts } = sample;
  let n = 0, sum = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < points.length; i++) {
    const c = counts ? counts[i] : 1;
    if (!(c > 0) || !Number.isFinite(points[i])) continue;
    n += c;
    sum += c * points[i];
    min = Math.min(min, points[i]);
    max = Math.max(max, points[i]);
  }
  if (n < 2) return null;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < points.length; i++) {
    const c = counts ? counts[i] : 1;
    if (!(c > 0) || !Number.isFinite(points[i])) continue;
    ss += c * (points[i] - mean) ** 2;
  }
  const sd = Math.sqrt(ss / (n - 1));
  if (!(sd > 0)) return null;
  return { points, counts, n, bandwidth: sd * n ** -0.2, min, max };
}

function density(k: Kde, x: number): number {
  const inv = 1 / k.bandwidth;
  let sum = 0;
  for (let i = 0; i < k.points.length; i++) {
    const c = k.counts ? k.counts[i] : 1;
    if (!(c > 0) || !Number.isFinite(k.points[i])) continue;
    const z = (x - k.points[i]) * inv;
    sum += c * Math.exp(-0.5 * z * z);
  }
  return sum / (k.n * k.bandwidth * Math.sqrt(2 * Math.PI));
}

/**
 * The reference code's divergence of two samples (see above). `range` overrides the grid's span
 * (default: the union of the samples' ranges; pass the distributions' exact min and max when the
 * samples are fine-bucket centres). Null when a sample has under 2 values or no spread; Infinity
 * where one density underflows to 0 and the other does not (as numpy gives).
 */
export function jeffreysReference(a: KdeSample, b: KdeSample, range?: [number, number]): number | null {
  const ka = kde(a), kb = kde(b);
  if (!ka || !kb) return null;
  const lo = range ? range[0] : Math.min(ka.min, kb.min);
  const hi = range ? range[1] : Math.max(ka.max, kb.max);
  const step = (hi - lo) / (REFERENCE_GRID_POINTS - 1);
  let sum = 0;
  for (let i = 0; i < REFERENCE_GRID_POINTS; i++) {
    const x = i === REFERENCE_GRID_POINTS - 1 ? hi : i * step + lo;
    const p = density(ka, x), q = density(kb, x);
    if (p === 0 && q === 0) continue;
    if (p === 0 || q === 0) return Infinity;
    sum += (p - q) * Math.log(p / q);
  }
  return sum;
}
