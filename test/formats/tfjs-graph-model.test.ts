// TF.js graph models (format "graph-model": a GraphDef as JSON and a weights manifest), read by
// src/formats/tfjs/graph-model.ts. Numbers are checked against float64 references computed by
// test/fixtures/tfjs/graph-model/make_reference.py (numpy only, reading the GraphDef and the shards
// itself) following test/fixtures/graph/CONVENTIONS.md: a small GraphDef written there (fused conv,
// depthwise, folded BatchNorm as constant Mul/Add, Pad folded into a conv, residual Add, ConcatV2,
// channel Pad, MaxPool, shape arithmetic, MatMul), nsfwjs's MobileNetV2 graph model (uint8, base64
// shards in a browserify bundle), and two models of @vladmandic/human (BlazeFace, emotion), models
// no one on this project wrote. Compared to 1e-9 relative.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertToCnt } from "../../src/convert.js";
import { analyze, filesSource, inspect } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import { analyzeFile, inspectFile } from "../../src/node/index.js";
import type { LayerInfo, ModelInfo } from "../../src/model/types.js";
import { checkReport, describe, expectedFixtures } from "../helpers/graph-expected.js";

const dir = "test/fixtures/tfjs/graph-model";
const small = `${dir}/small/model.json`;
const fixtures = expectedFixtures(dir);

for (const { name, path, expected } of fixtures) {
  test(`${name}: node layers and distributions match the float64 reference (1e-9)`, async () => {
    const report = await analyzeFile(path, { perNode: true, ...expected.options });
    assert.is(report.source.format, "tfjs");
    assert.equal(report.notes, [], describe(report));
    checkReport(report, expected, name);
  });
}

for (const { name, path, expected } of fixtures.filter((f) => f.name === "small")) {
  test(`${name}: the same report after convert to .cnt (the graph is kept)`, async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of convertToCnt(await fileSource(path), { name })) chunks.push(c);
    const report = await analyze(new Uint8Array(Buffer.concat(chunks)), { perNode: true, name: `${name}.cnt`, ...expected.options });
    checkReport(report, expected, `${name}.cnt`);
  });
}

const byName = (model: ModelInfo, name: string): LayerInfo => {
  const l = model.layers.find((x) => x.name === name);
  assert.ok(l, `no layer ${name}`);
  return l!;
};

test("small: the GraphDef's ops as layers over its values (bias fused, pads folded, depthwise as a grouped kernel)", async () => {
  const model = await inspectFile(small);
  assert.equal(model.graph!.inputs, [{ name: "x", shape: [1, 8, 8, 3], dtype: "DT_FLOAT" }]);
  assert.equal(model.graph!.outputs, ["Identity"]);
  assert.equal(model.inputShape, [8, 8, 3]);
  const conv1 = byName(model, "conv1/Relu");
  assert.equal([conv1.kind, conv1.weight, conv1.weightLayout, conv1.bias, conv1.activation, conv1.inputs, conv1.outputs],
    ["conv2d", "conv1/weights", "hwio", "conv1/bias", "relu", ["prep/sub", "conv1/weights", "conv1/bias"], ["conv1/Relu"]]);
  const dw = byName(model, "dw/Relu6");
  assert.equal([dw.attributes!.groups, dw.attributes!.depthMultiplier, dw.attributes!.stride, dw.attributes!.autoPad], [4, 2, [2, 2], "same_upper"]);
  assert.equal(model.tensors.find((t) => t.name === "dw/weights")!.shape, [3, 3, 1, 8]);
  // The unfused BiasAdd after conv2 is its bias; the Pad before it is its padding.
  const conv2 = byName(model, "conv2/Conv2D");
  assert.equal([conv2.bias, conv2.inputs, conv2.outputs, conv2.attributes!.autoPad, conv2.attributes!.pads],
    ["conv2/bias", ["bn/add", "conv2/weights", "conv2/bias"], ["conv2/BiasAdd"], "notset", [1, 1, 1, 1]]);
  assert.ok(!model.layers.some((l) => l.name === "conv2/BiasAdd"), "the BiasAdd is fused");
  assert.equal(byName(model, "pad/Pad").inputs, undefined);
  // The folded BatchNorm stays constant Mul/Add ops (one to one), their constants distributions.
  assert.equal([byName(model, "bn/mul").attributes!.op, byName(model, "bn/mul").inputs], ["mul", ["pw/Conv2D", "bn/scale"]]);
  assert.equal(byName(model, "bn/scale").kind, "other");
  // ConcatV2's axis is an attribute; the channel Pad is a concat with zero channels.
  assert.equal([byName(model, "cat/concat").inputs, byName(model, "cat/concat").attributes!.axis], [["res/Relu", "dw/Relu6"], 3]);
  assert.equal(byName(model, "cpad/Pad").inputs, ["cat/concat", "cpad/Pad/zero_channels"]);
  assert.equal(model.graph!.shapes!["cpad/Pad/zero_channels"], [null, null, null, 4]);
  // MatMul with transpose_b: [out, in]; its BiasAdd fused.
  const fc2 = byName(model, "fc2/MatMul");
  assert.equal([fc2.kind, fc2.weightLayout, fc2.bias, fc2.outputs], ["dense", "out_in", "fc2/bias", ["fc2/BiasAdd"]]);
  // Shape arithmetic: int32 constants are skipped tensors with their values in the graph.
  assert.equal(model.graph!.constants!["flat/features"], { shape: [], values: [24] });
  assert.ok(model.skipped!.some((s) => s.name === "pad/paddings" && s.reason === "an integer constant"));
  assert.equal(byName(model, "flat/strided_slice").attributes, { op: "slice", starts: [0], ends: [1], axes: [0], steps: [1], tf: "StridedSlice" });
});

test("ops: Conv2DBackpropInput reads its data third and its filter as [kh, kw, out, in]; BatchMatMulV2 adj_y; Mean over the map a global pool", async () => {
  const model = await inspectFile(`${dir}/ops/model.json`);
  const up = byName(model, "up/conv2d_transpose");
  assert.equal([up.kind, up.weightLayout, up.inputs, up.outputs, up.bias, up.attributes!.stride, up.attributes!.autoPad, up.attributes!.outputShape],
    ["conv2d_transpose", "hwoi", ["image", "up/filter", "up/bias"], ["up/BiasAdd"], "up/bias", [2, 2], "same_upper", [10, 10]]);
  const prelu = byName(model, "conv/prelu");
  assert.equal([prelu.bias, prelu.attributes!.fusedActivation], ["conv/bias", "Prelu"]);
  assert.equal(byName(model, "conv/alpha").kind, "other");
  assert.equal(byName(model, "sum/AddN").attributes!.op, "sum");
  assert.equal(byName(model, "gap/Mean").attributes, { op: "global_pool", pool: "average", keepdims: 0, dataFormat: "channels_last", tf: "Mean" });
  const head = byName(model, "head/MatMul");
  assert.equal([head.kind, head.weightLayout, head.inputs], ["dense", "out_in", ["gap/Mean", "head/weights"]]);
});

test("weightless ops by the walk's names, their constant operands as attributes (a GraphDef with inline integer constants)", async () => {
  const int = (name: string, values: number[], shape = [values.length]) => ({ name, op: "Const", attr: { value: { tensor: { dtype: "DT_INT32", tensorShape: { dim: shape.map((d) => ({ size: String(d) })) }, intVal: values.map(String) } } } });
  const nodes = [
    { name: "x", op: "Placeholder", attr: { shape: { shape: { dim: [{ size: "1" }, { size: "4" }, { size: "4" }, { size: "8" }] } } } },
    int("size", [8, 8]), int("perm", [0, 3, 1, 2]), int("begin", [0, 0, 0, 2]), int("end", [0, 0, 0, 6]), int("strides", [1, 1, 1, 1]), int("axis", [3], []), int("split", [4, 4]),
    { name: "resize", op: "ResizeBilinear", input: ["x", "size"], attr: { align_corners: { b: false } } },
    { name: "d2s", op: "DepthToSpace", input: ["x"], attr: { block_size: { i: "2" } } },
    { name: "t", op: "Transpose", input: ["x", "perm"] },
    { name: "slice", op: "StridedSlice", input: ["x", "begin", "end", "strides"], attr: { begin_mask: { i: "7" }, end_mask: { i: "7" } } },
    { name: "halves", op: "SplitV", input: ["x", "split", "axis"], attr: { num_split: { i: "2" } } },
    { name: "sum", op: "AddV2", input: ["halves", "halves:1"] },
    { name: "odd", op: "SomethingNew", input: ["sum", "^t"] },
    { name: "max", op: "MaxPool", input: ["x"], attr: { ksize: { list: { i: ["1", "3", "3", "1"] } }, strides: { list: { i: ["1", "1", "1", "1"] } }, padding: { s: "SAME" } } },
  ];
  const json = new TextEncoder().encode(JSON.stringify({ format: "graph-model", modelTopology: { node: nodes }, weightsManifest: [] }));
  const model = await inspect(filesSource(new Map([["model.json", json]]), "model.json"));
  const a = (name: string) => byName(model, name).attributes;
  assert.equal(a("resize"), { op: "upsample", mode: "linear", outputSize: [8, 8], sizeInput: 1, dataFormat: "channels_last", tf: "ResizeBilinear" });
  assert.equal(a("d2s"), { op: "depth_to_space", blocksize: 2, dataFormat: "channels_last", tf: "DepthToSpace" });
  assert.equal(a("t"), { op: "transpose", perm: [0, 3, 1, 2], tf: "Transpose" });
  // Whole axes (begin_mask and end_mask bits, stride 1) select nothing and are left out of the slice.
  assert.equal(a("slice"), { op: "slice", starts: [2], ends: [6], axes: [3], steps: [1], tf: "StridedSlice" });
  assert.equal([a("halves"), byName(model, "halves").outputs], [{ op: "split", axis: 3, split: [4, 4], tf: "SplitV" }, ["halves", "halves:1"]]);
  assert.equal(byName(model, "sum").inputs, ["halves", "halves:1"]);
  assert.equal([a("odd"), byName(model, "odd").inputs], [{ op: "SomethingNew", tf: "SomethingNew" }, ["sum"]]);
  assert.equal(a("max"), { pool: "max", kernel: [3, 3], stride: [1, 1], autoPad: "same_upper", op: "pool", dataFormat: "channels_last", tf: "MaxPool" });
  assert.equal(model.graph!.constants!.axis, { shape: [], values: [3] });
  const report = await analyze(filesSource(new Map([["model.json", json]]), "model.json"));
  assert.ok(report.notes.some((n) => n.includes("'SomethingNew'")), report.notes.join(" | "));
});

test("a conv with a fused FusedBatchNorm (NCHW): the conv, then a norm layer; mean and variance are running statistics", async () => {
  const f = (name: string, shape: number[]) => ({ name, shape, dtype: "float32" });
  const weights = [f("w", [3, 3, 2, 4]), f("scale", [4]), f("offset", [4]), f("mean", [4]), f("variance", [4])];
  const constNode = (w: { name: string; shape: number[] }) => ({ name: w.name, op: "Const", attr: { value: { tensor: { dtype: "DT_FLOAT", tensorShape: { dim: w.shape.map((d) => ({ size: String(d) })) } } } } });
  const nodes = [
    { name: "x", op: "Placeholder", attr: { shape: { shape: { dim: [{ size: "1" }, { size: "2" }, { size: "6" }, { size: "6" }] } }, dtype: { type: "DT_FLOAT" } } },
    ...weights.map(constNode),
    { name: "conv", op: "_FusedConv2D", input: ["x", "w", "scale", "offset", "mean", "variance"], attr: {
      data_format: { s: btoa("NCHW") }, strides: { list: { i: ["1", "1", "2", "2"] } }, padding: { s: btoa("SAME") }, num_args: { i: "4" }, epsilon: { f: 0.001 },
      fused_ops: { list: { s: [btoa("FusedBatchNorm"), btoa("Relu")] } } } },
  ];
  const count = weights.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
  const bin = new Uint8Array(new Float32Array(Array.from({ length: count }, (_, i) => ((i * 37) % 11) / 10 - 0.5)).buffer);
  const json = new TextEncoder().encode(JSON.stringify({ format: "graph-model", modelTopology: { node: nodes }, weightsManifest: [{ paths: ["w.bin"], weights }] }));
  const files = () => filesSource(new Map([["model.json", json], ["w.bin", bin]]), "model.json");
  const model = await inspect(files());
  assert.is(model.dataFormat, "channels_first");
  const conv = byName(model, "conv");
  assert.equal([conv.kind, conv.bias, conv.activation, conv.outputs, conv.attributes!.stride, conv.attributes!.dataFormat], ["conv2d", undefined, "relu", ["conv/conv"], [2, 2], "channels_first"]);
  const norm = byName(model, "conv/batch_norm");
  assert.equal([norm.kind, norm.weight, norm.bias, norm.inputs, norm.outputs], ["norm", "scale", "offset", ["conv/conv", "scale", "offset"], ["conv"]]);
  assert.equal(model.skipped!.filter((t) => t.reason.startsWith("batch-norm")).map((t) => t.name), ["mean", "variance"]);
  const report = await analyze(files());
  assert.equal([report.coverage.weightedLayers, report.coverage.inStrengths], [1, 1], describe(report));
  assert.is(report.nodeLayers.find((l) => l.values.includes("conv"))!.size, 4 * 3 * 3);
});

test("nsfwjs mobilenet_v2_mid (graph model, uint8 in base64 shards): read from the bundle, quantized weights dequantized, its signature's output", async () => {
  const model = await inspectFile("node_modules/nsfwjs/dist/models/mobilenet_v2_mid/model.min.js");
  assert.is(model.metadata!.format, "graph-model");
  assert.is(model.metadata!.container, "browserify bundle (model.min.js) with base64 shards");
  assert.equal(model.graph!.outputs, ["Identity"]);
  assert.equal(model.graph!.inputs, [{ name: "input", shape: [null, 224, 224, 3], dtype: "DT_FLOAT" }]);
  const w = model.tensors.find((t) => t.name.endsWith("MobilenetV2/Conv/Conv2D_weights"))!;
  assert.equal([w.dtype, w.decode?.values?.kind], ["f32", "dequantize"]);
  // Depthwise filters [3, 3, c, 1] in their grouped form [3, 3, 1, c].
  assert.equal(model.tensors.find((t) => t.name.endsWith("expanded_conv/depthwise/depthwise_weights"))!.shape, [3, 3, 1, 48]);
});

test("@vladmandic/human models: other graph models of the package give reports; the plain CNNs are placed whole (float16 and float32 shards)", async () => {
  const root = "node_modules/@vladmandic/human/models";
  for (const name of ["antispoof", "liveness", "iris"]) {
    const report = await analyzeFile(`${root}/${name}.json`);
    assert.ok(report.coverage.weightedLayers > 0, name);
    assert.is(report.coverage.inStrengths, report.coverage.weightedLayers, `${name}: ${describe(report)}`);
  }
  // The detectors (GatherNd, a TF1 while loop, NMS) are placed whole too: tfjs-graph-sizes.test.ts checks their numbers.
  // Handtrack's box padding after NMS (a Slice by data sizes, a Pad to 100 boxes) stays unknown, with notes, and carries no weights.
  const handtrack = await analyzeFile(`${root}/handtrack.json`);
  assert.ok(handtrack.notes.length > 0 && handtrack.notes.every((n) => n.includes("PadOrClip")), handtrack.notes.join(" | "));
});

test.run();
