// Model folders that real tools lay out with links: a Hugging Face cache (snapshot files are
// symlinks into the repository's blobs/) and a pnpm store (package files are hard links). They
// read like plain folders; links that leave them stay refused unless the user passes --follow-links.
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { analyzeFile } from "../../src/node/index.js";
import { firstDifference } from "../helpers/diff.js";
import { writeSafetensors, type TestTensor } from "../helpers/safetensors-writer.js";

function tensorsOf(bytes: Uint8Array): TestTensor[] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: TestTensor["dtype"]; shape: number[]; data_offsets: [number, number] }>;
  return Object.entries(header).filter(([k]) => k !== "__metadata__").map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, data: bytes.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) }));
}

const whole = new Uint8Array(readFileSync("test/fixtures/safetensors/mlp-f32.safetensors"));
const tensors = tensorsOf(whole);
const inA = (t: TestTensor) => t.name.startsWith("fc1");
const shards = { "model-00001-of-00002.safetensors": writeSafetensors(tensors.filter(inA)), "model-00002-of-00002.safetensors": writeSafetensors(tensors.filter((t) => !inA(t))) };
const index = JSON.stringify({ weight_map: Object.fromEntries(tensors.map((t) => [t.name, inA(t) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"])) });
const strip = (r: object) => JSON.parse(JSON.stringify(r, (k, v) => (k === "source" ? undefined : v)));
const codeOf = (e: unknown) => (e as { code?: string }).code;

/** models--org--mlp/{blobs/<hash>, snapshots/<rev>/<name> -> ../../blobs/<hash>}, as huggingface_hub writes it. */
function hfCache(root: string): string {
  const repo = join(root, "hub", "models--org--mlp");
  const snapshot = join(repo, "snapshots", "0123abc");
  mkdirSync(join(repo, "blobs"), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  const files: Record<string, Uint8Array | string> = { "model.safetensors.index.json": index, ...shards };
  Object.entries(files).forEach(([name, bytes], i) => {
    writeFileSync(join(repo, "blobs", `blob${i}`), bytes);
    symlinkSync(join("..", "..", "blobs", `blob${i}`), join(snapshot, name));
  });
  return join(snapshot, "model.safetensors.index.json");
}

test("a Hugging Face cache snapshot (files symlinked into ../../blobs) reads as the single file does", async () => {
  const model = hfCache(mkdtempSync(join(tmpdir(), "cntscope-hf-")));
  const report = await analyzeFile(model, { perNode: true });
  assert.is(firstDifference(strip(report), strip(await analyze(whole, { perNode: true }))), null);
});

test("a snapshot link into another repository's blobs, or out of the cache, is UNSAFE_PATH; --follow-links opens it", async () => {
  const root = mkdtempSync(join(tmpdir(), "cntscope-hf-"));
  const model = hfCache(root);
  const other = join(root, "hub", "models--evil--x", "blobs");
  mkdirSync(other, { recursive: true });
  writeFileSync(join(other, "stolen"), shards["model-00002-of-00002.safetensors"]);
  const snapshot = join(model, "..");
  const shard = join(snapshot, "model-00002-of-00002.safetensors");
  spawnSync("rm", [shard]);
  symlinkSync(join(other, "stolen"), shard);
  await analyzeFile(model).then(() => assert.unreachable("accepted"), (e) => assert.is(codeOf(e), "UNSAFE_PATH", String(e)));
  const cli = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "analyze", model], { encoding: "utf8" });
  assert.is(cli.status, 2);
  assert.match(cli.stderr, /^UNSAFE_PATH: .*--follow-links/);
  const followed = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "analyze", model, "--json", "--follow-links"], { encoding: "utf8" });
  assert.is(followed.status, 0, followed.stderr);
  assert.equal(strip(JSON.parse(followed.stdout)).nodeLayers, strip(await analyze(whole)).nodeLayers);
});

test("a pnpm store (package files hard-linked from the content store) reads; the same hard links elsewhere are refused", async () => {
  const root = mkdtempSync(join(tmpdir(), "cntscope-pnpm-"));
  const store = join(root, "store");
  mkdirSync(store);
  const make = (folder: string) => {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "model.safetensors.index.json"), index);
    for (const [name, bytes] of Object.entries(shards)) {
      const stored = join(store, `${folder.length}-${name}`);
      writeFileSync(stored, bytes);
      linkSync(stored, join(folder, name));
    }
    return join(folder, "model.safetensors.index.json");
  };
  const pnpm = make(join(root, "app", "node_modules", ".pnpm", "mlp@1.0.0", "node_modules", "mlp"));
  const report = await analyzeFile(pnpm);
  assert.equal(strip(report).nodeLayers, strip(await analyze(whole)).nodeLayers);
  const plain = make(join(root, "elsewhere"));
  await analyzeFile(plain).then(() => assert.unreachable("accepted"), (e) => assert.is(codeOf(e), "UNSAFE_PATH", String(e)));
  assert.equal(strip(await analyzeFile(plain, { followLinks: true })).nodeLayers, strip(report).nodeLayers);
});

test.run();
