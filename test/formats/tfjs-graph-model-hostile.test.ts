// TF.js graph models that lie (spec hostile-inputs.md): every case is the hand-built fixture
// (test/fixtures/tfjs/graph-model/small) with one thing changed, read through filesSource. Each
// ends in a typed CntError naming the node or tensor, or in a report whose notes say what the walk
// left out; never a crash, a hang or a wrong number.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, filesSource } from "../../src/entry/node-core.js";
import { rejects } from "../helpers/rejects.js";

const dir = "test/fixtures/tfjs/graph-model/small";
type Json = Record<string, any>;
const original = (): Json => JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
const shardFiles = () => new Map(readdirSync(dir).filter((f) => f.endsWith(".bin")).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))] as [string, Uint8Array]));

/** The fixture with `change` applied to its model.json (and optionally to its shards; `text` edits the JSON text last). */
function source(change: (m: Json) => void, shards = shardFiles(), text = (t: string) => t) {
  const m = original();
  change(m);
  const files = new Map<string, Uint8Array>([["model.json", new TextEncoder().encode(text(JSON.stringify(m)))], ...shards]);
  return filesSource(files, "model.json");
}
const node = (m: Json, name: string): Json => m.modelTopology.node.find((n: Json) => n.name === name);
const weight = (m: Json, name: string): Json => m.weightsManifest[0].weights.find((w: Json) => w.name === name);
const dims = (shape: number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });

/** analyze within `ms` (2 s, as the fuzzing asks of every input). */
async function quick(run: () => Promise<unknown>, ms = 2000): Promise<unknown> {
  const t0 = performance.now();
  const result = await run();
  assert.ok(performance.now() - t0 < ms, `took more than ${ms} ms`);
  return result;
}

test("a node reading a node the graph does not have: BAD_HEADER naming both", async () => {
  const e = await rejects(() => analyze(source((m) => (node(m, "res/add").input[0] = "bn/nothing"))), "BAD_HEADER", "'bn/nothing', which no node of the graph gives");
  assert.ok(e.message.includes("'res/add'"), e.message);
});

test("an input index beyond the outputs of its node: BAD_HEADER", async () => {
  await rejects(() => analyze(source((m) => (node(m, "res/add").input[0] = "bn/add:3"))), "BAD_HEADER", "reads output 3 of node 'bn/add' ('AddV2'), which has 1 output(s)");
  await rejects(() => analyze(source((m) => (node(m, "res/add").input[0] = "bn/add:99999999999999999999"))), "BAD_HEADER", "reads output 99999999999999999999 of node 'bn/add'");
});

test("two nodes of one name, a node without a name or op, inputs that are not strings: BAD_HEADER", async () => {
  await rejects(() => analyze(source((m) => m.modelTopology.node.push({ ...node(m, "res/Relu") }))), "BAD_HEADER", "two nodes named 'res/Relu'");
  await rejects(() => analyze(source((m) => delete node(m, "res/Relu").op)), "BAD_HEADER", "has no op");
  await rejects(() => analyze(source((m) => (m.modelTopology.node[3] = { op: "Relu" }))), "BAD_HEADER", "modelTopology.node[3] has no name");
  await rejects(() => analyze(source((m) => (node(m, "res/Relu").input = [7]))), "BAD_HEADER", "input 0 is not a string");
  await rejects(() => analyze(source((m) => (m.modelTopology.node = {}))), "BAD_HEADER", "no modelTopology.node array");
  await rejects(() => analyze(source((m) => m.modelTopology.node.push({ name: "bn/add:1", op: "Identity", input: ["x"] }))), "BAD_HEADER", "reads as an output reference");
  // Inline integer values (hand-written GraphDefs) must fill the declared shape.
  const inline = { name: "extra/ints", op: "Const", attr: { value: { tensor: { dtype: "DT_INT32", tensorShape: dims([3]), intVal: ["1", "2"] } } } };
  await rejects(() => analyze(source((m) => m.modelTopology.node.push(inline))), "BAD_SHAPE", "declares shape [3] but gives 2 values");
});

test("a cycle: a report, with a note naming the ops left out (TF while loops are cycles too)", async () => {
  const report = (await quick(() => analyze(source((m) => (node(m, "prep/mul").input = ["prep/mul/y", "res/Relu"]))))) as Awaited<ReturnType<typeof analyze>>;
  assert.ok(report.notes.some((n) => n.includes("form a cycle")), report.notes.join(" | "));
  assert.is(report.layers.filter((l) => l.linkWeights).length, 11, "every distribution is still reported");
});

test("a Const whose declared shape contradicts its manifest entry: BAD_SHAPE naming the tensor", async () => {
  const e = await rejects(() => analyze(source((m) => (node(m, "conv1/weights").attr.value.tensor.tensorShape = dims([3, 3, 4, 3])))), "BAD_SHAPE", "'conv1/weights' declares shape [3, 3, 4, 3]");
  assert.is(e.tensor, "conv1/weights");
});

test("a Const with no manifest entry: BAD_HEADER naming it", async () => {
  const e = await rejects(() => analyze(source((m) => (node(m, "fc2/bias").name = "fc2/bias_elsewhere", node(m, "fc2/BiasAdd").input[1] = "fc2/bias_elsewhere"))), "BAD_HEADER", "'fc2/bias_elsewhere' has no entry in the weights manifest");
  assert.is(e.tensor, "fc2/bias_elsewhere");
});

test("manifest entries sized wrong: shards too short (TRUNCATED), a shape past the shards, a huge int constant, before any allocation", async () => {
  const shards = shardFiles();
  shards.set("group1-shard2of2.bin", shards.get("group1-shard2of2.bin")!.subarray(0, 100));
  await rejects(() => analyze(source(() => {}, shards)), "TRUNCATED", "shards");
  await rejects(() => analyze(source((m) => (weight(m, "fc2/bias").shape = [5000]))), "TRUNCATED", "the weights of group 0 need");
  await rejects(() => analyze(source((m) => (weight(m, "flat/features").shape = [2 ** 40]))), "TRUNCATED", "the weights of group 0 need");
});

test("a filter that is not [kh, kw, in, out]: BAD_SHAPE naming it", async () => {
  await rejects(() => analyze(source((m) => {
    weight(m, "conv1/weights").shape = [9, 3, 4];
    node(m, "conv1/weights").attr.value.tensor.tensorShape = dims([9, 3, 4]);
  })), "BAD_SHAPE", "filter 'conv1/weights' of shape [9, 3, 4]");
});

test("a filter whose in-channels contradict the map it reads: a report that leaves those node layers out with a note", async () => {
  const report = await analyze(source((m) => {
    weight(m, "pw/weights").shape = [1, 1, 4, 16];
    node(m, "pw/weights").attr.value.tensor.tensorShape = dims([1, 1, 4, 16]);
  }));
  assert.ok(report.notes.some((n) => n.includes("takes 4 channels")), report.notes.join(" | "));
  assert.is(report.coverage.weightedLayers, 7);
});

test("an op cntscope does not know: a note, never a refusal; every distribution reported", async () => {
  const report = await analyze(source((m) => (node(m, "res/Relu").op = "FancyActivation")));
  assert.ok(report.notes.some((n) => n.includes("'FancyActivation'")), report.notes.join(" | "));
  assert.is(report.layers.filter((l) => l.linkWeights).length, 11);
  assert.is(report.coverage.weightedLayers, 7);
});

test("op names that are Object.prototype's keys are unknown ops, never a conv or an activation", async () => {
  for (const op of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    const report = await analyze(source((m) => (node(m, "conv1/Relu").op = op)));
    assert.is(report.coverage.weightedLayers, 6, op);
    assert.ok(report.notes.some((n) => n.includes(`'${op}'`)), `${op}: ${report.notes.join(" | ")}`);
  }
});

test("conv attributes that are not what TF writes: BAD_HEADER / UNSUPPORTED_LAYER", async () => {
  await rejects(() => analyze(source((m) => (node(m, "conv1/Relu").attr.strides.list.i = ["1", "1", "1"]))), "BAD_HEADER", "strides [1, 1, 1]");
  await rejects(() => analyze(source((m) => (node(m, "conv1/Relu").attr.strides.list.i = ["1", "0", "1", "1"]))), "BAD_HEADER", "expected 4 positive integers");
  await rejects(() => analyze(source((m) => (node(m, "conv1/Relu").attr.padding.s = btoa("CAUSAL")))), "UNSUPPORTED_LAYER", "padding 'CAUSAL'");
  await rejects(() => analyze(source((m) => (node(m, "conv1/Relu").attr.fused_ops.list.s = [btoa("BiasAdd"), btoa("Gelu2")]))), "UNSUPPORTED_LAYER", "fuses 'Gelu2'");
  await rejects(() => analyze(source((m) => (node(m, "conv1/Relu").attr.data_format.s = btoa("NCDHW")))), "UNSUPPORTED_LAYER", "data_format 'NCDHW'");
});

test("deep nesting and long chains: attributes nested 100,000 deep, 20,000 Identity nodes in a row (above maxLayers = 10,000), 2,000 (walked)", async () => {
  // Written as text: the nesting is deeper than JSON.stringify's recursion goes.
  const deep = "[".repeat(100_000) + "0" + "]".repeat(100_000);
  try {
    const report = await quick(() => analyze(source((m) => (node(m, "res/Relu").attr.deep = "DEEP"), shardFiles(), (t) => t.replace('"DEEP"', deep))));
    assert.ok(report);
  } catch (error) {
    assert.is((error as { code?: string }).code, "BAD_HEADER", String(error));
  }
  await rejects(() => analyze(source((m) => {
    let last = "res/Relu";
    for (let i = 0; i < 20_000; i++) {
      m.modelTopology.node.push({ name: `chain/${i}`, op: "Identity", input: [last] });
      last = `chain/${i}`;
    }
    node(m, "cat/concat").input[0] = last;
  }), { limits: { maxLayers: 10_000 } }), "TOO_LARGE", "maxLayers");
  // Under the layer limit, a long chain is read and walked without recursion.
  const report = await quick(() => analyze(source((m) => {
    let last = "res/Relu";
    for (let i = 0; i < 2_000; i++) {
      m.modelTopology.node.push({ name: `chain/${i}`, op: "Identity", input: [last] });
      last = `chain/${i}`;
    }
    node(m, "cat/concat").input[0] = last;
  })), 5000);
  assert.ok(report);
});

test("names that are not safe: a shard path with '..' is UNSAFE_PATH; a node name beyond maxNameBytes is TOO_LARGE", async () => {
  await rejects(() => analyze(source((m) => (m.weightsManifest[0].paths[0] = "../group1-shard1of2.bin"))), "UNSAFE_PATH", "..");
  await rejects(() => analyze(source((m) => (node(m, "res/Relu").name = "n".repeat(5000)))), "TOO_LARGE", "maxNameBytes");
});

test.run();
