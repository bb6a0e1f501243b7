// Sharded safetensors: the index maps tensors to shards beside it; the model reads as one.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, filesSource } from "../../src/entry/node-core.js";
import { analyzeFile } from "../../src/node/index.js";
import { firstDifference } from "../helpers/diff.js";
import { rejects } from "../helpers/rejects.js";
import { writeSafetensors, type TestTensor } from "../helpers/safetensors-writer.js";

/** The tensors of a safetensors file, read back with a tiny parser of the test's own. */
function tensorsOf(bytes: Uint8Array): TestTensor[] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: TestTensor["dtype"]; shape: number[]; data_offsets: [number, number] }>;
  return Object.entries(header).filter(([k]) => k !== "__metadata__").map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, data: bytes.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) }));
}

const whole = new Uint8Array(readFileSync("test/fixtures/safetensors/mlp-f32.safetensors"));
const tensors = tensorsOf(whole);
const shardA = writeSafetensors(tensors.filter((t) => t.name.startsWith("fc1") || t.name === "fc3.bias"));
const shardB = writeSafetensors(tensors.filter((t) => !(t.name.startsWith("fc1") || t.name === "fc3.bias")));
const index = JSON.stringify({ metadata: { total_size: whole.byteLength }, weight_map: Object.fromEntries(tensors.map((t) => [t.name, t.name.startsWith("fc1") || t.name === "fc3.bias" ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"])) }, null, 2);

const dir = mkdtempSync(join(tmpdir(), "cntscope-sharded-"));
writeFileSync(join(dir, "model.safetensors.index.json"), index);
writeFileSync(join(dir, "model-00001-of-00002.safetensors"), shardA);
writeFileSync(join(dir, "model-00002-of-00002.safetensors"), shardB);

const strip = (r: object) => JSON.parse(JSON.stringify(r, (k, v) => (k === "source" ? undefined : v)));

test("a sharded checkpoint from its index gives the report of the single file", async () => {
  const one = await analyze(whole, { perNode: true });
  const sharded = await analyzeFile(join(dir, "model.safetensors.index.json"), { perNode: true });
  assert.is(sharded.source.format, "safetensors-index");
  assert.is(firstDifference(strip(sharded), strip(one)), null);
});

test("the same from in-memory files (browser: several files of one model)", async () => {
  const files = new Map<string, Uint8Array>([["model.safetensors.index.json", new TextEncoder().encode(index)], ["model-00001-of-00002.safetensors", shardA], ["model-00002-of-00002.safetensors", shardB]]);
  const r = await analyze(filesSource(files, "model.safetensors.index.json"));
  assert.is(r.nodeLayers.length, 4);
});

test("a shard path that leaves the folder is UNSAFE_PATH; a tensor missing from its shard is BAD_HEADER", async () => {
  const bad = join(dir, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "escape.index.json"), JSON.stringify({ weight_map: { "fc1.weight": "../model-00001-of-00002.safetensors" } }));
  await rejects(() => analyzeFile(join(bad, "escape.index.json")), "UNSAFE_PATH", "'..'");
  writeFileSync(join(dir, "missing.index.json"), JSON.stringify({ weight_map: { "fc9.weight": "model-00001-of-00002.safetensors" } }));
  await rejects(() => analyzeFile(join(dir, "missing.index.json")), "BAD_HEADER", "does not hold it");
});

test.run();
