/**
 * Statistics over networks (one value per network), for groups.csv and separation.csv. Plain f64,
 * in the order given. Definitions (numpy/scipy names in brackets, the test's reference):
 *   sd: sample standard deviation, ddof 1 [np.std(ddof=1)], null under 2 values;
 *   median: middle value, or the mean of the two middle ones [np.median];
 *   Spearman rho: Pearson correlation of average ranks (ties share their mean rank) [scipy.stats.spearmanr];
 *   Cohen's d: (mean b - mean a) / pooled sd, pooled variance ((na-1) va + (nb-1) vb) / (na + nb - 2);
 *   leave-one-out nearest centroid: each network is classified by the nearest group mean (Euclidean)
 *   of the other networks; ties go to the lower group; a group left empty has no centroid.
 */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample variance (ddof 1); null under 2 values. */
export function variance(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values)!;
  let sum = 0;
  for (const v of values) sum += (v - m) ** 2;
  return sum / (values.length - 1);
}

export function sd(values: readonly number[]): number | null {
  const v = variance(values);
  return v === null ? null : Math.sqrt(v);
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Average ranks from 1, ties sharing their mean rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k][1]] = rank;
    i = j + 1;
  }
  return out;
}

export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const mx = mean(x), my = mean(y);
  if (mx === null || my === null || x.length < 2) return null;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

/** Spearman's rho; null under 3 pairs or when either side is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  return x.length < 3 ? null : pearson(ranks(x), ranks(y));
}

/** Cohen's d of b against a with the pooled sd; null when it is undefined (too few values, no spread). */
export function cohenD(a: readonly number[], b: readonly number[]): number | null {
  const va = a.length > 1 ? variance(a)! : 0, vb = b.length > 1 ? variance(b)! : 0;
  const dof = a.length + b.length - 2;
  if (a.length === 0 || b.length === 0 || dof <= 0) return null;
  const pooled = Math.sqrt(((a.length - 1) * va + (b.length - 1) * vb) / dof);
  return pooled > 0 ? (mean(b)! - mean(a)!) / pooled : null;
}

export interface LooResult {
  /** Correct / classified. */
  accuracy: number | null;
  n: number;
  /** confusion[true group][predicted group]. */
  confusion: number[][];
}

/** Leave-one-out nearest-centroid classification of feature vectors into `groups` groups. */
export function looNearestCentroid(features: readonly (readonly number[])[], group: readonly number[], groups: number): LooResult {
  const dim = features[0]?.length ?? 0;
  const sums = Array.from({ length: groups }, () => new Array<number>(dim).fill(0));
  const counts = new Array<number>(groups).fill(0);
  features.forEach((f, i) => {
    counts[group[i]]++;
    for (let k = 0; k < dim; k++) sums[group[i]][k] += f[k];
  });
  const confusion = Array.from({ length: groups }, () => new Array<number>(groups).fill(0));
  let correct = 0;
  features.forEach((f, i) => {
    let best = -1, bestDistance = Infinity;
    for (let g = 0; g < groups; g++) {
      const n = counts[g] - (g === group[i] ? 1 : 0);
      if (n === 0) continue;
      let d = 0;
      for (let k = 0; k < dim; k++) {
        const c = (sums[g][k] - (g === group[i] ? f[k] : 0)) / n;
        d += (f[k] - c) ** 2;
      }
      if (d < bestDistance) [best, bestDistance] = [g, d];
    }
    if (best < 0) return;
    confusion[group[i]][best]++;
    if (best === group[i]) correct++;
  });
  const n = confusion.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  return { accuracy: n === 0 ? null : correct / n, n, confusion };
}
