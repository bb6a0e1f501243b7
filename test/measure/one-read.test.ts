// One read of every byte (issue 19): a tensor whose range is found by its statistics pass is held
// in memory (option memoryBudget) for its histogram pass instead of being read again. The held
// path must give the counts of the two-read path bit for bit, and both must be numpy's:
// adversarial tensors (values on and one step beside every edge, -0, subnormals, NaN, +-Inf, one
// value, all equal, no finite value) in f32, f16, bf16 and f64 against numpy.histogram in float64
// (test/fixtures/measure/make_histogram_edges.py); on one thread and on the band pool of workers
// (tiled past BAND_POOL_BYTES, so numpy's counts times the tiles); GGUF blocks on the pool.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { analyzeFile } from "../../src/node/index.js";
import { Kernels } from "../../src/kernels/kernels.js";
import { measureTensors } from "../../src/measure/measure.js";
import { resolveOptions, type AnalyzeOptions } from "../../src/options.js";
import { toByteSource } from "../../src/source/open.js";
import { measureInWorkers, BAND_POOL_BYTES } from "../../src/node/parallel.js";
import { fileSource } from "../../src/node/file-source.js";
import { firstDifference } from "../helpers/diff.js";
import { GGML, GGUF_VALUE, ggufString, writeGguf } from "../fixtures/gguf/writer.js";

const DIR = "test/fixtures/measure";
const BYTES = new Uint8Array(readFileSync(join(DIR, "histogram-edges.safetensors")));
interface Expected {
  min: number | null;
  max: number | null;
  counts: number[];
  edges: number[] | null;
}
const EXPECTED = JSON.parse(readFileSync(join(DIR, "histogram-edges.expected.json"), "utf8")) as { bins: number; tensors: Record<string, Expected> };

/** Every tensor's moments and histogram, measured in this thread from `bytes` with `options`. */
async function measureAll(bytes: Uint8Array, options: AnalyzeOptions) {
  const model = await inspect(bytes);
  const source = toByteSource(bytes, {});
  const seen: { pass?: string; bytesDone: number; bytesTotal: number }[] = [];
  const summaries = await measureTensors({ kernels: await Kernels.create(), source, options: resolveOptions(options), onProgress: (p) => seen.push(p) }, model, new Map());
  return { summaries, seen };
}

function checkAgainstNumpy(name: string, summary: { moments: { min: number | null; max: number | null }; histogram: { edges: number[] | null; counts: number[] } }, times = 1, how = ""): void {
  const want = EXPECTED.tensors[name];
  assert.ok(want, `${name} has a numpy reference`);
  assert.is(summary.moments.min, want.min, `${name} min ${how}`);
  assert.is(summary.moments.max, want.max, `${name} max ${how}`);
  assert.equal(summary.histogram.counts, want.counts.map((c) => c * times), `${name} counts ${how}`);
  assert.equal(summary.histogram.edges, want.edges, `${name} edges ${how}`);
}

test("held (one read) and read twice give numpy's counts on adversarial tensors, every dtype", async () => {
  const held = await measureAll(BYTES, {});
  const twice = await measureAll(BYTES, { memoryBudget: 0 });
  assert.is(Object.keys(EXPECTED.tensors).length, held.summaries.size);
  for (const [name, summary] of held.summaries) {
    checkAgainstNumpy(name, summary, 1, "(held)");
    checkAgainstNumpy(name, twice.summaries.get(name)!, 1, "(read twice)");
    assert.is(firstDifference(summary, twice.summaries.get(name)), null, `${name}: held and twice-read summaries differ`);
  }
  // Progress counts bytes read: once when held, twice otherwise; a held tensor never claims a second read.
  const total = BYTES.byteLength - 8 - Number(new DataView(BYTES.buffer, BYTES.byteOffset).getBigUint64(0, true));
  assert.is(held.seen.at(-1)!.bytesTotal, total);
  assert.ok(held.seen.every((p) => p.pass === "moments"), "no histogram read when held");
  assert.is(twice.seen.at(-1)!.bytesTotal, 2 * total);
  assert.ok(twice.seen.some((p) => p.pass === "histogram"));
});

test("a budget between tensor sizes holds the small ones and reads the large ones twice; the counts do not change", async () => {
  const model = await inspect(BYTES);
  const sizes = model.tensors.map((t) => t.byteLength).sort((a, b) => a - b);
  const budget = sizes[sizes.length >> 1];
  const { summaries, seen } = await measureAll(BYTES, { memoryBudget: budget });
  for (const [name, summary] of summaries) checkAgainstNumpy(name, summary, 1, `(budget ${budget})`);
  const twice = model.tensors.filter((t) => t.byteLength > budget).reduce((a, t) => a + t.byteLength, 0);
  const all = model.tensors.reduce((a, t) => a + t.byteLength, 0);
  assert.is(seen.at(-1)!.bytesTotal, all + twice);
});

test("memoryBudget outside 0 to 2^31 is BAD_OPTION", async () => {
  for (const memoryBudget of [-1, 1.5, 2 ** 31 + 1, Number.NaN]) {
    try {
      resolveOptions({ memoryBudget });
      assert.unreachable(`memoryBudget ${memoryBudget}`);
    } catch (error) {
      assert.is((error as { code?: string }).code, "BAD_OPTION");
      assert.match((error as Error).message, "memoryBudget");
    }
  }
});

/** A safetensors file of the named fixture tensors, each tiled `times` times (tile order kept). */
function tiled(names: string[], times: (bytes: number) => number): { file: Uint8Array; tiles: Map<string, number> } {
  const header = JSON.parse(new TextDecoder().decode(BYTES.subarray(8, 8 + Number(new DataView(BYTES.buffer, BYTES.byteOffset).getBigUint64(0, true))))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const start = 8 + Number(new DataView(BYTES.buffer, BYTES.byteOffset).getBigUint64(0, true));
  const out: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  const tiles = new Map<string, number>();
  let offset = 0;
  for (const name of names) {
    const h = header[name];
    const one = BYTES.subarray(start + h.data_offsets[0], start + h.data_offsets[1]);
    const k = times(one.byteLength);
    const data = new Uint8Array(one.byteLength * k);
    for (let i = 0; i < k; i++) data.set(one, i * one.byteLength);
    out[name] = { dtype: h.dtype, shape: [h.shape[0] * k], data_offsets: [offset, offset + data.byteLength] };
    parts.push(data);
    tiles.set(name, k);
    offset += data.byteLength;
  }
  let json = JSON.stringify(out);
  while ((8 + json.length) % 8) json += " ";
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  const file = new Uint8Array(8 + json.length + offset);
  file.set(prefix);
  file.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const p of parts) {
    file.set(p, at);
    at += p.byteLength;
  }
  return { file, tiles };
}

test("the band pool (2 threads) holds a tensor in its shared memory: numpy's counts, the same as read twice", async () => {
  const names = ["uneven.f32", "exact.bf16", "uneven.f16", "exact.f64"];
  // Past BAND_POOL_BYTES of values, so each tensor is split into bands over the threads.
  const { file, tiles } = tiled(names, (bytes) => Math.ceil(BAND_POOL_BYTES / bytes) + 1);
  const dir = mkdtempSync(join(tmpdir(), "cntscope-one-read-"));
  const path = join(dir, "tiled.safetensors");
  writeFileSync(path, file);
  const source = await fileSource(path);
  try {
    const model = await inspect(file);
    for (const options of [{}, { memoryBudget: 0 }] as AnalyzeOptions[]) {
      const seen: { bytesTotal: number }[] = [];
      const summaries = await measureInWorkers(path, 2, { kernels: await Kernels.create(), source, options: resolveOptions(options), onProgress: (p) => seen.push(p) }, model, new Map());
      for (const name of names) checkAgainstNumpy(name, summaries.get(name)!, tiles.get(name)!, `(pool, ${JSON.stringify(options)})`);
      const all = model.tensors.reduce((a, t) => a + t.byteLength, 0);
      assert.is(seen.at(-1)!.bytesTotal, options.memoryBudget === 0 ? 2 * all : all);
    }
  } finally {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("GGUF blocks past BAND_POOL_BYTES are measured on the band pool: the report of one thread", async () => {
  // Q8_0: a 2-byte f16 scale and 32 int8 values per block; 4096 x 1100 values (18 MB as f32).
  const cols = 4096, rows = 1100;
  const blocks = (cols / 32) * rows;
  const data = new Uint8Array(blocks * 34);
  const view = new DataView(data.buffer);
  let s = 3;
  for (let b = 0; b < blocks; b++) {
    view.setUint16(b * 34, 0x1c00 + (b % 997), true); // f16 scales near 2^-8
    for (let i = 0; i < 32; i++) data[b * 34 + 2 + i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  }
  const arch = { key: "general.architecture", type: GGUF_VALUE.STRING, value: ggufString("llama") };
  const bytes = writeGguf({ kv: [arch], tensors: [{ name: "blk.0.ffn_up.weight", ne: [cols, rows], type: GGML.Q8_0, data }] });
  const dir = mkdtempSync(join(tmpdir(), "cntscope-gguf-pool-"));
  const path = join(dir, "q8.gguf");
  writeFileSync(path, bytes);
  try {
    const model = await inspect(bytes);
    assert.ok(model.tensors[0].byteLength >= BAND_POOL_BYTES);
    const one = await analyze(bytes, { name: "q8.gguf" });
    for (const memoryBudget of [undefined, 0]) {
      const two = await analyzeFile(path, { workers: 2, ...(memoryBudget === undefined ? {} : { memoryBudget }) });
      const strip = (r: typeof one) => JSON.parse(JSON.stringify({ layers: r.layers, nodeLayers: r.nodeLayers }, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v)));
      assert.is(firstDifference(strip(two), strip(one)), null, `memoryBudget ${memoryBudget}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
