/**
 * Activations (spec metrics.md section 3: a = f(z)): the "activation" op every reader emits for a
 * one-to-one function (and the family names "relu", "sigmoid", "tanh", "softmax"), and
 * `applyActivation` for a weighted op's fused activation (Keras Dense(activation=...), TF.js
 * _FusedMatMul). Kernels: assembly/forward/activation.ts.
 *
 * How readers name a function, and where its parameters come from:
 *   ONNX          attributes.onnx = op type for Clip, HardSigmoid, Selu, ...; Relu, LeakyRelu, Elu,
 *                 Gelu, Softmax, ... carry no tag (a channels-first model's defaults apply: ONNX's,
 *                 which PyTorch shares). LeakyRelu alpha (0.01), Elu alpha (1), Selu alpha/gamma,
 *                 Celu alpha, Gelu approximate ("none" | "tanh"), HardSigmoid alpha/beta (0.2, 0.5),
 *                 HardSwish, Clip min/max (inputs 1, 2 from opset 11; attributes before), PRelu
 *                 slope (input 1), Softmax/LogSoftmax axis, ThresholdedRelu alpha (1), Shrink, ...
 *   TF.js graph (attributes.tf = op)  Relu6 (maxValue 6), LeakyRelu alpha (0.2), Elu, Selu,
 *                 ClipByValue (inputs 1, 2), Prelu (input 1), Softmax (last axis), Rsqrt, ...;
 *                 fused into a MatMul/Conv: attributes.fusedActivation
 *   Keras layers  layer.activation, or "unknown" with attributes.activationName (selu, swish,
 *                 hard_sigmoid, relu6, exponential, ...); ReLU maxValue/negativeSlope/threshold,
 *                 LeakyReLU alpha (Keras 2) or negativeSlope (Keras 3; the reader drops 0), ELU
 *                 alpha; PReLU is an "other" layer whose weight is the slope
 * A function or parameter this module cannot pin down (Keras hard_sigmoid without its slope:
 * 0.2 in Keras 2 and TF.js, 1/6 in Keras 3) is ForwardUnsupported, never a guess.
 */
import type { GraphOp } from "../../graph/types.js";
import type { ForwardMemory, PrepareContext, PrepareOp, PreparedOp, Tensor } from "../types.js";
import { elementsOf, ForwardUnsupported } from "../types.js";

/** The kernel's function codes (assembly/forward/activation.ts ACT_*). */
export const ACT = {
  linear: 0, relu: 1, clip: 2, leaky: 3, elu: 4, gelu: 5, geluTanh: 6, silu: 7, hardSigmoid: 8, hardSwish: 9, sigmoid: 10, tanh: 11,
  softplus: 12, softsign: 13, mish: 14, exp: 15, log: 16, sqrt: 17, neg: 18, abs: 19, reciprocal: 20, erf: 21, thresholded: 22,
  rsqrt: 23, square: 24, log1p: 25, floor: 26, ceil: 27, round: 28, sign: 29, sin: 30, cos: 31, shrink: 32,
} as const;

/** What runs: one kernel call over the values, a softmax along an axis, or a PReLU with a slope tensor. */
export type ActivationPlan =
  | { kind: "map"; code: number; p: [number, number, number] }
  | { kind: "softmax"; log: boolean; axis: number | undefined; onnx: boolean }
  | { kind: "prelu" };

type Attributes = Record<string, unknown> | undefined;
/** Whose defaults: ONNX (and PyTorch, which share them), TF ops, Keras. */
export type Origin = "onnx" | "tf" | "keras";
interface Use {
  attributes: Attributes;
  origin: Origin;
  /** A weighted op's fused activation rather than an op of its own. */
  fused: boolean;
}

/** SELU's constants as ONNX states them (and Keras / PyTorch to f32 precision). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_GAMMA = 1.0507009873554805;

const map = (code: number, p0 = 0, p1 = 0, p2 = 0): ActivationPlan => ({ kind: "map", code, p: [p0, p1, p2] });
const num = (a: Attributes, key: string): number | undefined => (typeof a?.[key] === "number" && Number.isFinite(a[key]) ? (a[key] as number) : undefined);

/** Each function by its normalised name (lowercase, no "_" or "-"): a plan, or why it cannot run. */
const FUNCTIONS: Record<string, (use: Use) => ActivationPlan | string> = {
  linear: () => map(ACT.linear),
  identity: () => map(ACT.linear),
  relu: ({ attributes: a, origin }) => {
    const maxValue = num(a, "maxValue");
    const slope = origin === "keras" ? num(a, "negativeSlope") ?? 0 : 0;
    const threshold = origin === "keras" ? num(a, "threshold") ?? 0 : 0;
    if (slope === 0 && threshold === 0) return maxValue === undefined ? map(ACT.relu, 0, 0, Infinity) : map(ACT.clip, 0, maxValue);
    return map(ACT.relu, slope, threshold, maxValue ?? Infinity);
  },
  relu6: () => map(ACT.clip, 0, 6),
  leakyrelu: ({ attributes: a, origin, fused }) => {
    // Defaults: TF 0.2; ONNX and PyTorch (a channels-first model's fused activation) 0.01; keras.activations.leaky_relu
    // (Dense(activation="leaky_relu")) 0.2. A Keras op without a slope is either a LeakyReLU layer whose
    // negative_slope 0 the reader dropped or Activation("leaky_relu") (0.2): refused.
    const slope = num(a, "alpha") ?? num(a, "negativeSlope") ?? (origin === "tf" ? 0.2 : origin === "onnx" ? 0.01 : fused ? 0.2 : undefined);
    return slope === undefined ? "a Keras leaky_relu op without its slope is a LeakyReLU layer with slope 0 or Activation(\"leaky_relu\") with 0.2" : map(ACT.leaky, slope);
  },
  elu: ({ attributes: a, origin }) => map(ACT.elu, origin === "tf" ? 1 : num(a, "alpha") ?? 1, 1, 1),
  selu: ({ attributes: a, origin }) => map(ACT.elu, origin === "onnx" ? num(a, "alpha") ?? SELU_ALPHA : SELU_ALPHA, origin === "onnx" ? num(a, "gamma") ?? SELU_GAMMA : SELU_GAMMA, 1),
  celu: ({ attributes: a }) => {
    const alpha = num(a, "alpha") ?? 1;
    return alpha === 0 ? "CELU with alpha = 0 divides by zero" : map(ACT.elu, alpha, 1, 1 / alpha);
  },
  gelu: ({ attributes: a }) => (a?.approximate === "tanh" ? map(ACT.geluTanh) : a?.approximate === undefined || a.approximate === "none" ? map(ACT.gelu) : `GELU approximate = ${JSON.stringify(String(a.approximate).slice(0, 20))} is not "none" or "tanh"`),
  gelutanh: () => map(ACT.geluTanh),
  gelunew: () => map(ACT.geluTanh),
  gelupytorchtanh: () => map(ACT.geluTanh),
  silu: () => map(ACT.silu, 1),
  swish: () => map(ACT.silu, 1),
  hardsigmoid: ({ attributes: a, origin }) => {
    const alpha = num(a, "alpha"), beta = num(a, "beta");
    if (origin === "onnx") return map(ACT.hardSigmoid, alpha ?? 0.2, beta ?? 0.5);
    if (alpha !== undefined && beta !== undefined) return map(ACT.hardSigmoid, alpha, beta);
    return "hard_sigmoid is 0.2 x + 0.5 in Keras 2 and TF.js but x / 6 + 0.5 in Keras 3, and the file does not say which";
  },
  hardswish: () => map(ACT.hardSwish, 1 / 6, 0.5),
  hardsilu: () => map(ACT.hardSwish, 1 / 6, 0.5),
  sigmoid: () => map(ACT.sigmoid),
  tanh: () => map(ACT.tanh),
  softplus: () => map(ACT.softplus),
  softsign: () => map(ACT.softsign),
  mish: () => map(ACT.mish),
  exp: () => map(ACT.exp),
  exponential: () => map(ACT.exp),
  log: () => map(ACT.log),
  sqrt: () => map(ACT.sqrt),
  neg: () => map(ACT.neg),
  abs: () => map(ACT.abs),
  reciprocal: () => map(ACT.reciprocal),
  erf: () => map(ACT.erf),
  thresholdedrelu: ({ attributes: a, origin }) => {
    const alpha = num(a, "alpha") ?? (origin === "onnx" ? 1 : undefined);
    return alpha === undefined ? "ThresholdedReLU's theta is not in the layer's attributes" : map(ACT.thresholded, alpha);
  },
  rsqrt: () => map(ACT.rsqrt),
  square: () => map(ACT.square),
  log1p: () => map(ACT.log1p),
  floor: () => map(ACT.floor),
  ceil: () => map(ACT.ceil),
  round: () => map(ACT.round),
  sign: () => map(ACT.sign),
  sin: () => map(ACT.sin),
  cos: () => map(ACT.cos),
  shrink: ({ attributes: a }) => map(ACT.shrink, num(a, "bias") ?? 0, num(a, "lambd") ?? 0.5),
  softmax: ({ attributes: a, origin }) => ({ kind: "softmax", log: false, axis: num(a, "axis"), onnx: origin === "onnx" }),
  logsoftmax: ({ attributes: a, origin }) => ({ kind: "softmax", log: true, axis: num(a, "axis"), onnx: origin === "onnx" }),
  // Clip and PReLU read their bounds and slope at prepare (OPS below); as fused activations they cannot run.
  clip: ({ attributes: a }) => map(ACT.clip, num(a, "min") ?? -Infinity, num(a, "max") ?? Infinity),
  clipbyvalue: () => map(ACT.clip, -Infinity, Infinity),
  prelu: ({ fused }) => (fused ? "a fused PReLU's slope is a tensor the fused op does not carry" : { kind: "prelu" }),
};

function normal(name: string): string {
  return name.toLowerCase().replace(/[_\s-]/g, "");
}

/** Whether `name` is a function this module runs (the executor checks fused activations with it). */
export function knownActivation(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, normal(name));
}

/**
 * Whose conventions (defaults) apply: a reader's tag where it left one, else the caller's hint.
 * ONNX's Relu, LeakyRelu, Elu, Gelu, Softmax, ... carry no tag: the "activation" op takes the
 * model's feature-map order as the hint (channels first: ONNX or PyTorch; channels last: Keras).
 */
function originOf(attributes: Attributes, hint: Origin): Origin {
  if (typeof attributes?.onnx === "string") return "onnx";
  if (typeof attributes?.tf === "string" || typeof attributes?.fusedActivation === "string") return "tf";
  return hint;
}

/** The function's name: the file's own op name where a reader kept it, else the activation (or the Keras name behind "unknown"). */
function nameOf(activation: string | undefined, attributes: Attributes, fused: boolean): string | undefined {
  if (fused) {
    if (typeof attributes?.fusedActivation === "string") return attributes.fusedActivation;
  } else {
    if (typeof attributes?.onnx === "string") return attributes.onnx;
    if (typeof attributes?.tf === "string") return attributes.tf;
  }
  if (activation !== undefined && activation !== "unknown") return activation;
  return typeof attributes?.activationName === "string" ? attributes.activationName : activation;
}

/** The plan for a function, or a sentence saying why it cannot run. */
export function planActivation(activation: string | undefined, attributes: Attributes, fused: boolean, hint: Origin = "keras"): ActivationPlan | string {
  const name = nameOf(activation, attributes, fused);
  if (name === undefined) return "the op names no activation function";
  const key = normal(name);
  if (!Object.hasOwn(FUNCTIONS, key)) return `the activation ${JSON.stringify(name.slice(0, 40))} is not one the forward pass knows`;
  return FUNCTIONS[key]({ attributes, origin: originOf(attributes, hint), fused });
}

/**
 * A new tensor holding f(x) for a weighted op's fused activation (layer.activation with
 * layer.attributes). Throws ForwardUnsupported (naming `op` when given) for a function it does not know.
 * @example const a = applyActivation(memory, z, "relu");
 */
export function applyActivation(memory: ForwardMemory, x: Tensor, activation: string, attributes?: Record<string, unknown>, op?: GraphOp): Tensor {
  const plan = planActivation(activation, attributes, true);
  if (typeof plan === "string" || plan.kind === "prelu") {
    throw new ForwardUnsupported(op ?? ({ name: activation, op: "activation" } as GraphOp), typeof plan === "string" ? plan : "PReLU needs its slope");
  }
  return runPlan(memory, plan, x, op);
}

function runPlan(memory: ForwardMemory, plan: Exclude<ActivationPlan, { kind: "prelu" }>, x: Tensor, op: GraphOp | undefined): Tensor {
  const out: Tensor = { ...memory.tensor(x.shape), ...(x.constant ? { constant: true } : {}) };
  if (plan.kind === "map") {
    memory.exports.activation(plan.code, x.ptr, out.ptr, elementsOf(x.shape), ...plan.p);
    return out;
  }
  const rank = x.shape.length;
  let axis = plan.axis ?? -1;
  if (axis < 0) axis += rank;
  const fail = (what: string) => {
    memory.free(out.ptr);
    return new ForwardUnsupported(op ?? ({ name: "softmax", op: "activation" } as GraphOp), what);
  };
  if (axis < 0 || axis >= rank) throw fail(`softmax axis ${plan.axis} is outside a rank-${rank} value`);
  // ONNX before opset 13 flattens from the axis (default 1); from 13 one axis (default -1). Both agree on the last axis.
  if (plan.onnx && rank > 2 && (plan.axis === undefined || axis !== rank - 1)) {
    throw fail(`${plan.log ? "LogSoftmax" : "Softmax"} ${plan.axis === undefined ? "without an axis attribute" : `along axis ${plan.axis}`} on a rank-${rank} value means different things before and from opset 13`);
  }
  const outer = elementsOf(x.shape.slice(0, axis)), len = x.shape[axis], inner = elementsOf(x.shape.slice(axis + 1));
  memory.exports.softmax(x.ptr, out.ptr, outer, len, inner, plan.log ? 1 : 0);
  return out;
}

/** A constant scalar input (Clip's min and max, ClipByValue's bounds): folded in the graph, or read from the file. */
async function constantScalar(op: GraphOp, ctx: PrepareContext, name: string | undefined, what: string): Promise<number | undefined> {
  if (!name) return undefined;
  const value = ctx.graph.values.get(name);
  if (value?.floats?.length === 1) return value.floats[0];
  if (value?.values?.length === 1) return value.values[0];
  if (ctx.tensorShape(name) !== undefined) {
    const data = await ctx.weight(name);
    if (data.length === 1) return data[0];
  }
  throw new ForwardUnsupported(op, `its ${what} ${JSON.stringify(name.slice(0, 60))} is not a constant scalar`);
}

/** The slope of a PReLU broadcast to one sample's shape (numpy rules; a leading batch axis of 1 is dropped). */
function broadcastSlope(op: GraphOp, slope: Float32Array, slopeShape: number[], sample: number[]): Float32Array {
  let shape = slopeShape;
  if (shape.length === sample.length + 1) {
    if (shape[0] !== 1) throw new ForwardUnsupported(op, `its slope of shape [${slopeShape.join(", ")}] varies along the batch axis`);
    shape = shape.slice(1);
  }
  if (shape.length > sample.length) throw new ForwardUnsupported(op, `its slope of shape [${slopeShape.join(", ")}] has more axes than the value [${sample.join(", ")}]`);
  const full = [...new Array<number>(sample.length - shape.length).fill(1), ...shape];
  if (full.some((d, i) => d !== 1 && d !== sample[i])) throw new ForwardUnsupported(op, `its slope of shape [${slopeShape.join(", ")}] does not broadcast to [${sample.join(", ")}]`);
  const size = elementsOf(sample);
  const out = new Float32Array(size);
  const strides = full.map((_, i) => (full[i] === 1 ? 0 : elementsOf(full.slice(i + 1))));
  const index = new Array<number>(sample.length).fill(0);
  for (let e = 0; e < size; e++) {
    let s = 0;
    for (let d = 0; d < sample.length; d++) s += index[d] * strides[d];
    out[e] = slope[s];
    for (let d = sample.length - 1; d >= 0; d--) {
      if (++index[d] < sample[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The "activation" op (and "relu", "sigmoid", "tanh", "softmax"): f over its first input. */
const prepareActivation: PrepareOp = async (op, ctx) => {
  const layer = op.layer;
  const attributes = layer.attributes as Attributes;
  // Keras PReLU: an "other" layer whose weight is the slope.
  const kerasPrelu = layer.kind === "other" && layer.weight !== undefined && layer.activation === undefined;
  const family = op.op === "activation" ? undefined : op.op;
  // A weighted op's fused activation: the executor (src/forward/execute.ts) runs it as an op that reads
  // and writes the weighted op's value, with the weighted layer's attributes (fusedActivation, activationName).
  const fused = op.inputs.length === 1 && op.inputs[0] === op.outputs[0];
  let plan = kerasPrelu ? ({ kind: "prelu" } as const) : planActivation(family ?? layer.activation, attributes, fused, ctx.channelsLast ? "keras" : "onnx");
  if (typeof plan === "string") throw new ForwardUnsupported(op, plan);
  const name = (attributes?.onnx ?? attributes?.tf) as string | undefined;
  if (plan.kind === "map" && plan.code === ACT.clip && (name === "Clip" || name === "ClipByValue")) {
    // ONNX Clip from opset 11 and TF ClipByValue: the bounds are inputs 1 and 2.
    const lo = await constantScalar(op, ctx, op.inputs[1], "minimum");
    const hi = await constantScalar(op, ctx, op.inputs[2], "maximum");
    if (name === "ClipByValue" && (lo === undefined || hi === undefined)) throw new ForwardUnsupported(op, "ClipByValue needs both bounds");
    plan = map(ACT.clip, lo ?? plan.p[0], hi ?? plan.p[1]);
  }
  if (plan.kind !== "prelu") {
    const fixed = plan;
    return { run: (inputs) => ({ outputs: [runPlan(ctx.memory, fixed, input(op, inputs), op)] }) };
  }
  const slopeName = kerasPrelu ? layer.weight! : op.inputs[1];
  const slopeShape = slopeName ? ctx.tensorShape(slopeName) : undefined;
  if (!slopeName || !slopeShape) throw new ForwardUnsupported(op, "its PReLU slope is not a tensor of the file");
  const slope = await ctx.weight(slopeName);
  let cached: { key: string; ptr: number } | undefined;
  const prepared: PreparedOp = {
    run: (inputs) => {
      const x = input(op, inputs);
      const sample = x.constant ? x.shape : x.shape.slice(1);
      const samples = x.constant ? 1 : x.shape[0];
      const key = sample.join(",");
      if (cached?.key !== key) {
        const expanded = broadcastSlope(op, slope, slopeShape, sample);
        if (cached) ctx.memory.free(cached.ptr);
        const ptr = ctx.memory.alloc(expanded.length);
        ctx.memory.f32(ptr, expanded.length).set(expanded);
        cached = { key, ptr };
      }
      const out: Tensor = ctx.memory.tensor(x.shape);
      ctx.memory.exports.prelu(x.ptr, out.ptr, samples, elementsOf(sample), cached.ptr);
      return { outputs: [out] };
    },
    dispose: () => {
      if (cached) ctx.memory.free(cached.ptr);
      cached = undefined;
    },
  };
  return prepared;
};

function input(op: GraphOp, inputs: (Tensor | undefined)[]): Tensor {
  const x = inputs[0];
  if (!x) throw new ForwardUnsupported(op, "it has no input value");
  return x;
}

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = {
  activation: prepareActivation,
  relu: prepareActivation,
  sigmoid: prepareActivation,
  tanh: prepareActivation,
  softmax: prepareActivation,
};
