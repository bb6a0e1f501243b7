/**
 * TF.js graph models (`"format": "graph-model"`, written by tfjs-converter from a SavedModel or a
 * frozen graph): model.json = { modelTopology: <GraphDef as JSON>, weightsManifest: [...] }.
 *
 *   GraphDef   node[]: { name, op, input[], attr{} }; an input is "node" (its output 0),
 *              "node:k" (output k) or "^node" (a control edge, not data)
 *   attr       { i: "3" } | { f: 0.5 } | { b: true } | { s: <base64> } | { type: "DT_FLOAT" } |
 *              { shape: { dim: [{ size: "-1" }] } } | { list: { i: [...], s: [...] } } |
 *              { tensor: { dtype, tensorShape } } (a Const's value; its bytes are in the manifest)
 *
 * Every Const node's value is a manifest weight of the same name; the manifest, the shards and
 * their decoding (split and base64 shards, uint8/uint16/float16 quantization) are read by read.ts,
 * which hands them in. Float constants are the tensors; int32 constants (Reshape targets, axes,
 * paddings, begin/end of slices) are listed as skipped and their values, when small, become the
 * graph's integer constants.
 *
 * Each node becomes one LayerInfo whose inputs and outputs are the GraphDef's values (output 0 of
 * node n is named n, output k > 0 "n:k"), in the node's topological order. The ops and what they
 * become (graph-ops.ts has the table of weightless ops):
 *   Conv2D, _FusedConv2D                    conv2d, filter [kh, kw, c_in, c_out] "hwio"
 *   DepthwiseConv2dNative, FusedDepthwise.. conv2d, filter [kh, kw, c, m] read as the grouped
 *                                           kernel [kh, kw, 1, c·m] (groups = c), as the layers
 *                                           reader does (shared/depthwise.ts)
 *   Conv2DBackpropInput                     conv2d_transpose, filter [kh, kw, c_out, c_in] "hwoi"
 *   MatMul, _FusedMatMul, BatchMatMulV2     dense with a constant 2-D right operand: [in, out]
 *                                           "in_out", or "out_in" under transpose_b / adj_y
 *   FusedBatchNorm(V3)                      norm: scale as weight, offset as bias; mean and
 *                                           variance are running statistics (skipped as link
 *                                           weights, kept among the tensors and named by the
 *                                           norm's attributes mean and variance), with epsilon,
 *                                           dataFormat and isTraining
 * Fused ops: BiasAdd → the layer's bias; Relu, Relu6, Elu, Sigmoid, Tanh, LeakyRelu, Prelu →
 * its activation (Prelu's alpha stays a tensor of its own); FusedBatchNorm → a norm layer after it.
 * A BiasAdd or Add of a constant vector with one value per output channel, right after a weighted
 * op that nothing else reads, is that op's bias (spec metrics.md 1b); any other constant Add or
 * Mul (a BatchNorm folded into Mul/Add) stays an op with a constant operand: one to one.
 * A zero Pad read only by a conv or pool with padding VALID is that op's pads; a zero Pad of the
 * channel axis only (at its end) is a Concat with zero channels, which the walk places as nodes
 * without links in (spec 1b). Mean or Max over the two spatial axes of a rank-4 map is a global
 * pool (ranks are followed from the Placeholders' shapes and the ops). Binary ops keep their
 * operands' order (TF writes Mul(constant, x)): the walk finds the data operand on either side.
 * Unknown ops stay in the graph under their TF name: the walk leaves the node layers
 * they touch out with a note; nothing is refused for an op it does not know.
 * ResizeBilinear/ResizeNearestNeighbor keep their size operand as an input (a constant or folded
 * shape arithmetic: src/graph/shapes.ts sizes the output); DepthToSpace/SpaceToDepth carry their
 * block size and data_format. PadV2 with a constant fill of 0 is read as Pad (any other fill: a
 * note); MirrorPad REFLECT/SYMMETRIC is a pad whose nodes are copies of input nodes
 * (src/graph/ops/pad.ts, shared with ONNX's reflect Pad). Pack of data is a stack (each operand
 * unsqueezed, then concatenated: their nodes join); StridedSlice of data with shrink_axis_mask or
 * ellipsis_mask is a slice and a squeeze (a selection); one that only adds axes is an unsqueeze.
 * While/StatelessWhile loops are not walked: a note names the loop, its functions (the GraphDef's
 * library) and the weights they read, which are reported as distributions. TF1 loops (Enter, Merge,
 * Switch, NextIteration, Exit: graph-loops.ts) that map the rows of a tensor list without a weight
 * inside are walked as their body once; any other such loop is one op the walk does not know.
 *
 * Checked before trusting: node names unique, every data input names a node of the graph and an
 * output it has, every Const's manifest entry present with the shape the node declares. A graph
 * with another cycle is read; the walk leaves the ops of the cycle out with a note.
 */
import { formatCount, quoteName } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import type { Activation, GraphInfo, LayerInfo, ModelInfo, SkippedTensor } from "../../model/types.js";
import { openTensorBytes, type StoredTensorInfo } from "../../source/tensor-bytes.js";
import type { ByteSource } from "../../source/types.js";
import { ACTIVATION_OPS, attrOf, attrText, boolAttr, convAttributes, dataFormatOf, decodeText, type Fail, intList, intOf, isObject, type Node, outputCount, simpleOp, SHAPE_READS, stridedNewAxes, stridedSelection } from "./graph-ops.js";
import { depthwiseAsGrouped } from "../shared/depthwise.js";
import { acyclicOrder, findLoops, type Frame } from "./graph-loops.js";

const FORMAT = "tfjs";

type Json = Record<string, unknown>;
type Attributes = NonNullable<LayerInfo["attributes"]>;

/** What read.ts knows of one manifest weight (its `Weight`), as far as this file reads it. */
export interface ManifestWeight {
  name: string;
  group: number;
  shape: number[];
  dtype: string;
  target?: "f32" | "f16" | "bf16" | "f64";
  dequantize?: unknown;
  skip?: string;
}

/** The manifest and shard reading of read.ts, handed in (it is shared with layers models). */
export interface GraphModelIO<W extends ManifestWeight, S> {
  weights: { list: W[] };
  shards: S[][];
  locate(w: W, shards: S[]): StoredTensorInfo;
}

/** Integer constants up to this many values are read (shape arithmetic); larger ones are only listed. */
const MAX_CONSTANT_VALUES = 65536;


/** A TF.js graph model.json (a GraphDef as JSON): its tensors located and its ops as layers. */
export async function openGraphModel<W extends ManifestWeight, S>(root: Json, source: ByteSource, limits: Limits, fail: Fail, io: GraphModelIO<W, S>): Promise<ModelInfo> {
  const file = source.name;
  const topology = root.modelTopology;
  if (!isObject(topology) || !Array.isArray(topology.node)) throw fail("BAD_HEADER", "the graph model has no modelTopology.node array.");
  const rawNodes = topology.node;
  if (rawNodes.length === 0) throw fail("BAD_HEADER", "the graph model's modelTopology.node is empty: it has no ops.");
  checkLimit(limits, "maxTensors", rawNodes.length, `tfjs '${file}': the node count of the graph`, { format: FORMAT, file });

  // ------------------------------------------------------------------ nodes, names and inputs
  const nodes: Node[] = [];
  const byName = new Map<string, Node>();
  rawNodes.forEach((n, index) => {
    const where = `modelTopology.node[${index}]`;
    if (!isObject(n) || typeof n.name !== "string" || n.name === "") throw fail("BAD_HEADER", `${where} has no name.`);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only long names are encoded to be measured.
    if (n.name.length * 3 > limits.maxNameBytes) checkLimit(limits, "maxNameBytes", new TextEncoder().encode(n.name).byteLength, `tfjs: the length of the name of ${where}`);
    if (typeof n.op !== "string" || n.op === "") throw fail("BAD_HEADER", `node ${quoteName(n.name)} has no op.`);
    if (byName.has(n.name)) throw fail("BAD_HEADER", `the graph has two nodes named ${quoteName(n.name)}.`);
    // TF node names have no ':'; one ending in ":<k>" would be read as output k of another node.
    if (/:\d+$/.test(n.name)) throw fail("BAD_HEADER", `node ${quoteName(n.name)} has a name that reads as an output reference (name:index).`);
    if (n.input !== undefined && !Array.isArray(n.input)) throw fail("BAD_HEADER", `node ${quoteName(n.name)}: input is not a list.`);
    if (n.attr !== undefined && !isObject(n.attr)) throw fail("BAD_HEADER", `node ${quoteName(n.name)}: attr is not an object.`);
    const inputs: string[] = [];
    for (const [k, ref] of ((n.input ?? []) as unknown[]).entries()) {
      if (typeof ref !== "string") throw fail("BAD_HEADER", `node ${quoteName(n.name)}: input ${k} is not a string.`);
      if (!ref.startsWith("^")) inputs.push(ref);
    }
    const node: Node = { index, name: n.name, op: n.op, inputs, attr: (n.attr as Json | undefined) ?? {} };
    nodes.push(node);
    byName.set(node.name, node);
  });
  // Every data input names a node and one of its outputs.
  for (const node of nodes) {
    node.inputs = node.inputs.map((ref) => {
      const m = /^(.*):(\d+)$/.exec(ref);
      const from = m ? m[1] : ref;
      const k = m ? Number(m[2]) : 0;
      const producer = byName.get(from);
      if (!producer) throw fail("BAD_HEADER", `node ${quoteName(node.name)} reads ${quoteName(ref)}, which no node of the graph gives.`);
      const count = outputCount(producer.op, producer.attr);
      if (!Number.isSafeInteger(k) || k >= count) throw fail("BAD_HEADER", `node ${quoteName(node.name)} reads output ${m![2].slice(0, 24)} of node ${quoteName(from)} (${quoteName(producer.op)}), which has ${formatCount(count)} output(s).`);
      return k === 0 ? from : `${from}:${k}`;
    });
  }

  // ------------------------------------------------------------------ constants and weights
  const manifest = new Map<string, { w: W; shards: S[] }>();
  for (const w of io.weights.list) manifest.set(w.name, { w, shards: io.shards[w.group] });
  const tensors: StoredTensorInfo[] = [];
  const tensorByName = new Map<string, StoredTensorInfo>();
  const skipped: SkippedTensor[] = [];
  const constants: NonNullable<GraphInfo["constants"]> = Object.create(null);
  let constantBytes = 0;
  const seen = new Set<string>();
  for (const node of nodes) {
    if (node.op !== "Const") continue;
    const entry = manifest.get(node.name);
    const value = attrOf(node, "value");
    const declared = isObject(value) && isObject(value.tensor) ? declaredShape(value.tensor.tensorShape) : undefined;
    if (!entry) {
      // A hand-written GraphDef may give small integer values inline.
      const inline = isObject(value) && isObject(value.tensor) ? inlineInts(value.tensor) : undefined;
      if (inline && inline.length <= MAX_CONSTANT_VALUES) {
        const shape = declared ?? [inline.length];
        const count = shape.reduce((a, d) => a * d, 1);
        // One value fills the whole shape (as TensorProto's repeated fields allow); otherwise the counts agree.
        if (count !== inline.length && !(inline.length === 1 && count <= MAX_CONSTANT_VALUES)) {
          throw fail("BAD_SHAPE", `Const node ${quoteName(node.name)} declares shape [${shape.join(", ")}] but gives ${formatCount(inline.length)} values.`, { tensor: node.name });
        }
        constants[node.name] = { shape, values: count === inline.length ? inline : new Array<number>(count).fill(inline[0]) };
        skipped.push({ name: node.name, dtype: "int32", shape, reason: "an integer constant" });
        continue;
      }
      throw fail("BAD_HEADER", `Const node ${quoteName(node.name)} has no entry in the weights manifest.`, { tensor: node.name });
    }
    const { w } = entry;
    if (declared && !sameShape(declared, w.shape)) {
      throw fail("BAD_SHAPE", `Const node ${quoteName(node.name)} declares shape [${declared.join(", ")}], but its manifest entry has shape [${w.shape.join(", ")}].`, { tensor: node.name, expected: declared, actual: w.shape });
    }
  }
  for (const w of io.weights.list) {
    if (seen.has(w.name)) continue;
    seen.add(w.name);
    const shards = manifest.get(w.name)!.shards;
    if (!w.skip) {
      const t = io.locate(w, shards);
      tensors.push(t);
      tensorByName.set(t.name, t);
      continue;
    }
    skipped.push({ name: w.name, dtype: w.dtype, shape: w.shape, reason: w.dtype === "int32" ? "an integer constant" : w.skip });
    const count = w.shape.reduce((a, d) => a * d, 1);
    if (w.dtype !== "int32" || w.dequantize !== undefined || w.target !== undefined || count > MAX_CONSTANT_VALUES || constantBytes + count * 4 > limits.maxHeaderBytes) continue;
    constantBytes += count * 4;
    const located = io.locate({ ...w, target: "f32" }, shards);
    constants[w.name] = { shape: [...w.shape], values: await readInt32(source, { ...located, name: w.name, dtype: "f32" }, count) };
  }

  // ------------------------------------------------------------------ loops, order and readers
  /** Values that carry data from a graph input (not constants, not shape arithmetic), following `order`. */
  const dataOver = (order: Node[]) => {
    const data = new Set<string>();
    for (const node of order) {
      const isData = node.op === "Placeholder" || node.op === "PlaceholderWithDefault" || (!SHAPE_READS.has(node.op) && node.op !== "Const" && node.inputs.some((v) => data.has(v)));
      if (isData) for (let k = 0; k < Math.min(outputCount(node.op, node.attr), 64); k++) data.add(k === 0 ? node.name : `${node.name}:${k}`);
    }
    return data;
  };
  // TF1 while loops (graph-loops.ts): a map's Merge and Exit are rewired, so the order below has no cycle through it.
  const weightedNode = (n: Node) => convKind(n.op) !== undefined || n.op.startsWith("FusedBatchNorm") || n.op === "While" || n.op === "StatelessWhile" || (/MatMul/.test(n.op) && n.inputs.some((v) => tensorByName.has(v)));
  const loops = findLoops(nodes, byName, weightedNode, dataOver);
  const order = acyclicOrder(nodes, byName);
  /** PadV2's constant fill values (a one-element float constant), read now: a zero fill pads like Pad. */
  const padFills = new Map<string, number>();
  for (const node of nodes) {
    const fill = node.op === "PadV2" ? tensorByName.get(node.inputs[2] ?? "") : undefined;
    if (fill && fill.dtype === "f32" && fill.shape.reduce((a, d) => a * d, 1) === 1 && fill.decode?.values === undefined) padFills.set(node.name, await readFloat32(source, fill));
  }
  /** Fill's value when it is a one-element float32 constant (an int32 one is among the constants), read now for the forward pass. */
  const scalars = new Map<string, number>();
  for (const node of nodes) {
    const value = node.op === "Fill" ? tensorByName.get(node.inputs[1] ?? "") : undefined;
    if (value && value.dtype === "f32" && value.shape.reduce((a, d) => a * d, 1) === 1 && value.decode?.values === undefined) scalars.set(value.name, await readFloat32(source, value));
  }
  const readers = new Map<string, Node[]>();
  for (const node of nodes) {
    for (const v of new Set(node.inputs)) {
      let list = readers.get(v);
      if (!list) readers.set(v, (list = []));
      list.push(node);
    }
  }
  /** Every output of a node that some node reads (output 0 always): n, n:1, ... */
  const lastRead = new Map<string, number>();
  for (const node of nodes) {
    for (const v of node.inputs) {
      const m = /:(\d+)$/.exec(v);
      if (m) {
        const from = v.slice(0, -m[0].length);
        lastRead.set(from, Math.max(lastRead.get(from) ?? 0, Number(m[1])));
      }
    }
  }
  const outputsOf = (node: Node) => Array.from({ length: (lastRead.get(node.name) ?? 0) + 1 }, (_, k) => (k === 0 ? node.name : `${node.name}:${k}`));
  /** Readers of a value's data (Shape and Size read only its shape). */
  const dataReaders = (v: string) => (readers.get(v) ?? []).filter((r) => !SHAPE_READS.has(r.op));
  const isTensor = (v: string | undefined) => v !== undefined && tensorByName.has(v);
  const intValues = (v: string | undefined) => (v !== undefined ? constants[v]?.values : undefined);

  const data = dataOver(order);

  // ------------------------------------------------------------------ layers
  const outputs = graphOutputs(root, nodes, byName, readers);
  const notes: string[] = [];
  const layers: LayerInfo[] = [];
  const layerOf = new Map<Node, LayerInfo[]>();
  const collapsed = new Set<Frame>();
  const fused = new Set<Node>();
  const statistics = new Set<string>();
  const shapes: Record<string, (number | null)[]> = Object.create(null);
  let dataFormat: "channels_first" | "channels_last" | undefined;
  const graphInputs: GraphInfo["inputs"] = [];
  /** Depthwise filters' grouped-conv shapes, by tensor. */
  const reshaped = new Map<string, number[]>();
  /** Zero Pads folded into the conv or pool that alone reads them. */
  const padFolds = new Map<Node, { from: string; pads: number[] }>();
  /** Value -> the weighted layer that writes it (for an activation that follows). */
  const producerLayer = new Map<string, LayerInfo>();

  /** A BiasAdd / Add of a constant vector of `channels` values that alone reads `value`: fused as the bias. */
  const biasAfter = (value: string, channels: number | undefined): { node: Node; bias: string } | undefined => {
    const next = dataReaders(value);
    // The product before the bias stays a value of its own where it is a graph output.
    if (next.length !== 1 || outputs.includes(value)) return undefined;
    const n = next[0];
    if (!(n.op === "BiasAdd" || n.op === "Add" || n.op === "AddV2") || n.inputs.length !== 2) return undefined;
    const other = n.inputs[0] === value ? n.inputs[1] : n.inputs[0];
    if (other === value) return undefined;
    const t = tensorByName.get(other);
    if (!t || t.shape.length !== 1 || channels === undefined || t.shape[0] !== channels) return undefined;
    return { node: n, bias: other };
  };

  /** Ranks of values where the GraphDef fixes them (a Mean over a map's spatial axes is a global pool). */
  const ranks = new Map<string, number>();
  const rankOf = (node: Node): number | undefined => {
    const r = (v: string | undefined) => (v === undefined ? undefined : ranks.get(v) ?? tensorByName.get(v)?.shape.length ?? constants[v]?.shape.length);
    const op = node.op;
    if (op === "Placeholder" || op === "PlaceholderWithDefault") return shapeAttr(attrOf(node, "shape"))?.length;
    if (convKind(op) || op === "MaxPool" || op === "AvgPool") return 4;
    if (op === "MatMul" || op === "_FusedMatMul") return 2;
    if (op === "Reshape") return intValues(node.inputs[1])?.length;
    if (op === "ExpandDims") {
      const x = r(node.inputs[0]);
      return x === undefined ? undefined : x + 1;
    }
    if (op === "ConcatV2" || op === "Pad" || op === "PadV2" || op === "MirrorPad" || op === "Transpose" || op === "BatchMatMulV2" || op.startsWith("FusedBatchNorm")) return r(node.inputs[0]);
    if (REDUCTIONS.has(op)) {
      const x = r(node.inputs[0]), axes = intValues(node.inputs[1]);
      return x === undefined || !axes ? undefined : boolAttr(node, "keep_dims") ? x : x - new Set(axes.map((a) => (a < 0 ? a + x : a))).size;
    }
    if (op === "Pack" || op === "Unpack") {
      const x = r(node.inputs[0]);
      return x === undefined ? undefined : op === "Pack" ? x + 1 : x - 1;
    }
    const step = loops.steps.get(node);
    if (step && step.op !== "skip") {
      const x = r(step.from);
      return x === undefined ? undefined : step.op === "identity" ? x : step.op === "squeeze" ? x - 1 : x + 1;
    }
    if (op === "StridedSlice" && data.has(node.inputs[0]) && stridedNewAxes(node, intValues)) {
      const x = r(node.inputs[0]);
      return x === undefined ? undefined : x + stridedNewAxes(node, intValues)!.length;
    }
    if (op === "StridedSlice" && data.has(node.inputs[0])) {
      const x = r(node.inputs[0]), selection = stridedSelection(node, intValues, x);
      return x === undefined || !selection ? undefined : x - selection.squeeze.length;
    }
    if (op === "Squeeze") {
      const x = r(node.inputs[0]), axes = intList(attrOf(node, "squeeze_dims"));
      return x !== undefined && axes && axes.length > 0 ? x - axes.length : undefined;
    }
    if (ONE_TO_ONE_RANK.has(op) || activationOf(op) || ELEMENTWISE_RANK.has(op)) {
      const all = node.inputs.map(r);
      return all.length > 0 && all.every((x) => x !== undefined) ? Math.max(...(all as number[])) : undefined;
    }
    return undefined;
  };

  for (const node of order) {
    const rank = rankOf(node);
    if (rank !== undefined) ranks.set(node.name, rank);
    if (fused.has(node)) {
      // A fused BiasAdd writes the value of the op it follows: the same rank.
      continue;
    }
    const here: LayerInfo[] = [];
    layerOf.set(node, here);
    const name = node.name;
    const none = (attributes: Attributes, inputs = node.inputs, outputs = outputsOf(node)) => {
      here.push({ name, kind: "none", attributes: { ...attributes, tf: node.op }, inputs: [...inputs], outputs });
    };
    const unknown = (why?: string) => none(why ? { op: node.op, why } : { op: node.op });
    const op = node.op;

    if (op === "Const" || op === "NoOp") continue;
    // TF1 loops: an opaque frame is one op the walk does not know; a map's control and list ops carry values (graph-loops.ts).
    const frame = loops.frameOf.get(node);
    if (frame?.kind === "opaque") {
      if (!collapsed.has(frame)) {
        collapsed.add(frame);
        frameNote(frame);
        const exits = frame.exits.map((e) => e.name);
        const loopName = byName.has(frame.name) ? `${frame.name}/loop` : frame.name;
        here.push({ name: loopName, kind: "none", attributes: { op: "While", tf: "Enter/Exit loop", why: frame.why ?? "" }, inputs: [...new Set(frame.inputs)], outputs: exits });
      }
      continue;
    }
    const step = loops.steps.get(node);
    if (step) {
      if (step.op === "skip") continue;
      const attributes: Attributes = step.op === "identity" ? { op: "identity", tf: op } : { op: step.op, axes: [0], tf: op };
      const outs = outputsOf(node);
      if (op === "Switch" && outs.length > 1 && byName.has(`${name}/true`)) {
        unknown("its second output has a name the graph already uses");
        continue;
      }
      outs.forEach((v, k) => here.push({ name: k === 0 ? name : `${name}/true`, kind: "none", attributes, inputs: [step.from], outputs: [v] }));
      continue;
    }
    if (op === "Placeholder" || op === "PlaceholderWithDefault") {
      const shape = shapeAttr(attrOf(node, "shape"));
      const dtype = attrOf(node, "dtype");
      graphInputs.push({ name, ...(shape ? { shape } : {}), ...(isObject(dtype) && typeof dtype.type === "string" ? { dtype: dtype.type.slice(0, 40) } : {}) });
      continue;
    }

    // Weighted ops.
    const conv = convKind(op);
    if (conv) {
      const fold = padFolds.get(node);
      const [xIn, filterIn] = conv === "transpose" ? [node.inputs[2], node.inputs[1]] : [fold?.from ?? node.inputs[0], node.inputs[1]];
      const filter = tensorByName.get(filterIn ?? "");
      if (!filter || xIn === undefined) {
        unknown("its filter is not a constant tensor");
        continue;
      }
      if (filter.shape.length !== 4) throw fail("BAD_SHAPE", `node ${quoteName(name)} (${op}) has filter ${quoteName(filter.name)} of shape [${filter.shape.join(", ")}], not [kh, kw, in, out].`, { tensor: filter.name });
      const format = dataFormatOf(node, fail);
      dataFormat ??= format;
      const attributes: Attributes = { ...convAttributes(node, format, fail), dataFormat: format };
      if (fold) Object.assign(attributes, { autoPad: "notset", pads: fold.pads });
      const layer: LayerInfo = { name, kind: conv === "transpose" ? "conv2d_transpose" : "conv2d", weight: filter.name, weightLayout: conv === "transpose" ? "hwoi" : "hwio", attributes };
      let channels = filter.shape[3];
      if (conv === "depthwise") {
        const [kh, kw, c, m] = filter.shape;
        attributes.groups = c;
        attributes.depthMultiplier = m;
        attributes.storedShape = [kh, kw, c, m];
        channels = c * m;
        reshaped.set(filter.name, depthwiseAsGrouped(filter.shape));
      } else if (conv === "transpose") {
        attributes.groups = 1;
        channels = filter.shape[2];
        const outShape = intValues(node.inputs[0]);
        if (outShape && outShape.length === 4) attributes.outputShape = format === "channels_last" ? outShape.slice(1, 3) : outShape.slice(2, 4);
      } else attributes.groups = 1;
      for (const s of fusedOps(node, layer, here, fail, isTensor)) if (isTensor(s)) statistics.add(s);
      placeWeighted(layer, [xIn, filter.name], here, channels);
      continue;
    }
    if (op === "MatMul" || op === "_FusedMatMul" || op === "BatchMatMul" || op === "BatchMatMulV2" || op === "BatchMatMulV3") {
      const [a, b] = node.inputs;
      const batch = op.startsWith("Batch");
      const transA = boolAttr(node, batch ? "adj_x" : "transpose_a");
      const transB = boolAttr(node, batch ? "adj_y" : "transpose_b");
      const w = tensorByName.get(b ?? "");
      if (!w || isTensor(a) || w.shape.length !== 2) {
        none({ op: "matmul", ...(transA ? { transA: 1 } : {}), ...(transB ? { transB: 1 } : {}) });
        continue;
      }
      if (transA) {
        unknown("the data operand is transposed (transpose_a), a layout the walk does not place");
        continue;
      }
      const layer: LayerInfo = { name, kind: "dense", weight: w.name, weightLayout: transB ? "out_in" : "in_out" };
      const channels = transB ? w.shape[0] : w.shape[1];
      for (const s of fusedOps(node, layer, here, fail, isTensor)) if (isTensor(s)) statistics.add(s);
      placeWeighted(layer, [a, w.name], here, channels);
      continue;
    }
    if (op === "FusedBatchNorm" || op === "FusedBatchNormV2" || op === "FusedBatchNormV3") {
      const [x, scale, offset, mean, variance] = node.inputs;
      const layer: LayerInfo = { name, kind: "norm", attributes: { op: "batch_norm", ...batchNormFacts(node, mean, variance, isTensor) }, inputs: [x], outputs: [name] };
      if (isTensor(scale)) (layer.weight = scale, layer.inputs!.push(scale));
      if (isTensor(offset)) (layer.bias = offset, layer.inputs!.push(offset));
      for (const s of [mean, variance]) if (isTensor(s)) statistics.add(s!);
      here.push(layer);
      continue;
    }

    // Padding: folded into the conv or pool that alone reads it, or zero channels concatenated.
    if (op === "Pad" || op === "PadV2" || op === "MirrorPad") {
      const pads = padsOf(intValues(node.inputs[1]));
      const x = node.inputs[0];
      // PadV2 with a constant fill of 0 is Pad; MirrorPad copies input nodes (src/graph/ops/pad.ts), REFLECT or SYMMETRIC.
      const zero = op === "Pad" || padFills.get(name) === 0;
      const format = dataFormatOf(node, fail);
      if (pads && zero && pads.length === 8) {
        const rank = 4;
        const [b, e] = [pads.slice(0, rank), pads.slice(rank)];
        const channel = format === "channels_last" ? 3 : 1;
        const spatial = format === "channels_last" ? [1, 2] : [2, 3];
        const onlyChannel = [0, 1, 2, 3].every((i) => i === channel || (b[i] === 0 && e[i] === 0));
        const zeros = `${name}/zero_channels`;
        if (onlyChannel && b[channel] === 0 && e[channel] > 0 && !byName.has(zeros)) {
          shapes[zeros] = [null, null, null, null].map((_, i) => (i === channel ? e[channel] : null));
          none({ op: "concat", axis: channel, padding: "zero channels" }, [x, zeros]);
          continue;
        }
        const next = dataReaders(name);
        const reader = next.length === 1 ? next[0] : undefined;
        const noBatchOrChannel = b[0] === 0 && e[0] === 0 && b[channel] === 0 && e[channel] === 0;
        if (reader && noBatchOrChannel && !outputs.includes(name) && reader.inputs[0] === name && foldable(reader) && dataFormatOf(reader, fail) === format) {
          padFolds.set(reader, { from: x, pads: [b[spatial[0]], b[spatial[1]], e[spatial[0]], e[spatial[1]]] });
          here.push({ name, kind: "none", attributes: { op: "pad", pads, tf: op, foldedInto: reader.name } });
          continue;
        }
      }
      // The walk places a mirror pad by its pads; a pad of any other value is left out with a note.
      const mode = op === "MirrorPad" ? (attrText(attrOf(node, "mode")) ?? "").toLowerCase().slice(0, 20) : "constant";
      const fill: Attributes = op === "PadV2" ? { value: padFills.get(name) ?? "not a one-element float32 constant" } : {};
      none({ op: "pad", ...(pads ? { pads } : {}), mode, ...fill }, [x]);
      continue;
    }

    // Mean or Max over the two spatial axes of a map: a global pool (as GlobalAveragePooling2D is written in a GraphDef).
    if ((op === "Mean" || op === "Max") && ranks.get(node.inputs[0]) === 4 && data.has(node.inputs[0])) {
      const axes = new Set((intValues(node.inputs[1]) ?? []).map((a) => (a < 0 ? a + 4 : a)));
      const format = dataFormat ?? "channels_last";
      const spatial = format === "channels_last" ? [1, 2] : [2, 3];
      if (axes.size === 2 && spatial.every((a) => axes.has(a))) {
        none({ op: "global_pool", pool: op === "Mean" ? "average" : "max", keepdims: boolAttr(node, "keep_dims") ? 1 : 0, dataFormat: format }, [node.inputs[0]]);
        continue;
      }
    }
    // A while loop (a body function in the GraphDef's library): not walked; its weights are distributions, named in a note.
    if (op === "While" || op === "StatelessWhile") {
      loopNote(node);
      unknown();
      continue;
    }
    // Pack of data is a stack: each operand gets a new axis, and they are concatenated along it (their nodes join, spec 1b).
    if (op === "Pack" && node.inputs.some((v) => data.has(v))) {
      const rank = ranks.get(node.inputs.find((v) => data.has(v))!);
      const given = intOf(isObject(attrOf(node, "axis")) ? (attrOf(node, "axis") as Json).i : 0) ?? 0;
      const axis = given < 0 && rank !== undefined ? given + rank + 1 : given;
      const expanded = node.inputs.map((_, k) => `${name}/stack_${k}`);
      if (axis < 0 || expanded.some((v) => byName.has(v))) {
        unknown();
        continue;
      }
      node.inputs.forEach((v, k) => here.push({ name: expanded[k], kind: "none", attributes: { op: "unsqueeze", axes: [axis], tf: op }, inputs: [v], outputs: [expanded[k]] }));
      none({ op: "concat", axis }, expanded);
      continue;
    }
    // Unpack of data into several values: a split along the axis (one index each), each part then squeezed (a selection).
    if (op === "Unpack" && data.has(node.inputs[0]) && outputCount(op, node.attr) > 1) {
      const count = outputCount(op, node.attr);
      const rank = ranks.get(node.inputs[0]);
      const given = intOf(isObject(attrOf(node, "axis")) ? (attrOf(node, "axis") as Json).i : 0) ?? 0;
      const axis = given < 0 && rank !== undefined ? given + rank : given;
      const parts = Array.from({ length: count }, (_, k) => `${name}/part_${k}`);
      if (axis < 0 || [...parts, `${name}/split`, ...parts.map((_, k) => `${name}/squeeze_${k}`)].some((v) => byName.has(v))) {
        unknown();
        continue;
      }
      here.push({ name: `${name}/split`, kind: "none", attributes: { op: "split", axis, split: new Array<number>(count).fill(1), tf: op }, inputs: [node.inputs[0]], outputs: parts });
      const outs = outputsOf(node);
      parts.forEach((v, k) => {
        if (k < outs.length) here.push({ name: k === 0 ? name : `${name}/squeeze_${k}`, kind: "none", attributes: { op: "squeeze", axes: [axis], tf: op }, inputs: [v], outputs: [outs[k]] });
      });
      continue;
    }
    // StridedSlice of data that only adds axes (x[tf.newaxis]): an unsqueeze.
    const added = op === "StridedSlice" && data.has(node.inputs[0]) ? stridedNewAxes(node, intValues) : undefined;
    if (added) {
      none({ op: "unsqueeze", axes: added }, [node.inputs[0]]);
      continue;
    }
    // StridedSlice of data with shrink_axis_mask or ellipsis_mask: a slice (a selection by constant indices), then a squeeze of the shrunk axes.
    if (op === "StridedSlice" && data.has(node.inputs[0])) {
      const selection = stridedSelection(node, intValues, ranks.get(node.inputs[0]));
      const sliced = `${name}/slice`;
      if (selection && !byName.has(sliced)) {
        const { starts, ends, axes, steps, squeeze } = selection;
        const out = squeeze.length > 0 ? sliced : name;
        here.push({ name: out, kind: "none", attributes: { op: "slice", starts, ends, axes, steps, tf: op }, inputs: [node.inputs[0]], outputs: [out] });
        if (squeeze.length > 0) none({ op: "squeeze", axes: squeeze }, [sliced]);
        continue;
      }
    }
    const simple = simpleOp(node, { ints: intValues, isData: (v) => data.has(v), scalar: (v) => (v === undefined ? undefined : scalars.get(v)) }, fail);
    if (simple) {
      const attributes: Attributes = { ...simple.attributes };
      if (simple.op === "pool") {
        const format = dataFormatOf(node, fail);
        dataFormat ??= format;
        attributes.dataFormat = format;
        const fold = padFolds.get(node);
        // zeroPadded: the pads are a Pad's zeros, which the windows saw (a max over them, an average counting them).
        if (fold) Object.assign(attributes, { autoPad: "notset", pads: fold.pads, zeroPadded: 1 });
        none({ op: "pool", ...attributes }, fold ? [fold.from] : simple.inputs);
        continue;
      }
      if (activationOf(op)) {
        const before = producerLayer.get(node.inputs[0]);
        if (before && before.activation === undefined) before.activation = activationOf(op);
        here.push({ name, kind: "none", activation: activationOf(op), attributes: { ...attributes, op: simple.op, tf: op }, inputs: [...simple.inputs], outputs: simple.outputs ?? [name] });
        continue;
      }
      // Operands keep their order (TF writes Mul(constant, x)): src/graph/roles.ts finds a binary op's data operand on either side.
      none({ op: simple.op, ...attributes }, simple.inputs, simple.outputs ?? outputsOf(node));
      continue;
    }
    unknown();
  }

  // Tensors no layer takes: `other` layers before the first layer that reads them (distributions only).
  const claimed = new Set<string>();
  for (const list of layerOf.values()) for (const l of list) for (const t of [l.weight, l.bias]) if (t) claimed.add(t);
  const placedOther = new Set<string>();
  const other = (t: string) => {
    if (claimed.has(t) || placedOther.has(t) || statistics.has(t) || !tensorByName.has(t)) return;
    placedOther.add(t);
    layers.push({ name: t, kind: "other", weight: t });
  };
  for (const node of order) {
    const list = layerOf.get(node);
    if (!list) continue;
    for (const l of list) for (const v of l.inputs ?? []) other(v);
    layers.push(...list);
  }
  for (const t of tensors) other(t.name);
  checkLimit(limits, "maxLayers", layers.length, `tfjs '${file}': the layer count`, { format: FORMAT, file });

  // Depthwise filters are described in their grouped-conv form (the same bytes).
  for (const t of tensors) {
    const shape = reshaped.get(t.name);
    if (shape) t.shape = shape;
  }
  for (const s of statistics) {
    const t = tensorByName.get(s)!;
    skipped.push({ name: t.name, dtype: t.dtype, shape: t.shape, reason: "batch-norm running statistic, not a link weight" });
  }

  const metadata: Record<string, string> = Object.create(null);
  for (const [key, value] of [["format", root.format], ["generatedBy", root.generatedBy], ["convertedBy", root.convertedBy]] as const) {
    if (typeof value === "string") metadata[key] = value.slice(0, 200);
  }
  if (isObject(topology.versions) && (typeof topology.versions.producer === "number" || typeof topology.versions.producer === "string")) metadata.graphDefProducer = String(topology.versions.producer).slice(0, 40);
  const model: ModelInfo = {
    format: FORMAT,
    name: file,
    bytes: source.size,
    // Running statistics stay among the tensors (skipped as link weights, named by their norm's attributes).
    tensors,
    layers,
    dataFormat: dataFormat ?? "channels_last",
    skipped,
    metadata,
    graph: { inputs: graphInputs, outputs, constants, shapes },
    ...(notes.length > 0 ? { notes } : {}),
  };
  const first = graphInputs.find((i) => i.shape && i.shape.length >= 2);
  if (first && first.shape!.slice(1).every((d) => typeof d === "number")) model.inputShape = first.shape!.slice(1) as number[];
  return model;

  // -------------------------------------------------------------- helpers that see the graph

  /** A note naming an opaque TF1 loop frame, why it is not walked and the weights its nodes read. */
  function frameNote(frame: Frame): void {
    const weights = new Set<string>();
    for (const n of frame.nodes) for (const v of n.inputs) if (tensorByName.has(v)) weights.add(v);
    const listed = [...weights].slice(0, 8).map(quoteName).join(", ");
    notes.push(`The while loop ${quoteName(frame.name)} (TF1 control flow, ${formatCount(frame.nodes.size)} nodes) is not walked: ${frame.why ?? "it is not a map over rows"}; ${weights.size > 0 ? `the ${formatCount(weights.size)} weight(s) it reads (${listed}${weights.size > 8 ? ", ..." : ""}) are reported as distributions` : "no weight of the manifest is read in it"}.`);
  }

  /** A note naming a while loop, its functions and the weights they read (the body's constants and the tensors the loop is handed). */
  function loopNote(node: Node): void {
    const fn = (key: string) => {
      const v = attrOf(node, key);
      return isObject(v) && isObject(v.func) && typeof v.func.name === "string" ? v.func.name.slice(0, 200) : undefined;
    };
    const names = [fn("body"), fn("cond")].filter((n): n is string => n !== undefined);
    const library = isObject(topology) && isObject(topology.library) && Array.isArray(topology.library.function) ? topology.library.function : [];
    const weights = new Set(node.inputs.filter((v) => tensorByName.has(v)));
    for (const f of library.slice(0, 4096)) {
      if (!isObject(f) || !isObject(f.signature) || !names.includes(f.signature.name as string)) continue;
      const body = Array.isArray(f.nodeDef) ? f.nodeDef : Array.isArray(f.node_def) ? f.node_def : [];
      for (const n of body.slice(0, 1 << 16)) {
        if (!isObject(n)) continue;
        if (typeof n.name === "string" && tensorByName.has(n.name)) weights.add(n.name);
        if (Array.isArray(n.input)) for (const i of n.input) if (typeof i === "string" && tensorByName.has(i)) weights.add(i);
      }
    }
    const listed = [...weights].slice(0, 8).map(quoteName).join(", ");
    notes.push(`The while loop ${quoteName(node.name)} (${node.op}${names.length > 0 ? `; functions ${names.map(quoteName).join(", ")}` : ""}) is not walked: ${weights.size > 0 ? `the ${formatCount(weights.size)} weight(s) it reads (${listed}${weights.size > 8 ? ", ..." : ""}) are reported as distributions` : "no weight of the manifest is read in it"}.`);
  }

  /** A weighted layer: its data input and tensors, and the output its bias (fused or following) writes. */
  function placeWeighted(layer: LayerInfo, inputs: string[], here: LayerInfo[], channels: number): void {
    let output = layer.outputs?.[0] ?? layer.name;
    layer.inputs = [...inputs];
    if (layer.bias) layer.inputs.push(layer.bias);
    else {
      const b = biasAfter(output, channels);
      if (b) {
        layer.bias = b.bias;
        layer.inputs.push(b.bias);
        fused.add(b.node);
        output = b.node.name;
        layer.attributes = { ...layer.attributes, biasFrom: b.node.name };
      }
    }
    layer.outputs = [output];
    here.unshift(layer);
    producerLayer.set(output, layer);
    // A norm fused after the conv (fusedOps) reads what the conv writes.
  }
}

// ------------------------------------------------------------------------------------ helpers

/** TF1 loop control ops (graph-loops.ts). */
const LOOP_CONTROL = new Set(["Enter", "Merge", "Switch", "NextIteration", "Exit", "LoopCond"]);
const REDUCTIONS = new Set(["Mean", "Sum", "Max", "Min", "Prod"]);
/** Ops whose output has the rank of their (largest) data operand. */
const ONE_TO_ONE_RANK = new Set(["Identity", "StopGradient", "Snapshot", "Cast", "BiasAdd", "StridedSlice", "Slice"]);
const ELEMENTWISE_RANK = new Set(["Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "Pow", "SquaredDifference", "AddN", "Prelu", "Relu6", "Selu", "Sqrt", "Rsqrt", "Square", "Exp", "Log", "Neg", "Abs", "Reciprocal", "ClipByValue", "Swish"]);

const CONV_OPS: Record<string, "conv" | "depthwise" | "transpose"> = {
  Conv2D: "conv", _FusedConv2D: "conv", DepthwiseConv2dNative: "depthwise", FusedDepthwiseConv2dNative: "depthwise", Conv2DBackpropInput: "transpose",
};

/** The conv family of a TF op (own keys only: an op named "constructor" is not a conv). */
function convKind(op: string): "conv" | "depthwise" | "transpose" | undefined {
  return Object.hasOwn(CONV_OPS, op) ? CONV_OPS[op] : undefined;
}

function activationOf(op: string): Activation | undefined {
  return Object.hasOwn(ACTIVATION_OPS, op) ? ACTIVATION_OPS[op] : undefined;
}

function shapeAttr(value: unknown): (number | null)[] | undefined {
  const shape = isObject(value) && isObject(value.shape) ? value.shape : undefined;
  if (!shape || shape.unknownRank === true) return undefined;
  const dims = shape.dim ?? [];
  if (!Array.isArray(dims) || dims.length > 64) return undefined;
  const out = dims.map((d) => (isObject(d) ? intOf(d.size ?? "0") : undefined));
  if (!out.every((d) => d !== undefined && d >= -1)) return undefined;
  return out.map((d) => (d === -1 ? null : d!));
}

function declaredShape(value: unknown): number[] | undefined {
  if (!isObject(value) || value.unknownRank === true) return undefined;
  const dims = value.dim ?? [];
  if (!Array.isArray(dims) || dims.length > 64) return undefined;
  const out = dims.map((d) => (isObject(d) ? intOf(d.size ?? "0") : undefined));
  return out.every((d): d is number => d !== undefined && d >= 0) ? out : undefined;
}

function sameShape(a: number[], b: unknown[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function inlineInts(tensor: Json): number[] | undefined {
  const list = tensor.intVal ?? tensor.int_val ?? tensor.int64Val ?? tensor.int64_val;
  if (!Array.isArray(list) || list.length > MAX_CONSTANT_VALUES) return undefined;
  const out = list.map(intOf);
  return out.every((v): v is number => v !== undefined) ? out : undefined;
}

async function readFloat32(source: ByteSource, tensor: StoredTensorInfo): Promise<number> {
  const bytes = new Uint8Array(4);
  const from = await openTensorBytes(source, tensor);
  try {
    await from.readInto(0, bytes);
  } finally {
    await from.close();
  }
  return new DataView(bytes.buffer).getFloat32(0, true);
}

async function readInt32(source: ByteSource, tensor: StoredTensorInfo, count: number): Promise<number[]> {
  const bytes = new Uint8Array(count * 4);
  const from = await openTensorBytes(source, tensor);
  try {
    await from.readInto(0, bytes);
  } finally {
    await from.close();
  }
  const view = new DataView(bytes.buffer);
  return Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
}

const FUSED_ACTIVATIONS: Record<string, Activation> = { Relu: "relu", Relu6: "relu", Elu: "elu", Sigmoid: "sigmoid", Tanh: "tanh", LeakyRelu: "leaky_relu", Prelu: "unknown", Selu: "unknown", Swish: "unknown" };

/**
 * What the forward pass needs of a FusedBatchNorm (or a conv's fused one): the running statistics
 * by name, epsilon (TF's default 1e-4), the channel axis (data_format, NHWC by default) and
 * is_training (then the statistics are the batch's own, not these).
 */
function batchNormFacts(node: Node, mean: string | undefined, variance: string | undefined, isTensor: (v: string | undefined) => boolean): Attributes {
  const out: Attributes = {};
  if (isTensor(mean)) out.mean = mean!;
  if (isTensor(variance)) out.variance = variance!;
  const epsilon = attrOf(node, "epsilon");
  out.epsilon = isObject(epsilon) && typeof epsilon.f === "number" ? epsilon.f : 1e-4;
  const format = attrText(attrOf(node, "data_format")) ?? "NHWC";
  if (format === "NHWC" || format === "NCHW") out.dataFormat = format === "NHWC" ? "channels_last" : "channels_first";
  if (boolAttr(node, "is_training")) out.isTraining = 1;
  return out;
}

function fusedOps(node: Node, layer: LayerInfo, here: LayerInfo[], fail: Fail, isTensor: (v: string | undefined) => boolean): string[] {
  const statistics: string[] = [];
  const list = attrOf(node, "fused_ops");
  if (list === undefined) return statistics;
  const ops = isObject(list) && isObject(list.list) && Array.isArray(list.list.s) ? list.list.s.map((s) => (typeof s === "string" ? decodeText(s) : "")) : undefined;
  if (!ops) throw fail("BAD_HEADER", `node ${quoteName(node.name)} (${node.op}) has a fused_ops attribute that is not a list of strings.`);
  const args = node.inputs.slice(2);
  for (const f of ops) {
    if (f === "BiasAdd" || f === "Add") {
      const b = args[0];
      if (b === undefined) throw fail("BAD_HEADER", `node ${quoteName(node.name)} fuses ${f} but has no bias input.`);
      layer.bias = b;
    } else if (f === "FusedBatchNorm") {
      // conv → norm: the conv writes "<name>/conv", the norm the node's value.
      const [scale, offset, mean, variance] = args;
      layer.outputs = [`${node.name}/conv`];
      if (scale === undefined || offset === undefined) throw fail("BAD_HEADER", `node ${quoteName(node.name)} fuses FusedBatchNorm but has no scale and offset inputs.`);
      here.push({ name: `${node.name}/batch_norm`, kind: "norm", weight: scale, bias: offset, attributes: { op: "batch_norm", ...batchNormFacts(node, mean, variance, isTensor) }, inputs: [`${node.name}/conv`, scale, offset], outputs: [node.name] });
      for (const s of [mean, variance]) if (s !== undefined) statistics.push(s);
    } else if (Object.hasOwn(FUSED_ACTIVATIONS, f)) {
      // After a fused batch norm the activation runs on the norm's output, though the conv carries it:
      // the norm says so (the forward pass stops there rather than run it in the wrong order).
      const norm = here.find((l) => l.name === `${node.name}/batch_norm`);
      if (norm) norm.attributes = { ...norm.attributes, activationAfter: f };
      layer.activation = FUSED_ACTIVATIONS[f];
      layer.attributes = { ...layer.attributes, fusedActivation: f };
      const alpha = attrOf(node, "leakyrelu_alpha");
      if (f === "LeakyRelu" && isObject(alpha) && typeof alpha.f === "number") layer.attributes.alpha = alpha.f;
      if (f === "Relu6") layer.attributes.maxValue = 6;
    } else {
      throw fail("UNSUPPORTED_LAYER", `node ${quoteName(node.name)} (${node.op}) fuses ${quoteName(f.slice(0, 40))}, which cntscope does not know.`);
    }
  }
  return statistics;
}

function padsOf(values: number[] | undefined): number[] | undefined {
  if (!values || values.length % 2 !== 0 || values.length > 16 || values.some((v) => v < 0)) return undefined;
  const rank = values.length / 2;
  return [...Array.from({ length: rank }, (_, i) => values[2 * i]), ...Array.from({ length: rank }, (_, i) => values[2 * i + 1])];
}

function foldable(node: Node): boolean {
  if (!convKind(node.op) && node.op !== "MaxPool" && node.op !== "AvgPool") return false;
  if (convKind(node.op) === "transpose") return false;
  return (attrText(attrOf(node, "padding")) ?? "VALID") === "VALID";
}

function graphOutputs(root: Json, nodes: Node[], byName: Map<string, Node>, readers: Map<string, Node[]>): string[] {
  const signature = isObject(root.signature) ? root.signature : isObject(root.userDefinedMetadata) && isObject(root.userDefinedMetadata.signature) ? root.userDefinedMetadata.signature : undefined;
  const named: string[] = [];
  if (signature && isObject(signature.outputs)) {
    for (const [key, spec] of Object.entries(signature.outputs)) {
      const ref = isObject(spec) && typeof spec.name === "string" ? spec.name : key;
      const m = /^(.*):(\d+)$/.exec(ref);
      const node = m ? m[1] : ref;
      if (!byName.has(node)) continue;
      named.push(m && m[2] !== "0" ? `${node}:${m[2]}` : node);
    }
  }
  if (named.length > 0) return [...new Set(named)];
  // Without a signature: the values no node reads, except a loop's control values (a Switch's unused side, a NextIteration whose Merge edge is cut).
  return nodes.filter((n) => n.op !== "Const" && n.op !== "NoOp" && n.op !== "Placeholder" && !LOOP_CONTROL.has(n.op) && !readers.has(n.name)).map((n) => n.name);
}
