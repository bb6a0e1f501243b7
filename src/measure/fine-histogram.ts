import { FINE_BUCKETS } from "../kernels/layout.js";
import { binOf } from "./histogram.js";

/**
 * Rebinning the fine stream histogram (assembly/histogram.ts histogramFine: one bucket per top
 * 16 bits of an f32) into the report's bins. A bucket wholly inside one bin moves exactly; a
 * bucket that straddles an edge is split in proportion to the value range on each side, so a
 * count can be off only by values lying within one bucket width (under 1/128 of their
 * magnitude) of a bin edge. Such histograms carry `exact: false`.
 */
export function rebinFine(fine: FineHistogram, edges: ArrayLike<number>): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const word = new DataView(new ArrayBuffer(4));
  const valueOf = (bits: number) => {
    word.setUint32(0, bits >>> 0);
    return word.getFloat32(0);
  };
  // Only the non-empty buckets (a report's value spans a few thousand of the 65,536).
  for (let k = 0; k < fine.buckets.length; k++) {
    const bucket = fine.buckets[k];
    const n = fine.counts[k];
    if (n === 0) continue;
    if (((bucket >>> 7) & 0xff) === 0xff) continue; // Inf and NaN are counted elsewhere
    // The bucket's values run between these two f32 patterns (sign-magnitude order).
    const a = valueOf(bucket << 16);
    const b = valueOf((bucket << 16) | 0xffff);
    const lo = Math.min(a, b), hi = Math.max(a, b);
    const first = binOf(Math.max(lo, edges[0]), edges);
    const last = binOf(Math.min(hi, edges[bins]), edges);
    if (first < 0 || last < 0) continue;
    if (first === last || hi === lo) {
      counts[first] += n;
      continue;
    }
    // Split by range; rounding keeps the total exact by giving the remainder to the last bin.
    let given = 0;
    for (let bin = first; bin < last; bin++) {
      const part = Math.min(n - given, Math.round((n * (Math.min(hi, edges[bin + 1]) - Math.max(lo, edges[bin]))) / (hi - lo)));
      counts[bin] += part;
      given += part;
    }
    counts[last] += n - given;
  }
  return counts;
}

/**
 * A fine histogram kept in a report (option `fine`): the non-empty buckets of the stream
 * histogram, in ascending bucket order, with their counts. Bucket b holds the finite f32 values
 * whose top 16 bits are b; integer counts, so fine histograms of chunks, files and machines add
 * up exactly and rebin to any edges later (rebinFine).
 */
export interface FineHistogram {
  buckets: number[];
  counts: number[];
}

/** The non-empty buckets of a dense fine histogram. */
export function sparseFine(dense: ArrayLike<number>): FineHistogram {
  const buckets: number[] = [];
  const counts: number[] = [];
  for (let b = 0; b < dense.length; b++) {
    if (dense[b] === 0 || ((b >>> 7) & 0xff) === 0xff) continue; // Inf and NaN are counted apart
    buckets.push(b);
    counts.push(dense[b]);
  }
  return { buckets, counts };
}

/** The dense form of a fine histogram (FINE_BUCKETS counts), for rebinFine. */
export function denseFine(fine: FineHistogram): Float64Array {
  const dense = new Float64Array(FINE_BUCKETS);
  for (let i = 0; i < fine.buckets.length; i++) dense[fine.buckets[i]] += fine.counts[i];
  return dense;
}

/** Vectors up to this length are bucketed by sorting, longer ones through a dense histogram. */
const SORTED_FINE_MAX = 16_384;

/** The fine histogram of f64 values (strengths), each bucketed by its nearest f32. */
export function fineOfValues(values: Float64Array): FineHistogram {
  // A dense histogram allocates, clears and scans all 65,536 buckets whatever the length: for the
  // bundled MLP's 15 strength vectors that was a quarter of each file's analysis (profile of a
  // population of 200 copies). Sorting the n bucket numbers gives the same buckets and counts.
  if (values.length <= SORTED_FINE_MAX) return fineBySorting(values);
  const dense = new Float64Array(FINE_BUCKETS);
  const narrow = new Float32Array(4096);
  const bits = new Uint32Array(narrow.buffer);
  for (let start = 0; start < values.length; start += narrow.length) {
    const n = Math.min(narrow.length, values.length - start);
    narrow.set(values.subarray(start, start + n));
    for (let i = 0; i < n; i++) dense[bits[i] >>> 16]++;
  }
  return sparseFine(dense);
}

/** fineOfValues for short vectors: the top 16 bits of each nearest f32, sorted, counted in runs. */
function fineBySorting(values: Float64Array): FineHistogram {
  const bucketOf = new Uint32Array(Float32Array.from(values).buffer);
  for (let i = 0; i < bucketOf.length; i++) bucketOf[i] >>>= 16;
  bucketOf.sort();
  const buckets: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < bucketOf.length; ) {
    const b = bucketOf[i];
    let j = i + 1;
    while (j < bucketOf.length && bucketOf[j] === b) j++;
    if (((b >>> 7) & 0xff) !== 0xff) {
      buckets.push(b); // Inf and NaN are counted apart, as in sparseFine
      counts.push(j - i);
    }
    i = j;
  }
  return { buckets, counts };
}
