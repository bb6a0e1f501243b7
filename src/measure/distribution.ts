import type { FineHistogram } from "./fine-histogram.js";
import type { Histogram } from "./histogram.js";
import { stdOf, type Moments } from "./moments.js";

/** The distribution of one metric over a layer (spec metrics.md section 2). */
export interface Distribution {
  /** Finite values (non-finite ones are counted apart and excluded from the rest). */
  count: number;
  mean: number | null;
  /** Population standard deviation (ddof 0). */
  std: number | null;
  min: number | null;
  max: number | null;
  nan: number;
  posInf: number;
  negInf: number;
  histogram: Histogram;
  /** With option fine: the fine histogram of the same values (strengths: of each value's nearest f32), which merges exactly across reports. */
  fine?: FineHistogram;
}

/** The report's Distribution from moments and an already binned histogram. */
export function distributionFrom(m: Moments, histogram: Histogram): Distribution {
  return {
    count: m.count,
    mean: m.count === 0 ? null : m.mean,
    std: stdOf(m),
    min: m.min,
    max: m.max,
    nan: m.nan,
    posInf: m.posInf,
    negInf: m.negInf,
    histogram,
  };
}

/** Empty histogram of `bins` bins, for a sample with no finite value. */
export function emptyHistogram(bins: number): Histogram {
  return { edges: null, counts: new Array<number>(bins).fill(0) };
}
