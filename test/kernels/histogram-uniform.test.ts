// histogramUniform / histogramUniformF64 (assembly/histogram.ts) with edges from uniformEdges:
// counts must equal numpy.histogram's rule exactly, for values on every edge and one or two
// ulps either side, at min and max, outside the range, NaN and ±Inf.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, F32_MAX, F32_MIN_SUB, nextUpF32 } from "./_support.js";
import { uniformEdges } from "../../src/measure/histogram.js";
import { referenceCounts, adversarialF32, adversarialF64, runHistogram, assertCounts } from "./_histogram-reference.js";

const k = await Kernels.create();
const BINS = [1, 3, 64, 1000];

// [name, min, max]: min and max are f32 values, as the host takes them from the f32 stats.
const RANGES: [string, number, number][] = [
  ["[-1, 1] (dyadic edges)", -1, 1],
  ["[0.1, 0.7]", Math.fround(0.1), Math.fround(0.7)],
  ["[-3e-3, 7.5]", Math.fround(-3e-3), 7.5],
  ["negative [-9.25, -0.125]", -9.25, -0.125],
  ["subnormal [0, 1000 * 2^-149]", 0, 1000 * F32_MIN_SUB],
  ["full f32 range", -F32_MAX, F32_MAX],
  ["narrow far from 0 [1e6, 1e6 + 7/16]", 1e6, 1e6 + 7 / 16],
  ["adjacent f32 values at 1.5", 1.5, nextUpF32(1.5)],
  ["constant -3.5 (edges -4 .. -3)", -3.5, -3.5],
  ["constant 0", 0, 0],
];

test("uniformEdges reproduces numpy.linspace: edges[i] = i * step + min, last edge exactly max", () => {
  const e = uniformEdges(0.1, 0.7, 3);
  const step = (0.7 - 0.1) / 3;
  assert.equal(Array.from(e), [0.1, step + 0.1, 2 * step + 0.1, 0.7]);
  assert.equal(Array.from(uniformEdges(2, 2, 1)), [1.5, 2.5]);
});

for (const [name, min, max] of RANGES) {
  test(`histogramUniform: ${name}, bins 1/3/64/1000, values on and beside every edge match numpy's rule exactly`, () => {
    BINS.forEach((bins, j) => {
      const edges = uniformEdges(min, max, bins);
      const values = adversarialF32(edges, 100 + bins, 2000);
      values[0] = min; // min and max themselves
      values[values.length - 1] = max;
      const expected = referenceCounts(values, edges);
      const actual = runHistogram(k, k.exports.histogramUniform, values, edges, 7 + j);
      assertCounts(actual, expected, edges, values, `${name} bins ${bins}`);
      // Sorted, so whole SIMD quads hold values at the same edge.
      const sorted = values.slice().sort();
      assertCounts(runHistogram(k, k.exports.histogramUniform, sorted, edges, 9 + j, 64), expected, edges, sorted, `${name} bins ${bins} sorted`);
    });
  });

  test(`histogramUniformF64: ${name}, bins 1/3/64/1000, values on and beside every edge match numpy's rule exactly`, () => {
    BINS.forEach((bins, j) => {
      const edges = uniformEdges(min, max, bins);
      const values = adversarialF64(edges, 200 + bins, 2000);
      values[0] = min;
      values[values.length - 1] = max;
      const expected = referenceCounts(values, edges);
      const actual = runHistogram(k, k.exports.histogramUniformF64, values, edges, 17 + j);
      assertCounts(actual, expected, edges, values, `${name} bins ${bins}`);
      const sorted = values.slice().sort();
      assertCounts(runHistogram(k, k.exports.histogramUniformF64, sorted, edges, 19 + j, 64), expected, edges, sorted, `${name} bins ${bins} sorted`);
    });
  });
}

test("histogramUniform: f64 ranges that are not f32 values (non-f32 edges) still bin f32 data exactly", () => {
  for (const [min, max] of [[0.1, 0.3], [-1e-7, 2e-7], [1 / 3, 1e3 / 7]]) {
    for (const bins of BINS) {
      const edges = uniformEdges(min, max, bins);
      const values = adversarialF32(edges, bins, 1000);
      assertCounts(runHistogram(k, k.exports.histogramUniform, values, edges, bins), referenceCounts(values, edges), edges, values, `[${min}, ${max}] bins ${bins}`);
    }
  }
});

// Ranges whose edges are all exact f32 values (step = 49 or 103 * 2^-10) while norm = bins / (hi - lo)
// is inexact, so that (x - lo) * norm for x exactly on an edge rounds to just below the edge's
// index: floor() of it names the bin below, and only a check against the edges gets it right.
const ROUNDS_BELOW: [number, number, number][] = [
  [3, -1.25, -1.25 + (3 * 49) / 1024],
  [64, -1.25, -1.25 + (64 * 103) / 1024],
  [1000, 10, 10 + (1000 * 103) / 1024],
];

test("histogramUniform(F64): values exactly on edges where (x - lo) * norm rounds below the edge index land in the edge's bin", () => {
  for (const [bins, min, max] of ROUNDS_BELOW) {
    const edges = uniformEdges(min, max, bins);
    const norm = bins / (edges[bins] - edges[0]);
    let tricky = 0;
    const list: number[] = [];
    for (let i = 1; i < bins; i++) {
      assert.is(Math.fround(edges[i]), edges[i], "edge is an f32 value");
      if ((edges[i] - edges[0]) * norm < i) tricky++;
      list.push(edges[i], edges[i], edges[i], edges[i]); // whole SIMD quads on one edge
    }
    assert.ok(tricky > 0, `bins ${bins}: some edge index rounds below (${tricky})`);
    const values32 = Float32Array.from(list);
    const expected = referenceCounts(values32, edges);
    assertCounts(runHistogram(k, k.exports.histogramUniform, values32, edges, 3, 64), expected, edges, values32, `f32 bins ${bins}`);
    const values64 = Float64Array.from(list);
    assertCounts(runHistogram(k, k.exports.histogramUniformF64, values64, edges, 4, 64), expected, edges, values64, `f64 bins ${bins}`);
  }
});

test("histogramUniform: every value counted once when all are in range (counts add up to n)", () => {
  const edges = uniformEdges(-2, 2, 64);
  const values = new Float32Array(4099).map((_, i) => -2 + (4 * i) / 4098);
  const actual = runHistogram(k, k.exports.histogramUniform, values, edges, 5, 300);
  assert.is(actual.reduce((a, b) => a + b, 0), values.length);
  assertCounts(actual, referenceCounts(values, edges), edges, values, "ramp");
});

test.run();
