// Sibling files (TF.js shards, external data) are opened once per analysis, held in a bounded
// set owned by the model's fileSource, and closed with it: at the end, on an error, on an abort.
// Each is opened under the same guarantee as resolveSibling (inside the folder, a regular file,
// one link), and a small read pulls a read-ahead window sized by how the reads run.
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, filesSource } from "../../src/entry/node-core.js";
import { analyzeFile, fileSource } from "../../src/node/index.js";
import { openedFile } from "../../src/node/opened-file.js";
import { SiblingHandles } from "../../src/node/sibling-handles.js";
import { firstDifference } from "../helpers/diff.js";

const linux = existsSync("/proc/self/fd");
const openFiles = () => readdirSync("/proc/self/fd").length;
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A dense TF.js graph model of `layers` layers n x n (+ bias) whose weights run across shards of `shard` bytes. */
function shardedModel(layers: number, n: number, shard: number): { folder: string; files: Map<string, Uint8Array> } {
  const nodes: unknown[] = [{ name: "x", op: "Placeholder", attr: { shape: { shape: { dim: [{ size: "-1" }, { size: String(n) }] } }, dtype: { type: "DT_FLOAT" } } }];
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  const values: number[] = [];
  let last = "x";
  for (let l = 0; l < layers; l++) {
    const w = `dense_${l}/kernel`, b = `dense_${l}/bias`;
    for (const [name, shape] of [[w, [n, n]], [b, [n]]] as const) {
      weights.push({ name, shape: [...shape], dtype: "float32" });
      const count = shape.reduce((a, d) => a * d, 1);
      for (let i = 0; i < count; i++) values.push(Math.sin(l * 7919 + i * 0.37) * (shape.length === 2 ? 0.3 : 0.1));
      nodes.push({ name, op: "Const", attr: { value: { tensor: { dtype: "DT_FLOAT", tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: "DT_FLOAT" } } });
    }
    nodes.push({ name: `dense_${l}/Relu`, op: "_FusedMatMul", input: [last, w, b], attr: { transpose_a: { b: false }, transpose_b: { b: false }, fused_ops: { list: { s: [b64("BiasAdd"), b64("Relu")] } }, num_args: { i: "1" } } });
    last = `dense_${l}/Relu`;
  }
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  const count = Math.ceil(bytes.byteLength / shard);
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  const json = { format: "graph-model", modelTopology: { node: nodes, versions: {} }, weightsManifest: [{ paths, weights }] };
  const files = new Map<string, Uint8Array>([["model.json", new TextEncoder().encode(JSON.stringify(json))]]);
  paths.forEach((p, i) => files.set(p, bytes.slice(i * shard, (i + 1) * shard)));
  const folder = mkdtempSync(join(tmpdir(), "cntscope-siblings-"));
  for (const [name, data] of files) writeFileSync(join(folder, name), data);
  return { folder, files };
}

const strip = (r: object) => JSON.parse(JSON.stringify(r, (k, v) => (k === "source" ? undefined : v)));

test("a graph model in 14 shards: the file's report is the bytes' report; at most the shards are open while it runs, none after", async () => {
  const { folder, files } = shardedModel(3, 40, 1500);
  assert.is(files.size, 15);
  // The first analysis of a process opens files of its own (the wasm module, the runtime's event descriptors): not counted.
  await analyzeFile(join(folder, "model.json"));
  const before = linux ? openFiles() : 0;
  let most = 0;
  const report = await analyzeFile(join(folder, "model.json"), { onProgress: () => void (most = Math.max(most, linux ? openFiles() - before : 0)) });
  assert.is(firstDifference(strip(report), strip(await analyze(filesSource(files, "model.json")))), null);
  assert.is(report.coverage.weightedLayers, 3);
  if (!linux) return;
  assert.ok(most >= 1 && most <= 15, `${most} files open during the analysis (model.json and 14 shards at most)`);
  assert.ok(openFiles() - before <= 0, `${openFiles() - before} files left open after the analysis`);
});

test("one shard leased ten times at once holds one file; leases after the owner closed, and reads through them, are INTERNAL", async () => {
  const { folder } = shardedModel(1, 16, 512);
  const model = join(folder, "model.json");
  const before = linux ? openFiles() : 0;
  const siblings = new SiblingHandles(model, {});
  const leases = await Promise.all(Array.from({ length: 10 }, () => siblings.lease("group1-shard1of3.bin")));
  if (linux) assert.ok(openFiles() - before <= 1, `${openFiles() - before} files open for ten leases of one`);
  const bytes = new Uint8Array(8);
  await leases[3].readInto(0, bytes);
  await leases[3].close();
  await leases[3].readInto(0, bytes).then(() => assert.unreachable("a closed lease read"), (e) => assert.is(e.code, "INTERNAL"));
  await siblings.close();
  if (linux) assert.ok(openFiles() - before <= 0, "files left open after close");
  await leases[0].readInto(0, bytes).then(() => assert.unreachable("read after the owner closed"), (e) => assert.is(e.code, "INTERNAL"));
  await siblings.lease("group1-shard2of3.bin").then(() => assert.unreachable("leased after close"), (e) => assert.is(e.code, "INTERNAL"));
});

test("idle siblings are bounded: past maxIdle the one idle longest is closed, and opened again when asked for", async () => {
  if (!linux) return;
  const { folder, files } = shardedModel(2, 32, 512);
  const shards = [...files.keys()].filter((n) => n !== "model.json");
  assert.ok(shards.length >= 8);
  const before = openFiles();
  const siblings = new SiblingHandles(join(folder, "model.json"), {}, 3);
  for (const name of [...shards, ...shards]) {
    const lease = await siblings.lease(name);
    const bytes = new Uint8Array(4);
    await lease.readInto(0, bytes);
    assert.equal(bytes, files.get(name)!.subarray(0, 4));
    await lease.close();
    assert.ok(openFiles() - before <= 3, `${openFiles() - before} idle files open, bound 3`);
  }
  await siblings.close();
  assert.ok(openFiles() - before <= 0, "files left open after close");
});

test("an analysis aborted mid-way closes the model and every shard", async () => {
  if (!linux) return;
  const { folder } = shardedModel(4, 64, 2048);
  const before = openFiles();
  const controller = new AbortController();
  let seen = 0;
  await analyzeFile(join(folder, "model.json"), { signal: controller.signal, onProgress: () => void (++seen === 2 && controller.abort()) }).then(
    () => assert.unreachable("the abort was ignored"),
    (e) => assert.is(e.name, "AbortError", String(e)),
  );
  // After an abort the call settles at once and the files finish closing on their own.
  for (let i = 0; i < 100 && openFiles() > before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(openFiles() - before <= 0, `${openFiles() - before} files left open after the abort`);
});

test("a missing shard is TRUNCATED naming it; a FIFO, a link out of the folder and a hard link are UNSAFE_PATH naming it; the model's files are closed", async () => {
  const { folder, files } = shardedModel(1, 16, 512);
  const model = join(folder, "model.json");
  const shard = "group1-shard2of3.bin";
  const outside = join(mkdtempSync(join(tmpdir(), "cntscope-outside-")), "stolen.bin");
  writeFileSync(outside, files.get(shard)!);
  const before = linux ? openFiles() : 0;
  const expect = async (code: string) =>
    analyzeFile(model).then(
      () => assert.unreachable(`${code} expected`),
      (e) => {
        assert.is(e.code, code, String(e));
        assert.match(e.message, shard);
      },
    );
  spawnSync("rm", [join(folder, shard)]);
  await expect("TRUNCATED");
  if (spawnSync("mkfifo", [join(folder, shard)]).status === 0) {
    await expect("UNSAFE_PATH"); // refused on the handle's stat; the open does not wait for a writer
    spawnSync("rm", [join(folder, shard)]);
  }
  symlinkSync(outside, join(folder, shard));
  await expect("UNSAFE_PATH");
  spawnSync("rm", [join(folder, shard)]);
  linkSync(outside, join(folder, shard));
  await expect("UNSAFE_PATH");
  // A link that stays inside the folder is the file it names.
  spawnSync("rm", [join(folder, shard)]);
  mkdirSync(join(folder, "blobs"));
  writeFileSync(join(folder, "blobs", "b"), files.get(shard)!);
  symlinkSync(join(folder, "blobs", "b"), join(folder, shard));
  assert.is((await analyzeFile(model)).coverage.weightedLayers, 1);
  if (linux) assert.ok(openFiles() - before <= 0, `${openFiles() - before} files left open after the refusals`);
});

test("a small read pulls 64 KiB; small reads one after another double the window up to 1 MiB", async () => {
  const size = 3 * 1024 * 1024;
  const data = new Uint8Array(size).map((_, i) => (i * 2654435761) >>> 24);
  const reads: number[] = [];
  const handle = {
    async read(dest: Uint8Array, at: number, length: number, position: number) {
      reads.push(length);
      const n = Math.min(length, size - position);
      dest.set(data.subarray(position, position + n), at);
      return { bytesRead: n, buffer: dest };
    },
    async close() {},
  };
  const { source } = openedFile("f.bin", handle as never, size);
  const bias = new Uint8Array(8192);
  await source.readInto(1_000_000, bias);
  assert.equal(reads, [64 * 1024]);
  assert.equal(bias, data.subarray(1_000_000, 1_008_192));
  reads.length = 0;
  const small = new Uint8Array(4096);
  for (let at = 0; at + 4096 <= size; at += 4096) {
    await source.readInto(at, small);
    assert.equal(small, data.subarray(at, at + 4096), `4 KiB at ${at}`);
  }
  assert.equal(reads.slice(0, 5), [65536, 131072, 262144, 524288, 1048576]);
  assert.ok(reads.length <= 7 && Math.max(...reads) === 1048576, `${reads.length} reads: ${reads.join(", ")}`);
});

test("fileSource's siblings are leases of its own set: closing the model closes them", async () => {
  if (!linux) return;
  const { folder } = shardedModel(1, 16, 512);
  const before = openFiles();
  const source = await fileSource(join(folder, "model.json"));
  const a = await source.sibling!("group1-shard1of3.bin");
  const b = await source.sibling!("group1-shard1of3.bin");
  assert.ok(openFiles() - before <= 2, "the model and one shard");
  await a.close();
  await source.close();
  assert.ok(openFiles() - before <= 0, "files left open after close");
  await b.readInto(0, new Uint8Array(4)).then(() => assert.unreachable(), (e) => assert.is(e.code, "INTERNAL"));
});

test.run();
