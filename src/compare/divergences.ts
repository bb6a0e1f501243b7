/**
 * Divergences between two histograms over the same bin edges (spec metrics.md section 4).
 *
 * Counts become probabilities p = counts / total. Stated choices:
 *   - KL is in nats (natural log) on smoothed probabilities: EPSILON = 1e-10 is added to every
 *     bin's probability, then the bins are renormalised to sum to 1, so an empty bin on one side
 *     gives a large, finite value instead of Infinity;
 *   - Jeffreys = KL(p||q) + KL(q||p), both smoothed as above (nats);
 *   - Jensen-Shannon in bits (log base 2, between 0 and 1) on the unsmoothed probabilities
 *     (it is finite without smoothing; 0 * log 0 = 0);
 *   - 1-Wasserstein with each bin's mass at its centre: the L1 distance between the two CDFs,
 *     integrated between consecutive bin centres (for equal bins: sum of |F_i - G_i| times the
 *     bin width), in the metric's own units; unsmoothed.
 * The reference code's `jeffreys-reference` (Gaussian KDE on samples, not on histograms) is in
 * jeffreys-reference.ts.
 */
import { CntError } from "../errors.js";

export const EPSILON = 1e-10;

export interface Divergences {
  /** KL(a || b), nats, epsilon-smoothed. */
  klAB: number;
  /** KL(b || a), nats, epsilon-smoothed. */
  klBA: number;
  /** klAB + klBA. */
  jeffreys: number;
  /** Jensen-Shannon divergence in bits (0..1), unsmoothed. */
  jensenShannon: number;
  /** 1-Wasserstein distance with bin masses at bin centres, in the metric's units. */
  wasserstein: number;
}

/** The divergences of two histograms on the same edges; null when either has no values. */
export function divergences(edges: ArrayLike<number>, countsA: ArrayLike<number>, countsB: ArrayLike<number>): Divergences | null {
  const bins = edges.length - 1;
  if (bins < 1 || countsA.length !== bins || countsB.length !== bins) {
    throw new CntError("BAD_OPTION", `Histograms to compare must have one count per bin: ${bins} bins, ${countsA.length} and ${countsB.length} counts.`);
  }
  const p = probabilities(countsA);
  const q = probabilities(countsB);
  if (!p || !q) return null;
  const ps = smoothed(p);
  const qs = smoothed(q);
  const klAB = kl(ps, qs);
  const klBA = kl(qs, ps);
  return { klAB, klBA, jeffreys: klAB + klBA, jensenShannon: jensenShannonBits(p, q), wasserstein: wasserstein(edges, p, q) };
}

function probabilities(counts: ArrayLike<number>): Float64Array | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (!(total > 0)) return null;
  const p = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) p[i] = counts[i] / total;
  return p;
}

/** p + EPSILON in every bin, renormalised. */
export function smoothed(p: Float64Array): Float64Array {
  let total = 0;
  for (let i = 0; i < p.length; i++) total += p[i] + EPSILON;
  return p.map((v) => (v + EPSILON) / total);
}

function kl(p: Float64Array, q: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i] * Math.log(p[i] / q[i]);
  return Math.max(0, sum);
}

function jensenShannonBits(p: Float64Array, q: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) sum += p[i] * Math.log2(p[i] / m);
    if (q[i] > 0) sum += q[i] * Math.log2(q[i] / m);
  }
  return Math.min(1, Math.max(0, sum / 2));
}

function wasserstein(edges: ArrayLike<number>, p: Float64Array, q: Float64Array): number {
  let cdf = 0, sum = 0;
  for (let i = 0; i < p.length - 1; i++) {
    cdf += p[i] - q[i];
    const gap = (edges[i + 2] - edges[i]) / 2; // centre of bin i+1 minus centre of bin i
    sum += Math.abs(cdf) * gap;
  }
  return sum;
}

/** Whether two edge lists are the same numbers. */
export function sameEdges(a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
