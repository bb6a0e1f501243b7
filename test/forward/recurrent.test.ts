// Recurrent op runners (src/forward/ops/recurrent.ts) against float64 references made by
// test/fixtures/forward/make_recurrent.py: torch 1.13 nn.RNN/LSTM/GRU exported to ONNX (1 and 2
// layers, one and two directions, batch_first both), the same modules' state_dicts as chain
// layers (PyTorch style), and numpy cells in Keras order (LSTM ifco, GRU zrh with and without
// reset_after, go_backwards, Bidirectional, return_sequences off). The numpy cells are checked
// against torch in the script. Also the embedding lookup.
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "../../src/index.js";
import { normalizeModel } from "../../src/graph/normalize.js";
import { buildGraph } from "../../src/graph/build.js";
import type { GraphOp, ModelGraph } from "../../src/graph/types.js";
import type { LayerInfo } from "../../src/model/types.js";
import { toByteSource } from "../../src/source/open.js";
import { WeightReader } from "../../src/forward/weights.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import type { PrepareContext, Tensor } from "../../src/forward/types.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import { CntError } from "../../src/errors.js";
import { bodyOf, exportsOf, loopsOf } from "../helpers/wat.js";
import { close, put } from "../helpers/forward-tensors.js";

const DIR = "test/fixtures/forward/";
const fx = JSON.parse(readFileSync(DIR + "recurrent.json", "utf8"));
const { T, B, H } = fx as { T: number; B: number; H: number };

function read(memory: LinearMemory, t: Tensor): Float32Array {
  return memory.f32(t.ptr, t.shape.reduce((a, d) => a * d, 1)).slice();
}

/** [A, B, C] -> [B, A, C] */
function swap01(v: ArrayLike<number>, a: number, b: number, c: number): number[] {
  const out = new Array<number>(a * b * c);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) out[(j * a + i) * c + k] = v[(i * b + j) * c + k];
  return out;
}

async function onnxContext(file: string): Promise<{ ctx: PrepareContext; memory: LinearMemory; graph: ModelGraph }> {
  const bytes = readFileSync(DIR + file);
  const model = normalizeModel(await inspect(new Uint8Array(bytes)));
  const graph = buildGraph(model);
  const weights = new WeightReader(toByteSource(new Uint8Array(bytes)), model.tensors);
  const memory = await LinearMemory.create();
  return { memory, graph, ctx: { memory, graph, weight: (n) => weights.read(n), tensorShape: (n) => weights.shape(n), channelsLast: false, batchAxis: () => 0 } };
}

for (const c of fx.onnx) {
  test(`ONNX ${c.name}: Y, Y_h${c.kind === "lstm" ? ", Y_c" : ""} and z of every layer against torch`, async () => {
    const { ctx, memory, graph } = await onnxContext(c.file);
    const H = c.H as number;
    const ops = graph.ops.filter((o) => o.op === c.kind);
    assert.is(ops.length, c.layers);
    // The first op reads [T, B, I]: torch's batch_first export transposes before it.
    let x = put(memory, [T, B, fx.I], c.batchFirst ? swap01(c.x, B, T, fx.I) : c.x);
    for (let l = 0; l < c.layers; l++) {
      const op = ops[l];
      assert.is(1 + (op.directions?.length ?? 0), c.directions);
      const prepared = await runnerOf(c.kind)!(op, ctx);
      const inputs = op.inputs.map((name, i) => (i === 0 ? x : undefined));
      const result = prepared.run(inputs);
      const ref = c.perLayer[l];
      assert.equal(result.outputs[0]!.shape, ref.yShape);
      close(read(memory, result.outputs[0]!), ref.y, `${c.name} layer ${l} Y`);
      close(read(memory, result.pre!), ref.z, `${c.name} layer ${l} z`);
      close(read(memory, result.outputs[1]!), ref.h, `${c.name} layer ${l} Y_h`);
      if (c.kind === "lstm") close(read(memory, result.outputs[2]!), ref.c, `${c.name} layer ${l} Y_c`);
      // Y [T, D, B, H] -> [T, B, D·H] as torch's export reshapes it for the next layer.
      const y = read(memory, result.outputs[0]!);
      const D = c.directions;
      const next = new Array<number>(T * B * D * H);
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) next[((t * B + b) * D + d) * H + j] = y[((t * D + d) * B + b) * H + j];
      x = put(memory, [T, B, D * H], next);
      prepared.dispose?.();
    }
    const final = read(memory, x);
    close(c.batchFirst ? swap01(final, T, B, c.directions * H) : final, c.output, `${c.name} output`);
  });
}

/** A context over weights given as arrays. */
function arrayContext(memory: LinearMemory, tensors: Record<string, { shape: number[]; values: number[] }>, chain: boolean): PrepareContext {
  const graph = { values: new Map(), ops: [], inputs: [], outputs: [], chain, batched: !chain, notes: [] } as ModelGraph;
  return { memory, graph, channelsLast: true, batchAxis: () => 0, weight: async (n) => Float32Array.from(tensors[n].values), tensorShape: (n) => tensors[n]?.shape };
}

for (const c of fx.onnx.filter((c: { stateDict: unknown }) => c.stateDict)) {
  test(`PyTorch state_dict ${c.name} as a chain layer, batch-first data: the module's output`, async () => {
    const memory = await LinearMemory.create();
    const H = c.H as number;
    const ctx = arrayContext(memory, c.stateDict, true);
    const layer = (sfx: string, direction: string): LayerInfo => ({
      name: `l0${sfx}`, kind: c.kind, weight: `weight_ih_l0${sfx}`, recurrentWeight: `weight_hh_l0${sfx}`, bias: `bias_ih_l0${sfx}`, recurrentBias: `bias_hh_l0${sfx}`, weightLayout: "out_in",
      attributes: { hidden: H, direction, ...(c.kind === "lstm" ? { gateOrder: "ifgo" } : c.kind === "gru" ? { gateOrder: "rzn" } : {}) },
    });
    const op: GraphOp = { index: 0, name: "l0", op: c.kind, layer: layer("", "forward"), inputs: ["input"], outputs: ["l0"], ...(c.directions === 2 ? { directions: [layer("_reverse", "reverse")] } : {}) };
    const prepared = await runnerOf(c.kind)!(op, ctx);
    const x = put(memory, [B, T, fx.I], c.batchFirst ? c.x : swap01(c.x, T, B, fx.I));
    const out = prepared.run([x]).outputs[0]!;
    assert.equal(out.shape, [B, T, c.directions * H]);
    close(read(memory, out), c.batchFirst ? c.output : swap01(c.output, T, B, c.directions * H), c.name);
  });
}

for (const [n, c] of fx.keras.entries()) {
  const title = `Keras ${c.kind}${c.resetAfter ? " reset_after" : ""}${c.goBackwards ? " go_backwards" : ""}${c.bidirectional ? " Bidirectional" : ""}${c.returnSequences ? "" : " last step"} (${n})`;
  test(`${title}: y, z and states against numpy`, async () => {
    const memory = await LinearMemory.create();
    const tensors: Record<string, { shape: number[]; values: number[] }> = {};
    const layers: LayerInfo[] = c.weights.map((w: Record<string, number[]>, d: number) => {
      const p = `d${d}/`;
      tensors[p + "kernel"] = { shape: w.kernelShape, values: w.kernel };
      tensors[p + "recurrent_kernel"] = { shape: w.recurrentShape, values: w.recurrent };
      const bias: Partial<LayerInfo> = {};
      if (c.resetAfter) {
        tensors[p + "bias[input]"] = { shape: [w.biasShape[1]], values: w.bias.slice(0, w.biasShape[1]) };
        tensors[p + "bias[recurrent]"] = { shape: [w.biasShape[1]], values: w.bias.slice(w.biasShape[1]) };
        Object.assign(bias, { bias: p + "bias[input]", recurrentBias: p + "bias[recurrent]" });
      } else {
        tensors[p + "bias"] = { shape: w.biasShape, values: w.bias };
        bias.bias = p + "bias";
      }
      const reverse = d === 0 ? c.goBackwards : !c.goBackwards;
      return {
        name: `rnn/${d}`, kind: c.kind, weight: p + "kernel", weightLayout: "in_out", recurrentWeight: p + "recurrent_kernel", ...bias, activation: "tanh",
        attributes: { hidden: H, direction: reverse ? "reverse" : "forward", returnSequences: c.returnSequences ? 1 : 0, returnState: 1, recurrentActivation: "sigmoid", ...(c.kind === "lstm" ? { gateOrder: "ifco" } : c.kind === "gru" ? { gateOrder: "zrh" } : {}), ...(c.resetAfter ? { resetAfter: 1 } : {}), ...(c.bidirectional ? { mergeMode: "concat" } : {}) },
      } as LayerInfo;
    });
    const states = layers.flatMap((_, d) => (c.kind === "lstm" ? [`h${d}`, `c${d}`] : [`h${d}`]));
    const op: GraphOp = { index: 0, name: "rnn", op: c.kind, layer: layers[0], inputs: ["x"], outputs: ["y", ...states], ...(layers.length > 1 ? { directions: layers.slice(1) } : {}) };
    const prepared = await runnerOf(c.kind)!(op, arrayContext(memory, tensors, false));
    const result = prepared.run([put(memory, c.xShape, c.x)]);
    assert.equal(result.outputs[0]!.shape, c.yShape);
    close(read(memory, result.outputs[0]!), c.y, `${title} y`);
    close(read(memory, result.pre!), c.z, `${title} z`);
    layers.forEach((_, d) => {
      const per = c.kind === "lstm" ? 2 : 1;
      close(read(memory, result.outputs[1 + d * per]!), c.h[d], `${title} h${d}`);
      if (c.kind === "lstm") close(read(memory, result.outputs[2 + d * per]!), c.c[d], `${title} c${d}`);
    });
  });
}

test("Keras recurrent activations the file leaves ambiguous are refused, not guessed", async () => {
  const memory = await LinearMemory.create();
  const tensors = { k: { shape: [3, 16], values: new Array(48).fill(0.1) }, r: { shape: [4, 16], values: new Array(64).fill(0.1) } };
  const make = (attributes: Record<string, string | number>): GraphOp => ({ index: 0, name: "lstm", op: "lstm", inputs: ["x"], outputs: ["y"], layer: { name: "lstm", kind: "lstm", weight: "k", recurrentWeight: "r", weightLayout: "in_out", activation: "tanh", attributes: { hidden: 4, gateOrder: "ifco", ...attributes } } });
  for (const [attributes, pattern] of [[{ recurrentActivation: "hard_sigmoid" }, /Keras 3/], [{}, /recurrent_activation/], [{ recurrentActivation: "sigmoid", mergeMode: "sum" }, /merge_mode/]] as const) {
    const op = make(attributes);
    if ("mergeMode" in attributes) op.directions = [{ ...op.layer, attributes: { ...op.layer.attributes, direction: "reverse" } }];
    try {
      await runnerOf("lstm")!(op, arrayContext(memory, tensors, false));
      assert.unreachable("prepared");
    } catch (e) {
      assert.instance(e, ForwardUnsupported);
      assert.match((e as Error).message, pattern);
    }
  }
});

test("Keras: a mask upstream (Masking, Embedding mask_zero) is refused: Keras would skip the masked steps", async () => {
  const memory = await LinearMemory.create();
  const tensors = { k: { shape: [3, 16], values: new Array(48).fill(0.1) }, r: { shape: [4, 16], values: new Array(64).fill(0.1) } };
  for (const attributes of [{ op: "identity", masking: 1 }, { maskZero: 1 }]) {
    const ctx = arrayContext(memory, tensors, false);
    const masker: GraphOp = { index: 0, name: "mask", op: "identity", inputs: ["in"], outputs: ["masked"], layer: { name: "mask", kind: "none", attributes } };
    const between: GraphOp = { index: 1, name: "drop", op: "dropout", inputs: ["masked"], outputs: ["x"], layer: { name: "drop", kind: "none", attributes: { op: "dropout" } } };
    ctx.graph.values.set("masked", { name: "masked", kind: "data", consumers: [between], producer: masker });
    ctx.graph.values.set("x", { name: "x", kind: "data", consumers: [], producer: between });
    const op: GraphOp = { index: 2, name: "lstm", op: "lstm", inputs: ["x", "k", "r"], outputs: ["y"], layer: { name: "lstm", kind: "lstm", weight: "k", recurrentWeight: "r", weightLayout: "in_out", activation: "tanh", attributes: { hidden: 4, gateOrder: "ifco", recurrentActivation: "sigmoid" } } };
    try {
      await runnerOf("lstm")!(op, ctx);
      assert.unreachable("prepared");
    } catch (e) {
      assert.instance(e, ForwardUnsupported);
      assert.match((e as Error).message, /mask.*masks/);
    }
  }
});

test("ONNX options the kernels do not run are refused: sequence_lens, peepholes, other activations", async () => {
  const { ctx, graph } = await onnxContext("recurrent/lstm_l1_uni_tf.onnx");
  const op = graph.ops.find((o) => o.op === "lstm")!;
  for (const [change, pattern] of [[(o: GraphOp) => (o.inputs[4] = "lens"), /sequence_lens/], [(o: GraphOp) => (o.inputs[7] = "P"), /peephole/], [(o: GraphOp) => (o.layer.attributes!.activations = "Sigmoid,Tanh,Softsign"), /activations/]] as const) {
    const copy: GraphOp = { ...op, inputs: [...op.inputs], layer: { ...op.layer, attributes: { ...op.layer.attributes } } };
    change(copy);
    try {
      await runnerOf("lstm")!(copy, ctx);
      assert.unreachable("prepared");
    } catch (e) {
      assert.instance(e, ForwardUnsupported);
      assert.match((e as Error).message, pattern);
    }
  }
  // The reader keeps the activations list torch writes for nn.RNN (the ONNX tests above run it).
  const rnn = (await onnxContext("recurrent/rnn_l1_uni_tf.onnx")).graph.ops.find((o) => o.op === "rnn")!;
  assert.is(rnn.layer.attributes!.activations, "Tanh");
});

test("ONNX time-major data straight from a graph input runs only when the file fixes its length (batches are cut along it)", async () => {
  const { ctx, graph } = await onnxContext("recurrent/gru_l1_uni_tf.onnx");
  const op = graph.ops.find((o) => o.op === "gru")!;
  assert.ok(graph.inputs.includes(op.inputs[0]));
  assert.is(graph.values.get(op.inputs[0])!.shape![0], T);
  await runnerOf("gru")!(op, ctx);
  graph.values.get(op.inputs[0])!.shape![0] = null;
  try {
    await runnerOf("gru")!(op, ctx);
    assert.unreachable("prepared");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
    assert.match((e as Error).message, /cut/);
  }
});

test("ONNX initial_h and initial_c start the recurrence (numpy: one LSTM step by hand)", async () => {
  const { ctx, memory, graph } = await onnxContext("recurrent/lstm_l1_uni_tf.onnx");
  const op = graph.ops.find((o) => o.op === "lstm")!;
  const W = await ctx.weight(op.layer.weight!), R = await ctx.weight(op.layer.recurrentWeight!), Bv = await ctx.weight(op.layer.bias!);
  const I = fx.I;
  const x = [0.3, -0.2, 0.5], h0 = [0.1, -0.4, 0.2, 0.7], c0 = [-0.5, 0.25, 0.9, -0.1];
  // ONNX gate order i o f c; one sample, one step, in float64.
  const gate = (k: number, j: number) => {
    let s = Bv[k * H + j] + Bv[4 * H + k * H + j];
    for (let i = 0; i < I; i++) s += W[(k * H + j) * I + i] * x[i];
    for (let i = 0; i < H; i++) s += R[(k * H + j) * H + i] * h0[i];
    return s;
  };
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const c1 = h0.map((_, j) => sig(gate(2, j)) * c0[j] + sig(gate(0, j)) * Math.tanh(gate(3, j)));
  const h1 = c1.map((c, j) => sig(gate(1, j)) * Math.tanh(c));
  const prepared = await runnerOf("lstm")!(op, ctx);
  const inputs: (Tensor | undefined)[] = op.inputs.map(() => undefined);
  inputs[0] = put(memory, [1, 1, I], x);
  inputs[5] = put(memory, [1, 1, H], h0);
  inputs[6] = put(memory, [1, 1, H], c0);
  const result = prepared.run(inputs);
  close(read(memory, result.outputs[0]!), h1, "h1");
  close(read(memory, result.pre!), c1, "c1");
});

test("ONNX layout 1 (batch-major X [B, T, I], Y [B, T, D, H], Y_h [B, D, H]) gives the layout 0 numbers transposed", async () => {
  const c = fx.onnx.find((k: { name: string }) => k.name === "gru_l1_bi_tf");
  const { ctx, memory, graph } = await onnxContext(c.file);
  const op = graph.ops.find((o) => o.op === "gru")!;
  op.layer.attributes!.layout = 1;
  const prepared = await runnerOf("gru")!(op, ctx);
  const inputs: (Tensor | undefined)[] = op.inputs.map(() => undefined);
  inputs[0] = put(memory, [B, T, fx.I], swap01(c.x, T, B, fx.I));
  const result = prepared.run(inputs);
  const ref = c.perLayer[0];
  assert.equal(result.outputs[0]!.shape, [B, T, 2, H]);
  // [T, D, B, H] -> [B, T, D, H]
  const y = new Array<number>(ref.y.length);
  for (let t = 0; t < T; t++) for (let d = 0; d < 2; d++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) y[((b * T + t) * 2 + d) * H + j] = ref.y[((t * 2 + d) * B + b) * H + j];
  close(read(memory, result.outputs[0]!), y, "Y");
  close(read(memory, result.outputs[1]!), swap01(ref.h, 2, B, H), "Y_h");
});

test("PyTorch chain layer on data [B, I]: one step, y [B, D·H] (the first step of the fixture's sequence)", async () => {
  const c = fx.onnx.find((k: { name: string }) => k.name === "lstm_l1_bi_tf");
  const memory = await LinearMemory.create();
  const layer = (sfx: string, direction: string): LayerInfo => ({ name: `l0${sfx}`, kind: "lstm", weight: `weight_ih_l0${sfx}`, recurrentWeight: `weight_hh_l0${sfx}`, bias: `bias_ih_l0${sfx}`, recurrentBias: `bias_hh_l0${sfx}`, weightLayout: "out_in", attributes: { hidden: H, direction, gateOrder: "ifgo" } });
  const op: GraphOp = { index: 0, name: "l0", op: "lstm", layer: layer("", "forward"), directions: [layer("_reverse", "reverse")], inputs: ["input"], outputs: ["l0"] };
  const prepared = await runnerOf("lstm")!(op, arrayContext(memory, c.stateDict, true));
  // The forward direction's first step of the sequence is a one-step run on x[0].
  const x0 = c.x.slice(0, B * fx.I);
  const out = read(memory, prepared.run([put(memory, [B, fx.I], x0)]).outputs[0]!);
  assert.is(out.length, B * 2 * H);
  const ref = c.perLayer[0].y; // [T, D, B, H]
  for (let b = 0; b < B; b++) close(out.subarray(b * 2 * H, b * 2 * H + H), ref.slice(b * H, (b + 1) * H), `sample ${b} forward`);
});

test("the SIMD gate activations against float64: tanh, sigmoid, relu, hard sigmoid over [-40, 40], tiny values, both tanh branches, clipping", async () => {
  const memory = await LinearMemory.create();
  const xs = [...Array.from({ length: 801 }, (_, i) => -40 + i * 0.1), 1e-7, -3e-5, 0.6249, 0.6251, -0.625, 1e-30, 0, 88, -88, 100, -100].map(Math.fround);
  const n = xs.length; // one sample, n hidden units: 817 = 204 four-lane blocks and a tail of 1
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const hard = (x: number) => Math.max(0, Math.min(1, 0.2 * x + 0.5));
  for (const [code, f, clip] of [[1, Math.tanh, 0], [2, sigmoid, 0], [3, (x: number) => Math.max(0, x), 0], [4, hard, 0], [1, (x: number) => Math.tanh(Math.max(-3, Math.min(3, x))), 3]] as const) {
    const g = memory.alloc(n), h = memory.alloc(n), y = memory.alloc(n), z = memory.alloc(n);
    memory.f32(g, n).set(xs);
    memory.exports.rnnStep(g, n, h, y, n, z, n, 1, n, code, clip);
    const out = memory.f32(y, n), pre = memory.f32(z, n);
    for (let i = 0; i < n; i++) {
      const e = f(xs[i]);
      if (!(Math.abs(out[i] - e) <= Math.max(1e-6 * Math.abs(e), 1e-30))) assert.unreachable(`activation ${code} at ${xs[i]}: ${out[i]} vs ${e}`);
      assert.is(pre[i], clip > 0 ? Math.max(-clip, Math.min(clip, xs[i])) : xs[i]);
    }
    for (const p of [g, h, y, z]) memory.free(p);
  }
});

test("the gate kernels and attention are SIMD in the release build: a loop in each body loads v128 and does f32x4 arithmetic", () => {
  const wat = readFileSync("dist/cntscope.wat", "utf8");
  const exported = exportsOf(wat);
  for (const name of ["rnnStep", "lstmStep", "gruReset", "gruStep", "attention"]) {
    const func = exported.get(name);
    assert.ok(func?.startsWith("$assembly/forward/recurrent/"), `${name} is exported from assembly/forward/recurrent.ts (${func})`);
    const loops = loopsOf(bodyOf(wat, func!));
    assert.ok(loops.some((l) => l.some((i) => /^v128\.load\b/.test(i)) && l.some((i) => /^f32x4\.(mul|add)\b/.test(i))), `${name}: no SIMD loop among ${loops.length}`);
  }
});

test("lookup: rows of the table by id; an id out of range names the input, the sample and the id", async () => {
  const memory = await LinearMemory.create();
  const table = { shape: [5, 3], values: Array.from({ length: 15 }, (_, i) => i * 0.5 - 2) };
  const op: GraphOp = { index: 0, name: "embed", op: "lookup", inputs: ["input_ids", "embed.weight"], outputs: ["embed"], layer: { name: "embed", kind: "embedding", weight: "embed.weight" } };
  const prepared = await runnerOf("lookup")!(op, arrayContext(memory, { "embed.weight": table }, false));
  const ids = [4, 0, 2, 2, 1, 3];
  const out = prepared.run([put(memory, [2, 3], ids)]).outputs[0]!;
  assert.equal(out.shape, [2, 3, 3]);
  close(read(memory, out), ids.flatMap((id) => table.values.slice(id * 3, id * 3 + 3)), "rows");
  for (const bad of [5, -1, 1.5]) {
    try {
      prepared.run([put(memory, [2, 3], [0, 1, 2, 3, bad, 0])]);
      assert.unreachable("ran");
    } catch (e) {
      assert.instance(e, CntError);
      assert.is((e as CntError).code, "BAD_OPTION");
      assert.match((e as Error).message, /input_ids/);
      assert.match((e as Error).message, /sample 1/);
      assert.match((e as Error).message, new RegExp(`id ${String(bad).replace(".", "\\.")}\\b`));
    }
  }
  // A table of more rows than f32 ids can name exactly is refused.
  const huge = arrayContext(memory, {}, false);
  huge.tensorShape = () => [2 ** 24 + 1, 2];
  try {
    await runnerOf("lookup")!(op, huge);
    assert.unreachable("prepared");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
  }
});

test.run();
