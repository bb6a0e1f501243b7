import type { Distribution } from "../report/types.js";
import { align, type Kernels } from "../wasm/kernels.js";
import { distributionFrom, emptyHistogram } from "./distribution.js";
import { isUniformSpan, uniformEdges, type Histogram } from "./histogram.js";
import type { Moments } from "./moments.js";

/**
 * The distribution of a strength vector, computed by the f64 kernels: a first pass for the
 * count, sum and extrema, a second with the mean as the shift (so M2 is the two-pass sum of
 * squared deviations), and a histogram pass. Node layers of conv networks hold millions of
 * values; this keeps them at kernel speed.
 *
 *   base ─ state(128) ─ edges f64[bins+1] ─ counts i64[bins] ─ values f64[n]
 */
export function vectorDistribution(kernels: Kernels, values: Float64Array, bins: number, edges?: readonly number[]): Distribution {
  const state = kernels.base;
  const edgesPtr = state + 128;
  const nBins = edges ? edges.length - 1 : bins;
  const countsPtr = align(edgesPtr + (nBins + 1) * 8, 64);
  const valuesPtr = align(countsPtr + nBins * 8, 64);
  kernels.reserve(valuesPtr + values.byteLength);
  kernels.f64(valuesPtr, values.length).set(values);
  const k = kernels.exports;
  const run = (shift: number) => {
    kernels.bytes(state, 128).fill(0);
    const s = kernels.f64(state, 10);
    s[2] = shift;
    s[8] = Infinity;
    s[9] = -Infinity;
    k.statsOnlyF64(valuesPtr, values.length, state);
    return kernels.f64(state, 10).slice();
  };
  const first = run(0);
  const nonFinite = first[4] + first[5] + first[6];
  const count = values.length - nonFinite;
  const mean = count > 0 ? first[0] / count : 0;
  const second = count > 0 ? run(mean) : first;
  const m: Moments = {
    count,
    mean,
    m2: count > 0 ? Math.max(0, second[1]) : 0,
    min: count > 0 ? first[8] : null,
    max: count > 0 ? first[9] : null,
    nan: first[4],
    posInf: first[5],
    negInf: first[6],
  };
  let histogram: Histogram;
  if (!edges && count === 0) histogram = emptyHistogram(bins);
  else {
    const e = edges ? Float64Array.from(edges) : uniformEdges(m.min!, m.max!, bins);
    kernels.f64(edgesPtr, e.length).set(e);
    kernels.bytes(countsPtr, nBins * 8).fill(0);
    if (!edges && isUniformSpan(e)) k.histogramUniformF64(valuesPtr, values.length, nBins, edgesPtr, countsPtr);
    else k.histogramEdgesF64(valuesPtr, values.length, nBins, edgesPtr, countsPtr);
    histogram = { edges: Array.from(e), counts: Array.from(new BigInt64Array(kernels.memory.buffer, countsPtr, nBins), Number) };
  }
  return distributionFrom(m, histogram);
}
