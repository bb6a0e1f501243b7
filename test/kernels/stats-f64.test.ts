// statsOnlyF64 and statsRowsColsF64 (assembly/moments64.ts) against a float64 reference: f64
// values are read at full precision, extrema land in MIN64/MAX64, blocks start mid-row and have
// odd lengths so the 2-lane body and the scalar tail both see every kind of value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, layout, initState, readState, mulberry32, gauss, STATE, nextUpF64 } from "./_support.js";
import { statsReference, firstFinite, checkMoments, checkLineSums, randomBlocks } from "./_stats-reference.js";

const k = await Kernels.create();

const SPECIALS_F64 = [
  NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, -1e-310,
  nextUpF64(1), 1e150, -3e149, 3.4028234663852886e38, 1e-5, // squares of 1e150 still fit in f64
];

function makeData(seed: number, n: number, specialRate: number, offset = 0.25, scale = 1): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = rand() < specialRate ? SPECIALS_F64[Math.floor(rand() * SPECIALS_F64.length)] : offset + scale * gauss(rand);
  }
  return out;
}

function runStatsOnly(data: Float64Array, blocks: [number, number][]) {
  const [state, src] = layout(k, [STATE.BYTES, data.length * 8 + 16]);
  k.f64(src, data.length).set(data);
  initState(k, state, firstFinite(data));
  for (const [start, len] of blocks) k.exports.statsOnlyF64(src + start * 8, len, state);
  return readState(k, state);
}

function runRowsCols(data: Float64Array, cols: number, blocks: [number, number][]) {
  const rows = Math.ceil(data.length / cols);
  const [state, src, rowSums, colSums] = layout(k, [STATE.BYTES, data.length * 8 + 16, rows * 8, cols * 8]);
  k.f64(src, data.length).set(data);
  initState(k, state, firstFinite(data));
  for (const [start, len] of blocks) {
    k.exports.statsRowsColsF64(src + start * 8, len, Math.floor(start / cols), start % cols, cols, rowSums, colSums, state);
  }
  return { s: readState(k, state), rowSums: Array.from(k.f64(rowSums, rows)), colSums: Array.from(k.f64(colSums, cols)) };
}

test("statsOnlyF64: counts, extrema, SUM and M2 over odd-length blocks with NaN, ±Inf, -0, subnormals, huge values", () => {
  for (const [seed, n, maxLen] of [[1, 1000, 37], [2, 4099, 250], [3, 517, 7], [4, 64, 3], [5, 1, 1], [6, 3, 3]]) {
    const data = makeData(seed, n, 0.1);
    const blocks = randomBlocks(mulberry32(seed * 7919), n, maxLen);
    checkMoments(runStatsOnly(data, blocks), statsReference(data, n), true, `seed ${seed} n ${n}`);
  }
});

test("statsOnlyF64: values that are not f32-representable keep full f64 precision", () => {
  const rand = mulberry32(61);
  const data = new Float64Array(999);
  for (let i = 0; i < data.length; i++) data[i] = 1 + rand() * 1e-3; // f32 would round these to multiples of 2^-23
  const ref = statsReference(data, data.length);
  const s = runStatsOnly(data, randomBlocks(mulberry32(62), data.length, 33));
  checkMoments(s, ref, true, "1 + 1e-3 u");
  assert.ok(s.max64 !== Math.fround(s.max64), "max is not an f32 value");
});

test("statsOnlyF64: a block of only non-finite values leaves MIN64/MAX64 at ±Inf and sums at 0", () => {
  const data = new Float64Array([NaN, Infinity, -Infinity, NaN, Infinity]);
  const s = runStatsOnly(data, [[0, 0], [0, 3], [3, 2]]);
  checkMoments(s, statsReference(data, data.length), true, "all non-finite");
  assert.is(s.min64, Infinity);
  assert.is(s.max64, -Infinity);
  assert.is(s.sum, 0);
});

for (const [rows, cols, seed] of [[6, 1, 21], [1, 3, 22], [1, 2, 23], [11, 3, 24], [13, 7, 25], [9, 37, 26], [40, 64, 27]]) {
  test(`statsRowsColsF64: ${rows}x${cols} matrix fed in blocks that start mid-row matches moments, row and column sums`, () => {
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
      checkMoments(s, ref, true, `${rows}x${cols} ${name}`);
      checkLineSums(rowSums, colSums, ref, `${rows}x${cols} ${name}`);
    }
    if (cols > 2) assert.ok(oddStarts > 0, "some block starts at an odd column");
  });
}

test("statsRowsColsF64: rows and columns made only of NaN/±Inf sum to exactly 0 (non-finite values add 0)", () => {
  const rows = 5, cols = 7;
  const data = makeData(41, rows * cols, 0, 1, 1);
  const bad = [NaN, Infinity, -Infinity];
  for (let c = 0; c < cols; c++) data[2 * cols + c] = bad[c % 3];
  for (let r = 0; r < rows; r++) data[r * cols + 4] = bad[(r + 1) % 3];
  const ref = statsReference(data, cols);
  const { s, rowSums, colSums } = runRowsCols(data, cols, randomBlocks(mulberry32(42), rows * cols, 6));
  checkMoments(s, ref, true, "non-finite lines");
  checkLineSums(rowSums, colSums, ref, "non-finite lines");
  assert.is(rowSums[2], 0);
  assert.is(colSums[4], 0);
});

test("statsOnlyF64 and statsRowsColsF64: mean 1e6, std 1e-2 keeps the variance to 1e-6 relative (shifted squares)", () => {
  const n = 4096, cols = 64;
  const rand = mulberry32(71);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = 1e6 + 1e-2 * gauss(rand);
  const ref = statsReference(data, cols);
  const std = Math.sqrt(ref.m2 / n);
  assert.ok(std > 0.009 && std < 0.011, `sample std ${std}`);
  checkMoments(runStatsOnly(data, randomBlocks(mulberry32(72), n, 301)), ref, true, "statsOnlyF64 1e6", 1e-6);
  const { s } = runRowsCols(data, cols, randomBlocks(mulberry32(73), n, 301));
  checkMoments(s, ref, true, "statsRowsColsF64 1e6", 1e-6);
});

test("statsRowsColsF64 with rowSums = 0 computes the moments without touching any line sums", () => {
  const data = makeData(81, 300, 0.1);
  const [state, src, guard] = layout(k, [STATE.BYTES, data.length * 8, 64 * 8]);
  k.f64(src, data.length).set(data);
  k.f64(guard, 64).fill(7);
  initState(k, state, firstFinite(data));
  for (const [start, len] of randomBlocks(mulberry32(82), data.length, 40)) {
    k.exports.statsRowsColsF64(src + start * 8, len, Math.floor(start / 30), start % 30, 30, 0, 0, state);
  }
  checkMoments(readState(k, state), statsReference(data, 30), true, "rowSums = 0");
  assert.ok(k.f64(guard, 64).every((v) => v === 7), "guard region untouched");
});

test.run();
