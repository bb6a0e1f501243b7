// TF.js layers models whose Keras config is a Functional graph: inbound_nodes become the layers'
// inputs and outputs (Keras 2 and Keras 3 forms, shared layers, nested models). Numbers are
// checked against float64 references written by hand in numpy and torch
// (test/fixtures/tfjs/make_tfjs_graph_fixtures.py), following test/fixtures/graph/CONVENTIONS.md:
// a small Functional model written there, and @upscalerjs/default-model (Conv2D, Concatenate,
// Add, UpSampling2D), a model no one on this project wrote. Compared to 1e-9 relative; the errors
// reached are about 2e-16 (small Functional) and 2e-14 (upscaler, conv maps summed in f64).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertToCnt } from "../../src/convert.js";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import { analyzeFile, inspectFile } from "../../src/node/index.js";
import { filesSource } from "../../src/source/files.js";
import type { LayerInfo, ModelInfo } from "../../src/model/types.js";
import type { NodeLayerReport, Report } from "../../src/report/types.js";
import { assertClose } from "../helpers/close.js";
import { checkReport, describe, expectedFixtures, findLayer } from "../helpers/graph-expected.js";
import { rejects } from "../helpers/rejects.js";

const dir = "test/fixtures/tfjs/graph";
const upscaler = "node_modules/@upscalerjs/default-model/models/model.json";
const nsfw = "node_modules/nsfwjs/dist/models";

const fixtures = expectedFixtures(dir);

for (const { name, path, expected } of fixtures) {
  test(`${name}: node layers follow the Functional graph and match the float64 reference (1e-9)`, async () => {
    const report = await analyzeFile(path, { perNode: true, ...expected.options });
    assert.is(report.source.format, "tfjs");
    checkReport(report, expected, name);
  });
}

for (const { name, path, expected } of fixtures) {
  test(`${name}: the same report after convert to .cnt (the graph is kept)`, async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of convertToCnt(await fileSource(path), { name })) chunks.push(c);
    const report = await analyze(new Uint8Array(Buffer.concat(chunks)), { perNode: true, name: `${name}.cnt`, ...expected.options });
    checkReport(report, expected, `${name}.cnt`);
  });
}

const wiring = (model: ModelInfo) => model.layers.map((l) => [l.name, l.inputs ?? null, l.outputs ?? null]);
const byName = (model: ModelInfo, name: string) => model.layers.find((l) => l.name === name)!;

// ------------------------------------------------------------------------- the small Functional

test("functional: inbound_nodes become inputs (data first, then weights) and outputs; the shared Dense is two layers", async () => {
  const model = await inspectFile(`${dir}/functional/model.json`);
  assert.equal(model.graph, { inputs: [{ name: "x", shape: [null, 6], dtype: "float32" }], outputs: ["head"] });
  const w = (l: string) => [`${l}/kernel`, `${l}/bias`];
  assert.equal(wiring(model), [
    ["d0", ["x", ...w("d0")], ["d0"]],
    ["branch_a", ["d0", ...w("branch_a")], ["branch_a"]],
    ["branch_b", ["d0", ...w("branch_b")], ["branch_b"]],
    ["add", ["branch_a", "d0"], ["add"]],
    ["add_relu", ["add"], ["add_relu"]],
    ["shared", ["add_relu", ...w("shared")], ["shared"]],
    ["shared#1", ["branch_b", ...w("shared")], ["shared#1"]],
    ["cat", ["shared", "shared#1", "branch_b"], ["cat"]],
    ["head", ["cat", ...w("head")], ["head"]],
  ]);
  // The second call reads the same tensors: one weight, two layers.
  const [a, b] = [byName(model, "shared"), byName(model, "shared#1")];
  assert.equal([a.kind, a.weight, a.bias, a.activation], [b.kind, b.weight, b.bias, b.activation]);
  assert.is(model.tensors.filter((t) => t.name === "shared/kernel").length, 1);
});

test("functional: the Keras 3 config ({args, kwargs} nodes, keras tensors, single-triple input/output layers) gives the same graph", async () => {
  const k2 = await inspectFile(`${dir}/functional/model.json`);
  const k3 = await inspectFile(`${dir}/functional/model-keras3.json`);
  assert.equal(wiring(k3), wiring(k2));
  assert.equal(k3.graph, k2.graph);
  assert.equal(k3.layers.map((l) => [l.kind, l.activation ?? null, l.attributes ?? null]), k2.layers.map((l) => [l.kind, l.activation ?? null, l.attributes ?? null]));
});

test("functional: the report lists every call as a layer with its values, and the shared kernel's distribution twice the same", async () => {
  const report = await analyzeFile(`${dir}/functional/model.json`);
  const [a, b] = ["shared", "shared#1"].map((n) => report.layers.find((l) => l.name === n)!);
  assert.equal(a.linkWeights, b.linkWeights);
  assert.equal([a.inputs, a.outputs, b.inputs, b.outputs], [["add_relu", "shared/kernel", "shared/bias"], ["shared"], ["branch_b", "shared/kernel", "shared/bias"], ["shared#1"]]);
  assert.ok(findLayer(report, "cat")!.values.includes("shared#1"), "the second call's output joins the concat");
  assert.equal(report.notes, []);
});

// ------------------------------------------------------------------------------ the upscaler

test("upscaler: the config's data flow; convs channels-last; the graph input is LR [null, null, null, 3]", async () => {
  const model = await inspectFile(upscaler);
  assert.equal(model.graph, { inputs: [{ name: "LR", shape: [null, null, null, 3], dtype: "float32" }], outputs: ["SR"] });
  assert.equal(byName(model, "LRL_1").inputs, ["LFF_1", "F_0"]);
  assert.equal(byName(model, "RDB_Concat_1_1").inputs, ["F_0", "F_1_1_Relu"]);
  assert.equal(byName(model, "RDB_Concat_1_1").attributes, { op: "concat", axis: 3 });
  assert.equal(byName(model, "FDF").inputs, ["GFF_2", "F_m1"]);
  assert.equal(byName(model, "SR").inputs, ["UPsample", "SR/kernel", "SR/bias"]);
  assert.equal(byName(model, "UPsample").attributes, { op: "upsample", size: [2, 2], interpolation: "nearest", dataFormat: "channels_last" });
  for (const l of model.layers.filter((l) => l.kind === "conv2d")) assert.is(l.attributes!.dataFormat, "channels_last", l.name);
  assert.is(model.layers.length, 23); // the config's 24 layers but the InputLayer
});

test("upscaler without inputShape: still a report, with every distribution and a note saying to pass inputShape", async () => {
  const report = await analyzeFile(upscaler);
  assert.is(report.layers.filter((l) => l.linkWeights).length, 12);
  assert.is(report.coverage.weightedLayers, 12);
  assert.ok(report.notes.some((n) => n.includes("inputShape")), report.notes.join(" | "));
});

// ------------------------------------------------------------------- nsfwjs (Keras 2.2.4 "Model")

test("nsfwjs mobilenet_v2: ZeroPadding before a valid conv becomes the conv's pads; every weighted layer placed", async () => {
  const path = `${nsfw}/mobilenet_v2/model.min.js`;
  const model = await inspectFile(path);
  const conv1 = byName(model, "Conv1");
  assert.equal([conv1.inputs![0], conv1.attributes!.autoPad, conv1.attributes!.pads], ["input_1", "notset", [0, 0, 1, 1]]);
  const pad = byName(model, "Conv1_pad");
  assert.equal([pad.inputs, pad.outputs, pad.attributes], [undefined, undefined, { op: "pad", pads: [0, 0, 1, 1] }]);
  // A depthwise conv too: block_1_pad pads [[0, 1], [0, 1]] = [top 0, left 0, bottom 1, right 1].
  const dw = byName(model, "block_1_depthwise");
  assert.equal([dw.inputs![0], dw.attributes!.autoPad, dw.attributes!.pads], ["block_1_expand_relu", "notset", [0, 0, 1, 1]]);
  assert.equal(byName(model, "block_2_add").inputs, ["block_1_project_BN", "block_2_project_BN"]);
  const report = await analyzeFile(path);
  assert.is(report.coverage.weightedLayers, 55);
  assert.is(report.coverage.inStrengths, 55, describe(report));
  assert.equal(report.notes, []);
  // Input 224 x 224 x 3, Conv1 stride 2 with pads [0, 0, 1, 1]: 112 x 112 x 32 nodes.
  assert.is(findLayer(report, "Conv1")!.size, 112 * 112 * 32);
});

test("nsfwjs inception_v3: Concatenate-heavy graph, every weighted layer placed", async () => {
  const report = await analyzeFile(`${nsfw}/inception_v3/model.min.js`);
  assert.is(report.coverage.weightedLayers, 97);
  assert.is(report.coverage.inStrengths, 97, describe(report));
});

// ------------------------------------------------------------------- configs written in the test

interface W { name: string; shape: number[]; value?: (i: number) => number }
/** A model.json with one float32 shard; weights filled by `value` (default 0.5). */
function source(modelConfig: unknown, weights: W[]) {
  const manifest = [{ paths: ["w.bin"], weights: weights.map(({ name, shape }) => ({ name, shape, dtype: "float32" })) }];
  const values = weights.flatMap((w) => Array.from({ length: w.shape.reduce((a, b) => a * b, 1) }, (_, i) => (w.value ?? (() => 0.5))(i)));
  const json = new TextEncoder().encode(JSON.stringify({ format: "layers-model", modelTopology: { model_config: modelConfig }, weightsManifest: manifest }));
  return filesSource(new Map<string, Uint8Array>([["model.json", json], ["w.bin", new Uint8Array(new Float32Array(values).buffer)]]), "model.json");
}
const input = (name: string, shape: (number | null)[]) => ({ class_name: "InputLayer", name, config: { name, batch_input_shape: shape, dtype: "float32" }, inbound_nodes: [] });
const node = (...refs: [string, number][]) => refs.map(([l, k]) => [l, k, 0, {}]);
const dense = (name: string, units: number, ...calls: [string, number][][]) => ({ class_name: "Dense", name, config: { name, units, activation: "linear", use_bias: true }, inbound_nodes: calls.map((c) => node(...c)) });
const functional = (layers: unknown[], inputs: string[], outputs: [string, number][]) => ({ class_name: "Functional", config: { name: "m", layers, input_layers: inputs.map((i) => [i, 0, 0]), output_layers: outputs.map(([l, k]) => [l, k, 0]) } });
const denseWeights = (name: string, nIn: number, nOut: number, value?: (i: number) => number): W[] => [{ name: `${name}/kernel`, shape: [nIn, nOut], value }, { name: `${name}/bias`, shape: [nOut], value: () => 0 }];

test("a shared layer listed before the layer its second call reads; Multiply of two data values", async () => {
  const config = functional([
    input("in", [null, 4]),
    dense("a", 4, [["in", 0]]),
    dense("shared", 4, [["a", 0]], [["b", 0]]),
    dense("b", 4, [["shared", 0]]),
    { class_name: "Multiply", name: "mul", config: { name: "mul" }, inbound_nodes: [node(["shared", 1], ["a", 0])] },
  ], ["in"], [["mul", 0]]);
  const weights = [...denseWeights("a", 4, 4), ...denseWeights("shared", 4, 4), ...denseWeights("b", 4, 4)];
  const model = await inspect(source(config, weights));
  assert.equal(wiring(model).map(([n, i]) => [n, (i as string[] | null)?.[0]]), [["a", "in"], ["shared", "a"], ["b", "shared"], ["shared#1", "b"], ["mul", "shared#1"]]);
  assert.equal(byName(model, "mul").inputs, ["shared#1", "a"]);
  const report = await analyze(source(config, weights));
  assert.is(report.coverage.inStrengths, 4, describe(report));
  // Weights 0.5: a's nodes send 4 x 0.5 to shared plus 1 unit link into mul (a is also a skip operand).
  const a = findLayer(report, "a")!;
  assertClose(a.strengthOut.mean, 3, 1e-12, "a s_out");
  assertClose(a.strengthIn.mean, 2, 1e-12, "a s_in");
});

test("nested models: a Sequential and a Functional inside a Functional, the Functional called twice (Keras numbers its calls from 1)", async () => {
  const inner = {
    class_name: "Functional", name: "enc", config: {
      name: "enc", layers: [input("enc_in", [null, 3]), dense("e1", 2, [["enc_in", 0]])], input_layers: [["enc_in", 0, 0]], output_layers: [["e1", 0, 0]],
    },
    // Keras 2: node 0 of a nested model links its own input to its output and is left out; its calls are nodes 1 and 2.
    inbound_nodes: [node(["x", 0]), node(["y", 0])],
  };
  const seq = { class_name: "Sequential", name: "head", config: { name: "head", layers: [{ class_name: "Dense", config: { name: "h1", units: 1, activation: "linear", use_bias: false } }] }, inbound_nodes: [node(["cat", 0])] };
  const config = functional([
    input("x", [null, 3]), input("y", [null, 3]), inner,
    { class_name: "Concatenate", name: "cat", config: { name: "cat", axis: -1 }, inbound_nodes: [node(["enc", 1], ["enc", 2])] },
    seq,
  ], ["x", "y"], [["head", 1]]);
  const weights = [...denseWeights("e1", 3, 2), { name: "h1/kernel", shape: [4, 1] }];
  const model = await inspect(source(config, weights));
  assert.equal(model.graph!.inputs.map((i) => i.name), ["x", "y"]);
  assert.equal(wiring(model), [
    ["e1", ["x", "e1/kernel", "e1/bias"], ["e1"]],
    ["enc#1/e1", ["y", "e1/kernel", "e1/bias"], ["enc#1/e1"]],
    ["cat", ["e1", "enc#1/e1"], ["cat"]],
    ["h1", ["cat", "h1/kernel"], ["h1"]],
  ]);
  assert.equal(model.graph!.outputs, ["h1"]);
  const report = await analyze(source(config, weights));
  assert.is(report.coverage.weightedLayers, 3);
  assert.is(report.coverage.inStrengths, 3, describe(report));
  // cat's 4 nodes: s_in = 3 x 0.5 (e1's columns), s_out = 0.5 (h1's rows).
  const cat = findLayer(report, "cat")!;
  assert.equal([cat.size, cat.strengthIn.mean, cat.strengthOut.mean], [4, 1.5, 0.5]);
});

test("Keras 3 nodes: keras tensors in args and kwargs, a mask kwarg is not data; nested keras_history with dicts", async () => {
  const kt = (layer: string, k = 0) => ({ class_name: "__keras_tensor__", config: { shape: [null, 2], dtype: "float32", keras_history: [layer, k, 0] } });
  const config = {
    module: "keras.src.models.functional", class_name: "Functional", config: {
      name: "m", layers: [
        { module: "keras.layers", class_name: "InputLayer", name: "p", config: { name: "p", batch_shape: [null, 2], dtype: "float32" }, inbound_nodes: [] },
        { module: "keras.layers", class_name: "InputLayer", name: "q", config: { name: "q", batch_shape: [null, 2], dtype: { module: "keras", class_name: "DTypePolicy", config: { name: "float32" } } }, inbound_nodes: [] },
        { module: "keras.layers", class_name: "Dense", name: "d", config: { name: "d", units: 2 }, inbound_nodes: [{ args: [kt("p")], kwargs: { mask: kt("q") } }] },
        { module: "keras.layers", class_name: "Subtract", name: "sub", config: { name: "sub" }, inbound_nodes: [{ args: [[kt("d"), kt("q")]], kwargs: {} }] },
      ],
      input_layers: { first: ["p", 0, 0], second: ["q", 0, 0] }, output_layers: ["sub", 0, 0],
    },
  };
  const model = await inspect(source(config, denseWeights("d", 2, 2)));
  assert.equal(model.graph, { inputs: [{ name: "p", shape: [null, 2], dtype: "float32" }, { name: "q", shape: [null, 2], dtype: "float32" }], outputs: ["sub"] });
  assert.equal(byName(model, "d").inputs, ["p", "d/kernel", "d/bias"]);
  assert.equal(byName(model, "sub").inputs, ["d", "q"]);
  assert.equal(byName(model, "sub").attributes, { op: "subtract" });
});

test("layer attributes the graph reads: dataFormat, global pool keepdims, Permute perm, Flatten order", async () => {
  const layer = (class_name: string, config: Record<string, unknown>, from: string) => ({ class_name, name: config.name, config, inbound_nodes: [node([from, 0])] });
  const config = functional([
    input("img", [null, 8, 8, 2]),
    layer("Conv2D", { name: "c", filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: "same", activation: "relu" }, "img"),
    layer("MaxPooling2D", { name: "p", pool_size: [2, 2] }, "c"),
    layer("Permute", { name: "perm", dims: [2, 1, 3] }, "p"),
    layer("GlobalAveragePooling2D", { name: "g", data_format: "channels_last" }, "perm"),
    layer("GlobalMaxPooling2D", { name: "gk", keepdims: true }, "perm"),
    layer("Flatten", { name: "f" }, "gk"),
    { class_name: "Add", name: "sum", config: { name: "sum" }, inbound_nodes: [node(["g", 0], ["f", 0])] },
  ], ["img"], [["sum", 0]]);
  const model = await inspect(source(config, [{ name: "c/kernel", shape: [3, 3, 2, 2] }, { name: "c/bias", shape: [2] }]));
  assert.is(byName(model, "c").attributes!.dataFormat, "channels_last");
  assert.equal(byName(model, "p").attributes, { op: "pool", pool: "max", kernel: [2, 2], stride: [2, 2], autoPad: "valid", pads: [0, 0, 0, 0], dataFormat: "channels_last" });
  assert.equal(byName(model, "perm").attributes, { op: "permute", perm: [0, 2, 1, 3] });
  assert.equal(byName(model, "g").attributes, { op: "global_pool", pool: "average", dataFormat: "channels_last", keepdims: 0 });
  assert.equal(byName(model, "gk").attributes, { op: "global_pool", pool: "max", dataFormat: "channels_last", keepdims: 1 });
  assert.equal(byName(model, "f").attributes, { op: "flatten", dataFormat: "channels_last" });
  assert.equal(model.dataFormat, "channels_last");
  const report = await analyze(source(config, [{ name: "c/kernel", shape: [3, 3, 2, 2] }, { name: "c/bias", shape: [2] }]));
  assert.is(report.coverage.inStrengths, 1, describe(report));
});

test("a Sequential config stays a chain: no inputs on any layer, no graph", async () => {
  const model = await inspectFile("test/fixtures/tfjs/dense-f32/model.json");
  assert.ok(model.layers.every((l: LayerInfo) => l.inputs === undefined && l.outputs === undefined));
  assert.is(model.graph, undefined);
});

test("hostile Functional configs: a tensor no layer gives, a cycle, a malformed node: BAD_HEADER", async () => {
  const w = denseWeights("a", 2, 2);
  await rejects(() => inspect(source(functional([input("in", [null, 2]), dense("a", 2, [["nowhere", 0]])], ["in"], [["a", 0]]), w)), "BAD_HEADER", "which no layer of the model gives");
  const cycle = functional([input("in", [null, 2]), dense("a", 2, [["b", 0]]), dense("b", 2, [["a", 0]])], ["in"], [["b", 0]]);
  await rejects(() => inspect(source(cycle, [...w, ...denseWeights("b", 2, 2)])), "BAD_HEADER", "form a cycle");
  const bad = functional([input("in", [null, 2]), { ...dense("a", 2), inbound_nodes: [[["in", "zero", 0, {}]]] }], ["in"], [["a", 0]]);
  await rejects(() => inspect(source(bad, w)), "BAD_HEADER", "is not [layer, node, tensor]");
  const noOutput = functional([input("in", [null, 2]), dense("a", 2, [["in", 0]])], ["in"], [["a", 3]]);
  await rejects(() => inspect(source(noOutput, w)), "BAD_HEADER", "is not a tensor of its layers");
});

test.run();
