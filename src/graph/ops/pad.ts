/**
 * A reflect or edge Pad (PyTorch padding_mode "reflect" / "replicate", F.pad(mode=...); TF
 * MirrorPad REFLECT and SYMMETRIC, the latter repeating the edge element) copies
 * input elements: every node of the padded map is a copy of one input node, a selection by
 * constant indices (spec metrics.md 1b, "Selections"). The walk sees the padded value through this
 * index, so whatever leaves a copy (the conv's row sums) is added into s_out of the node it copies,
 * and no node layer is left out. A zero Pad read only by a conv (PyTorch nn.ZeroPad2d / F.pad and
 * padding_mode "zeros" written as Pad + Conv, tf2onnx) is that conv's padding, as Keras ZeroPadding
 * is: its zeros are constants, not nodes, so the conv reads the unpadded map with larger pads
 * (foldedZeroPad). Any other constant fill is neither: the walk leaves it out with a note.
 */
import { CONV_OPS } from "../ops.js";
import type { GraphOp, GraphValue } from "../types.js";

/**
 * The conv with the zero Pad it reads folded into its own pads, reading the Pad's input; undefined
 * when its data input is not such a Pad (constant zero fill, constant pads on the spatial axes
 * only, read by this conv alone, channels-first).
 */
export function foldedZeroPad(conv: GraphOp, values: Map<string, GraphValue>): { op: GraphOp; x: GraphValue } | undefined {
  const padded = values.get(conv.inputs[0]);
  const pad = padded?.producer;
  if (!pad || !CONV_OPS.has(conv.op) || conv.op === "conv2d_transpose" || padded.consumers.length !== 1 || !isZeroPad(pad, values)) return undefined;
  const a = conv.layer.attributes ?? {};
  const x = values.get(pad.inputs[0]);
  const pads = padsOf(pad, values);
  const own = a.pads as number[] | undefined;
  const autoPad = String(a.autoPad ?? "notset");
  if (!x?.shape || !pads || !own || (autoPad !== "notset" && autoPad !== "valid") || a.dataFormat === "channels_last") return undefined;
  const rank = x.shape.length, spatial = rank - 2;
  if (spatial < 1 || own.length !== 2 * spatial || pads.length !== 2 * rank) return undefined;
  // Nothing on the batch and channel axes, nothing negative (a crop).
  if (pads[0] !== 0 || pads[1] !== 0 || pads[rank] !== 0 || pads[rank + 1] !== 0 || pads.some((p) => !Number.isSafeInteger(p) || p < 0)) return undefined;
  const extra = [...pads.slice(2, rank), ...pads.slice(rank + 2)];
  const attributes = { ...a, pads: own.map((p, i) => p + extra[i]), autoPad: "notset" };
  return { op: { ...conv, layer: { ...conv.layer, attributes }, inputs: [x.name, ...conv.inputs.slice(1)] }, x };
}

/** Pads that add nothing on any axis: the Pad is the identity, whatever its mode and fill. */
export function isZeroPads(pads: readonly number[] | undefined): boolean {
  return pads !== undefined && pads.length > 0 && pads.every((p) => p === 0);
}

/** A Pad whose output is folded into the conv that reads it: the walk places nothing for it. */
export function isFoldedPad(pad: GraphOp, values: Map<string, GraphValue>): boolean {
  const y = values.get(pad.outputs[0]);
  return y?.consumers.length === 1 && foldedZeroPad(y.consumers[0], values) !== undefined;
}

function isZeroPad(pad: GraphOp, values: Map<string, GraphValue>): boolean {
  const a = pad.layer.attributes ?? {};
  if (pad.op !== "pad" || (a.mode !== undefined && a.mode !== "constant") || (a.value !== undefined && a.value !== 0)) return false;
  // opset 18's axes input: not read here.
  if (pad.inputs[3]) return false;
  if (!pad.inputs[2]) return true;
  const fill = values.get(pad.inputs[2]);
  const v = fill?.floats ?? fill?.values;
  return fill?.kind === "constant" && v?.length === 1 && v[0] === 0;
}

/** The pads of every axis, [x1_begin, ..., x1_end, ...], from the attribute or the folded constant input. */
function padsOf(pad: GraphOp, values: Map<string, GraphValue>): number[] | undefined {
  const a = pad.layer.attributes?.pads;
  return Array.isArray(a) ? (a as number[]) : values.get(pad.inputs[1])?.values;
}

/**
 * For every node of the padded value (node axes in order, the last fastest), the input node it
 * copies; undefined when the pads are not copies of the input's nodes or do not give `count` nodes
 * (the padded value's node count, already bounded: nothing larger is ever allocated).
 */
export function paddedNodes(nx: { axes: number[]; dims: number[] }, rank: number, pads: number[], mode: string, count: number): Int32Array | undefined {
  if ((mode !== "reflect" && mode !== "edge" && mode !== "symmetric") || pads.length !== 2 * rank) return undefined;
  // Pads off the node axes (batch, positions) would repeat replicas: not placed here.
  for (let a = 0; a < rank; a++) if (!nx.axes.includes(a) && (pads[a] !== 0 || pads[a + rank] !== 0)) return undefined;
  const begin = nx.axes.map((a) => pads[a]);
  const end = nx.axes.map((a) => pads[a + rank]);
  if ([...begin, ...end].some((p) => !Number.isSafeInteger(p) || p < 0)) return undefined;
  // Reflection needs pads shorter than the axis (ONNX's rule too).
  if (mode === "reflect" && nx.dims.some((d, i) => begin[i] >= d || end[i] >= d)) return undefined;
  // TF MirrorPad SYMMETRIC repeats the edge too (pads up to the axis's size).
  if (mode === "symmetric" && nx.dims.some((d, i) => begin[i] > d || end[i] > d)) return undefined;
  const outDims = nx.dims.map((d, i) => d + begin[i] + end[i]);
  const source = (i: number, c: number): number => {
    const n = nx.dims[i];
    const j = c - begin[i];
    if (j >= 0 && j < n) return j;
    if (mode === "edge") return j < 0 ? 0 : n - 1;
    if (mode === "symmetric") return j < 0 ? -j - 1 : 2 * n - 1 - j;
    return j < 0 ? -j : 2 * (n - 1) - j;
  };
  if (outDims.reduce((a, b) => a * b, 1) !== count) return undefined;
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    let rest = k, index = 0, stride = 1;
    for (let i = outDims.length - 1; i >= 0; i--) {
      const c = rest % outDims[i];
      rest = Math.floor(rest / outDims[i]);
      index += source(i, c) * stride;
      stride *= nx.dims[i];
    }
    out[k] = index;
  }
  return out;
}
