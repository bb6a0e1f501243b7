/**
 * Moments of a sample as plain, mergeable data: count, mean and M2 (sum of squared deviations),
 * with extrema and non-finite counts. Two partials of disjoint samples merge with Chan's
 * formula: counts, extrema and non-finite counts merge exactly; mean and M2 agree with a
 * one-shot pass to f64 rounding (about 1e-16 relative per merge).
 */
export interface Moments {
  /** Finite values seen. */
  count: number;
  mean: number;
  m2: number;
  /** Smallest and largest finite value; null when count is 0. */
  min: number | null;
  max: number | null;
  nan: number;
  posInf: number;
  negInf: number;
}

export const EMPTY_MOMENTS: Readonly<Moments> = Object.freeze({ count: 0, mean: 0, m2: 0, min: null, max: null, nan: 0, posInf: 0, negInf: 0 });

export function mergeMoments(a: Moments, b: Moments): Moments {
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = count === 0 ? 0 : a.mean + delta * (b.count / count);
  const m2 = count === 0 ? 0 : a.m2 + b.m2 + delta * delta * ((a.count * b.count) / count);
  return {
    count,
    mean,
    m2,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
    nan: a.nan + b.nan,
    posInf: a.posInf + b.posInf,
    negInf: a.negInf + b.negInf,
  };
}

function pick(a: number | null, b: number | null, f: (x: number, y: number) => number): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return f(a, b);
}

/** Moments of values in memory (strength vectors), two-pass in f64; non-finite values counted apart. */
export function momentsOf(values: ArrayLike<number>): Moments {
  let count = 0, sum = 0, nan = 0, posInf = 0, negInf = 0;
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x)) {
      count++;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    } else if (x !== x) nan++;
    else if (x > 0) posInf++;
    else negInf++;
  }
  const mean = count === 0 ? 0 : sum / count;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x)) m2 += (x - mean) * (x - mean);
  }
  return { count, mean, m2, min: count ? min : null, max: count ? max : null, nan, posInf, negInf };
}

/** Population standard deviation (ddof 0), null for an empty sample. */
export function stdOf(m: Moments): number | null {
  return m.count === 0 ? null : Math.sqrt(Math.max(0, m.m2) / m.count);
}
