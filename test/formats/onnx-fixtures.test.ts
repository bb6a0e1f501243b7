// ONNX files exported by torch 1.13 and built by onnx.helper (test/fixtures/make_onnx_fixtures.py),
// each with float64 reference values computed by numpy from what the onnx package reads back.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, filesSource, inspect, type Report } from "../../src/entry/node-core.js";
import { TensorSources, type PlacedTensorInfo } from "../../src/source/tensor-sources.js";
import { fileSource } from "../../src/node/index.js";
import { assertClose } from "../helpers/close.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";
import { assertLite, distOf, readValues, rejects, type LiteDist } from "./onnx-support.js";

const dir = "test/fixtures/onnx";
const bytes = (file: string) => new Uint8Array(readFileSync(`${dir}/${file}`));
const json = (file: string) => JSON.parse(readFileSync(`${dir}/${file}`, "utf8"));

interface ExpectedLayer {
  name: string;
  kind: string;
  shape: number[];
  params: number;
  weightLayout?: string;
  attributes?: Record<string, unknown>;
  activation?: string;
  recurrentWeight?: string;
  recurrentShape?: number[];
  linkWeights: LiteDist;
  bias: LiteDist | null;
}
interface ExpectedFile {
  layers: ExpectedLayer[];
  tensors: Record<string, { dtype: string; shape: number[] }>;
  skipped: string[];
  inputShape?: number[];
}

/** The report restricted to dense layers, as the float64 reference of a dense chain lists them. */
const denseOnly = (r: Report): Report => ({ ...r, layers: r.layers.filter((l) => l.kind === "dense") });

test("mlp.onnx (torch Gemm x2) matches its float64 reference report to 1e-12", async () => {
  const expected = json("mlp.expected.json") as ExpectedReport;
  const report = await analyze(bytes("mlp.onnx"), { perNode: true, name: "mlp.onnx" });
  assert.is(report.source.format, "onnx");
  assert.equal(report.layers.map((l) => l.kind), ["dense", "none", "dense"]);
  assert.is(report.layers[0].activation, "relu");
  assertMatchesExpected(denseOnly(report), expected, 1e-12);
  const model = await inspect(bytes("mlp.onnx"));
  assert.equal(model.inputShape, [8]);
  assert.is(model.dataFormat, "channels_first");
  assert.equal(model.layers.map((l) => l.weightLayout ?? null), ["out_in", null, "out_in"]);
  assert.equal(model.layers[1].attributes, { op: "activation" });
  assert.is(model.metadata!.producer, "pytorch");
  assert.is(model.metadata!.opsets, "ai.onnx 13");
});

test("mlp-matmul.onnx (MatMul with B [in, out] + Add of the bias) gives the same numbers", async () => {
  const expected = json("mlp.expected.json") as ExpectedReport;
  const names = json("mlp-matmul.expected.json").layers as { name: string; weight: string; bias: string }[];
  const model = await inspect(bytes("mlp-matmul.onnx"));
  const dense = model.layers.filter((l) => l.kind === "dense");
  assert.equal(dense.map((l) => [l.name, l.weight, l.bias, l.weightLayout]), names.map((n) => [n.name, n.weight, n.bias, "in_out"]));
  assert.ok(!model.layers.some((l) => l.attributes?.op === "add"), "the bias Add is part of the dense layer");
  assert.equal(model.inputShape, [3, 8]);
  const report = await analyze(bytes("mlp-matmul.onnx"), { perNode: true });
  const renamed: ExpectedReport = { ...expected, layers: expected.layers.map((l, i) => ({ ...l, name: names[i].name })), nodeLayers: expected.nodeLayers.map((n) => ({ ...n, after: undefined })) };
  assertMatchesExpected(denseOnly(report), renamed, 1e-12);
});

test("the same MLP as ONNX and as safetensors gives the same link weights and node layers (1e-12)", async () => {
  const onnx = await analyze(bytes("mlp.onnx"), { perNode: true });
  const st = await analyze(bytes("mlp.safetensors"), { perNode: true });
  assert.is(st.source.format, "safetensors");
  const a = denseOnly(onnx).layers, b = st.layers.filter((l) => l.kind === "dense");
  assert.is(a.length, b.length);
  a.forEach((l, i) => {
    assert.equal(l.shape, b[i].shape);
    assertLite(l.linkWeights, b[i].linkWeights! as LiteDist, 1e-12, `${l.name} weights`);
    assertLite(l.bias, b[i].bias! as LiteDist, 1e-12, `${l.name} bias`);
    assert.equal(l.linkWeights!.histogram.edges, b[i].linkWeights!.histogram.edges);
  });
  assert.is(onnx.nodeLayers.length, st.nodeLayers.length);
  onnx.nodeLayers.forEach((n, i) => {
    const m = st.nodeLayers[i];
    assert.is(n.size, m.size);
    for (const k of ["strength", "strengthIn", "strengthOut"] as const) assertLite(n[k], m[k] as LiteDist, 1e-12, `node layer ${i} ${k}`);
    assertClose(n.fluctuation, m.fluctuation, 1e-12, `node layer ${i} fluctuation`);
    n.perNode!.s.forEach((s, j) => assertClose(s, m.perNode!.s[j], 1e-12, `s[${i}][${j}]`));
  });
});

/** Check inspect's layers against the expected weighted layers (by name) and the tensors and skipped lists. */
async function checkModel(file: string, expected: ExpectedFile) {
  const model = await inspect(bytes(file), { name: file });
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  for (const e of expected.layers) {
    const l = byName.get(e.name);
    assert.ok(l, `${file}: layer ${e.name} missing; got ${model.layers.map((x) => x.name).join(", ")}`);
    assert.is(l!.kind, e.kind, `${e.name} kind`);
    assert.is(l!.weightLayout, e.weightLayout, `${e.name} weightLayout`);
    if (e.attributes) assert.equal(l!.attributes, e.attributes, `${e.name} attributes`);
    assert.is(l!.activation, e.activation, `${e.name} activation`);
    if (e.recurrentWeight) {
      assert.is(l!.recurrentWeight, e.recurrentWeight, `${e.name} recurrentWeight`);
      assert.equal(model.tensors.find((t) => t.name === e.recurrentWeight)!.shape, e.recurrentShape);
    }
  }
  const tensors = Object.fromEntries(model.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape }]));
  assert.equal(tensors, expected.tensors, `${file} tensors`);
  assert.equal(model.skipped!.map((s) => s.name).sort(), expected.skipped, `${file} skipped`);
  if (expected.inputShape) assert.equal(model.inputShape, expected.inputShape);
  return model;
}

/** Every expected layer's weights and bias, read through TensorSources and measured in float64 here. */
async function checkValues(file: string, expected: ExpectedFile) {
  const model = await inspect(bytes(file));
  const sources = new TensorSources((await import("../../src/source/memory.js")).memorySource(bytes(file), file));
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  for (const e of expected.layers) {
    const l = layers.get(e.name)!;
    assertLite(distOf(await readValues(sources, tensors.get(l.weight!)!)), e.linkWeights, 1e-12, `${e.name} weights`);
    if (e.bias) assertLite(distOf(await readValues(sources, tensors.get(l.bias!)!)), e.bias, 1e-12, `${e.name} bias`);
  }
  await sources.close();
}

/** Every expected layer's report distributions. */
function checkReport(report: Report, expected: ExpectedFile) {
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  for (const e of expected.layers) {
    const l = byName.get(e.name)!;
    assert.equal(l.shape, e.shape, `${e.name} shape`);
    assert.is(l.params, e.params, `${e.name} params`);
    assertLite(l.linkWeights, e.linkWeights, 1e-12, `${e.name} weights`);
    if (e.bias) assertLite(l.bias, e.bias, 1e-12, `${e.name} bias`);
    else assert.is(l.bias, null);
  }
}

test("cnn.onnx: conv (stride, pads, groups), batch norm, max pool, flatten, dense; link weights to 1e-12", async () => {
  const expected = json("cnn.expected.json");
  const model = await checkModel("cnn.onnx", expected);
  assert.equal(model.layers.map((l) => l.kind), ["conv2d", "none", "other", "other", "norm", "none", "conv2d", "none", "dense"]);
  const pool = model.layers.find((l) => l.attributes?.op === "pool")!;
  assert.equal(pool.attributes, { op: "pool", pool: "max", ...expected.pool, autoPad: "notset" });
  assert.equal(model.layers.find((l) => l.attributes?.op === "flatten")!.attributes, { op: "flatten", axis: 1 });
  checkReport(await analyze(bytes("cnn.onnx")), expected);
  await checkValues("cnn.onnx", expected);
});

for (const file of ["lstm.onnx", "gru.onnx"]) {
  test(`${file}: W, R and B of the ONNX recurrent op, gate order and direction; values to 1e-12`, async () => {
    const expected = json(file.replace(".onnx", ".expected.json"));
    const model = await checkModel(file, expected);
    const rec = model.layers.find((l) => l.kind === expected.layers[0].kind)!;
    assert.ok(rec.bias, "B is the layer's bias");
    assert.is(model.tensors.find((t) => t.name === rec.weight)!.shape.length, 3, "[num_directions, gates × hidden, input]");
    await checkValues(file, expected);
  });
}

test("typed.onnx: float_data, FLOAT16/BFLOAT16 in int32_data, double_data, Constant weights, If branches, Conv1d, ConvTranspose", async () => {
  const expected = json("typed.expected.json");
  const model = await checkModel("typed.onnx", expected);
  const t = new Map(model.tensors.map((x) => [x.name, x as PlacedTensorInfo]));
  // One packed run of float_data/double_data is the tensor's bytes in the file; int32_data is decoded.
  assert.is(t.get("w_f")!.data, undefined);
  assert.is(t.get("d64")!.data, undefined);
  assert.is(t.get("w_f")!.byteLength, 24 * 4);
  assert.ok(t.get("w_h")!.data instanceof Uint8Array && t.get("w_h")!.dtype === "f16");
  assert.ok(t.get("w_bf")!.data instanceof Uint8Array && t.get("w_bf")!.dtype === "bf16");
  assert.ok(!JSON.stringify(model).includes('"data"'), "decoded bytes stay out of the JSON");
  assert.equal(model.skipped!.map((s) => [s.name, s.dtype]), [["shape", "INT64"]]);
  assert.equal(model.layers.find((l) => l.name === "if")!.attributes, { op: "If", subgraphs: 2 });
  const dense = model.layers.filter((l) => l.kind === "dense").map((l) => l.name);
  assert.equal(dense, ["dense_f", "dense_h", "dense_c", "mm_else", "mm_then"], "subgraph layers follow their If node, in the file's attribute order");
  await checkValues("typed.onnx", expected);
});

test("external/mlp.onnx: tensors in weights.bin are located there, read through the sibling, and equal the reference", async () => {
  const ext = JSON.parse(readFileSync(`${dir}/external/mlp.expected.json`, "utf8"));
  const ref = json("mlp.expected.json") as ExpectedReport;
  const source = await fileSource(`${dir}/external/mlp.onnx`);
  const model = await inspect(source);
  for (const tensor of model.tensors as PlacedTensorInfo[]) {
    const e = ext.externalData[tensor.name];
    assert.equal([tensor.file, tensor.offset, tensor.byteLength], [e.location, Number(e.offset), Number(e.length)], tensor.name);
  }
  const main = await fileSource(`${dir}/external/mlp.onnx`);
  const sources = new TensorSources(main);
  const byName = new Map(model.tensors.map((t) => [t.name, t]));
  for (const [i, layer] of model.layers.filter((l) => l.kind === "dense").entries()) {
    assertLite(distOf(await readValues(sources, byName.get(layer.weight!)!)), ref.layers[i].linkWeights as LiteDist, 1e-12, `${layer.name} weights`);
    assertLite(distOf(await readValues(sources, byName.get(layer.bias!)!)), ref.layers[i].bias as LiteDist, 1e-12, `${layer.name} bias`);
  }
  await sources.close();
  await main.close(); // TensorSources closes the siblings it opened, not the main source
  // The same two files handed over in memory.
  const files = new Map([["m/mlp.onnx", readFileSync(`${dir}/external/mlp.onnx`)], ["m/weights.bin", readFileSync(`${dir}/external/weights.bin`)]]);
  const fromFiles = await inspect(filesSource(files, "m/mlp.onnx"));
  assert.equal(fromFiles.tensors, model.tensors);
});

test("external data from a lone buffer: TRUNCATED, saying which file is needed", async () => {
  await rejects(inspect(readFileSync(`${dir}/external/mlp.onnx`), { name: "mlp.onnx" }), "TRUNCATED", "ONNX 'mlp.onnx'", "'fc1.weight'", "'weights.bin'", "at byte");
});

test.run();
