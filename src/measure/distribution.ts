import type { Distribution } from "../report/types.js";
import type { Histogram } from "./histogram.js";
import { stdOf, type Moments } from "./moments.js";

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
