/**
 * Norms of the forward pass, inference form (assembly/forward/norm.ts):
 *   batch_norm     (x - mean) / sqrt(var + eps) · gamma + beta per channel, with the running
 *                  statistics: ONNX BatchNormalization's inputs [X, scale, B, mean, var]; a
 *                  PyTorch state_dict's `<m>.running_mean` / `<m>.running_var` (eps 1e-5), channel
 *                  axis 1; or the tensors the attributes `mean` and `variance` name (Keras and
 *                  TF.js BatchNormalization, the .npy/.npz Keras layout, TF FusedBatchNorm), on
 *                  attributes.axis (Keras, default -1) or by dataFormat (TF: NHWC the last axis,
 *                  NCHW axis 1), epsilon as the reader keeps it (Keras 1e-3, TF 1e-4)
 *   layer_norm     over the axes from `axis` on (ONNX LayerNormalization, eps 1e-5; Keras
 *                  LayerNormalization's axis or trailing run of axes, eps 1e-3)
 *   instance_norm  over each (sample, channel)'s spatial values (ONNX InstanceNormalization)
 *   group_norm     over each (sample, group of channels) (ONNX GroupNormalization's num_groups)
 *   rms_norm       x / sqrt(mean(x²) + eps) · weight over the last axis (transformers' LlamaRMSNorm,
 *                  T5LayerNorm): the epsilon the reader records (the Llama template: config.json's
 *                  rms_norm_eps); none recorded stops the op. Mean square in f64, on the host.
 *   rescale        x · scale + offset (Keras Rescaling); (x - mean) / max(sqrt(variance), 1e-7)
 *                  per feature of `axis` (Keras Normalization: its mean and variance as numbers or
 *                  tensor names; invert: x · sqrt(variance) + mean)
 * Statistics are f64 (normRows); scale and shift are folded in f64 at prepare and applied in f32.
 *
 * What a reader did not keep, the forward pass cannot make up (statistics listed as skipped by an
 * older reader, a norm whose kind is not said, a training-mode FusedBatchNorm, Keras 3's RMS
 * layer norm): each stops with ForwardUnsupported naming what is missing.
 */
import type { GraphOp } from "../../graph/types.js";
import { formatShape, quoteName } from "../../errors.js";
import type { PrepareContext, PreparedOp, PrepareOp, Tensor } from "../types.js";
import { elementsOf, ForwardUnsupported } from "../types.js";
import { axisOf, need } from "./merge.js";

/** Per-channel vectors packed in memory at prepare: [center | scale | shift], each `n` values (0: absent). */
interface Packed {
  block: number;
  n: number;
  center: number;
  scale: number;
  shift: number;
}

function pack(ctx: PrepareContext, n: number, center?: ArrayLike<number>, scale?: ArrayLike<number>, shift?: ArrayLike<number>): Packed {
  const parts = [center, scale, shift];
  const block = ctx.memory.alloc(3 * n);
  const view = ctx.memory.f32(block, 3 * n);
  parts.forEach((p, i) => p && view.set(p, i * n));
  return { block, n, center: center ? block : 0, scale: scale ? block + 4 * n : 0, shift: shift ? block + 8 * n : 0 };
}

async function vector(ctx: PrepareContext, op: GraphOp, name: string | undefined, n: number | undefined, what: string): Promise<Float32Array | undefined> {
  if (!name) return undefined;
  const v = await ctx.weight(name);
  if (n !== undefined && v.length !== n) throw new ForwardUnsupported(op, `its ${what} ${quoteName(name)} has ${v.length} values where ${n} were expected`);
  return v;
}

/**
 * Where the running statistics of a batch norm are: the tensors the reader names (Keras, TF), ONNX
 * inputs 3 and 4, or PyTorch's names beside its weight; and the channel axis (negative: from the end).
 */
function statisticsOf(op: GraphOp, ctx: PrepareContext): { mean: string; variance: string; epsilon: number; axis: number } | undefined {
  const a = op.layer.attributes ?? {};
  if (typeof a.mean === "string" && typeof a.variance === "string" && ctx.tensorShape(a.mean) && ctx.tensorShape(a.variance)) {
    if (Array.isArray(a.axis) && a.axis.length !== 1) throw new ForwardUnsupported(op, `it normalizes over the axes [${a.axis.join(", ")}] together; the forward pass runs a batch norm over one channel axis`);
    const axis = Array.isArray(a.axis) ? a.axis[0] : typeof a.axis === "number" ? a.axis : a.dataFormat === "channels_first" ? 1 : -1;
    return { mean: a.mean, variance: a.variance, epsilon: 1e-3, axis };
  }
  const onnx = a.op === "batch_norm" && op.inputs.length >= 5 && op.inputs[3] && op.inputs[4];
  if (onnx) return { mean: op.inputs[3], variance: op.inputs[4], epsilon: 1e-5, axis: 1 };
  const prefixes = [op.layer.weight, op.layer.bias].flatMap((n) => (n && /\.(weight|bias)$/.test(n) ? [n.replace(/\.(weight|bias)$/, "")] : []));
  for (const p of [...prefixes, op.layer.name]) {
    const mean = `${p}.running_mean`, variance = `${p}.running_var`;
    if (ctx.tensorShape(mean) && ctx.tensorShape(variance)) return { mean, variance, epsilon: 1e-5, axis: 1 };
  }
  return undefined;
}

/** Statistics the reader names but does not hand over (listed as skipped), for the message. */
function droppedStatistics(op: GraphOp, ctx: PrepareContext): string[] {
  const names: string[] = [];
  const add = (n: string | undefined) => n && ctx.graph.values.has(n) && !ctx.tensorShape(n) && names.push(n);
  if (op.inputs.length >= 5) [op.inputs[3], op.inputs[4]].forEach(add);
  for (const w of [op.layer.weight, op.layer.bias]) {
    const keras = w && /\/(gamma|beta)$/.test(w) ? w.replace(/\/(gamma|beta)$/, "") : undefined;
    if (keras) [`${keras}/moving_mean`, `${keras}/moving_variance`].forEach(add);
    const torch = w && /\.(weight|bias)$/.test(w) ? w.replace(/\.(weight|bias)$/, "") : undefined;
    if (torch) [`${torch}.running_mean`, `${torch}.running_var`].forEach(add);
  }
  for (const s of ["moving_mean", "moving_variance"]) add(`${op.layer.name}/${s}`);
  return [...new Set(names)];
}

function epsilonOf(op: GraphOp, fallback: number): number {
  const e = op.layer.attributes?.epsilon;
  return typeof e === "number" && e >= 0 ? e : fallback;
}

async function batchNorm(op: GraphOp, ctx: PrepareContext): Promise<PreparedOp> {
  if (typeof op.layer.attributes?.activationAfter === "string") throw new ForwardUnsupported(op, `the file fuses conv, batch norm and ${op.layer.attributes.activationAfter} in one op, and the reader puts the activation on the conv (before the norm), so the forward pass would apply it in the wrong order`);
  if (op.layer.attributes?.isTraining === 1) throw new ForwardUnsupported(op, "it is in training mode (is_training): it normalizes by each batch's own statistics, not its running ones");
  const stats = statisticsOf(op, ctx);
  if (!stats) {
    const dropped = droppedStatistics(op, ctx);
    if (dropped.length > 0) throw new ForwardUnsupported(op, `the reader lists its running statistics ${dropped.map(quoteName).join(", ")} as skipped, so they cannot be read`);
    throw new ForwardUnsupported(op, op.layer.attributes?.op === "batch_norm" ? "its running mean and variance are not in the file's description" : "the file's description does not say which norm it is (batch norm or layer norm), and no running statistics were found beside its weights");
  }
  const mean = await ctx.weight(stats.mean);
  const variance = await vector(ctx, op, stats.variance, mean.length, "running variance");
  const n = mean.length;
  const gamma = await vector(ctx, op, op.layer.weight, n, "scale");
  const beta = await vector(ctx, op, op.layer.bias, n, "shift");
  const eps = epsilonOf(op, stats.epsilon);
  const scale = new Float64Array(n);
  for (let c = 0; c < n; c++) scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance![c] + eps);
  const packed = pack(ctx, n, mean, scale, beta);
  const m = ctx.memory;
  return {
    run(inputs) {
      const [x] = need(op, inputs, 1);
      if (x.shape.length < 2) throw new ForwardUnsupported(op, `its input ${formatShape(x.shape)} has no channel axis`);
      const axis = axisOf(op, stats.axis, x.shape.length);
      if (x.shape[axis] !== n) throw new ForwardUnsupported(op, `its input ${formatShape(x.shape)} has ${x.shape[axis]} channels on axis ${axis}, its statistics ${n}`);
      const out = m.tensor(x.shape);
      m.exports.affineMid(x.ptr, out.ptr, elementsOf(x.shape.slice(0, axis)), n, elementsOf(x.shape.slice(axis + 1)), packed.center, packed.scale, packed.shift);
      return { outputs: [out, ...op.outputs.slice(1).map(() => undefined)] };
    },
    dispose: () => m.free(packed.block),
  };
}

/** Layer, instance and group norm: normalize rows of the data, then scale and shift per channel. */
async function rowNorm(op: GraphOp, ctx: PrepareContext, kind: "layer_norm" | "instance_norm" | "group_norm"): Promise<PreparedOp> {
  const a = op.layer.attributes ?? {};
  let trailing: ((rank: number) => number) | undefined;
  const eps = epsilonOf(op, 1e-5);
  const gammaShape = op.layer.weight ? ctx.tensorShape(op.layer.weight) : undefined;
  const gamma = await vector(ctx, op, op.layer.weight, undefined, "scale");
  const beta = await vector(ctx, op, op.layer.bias, gamma?.length, "shift");
  const n = gamma?.length ?? beta?.length ?? 0;
  const groupsAttr = a.num_groups ?? a.groups;
  if (kind === "group_norm" && typeof groupsAttr !== "number") throw new ForwardUnsupported(op, "the file's description does not keep its num_groups");
  if (a.rmsScaling === 1) throw new ForwardUnsupported(op, "it is a Keras LayerNormalization with rms_scaling (a root-mean-square norm), which the forward pass does not run");
  // Keras names the normalized axes; a trailing run of them is "from its first on", as ONNX says it.
  let axisAttr = typeof a.axis === "number" ? a.axis : undefined;
  if (Array.isArray(a.axis)) {
    const list = a.axis;
    axisAttr = undefined;
    trailing = (rank: number) => {
      const axes = [...new Set(list.map((v) => axisOf(op, v, rank)))].sort((p, q) => p - q);
      if (axes.some((v, i) => v !== rank - axes.length + i)) throw new ForwardUnsupported(op, `it normalizes over the axes [${list.join(", ")}], not a trailing run of its input's ${rank} axes`);
      return axes[0];
    };
  }
  const packed = n > 0 ? pack(ctx, n, undefined, gamma, beta) : undefined;
  const m = ctx.memory;
  return {
    run(inputs) {
      const [x] = need(op, inputs, 1);
      const rank = x.shape.length;
      let rows: number, cols: number, outer: number, mid: number, inner: number;
      if (kind === "layer_norm") {
        // ONNX: the normalized axes are axis.. (default -1); the reader keeps no axis, so the scale's rank says it.
        const axis = trailing ? trailing(rank) : axisOf(op, axisAttr ?? (gammaShape ? rank - Math.max(gammaShape.length, 1) : -1), rank);
        rows = elementsOf(x.shape.slice(0, axis));
        cols = elementsOf(x.shape.slice(axis));
        [outer, mid, inner] = [rows, cols, 1];
      } else {
        if (rank < 2) throw new ForwardUnsupported(op, `its input ${formatShape(x.shape)} has no channel axis`);
        const [batch, channels] = x.shape;
        const spatial = elementsOf(x.shape.slice(2));
        const groups = kind === "group_norm" ? (groupsAttr as number) : channels;
        if (groups < 1 || channels % groups !== 0) throw new ForwardUnsupported(op, `${groups} groups do not divide ${channels} channels`);
        rows = batch * groups;
        cols = (channels / groups) * spatial;
        // Scale per channel, or per group (GroupNormalization before opset 21).
        [outer, mid, inner] = n === groups && n !== channels ? [batch, groups, cols] : [batch, channels, spatial];
      }
      if (packed && mid !== n) throw new ForwardUnsupported(op, `its scale has ${n} values where its input ${formatShape(x.shape)} needs ${mid}`);
      const out = m.tensor(x.shape);
      m.exports.normRows(x.ptr, out.ptr, rows, cols, eps);
      if (packed) m.exports.affineMid(out.ptr, out.ptr, outer, mid, inner, 0, packed.scale, packed.shift);
      return { outputs: [out, ...op.outputs.slice(1).map(() => undefined)] };
    },
    dispose: () => packed && m.free(packed.block),
  };
}

/** Root-mean-square norm over the last axis, then the weight per feature (LlamaRMSNorm; no centering, no shift). */
async function rmsNorm(op: GraphOp, ctx: PrepareContext): Promise<PreparedOp> {
  const e = op.layer.attributes?.epsilon;
  if (typeof e !== "number" || !(e >= 0)) throw new ForwardUnsupported(op, "it is a root-mean-square norm whose epsilon the reader did not record: the Llama template records config.json's rms_norm_eps only beside a model_type whose blocks are plain Llama's (llama, mistral, qwen2, yi; Gemma's norms scale by 1 + weight), and a file without config.json says neither");
  if (op.layer.bias) throw new ForwardUnsupported(op, `a root-mean-square norm with a shift ${quoteName(op.layer.bias)} is not one the forward pass knows`);
  const gamma = await vector(ctx, op, op.layer.weight, undefined, "scale");
  const n = gamma?.length ?? 0;
  const weight = gamma ? Float64Array.from(gamma) : undefined;
  const m = ctx.memory;
  return {
    run(inputs) {
      const [x] = need(op, inputs, 1);
      const cols = x.shape[x.shape.length - 1];
      if (x.shape.length < 2 || (weight && cols !== n)) throw new ForwardUnsupported(op, `its input ${formatShape(x.shape)} does not end in the ${n} features of its weight`);
      const rows = elementsOf(x.shape) / cols;
      const out = m.tensor(x.shape);
      const src = m.f32(x.ptr, rows * cols), dst = m.f32(out.ptr, rows * cols);
      for (let r = 0; r < rows; r++) {
        let sq = 0;
        for (let c = 0; c < cols; c++) sq += src[r * cols + c] * src[r * cols + c];
        const inv = 1 / Math.sqrt(sq / cols + e);
        for (let c = 0; c < cols; c++) dst[r * cols + c] = src[r * cols + c] * inv * (weight ? weight[c] : 1);
      }
      return { outputs: [out, ...op.outputs.slice(1).map(() => undefined)] };
    },
  };
}

const norm: PrepareOp = async (op, ctx) => {
  const kind = op.layer.attributes?.op;
  if (kind === "rms_norm") return rmsNorm(op, ctx);
  if (kind === "layer_norm" || kind === "instance_norm" || kind === "group_norm") return rowNorm(op, ctx, kind);
  if (kind === "batch_norm" || kind === undefined) return batchNorm(op, ctx);
  throw new ForwardUnsupported(op, `the norm ${quoteName(String(kind))} is not one the forward pass runs`);
};

/** Numbers an attribute gives, or the tensor it names (read at prepare). */
async function valuesOf(op: GraphOp, ctx: PrepareContext, v: number | number[] | string | undefined, what: string): Promise<ArrayLike<number> | undefined> {
  if (typeof v === "number") return [v];
  if (Array.isArray(v)) return v;
  if (typeof v !== "string") return undefined;
  if (!ctx.tensorShape(v)) throw new ForwardUnsupported(op, `its ${what} ${quoteName(v)} is not a tensor of the file`);
  return ctx.weight(v);
}

/**
 * Keras Rescaling (x · scale + offset) and Normalization ((x - mean) / max(sqrt(variance), 1e-7),
 * or x · sqrt(variance) + mean with invert): one value, or one per feature of the axis (Keras
 * default -1), as the description keeps them.
 */
const rescale: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  let center: ArrayLike<number> | undefined, scale: ArrayLike<number>, shift: ArrayLike<number>;
  if (a.scale !== undefined) {
    const s = await valuesOf(op, ctx, a.scale, "scale"), o = (await valuesOf(op, ctx, a.offset, "offset")) ?? [0];
    if (!s || (o.length !== 1 && o.length !== s.length && s.length !== 1)) throw new ForwardUnsupported(op, "its scale and offset do not have one value or one per feature");
    const n = Math.max(s.length, o.length);
    scale = Array.from({ length: n }, (_, i) => s[s.length === 1 ? 0 : i]);
    shift = Array.from({ length: n }, (_, i) => o[o.length === 1 ? 0 : i]);
  } else {
    const mean = await valuesOf(op, ctx, a.mean, "mean"), variance = await valuesOf(op, ctx, a.variance, "variance");
    if (!mean || !variance) throw new ForwardUnsupported(op, "the file's description does not keep its scale and offset (Keras Rescaling) or its mean and variance (Keras Normalization)");
    if (mean.length !== variance.length && mean.length !== 1 && variance.length !== 1) throw new ForwardUnsupported(op, `its mean has ${mean.length} values and its variance ${variance.length}`);
    const n = Math.max(mean.length, variance.length);
    const m = Array.from({ length: n }, (_, i) => mean[mean.length === 1 ? 0 : i]), v = Array.from({ length: n }, (_, i) => variance[variance.length === 1 ? 0 : i]);
    // Keras: the standard deviation is at least backend.epsilon() (1e-7).
    const sd = v.map((x) => Math.max(Math.sqrt(x), 1e-7));
    if (a.invert === 1) [scale, shift] = [sd, m];
    else [center, scale, shift] = [m, sd.map((x) => 1 / x), new Array<number>(n).fill(0)];
  }
  const n = scale.length;
  const axisAttr = Array.isArray(a.axis) ? (a.axis.length === 1 ? a.axis[0] : undefined) : typeof a.axis === "number" ? a.axis : -1;
  if (axisAttr === undefined && n > 1) throw new ForwardUnsupported(op, `its statistics run over the axes [${(a.axis as number[]).join(", ")}] together`);
  const packed = pack(ctx, n, center, scale, shift);
  const m = ctx.memory;
  return {
    run(inputs) {
      const x: Tensor = need(op, inputs, 1)[0];
      const out = m.tensor(x.shape);
      if (n === 1) m.exports.affineMid(x.ptr, out.ptr, 1, 1, elementsOf(x.shape), packed.center, packed.scale, packed.shift);
      else {
        const axis = axisOf(op, axisAttr ?? -1, x.shape.length);
        if (x.shape[axis] !== n) throw new ForwardUnsupported(op, `its input ${formatShape(x.shape)} has ${x.shape[axis]} features on axis ${axis}, its statistics ${n}`);
        m.exports.affineMid(x.ptr, out.ptr, elementsOf(x.shape.slice(0, axis)), n, elementsOf(x.shape.slice(axis + 1)), packed.center, packed.scale, packed.shift);
      }
      return { outputs: [out] };
    },
    dispose: () => m.free(packed.block),
  };
};

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { norm, rescale };
