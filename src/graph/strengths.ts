import { CntError, quoteName } from "../errors.js";
import type { TensorSummary } from "../metrics/measure.js";
import type { LayerInfo, ModelInfo, TensorInfo } from "../model/types.js";
import type { Kernels } from "../wasm/kernels.js";
import { checkLimit, type Limits } from "../model/limits.js";
import { convGeometry } from "./conv-geometry.js";
import { convKernel } from "./conv-layer.js";
import { convStrengthMaps } from "./conv-strengths.js";

/** One node layer of the graph: every node's s_in and s_out, channel-major (c, y, x) for feature maps. */
export interface NodeStrengths {
  after: string;
  /** [n] for a vector, [c, h, w] for a feature map. */
  shape: number[];
  sIn: Float64Array;
  sOut: Float64Array;
  s: Float64Array;
}

interface Options {
  bias: "in" | "ignore";
  boundary: "unit" | "zero";
  limits: Limits;
}

/** The node layer being built: its s_in is known, its s_out comes from the next weighted layer. */
interface Open {
  after: string;
  shape: number[];
  sIn: Float64Array;
  /** Set by a flatten of a feature map: the order the next dense layer indexes it in. */
  flattenedFrom?: { c: number; h: number; w: number; order: "channels_first" | "channels_last" };
  /** Recurrent hidden nodes: their links to the next step's hidden nodes, added to any s_out. */
  recurrentOut?: Float64Array;
}

/** Ops that map nodes one to one and keep the chain (spec section 1, "Other layers"). */
const ELEMENTWISE = new Set(["activation", "dropout", "identity", "relu", "softmax", "sigmoid", "tanh"]);
/** Ops that merge or copy nodes: the chain breaks, both sides get the boundary rule. */
const BREAKS = new Set(["pool", "global_pool", "upsample"]);
const CONV_KINDS = new Set(["conv2d", "conv1d", "conv2d_transpose"]);

/**
 * Node strengths of a chain of layers (spec section 2): node layer 0 is the input, then one node
 * layer after every weighted layer and after every chain break. Returns the node layers and
 * notes on whatever the walk could not place (branches, recurrent layers for now).
 */
export function nodeStrengths(kernels: Kernels, model: ModelInfo, summaries: Map<string, TensorSummary>, options: Options, inputShape?: number[]): { layers: NodeStrengths[]; notes: string[] } {
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  const order = model.dataFormat ?? "channels_first";
  const boundary = options.boundary === "unit" ? 1 : 0;
  const done: NodeStrengths[] = [];
  const notes: string[] = [];
  let open: Open | undefined;

  const close = (sOut: Float64Array | null) => {
    if (!open) return;
    checkLimit(options.limits, "maxLayerNodes", open.sIn.length, `Node layer after ${quoteName(open.after)}: its node count`, { file: model.name });
    const n = open.sIn.length;
    const out = sOut ?? new Float64Array(n).fill(boundary);
    if (open.recurrentOut) for (let i = 0; i < n; i++) out[i] += open.recurrentOut[i];
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = open.sIn[i] + out[i];
    done.push({ after: open.after, shape: open.shape, sIn: open.sIn, sOut: out, s });
    open = undefined;
  };
  const startInput = (shape: number[]) => {
    checkLimit(options.limits, "maxLayerNodes", shape.reduce((a, b) => a * b, 1), "The input node layer's node count", { file: model.name });
    open = { after: "input", shape, sIn: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(boundary) };
  };
  const featureMapInput = (layer: LayerInfo, cIn: number): number[] => {
    const given = inputShape ?? model.inputShape;
    if (!given || given.length < 2) {
      throw new CntError("LAYOUT_NEEDED", `Conv layer ${quoteName(layer.name)} comes first, so its strengths need the input's size; give inputShape (CLI --input, e.g. ${cIn}x28x28) in ${order === "channels_first" ? "(c, h, w)" : "(h, w, c)"} order.`);
    }
    const chw = layer.kind === "conv1d"
      ? (order === "channels_first" ? [given[0], 1, given[1]] : [given[1], 1, given[0]])
      : order === "channels_first" ? given.slice(-3) : [given[given.length - 1], ...given.slice(-3, -1)];
    return chw;
  };

  const skip = new Set<LayerInfo>();
  for (const layer of model.layers) {
    if (skip.has(layer)) continue;
    if (layer.kind === "dense") {
      const w = tensor(tensors, layer.weight, layer);
      const sums = summaries.get(w.name)!;
      const outIn = layer.weightLayout !== "in_out";
      const nIn = outIn ? w.shape[1] : w.shape[0];
      const nOut = outIn ? w.shape[0] : w.shape[1];
      if (!open) startInput([nIn]);
      const fromInputs = outIn ? sums.colSums! : sums.rowSums!;
      // A dense layer right after a feature map flattens it in the framework's order.
      if (open!.shape.length === 3 && !open!.flattenedFrom) {
        const [c, h, w] = open!.shape;
        open = { ...open!, flattenedFrom: { c, h, w, order } };
      }
      close(inputOrder(open!, fromInputs, nIn, layer));
      const sIn = Float64Array.from(outIn ? sums.rowSums! : sums.colSums!);
      addBias(sIn, layer, summaries, options, 1);
      open = { after: layer.name, shape: [nOut], sIn };
    } else if (CONV_KINDS.has(layer.kind)) {
      if (layer.attributes?.stride === undefined && layer.attributes?.autoPad === undefined) {
        // A state_dict names a conv's kernel but not its stride or padding: say so, never guess.
        notes.push(`Node strengths stop at conv layer ${quoteName(layer.name)}: the file does not give its stride and padding; pass them in a layout (option layout, CLI --layout layout.json), e.g. {"layers": {${JSON.stringify(layer.name)}: {"stride": [1, 1], "pads": [0, 0, 0, 0]}}}.`);
        close(null);
        return { layers: done, notes };
      }
      const w = tensor(tensors, layer.weight, layer);
      const kernel = convKernel(layer, w);
      if (!open) startInput(featureMapInput(layer, kernel.cIn));
      const shape = open!.shape;
      if (shape.length !== 3 || shape[0] !== kernel.cIn) {
        throw new CntError("LAYOUT_NEEDED", `Conv layer ${quoteName(layer.name)} takes ${kernel.cIn} channels, but the nodes before it have shape [${shape.join(", ")}]; give a layout that says how they connect.`, { tensor: w.name });
      }
      const sums = summaries.get(w.name)!;
      const g = convGeometry(layer, [shape[1], shape[2]], [kernel.kh, kernel.kw]);
      checkLimit(options.limits, "maxLayerNodes", kernel.cOut * g.axes[0].out * g.axes[1].out, `The output node count of conv layer ${quoteName(layer.name)}`, { file: model.name });
      const maps = convStrengthMaps(kernels, layer, kernel, [shape[1], shape[2]], { sumOverA: sums.sumOverA!, sumOverB: sums.sumOverB! });
      close(maps.outOfInputs);
      const [h, wAxis] = maps.geometry.axes;
      addBias(maps.intoOutputs, layer, summaries, options, h.out * wAxis.out);
      open = { after: layer.name, shape: [kernel.cOut, h.out, wAxis.out], sIn: maps.intoOutputs };
    } else if (layer.kind === "none") {
      const op = String(layer.attributes?.op ?? "");
      if (!open || ELEMENTWISE.has(op)) continue;
      if (op === "flatten" || op === "reshape") {
        if (open.shape.length === 3) {
          const [c, h, w] = open.shape;
          open = { ...open, shape: [c * h * w], flattenedFrom: { c, h, w, order } };
        }
      } else if (BREAKS.has(op)) {
        const shape = pooledShape(layer, open.shape);
        close(null);
        if (!shape) {
          notes.push(`Node strengths stop at layer ${quoteName(layer.name)} (op ${op}): its output size is not known.`);
          break;
        }
        // Pool sizes come from the file: bound the nodes before holding their vectors.
        checkLimit(options.limits, "maxLayerNodes", shape.reduce((a, b) => a * b, 1), `The output node count of layer ${quoteName(layer.name)}`, { file: model.name });
        open = { after: layer.name, shape, sIn: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(boundary) };
      } else {
        notes.push(`Node strengths stop at layer ${quoteName(layer.name)} (op ${quoteName(op)}): the graph walk handles chains of layers; branches and merges come later.`);
        close(null);
        return { layers: done, notes };
      }
    } else if (layer.kind === "rnn" || layer.kind === "lstm" || layer.kind === "gru") {
      const directions = [layer];
      const next = model.layers[model.layers.indexOf(layer) + 1];
      if (next && next.kind === layer.kind && next.attributes?.direction === "reverse") directions.push(next);
      const parts = directions.map((d) => recurrentSums(d, tensors, summaries, options));
      const nIn = parts[0].outOfInputs.length;
      if (!open) startInput([nIn]);
      const fromInputs = new Float64Array(nIn);
      for (const p of parts) {
        if (p.outOfInputs.length !== nIn) throw new CntError("BAD_SHAPE", `The two directions of recurrent layer ${quoteName(layer.name)} take different input sizes.`);
        for (let i = 0; i < nIn; i++) fromInputs[i] += p.outOfInputs[i];
      }
      close(inputOrder(open!, fromInputs, nIn, layer));
      const sIn = concat(parts.map((p) => p.intoHidden));
      open = { after: directions.map((d) => d.name).join("+"), shape: [sIn.length], sIn, recurrentOut: concat(parts.map((p) => p.outOfHidden)) };
      if (directions.length === 2) skip.add(directions[1]);
    }
    // norm, embedding, other: distributions only; they do not change the node layers.
  }
  close(null);
  return { layers: done, notes };
}

/**
 * A dense layer's row sums are indexed by its input index; after a flatten that index follows
 * the framework's flatten order, while feature maps are stored channel-major here.
 */
function inputOrder(open: Open, fromInputs: Float64Array, nIn: number, layer: LayerInfo): Float64Array {
  if (open.sIn.length !== nIn) {
    throw new CntError("LAYOUT_NEEDED", `Dense layer ${quoteName(layer.name)} takes ${nIn} inputs, but the node layer before it (after ${quoteName(open.after)}) has ${open.sIn.length} nodes; give a layout that says how they connect.`, { expected: open.sIn.length, actual: nIn });
  }
  const f = open.flattenedFrom;
  if (!f || f.order === "channels_first") return Float64Array.from(fromInputs);
  const out = new Float64Array(nIn);
  for (let c = 0; c < f.c; c++) {
    for (let y = 0; y < f.h; y++) {
      for (let x = 0; x < f.w; x++) out[(c * f.h + y) * f.w + x] = fromInputs[(y * f.w + x) * f.c + c];
    }
  }
  return out;
}

/**
 * One direction of a recurrent layer in the steady step of its unrolled graph (spec section 1,
 * "Recurrent"; the project's own extension): the gates' matrices are summed into one link per
 * (i, j) pair, so a node's strengths are sums over all gate blocks. Input matrix W_x [G*H, n]
 * ("out_in", PyTorch/ONNX) or [n, G*H] ("in_out", Keras); recurrent W_h likewise with H inputs.
 *   out of input i:   sum of W_x's links leaving x_i
 *   into hidden j:    W_x links + W_h links entering h_j, plus every bias block of unit j
 *   out of hidden k:  W_h links leaving h_k (to the next step; the next layer adds its own)
 */
function recurrentSums(layer: LayerInfo, tensors: Map<string, TensorInfo>, summaries: Map<string, TensorSummary>, options: Options) {
  const wx = tensor(tensors, layer.weight, layer);
  const wh = tensor(tensors, layer.recurrentWeight, layer);
  const outIn = layer.weightLayout !== "in_out";
  const hidden = outIn ? wh.shape[1] : wh.shape[0];
  const x = summaries.get(wx.name)!, h = summaries.get(wh.name)!;
  const intoHidden = fold(outIn ? x.rowSums! : x.colSums!, hidden, layer);
  const fromHidden = fold(outIn ? h.rowSums! : h.colSums!, hidden, layer);
  for (let j = 0; j < hidden; j++) intoHidden[j] += fromHidden[j];
  if (options.bias === "in") {
    for (const b of [layer.bias, layer.recurrentBias]) {
      if (!b) continue;
      const folded = fold(summaries.get(b)!.colSums!, hidden, layer);
      for (let j = 0; j < hidden; j++) intoHidden[j] += folded[j];
    }
  }
  return {
    outOfInputs: Float64Array.from(outIn ? x.colSums! : x.rowSums!),
    intoHidden,
    outOfHidden: Float64Array.from(outIn ? h.colSums! : h.rowSums!),
  };
}

/** Sum gate blocks: values[g * hidden + j] over g (biases with extra blocks, like Keras GRU's, fold the same way). */
function fold(values: Float64Array, hidden: number, layer: LayerInfo): Float64Array {
  if (hidden === 0 || values.length % hidden !== 0) {
    throw new CntError("BAD_SHAPE", `Recurrent layer ${quoteName(layer.name)}: ${values.length} values do not split into gate blocks of ${hidden} units.`);
  }
  const out = new Float64Array(hidden);
  for (let i = 0; i < values.length; i++) out[i % hidden] += values[i];
  return out;
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Add b[channel] to every node of the channel under bias "in". */
function addBias(sIn: Float64Array, layer: LayerInfo, summaries: Map<string, TensorSummary>, options: Options, perChannel: number): void {
  if (options.bias !== "in" || !layer.bias) return;
  const b = summaries.get(layer.bias)!.colSums!;
  if (b.length * perChannel !== sIn.length) {
    throw new CntError("BAD_SHAPE", `Layer ${quoteName(layer.name)}: bias ${quoteName(layer.bias)} has ${b.length} values for ${sIn.length / perChannel} channels.`, { tensor: layer.bias });
  }
  for (let c = 0; c < b.length; c++) for (let i = c * perChannel; i < (c + 1) * perChannel; i++) sIn[i] += b[c];
}

/** Output shape of a pooling layer over a feature map (kernel/stride/pads as for conv). */
function pooledShape(layer: LayerInfo, shape: number[]): number[] | null {
  const op = layer.attributes?.op;
  if (shape.length !== 3) return null;
  const [c, h, w] = shape;
  if (op === "global_pool") return [c, 1, 1];
  if (op !== "pool") return null;
  const kernel = layer.attributes?.kernel;
  if (!Array.isArray(kernel) || kernel.length !== 2) return null;
  const g = convGeometry({ ...layer, kind: "conv2d" }, [h, w], [kernel[0], kernel[1]]);
  return [c, g.axes[0].out, g.axes[1].out];
}

function tensor(tensors: Map<string, TensorInfo>, name: string | undefined, layer: LayerInfo): TensorInfo {
  const t = name === undefined ? undefined : tensors.get(name);
  if (!t) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)} refers to tensor ${quoteName(name ?? "")}, which the file does not hold.`, { tensor: name });
  return t;
}
