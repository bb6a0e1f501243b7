// PyTorch .pt reader: checkpoints written by torch 1.13 (test/fixtures/pytorch/make_pt_fixtures.py)
// against their float64 references, views sharing storages, nested checkpoints, and detection
// beside .npz.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { detectFormat } from "../../src/formats/registry.js";
import { fileSource } from "../../src/node/file-source.js";
import { assertDistribution, assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";
import { checkReport, type Expected } from "../helpers/graph-expected.js";
import { rejects } from "../helpers/rejects.js";
import { checkpoint, f32, Pickle, stateDictPickle, storedEntries, storedZip, strides } from "../fixtures/pytorch/build.js";

const dir = "test/fixtures/pytorch";
const expected = (stem: string) => JSON.parse(readFileSync(`${dir}/${stem}.expected.json`, "utf8"));

for (const stem of ["mlp", "mlp-f16", "mlp-bf16", "checkpoint", "model-key", "views", "legacy"]) {
  test(`${stem}.pt matches its float64 reference to 1e-9 (link weights, biases, every node strength)`, async () => {
    const report = await analyze(await fileSource(`${dir}/${stem}.pt`), { perNode: true });
    assert.is(report.source.format, "pytorch");
    assertMatchesExpected(report, expected(stem) as ExpectedReport, 1e-9);
  });
}

test("mlp.pt: tensors are plain ranges of their storage entries, in PyTorch's [out, in] layout", async () => {
  const model = await inspect(await fileSource(`${dir}/mlp.pt`));
  assert.equal(model.layers.map((l) => [l.name, l.kind, l.weightLayout]), [["fc1", "dense", "out_in"], ["fc2", "dense", "out_in"], ["fc3", "dense", "out_in"]]);
  for (const t of model.tensors) {
    assert.is(t.decode, undefined, t.name);
    assert.is(t.offset % 64, 0, `${t.name}: torch aligns stored entries to 64 bytes`);
  }
  assert.equal(model.metadata, { archive: "mlp" });
  assert.equal(model.skipped, []);
});

test("dtypes: f16 and bf16 storages are read as such", async () => {
  for (const [stem, dtype] of [["mlp-f16", "f16"], ["mlp-bf16", "bf16"]]) {
    const model = await inspect(await fileSource(`${dir}/${stem}.pt`));
    assert.equal([...new Set(model.tensors.map((t) => t.dtype))], [dtype]);
  }
});

test("checkpoint.pt: the state_dict is picked, the optimizer and epoch are named in a note", async () => {
  const report = await analyze(await fileSource(`${dir}/checkpoint.pt`));
  const note = report.notes.find((n) => n.includes("['state_dict']"));
  assert.ok(note, report.notes.join(" | "));
  assert.ok(note!.includes("'optimizer' (a dict of 2 holding 6 tensors)") && note!.includes("'epoch' (3)"), note);
  const model = await inspect(await fileSource(`${dir}/model-key.pt`));
  assert.ok(model.notes!.some((n) => n.includes("['model']") && n.includes("'step' (10)")), model.notes!.join(" | "));
});

test("cnn-bn.pt: every float tensor's distribution; num_batches_tracked (int64) skipped with a note", async () => {
  const e = expected("cnn-bn");
  const report = await analyze(await fileSource(`${dir}/cnn-bn.pt`));
  const model = await inspect(await fileSource(`${dir}/cnn-bn.pt`));
  assert.equal(model.tensors.map((t) => t.name).sort(), Object.keys(e.tensors).sort());
  let compared = 0;
  for (const layer of report.layers) {
    const l = model.layers.find((x) => x.name === layer.name)!;
    if (l.weight) {
      assertDistribution(layer.linkWeights, e.tensors[l.weight], 1e-9, l.weight);
      compared++;
    }
    if (l.bias) {
      assertDistribution(layer.bias, e.tensors[l.bias], 1e-9, l.bias);
      compared++;
    }
  }
  assert.is(compared, Object.keys(e.tensors).length, "every float tensor compared");
  assert.equal(report.skipped.map((s) => [s.name, s.dtype, s.shape]), e.skipped);
  assert.ok(report.notes.some((n) => n.includes("num_batches_tracked") && n.includes("skipped")), report.notes.join(" | "));
  assert.equal(model.layers.filter((l) => l.kind === "conv2d").map((l) => l.name), ["0", "3"]);
});

test("views.pt: two tensors on one storage get their own ranges; a transposed weight flips its layout; a strided bias is read as runs", async () => {
  const model = await inspect(await fileSource(`${dir}/views.pt`));
  const t = (n: string) => model.tensors.find((x) => x.name === n)!;
  assert.is(t("fc3.weight").offset - t("fc1.weight").offset, 80 * 4, "fc3.weight = S[10:] starts 80 floats into S");
  assert.is(t("fc1.weight").byteLength, 10 * 8 * 4);
  assert.equal(t("fc2.weight").shape, [10, 8], "T.t() [8, 10] is T [10, 8] in C order");
  assert.is(model.layers.find((l) => l.name === "fc2")!.weightLayout, "in_out");
  const parts = t("fc1.bias").decode!.parts!;
  assert.is(parts.length, 10);
  assert.equal(parts.map((p) => p.offset - parts[0].offset), Array.from({ length: 10 }, (_, i) => i * 8));
});

test("shared.pt: views measured as distributions (slices, a transpose, a column block, a strided vector, a Parameter)", async () => {
  const e = expected("shared");
  const report = await analyze(await fileSource(`${dir}/shared.pt`));
  assert.equal(report.layers.map((l) => l.name).sort(), Object.keys(e.tensors).sort());
  for (const layer of report.layers) assertDistribution(layer.linkWeights, e.tensors[layer.name], 1e-9, layer.name);
});

test("gpt2/model.pt with config.json beside it: the block template's graph, every node layer as the float64 reference of the same weights", async () => {
  const expectedGraph = JSON.parse(readFileSync("test/fixtures/graph/statedict/gpt2.expected.json", "utf8")) as Expected;
  const report = await analyze(await fileSource(`${dir}/gpt2/model.pt`), { perNode: true, ...expectedGraph.options });
  assert.is(report.source.format, "pytorch");
  checkReport(report, expectedGraph, "gpt2/model.pt");
});

test("detection: a torch zip is read as pytorch, a .npz still as npz, also when the first entry name is cut off", async () => {
  const pt = new Uint8Array(readFileSync(`${dir}/mlp.pt`));
  assert.is(detectFormat(pt.subarray(0, 64), "x").id, "pytorch");
  const npz = new Uint8Array(readFileSync("test/fixtures/numpy/mlp-f32.npz"));
  assert.is(detectFormat(npz.subarray(0, 64), "x").id, "npz");
  // A long archive name ("<stem>/data.pkl" past the 64 detection bytes) and a .npz with a long entry name.
  const w = f32([1, 2, 3, 4, 5, 6]);
  const long = checkpoint(stateDictPickle([{ name: "fc.weight", storage: "FloatStorage", key: "0", numel: 6, offset: 0, shape: [3, 2], stride: [2, 1] }]), { 0: w }, "a_very_long_checkpoint_name_from_a_hub-0123abcd");
  const model = await inspect(long);
  assert.is(model.format, "pytorch");
  assert.equal(model.tensors.map((t) => t.shape), [[3, 2]]);
  const npyHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
  const text = new TextEncoder().encode(npyHeader.padEnd(118, " ") + "\n");
  const npy = new Uint8Array(10 + text.byteLength + 24);
  npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(npy.buffer).setUint16(8, text.byteLength, true);
  npy.set(text, 10);
  npy.set(w, 10 + text.byteLength);
  const longNpz = storedZip([{ name: "model.encoder.layers.0.self_attention.query.weight.npy", data: npy }], 1);
  assert.is((await inspect(longNpz)).format, "npz");
});

test("a Parameter (_rebuild_parameter) and a protocol-4 pickle (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL) are read", async () => {
  const p = new Pickle().proto(4);
  const sbu = (s: string) => p.op(0x8c, s.length).raw(new TextEncoder().encode(s));
  p.op(0x95, 0, 0, 0, 0, 0, 0, 0, 0); // FRAME of length 0 (a hint only)
  sbu("collections");
  sbu("OrderedDict");
  p.op(0x93, 0x94).emptyTuple().reduce().op(0x94).mark();
  sbu("w");
  sbu("torch._utils");
  sbu("_rebuild_parameter");
  p.op(0x93);
  sbu("torch._utils");
  sbu("_rebuild_tensor_v2");
  p.op(0x93).mark().mark();
  sbu("storage");
  sbu("torch");
  sbu("FloatStorage");
  p.op(0x93);
  sbu("0");
  sbu("cpu");
  p.int(4).tuple().binpersid().int(0).int(2).int(2).op(0x86).int(2).int(1).op(0x86).false().global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
  p.op(0x88).global("collections", "OrderedDict").emptyTuple().reduce().op(0x87).reduce().setitems().stop();
  const model = await inspect(checkpoint(p.done(), { 0: f32([1, 2, 3, 4]) }));
  assert.equal(model.tensors.map((t) => [t.name, t.shape, t.byteLength]), [["w", [2, 2], 16]]);
});

test("a re-zipped checkpoint with deflated entries gives the same report; a strided view of a deflated storage is refused by name", async () => {
  const deflate = (file: string) => storedZip(storedEntries(new Uint8Array(readFileSync(`${dir}/${file}`))).map((e) => ({ ...e, deflate: true })), 1);
  const mlp = deflate("mlp.pt");
  assertMatchesExpected(await analyze(mlp, { perNode: true }), expected("mlp") as ExpectedReport, 1e-9);
  assert.ok((await inspect(mlp)).tensors.every((t) => t.decode?.parts?.[0].container?.kind === "deflate-raw"));
  // views.pt: the transposed fc2.weight is still a block (its layout flips), the strided fc1.bias would need runs.
  await rejects(() => inspect(deflate("views.pt")), "UNSUPPORTED_FORMAT", "tensor 'fc1.bias' is a non-contiguous view (shape [10], strides [2]) of a deflated entry");
});

test("torch 2.x _rebuild_tensor_v3 (an untyped byte storage and a dtype): offsets in the dtype's elements; uint16 skipped", async () => {
  const v3 = (p: Pickle, name: string, dtype: string, offset: number, n: number) =>
    p.str(name).global("torch._utils", "_rebuild_tensor_v3").mark()
      .mark().str("storage").global("torch", "UntypedStorage").str("0").str("cpu").int(24).tuple().binpersid()
      .int(offset).mark().int(n).tuple().mark().int(1).tuple().false().global("collections", "OrderedDict").emptyTuple().reduce().global("torch", dtype).tuple().reduce();
  const p = new Pickle().proto(2).emptyDict().mark();
  v3(p, "w", "float32", 2, 3);
  v3(p, "counts", "uint16", 0, 2);
  p.setitems().stop();
  const model = await inspect(checkpoint(p.done(), { 0: f32([1, 2, 3, 4, 5, 6]) }));
  assert.equal(model.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength]), [["w", "f32", [3], 12]]);
  assert.equal(model.skipped!.map((s) => [s.name, s.dtype]), [["counts", "uint16"]]);
  const report = await analyze(checkpoint(p.done(), { 0: f32([1, 2, 3, 4, 5, 6]) }));
  assert.equal([report.layers[0].linkWeights!.min, report.layers[0].linkWeights!.max], [3, 5]);
});

test("a big-endian checkpoint (byteorder 'big') is byte-swapped", async () => {
  const be = new Uint8Array(8);
  new DataView(be.buffer).setFloat32(0, 1.5, false);
  new DataView(be.buffer).setFloat32(4, -2, false);
  const pkl = stateDictPickle([{ name: "v", storage: "FloatStorage", key: "0", numel: 2, offset: 0, shape: [2], stride: [1] }]);
  const zip = storedZip([{ name: "archive/data.pkl", data: pkl }, { name: "archive/byteorder", data: new TextEncoder().encode("big") }, { name: "archive/data/0", data: be }]);
  const report = await analyze(zip);
  const d = report.layers[0].linkWeights!;
  assert.equal([d.min, d.max], [-2, 1.5]);
});

test("contiguous views of higher rank with size-1 dims and a row-strided 2-D view as a dense weight", async () => {
  // storage of 4x6: w = S[:, :3] (strides (6, 1)): 4 runs of 3; the dense layer reads the logical [4, 3].
  const S = Array.from({ length: 24 }, (_, i) => i + 1);
  const pkl = stateDictPickle([
    { name: "fc.weight", storage: "FloatStorage", key: "0", numel: 24, offset: 0, shape: [4, 3], stride: [6, 1] },
    { name: "u", storage: "FloatStorage", key: "0", numel: 24, offset: 3, shape: [1, 3, 1], stride: [99, 1, 7] },
  ]);
  const report = await analyze(checkpoint(pkl, { 0: f32(S) }), { perNode: true });
  const fc = report.layers.find((l) => l.name === "fc")!;
  assert.equal(fc.shape, [3, 4]);
  const w = [1, 2, 3, 7, 8, 9, 13, 14, 15, 19, 20, 21];
  assert.is(fc.linkWeights!.mean, w.reduce((a, b) => a + b) / 12);
  // s_out of the 3 inputs = column sums of the stored [out=4, in=3] matrix.
  assert.equal(Array.from(report.nodeLayers[0].perNode!.sOut), [40, 44, 48]);
  const u = report.layers.find((l) => l.name === "u")!;
  assert.equal([u.linkWeights!.min, u.linkWeights!.max], [4, 6]);
});

test("a transposed weight too large for runs, used by a conv, is refused naming the tensor", async () => {
  // conv weight [2, 1, 300, 300] as a permuted view (strides not C order, 180,000 single-element runs).
  const numel = 2 * 300 * 300;
  const pkl = stateDictPickle([{ name: "conv.weight", storage: "FloatStorage", key: "0", numel, offset: 0, shape: [2, 1, 300, 300], stride: [90000, 90000, 1, 300] }]);
  await rejects(() => inspect(checkpoint(pkl, { 0: new Uint8Array(numel * 4) })), "UNSUPPORTED_FORMAT", "'conv.weight' is a non-contiguous view");
});

test("strides and shapes as torch writes them in .pt are checked; zero-size tensors are fine", async () => {
  const pkl = stateDictPickle([
    { name: "w", storage: "FloatStorage", key: "0", numel: 4, offset: 0, shape: [2, 2], stride: [2, 1] },
    { name: "empty", storage: "FloatStorage", key: "0", numel: 4, offset: 4, shape: [0, 5], stride: [5, 1] },
  ]);
  const model = await inspect(checkpoint(pkl, { 0: f32([1, 2, 3, 4]) }));
  assert.equal(model.tensors.map((t) => [t.name, t.byteLength]).sort(), [["empty", 0], ["w", 16]]);
});

test("legacy.pt (torch.save before 1.6): five pickles then the storage records, read in place", async () => {
  const model = await inspect(await fileSource(`${dir}/legacy.pt`));
  assert.equal(model.metadata, { legacy: "true" });
  const bytes = new Uint8Array(readFileSync(`${dir}/legacy.pt`));
  assert.is(detectFormat(bytes.subarray(0, 64), "x").id, "pytorch");
  // Each tensor's bytes follow its 8-byte element count.
  for (const t of model.tensors) assert.is(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(t.offset - 8, true)) * 4, t.byteLength, t.name);
  await rejects(() => inspect(bytes.subarray(0, bytes.byteLength - 1)), "TRUNCATED", "runs past the end of the file");
  await rejects(() => inspect(bytes.subarray(0, 300)), "TRUNCATED", "legacy pickle");
});

test("stride helper agrees with torch's contiguous strides", () => {
  assert.equal(strides([2, 3, 4]), [12, 4, 1]);
});

test.run();
