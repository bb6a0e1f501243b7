// histogramEdges / histogramEdgesF64 (assembly/histogram.ts) with caller-given, uneven edges:
// counts must equal numpy.histogram's rule exactly, for values on and beside every edge.
import { test } from "uvu";
import { Kernels, mulberry32, F32_MAX, F32_MIN_SUB } from "./_support.js";
import { referenceCounts, adversarialF32, adversarialF64, runHistogram, assertCounts } from "./_histogram-reference.js";

const k = await Kernels.create();

function sortedRandomEdges(seed: number, count: number, lo: number, hi: number, f32: boolean): number[] {
  const rand = mulberry32(seed);
  const set = new Set<number>([lo, hi]);
  while (set.size < count) {
    const v = lo + (hi - lo) * rand() ** 3; // crowded towards lo: very uneven widths
    set.add(f32 ? Math.fround(v) : v);
  }
  return [...set].filter((v) => v >= lo && v <= hi).sort((a, b) => a - b);
}

const EDGE_SETS: [string, number[]][] = [
  ["one bin [-1, 2]", [-1, 2]],
  ["three uneven bins", [-0.7, 0.1, 0.100000001, 5]],
  ["log-spaced, spanning signs", [-1e30, -1, -0.5, -1e-3, 0, 1e-40, 1e-3, 0.3, 0.30000001, 1, 7, 1e30]],
  ["subnormal-wide bins", [0, F32_MIN_SUB, 3 * F32_MIN_SUB, 1e-39, 1.1754942e-38, 1e-37]],
  ["full f32 range", [-F32_MAX, -1, 0, 1, F32_MAX]],
  ["64 random f64 edges", sortedRandomEdges(1, 65, -2, 3, false)],
  ["1000 random f32 edges", sortedRandomEdges(2, 1001, -50, 50, true)],
  ["1000 random f64 edges", sortedRandomEdges(3, 1001, 0.001, 0.002, false)],
];

for (const [name, edges] of EDGE_SETS) {
  test(`histogramEdges: ${name}, values on and beside every edge match numpy's rule exactly`, () => {
    const values = adversarialF32(edges, edges.length, 1500);
    assertCounts(runHistogram(k, k.exports.histogramEdges, values, edges, 1), referenceCounts(values, edges), edges, values, name);
  });

  test(`histogramEdgesF64: ${name}, values on and beside every edge match numpy's rule exactly`, () => {
    const values = adversarialF64(edges, edges.length, 1500);
    assertCounts(runHistogram(k, k.exports.histogramEdgesF64, values, edges, 2), referenceCounts(values, edges), edges, values, name);
  });
}

test.run();
