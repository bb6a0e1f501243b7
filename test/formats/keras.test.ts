// Keras 3 .keras archives (and the HDF5 files Keras writes): the config is the graph, the weights
// are offset ranges into model.weights.h5. Numbers are checked against float64 references that
// test/fixtures/keras/make_keras_fixtures.py computes from the weights keras saved (read back with
// h5py), following test/fixtures/graph/CONVENTIONS.md; compared to 1e-9 relative.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertToCnt } from "../../src/convert.js";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { DEFAULT_LIMITS } from "../../src/model/limits.js";
import { CntError } from "../../src/errors.js";
import { detectFormat } from "../../src/formats/registry.js";
import { readHdf5 } from "../../src/formats/shared/hdf5.js";
import { fileSource } from "../../src/node/file-source.js";
import { analyzeFile, inspectFile } from "../../src/node/index.js";
import { checkReport, expectedFixtures } from "../helpers/graph-expected.js";
import { assertClose } from "../helpers/close.js";
import { rejects } from "../helpers/rejects.js";

const dir = "test/fixtures/keras";
const fixtures = expectedFixtures(dir);
const bytes = (name: string) => new Uint8Array(readFileSync(`${dir}/${name}`));

for (const { name, path, expected } of fixtures) {
  test(`${name}: node layers and distributions match the float64 reference (1e-9)`, async () => {
    const report = await analyzeFile(path, { perNode: true, ...expected.options });
    assert.is(report.source.format, path.endsWith(".h5") ? "keras-h5" : "keras");
    checkReport(report, expected, name);
  });
}

for (const { name, path, expected } of fixtures) {
  test(`${name}: the same report from a Blob and from bytes in memory`, async () => {
    const data = new Uint8Array(readFileSync(path));
    for (const input of [new Blob([data]), data]) {
      const report = await analyze(input, { perNode: true, name, ...expected.options });
      checkReport(report, expected, `${name} (${input instanceof Blob ? "Blob" : "Uint8Array"})`);
    }
  });
}

for (const { name, path, expected } of fixtures.filter((f) => f.name === "cnn" || f.name === "lstm")) {
  test(`${name}: the same report after convert to .cnt (the graph is kept)`, async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of convertToCnt(await fileSource(path), { name })) chunks.push(c);
    const report = await analyze(new Uint8Array(Buffer.concat(chunks)), { perNode: true, name: `${name}.cnt`, ...expected.options });
    assert.is(report.source.format, "cnt");
    checkReport(report, expected, `${name}.cnt`);
  });
}

test("cnn: variables named from the config by Keras 3's paths; the graph from inbound_nodes; running statistics skipped", async () => {
  const model = await inspectFile(`${dir}/cnn.keras`);
  assert.equal(model.graph!.inputs, [{ name: "x", shape: [null, 6, 6, 2], dtype: "float32" }]);
  assert.equal(model.graph!.outputs, ["head"]);
  const wiring = Object.fromEntries(model.layers.map((l) => [l.name, l.inputs]));
  assert.equal(wiring.add, ["c2", "bn"]);
  assert.equal(wiring.cat, ["add", "c3"]);
  assert.equal(wiring.c2, ["bn", "c2/kernel", "c2/bias"]);
  assert.equal(model.skipped!.map((s) => s.name), ["bn/moving_mean", "bn/moving_variance"]);
  assert.is(model.metadata!.kerasVersion, "3.15.1");
  // Stored entry: a tensor is a plain range of the archive, in file order.
  const offsets = model.tensors.map((t) => t.offset);
  assert.equal(offsets, [...offsets].sort((a, b) => a - b));
  assert.ok(model.tensors.every((t) => t.decode === undefined));
});

test("lstm: the cell's variables are kernel, recurrent_kernel, bias with Keras's gate order", async () => {
  const model = await inspectFile(`${dir}/lstm.keras`);
  const lstm = model.layers.find((l) => l.name === "lstm")!;
  assert.equal([lstm.kind, lstm.weight, lstm.recurrentWeight, lstm.bias, lstm.attributes!.gateOrder], ["lstm", "lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "ifco"]);
});

test("zoo: Bidirectional GRU (bias split in two), TimeDistributed, a nested Sequential; Adam's variables skipped, every weight claimed", async () => {
  const model = await inspectFile(`${dir}/zoo.keras`);
  assert.equal(model.layers.filter((l) => l.kind === "other").map((l) => l.name), []);
  assert.equal(model.skipped!.map((s) => [s.name, s.dtype, s.reason]), [["optimizer", "int32, float32", "the optimizer's state (30 variables), not weights"]]);
  const backward = model.layers.find((l) => l.name === "bidirectional/backward")!;
  assert.equal([backward.kind, backward.bias, backward.recurrentBias, backward.attributes!.direction], ["gru", "bidirectional/backward_forward_gru/bias[input]", "bidirectional/backward_forward_gru/bias[recurrent]", "reverse"]);
  assert.equal(model.layers.find((l) => l.name === "dense_1")!.inputs, ["dense", "inner/dense_1/kernel", "inner/dense_1/bias"]);
});

test("prep: a Normalization layer is one to one; its mean, variance and count are skipped as statistics", async () => {
  const model = await inspectFile(`${dir}/prep.keras`);
  assert.equal(model.skipped!.map((s) => [s.name, s.reason]), [
    ["norm/mean", "a preprocessing statistic (Normalization), not a link weight"],
    ["norm/variance", "a preprocessing statistic (Normalization), not a link weight"],
    ["norm/count", "a preprocessing statistic (Normalization), not a link weight"],
  ]);
  assert.equal(model.layers.map((l) => [l.name, l.kind, l.attributes?.op ?? null]), [["norm", "none", "rescale"], ["head", "dense", null]]);
});

test("a subclassed model: never refused; its variables are distributions named by their paths, with a note", async () => {
  const model = await inspectFile(`${dir}/subclass.keras`);
  assert.equal(model.tensors.map((t) => [t.name, t.shape]), [["d1/vars/0", [3, 4]], ["d1/vars/1", [4]], ["d2/vars/0", [4, 2]], ["d2/vars/1", [2]]]);
  assert.match(model.notes!.join(" "), "The model is a subclass ('cntscope_fixture>TwoDense')");
});

test("mlp-latest: the same tensors as mlp.keras from superblock v3, v2 object headers and link messages", async () => {
  const a = await inspectFile(`${dir}/mlp.keras`);
  const b = await inspectFile(`${dir}/mlp-latest.keras`);
  assert.equal(b.tensors.map((t) => [t.name, t.shape]), a.tensors.map((t) => [t.name, t.shape]));
});

test("mlp-deflated: a deflated model.weights.h5 is inflated once into memory and its tensors read from there (a note says so)", async () => {
  const model = await inspectFile(`${dir}/mlp-deflated.keras`);
  assert.ok(model.tensors.every((t) => t.decode?.parts?.[0]?.container?.kind === "deflate-raw"));
  assert.match(model.notes!.join(" "), "model.weights.h5 is deflated in this archive (Keras stores it uncompressed): it was inflated once into memory (17,476 bytes)");
});

test("mlp-deflated: above maxHeaderBytes the entry is still inflated once; above the store's bound (maxInflatedBytes / 8) it is streamed per tensor, with the same report and a note", async () => {
  const expected = JSON.parse(readFileSync(`${dir}/mlp-deflated.expected.json`, "utf8"));
  checkReport(await analyzeFile(`${dir}/mlp-deflated.keras`, { perNode: true, limits: { maxHeaderBytes: 4096 } }), expected, "mlp-deflated (kept in memory)");
  // 17,476 inflated bytes > 65,536 / 8: not kept; the metadata from a forward stream, each tensor inflated from the entry's start.
  const streamed = await analyzeFile(`${dir}/mlp-deflated.keras`, { perNode: true, limits: { maxHeaderBytes: 4096, maxInflatedBytes: 65536 } });
  checkReport(streamed, expected, "mlp-deflated (streamed)");
  assert.match(streamed.notes.join(" "), "inflates to 17,476 bytes, more than the 8,192 kept in memory");
});

test("a legacy Keras .h5: model_config from the root attribute (a variable-length string), weights under model_weights", async () => {
  const model = await inspectFile(`${dir}/mlp-legacy.h5`);
  assert.is(model.format, "keras-h5");
  assert.equal(model.layers.map((l) => [l.name, l.kind, l.weight ?? null]), [["d0", "dense", "d0/kernel"], ["drop", "none", null], ["d1", "dense", "d1/kernel"], ["d2", "dense", "d2/kernel"]]);
  assert.equal(model.skipped!.map((s) => s.name), ["optimizer"]); // Adam's state, in optimizer_weights
  const expected = JSON.parse(readFileSync(`${dir}/mlp.expected.json`, "utf8"));
  checkReport(await analyzeFile(`${dir}/mlp-legacy.h5`, { perNode: true }), expected, "mlp-legacy");
});

test("a bare .weights.h5: every variable as a distribution, with a note that the graph needs the .keras", async () => {
  const model = await inspectFile(`${dir}/mlp.weights.h5`);
  assert.equal(model.tensors.map((t) => t.name), ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1", "layers/dense_2/vars/0", "layers/dense_2/vars/1"]);
  assert.ok(model.layers.every((l) => l.kind === "other"));
  assert.match(model.notes!.join(" "), "holds no config");
});

test("HDF5 written by h5py with libver latest: names of 255 and 300 bytes, a big-endian dataset (byte-swapped on the way in), a compact float64 dataset", async () => {
  const expected = JSON.parse(readFileSync(`${dir}/h5-variants.json`, "utf8"))["names-latest.weights.h5"] as Record<string, { count: number; mean: number; std: number; min: number; max: number }>;
  const model = await inspectFile(`${dir}/names-latest.weights.h5`);
  assert.equal(model.tensors.map((t) => t.name).sort(), Object.keys(expected).sort());
  assert.equal(model.tensors.find((t) => t.name.includes("bbb"))!.decode, { values: { kind: "byteswap" } });
  const report = await analyzeFile(`${dir}/names-latest.weights.h5`);
  for (const [name, e] of Object.entries(expected)) {
    const layer = report.layers.find((l) => Object.values(l.tensors).includes(name))!;
    assert.is(layer.linkWeights!.count, e.count);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(layer.linkWeights![k], e[k], 1e-9, `${name} ${k}`);
  }
});

test("a group of more than 8 members written with libver latest (dense link storage, a fractal heap) is UNSUPPORTED_FORMAT, naming the group", async () => {
  await rejects(() => inspectFile(`${dir}/dense-links.weights.h5`), "UNSUPPORTED_FORMAT", "group 'layers' keeps its links in a fractal heap");
});

test("a Keras 2 weights-only .h5 (layer_names attribute): every weight as a distribution, named <layer>/<weight>, against the reference", async () => {
  const expected = JSON.parse(readFileSync(`${dir}/mlp.expected.json`, "utf8")).tensors as Record<string, { count: number; mean: number; std: number; min: number; max: number }>;
  const model = await inspectFile(`${dir}/mlp-keras2-weights.h5`);
  assert.equal(model.tensors.map((t) => t.name).sort(), Object.keys(expected).sort());
  assert.match(model.notes!.join(" "), "Keras 2 weights file");
  const report = await analyzeFile(`${dir}/mlp-keras2-weights.h5`);
  for (const [name, e] of Object.entries(expected)) {
    const layer = report.layers.find((l) => Object.values(l.tensors).includes(name))!;
    assert.is(layer.linkWeights!.count, e.count);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(layer.linkWeights![k], e[k], 1e-9, `${name} ${k}`);
  }
});

test("detect: .keras by its entry names, HDF5 by its signature; .npz and other zips are not claimed", () => {
  assert.is(detectFormat(bytes("mlp.keras").subarray(0, 64), "m").id, "keras");
  assert.is(detectFormat(bytes("mlp-deflated.keras").subarray(0, 64), "m").id, "keras");
  assert.is(detectFormat(bytes("mlp-legacy.h5").subarray(0, 64), "m").id, "keras-h5");
  assert.is(detectFormat(new Uint8Array(readFileSync("test/fixtures/numpy/mlp-f32-deflated.npz")).subarray(0, 64), "m").id, "npz");
});

test("a gzip-filtered, chunked dataset is refused, naming the dataset", async () => {
  await rejects(() => inspect(bytes("mlp-gzip.keras"), { name: "mlp-gzip.keras" }), "UNSUPPORTED_FORMAT", "'layers/dense/vars/0'");
});

test("a .keras whose weights are model.weights.npz (pickled dicts) is UNSUPPORTED_FORMAT: nothing is unpickled", async () => {
  await rejects(() => inspectFile(`${dir}/npz-weights.keras`), "UNSUPPORTED_FORMAT", "cntscope never unpickles");
});

test("an HDF5 file that is not a Keras model is UNSUPPORTED_FORMAT", async () => {
  // The weights file of mlp.keras with its root group's members renamed away from "layers" and "vars".
  const h5 = bytes("mlp.weights.h5");
  const text = new TextDecoder("latin1").decode(h5);
  for (const word of ["layers\0", "vars\0"]) {
    for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) h5[at] = "X".charCodeAt(0);
  }
  await rejects(() => inspect(h5, { name: "other.h5" }), "UNSUPPORTED_FORMAT", "not a Keras model");
});

// ------------------------------------------------------------------------------ hostile input

const fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra: object = {}) => new CntError(code, message, extra);
const h5Of = (name: string) => {
  // model.weights.h5 is stored: find it by its signature.
  const zip = bytes(name);
  const at = zip.findIndex((_, i) => zip[i] === 0x89 && zip[i + 1] === 0x48 && zip[i + 2] === 0x44 && zip[i + 3] === 0x46);
  // Superblock v0 keeps the end-of-file address at byte 40, v2/v3 at byte 28.
  const view = new DataView(zip.buffer, zip.byteOffset + at);
  return zip.slice(at, at + Number(view.getBigUint64(zip[at + 8] >= 2 ? 28 : 40, true)));
};
const tree = (h5: Uint8Array) => readHdf5(async (o, d) => d.set(h5.subarray(o, o + d.byteLength)), h5.byteLength, DEFAULT_LIMITS, fail);
const u64 = (b: Uint8Array, at: number, v: bigint) => new DataView(b.buffer, b.byteOffset).setBigUint64(at, v, true);
const find = (b: Uint8Array, text: string, from = 0) => new TextDecoder("latin1").decode(b).indexOf(text, from);

test("hostile: the root object header address past the file is OUT_OF_BOUNDS", async () => {
  const h5 = h5Of("mlp.keras");
  u64(h5, 64, 1n << 40n); // superblock v0: root symbol table entry's object header address
  await rejects(() => tree(h5), "OUT_OF_BOUNDS", "past the end");
});

test("hostile: a dataset's data address past the file is OUT_OF_BOUNDS, naming the dataset", async () => {
  const h5 = h5Of("mlp.keras");
  const real = await tree(h5);
  const d = real.datasets[0];
  // The layout message holds the address: find it (8 bytes, little-endian) and move it far out.
  const want = new Uint8Array(8);
  new DataView(want.buffer).setBigUint64(0, BigInt(d.offset), true);
  const at = h5.findIndex((_, i) => i < d.offset && want.every((b, k) => h5[i + k] === b));
  assert.ok(at > 0);
  u64(h5, at, BigInt(h5.byteLength));
  await rejects(() => tree(h5), "OUT_OF_BOUNDS", `'${d.path}'`);
});

test("hostile: a group whose member links back to the root is refused as a cycle", async () => {
  const h5 = h5Of("mlp.keras");
  // The first SNOD entry of the root group: point its object header at the root's own header.
  const snod = find(h5, "SNOD");
  const root = new DataView(h5.buffer, h5.byteOffset).getBigUint64(64, true);
  u64(h5, snod + 8 + 8, root);
  await rejects(() => tree(h5), "BAD_HEADER", "already reached");
});

test("hostile: a B-tree with a huge entry count is bounded (OUT_OF_BOUNDS or TOO_LARGE, no allocation)", async () => {
  const h5 = h5Of("mlp.keras");
  const node = find(h5, "TREE");
  new DataView(h5.buffer, h5.byteOffset).setUint16(node + 6, 0xffff, true);
  const e = await rejects(() => tree(h5), "OUT_OF_BOUNDS", "past the end").catch(() => rejects(() => tree(h5), "TOO_LARGE", "limit"));
  assert.ok(e);
});

test("a local heap without free space (its free-list offset the undefined address) is read", async () => {
  const h5 = h5Of("cnn.keras");
  const before = await tree(h5);
  for (let at = find(h5, "HEAP"); at >= 0; at = find(h5, "HEAP", at + 1)) u64(h5, at + 16, 0xffffffffffffffffn);
  assert.equal((await tree(h5)).datasets, before.datasets);
});

test("hostile: unknown versions are UNSUPPORTED_FORMAT (superblock, object header)", async () => {
  const a = h5Of("mlp.keras");
  a[8] = 7;
  await rejects(() => tree(a), "UNSUPPORTED_FORMAT", "superblock has version 7");
  const b = h5Of("mlp-latest.keras");
  const ohdr = find(b, "OHDR");
  b[ohdr + 4] = 9;
  await rejects(() => tree(b), "UNSUPPORTED_FORMAT", "version 9");
});

test("hostile: an unknown message type is skipped, unless flagged must-understand (UNSUPPORTED_FORMAT)", async () => {
  const h5 = h5Of("mlp.keras");
  const view = new DataView(h5.buffer, h5.byteOffset);
  const root = Number(view.getBigUint64(64, true));
  assert.is(view.getUint16(root + 16, true), 0x11); // the root's first message: its symbol table
  view.setUint16(root + 16, 0x99, true);
  assert.equal((await tree(h5)).datasets, []); // no symbol table left: an empty root group
  h5[root + 20] = 0x80;
  await rejects(() => tree(h5), "UNSUPPORTED_FORMAT", "type 153 that readers must understand");
});

test("hostile: a dataspace with a huge dimension is refused before any allocation", async () => {
  const h5 = h5Of("mlp.keras");
  const real = await tree(h5);
  const d = real.datasets.find((x) => x.shape.length === 2)!;
  // The dataspace message (version 1, rank 2): its first dimension follows 8 bytes of prefix.
  const want = new Uint8Array(16);
  new DataView(want.buffer).setBigUint64(0, BigInt(d.shape[0]), true);
  new DataView(want.buffer).setBigUint64(8, BigInt(d.shape[1]), true);
  const at = h5.findIndex((_, i) => want.every((b, k) => h5[i + k] === b) && h5[i - 8] === 1 && h5[i - 7] === 2);
  assert.ok(at > 0);
  u64(h5, at, 1n << 52n);
  const e = await rejects(() => tree(h5), "BAD_SHAPE", `'${d.path}'`);
  assert.match(e.message, "2^53");
});

test("hostile: a truncated archive and a truncated weights file give typed errors", async () => {
  const zip = bytes("cnn.keras");
  for (const cut of [10, 100, 5000, zip.byteLength - 30]) {
    try {
      await inspect(zip.slice(0, cut), { name: "cut.keras" });
      assert.unreachable(`cut at ${cut} was read`);
    } catch (error) {
      assert.instance(error, CntError, String(error));
    }
  }
  const h5 = h5Of("cnn.keras");
  for (const cut of [8, 50, 2000, h5.byteLength - 100]) {
    try {
      await tree(h5.slice(0, cut));
      assert.unreachable(`cut at ${cut} was read`);
    } catch (error) {
      assert.instance(error, CntError, String(error));
    }
  }
});

test.run();
