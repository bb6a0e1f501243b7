// Both cores on one tensor: the band pool (threads sharing one wasm memory) gives the one-thread
// pass bit for bit, and both agree with a float64 reference of the definitions.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isUniformSpan, uniformEdges } from "../../src/measure/histogram.js";
import { momentsOf } from "../../src/measure/moments.js";
import { runTensorPass, type TensorPassRequest, type TensorPassResult } from "../../src/measure/tensor-pass.js";
import type { DType, TensorInfo } from "../../src/model/types.js";
import { BandPool } from "../../src/node/band-pool.js";
import { analyzeFile } from "../../src/node/index.js";
import { BAND_POOL_BYTES } from "../../src/node/parallel.js";
import { Kernels } from "../../src/kernels/kernels.js";
import { assertAllClose, assertClose } from "../helpers/close.js";
import { firstDifference } from "../helpers/diff.js";
import { memorySource } from "../helpers/memory-source.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";
import { prng } from "../helpers/sources.js";
import { referenceCounts } from "../kernels/_histogram-reference.js";

/** A rows x cols matrix of f32 values with a few NaN and +-Inf, and its bytes in `dtype`. */
function matrix(rows: number, cols: number, seed: number): Float32Array {
  const random = prng(seed);
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = (random() - 0.5) * 0.4 + 0.01;
  for (let k = 0; k < 20; k++) values[Math.floor(random() * values.length)] = [NaN, Infinity, -Infinity][k % 3];
  return values;
}

function bytesOf(values: Float32Array, dtype: DType): Uint8Array {
  if (dtype === "f32") return new Uint8Array(values.buffer.slice(0));
  if (dtype === "f64") return new Uint8Array(Float64Array.from(values).buffer);
  // f16 / bf16: bit patterns made directly (bf16: the top half of the f32; f16: a small-value pattern), read back by widening.
  const halves = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer);
  for (let i = 0; i < values.length; i++) halves[i] = dtype === "bf16" ? bits[i] >>> 16 : 0x2e66 ^ (i & 0x3ff) ^ (i % 7 === 0 ? 0x8000 : 0);
  halves[3] = 0x7e00; // NaN in both
  return new Uint8Array(halves.buffer);
}

const tensorOf = (dtype: DType, shape: number[], byteLength: number): TensorInfo => ({ name: "w", dtype, shape, offset: 0, byteLength }) as TensorInfo;

function assertIdentical(pool: TensorPassResult, one: TensorPassResult, what: string): void {
  assert.is(firstDifference(JSON.parse(JSON.stringify(pool, replacer)), JSON.parse(JSON.stringify(one, replacer))), null, what);
}

function replacer(_key: string, value: unknown) {
  return value instanceof Float64Array ? Array.from(value, (x) => (Object.is(x, -0) ? "-0" : x)) : value;
}

async function onePass(bytes: Uint8Array, request: TensorPassRequest): Promise<TensorPassResult> {
  return runTensorPass({ kernels: await Kernels.create(), source: memorySource(bytes), blockBytes: 4 << 20 }, request);
}

test("f32 matrix over many bands: 2 and 3 threads give the one-thread pass bit for bit, and the float64 reference", async () => {
  const rows = 700, cols = 3001; // 2^19 / 3001 = 174 rows per band: 5 bands, the last shorter
  const values = matrix(rows, cols, 1);
  const bytes = bytesOf(values, "f32");
  const finite = Array.from(values).filter(Number.isFinite);
  const reference = momentsOf(finite);
  const edges = uniformEdges(reference.min!, reference.max!, 64);
  const request: TensorPassRequest = { tensor: tensorOf("f32", [rows, cols], bytes.length), matrix: { rows, cols }, edges: { values: edges, uniform: true } };
  const one = await onePass(bytes, request);
  for (const threads of [2, 3]) {
    const pool = await BandPool.create({ threads, blockBytes: 4 << 20 });
    try {
      const at = pool.allocate(bytes.length);
      pool.kernels.bytes(at, bytes.length).set(bytes);
      for (let run = 0; run < 2; run++) assertIdentical(await pool.runPass({ at }, request), one, `${threads} threads, run ${run}`);
    } finally {
      await pool.close();
    }
  }
  // The definitions, in float64: moments of the finite values, row and column sums with non-finite links as 0, numpy's bins.
  assert.is(one.moments.count, finite.length);
  assert.is(one.moments.nan + one.moments.posInf + one.moments.negInf, 20);
  assertClose(one.moments.mean, reference.mean, 1e-12, "mean");
  assertClose(one.moments.m2, reference.m2, 1e-12, "m2");
  assert.is(one.moments.min, reference.min);
  assert.is(one.moments.max, reference.max);
  const rowSums = new Float64Array(rows), colSums = new Float64Array(cols);
  values.forEach((x, i) => {
    if (!Number.isFinite(x)) return;
    rowSums[Math.floor(i / cols)] += x;
    colSums[i % cols] += x;
  });
  assertAllClose(one.rowSums!, rowSums, 1e-12, "row sums");
  assertAllClose(one.colSums!, colSums, 1e-12, "column sums");
  assert.equal(one.counts, referenceCounts(values, edges));
});

for (const dtype of ["f16", "bf16", "f64"] as const) {
  test(`${dtype} matrix: 2 threads give the one-thread pass bit for bit (stats pass, then histogram-only pass)`, async () => {
    const rows = 400, cols = 4099;
    const bytes = bytesOf(matrix(rows, cols, 2), dtype);
    const tensor = tensorOf(dtype, [rows, cols], bytes.length);
    const stats = await onePass(bytes, { tensor, matrix: { rows, cols } });
    const edges = uniformEdges(stats.moments.min!, stats.moments.max!, 32);
    const histogram = await onePass(bytes, { tensor, edges: { values: edges, uniform: true }, histogramOnly: true });
    assert.ok(stats.moments.nan >= 1, "the NaN is counted");
    const pool = await BandPool.create({ threads: 2, blockBytes: 4 << 20 });
    try {
      const at = pool.allocate(bytes.length);
      pool.kernels.bytes(at, bytes.length).set(bytes);
      assertIdentical(await pool.runPass({ at }, { tensor, matrix: { rows, cols } }), stats, `${dtype} stats`);
      assertIdentical(await pool.runPass({ at }, { tensor, edges: { values: edges, uniform: true }, histogramOnly: true }), histogram, `${dtype} histogram`);
    } finally {
      await pool.close();
    }
  });
}

test("a flat tensor with non-uniform edges: 2 threads give the one-thread pass; the counts are numpy's", async () => {
  const values = matrix(1, 1_300_001, 3);
  const bytes = bytesOf(values, "f32");
  const edges = Float64Array.from([-0.2, -0.05, 0, 0.001, 0.1, 0.3]);
  const request: TensorPassRequest = { tensor: tensorOf("f32", [values.length], bytes.length), edges: { values: edges, uniform: false } };
  const one = await onePass(bytes, request);
  assert.equal(one.counts, referenceCounts(values, edges));
  const pool = await BandPool.create({ threads: 2, blockBytes: 4 << 20 });
  try {
    const at = pool.allocate(bytes.length);
    pool.kernels.bytes(at, bytes.length).set(bytes);
    assertIdentical(await pool.runPass({ at }, request), one, "flat");
  } finally {
    await pool.close();
  }
});

test("passes started together on one pool run one after the other, each with its own correct result", async () => {
  const rows = 600, cols = 2000;
  const a = bytesOf(matrix(rows, cols, 7), "f32");
  const b = bytesOf(matrix(rows, cols, 8), "f32");
  const request = (bytes: Uint8Array): TensorPassRequest => ({ tensor: tensorOf("f32", [rows, cols], bytes.length), matrix: { rows, cols } });
  const [oneA, oneB] = [await onePass(a, request(a)), await onePass(b, request(b))];
  const pool = await BandPool.create({ threads: 2, blockBytes: 4 << 20 });
  try {
    const atA = pool.allocate(a.length), atB = pool.allocate(b.length);
    pool.kernels.bytes(atA, a.length).set(a);
    pool.kernels.bytes(atB, b.length).set(b);
    const results = await Promise.all([pool.runPass({ at: atA }, request(a)), pool.runPass({ at: atB }, request(b)), pool.runPass({ at: atA }, request(a))]);
    assertIdentical(results[0], oneA, "first");
    assertIdentical(results[1], oneB, "second");
    assertIdentical(results[2], oneA, "third");
  } finally {
    await pool.close();
  }
});

test("an aborted pass fails with ABORTED, and the pool still closes", async () => {
  const bytes = bytesOf(matrix(2000, 2000, 4), "f32");
  const pool = await BandPool.create({ threads: 2, blockBytes: 4 << 20 });
  try {
    const at = pool.allocate(bytes.length);
    const controller = new AbortController();
    controller.abort(new Error("user stop"));
    const error = await pool.runPass({ at }, { tensor: tensorOf("f32", [2000, 2000], bytes.length), matrix: { rows: 2000, cols: 2000 } }, controller.signal).then(
      () => null,
      (e) => e,
    );
    assert.is(error?.code, "ABORTED");
  } finally {
    await pool.close();
  }
});

test("a worker that dies mid-pass fails that pass and every later one with INTERNAL, and close() still returns", async () => {
  const rows = 2000, cols = 2000;
  const request: TensorPassRequest = { tensor: tensorOf("f32", [rows, cols], rows * cols * 4), matrix: { rows, cols } };
  const pool = await BandPool.create({ threads: 2, blockBytes: 4 << 20 });
  const at = pool.allocate(rows * cols * 4);
  pool.kernels.f32(at, rows * cols).fill(0.5);
  const pass = pool.runPass({ at }, request);
  await (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers[0].worker.terminate();
  const first = await pass.then(() => null, (e) => e);
  assert.is(first?.code, "INTERNAL", "the pass the worker died in");
  const later = await pool.runPass({ at }, request).then(() => null, (e) => e);
  assert.is(later?.code, "INTERNAL", "a later pass");
  await pool.close();
});

test("rows wider than a band read in blocks larger than a band: 2 threads from a file give the one-thread report", async () => {
  const rows = 3, cols = (1 << 21) + 5; // each row is its own band of 8 MiB; blocks of 16 MiB hold a whole row
  const values = matrix(rows, cols, 9);
  const file = writeSafetensors([{ name: "0.weight", dtype: "F32", shape: [rows, cols], data: f32Bytes(values) }]);
  const dir = mkdtempSync(join(tmpdir(), "cntscope-wide-"));
  const path = join(dir, "wide.safetensors");
  writeFileSync(path, file);
  try {
    const one = await analyzeFile(path, { perNode: true, blockBytes: 16 << 20 });
    const two = await analyzeFile(path, { perNode: true, blockBytes: 16 << 20, workers: 2 });
    assert.is(firstDifference(JSON.parse(JSON.stringify(two, replacer)), JSON.parse(JSON.stringify(one, replacer))), null);
    const w = one.layers[0].linkWeights!;
    assert.is(w.count + w.nan + w.posInf + w.negInf, rows * cols);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("analyzeFile with workers: a tensor above BAND_POOL_BYTES is split over the threads; the report is the one-thread report", async () => {
  const cols = 1024;
  const rows = Math.ceil(BAND_POOL_BYTES / 4 / cols) + 3;
  const big = matrix(rows, cols, 5);
  const small = matrix(10, rows, 6);
  const file = writeSafetensors([
    { name: "0.weight", dtype: "F32", shape: [rows, cols], data: f32Bytes(big) },
    { name: "0.bias", dtype: "F32", shape: [rows], data: f32Bytes(big.subarray(0, rows)) },
    { name: "2.weight", dtype: "F32", shape: [10, rows], data: f32Bytes(small) },
  ]);
  const dir = mkdtempSync(join(tmpdir(), "cntscope-bands-"));
  const path = join(dir, "big.safetensors");
  writeFileSync(path, file);
  try {
    const one = await analyzeFile(path, { perNode: true });
    let last = { bytesDone: 0, bytesTotal: 0 };
    const seen: number[] = [];
    const two = await analyzeFile(path, { perNode: true, workers: 2, onProgress: (p) => seen.push((last = p).bytesDone) });
    assert.ok(seen.every((b, i) => i === 0 || b >= seen[i - 1]), "progress never goes back");
    assert.ok(seen.some((b) => b >= rows * cols * 4), "progress covers the big tensor's first pass");
    assert.is(firstDifference(JSON.parse(JSON.stringify(two, replacer)), JSON.parse(JSON.stringify(one, replacer))), null);
    assert.is(last.bytesDone, last.bytesTotal, "progress ends at its total");
    // Issue 19: each tensor is held in memory between its statistics and histogram passes (memoryBudget), so read once.
    assert.is(last.bytesTotal, (rows * cols + rows + 10 * rows) * 4, "every tensor read once (held for its histogram pass)");
    const w = one.layers[0].linkWeights!;
    assert.is(w.count + w.nan + w.posInf + w.negInf, rows * cols);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rows so wide that a worker's ring has 2 slots for many bands: 1, 2 and 3 workers, read once or twice, give one report; row sums are float64's", async () => {
  // 600,000 columns: a band is one row, and a slot (state + column sums, 4.8 MB) is more than
  // SLOTS_BYTES, so each worker reuses 2 slots over its 4-12 bands and waits for the merges.
  const rows = 12, cols = 600_000;
  const values = matrix(rows, cols, 11);
  const file = writeSafetensors([{ name: "0.weight", dtype: "F32", shape: [rows, cols], data: f32Bytes(values) }]);
  const dir = mkdtempSync(join(tmpdir(), "cntscope-ring-"));
  const path = join(dir, "ring.safetensors");
  writeFileSync(path, file);
  try {
    const one = await analyzeFile(path, { perNode: true });
    for (const workers of [2, 3]) {
      for (const memoryBudget of [0, 1 << 30]) {
        const many = await analyzeFile(path, { perNode: true, workers, memoryBudget });
        assert.is(firstDifference(JSON.parse(JSON.stringify(many, replacer)), JSON.parse(JSON.stringify(one, replacer))), null, `${workers} workers, memoryBudget ${memoryBudget}`);
      }
    }
    const w = one.layers[0].linkWeights!;
    assert.is(w.count + w.nan + w.posInf + w.negInf, rows * cols);
    const reference = momentsOf(Array.from(values).filter(Number.isFinite));
    assert.is(w.min, reference.min);
    assert.is(w.max, reference.max);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file past BAND_POOL_BYTES with no tensor that large, and one whose large tensor is a conv kernel (the band pool started early, closed unused): 2 workers give one worker's report", async () => {
  const small = Array.from({ length: 5 }, (_, i) => ({ name: `${i}.weight`, dtype: "F32" as const, shape: [1000, 1100], data: f32Bytes(matrix(1000, 1100, 20 + i)) }));
  // [64, 256, 16, 16]: BAND_POOL_BYTES exactly, measured whole for its per-tap sums.
  const conv = [{ name: "0.weight", dtype: "F32" as const, shape: [64, 256, 16, 16], data: f32Bytes(matrix(64 * 256, 256, 40)) }];
  const dir = mkdtempSync(join(tmpdir(), "cntscope-early-"));
  try {
    assert.ok(5 * 1000 * 1100 * 4 > BAND_POOL_BYTES && 1000 * 1100 * 4 < BAND_POOL_BYTES && 64 * 256 * 256 * 4 === BAND_POOL_BYTES);
    for (const [name, tensors] of [["small", small], ["conv", conv]] as const) {
      const path = join(dir, `${name}.safetensors`);
      writeFileSync(path, writeSafetensors(tensors));
      const one = await analyzeFile(path, { perNode: true, blockBytes: (1 << 20) + 100 });
      const two = await analyzeFile(path, { perNode: true, blockBytes: (1 << 20) + 100, workers: 2 });
      assert.is(firstDifference(JSON.parse(JSON.stringify(two, replacer)), JSON.parse(JSON.stringify(one, replacer))), null, name);
      assert.is(one.layers.length, tensors.length, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a pass read into the pool's memory that goes on to its histogram in the workers: the one-thread statistics and histogram passes, bit for bit", async () => {
  const rows = 300, cols = 2051;
  const f32 = bytesOf(matrix(rows, cols, 31), "f32");
  const nan = new Uint8Array(new Float32Array(rows * cols).fill(NaN).buffer);
  // f64 subnormals: a span whose bins / span overflows, so the edges are not uniform for the kernels.
  const tiny = new Uint8Array(Float64Array.from({ length: rows * cols }, (_, i) => ((i * 7919) % 1000) * 5e-324).buffer);
  const cases = [
    { what: "f32 matrix", bytes: f32, tensor: tensorOf("f32", [rows, cols], f32.length), matrix: { rows, cols } },
    { what: "all NaN", bytes: nan, tensor: tensorOf("f32", [rows * cols], nan.length) },
    { what: "f64 subnormal span", bytes: tiny, tensor: tensorOf("f64", [rows * cols], tiny.length) },
  ];
  const dir = mkdtempSync(join(tmpdir(), "cntscope-then-"));
  try {
    for (const c of cases) {
      const path = join(dir, "t.bin");
      writeFileSync(path, c.bytes);
      const stats = await onePass(c.bytes, { tensor: c.tensor, matrix: c.matrix });
      const pool = await BandPool.create({ threads: 2, blockBytes: 4 << 20, path });
      try {
        const into = pool.allocate(c.bytes.length);
        const both = await pool.runPass({ into }, { tensor: c.tensor, matrix: c.matrix }, undefined, undefined, { bins: 64 });
        const { histogram, ...first } = both;
        assertIdentical(first, stats, `${c.what}: statistics`);
        if (stats.moments.count === 0) {
          assert.is(histogram, undefined, `${c.what}: no histogram without a finite value`);
          continue;
        }
        const edges = uniformEdges(stats.moments.min!, stats.moments.max!, 64);
        assert.is(isUniformSpan(edges), c.what !== "f64 subnormal span", `${c.what}: uniform edges`);
        const second = await onePass(c.bytes, { tensor: c.tensor, edges: { values: edges, uniform: isUniformSpan(edges) }, histogramOnly: true });
        assert.equal(Array.from(histogram!.edges), Array.from(edges), `${c.what}: edges`);
        assert.equal(histogram!.counts, second.counts, `${c.what}: counts`);
        assert.is(histogram!.counts.reduce((a, b) => a + b, 0), stats.moments.count, `${c.what}: every finite value binned`);
      } finally {
        await pool.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
