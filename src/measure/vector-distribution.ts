import type { Kernels } from "../kernels/kernels.js";
import { ALIGN, align, STATE_BYTES, STATE_F64, STATE_F64_LENGTH } from "../kernels/layout.js";
import { distributionFrom, emptyHistogram, type Distribution } from "./distribution.js";
import { isUniformSpan, uniformEdges, type Histogram } from "./histogram.js";
import type { Moments } from "./moments.js";

/**
 * The distribution of a strength vector, computed by the f64 kernels: a first pass for the
 * count, sum and extrema, a second with the mean as the shift (so M2 is the two-pass sum of
 * squared deviations), and a histogram pass. Node layers of conv networks hold millions of
 * values; this keeps them at kernel speed.
 *
 *   base ─ state(STATE_BYTES) ─ edges f64[bins+1] ─ counts i64[bins] ─ values f64[n]
 *   (every region ALIGN-aligned; the whole map of memory: src/kernels/layout.ts)
 */
export function vectorDistribution(kernels: Kernels, values: Float64Array, bins: number, edges?: readonly number[]): Distribution {
  const state = kernels.base;
  const edgesPtr = state + STATE_BYTES;
  const nBins = edges ? edges.length - 1 : bins;
  const countsPtr = align(edgesPtr + (nBins + 1) * 8, ALIGN);
  const valuesPtr = align(countsPtr + nBins * 8, ALIGN);
  kernels.reserve(valuesPtr + values.byteLength);
  kernels.f64(valuesPtr, values.length).set(values);
  const k = kernels.exports;
  const run = (shift: number) => {
    kernels.bytes(state, STATE_BYTES).fill(0);
    const s = kernels.f64(state, STATE_F64_LENGTH);
    s[STATE_F64.SHIFT] = shift;
    s[STATE_F64.MIN64] = Infinity;
    s[STATE_F64.MAX64] = -Infinity;
    k.statsOnlyF64(valuesPtr, values.length, state);
    return kernels.f64(state, STATE_F64_LENGTH).slice();
  };
  const first = run(0);
  const nonFinite = first[STATE_F64.NAN_COUNT] + first[STATE_F64.POS_INF] + first[STATE_F64.NEG_INF];
  const count = values.length - nonFinite;
  const mean = count > 0 ? first[STATE_F64.SUM] / count : 0;
  const second = count > 0 ? run(mean) : first;
  const m: Moments = {
    count,
    mean,
    m2: count > 0 ? Math.max(0, second[STATE_F64.SQ]) : 0,
    min: count > 0 ? first[STATE_F64.MIN64] : null,
    max: count > 0 ? first[STATE_F64.MAX64] : null,
    nan: first[STATE_F64.NAN_COUNT],
    posInf: first[STATE_F64.POS_INF],
    negInf: first[STATE_F64.NEG_INF],
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
