// The kernels' fast paths only engage on long inputs (spans of 2048 values, row pairs, the
// pair-table histogram for n >= 16 and bins <= 64): blocks as large as the host sends, checked
// against the float64 references, with values on and beside every bin edge.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { uniformEdges } from "../../src/measure/histogram.js";
import { referenceCounts } from "./_histogram-reference.js";
import { checkLineSums, checkMoments, firstFinite, randomBlocks, statsReference } from "./_stats-reference.js";
import { Kernels, gauss, initState, layout, mulberry32, nextDownF32, nextUpF32, readState } from "./_support.js";

const kernels = await Kernels.create();

test("histogramUniform: 17 ranges x 9 bin counts, edge values, NaN/Inf, blocks up to 5,000 values", () => {
  const rand = mulberry32(12345);
  const ranges = [[-0.1, 0.1], [-1, 1], [0.1, 0.7], [-3e-3, 7.5], [-9.25, -0.125], [1e6, 1e6 + 7 / 16], [1.5, nextUpF32(1.5)], [-4, -3], [-0.5, 0.5], [0.1, 0.3], [-1e-7, 2e-7], [1 / 3, 1e3 / 7], [-3.4e38, 3.4e38], [0, 1000 * 2 ** -149], [-1e-30, 1e-30], [100, 100.0001], [-2.5, 1e4]];
  let cases = 0;
  for (const [lo0, hi0] of ranges) for (const bins of [1, 2, 3, 7, 16, 63, 64, 65, 100]) {
    const lo = Math.fround(lo0), hi = Math.fround(hi0);
    if (!(hi > lo)) continue;
    const edges = uniformEdges(lo, hi, bins);
    const values: number[] = [];
    for (const e of edges) {
      const v = Math.fround(e);
      if (Number.isFinite(v)) values.push(v, nextUpF32(v), nextDownF32(v), nextUpF32(nextUpF32(v)), nextDownF32(nextDownF32(v)));
    }
    const span = hi - lo;
    for (let i = 0; i < 6000; i++) values.push(Math.fround(lo - 0.05 * span + 1.1 * span * rand()));
    for (let i = 0; i < 64; i++) values.push([NaN, Infinity, -Infinity, 0, -0, 3.4e38, -3.4e38, 1e-45][i % 8]);
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [values[i], values[j]] = [values[j], values[i]];
    }
    const data = Float32Array.from(values);
    const [edgesPtr, counts, src] = layout(kernels, [(bins + 1) * 8, bins * 8, data.byteLength]);
    kernels.f64(edgesPtr, bins + 1).set(edges);
    kernels.f32(src, data.length).set(data);
    for (const [start, len] of randomBlocks(rand, data.length, 5000)) kernels.exports.histogramUniform(src + 4 * start, len, bins, edgesPtr, counts);
    const got = Array.from(new BigInt64Array(kernels.memory.buffer, counts, bins), Number);
    assert.equal(got, referenceCounts(data, edges), `[${lo}, ${hi}] with ${bins} bins`);
    cases++;
  }
  assert.ok(cases > 140, `${cases} cases`);
});

for (const cols of [2048, 2049, 4096, 5000, 11008]) {
  test(`statsRowsCols on ${cols} columns: spans, row pairs, blocks starting mid-row; with and without NaN/Inf`, () => {
    for (const withSpecials of [false, true]) {
      const rand = mulberry32(cols + (withSpecials ? 1 : 0));
      const rows = 9;
      const data = new Float32Array(rows * cols);
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(1e3 + gauss(rand) * 0.05);
      if (withSpecials) for (const [i, v] of [[3, NaN], [cols + 5, Infinity], [4 * cols + 2047, -Infinity], [data.length - 1, NaN]] as const) data[i] = v;
      const [state, rowSums, colSums, src] = layout(kernels, [128, rows * 8, cols * 8, data.byteLength]);
      kernels.f32(src, data.length).set(data);
      initState(kernels, state, firstFinite(data));
      for (const [start, len] of randomBlocks(rand, data.length, 3 * cols)) {
        const row = Math.floor(start / cols);
        kernels.exports.statsRowsCols(src + 4 * start, len, row, start - row * cols, cols, rowSums, colSums, state);
      }
      const ref = statsReference(data, cols);
      checkMoments(readState(kernels, state), ref, false, `${cols} columns${withSpecials ? " with NaN/Inf" : ""}`, 1e-8);
      checkLineSums(kernels.f64(rowSums, rows), kernels.f64(colSums, cols), ref, `${cols} columns`);
    }
  });
}

test.run();
