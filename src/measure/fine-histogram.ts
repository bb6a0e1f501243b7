import { FINE_BUCKETS } from "../kernels/layout.js";
import { binOf } from "./histogram.js";

/**
 * Rebinning the fine stream histogram (assembly/histogram.ts histogramFine: one bucket per top
 * 16 bits of an f32) into the report's bins. A bucket wholly inside one bin moves exactly; a
 * bucket that straddles an edge is split in proportion to the value range on each side, so a
 * count can be off only by values lying within one bucket width (under 1/128 of their
 * magnitude) of a bin edge. Such histograms carry `exact: false`.
 */
export function rebinFine(fine: ArrayLike<number>, edges: ArrayLike<number>): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const word = new DataView(new ArrayBuffer(4));
  const valueOf = (bits: number) => {
    word.setUint32(0, bits >>> 0);
    return word.getFloat32(0);
  };
  for (let bucket = 0; bucket < FINE_BUCKETS; bucket++) {
    const n = fine[bucket];
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
