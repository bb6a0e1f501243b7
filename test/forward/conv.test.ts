// Convolutions in the forward pass against float64 references (torch 1.13 F.conv1d / conv2d /
// conv_transpose2d, channels-last cases as numpy transposes of the same tensors):
// test/fixtures/forward/make_conv.py writes conv.json and conv_transpose.json.
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { GraphOp, ModelGraph } from "../../src/graph/types.js";
import type { LayerInfo } from "../../src/model/types.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { COLUMNS, OPS } from "../../src/forward/ops/conv.js";
import { ForwardUnsupported, type PrepareContext, type Tensor } from "../../src/forward/types.js";
import { bodyOf, exportsOf, loopsOf } from "../helpers/wat.js";
import { openModel } from "../../src/analyze.js";
import { resolveOptions } from "../../src/options.js";
import { memorySource } from "../../src/source/memory.js";
import { filesSource } from "../../src/source/files.js";
import type { ByteSource } from "../../src/source/types.js";
import { buildGraph } from "../../src/graph/build.js";
import { inferShapes } from "../../src/graph/shapes.js";
import { WeightReader } from "../../src/forward/weights.js";
import { runnerOf } from "../../src/forward/ops/registry.js";

interface Arr { shape: number[]; data: number[] }
interface Case { name: string; kind: string; weightLayout: string; channelsLast: boolean; attributes: Record<string, number | number[] | string>; x: Arr; w: Arr; b: Arr | null; y: Arr }

const read = (name: string): Case[] => JSON.parse(readFileSync(`test/fixtures/forward/${name}`, "utf8"));
const memory = await LinearMemory.create();

function graphOf(outShape?: (number | null)[]): ModelGraph {
  const values = new Map();
  if (outShape) values.set("y", { name: "y", kind: "data", shape: outShape, consumers: [] });
  return { values, ops: [], inputs: ["x"], outputs: ["y"], chain: false, batched: true, notes: [] };
}

function setup(c: Case, graph = graphOf()): { op: GraphOp; ctx: PrepareContext } {
  const layer: LayerInfo = { name: c.name, kind: c.kind as LayerInfo["kind"], weight: "w", weightLayout: c.weightLayout as LayerInfo["weightLayout"], attributes: c.attributes };
  if (c.b) layer.bias = "b";
  const op: GraphOp = { index: 0, name: c.name, layer, op: c.kind, inputs: ["x", "w", ...(c.b ? ["b"] : [])], outputs: ["y"] };
  const tensors: Record<string, Arr> = { w: c.w, ...(c.b ? { b: c.b } : {}) };
  const ctx: PrepareContext = {
    memory,
    weight: async (name) => Float32Array.from(tensors[name].data),
    tensorShape: (name) => tensors[name]?.shape,
    graph,
    channelsLast: c.channelsLast,
  };
  return { op, ctx };
}

function input(x: Arr): Tensor {
  const t = memory.tensor(x.shape);
  memory.f32(t.ptr, x.data.length).set(x.data);
  return t;
}

async function run(c: Case, graph?: ModelGraph): Promise<{ shape: number[]; data: Float32Array }> {
  const { op, ctx } = setup(c, graph);
  const prepared = await OPS[c.kind](op, ctx);
  const x = input(c.x);
  const before = memory.used;
  const { outputs } = prepared.run([x, undefined, undefined]);
  const y = outputs[0]!;
  // The run frees its scratch: only the output stays.
  assert.is(memory.used - before, Math.ceil((y.shape.reduce((a, d) => a * d, 1) * 4) / 64) * 64, "only the output stays allocated");
  const data = memory.f32(y.ptr, c.y.data.length).slice();
  memory.free(x.ptr);
  memory.free(y.ptr);
  prepared.dispose?.();
  return { shape: y.shape, data };
}

async function rejects(f: () => Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert.ok(check(e), `unexpected error: ${e}`);
    return;
  }
  assert.unreachable("it did not throw");
}

function close(actual: Float32Array, expected: number[], what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!(Math.abs(a - e) <= Math.max(1e-5 * Math.abs(e), 1e-6))) assert.unreachable(`${what}: element ${i} is ${a}, expected ${e}`);
  }
}

for (const c of [...read("conv.json"), ...read("conv_transpose.json")]) {
  test(c.name, async () => {
    const { shape, data } = await run(c);
    assert.equal(shape, c.y.shape);
    close(data, c.y.data, c.name);
  });
}

test("columns made a block of rows at a time (one row, two rows) give the same outputs", async () => {
  const saved = COLUMNS.limit;
  try {
    for (const rowsAtOnce of [1, 2]) {
      for (const c of [...read("conv.json"), ...read("conv_transpose.json")]) {
        // Values per row of columns: forward K x output width (K = kernel values per output channel); transposed (c_out/g x taps) x input width.
        const transposed = c.kind === "conv2d_transpose";
        const channels = transposed ? c.x.shape[c.channelsLast ? 3 : 1] : c.y.shape[c.channelsLast ? c.y.shape.length - 1 : 1];
        const width = transposed ? c.x.shape[c.channelsLast ? 2 : 3] : c.y.shape[c.channelsLast ? c.y.shape.length - 2 : c.y.shape.length - 1];
        COLUMNS.limit = (c.w.data.length / channels) * width * rowsAtOnce;
        const { data } = await run(c);
        close(data, c.y.data, `${c.name}, ${rowsAtOnce} row(s) at a time`);
      }
    }
  } finally {
    COLUMNS.limit = saved;
  }
});

test("a kernel with hwio layout and a stored depthwise shape [kh, kw, c, mult] reads as the grouped kernel", async () => {
  const c = read("conv.json").find((k) => k.name.startsWith("depthwise, multiplier 2") && k.channelsLast)!;
  const [kh, kw, , cOut] = c.w.shape;
  const stored = [kh, kw, 3, cOut / 3];
  const d: Case = { ...c, w: { shape: stored, data: c.w.data }, attributes: { ...c.attributes, storedShape: stored, depthMultiplier: cOut / 3 } };
  const { data } = await run(d);
  close(data, c.y.data, "depthwise as stored");
});

test("an output shape that differs from the graph's stops the op", async () => {
  const c = read("conv.json")[0];
  await rejects(() => run(c, graphOf([null, 4, 6, 8])), (e: unknown) => e instanceof ForwardUnsupported && /graph's shapes say/.test((e as Error).message));
  // The graph's own shape passes.
  const { data } = await run(c, graphOf([null, ...c.y.shape.slice(1)]));
  close(data, c.y.data, "graph shape");
});

test("input channels that do not match the kernel stop the op", async () => {
  const c = read("conv.json")[0];
  const wrong: Case = { ...c, x: { shape: [1, 2, 6, 7], data: new Array(84).fill(1) } };
  await rejects(() => run(wrong), (e: unknown) => e instanceof ForwardUnsupported && /3/.test((e as Error).message));
});

test("a conv without a constant kernel, or with a kernel layout of another op, is unsupported", async () => {
  const c = read("conv.json")[0];
  const { op, ctx } = setup(c);
  await rejects(() => OPS.conv2d({ ...op, layer: { ...op.layer, weight: undefined } }, ctx), (e: unknown) => e instanceof ForwardUnsupported);
  await rejects(() => OPS.conv2d({ ...op, layer: { ...op.layer, weightLayout: "iohw" } }, ctx), (e: unknown) => e instanceof ForwardUnsupported);
});

/** Every op on data, in graph order, through the registry's runners; the graph output. */
async function runGraph(source: ByteSource, x: Arr, expectOps: string[]): Promise<Tensor> {
  const model = await openModel(source, resolveOptions({}).limits);
  const graph = buildGraph(model);
  inferShapes(graph, model);
  const weights = new WeightReader(source, model.tensors);
  const ctx: PrepareContext = { memory, weight: (name) => weights.read(name), tensorShape: (name) => weights.shape(name), graph, channelsLast: (graph.dataFormat ?? model.dataFormat) === "channels_last" };
  // The ops on data, in order (the rest is shape arithmetic the graph folded).
  const data = new Map<string, Tensor>([[graph.inputs[0], input(x)]]);
  const ran: string[] = [];
  for (const op of graph.ops) {
    if (!data.has(op.inputs[0])) continue;
    const prepare = runnerOf(op.op);
    assert.ok(prepare, `no runner for ${op.op}`);
    const prepared = await prepare!(op, ctx);
    const { outputs } = prepared.run(op.inputs.map((name, i) => (i === 0 ? data.get(name) : undefined)));
    data.set(op.outputs[0], outputs[0]!);
    ran.push(op.op);
  }
  await weights.close();
  assert.equal(ran, expectOps);
  const y = data.get(graph.outputs[0])!;
  for (const t of data.values()) if (t !== y) memory.free(t.ptr);
  return y;
}

test("a TF.js layers model (Conv2D 'same' stride 2, DepthwiseConv2D multiplier 2, ZeroPadding2D folded into MaxPooling2D, UpSampling2D, AveragePooling2D 'same', GlobalAveragePooling2D) runs through the reader to torch's output", async () => {
  const expected: { x: Arr; y: Arr } = JSON.parse(readFileSync("test/fixtures/forward/conv_keras.json", "utf8"));
  const dir = "test/fixtures/forward/conv_keras";
  const source = filesSource(new Map([["model.json", readFileSync(`${dir}/model.json`)], ["group1-shard1of1.bin", readFileSync(`${dir}/group1-shard1of1.bin`)]]), "model.json");
  // The ZeroPadding is folded into the pool by the reader: no pad op runs.
  const y = await runGraph(source, expected.x, ["conv2d", "conv2d", "pool", "upsample", "pool", "global_pool"]);
  assert.equal(y.shape, expected.y.shape);
  close(memory.f32(y.ptr, expected.y.data.length), expected.y.data, "conv_keras");
  memory.free(y.ptr);
});

test("an ONNX file exported by torch (conv, reflect pad, depthwise, ceil max pool, bilinear resize, dilated grouped conv, pad + average pool, transposed conv, constant pad, nearest resize, DepthToSpace CRD, global pool) runs through the reader and the graph to torch's output", async () => {
  const expected: { x: Arr; y: Arr } = JSON.parse(readFileSync("test/fixtures/forward/conv_chain.json", "utf8"));
  const source = memorySource(readFileSync("test/fixtures/forward/conv_chain.onnx"), "conv_chain.onnx");
  const y = await runGraph(source, expected.x, ["conv2d", "pad", "conv2d", "pool", "upsample", "conv2d", "pad", "pool", "conv2d_transpose", "pad", "upsample", "depth_to_space", "global_pool"]);
  assert.equal(y.shape, expected.y.shape);
  close(memory.f32(y.ptr, expected.y.data.length), expected.y.data, "conv_chain.onnx");
  memory.free(y.ptr);
});

test("the depthwise kernels and the channels-last col2im multiply-add in f32x4 lanes (release .wat)", () => {
  const wat = readFileSync("dist/cntscope.wat", "utf8");
  const exported = exportsOf(wat);
  for (const name of ["convDepthwiseCF", "convDepthwiseCL", "convCol2imCL", "convAddBias"]) {
    const func = exported.get(name);
    assert.ok(func?.startsWith("$assembly/forward/conv/"), `${name} is exported from assembly/forward/conv.ts (${func})`);
    const loops = loopsOf(bodyOf(wat, func!));
    assert.ok(loops.some((l) => l.some((i) => /^v128\.load\b/.test(i)) && l.some((i) => /^f32x4\.add\b/.test(i))), `${name}: no SIMD loop among ${loops.length}`);
  }
});

test.run();
