/**
 * Fan-out of a population (issue 18 point 3): many files on worker threads (partialsOfFiles), a
 * split into shards (k mod n) and their merge. Expected values come from the definitions:
 * shard membership worked by hand, counts of values from the bundled MLP's shapes (64-32-16-10:
 * 2,048 + 512 + 160 weights, 32 + 16 + 10 biases, node layers of 64, 32, 16 and 10 nodes), the
 * merged list equal to the one-run list, and the typed errors the merge rules say.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CntError } from "../../src/errors.js";
import { partialsOfFiles } from "../../src/node/population-workers.js";
import type { NetworkPartial } from "../../src/population/partial.js";
import { listFingerprint, mergePieces, parseShard, readMergePiece, shardItems, shardSize, toShard, type MergePiece } from "../../src/population/shards.js";
import { writePerturbedNetworks } from "./fanout-networks.js";

const dir = mkdtempSync(join(tmpdir(), "cntscope-fanout-"));
const names = writePerturbedNetworks(dir, 7);
// Unreadable inputs: a file cut short, a file that is not a model, a path that does not exist.
writeFileSync(join(dir, "cut.safetensors"), readFileSync(join(dir, names[0])).subarray(0, 300));
writeFileSync(join(dir, "notes.txt"), "not a model\n");
const inputs = [...names, "cut.safetensors", "missing.safetensors", "notes.txt"].sort().map((file) => ({ path: join(dir, file), file, labels: { seed: file } }));

async function expectCode(code: string, run: () => unknown, phrase?: RegExp): Promise<CntError> {
  try {
    await run();
  } catch (error) {
    assert.instance(error, CntError);
    assert.is((error as CntError).code, code, (error as Error).message);
    if (phrase) assert.ok(phrase.test((error as Error).message), `${(error as Error).message} should match ${phrase}`);
    return error as CntError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error("unreachable");
}

let oneThread: { partials: NetworkPartial[]; failed: { file: string; code: string; message: string }[] };

test("partialsOfFiles: 1 and 2 threads give the same partials, byte for byte, in the files' order; failures listed with their codes", async () => {
  oneThread = await partialsOfFiles(inputs, { workers: 1 });
  const twoThreads = await partialsOfFiles(inputs, { workers: 2 });
  assert.is(JSON.stringify(twoThreads), JSON.stringify(oneThread));
  assert.equal(oneThread.partials.map((p) => p.file), names);
  assert.equal(
    oneThread.failed.map((f) => [f.file, f.code]),
    [
      ["cut.safetensors", "TRUNCATED"],
      ["missing.safetensors", "NOT_FOUND"],
      ["notes.txt", "BAD_MAGIC"],
    ],
  );
  for (const f of oneThread.failed) assert.ok(f.message.length > 10, f.message);
  // The counts of a partial follow from the MLP's shapes alone.
  const p = oneThread.partials[0];
  assert.equal(p.labels, { seed: names[0] });
  assert.equal(p.report.layers.map((l) => [l.linkWeights?.count, l.bias?.count]), [[2048, 32], [512, 16], [160, 10]]);
  assert.equal(p.report.nodeLayers.map((n) => n.size), [64, 32, 16, 10]);
  for (const l of p.report.layers) assert.is(l.linkWeights!.fine!.counts.reduce((a, b) => a + b, 0), l.linkWeights!.count);
});

test("partialsOfFiles: strict stops at a failure with its code; the worker option is checked", async () => {
  // The first failing file in the inputs' order (cut.safetensors), whichever thread fails first.
  for (const workers of [1, 2]) await expectCode("TRUNCATED", () => partialsOfFiles(inputs, { workers, strict: true }), /cut\.safetensors/);
  await expectCode("BAD_OPTION", () => partialsOfFiles(inputs, { workers: 0 }), /workers/);
  assert.equal(await partialsOfFiles([], { workers: 2 }), { partials: [], failed: [] });
});

test("partialsOfFiles: an abort rejects with ABORTED and stops the threads", async () => {
  const controller = new AbortController();
  const run = partialsOfFiles(inputs, { workers: 2, signal: controller.signal });
  controller.abort();
  await expectCode("ABORTED", () => run);
});

test("--shard i/n: k mod n over the sorted list, worked by hand", () => {
  const ten = Array.from({ length: 10 }, (_, k) => k);
  assert.equal(shardItems(ten, { index: 0, count: 3 }), [0, 3, 6, 9]);
  assert.equal(shardItems(ten, { index: 1, count: 3 }), [1, 4, 7]);
  assert.equal(shardItems(ten, { index: 2, count: 3 }), [2, 5, 8]);
  assert.equal([0, 1, 2].map((index) => shardSize(10, { index, count: 3 })), [4, 3, 3]);
  assert.equal([0, 1, 2, 3].map((index) => shardSize(2, { index, count: 4 })), [1, 1, 0, 0]);
  assert.equal(parseShard("2/8"), { index: 2, count: 8 });
  for (const bad of ["8/8", "-1/4", "1/0", "a/b", "3", "1/2/3"]) assert.throws(() => parseShard(bad), (e: CntError) => e.code === "BAD_OPTION" && /--shard/.test(e.message));
  assert.is(listFingerprint(["a", "b"]), listFingerprint(["a", "b"]));
  assert.is.not(listFingerprint(["a", "b"]), listFingerprint(["ab"]));
  assert.is.not(listFingerprint(["a", "b"]), listFingerprint(["b", "a"]));
});

/** Shards of the population above, made as `population --shard i/n` does, read back from their JSON. */
function shardsOf(count: number): MergePiece[] {
  const all = inputs.map((i) => i.file);
  return Array.from({ length: count }, (_, index) => {
    const spec = { index, count };
    const mine = new Set(shardItems(all, spec));
    const doc = toShard(spec, all, oneThread.partials.filter((p) => mine.has(p.file)), oneThread.failed.filter((f) => mine.has(f.file)));
    return readMergePiece(JSON.stringify(doc), `parts/part-${index}-of-${count}.json`);
  });
}

test("merge: shards in any order give the one-run list of partials and failures", () => {
  for (const count of [1, 3, 4, 10, 12]) {
    const merged = mergePieces(shardsOf(count).reverse());
    assert.is(JSON.stringify(merged), JSON.stringify(oneThread), `${count} shards`);
  }
  // Lone partials (a serverless function's answers) and lone failures merge too.
  const lone: MergePiece[] = [...oneThread.partials.map((p) => readMergePiece(JSON.stringify(p), `parts/${p.file}.json`)), readMergePiece(JSON.stringify({ failed: oneThread.failed }), "parts/failed.json")];
  assert.is(JSON.stringify(mergePieces(lone.reverse())), JSON.stringify(oneThread));
});

test("merge: a missing shard, a shard twice, a network twice, shards of other runs are typed errors naming the files", async () => {
  const four = shardsOf(4);
  await expectCode("SHARD_MISSING", () => mergePieces([four[0], four[1], four[3]]), /Shard 2 of 4 is missing.*part-0-of-4\.json/);
  await expectCode("SHARD_MISSING", () => mergePieces([four[1]]), /Shards 0, 2, 3 of 4 are missing/);
  await expectCode("SHARD_MISSING", () => mergePieces([]), /nothing to merge/);
  const again = { ...four[2], where: "elsewhere/part-2-of-4.json" };
  await expectCode("SHARD_OVERLAP", () => mergePieces([...four, again]), /"parts\/part-2-of-4\.json" and "elsewhere\/part-2-of-4\.json" are both shard 2 of 4/);
  const lone = readMergePiece(JSON.stringify(oneThread.partials[0]), "extra/net.json");
  await expectCode("SHARD_OVERLAP", () => mergePieces([...four, lone]), new RegExp(`Network "${names[0]}" is in both "parts/part-2-of-4.json" and "extra/net.json"`));
  await expectCode("SHARD_MISMATCH", () => mergePieces([...shardsOf(3).slice(0, 1), ...four.slice(1)]), /part-0-of-3\.json" and "parts\/part-1-of-4\.json" come from different runs/);
  const otherList = readMergePiece(JSON.stringify({ ...(four[3] as { shard: object }).shard, list: listFingerprint(["other"]) }), "other/part-3-of-4.json");
  await expectCode("SHARD_MISMATCH", () => mergePieces([...four.slice(0, 3), otherList]), /different runs/);
  const rebinned = structuredClone(oneThread.partials[1]);
  rebinned.file = "zz-other-bins.safetensors";
  rebinned.report.options.bins = 32;
  await expectCode("SHARD_MISMATCH", () => mergePieces([...four, readMergePiece(JSON.stringify(rebinned), "zz.json")]), /different options/);
});

test("merge: malformed pieces are BAD_PARTIAL naming the file and what is wrong", async () => {
  const doc = JSON.parse(JSON.stringify((shardsOf(2)[0] as { shard: object }).shard));
  await expectCode("BAD_PARTIAL", () => readMergePiece("{", "parts/a.json"), /"parts\/a\.json" is not JSON/);
  await expectCode("BAD_PARTIAL", () => readMergePiece("[]", "parts/a.json"), /must be a JSON object/);
  await expectCode("BAD_PARTIAL", () => readMergePiece({ ...doc, shard: 2 }, "parts/a.json"), /shard must be 1/);
  await expectCode("BAD_PARTIAL", () => readMergePiece({ ...doc, index: 2 }, "parts/a.json"), /index 2 must be below count 2/);
  await expectCode("BAD_PARTIAL", () => readMergePiece({ ...doc, files: doc.files.slice(1) }, "parts/a.json"), /must list 5 files; it lists 4/);
  await expectCode("BAD_PARTIAL", () => readMergePiece({ ...doc, partials: doc.partials.slice(1) }, "parts/a.json"), /lists .* but holds neither its partial nor its failure/);
  await expectCode("BAD_PARTIAL", () => readMergePiece({ ...doc, failed: [{ file: 1 }] }, "parts/a.json"), /failed\[0\] must be/);
  const broken = structuredClone(doc);
  broken.partials[0].report.layers[0].linkWeights.count += 1;
  await expectCode("BAD_PARTIAL", () => readMergePiece(broken, "parts/a.json"), /parts\/a\.json \(partials\[0\]\).*holds 2048 values but count is 2049/);
});

test.run();
