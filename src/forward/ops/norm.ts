/**
 * Norms of the forward pass, inference form (assembly/forward/norm.ts):
 *   batch_norm     (x - mean) / sqrt(var + eps) · gamma + beta per channel, with the running
 *                  statistics: ONNX BatchNormalization's inputs [X, scale, B, mean, var]; a
 *                  PyTorch state_dict's `<m>.running_mean` / `<m>.running_var` (eps 1e-5). Channel
 *                  axis 1 (ONNX, PyTorch), the last axis for channels-last models.
 *   layer_norm     over the axes from `axis` on (ONNX LayerNormalization; eps 1e-5)
 *   instance_norm  over each (sample, channel)'s spatial values (ONNX InstanceNormalization)
 *   group_norm     over each (sample, group of channels) (ONNX GroupNormalization, when the reader
 *                  keeps num_groups)
 *   rescale        x · scale + offset (Keras Rescaling, when the reader keeps scale and offset)
 * Statistics are f64 (normRows); scale and shift are folded in f64 at prepare and applied in f32.
 *
 * What the readers drop, the forward pass cannot make up: Keras and TF.js BatchNormalization
 * (moving_mean / moving_variance are listed as skipped and not readable), TF FusedBatchNorm (its
 * mean and variance likewise), Keras LayerNormalization (no attribute tells it from a batch norm),
 * the .npy/.npz Keras layout (moving statistics dropped): each stops with ForwardUnsupported naming
 * what is missing.
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

/** Where the running statistics of a batch norm are: ONNX inputs 3 and 4, or PyTorch's names beside its weight. */
function statisticsOf(op: GraphOp, ctx: PrepareContext): { mean: string; variance: string; epsilon: number; channelsFirst: boolean } | undefined {
  const onnx = op.layer.attributes?.op === "batch_norm" && op.inputs.length >= 5 && op.inputs[3] && op.inputs[4];
  if (onnx) return { mean: op.inputs[3], variance: op.inputs[4], epsilon: 1e-5, channelsFirst: true };
  const prefixes = [op.layer.weight, op.layer.bias].flatMap((n) => (n && /\.(weight|bias)$/.test(n) ? [n.replace(/\.(weight|bias)$/, "")] : []));
  for (const p of [...prefixes, op.layer.name]) {
    const mean = `${p}.running_mean`, variance = `${p}.running_var`;
    if (ctx.tensorShape(mean) && ctx.tensorShape(variance)) return { mean, variance, epsilon: 1e-5, channelsFirst: true };
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
      const axis = stats.channelsFirst ? 1 : x.shape.length - 1;
      if (x.shape.length < 2) throw new ForwardUnsupported(op, `its input ${formatShape(x.shape)} has no channel axis`);
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
  const eps = epsilonOf(op, 1e-5);
  const gammaShape = op.layer.weight ? ctx.tensorShape(op.layer.weight) : undefined;
  const gamma = await vector(ctx, op, op.layer.weight, undefined, "scale");
  const beta = await vector(ctx, op, op.layer.bias, gamma?.length, "shift");
  const n = gamma?.length ?? beta?.length ?? 0;
  const groupsAttr = a.num_groups ?? a.groups;
  if (kind === "group_norm" && typeof groupsAttr !== "number") throw new ForwardUnsupported(op, "the file's description does not keep its num_groups");
  const packed = n > 0 ? pack(ctx, n, undefined, gamma, beta) : undefined;
  const m = ctx.memory;
  return {
    run(inputs) {
      const [x] = need(op, inputs, 1);
      const rank = x.shape.length;
      let rows: number, cols: number, outer: number, mid: number, inner: number;
      if (kind === "layer_norm") {
        // ONNX: the normalized axes are axis.. (default -1); the reader keeps no axis, so the scale's rank says it.
        const axis = axisOf(op, typeof a.axis === "number" ? a.axis : gammaShape ? rank - Math.max(gammaShape.length, 1) : -1, rank);
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

const norm: PrepareOp = async (op, ctx) => {
  const kind = op.layer.attributes?.op;
  if (kind === "layer_norm" || kind === "instance_norm" || kind === "group_norm") return rowNorm(op, ctx, kind);
  if (kind === "batch_norm" || kind === undefined) return batchNorm(op, ctx);
  throw new ForwardUnsupported(op, `the norm ${quoteName(String(kind))} is not one the forward pass runs`);
};

/** x · scale + offset (Keras Rescaling), when the description keeps both numbers. */
const rescale: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  if (typeof a.scale !== "number") throw new ForwardUnsupported(op, "the file's description does not keep its scale and offset (Keras Rescaling) or its mean and variance (Keras Normalization)");
  const packed = pack(ctx, 1, undefined, [a.scale], [typeof a.offset === "number" ? a.offset : 0]);
  const m = ctx.memory;
  return {
    run(inputs) {
      const x: Tensor = need(op, inputs, 1)[0];
      const out = m.tensor(x.shape);
      m.exports.affineMid(x.ptr, out.ptr, 1, 1, elementsOf(x.shape), 0, packed.scale, packed.shift);
      return { outputs: [out] };
    },
    dispose: () => m.free(packed.block),
  };
};

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { norm, rescale };
