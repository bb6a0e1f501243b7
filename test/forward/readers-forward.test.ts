// What the readers keep for the forward pass (batch-norm running statistics, epsilon, axis, norm
// kind, Rescaling and Normalization, ConstantOfShape's value, Cast's target, TF Fill/Cast/BiasAdd/
// FusedBatchNorm facts), run through analyze() or the runners against float64 references written by
// test/fixtures/forward/make_readers.py (numpy for the Keras model and the TF graph, torch 1.13 for
// the ONNX export); and the weight-only reports of both models as main made them before the readers
// kept these facts (test/fixtures/forward/make_readers_weights.ts, run on main at f227bb6).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/index.js";
import { convertToCnt } from "../../src/convert.js";
import { filesSource } from "../../src/entry/node-core.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import type { NeuronDistribution } from "../../src/forward/collect.js";
import type { Report } from "../../src/report/types.js";
import { runModel } from "./_onnx-net.js";
import * as b from "../helpers/tfjs-graph-builder.js";
import * as w from "../formats/onnx-wire.js";

interface Stats { count: number; mean: number; std: number; min: number; max: number; perNodeMean: number[]; perNodeStd: number[] }
interface Case { input: { shape: number[]; data: number[] }; values: Record<string, Stats> }
type T = { shape: number[]; data: number[] };

const dir = new URL("../fixtures/forward/readers/", import.meta.url);
const at = (name: string) => readFileSync(new URL(name, dir));
const expected = JSON.parse(at("readers.expected.json").toString("utf8")) as { "keras-bn": Case; "expand-gn": Case; "tf-graph": Record<string, T>; "onnx-norms": Record<string, T>; "keras-npz": Case };
const weightsBefore = JSON.parse(at("weights.expected.json").toString("utf8")) as Record<string, unknown>;
const memory = await LinearMemory.create();

const kerasModel = () => filesSource(new Map([["model.json", at("keras-bn/model.json")], ["group1-shard1of1.bin", at("keras-bn/group1-shard1of1.bin")]]), "model.json");
const onnxModel = () => new Uint8Array(at("expand-gn.onnx"));
const inputsOf = (c: Case) => ({ data: Float32Array.from(c.input.data), shape: c.input.shape });

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-6, `${what}: ${got} vs ${want}`);
}

function matches(got: { count: number; mean: number | null; std: number | null; min: number | null; max: number | null }, perNode: { mean: ArrayLike<number>; std: ArrayLike<number> }, want: Stats, what: string): void {
  assert.is(got.count, want.count, `${what} count`);
  close(got.mean!, want.mean, `${what} mean`);
  close(got.std!, want.std, `${what} std`);
  close(got.min!, want.min, `${what} min`);
  close(got.max!, want.max, `${what} max`);
  assert.is(perNode.mean.length, want.perNodeMean.length, `${what} nodes`);
  want.perNodeMean.forEach((m, j) => close(perNode.mean[j], m, `${what} mean of node ${j}`));
  want.perNodeStd.forEach((s, j) => close(perNode.std[j], s, `${what} std of node ${j}`));
}

/** Every node layer after the input has z and a, each a value of the reference, and they agree with it. */
function assertDataMetrics(report: Report, c: Case, layers: string[]): void {
  assert.equal(report.nodeLayers.map((n) => n.after), ["input", ...layers]);
  for (const n of report.nodeLayers.slice(1)) {
    for (const key of ["neuronStrength", "neuronActivation"] as const) {
      const d = n[key] as NeuronDistribution | undefined;
      assert.ok(d, `${n.after} has ${key}`);
      const want = c.values[d!.value];
      assert.ok(want, `${n.after} ${key} measures ${d!.value}, a value of the reference`);
      matches(d!, d!.perNode!, want, `${n.after} ${key} (${d!.value})`);
    }
  }
}

const plain = (r: Report) => JSON.parse(JSON.stringify(r));

test("Keras BatchNormalization (TF.js layers): the running statistics are named by the norm, kept among the tensors, still skipped and not layers", async () => {
  const model = await inspect(kerasModel());
  const bn = model.layers.find((l) => l.name === "batch_normalization")!;
  assert.equal(bn.attributes, { op: "batch_norm", mean: "batch_normalization/moving_mean", variance: "batch_normalization/moving_variance", epsilon: 0.001, axis: -1 });
  assert.equal(model.layers.find((l) => l.name === "batch_normalization_1")!.attributes, { op: "batch_norm", mean: "batch_normalization_1/moving_mean", variance: "batch_normalization_1/moving_variance", epsilon: 0.01, axis: -1 });
  assert.equal(model.layers.find((l) => l.name === "layer_normalization")!.attributes, { op: "layer_norm", epsilon: 0.001, axis: -1 });
  assert.equal(model.layers.find((l) => l.name === "rescaling")!.attributes, { op: "rescale", scale: 0.5, offset: 0.1 });
  assert.equal(model.layers.find((l) => l.name === "normalization")!.attributes, { op: "rescale", mean: "normalization/mean", variance: "normalization/variance", axis: -1 });
  const stats = ["batch_normalization/moving_mean", "batch_normalization/moving_variance", "batch_normalization_1/moving_mean", "batch_normalization_1/moving_variance"];
  for (const s of stats) {
    assert.ok(model.tensors.some((t) => t.name === s), `${s} is a tensor`);
    assert.ok(model.skipped!.some((t) => t.name === s && /running statistic/.test(t.reason)), `${s} is skipped`);
    assert.not.ok(model.layers.some((l) => l.weight === s || l.bias === s), `${s} is no layer's weight`);
  }
});

test("Keras BatchNormalization, LayerNormalization, Rescaling, Normalization (TF.js layers): z and a of every node layer through analyze() against numpy float64", async () => {
  const c = expected["keras-bn"];
  const report = await analyze(kerasModel(), { inputs: inputsOf(c), perNode: true, batch: 3 });
  assert.is(report.data!.samples, 7);
  assertDataMetrics(report, c, ["conv2d", "dense", "dense_1", "dense_2"]);
  assert.is((report.nodeLayers[1].neuronStrength as NeuronDistribution).value, "batch_normalization");
});

test("Keras model: the weight-only report is the one made before the readers kept the forward pass's facts", async () => {
  assert.equal(plain(await analyze(kerasModel())), weightsBefore["keras-bn"]);
});

test("Keras model converted to .cnt: the norms' attributes and statistics go with it, and z and a are the same", async () => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of convertToCnt(kerasModel())) chunks.push(chunk);
  const cnt = new Blob(chunks);
  const model = await inspect(cnt);
  assert.is(model.layers.find((l) => l.name === "batch_normalization")!.attributes!.mean, "batch_normalization/moving_mean");
  const c = expected["keras-bn"];
  assertDataMetrics(await analyze(cnt, { inputs: inputsOf(c), perNode: true }), c, ["conv2d", "dense", "dense_1", "dense_2"]);
});

test("torch 1.13 ONNX export (expand and repeat: ConstantOfShape value 1, GroupNorm, Cast to int64 and back): the reader keeps value and to", async () => {
  const model = await inspect(onnxModel());
  const fills = model.layers.filter((l) => l.attributes?.op === "constant_of_shape");
  assert.is(fills.length, 2);
  for (const l of fills) assert.is(l.attributes!.value, 1);
  assert.equal(model.layers.filter((l) => l.attributes?.op === "cast").map((l) => l.attributes!.to), [7, 1]);
});

test("torch 1.13 ONNX export: every value the module computes, through the reader, the graph and the runners, against torch float64", async () => {
  const c = expected["expand-gn"];
  const names = Object.keys(c.values);
  const outputs = await runModel(memory, onnxModel(), c.input, names);
  for (const name of names) {
    const t = outputs.get(name)!;
    const n = t.shape[0], nodes = t.shape.slice(1).reduce((p, d) => p * d, 1);
    const v = Float64Array.from(memory.f32(t.ptr, n * nodes));
    const mean = new Float64Array(nodes), std = new Float64Array(nodes);
    for (let j = 0; j < nodes; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += v[i * nodes + j];
      mean[j] = s / n;
      let q = 0;
      for (let i = 0; i < n; i++) q += (v[i * nodes + j] - mean[j]) ** 2;
      std[j] = Math.sqrt(q / n);
    }
    const all = v.reduce((p, x) => p + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((p, x) => p + (x - all) ** 2, 0) / v.length);
    matches({ count: v.length, mean: all, std: sd, min: Math.min(...v), max: Math.max(...v) }, { mean, std }, c.values[name], name);
  }
});

test("torch 1.13 ONNX export through analyze() with inputs: the forward pass runs to the end, z and a of the GroupNorm's layer against torch float64; the weight-only report is the one made before", async () => {
  const c = expected["expand-gn"];
  const report = await analyze(onnxModel(), { name: "expand-gn.onnx", inputs: inputsOf(c), perNode: true });
  assert.is(report.data!.samples, 9);
  assert.not.ok(report.notes.some((n) => /forward pass/i.test(n)), report.notes.join("\n"));
  // The conv's node layer: z the GroupNorm's output, a its ReLU (the walk places no node layer after the expand and repeat).
  assertDataMetrics(report, c, ["/conv/Conv"]);
  assert.equal([report.nodeLayers[1].neuronStrength!.value, report.nodeLayers[1].neuronActivation!.value], ["/gn/Add_output_0", "/Relu_output_0"]);
  assert.equal(plain(await analyze(onnxModel(), { name: "expand-gn.onnx" })), weightsBefore["expand-gn"]);
});

test("TF.js graph model: FusedBatchNormV3 (NCHW, epsilon), BiasAdd (NCHW), Cast to int32 and back, Fill's value, against numpy float64", async () => {
  const r = expected["tf-graph"];
  const f = (name: string, t: T) => b.floatConst(name, t.shape, t.data);
  const source = b.graphModel([
    b.placeholder("x", [-1, 3, 2, 2]),
    f("scale", r.scale), f("offset", r.offset), f("mean", r.mean), f("variance", r.variance), f("bias", r.bias),
    b.floatConst("half", [], [0.5]), b.intConst("dims", [3, 1, 1]),
    b.op("bn", "FusedBatchNormV3", ["x", "scale", "offset", "mean", "variance"], { epsilon: { f: 0.01 }, data_format: b.str("NCHW"), is_training: { b: false } }),
    b.op("biased", "BiasAdd", ["bn", "bias"], { data_format: b.str("NCHW") }),
    b.op("int", "Cast", ["biased"], { SrcT: { type: "DT_FLOAT" }, DstT: { type: "DT_INT32" } }),
    b.op("float", "Cast", ["int"], { SrcT: { type: "DT_INT32" }, DstT: { type: "DT_FLOAT" } }),
    b.op("fill", "Fill", ["dims", "half"]),
    b.op("out", "AddV2", ["float", "fill"]),
  ]);
  const model = await inspect(source);
  const bn = model.layers.find((l) => l.name === "bn")!;
  assert.equal(bn.attributes, { op: "batch_norm", mean: "mean", variance: "variance", epsilon: 0.01, dataFormat: "channels_first" });
  assert.ok(model.tensors.some((t) => t.name === "mean") && model.skipped!.some((t) => t.name === "mean"));
  assert.equal(model.layers.find((l) => l.name === "fill")!.attributes, { op: "constant_of_shape", value: 0.5, tf: "Fill" });
  await assertOutputs(source, r.x, { bn: r.bn, biased: r.biased, out: r.out });
});

test("TF.js graph model: a conv fusing FusedBatchNorm then Relu stops at the norm (the activation sits on the conv, before it), naming why", async () => {
  const c = (name: string, shape: number[]) => b.floatConst(name, shape, Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => 0.5 + i / 10));
  const source = b.graphModel([
    b.placeholder("x", [-1, 2, 2, 2]),
    c("w", [1, 1, 2, 3]), c("scale", [3]), c("offset", [3]), c("mean", [3]), c("variance", [3]),
    b.op("conv", "_FusedConv2D", ["x", "w", "scale", "offset", "mean", "variance"], {
      strides: b.ints([1, 1, 1, 1]), padding: b.str("VALID"), num_args: { i: "4" }, epsilon: { f: 0.001 }, fused_ops: { list: { s: [btoa("FusedBatchNorm"), btoa("Relu")] } },
    }),
  ]);
  const model = await inspect(source);
  assert.is(model.layers.find((l) => l.name === "conv/batch_norm")!.attributes!.activationAfter, "Relu");
  try {
    await runModel(memory, source, { shape: [1, 2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] }, ["conv"]);
    assert.unreachable("ran");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
    assert.match((e as Error).message, /wrong order/);
  }
});

test("Keras-named .npz arrays: the batch norm's running statistics named and kept, z and a through analyze() against numpy float64; the weight-only report as before", async () => {
  const bytes = () => new Uint8Array(at("keras-bn.npz"));
  const model = await inspect(bytes());
  assert.equal(model.layers.find((l) => l.name === "batch_normalization")!.attributes, { op: "batch_norm", mean: "batch_normalization/moving_mean", variance: "batch_normalization/moving_variance", axis: -1, epsilon: 0.001 });
  assert.ok(model.tensors.some((t) => t.name === "batch_normalization/moving_mean") && model.skipped!.some((t) => t.name === "batch_normalization/moving_mean"));
  const c = expected["keras-npz"];
  assertDataMetrics(await analyze(bytes(), { name: "keras-bn.npz", inputs: inputsOf(c), perNode: true }), c, ["dense", "dense_1"]);
  assert.equal(plain(await analyze(bytes(), { name: "keras-bn.npz" })), weightsBefore["keras-npz"]);
});

async function assertOutputs(source: Uint8Array | ReturnType<typeof b.graphModel>, input: T, want: Record<string, T>): Promise<void> {
  const outputs = await runModel(memory, source, input, Object.keys(want));
  for (const [name, ref] of Object.entries(want)) {
    const t = outputs.get(name)!;
    assert.equal(t.shape, ref.shape, name);
    const got = t.ints ?? memory.f32(t.ptr, ref.data.length);
    ref.data.forEach((v, i) => close(got[i], v, `${name}[${i}]`));
  }
}

test("ONNX GroupNormalization keeps num_groups, LayerNormalization its axis, Cast its target: run against numpy float64", async () => {
  const r = expected["onnx-norms"];
  const init = (name: string, t: T) => w.tensor({ name, dims: t.shape, floats: t.data });
  const gn = w.model(w.graph([w.node("GroupNormalization", ["x", "gamma", "beta"], ["gn"], "gn", [w.attrInt("num_groups", 2)])], [init("gamma", r.gamma), init("beta", r.beta)], [w.valueInfo("x", r.x.shape)]), { opset: 21 });
  const gnModel = await inspect(gn);
  assert.equal(gnModel.layers.find((l) => l.name === "gn")!.attributes, { op: "group_norm", num_groups: 2 });
  await assertOutputs(gn, r.x, { gn: r.gn });
  const ln = w.model(w.graph([
    w.node("LayerNormalization", ["y", "s", "b"], ["ln"], "ln", [w.cat(w.fString(1, "axis"), w.fVarint(3, -2n), w.fVarint(20, 2))]),
    w.node("Cast", ["y"], ["cast"], "cast", [w.attrInt("to", 6)]),
  ], [init("s", r.lnScale), init("b", r.lnBias)], [w.valueInfo("y", r.y.shape)]), { opset: 17 });
  const lnModel = await inspect(ln);
  assert.equal(lnModel.layers.find((l) => l.name === "ln")!.attributes, { op: "layer_norm", axis: -2 });
  assert.equal(lnModel.layers.find((l) => l.name === "cast")!.attributes, { op: "cast", to: 6 });
  await assertOutputs(ln, r.y, { ln: r.ln, cast: r.cast });
});

test.run();
