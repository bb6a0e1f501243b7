import type { Distribution } from "../report/types.js";
import { histogramOf, uniformEdges, type Histogram } from "./histogram.js";
import { momentsOf, stdOf, type Moments } from "./moments.js";

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

/** Distribution of values held in memory (strength vectors), binned over their own [min, max] or given edges. */
export function distributionOf(values: ArrayLike<number>, bins: number, edges?: readonly number[]): Distribution {
  const m = momentsOf(values);
  let histogram: Histogram;
  if (edges) histogram = { edges: [...edges], counts: histogramOf(values, edges) };
  else if (m.count === 0) histogram = emptyHistogram(bins);
  else {
    const e = uniformEdges(m.min!, m.max!, bins);
    histogram = { edges: Array.from(e), counts: histogramOf(values, e, true) };
  }
  return distributionFrom(m, histogram);
}
