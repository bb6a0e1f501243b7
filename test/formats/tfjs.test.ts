// TF.js layers models: real models no one on this project wrote (@upscalerjs/default-model@1.0.0,
// nsfwjs@4.4.0, exact devDependencies) against float64 references read independently by numpy
// (test/fixtures/tfjs/make_tfjs_fixtures.py), Dense-chain fixtures with expected reports, and
// hostile model.json files.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rejects } from "../helpers/rejects.js";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { CntError } from "../../src/errors.js";
import { fileSource } from "../../src/node/file-source.js";
import { filesSource } from "../../src/source/files.js";
import { openTensorBytes, type StoredTensorInfo } from "../../src/source/tensor-bytes.js";
import { parseLiteral } from "../../src/formats/tfjs/literal.js";
import type { AnalyzeOptions } from "../../src/options.js";
import type { Distribution, Report } from "../../src/report/types.js";
import type { ByteSource } from "../../src/source/types.js";
import { assertClose } from "../helpers/close.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";

const fixtures = "test/fixtures/tfjs";
const upscaler = "node_modules/@upscalerjs/default-model/models/model.json";
const nsfw = "node_modules/nsfwjs/dist/models";


interface Reference {
  layers: [string, string][];
  tensors: Record<string, { shape: number[]; dist: Distribution & { histogram: { edges: number[] | null; counts: number[] } } }>;
  straddling?: string[];
}
const reference = (name: string) => JSON.parse(readFileSync(`${fixtures}/${name}`, "utf8")) as Reference;

function assertDist(actual: Distribution | null, expected: Reference["tensors"][string]["dist"], what: string): void {
  assert.ok(actual, `${what}: missing`);
  for (const k of ["count", "nan", "posInf", "negInf"] as const) assert.is(actual![k], expected[k], `${what}: ${k}`);
  for (const k of ["mean", "std", "min", "max"] as const) assertClose(actual![k], expected[k], 1e-9, `${what}: ${k}`);
  assert.equal(actual!.histogram.counts, expected.histogram.counts, `${what}: histogram counts`);
}

/** Every layer's weight and bias distribution against the reference; returns how many were compared. */
function compareWithReference(report: Report, ref: Reference): number {
  let compared = 0;
  for (const layer of report.layers) {
    for (const [d, name] of [[layer.linkWeights, layer.tensors.weight], [layer.bias, layer.tensors.bias]] as const) {
      if (!name) continue;
      assert.ok(ref.tensors[name], `no reference for ${name}`);
      assertDist(d, ref.tensors[name].dist, name);
      compared++;
    }
  }
  return compared;
}

// ------------------------------------------------------------------- @upscalerjs/default-model

test("upscaler: detected by content; 12 Conv2D layers with hwio kernels and their Keras attributes", async () => {
  const model = await inspect(await fileSource(upscaler));
  const json = JSON.parse(readFileSync(upscaler, "utf8"));
  const configs = new Map<string, { class_name: string; config: Record<string, unknown> }>(json.modelTopology.model_config.config.layers.map((l: { name: string }) => [l.name, l]));
  assert.is(model.format, "tfjs");
  assert.is(model.dataFormat, "channels_last");
  assert.is(model.metadata!.inputShape, "[null, null, 3]");
  // Config order, InputLayer left out (it is the input node layer).
  assert.equal(model.layers.map((l) => l.name), [...configs.keys()].filter((n) => configs.get(n)!.class_name !== "InputLayer"));
  const convs = model.layers.filter((l) => l.kind === "conv2d");
  assert.is(convs.length, 12);
  for (const layer of convs) {
    const c = configs.get(layer.name)!.config;
    assert.is(layer.weightLayout, "hwio");
    assert.is(layer.weight, `${layer.name}/kernel`);
    assert.is(layer.bias, `${layer.name}/bias`);
    const kernel = model.tensors.find((t) => t.name === layer.weight)!;
    assert.equal(kernel.shape.slice(0, 2), c.kernel_size);
    assert.is(kernel.shape[3], c.filters);
    assert.equal(layer.attributes!.stride, c.strides);
    assert.equal(layer.attributes!.dilation, c.dilation_rate);
    assert.is(layer.attributes!.groups, c.groups);
    assert.is(layer.attributes!.autoPad, c.padding === "same" ? "same_upper" : "valid");
    assert.is(layer.activation, c.activation);
    assert.is((kernel as StoredTensorInfo).file, "group1-shard1of1.bin");
  }
  const kinds = (cls: string) => model.layers.filter((l) => configs.get(l.name)!.class_name === cls).map((l) => [l.kind, l.attributes?.op, l.activation ?? null]);
  assert.equal(new Set(kinds("Activation").map(String)), new Set([["none", "activation", "relu"].map(String).join(",")]));
  assert.equal(kinds("Concatenate")[0].slice(0, 2), ["none", "concat"]);
  assert.equal(kinds("Add")[0].slice(0, 2), ["none", "add"]);
  assert.equal(kinds("UpSampling2D")[0].slice(0, 2), ["none", "upsample"]);
});

test("upscaler: link weights match the independent numpy reading of the shard (1e-9, histograms exact)", async () => {
  const ref = reference("upscaler.reference.json");
  const report = await analyze(await fileSource(upscaler), { inputShape: [16, 16, 3] });
  assert.is(compareWithReference(report, ref), 24);
  assert.is(report.source.bytes, 12_336);
});

test("upscaler: plain analyze() reads the f32 shard beside model.json (TensorInfo.file, no decoding)", async () => {
  const model = await inspect(await fileSource(upscaler));
  assert.ok(model.tensors.every((t) => (t as StoredTensorInfo).file === "group1-shard1of1.bin" && !(t as StoredTensorInfo).decode));
  const plain = await analyze(await fileSource(upscaler), { inputShape: [16, 16, 3] });
  assert.is(compareWithReference(plain, reference("upscaler.reference.json")), 24);
});

test("upscaler: the same report through filesSource (the browser path, Blobs)", async () => {
  const files = new Map<string, Blob>([
    ["model.json", new Blob([readFileSync(upscaler)])],
    ["group1-shard1of1.bin", new Blob([readFileSync(upscaler.replace("model.json", "group1-shard1of1.bin"))])],
  ]);
  const viaBlobs = await analyze(filesSource(files, "model.json"), { inputShape: [16, 16, 3] });
  const viaFile = await analyze(await fileSource(upscaler), { inputShape: [16, 16, 3] });
  assert.equal(viaBlobs.layers, viaFile.layers);
});

// ---------------------------------------------------------------------------------- nsfwjs

test("nsfwjs mobilenet_v2: the .min.js bundle is read as data, every weight uint8-dequantized", async () => {
  const model = await inspect(await fileSource(`${nsfw}/mobilenet_v2/model.min.js`));
  assert.is(model.format, "tfjs");
  assert.equal(model.inputShape, [224, 224, 3]);
  assert.match(model.metadata!.container, "browserify bundle");
  const first = model.tensors[0] as StoredTensorInfo;
  assert.equal(first.decode!.values, { kind: "dequantize", from: "uint8", scale: 0.006666756611244351, min: -0.87334511607301 });
  assert.is(first.decode!.parts![0].file, "group1-shard1of1.min.js");
  assert.is(first.decode!.parts![0].container!.kind, "base64");
  const count = (kind: string) => model.layers.filter((l) => l.kind === kind).length;
  assert.equal([count("conv2d"), count("norm"), count("dense")], [52, 52, 3]);
  // Depthwise: groups = c_in, the kernel described as the grouped [kh, kw, 1, c_in * mult].
  const dw = model.layers.find((l) => l.name === "expanded_conv_depthwise")!;
  assert.equal(dw.attributes, { stride: [1, 1], dilation: [1, 1], autoPad: "same_upper", groups: 32, depthMultiplier: 1, storedShape: [3, 3, 32, 1], dataFormat: "channels_last" });
  assert.equal(model.tensors.find((t) => t.name === dw.weight)!.shape, [3, 3, 1, 32]);
  const relu6 = model.layers.find((l) => l.name === "Conv1_relu")!;
  assert.equal([relu6.kind, relu6.activation, relu6.attributes!.maxValue], ["none", "relu", 6]);
  assert.equal(model.layers.find((l) => l.name === "Conv1_pad")!.attributes, { op: "pad", pads: [0, 0, 1, 1] });
  // BatchNorm running statistics: listed as skipped, not measured.
  assert.is(model.skipped!.length, 104);
  assert.ok(model.skipped!.every((s) => /moving_(mean|variance)$/.test(s.name) && s.reason.includes("running statistic")));
});

test("nsfwjs mobilenet_v2: dequantized link weights match an independent numpy dequantization", async () => {
  const ref = reference("nsfwjs-mobilenet_v2.reference.json");
  const report = await analyze(await fileSource(`${nsfw}/mobilenet_v2/model.min.js`));
  assert.is(compareWithReference(report, ref), 162);
  assert.ok(report.nodeLayers.length >= 2, "conv strengths start from the bundled input shape");
});

test("nsfwjs inception_v3: kernels that straddle two of its six base64 shards decode as numpy reads them", async () => {
  const ref = reference("nsfwjs-inception_v3.reference.json");
  const source = await fileSource(`${nsfw}/inception_v3/model.min.js`);
  const model = await inspect(await fileSource(`${nsfw}/inception_v3/model.min.js`));
  const straddling = model.tensors.filter((t) => ((t as StoredTensorInfo).decode?.parts?.length ?? 0) > 1);
  assert.equal(straddling.map((t) => t.name), ref.straddling);
  for (const tensor of straddling) {
    const bytes = await openTensorBytes(source, tensor);
    const values = new Float32Array(tensor.byteLength / 4);
    await bytes.readInto(0, new Uint8Array(values.buffer));
    await bytes.close();
    let sum = 0, min = Infinity, max = -Infinity;
    for (const v of values) {
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const mean = sum / values.length;
    let sq = 0;
    for (const v of values) sq += (v - mean) ** 2;
    const e = ref.tensors[tensor.name].dist;
    assert.equal([values.length, min, max], [e.count, e.min, e.max], tensor.name);
    assertClose(mean, e.mean, 1e-9, `${tensor.name} mean`);
    assertClose(Math.sqrt(sq / values.length), e.std, 1e-9, `${tensor.name} std`);
  }
  await source.close();
});

test("nsfwjs mobilenet_v2_mid is a TF.js graph model: read as one (test/formats/tfjs-graph-model.test.ts has its numbers)", async () => {
  const model = await inspect(await fileSource(`${nsfw}/mobilenet_v2_mid/model.min.js`));
  assert.is(model.metadata!.format, "graph-model");
});

// ------------------------------------------------------------------------ Dense-chain fixtures

for (const name of ["dense-f32", "dense-uint16", "dense-float16"]) {
  test(`${name}: a Keras Sequential Dense chain matches its float64 report, node strengths included`, async () => {
    const expected = JSON.parse(readFileSync(`${fixtures}/${name}.expected.json`, "utf8")) as ExpectedReport;
    const report = await analyze(await fileSource(`${fixtures}/${name}/model.json`), { perNode: true });
    assert.is(report.source.format, "tfjs");
    assert.is(report.nodeLayers.length, 4);
    assertMatchesExpected(report, expected, 1e-9);
  });
}

test("dense-f32: fc2/kernel straddles the two shards; layers are in_out with activations", async () => {
  const model = await inspect(await fileSource(`${fixtures}/dense-f32/model.json`));
  const fc2 = model.tensors.find((t) => t.name === "fc2/kernel") as StoredTensorInfo;
  assert.equal(fc2.decode!.parts, [
    { file: "group1-shard1of2.bin", offset: 576, length: 448 },
    { file: "group1-shard2of2.bin", offset: 0, length: 320 },
  ]);
  assert.equal(model.layers.map((l) => [l.name, l.kind, l.weightLayout, l.activation]), [
    ["fc1", "dense", "in_out", "relu"], ["fc2", "dense", "in_out", "relu"], ["fc3", "dense", "in_out", "linear"],
  ]);
  assert.equal(model.inputShape, [8]);
});

test("dense-f32: a kernel across two shard files is read piece by piece (one read each), in any blockBytes, to its float64 report", async () => {
  const expected = JSON.parse(readFileSync(`${fixtures}/dense-f32.expected.json`, "utf8")) as ExpectedReport;
  // fc2/kernel is 448 + 320 bytes: blocks of 192 or 320 bytes end inside its pieces (a block read would be cut in two at the file's end), 64 does not.
  for (const blockBytes of [64, 192, 320, 4096]) {
    const source = await fileSource(`${fixtures}/dense-f32/model.json`);
    const reads: [string, number, number][] = [];
    const spy: ByteSource = {
      ...source,
      sibling: async (name: string) => {
        const file = await source.sibling!(name);
        return { ...file, readInto: (offset: number, dest: Uint8Array) => (reads.push([name, offset, dest.byteLength]), file.readInto(offset, dest)) };
      },
    };
    const report = await analyze(spy, { perNode: true, blockBytes });
    assertMatchesExpected(report, expected, 1e-9);
    // fc2/kernel's pieces: shard 1 from byte 576, shard 2 from byte 0 (its held bytes are read once, in reads of at most blockBytes, none across a file's end).
    const fc2 = reads.filter(([name, offset]) => (name === "group1-shard1of2.bin" && offset >= 576 && offset < 1024) || (name === "group1-shard2of2.bin" && offset < 320));
    const sizes = (length: number) => Array.from({ length: Math.ceil(length / blockBytes) }, (_, i) => Math.min(blockBytes, length - i * blockBytes));
    assert.equal(fc2.map(([, , n]) => n), [...sizes(448), ...sizes(320)], `blockBytes ${blockBytes}: fc2/kernel read in its pieces`);
  }
});

test("dense-f32 through filesSource gives the file report", async () => {
  const files = new Map<string, Uint8Array>(["model.json", "group1-shard1of2.bin", "group1-shard2of2.bin"].map((f) => [f, readFileSync(`${fixtures}/dense-f32/${f}`)]));
  const a = await analyze(filesSource(files, "model.json"));
  const b = await analyze(await fileSource(`${fixtures}/dense-f32/model.json`));
  assert.equal(a.nodeLayers.map((n) => n.fluctuation), b.nodeLayers.map((n) => n.fluctuation));
});

test("openTensorBytes: a straddling, quantized or base64 tensor reads the same in any chunking, forwards and back", async () => {
  const cases: [string, string][] = [[`${fixtures}/dense-f32/model.json`, "fc2/kernel"], [`${fixtures}/dense-uint16/model.json`, "fc2/kernel"], [`${nsfw}/mobilenet_v2/model.min.js`, "Conv1/kernel"]];
  for (const [path, name] of cases) {
    const source = await fileSource(path);
    const model = await inspect(await fileSource(path));
    const tensor = model.tensors.find((t) => t.name === name)!;
    const bytes = await openTensorBytes(source, tensor);
    const whole = new Uint8Array(tensor.byteLength);
    await bytes.readInto(0, whole);
    for (const chunk of [1, 2, 3, 5, 4096]) {
      const got = new Uint8Array(tensor.byteLength);
      for (let at = 0; at < got.byteLength; at += chunk) await bytes.readInto(at, got.subarray(at, Math.min(got.byteLength, at + chunk)));
      assert.ok(Buffer.from(got).equals(Buffer.from(whole)), `${path} ${name} in chunks of ${chunk}`);
    }
    const tail = new Uint8Array(8);
    await bytes.readInto(tensor.byteLength - 8, tail);
    assert.ok(Buffer.from(tail).equals(Buffer.from(whole.subarray(-8))), "a read near the end, then back to the start");
    await rejects(() => bytes.readInto(tensor.byteLength - 4, new Uint8Array(8)), "TRUNCATED", "decoded bytes");
    await bytes.close();
    await source.close();
  }
});

test("recurrent layers: Keras LSTM/GRU/SimpleRNN tensors and gate orders; a reset_after GRU bias is split in two", async () => {
  const units = 3, nIn = 4;
  for (const [cls, gates, biasShape, kind, gateOrder] of [["LSTM", 4, [12], "lstm", "ifco"], ["GRU", 3, [2, 9], "gru", "zrh"], ["SimpleRNN", 1, [3], "rnn", undefined]] as const) {
    const weights = [
      { name: "r/kernel", shape: [nIn, gates * units], dtype: "float32" },
      { name: "r/recurrent_kernel", shape: [units, gates * units], dtype: "float32" },
      { name: "r/bias", shape: biasShape, dtype: "float32", quantization: { dtype: "uint8", scale: 1, min: 0 } },
    ];
    const kernelBytes = (nIn + units) * gates * units * 4;
    const biasCount = biasShape.reduce((a: number, b: number) => a * b, 1);
    const shard = new Uint8Array(kernelBytes + biasCount).map((_, i) => (i >= kernelBytes ? i - kernelBytes : 0));
    const json = modelJson([{ class_name: cls, config: { name: "r", units, go_backwards: true, batch_input_shape: [null, 5, nIn] } }], [{ paths: ["w.bin"], weights }]);
    const source = () => files(json, [["w.bin", shard]]);
    const model = await inspect(source());
    const layer = model.layers[0];
    assert.equal([layer.kind, layer.weight, layer.recurrentWeight, layer.weightLayout, layer.attributes!.hidden, layer.attributes!.gateOrder, layer.attributes!.direction], [kind, "r/kernel", "r/recurrent_kernel", "in_out", units, gateOrder, "reverse"]);
    const report = await analyze(source());
    if (cls === "GRU") {
      assert.equal([layer.bias, layer.recurrentBias, layer.attributes!.resetAfter], ["r/bias[input]", "r/bias[recurrent]", 1]);
      // Row 0 holds q = 0..8, row 1 q = 9..17 (scale 1, min 0).
      const t = report.layers[0];
      assert.equal([t.bias!.min, t.bias!.max], [0, 8]);
      assert.equal([t.recurrentBias!.min, t.recurrentBias!.max], [9, 17]);
    } else {
      assert.is(layer.bias, "r/bias");
      assert.is(report.layers[0].bias!.count, biasCount);
    }
  }
});

test("recurrent weights under their cell's scope, as tf.keras names them ('r/lstm_cell/kernel'), are read like 'r/kernel'", async () => {
  const units = 3, nIn = 4;
  for (const [cls, cell, gates] of [["LSTM", "lstm_cell", 4], ["GRU", "gru_cell", 3], ["SimpleRNN", "simple_rnn_cell", 1]] as const) {
    const weights = [
      { name: `r/${cell}/kernel`, shape: [nIn, gates * units], dtype: "float32" },
      { name: `r/${cell}/recurrent_kernel`, shape: [units, gates * units], dtype: "float32" },
    ];
    const json = modelJson([{ class_name: cls, config: { name: "r", units, reset_after: false, batch_input_shape: [null, 5, nIn] } }], [{ paths: ["w.bin"], weights }]);
    const model = await inspect(files(json, [["w.bin", new Uint8Array((nIn + units) * gates * units * 4)]]));
    assert.equal([model.layers[0].weight, model.layers[0].recurrentWeight], [`r/${cell}/kernel`, `r/${cell}/recurrent_kernel`], cls);
  }
});

// ------------------------------------------------------------------------------------ hostile

const dense = (name: string, extra: Record<string, unknown> = {}) => ({ class_name: "Dense", config: { name, units: 2, activation: "linear", use_bias: false, ...extra } });
function modelJson(layers: unknown[], manifest: unknown[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ format: "layers-model", modelTopology: { model_config: { class_name: "Sequential", config: { name: "m", layers } } }, weightsManifest: manifest }));
}
const oneKernel = (paths: string[], shape = [2, 2]) => [{ paths, weights: [{ name: "d/kernel", shape, dtype: "float32" }] }];
const files = (json: Uint8Array, extra: [string, Uint8Array][] = [["w.bin", new Uint8Array(16)]]) => filesSource(new Map<string, Uint8Array>([["model.json", json], ...extra]), "model.json");

test("hostile model.json: weight paths that leave the folder are UNSAFE_PATH and never opened", async () => {
  for (const [path, phrase] of [["../w.bin", "leaves the folder"], ["/etc/passwd", "absolute path"], ["https://example.com/w.bin", "URL"], ["a\\..\\w.bin", "backslash"], ["C:/w.bin", "drive letter"]]) {
    let opened = false;
    const source = files(modelJson([dense("d")], oneKernel([path])));
    const spy: ByteSource = { ...source, sibling: async (p: string) => ((opened = true), source.sibling!(p)) };
    await rejects(() => inspect(spy), "UNSAFE_PATH", phrase);
    assert.not.ok(opened, `${path} was opened`);
  }
  // Also from a file on disk, and before the shards' absence is noticed.
  await rejects(() => inspect(modelJson([dense("d")], oneKernel(["../../etc/passwd"]))), "UNSAFE_PATH", "leaves the folder");
});

test("hostile model.json: a manifest needing more bytes than the shards hold is TRUNCATED", async () => {
  await rejects(() => inspect(files(modelJson([dense("d")], oneKernel(["w.bin"], [4, 4])))), "TRUNCATED", "need 64 bytes, but its shards ('w.bin') hold 16");
});

test("hostile model.json: Lambda layers and class names carrying code are read as ops the walk does not know, never run; their notes escape the names", async () => {
  const lambda = { class_name: "Lambda", config: { name: "evil", function: ["4wEAAAAAAAAA...", null, null], function_type: "lambda" } };
  const withLambda = await inspect(files(modelJson([lambda], [])));
  assert.equal(withLambda.layers.map((l) => [l.name, l.kind, l.attributes?.op]), [["evil", "none", "lambda"]]);
  const code = { class_name: "__import__('os').system('touch /tmp/x')\u001b[2J", config: { name: "x" } };
  const model = await inspect(files(modelJson([code], [])));
  assert.equal(model.layers.map((l) => [l.name, l.kind, l.attributes?.op]), [["x", "none", "custom"]]);
  const proto = await inspect(files(modelJson([{ class_name: "constructor", config: { name: "p" } }], [])));
  assert.is(proto.layers[0].attributes?.className, "constructor");
  // In a chain after a Dense layer: a report, the Dense layer's weights, and a note naming the class, escaped.
  const report = await analyze(files(modelJson([dense("d"), code], oneKernel(["w.bin"]))));
  const note = report.notes.find((n) => n.includes("never resolved or run"));
  assert.ok(note && note.includes("\\x1b[2J") && !note.includes("\u001b"), report.notes.join(" | "));
  assert.is(report.layers.find((l) => l.name === "d")!.linkWeights!.count, 4);
});

test("hostile model.json: duplicate weights, missing kernels, bad dtypes, graph models", async () => {
  const twice = [{ paths: ["w.bin"], weights: [{ name: "d/kernel", shape: [2], dtype: "float32" }, { name: "d/kernel", shape: [2], dtype: "float32" }] }];
  await rejects(() => inspect(files(modelJson([dense("d")], twice))), "BAD_HEADER", "names 'd/kernel' twice");
  await rejects(() => inspect(files(modelJson([dense("e")], oneKernel(["w.bin"])))), "BAD_HEADER", "has no weight 'e/kernel'");
  const str = [{ paths: ["w.bin"], weights: [{ name: "d/kernel", shape: [2], dtype: "string" }] }];
  await rejects(() => inspect(files(modelJson([dense("d")], str))), "BAD_DTYPE", "float32, int32, bool and complex64");
  const negative = [{ paths: ["w.bin"], weights: [{ name: "d/kernel", shape: [2, -2], dtype: "float32" }] }];
  await rejects(() => inspect(files(modelJson([dense("d")], negative))), "BAD_SHAPE", "dim 1");
  const graph = new TextEncoder().encode(JSON.stringify({ format: "graph-model", modelTopology: { node: [] }, weightsManifest: [] }));
  await rejects(() => inspect(files(graph)), "BAD_HEADER", "modelTopology.node is empty");
  await rejects(() => inspect(new TextEncoder().encode('{"modelTopology": {"model_config": ')), "BAD_HEADER", "not valid JSON");
});

test("a model.json given as bytes alone cannot reach its shards: BAD_OPTION saying how to open it", async () => {
  await rejects(() => inspect(modelJson([dense("d")], oneKernel(["w.bin"]))), "BAD_OPTION", "filesSource()");
  await rejects(() => inspect(files(modelJson([dense("d")], oneKernel(["missing.bin"])))), "TRUNCATED", "'missing.bin'");
});

test("hostile bundles: code inside or after the literal is BAD_HEADER, never run", async () => {
  const wrap = (literal: string, closing = "},{}]},{},[1])(1)});") =>
    new TextEncoder().encode(`!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();else{}}(function(){return function e(){}}()({1:[function(e,a,n){a.exports=${literal}${closing}`);
  await rejects(() => inspect(wrap('{modelTopology:require("fs"),weightsManifest:[]}')), "BAD_HEADER", "code is never run");
  await rejects(() => inspect(wrap("{modelTopology:{},weightsManifest:[]}", ';process.exit(1)},{}]},{},[1])(1)});')), "BAD_HEADER", "wrapper's closing");
  await rejects(() => inspect(wrap("{modelTopology:{},weightsManifest:[]}", "},{}]},{},[1])(1)});")), "UNSUPPORTED_LAYER", "model's class is missing");
});

test("hostile base64 shard: a character outside base64 is BAD_HEADER when read", async () => {
  const model = modelJsonBundle([dense("d")], [{ paths: ["s"], weights: [{ name: "d/kernel", shape: [2, 2], dtype: "float32", quantization: { dtype: "uint8", scale: 0.5, min: -1 } }] }]);
  const shard = (b64: string) => new TextEncoder().encode(`!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();}({1:[function(e,a,n){a.exports="${b64}"},{}]},{},[1])(1)});`);
  const good = await analyze(filesSource(new Map([["model.min.js", model], ["s.min.js", shard("AAEC/w==")]]), "model.min.js"));
  // q = [0, 1, 2, 255] -> q * 0.5 - 1
  assert.equal([good.layers[0].linkWeights!.min, good.layers[0].linkWeights!.max], [-1, 126.5]);
  await rejects(() => analyze(filesSource(new Map([["model.min.js", model], ["s.min.js", shard("AA*C/w==")]]), "model.min.js")), "BAD_HEADER", "not base64");
});

function modelJsonBundle(layers: unknown[], manifest: unknown[]): Uint8Array {
  const literal = JSON.stringify({ modelTopology: { model_config: { class_name: "Sequential", config: { name: "m", layers } } }, weightsManifest: manifest }).replace(/"(\w+)":/g, "$1:");
  return new TextEncoder().encode(`!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();}({1:[function(e,a,n){a.exports=${literal}},{}]},{},[1])(1)});`);
}

test("the bundle literal grammar: minified data only", () => {
  const { value } = parseLiteral('{a:!0,b:!1,c:.5,d:-.25,e:1e-7,"f g":[1,"x\\u0041",null,void 0],__proto__:1,}', 0);
  const v = value as Record<string, unknown>;
  assert.equal([v.a, v.b, v.c, v.d, v.e, v.f_g], [true, false, 0.5, -0.25, 1e-7, undefined]);
  assert.equal(v["f g"], [1, "xA", null, null]);
  assert.is(Object.getPrototypeOf(v), null);
  assert.is(v.__proto__, 1);
  for (const bad of ["{a:b}", "{a:1,a:2}", "{a:function(){}}", "[1,", "{a:`x`}", "[".repeat(300) + "]".repeat(300)]) {
    assert.throws(() => parseLiteral(bad, 0), undefined, bad);
  }
});

test("model.json is detected by content: its first key, not its name", async () => {
  const { detect } = await import("../../src/formats/tfjs/read.js");
  const bytes = (s: string) => new TextEncoder().encode(s);
  assert.ok(detect(bytes('{"format": "layers-model", "generatedBy": "keras"')));
  assert.ok(detect(bytes('  {"modelTopology": {"class_name": "Sequential"')));
  assert.not.ok(detect(bytes('{"_name_or_path": "bert", "architectures": ["BertModel"]}')));
  assert.not.ok(detect(bytes("[1, 2, 3]")));
});

test.run();
