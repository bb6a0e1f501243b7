// A TF.js manifest that disagrees with its shards or its topology. Shards are read as one run of bytes, weight after weight: a shard longer than written or a
// weight missing from the manifest would shift every later weight. Both are BAD_HEADER now.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { rejects } from "../helpers/rejects.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";

const fixture = "test/fixtures/tfjs/dense-f32";

function copy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "cntscope-shards-")), "model");
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

test("a shard longer than the manifest says (16 bytes appended to the first of two) is BAD_HEADER", async () => {
  const dir = copy();
  const shard = join(dir, "group1-shard1of2.bin");
  writeFileSync(shard, Buffer.concat([readFileSync(shard), Buffer.alloc(16)]));
  await rejects(() => analyzeFile(join(dir, "model.json")), "BAD_HEADER", "would be read shifted");
});

test("a weight dropped from the manifest (fc1/bias) is BAD_HEADER, not fc2 read 64 bytes early", async () => {
  const dir = copy();
  const path = join(dir, "model.json");
  const model = JSON.parse(readFileSync(path, "utf8"));
  model.weightsManifest[0].weights = model.weightsManifest[0].weights.filter((w: { name: string }) => w.name !== "fc1/bias");
  writeFileSync(path, JSON.stringify(model));
  await rejects(() => analyzeFile(path), "BAD_HEADER", "the manifest lost a weight");
});

test("a kernel reshaped in the manifest (same bytes, [8, 16] as [16, 8]) against Dense units 16 is BAD_SHAPE naming it", async () => {
  const dir = copy();
  const path = join(dir, "model.json");
  const model = JSON.parse(readFileSync(path, "utf8"));
  // No bias to give it away: use_bias false, fc1/bias out of the manifest and its 64 bytes out of the shard.
  model.modelTopology.model_config.config.layers[0].config.use_bias = false;
  model.weightsManifest[0].weights = model.weightsManifest[0].weights.filter((w: { name: string }) => w.name !== "fc1/bias");
  model.weightsManifest[0].weights[0].shape = [16, 8];
  writeFileSync(path, JSON.stringify(model));
  const shard = readFileSync(join(dir, "group1-shard1of2.bin"));
  writeFileSync(join(dir, "group1-shard1of2.bin"), Buffer.concat([shard.subarray(0, 512), shard.subarray(576)]));
  await rejects(() => analyzeFile(path), "BAD_SHAPE", "kernel 'fc1/kernel' has shape [16, 8], whose last axis should be 16");
});

test("the intact fixture still reads (the check counts the same bytes the reader reads)", async () => {
  const report = await analyzeFile(join(copy(), "model.json"));
  assert.is(report.layers.length, 3);
});

/** The dense-f32 fixture with its weights cut into `count` shard files (sizes 64, 64, ..., the rest), as a large model's many shards. */
function manyShards(count: number): string {
  const dir = copy();
  const bytes = Buffer.concat(["group1-shard1of2.bin", "group1-shard2of2.bin"].map((f) => readFileSync(join(dir, f))));
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  paths.forEach((p, i) => writeFileSync(join(dir, p), bytes.subarray(i * 64, i === count - 1 ? bytes.length : (i + 1) * 64)));
  const model = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  model.weightsManifest[0].paths = paths;
  writeFileSync(join(dir, "model.json"), JSON.stringify(model));
  return dir;
}

test("20 shards, opened several at once for their sizes, place every weight as the float64 reference reads it", async () => {
  const expected = JSON.parse(readFileSync("test/fixtures/tfjs/dense-f32.expected.json", "utf8")) as ExpectedReport;
  assertMatchesExpected(await analyzeFile(join(manyShards(20), "model.json"), { perNode: true }), expected, 1e-9);
});

test("20 shards with the 4th and the 18th missing: the error names the 4th, as opening them one after another would", async () => {
  for (let round = 0; round < 3; round++) {
    const dir = manyShards(20);
    rmSync(join(dir, "group1-shard18of20.bin"));
    rmSync(join(dir, "group1-shard4of20.bin"));
    await rejects(() => analyzeFile(join(dir, "model.json")), "TRUNCATED", "'group1-shard4of20.bin'");
  }
});

test.run();
