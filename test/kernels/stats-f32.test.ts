// statsOnly and statsRowsCols (assembly/moments.ts) against a float64 reference, with the data
// fed in several calls whose blocks start mid-row at odd columns and have lengths that are not
// multiples of 4, so both the SIMD body and the scalar tail see every kind of value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, layout, initState, readState, mulberry32, gauss, STATE } from "./_support.js";
import { statsReference, firstFinite, checkMoments, checkLineSums, SPECIALS_F32, randomBlocks } from "./_stats-reference.js";

const k = await Kernels.create();

/** f32 data: mostly N(offset, scale) with a `specialRate` share of SPECIALS_F32. */
function makeData(seed: number, n: number, specialRate: number, offset = 0.25, scale = 1): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = rand() < specialRate ? SPECIALS_F32[Math.floor(rand() * SPECIALS_F32.length)] : offset + scale * gauss(rand);
  }
  return out;
}

function runStatsOnly(data: Float32Array, blocks: [number, number][]) {
  const [state, src] = layout(k, [STATE.BYTES, data.length * 4 + 16]);
  k.f32(src, data.length).set(data);
  initState(k, state, Math.fround(firstFinite(data)));
  for (const [start, len] of blocks) k.exports.statsOnly(src + start * 4, len, state);
  return readState(k, state);
}

function runRowsCols(data: Float32Array, cols: number, blocks: [number, number][]) {
  const rows = Math.ceil(data.length / cols);
  const [state, src, rowSums, colSums] = layout(k, [STATE.BYTES, data.length * 4 + 16, rows * 8, cols * 8]);
  k.f32(src, data.length).set(data);
  initState(k, state, Math.fround(firstFinite(data)));
  for (const [start, len] of blocks) {
    k.exports.statsRowsCols(src + start * 4, len, Math.floor(start / cols), start % cols, cols, rowSums, colSums, state);
  }
  return { s: readState(k, state), rowSums: Array.from(k.f64(rowSums, rows)), colSums: Array.from(k.f64(colSums, cols)) };
}

test("statsOnly: counts, extrema, SUM and M2 over odd-length blocks with NaN, ±Inf, -0, subnormals, huge values", () => {
  for (const [seed, n, maxLen] of [[1, 1000, 37], [2, 4099, 250], [3, 517, 7], [4, 64, 3], [5, 2, 1], [6, 3, 3]]) {
    const data = makeData(seed, n, 0.1);
    const blocks = randomBlocks(mulberry32(seed * 7919), n, maxLen);
    checkMoments(runStatsOnly(data, blocks), statsReference(data, n), false, `seed ${seed} n ${n}`);
  }
});

test("statsOnly: ordinary data in one call and in blocks of 1..3 (all scalar tail) agree with the reference", () => {
  const data = makeData(11, 1001, 0, -3, 2.5);
  const ref = statsReference(data, data.length);
  checkMoments(runStatsOnly(data, [[0, data.length]]), ref, false, "one call");
  checkMoments(runStatsOnly(data, randomBlocks(mulberry32(12), data.length, 3)), ref, false, "blocks of 1..3");
});

test("statsOnly: empty calls change nothing and a block of only non-finite values leaves the extrema at ±Inf", () => {
  const data = new Float32Array([NaN, Infinity, -Infinity, NaN, NaN, -Infinity, Infinity, NaN, NaN]);
  const s = runStatsOnly(data, [[0, 0], [0, 5], [5, 0], [5, 4]]);
  checkMoments(s, statsReference(data, data.length), false, "all non-finite");
  assert.is(s.min32, Infinity);
  assert.is(s.max32, -Infinity);
  assert.is(s.sum, 0);
});

for (const [rows, cols, seed] of [[6, 1, 21], [1, 3, 22], [1, 2, 23], [11, 3, 24], [13, 7, 25], [9, 37, 26], [40, 64, 27]]) {
  test(`statsRowsCols: ${rows}x${cols} matrix fed in blocks that start mid-row matches moments, row and column sums`, () => {
    const n = rows * cols;
    const data = makeData(seed, n, 0.12);
    const ref = statsReference(data, cols);
    const plans: [string, [number, number][]][] = [
      ["whole", [[0, n]]],
      ["random blocks", randomBlocks(mulberry32(seed * 31), n, 2 * cols + 9)],
      ["short blocks", randomBlocks(mulberry32(seed * 37), n, 5)],
    ];
    let oddStarts = 0;
    for (const [name, blocks] of plans) {
      for (const [start] of blocks) if ((start % cols) % 2 === 1) oddStarts++;
      const { s, rowSums, colSums } = runRowsCols(data, cols, blocks);
      checkMoments(s, ref, false, `${rows}x${cols} ${name}`);
      checkLineSums(rowSums, colSums, ref, `${rows}x${cols} ${name}`);
    }
    if (cols > 2) assert.ok(oddStarts > 0, "some block starts at an odd column");
  });
}

test("statsRowsCols: rows and columns made only of NaN/±Inf sum to exactly 0 (non-finite values add 0)", () => {
  const rows = 5, cols = 7;
  const data = makeData(41, rows * cols, 0, 1, 1);
  const bad = [NaN, Infinity, -Infinity];
  for (let c = 0; c < cols; c++) data[2 * cols + c] = bad[c % 3]; // row 2
  for (let r = 0; r < rows; r++) data[r * cols + 4] = bad[(r + 1) % 3]; // column 4
  data[3 * cols + 1] = -0;
  const ref = statsReference(data, cols);
  const { s, rowSums, colSums } = runRowsCols(data, cols, randomBlocks(mulberry32(42), rows * cols, 6));
  checkMoments(s, ref, false, "non-finite lines");
  checkLineSums(rowSums, colSums, ref, "non-finite lines");
  assert.is(rowSums[2], 0);
  assert.is(colSums[4], 0);
});

test("statsOnly and statsRowsCols: mean 1e6, std 1e-2 keeps the variance to 1e-6 relative (shifted squares)", () => {
  // As f32, 1e6 ± 1e-2 has ulp 1/16, so the values spread over a few ulps of 1e6: still a
  // sample whose M2 is ~1e-13 of sum x^2, which an unshifted sum of squares cannot resolve.
  const n = 4096, cols = 64;
  const rand = mulberry32(51);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = 1e6 + 1e-2 * gauss(rand);
  const ref = statsReference(data, cols);
  assert.ok(ref.m2 > 0, "the f32 sample is not constant");
  checkMoments(runStatsOnly(data, randomBlocks(mulberry32(52), n, 301)), ref, false, "statsOnly 1e6", 1e-6);
  const { s } = runRowsCols(data, cols, randomBlocks(mulberry32(53), n, 301));
  checkMoments(s, ref, false, "statsRowsCols 1e6", 1e-6);
  // The f32 values near 1e6 with spread 0.1 (several distinct values per ulp band).
  const wide = new Float32Array(n);
  for (let i = 0; i < n; i++) wide[i] = 1e6 + 0.1 * gauss(rand);
  checkMoments(runStatsOnly(wide, randomBlocks(mulberry32(54), n, 97)), statsReference(wide, n), false, "statsOnly 1e6 ± 0.1", 1e-6);
});

test.run();
