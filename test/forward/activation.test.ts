// The activation kernels (assembly/forward/activation.ts) and runners (src/forward/ops/activation.ts)
// against float64 references from Python's math and numpy (test/fixtures/forward/make_dense.py).
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { GraphOp, GraphValue } from "../../src/graph/types.js";
import type { LayerInfo } from "../../src/model/types.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { applyActivation, knownActivation, OPS } from "../../src/forward/ops/activation.js";
import type { PrepareContext, Tensor } from "../../src/forward/types.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import { bodyOf, loopsOf } from "../helpers/wat.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/forward/activation.json", import.meta.url), "utf8"));
const memory = await LinearMemory.create();

const numberOf = (v: number | string): number => (v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? NaN : (v as number));

function valuesOf(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.fround((((i + 1) * 2654435761 + seed * 97) % 4093) / 2046.5 - 1);
  return out;
}

function put(values: ArrayLike<number>, shape: number[] = [values.length]): Tensor {
  const t = memory.tensor(shape);
  memory.f32(t.ptr, values.length).set(values);
  return t;
}

/** Against the float64 value rounded to f32: 1e-5 relative, or 1e-9 absolute near 0 (tighter than 1e-6, so a formula that cancels near 0 fails); infinities and NaN exactly. */
function close(got: ArrayLike<number>, want: (number | string)[], what: string, inputs?: number[]): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const w = Math.fround(numberOf(want[i]));
    const g = got[i];
    const at = `${what} at x = ${inputs ? inputs[i] : i}: got ${g}, want ${numberOf(want[i])}`;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), at);
    else if (!Number.isFinite(w)) assert.is(g, w, at);
    else if (!(Math.abs(g - w) <= Math.max(1e-5 * Math.abs(w), 1e-9))) assert.unreachable(at);
  }
}

function op(layer: Partial<LayerInfo>, inputs: string[], name = "act", family = "activation"): GraphOp {
  return { index: 0, name, op: family, layer: { name, kind: "none", ...layer } as LayerInfo, inputs, outputs: [`${name}:0`] };
}

function context(weights: Record<string, { values: number[]; shape: number[] }> = {}, values: GraphValue[] = [], channelsLast = false): PrepareContext {
  return {
    memory,
    weight: async (name) => Float32Array.from(weights[name].values),
    tensorShape: (name) => weights[name]?.shape,
    graph: { values: new Map(values.map((v) => [v.name, v])), ops: [], inputs: [], outputs: [], chain: false, batched: true, notes: [] },
    channelsLast,
  };
}

test("every activation matches its float64 reference over negatives, zeros, tiny and large |x| (vector body and scalar tail)", () => {
  for (const c of fixture.cases) {
    const inputs: number[] = c.domain === "positive" ? fixture.positive : fixture.inputs;
    // Two offsets: the values from the first lane and shifted by one, so each value meets both the f32x4 body and the scalar tail.
    for (const shift of [0, 1, 3]) {
      const xs = inputs.slice(shift);
      const x = put(xs);
      const y = applyActivation(memory, x, c.name, c.attributes);
      assert.equal(y.shape, x.shape);
      close(memory.f32(y.ptr, xs.length), c.expected.slice(shift), `${c.name} ${JSON.stringify(c.attributes)}`, xs);
      memory.free(x.ptr);
      memory.free(y.ptr);
    }
  }
});

test("erf64 and erfc64 are within 1e-11 of Python's math.erf / math.erfc (every segment edge; the brief asks 1e-7)", () => {
  const ex = memory.exports;
  fixture.erf.x.forEach((x: number, i: number) => {
    const erf = ex.erf64(x), erfc = ex.erfc64(x);
    assert.ok(Math.abs(erf - fixture.erf.erf[i]) < 1e-11, `erf(${x}) = ${erf}, want ${fixture.erf.erf[i]}`);
    assert.ok(Math.abs(erfc - fixture.erf.erfc[i]) <= 1e-11 * fixture.erf.erfc[i] + (Math.abs(x) < 1 ? 1e-15 : 1e-300), `erfc(${x}) = ${erfc}, want ${fixture.erf.erfc[i]}`);
  });
});

test("softmax and log-softmax along each axis of [2, 3, 4] and a last axis of 7, and max-subtracted on values near 1000", () => {
  const s = fixture.softmax;
  for (const c of s.cases) {
    const shape: number[] = c.shape ?? s.shape;
    const n = shape.reduce((a, d) => a * d, 1);
    const x = put(Array.from(valuesOf(c.seed ?? s.seed, n), (v) => Math.fround(v * s.scale)), shape);
    const y = applyActivation(memory, x, c.log ? "log_softmax" : "softmax", { axis: c.axis });
    close(memory.f32(y.ptr, n), c.expected, `${c.log ? "log_softmax" : "softmax"} axis ${c.axis} of [${shape.join(", ")}]`);
    memory.free(x.ptr);
    memory.free(y.ptr);
  }
  const big = put(fixture.softmaxBig.x.map(numberOf), [2, 4]);
  const y = applyActivation(memory, big, "softmax", {});
  close(memory.f32(y.ptr, 8), fixture.softmaxBig.expected, "softmax of large values");
  memory.free(big.ptr);
  memory.free(y.ptr);
});

test("the activation op: ONNX Clip with constant bounds, PReLU with a per-channel slope, Keras PReLU, family ops", async () => {
  const xs = fixture.inputs as number[];
  // Clip(x, -0.25, 0.5), bounds as folded constants.
  const clipValues: GraphValue[] = [{ name: "lo", kind: "constant", floats: [-0.25], consumers: [] }, { name: "hi", kind: "constant", floats: [0.5], consumers: [] }];
  const clip = await OPS.activation(op({ attributes: { op: "activation", onnx: "Clip" } }, ["x", "lo", "hi"]), context({}, clipValues));
  let x = put(xs);
  let [y] = clip.run([x]).outputs;
  close(memory.f32(y!.ptr, xs.length), xs.map((v) => Math.min(Math.max(v, -0.25), 0.5)), "Clip");
  memory.free(y!.ptr);
  // Clip with the max only (min input "").
  const upper = await OPS.activation(op({ attributes: { op: "activation", onnx: "Clip" } }, ["x", "", "hi"]), context({}, clipValues));
  [y] = upper.run([x]).outputs;
  close(memory.f32(y!.ptr, xs.length), xs.map((v) => Math.min(v, 0.5)), "Clip max only");
  memory.free(y!.ptr);
  memory.free(x.ptr);

  const p = fixture.prelu;
  const slope = Array.from(valuesOf(p.slopeSeed, 3));
  const onnx = await OPS.activation(op({ attributes: { op: "activation", onnx: "PRelu" } }, ["x", "slope"]), context({ slope: { values: slope, shape: p.slope } }));
  x = put(valuesOf(p.xSeed, 24), p.x);
  [y] = onnx.run([x]).outputs;
  close(memory.f32(y!.ptr, 24), p.expected, "PRelu, slope [3, 1, 1]");
  memory.free(y!.ptr);
  onnx.dispose?.();
  // Keras PReLU: an "other" layer whose weight is the slope, here stored for the whole sample [3, 2, 2].
  const full = Array.from({ length: 12 }, (_, i) => slope[Math.floor(i / 4)]);
  const keras = await OPS.activation(op({ kind: "other", weight: "alpha", attributes: { op: "activation" } }, ["x"]), context({ alpha: { values: full, shape: [3, 2, 2] } }, [], true));
  [y] = keras.run([x]).outputs;
  close(memory.f32(y!.ptr, 24), p.expected, "Keras PReLU, slope [3, 2, 2]");
  memory.free(y!.ptr);
  keras.dispose?.();
  memory.free(x.ptr);

  // The family names run their function (sigmoid as its own op).
  const sigmoid = await OPS.sigmoid(op({}, ["x"], "s", "sigmoid"), context());
  x = put([-2, 0, 3]);
  [y] = sigmoid.run([x]).outputs;
  close(memory.f32(y!.ptr, 3), [-2, 0, 3].map((v) => 1 / (1 + Math.exp(-v))), "sigmoid op");
  memory.free(y!.ptr);
  memory.free(x.ptr);
});

test("defaults follow the file's framework: ONNX LeakyRelu 0.01, TF LeakyRelu 0.2, TF Relu6, ONNX Selu's gamma", async () => {
  const xs = [-2, -0.5, 0, 1.5];
  const cases: [Partial<LayerInfo>, boolean, number[]][] = [
    [{ activation: "leaky_relu", attributes: { op: "activation" } }, false, xs.map((v) => (v < 0 ? 0.01 * v : v))],
    [{ activation: "leaky_relu", attributes: { op: "activation", tf: "LeakyRelu" } }, true, xs.map((v) => (v < 0 ? 0.2 * v : v))],
    [{ activation: "relu", attributes: { op: "activation", tf: "Relu6", maxValue: 6 } }, true, xs.map((v) => Math.min(Math.max(v, 0), 6))],
    [{ attributes: { op: "activation", onnx: "Selu", gamma: 2 } }, false, xs.map((v) => 2 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)))],
    [{ activation: "elu", attributes: { op: "activation", alpha: 0.5 } }, true, xs.map((v) => (v > 0 ? v : 0.5 * Math.expm1(v)))],
  ];
  for (const [layer, channelsLast, want] of cases) {
    const prepared = await OPS.activation(op(layer, ["x"]), context({}, [], channelsLast));
    const x = put(xs);
    const [y] = prepared.run([x]).outputs;
    close(memory.f32(y!.ptr, xs.length), want, JSON.stringify(layer));
    memory.free(x.ptr);
    memory.free(y!.ptr);
  }
});

test("a fused activation as the executor runs it (an op reading and writing the weighted op's value, with its attributes)", async () => {
  const xs = [-2, -0.5, 0, 1.5];
  const cases: [Partial<LayerInfo>, boolean, number[]][] = [
    // Keras Dense(activation="leaky_relu"): keras.activations.leaky_relu's slope 0.2.
    [{ activation: "leaky_relu", attributes: { op: "activation" } }, true, xs.map((v) => (v < 0 ? 0.2 * v : v))],
    // TF.js _FusedMatMul with fused_ops [BiasAdd, Selu]: activation "unknown", fusedActivation "Selu".
    [{ activation: "unknown", attributes: { op: "activation", fusedActivation: "Selu" } }, true, xs.map((v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)))],
    // Keras Dense(activation="swish"): "unknown" with activationName.
    [{ activation: "unknown", attributes: { op: "activation", activationName: "swish" } }, true, xs.map((v) => v / (1 + Math.exp(-v)))],
  ];
  for (const [layer, channelsLast, want] of cases) {
    const prepared = await OPS.activation({ ...op(layer, ["dense:0"], "dense/activation"), outputs: ["dense:0"] }, context({}, [], channelsLast));
    const x = put(xs);
    const [y] = prepared.run([x]).outputs;
    close(memory.f32(y!.ptr, xs.length), want, JSON.stringify(layer));
    memory.free(x.ptr);
    memory.free(y!.ptr);
  }
  const prelu = await OPS.activation({ ...op({ activation: "unknown", attributes: { op: "activation", fusedActivation: "Prelu" } }, ["c:0"], "c/activation"), outputs: ["c:0"] }, context()).catch((e: unknown) => e);
  assert.ok(prelu instanceof ForwardUnsupported);
});

test("what cannot be pinned down is ForwardUnsupported, never a guess", async () => {
  const refuse = async (layer: Partial<LayerInfo>, channelsLast: boolean, phrase: RegExp, rank = 2) => {
    const shape = rank === 2 ? [2, 3] : [2, 3, 4];
    const x = put(new Array<number>(shape.reduce((a, d) => a * d, 1)).fill(0.5), shape);
    const error = await OPS.activation(op(layer, ["x"]), context({}, [], channelsLast)).then((p) => p.run([x])).then(() => undefined, (e: unknown) => e);
    memory.free(x.ptr);
    assert.ok(error instanceof ForwardUnsupported && phrase.test((error as Error).message), `${JSON.stringify(layer)}: ${String(error)}`);
  };
  await refuse({ activation: "unknown", attributes: { op: "activation", activationName: "my_custom" } }, true, /my_custom/);
  await refuse({ activation: "unknown", attributes: { op: "activation", activationName: "hard_sigmoid" } }, true, /Keras 3/);
  await refuse({ activation: "leaky_relu", attributes: { op: "activation" } }, true, /slope/);
  await refuse({ attributes: { op: "activation", onnx: "Not" } }, false, /"Not"/);
  await refuse({ activation: "softmax", attributes: { op: "activation" } }, false, /opset 13/, 3);
  await refuse({ attributes: { op: "activation", onnx: "LogSoftmax", axis: 1 } }, false, /opset 13/, 3);
  // A fused PReLU has no slope to read.
  const x = put([1, -1]);
  assert.throws(() => applyActivation(memory, x, "unknown", { fusedActivation: "Prelu" }), (e: unknown) => e instanceof ForwardUnsupported);
  memory.free(x.ptr);
});

test("an ONNX softmax along the last axis runs at any rank; knownActivation answers by name", async () => {
  const prepared = await OPS.activation(op({ activation: "softmax", attributes: { op: "activation", axis: -1 } }, ["x"]), context());
  const x = put([1, 2, 3, 4, 0, 0, 0, 0], [1, 2, 4]);
  const [y] = prepared.run([x]).outputs;
  const e = [1, 2, 3, 4].map((v) => Math.exp(v - 4));
  const sum = e.reduce((a, b) => a + b);
  close(memory.f32(y!.ptr, 8), [...e.map((v) => v / sum), 0.25, 0.25, 0.25, 0.25], "softmax rank 3");
  memory.free(x.ptr);
  memory.free(y!.ptr);
  for (const name of ["relu", "LeakyRelu", "hard_sigmoid", "gelu_tanh", "HardSwish", "log_softmax", "swish"]) assert.ok(knownActivation(name), name);
  for (const name of ["unknown", "my_custom", "Not"]) assert.not.ok(knownActivation(name), name);
});

test("the release build's activation kernel has f32x4 loops (relu, sigmoid through the vector exp, tanh)", () => {
  const wat = readFileSync("dist/cntscope.wat", "utf8");
  const loops = loopsOf(bodyOf(wat, "$assembly/forward/activation/activation"));
  assert.ok(loops.some((l) => l.includes("f32x4.max") && l.includes("v128.store")), "no f32x4.max loop (relu)");
  assert.ok(loops.some((l) => l.includes("f32x4.nearest") && l.includes("f32x4.div")), "no vector exp loop with a division (sigmoid)");
});

test.run();
