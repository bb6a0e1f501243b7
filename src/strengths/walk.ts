/**
 * Node strengths over the graph (spec metrics.md 1b and section 2): ops in topological order,
 * each value seen through a view of a node space, weighted ops adding their sums, merges joining
 * spaces or adding unit links, breaks starting new spaces; boundaries and the report's node
 * layers at the end. O(ops + nodes): every op touches the nodes of the values it reads and writes.
 */
import { CntError, quoteName, formatShape } from "../errors.js";
import type { TensorSummary } from "../measure/measure.js";
import type { Limits } from "../model/limits.js";
import type { ModelInfo } from "../model/types.js";
import { buildGraph } from "../graph/build.js";
import { CONV_OPS, opFamily, RECURRENT_OPS } from "../graph/ops.js";
import { inferRoles, type AxisRoles } from "../graph/roles.js";
import { inferShapes } from "../graph/shapes.js";
import type { GraphOp, GraphValue, ModelGraph } from "../graph/types.js";
import type { Kernels } from "../kernels/kernels.js";
import { convChannels, convSums } from "../graph/ops/conv.js";
import { denseSums } from "../graph/ops/dense.js";
import { recurrentSums } from "../graph/ops/recurrent.js";
import { foldedZeroPad, isFoldedPad, isZeroPads, paddedNodes } from "../graph/ops/pad.js";
import type { Sums } from "../graph/ops/sums.js";
import { broadcasts, channelMajor, concat, isFloat, isIdentityPool, permutedNodes, selectedNodes } from "./node-index.js";
import { addFeatures, addInto, addMap, at, coversSpace, fold, join, markBoundary, resolve, Space, unite, type View } from "./spaces.js";
import { known, sameList } from "../graph/dims.js";

/** One node layer: every node's s_in and s_out, in the order of its first value (channel-major for feature maps). */
export interface NodeStrengths {
  after: string;
  /** [n] for a vector, [c, h, w] for a feature map. */
  shape: number[];
  sIn: Float64Array;
  sOut: Float64Array;
  s: Float64Array;
  /** Ops whose outputs are these nodes ("input" for a graph input). */
  producers: string[];
  /** The values these nodes are (their names in the graph). */
  values: string[];
  /** With the option nodeMaps: for each value that reaches every node, where its elements are nodes (the forward pass's per-node statistics). */
  nodeMaps?: Map<string, NodeMap>;
}

/**
 * Where a value's elements sit among its node layer's nodes: `axes` are the value's node axes (in
 * its graph shape; the others are batch or sequence axes), and element k of one observation,
 * counted row-major over those axes, is node map[k] of the layer (absent: node k).
 */
export interface NodeMap {
  axes: number[];
  map?: Int32Array;
}

export interface Coverage {
  /** Weighted ops of the graph (a bidirectional recurrent op once). */
  weightedLayers: number;
  /** Weighted ops whose links the reported strengths include on both sides. */
  inStrengths: number;
}

export interface StrengthsResult {
  layers: NodeStrengths[];
  notes: string[];
  coverage: Coverage;
  /** Each layer's input and output values (by layer name), for the report. */
  wiring: Map<string, { inputs: string[]; outputs: string[] }>;
}

export interface StrengthOptions {
  bias: "in" | "ignore";
  boundary: "unit" | "zero";
  skip?: "unit" | "none";
  limits: Limits;
  /** Give each node layer's NodeStrengths.nodeMaps (for the data metrics). */
  nodeMaps?: boolean;
}


/** Node strengths of every node layer the walk can place; notes for the rest (spec report.md). */
export function nodeStrengths(kernels: Kernels, model: ModelInfo, summaries: Map<string, TensorSummary>, options: StrengthOptions, inputShape?: number[]): StrengthsResult {
  const graph = buildGraph(inputShape ? withInputShape(model, inputShape) : model);
  inferShapes(graph, model);
  const roles = inferRoles(graph);
  const walk = new Walk(kernels, model, graph, roles, { tensors: new Map(model.tensors.map((t) => [t.name, t])), summaries, bias: options.bias }, options);
  return walk.run();
}

/** The caller's one-sample shape over the file's: a chain's input, or the first data input of a graph (its batch axis kept). */
export function withInputShape(model: ModelInfo, shape: number[]): ModelInfo {
  if (!model.graph) return { ...model, inputShape: shape };
  const inputs = model.graph.inputs.map((input, i) => (i === 0 ? { ...input, shape: [input.shape?.[0] ?? null, ...shape] } : input));
  return { ...model, inputShape: shape, graph: { ...model.graph, inputs } };
}

/** ONNX TensorProto codes of float types (a Cast's `to`): FLOAT, FLOAT16, DOUBLE, BFLOAT16. */
const FLOAT_CODES = new Set([1, 10, 11, 16]);

/** The ops through which a spelled-out norm applies its statistics to the nodes they came from (spec 1b). */
const SCALINGS = new Set(["div", "mul", "multiply"]);
const NORM_STEPS = new Set(["sub", "subtract", ...SCALINGS]);

class Walk {
  private readonly views = new Map<string, View | null>();
  private readonly spaces: Space[] = [];
  private readonly notes: string[] = [];
  /** Values read by a break (or as a broadcast operand): their nodes get s_out by the boundary rule when nothing else reads them. */
  private readonly breakReads = new Map<string, number>();
  /** Values a break writes: their nodes get s_in by the boundary rule. */
  private readonly breakOutputs = new Set<string>();
  /** Reductions over nodes, told apart at the end: pooling, or a norm spelled out in primitive ops. */
  private readonly reductions: { x: GraphValue; y: GraphValue }[] = [];
  /** Spaces of a spelled-out norm's statistics (mean, variance): not node layers. */
  private readonly statistics = new Set<Space>();
  private readonly weightedOps: { op: GraphOp; input?: View; output?: View }[] = [];
  private readonly channelsLast: boolean;
  private readonly nodeCounts = new Map<GraphValue, { axes: number[]; dims: number[]; count: number } | undefined>();
  private readonly readerCounts = new Map<GraphValue, number>();
  /** Integer graph inputs cast to floats: nodes of a graph input (boundary s_in). */
  private readonly castInputs = new Set<string>();

  constructor(private readonly kernels: Kernels, private readonly model: ModelInfo, private readonly graph: ModelGraph, private readonly roles: AxisRoles, private readonly sums: Sums, private readonly options: StrengthOptions) {
    this.channelsLast = model.dataFormat === "channels_last";
    this.notes.push(...graph.notes);
  }

  run(): StrengthsResult {
    for (const name of this.graph.inputs) {
      const v = this.graph.values.get(name)!;
      if (!isFloat(v)) continue;
      const view = this.newSpace(v, "input");
      if (!view) this.notes.push(`The size of graph input ${quoteName(name)} is not known (shape ${formatShape(v.shape)}); pass inputShape (CLI --input) to place the node layers it feeds.`);
    }
    for (const op of this.graph.ops) {
      try {
        this.place(op);
      } catch (error) {
        if (error instanceof CntError && (error.code === "TOO_LARGE" || error.code === "INTERNAL")) throw error;
        this.unplaced(op, error instanceof Error ? error.message : String(error));
      }
    }
    return this.finish();
  }

  // ------------------------------------------------------------------------------------ values

  private value(name: string | undefined): GraphValue | undefined {
    return name === undefined ? undefined : this.graph.values.get(name);
  }

  private viewOf(name: string | undefined): View | null | undefined {
    return name === undefined ? undefined : this.views.get(name);
  }

  /** The node axes and their sizes; undefined while a node axis has no known size. */
  private nodes(v: GraphValue): { axes: number[]; dims: number[]; count: number } | undefined {
    // Asked many times per value (by each op that reads or writes it); shapes and roles are fixed by now.
    if (this.nodeCounts.has(v)) return this.nodeCounts.get(v);
    const n = this.countNodes(v);
    this.nodeCounts.set(v, n);
    return n;
  }

  private countNodes(v: GraphValue): { axes: number[]; dims: number[]; count: number } | undefined {
    if (!v.shape) return undefined;
    const axes = this.roles.nodeAxes(v);
    const dims = axes.map((a) => v.shape![a]);
    if (!dims.every(known)) return undefined;
    const count = (dims as number[]).reduce((a, b) => a * b, 1);
    // More nodes than the limit: not placed (a note), so no map or index array is ever that long.
    if (count > this.options.limits.maxLayerNodes) {
      this.notes.push(`Value ${quoteName(v.name)} has ${count.toLocaleString("en-US")} nodes, above the limit maxLayerNodes = ${this.options.limits.maxLayerNodes.toLocaleString("en-US")}; the node layers around it are left out (raise the limit in options.limits if the file is trusted).`);
      return undefined;
    }
    return { axes, dims: dims as number[], count };
  }

  /** A fresh space for a value's nodes; feature maps in channels-last order are held channel-major. */
  private newSpace(v: GraphValue, producer: string): View | null {
    const n = this.nodes(v);
    if (!n) {
      this.views.set(v.name, null);
      return null;
    }
    const isMap = n.axes.length >= 2 && n.axes.every((a) => this.roles.role(v, a) === "map");
    const perm = isMap && this.channelsLast ? channelMajor(n.dims) : undefined;
    const shape = perm ? [n.dims[n.dims.length - 1], ...n.dims.slice(0, -1)] : n.dims;
    const space = new Space(this.spaces.length, n.count, shape);
    this.spaces.push(space);
    space.producers.push(producer);
    space.values.push(v.name);
    const view: View = { space, map: perm, count: n.count };
    this.views.set(v.name, view);
    return view;
  }

  private setView(v: GraphValue | undefined, view: View | null): void {
    if (!v) return;
    this.views.set(v.name, view);
    if (view) resolve(view).space.values.push(v.name);
  }

  /** Data inputs of an op: views of values that flow from a graph input. */
  private dataInputs(op: GraphOp): GraphValue[] {
    return op.inputs.map((n) => this.value(n)).filter((v): v is GraphValue => v !== undefined && v.kind === "data");
  }

  /** How many ops read the value as data (Shape and Size read only its shape). */
  private readers(v: GraphValue): number {
    let n = this.readerCounts.get(v);
    if (n === undefined) this.readerCounts.set(v, (n = new Set(v.consumers.filter((c) => opFamily(c.op) !== "shape")).size));
    return n;
  }

  // ------------------------------------------------------------------------------------ ops

  private place(op: GraphOp): void {
    const data = this.dataInputs(op);
    const outs = op.outputs.map((n) => this.value(n)).filter((v): v is GraphValue => v !== undefined && v.producer === op && v.kind === "data");
    if (data.length === 0) return; // constants and shape arithmetic: no nodes
    const family = opFamily(op.op);
    if (this.graph.chain && family === "merge") return this.unplaced(op, "the file gives the layers as a list, without what each one reads, so a merge cannot be placed");
    // A lookup, or a gather by indices that come from data (a detector's top-k or NMS picks): mixing by data, a break (spec 1b).
    if (op.op === "lookup" || (op.op === "gather" && (this.value(op.inputs[0])?.kind !== "data" || this.value(op.inputs[1])?.kind === "data"))) return this.breakOp(op, data, outs);
    if (family === "weighted") {
      // Data read besides the op's first input (a recurrent op's initial state from data) is mixing: a break.
      for (const v of data.slice(op.inputs[0] === data[0].name ? 1 : 0)) this.breakReads.set(v.name, (this.breakReads.get(v.name) ?? 0) + 1);
      // A zero Pad read only by this conv is its padding (graph/ops/pad.ts): the conv reads the Pad's input.
      const folded = foldedZeroPad(op, this.graph.values);
      return folded ? this.weighted(folded.op, folded.x, outs) : this.weighted(op, this.value(op.inputs[0])!, outs);
    }
    if (family === "shape") return;
    if (family === "plumbing") return this.plumbing(op, data, outs);
    if (family === "pad") {
      // A zero pad is placed inside the conv that reads it, reflect and edge pads copy input nodes (graph/ops/pad.ts).
      if (isFoldedPad(op, this.graph.values)) return;
      const [x, y] = [data[0], outs[0]];
      const xView = this.viewOf(x.name), nx = this.nodes(x);
      const pads = (op.layer.attributes?.pads as number[] | undefined) ?? this.value(op.inputs[1])?.values;
      const ny = y ? this.nodes(y) : undefined;
      // All pads zero (torch's F.avg_pool2d export writes Pad(zeros) before AveragePool): the same nodes.
      if (xView && nx && ny && isZeroPads(pads) && nx.count === ny.count) return this.setView(y, { ...xView });
      const index = xView && nx && ny && x.shape && pads ? paddedNodes(nx, x.shape.length, pads, String(op.layer.attributes?.mode ?? "constant"), ny.count) : undefined;
      if (!xView || !index) return this.unplaced(op, "padding changes the node count; a zero pad is placed inside the conv that reads it, a reflect or edge pad by constant pads");
      return this.setView(y, { space: xView.space, map: Int32Array.from(index, (i) => at(xView, i)), count: index.length });
    }
    if (family === "unknown") {
      const what = op.op === "lambda" ? "a Lambda layer (Python code, never run)" : op.op === "custom" ? `a layer of class ${quoteName(String(op.layer.attributes?.className ?? ""))} that cntscope does not know (never resolved or run)` : `op ${quoteName(op.op)} is not one the walk knows`;
      return this.unplaced(op, what);
    }
    // A graph input of integers (an image as uint8 or int32) cast to floats: the nodes the network sees, a float input's nodes.
    if (op.op === "cast" && outs[0] && data.length === 1 && FLOAT_CODES.has(Number(op.layer.attributes?.to)) && this.graph.inputs.includes(data[0].name) && !isFloat(data[0])) {
      if (this.newSpace(outs[0], "input")) this.castInputs.add(outs[0].name);
      return;
    }
    const inViews = data.map((v) => this.viewOf(v.name));
    if (inViews.some((w) => w === null || w === undefined)) {
      // An input the walk could not place: what this op writes cannot be placed either, except a break's fresh nodes.
      if (family === "break") return this.breakOp(op, data, outs);
      const unplaced = data.filter((v) => !this.viewOf(v.name)).map((v) => quoteName(v.name));
      for (const v of data) {
        const w = this.viewOf(v.name);
        if (!w) continue;
        const space = resolve(w).space;
        // A node layer with links that meets a value the walk could not place: say which, since no earlier note may.
        if (space.linked && space.complete) this.notes.push(`Op ${quoteName(op.name)} (${op.op}) reads ${quoteName(v.name)} together with ${unplaced.join(", ")}, which the walk could not place; the node layer of ${quoteName(v.name)} is left out.`);
        space.complete = false;
      }
      for (const o of outs) this.setView(o, null);
      return;
    }
    if (family === "break") return this.breakOrIdentity(op, data, outs);
    if (family === "elementwise") return this.elementwise(op, data[0], outs[0]);
    if (family === "select") return this.select(op, data[0], outs);
    if (family === "merge") return this.merge(op, data, outs[0]);
  }

  /** An op the walk cannot place: the nodes it reads are left out, and so is what it writes. */
  private unplaced(op: GraphOp, why: string): void {
    for (const v of this.dataInputs(op)) {
      const w = this.viewOf(v.name);
      if (w) resolve(w).space.complete = false;
    }
    for (const out of op.outputs) {
      const v = this.value(out);
      if (v?.producer === op) this.views.set(out, null);
    }
    this.notes.push(`Node layers next to ${quoteName(op.name)} are left out: ${why.replace(/\.$/, "")}.`);
  }

  private plumbing(op: GraphOp, data: GraphValue[], outs: GraphValue[]): void {
    // Expand and Tile of data repeat nodes along positions: one to one when the node count stays.
    if (op.op === "tile") return this.elementwise(op, data[0], outs[0]);
    for (const o of outs) this.setView(o, null);
  }

  private weighted(op: GraphOp, x: GraphValue, outs: GraphValue[]): void {
    const record: { op: GraphOp; input?: View; output?: View } = { op };
    this.weightedOps.push(record);
    const xView = x.kind === "data" ? this.viewOf(x.name) ?? null : null;
    if (op.op === "dense") {
      const d = denseSums(op.layer, this.sums);
      if (xView) {
        const feature = this.featureIndex(x, d.nIn, op);
        if (feature) {
          addFeatures(xView, "sOut", d.outOfInputs);
          record.input = xView;
        } else resolve(xView).space.complete = false;
      }
      const y = outs[0];
      if (!y) return;
      const yView = this.newSpace(y, op.name);
      if (!yView) return this.lost(op, y);
      const feature = this.featureIndex(y, d.nOut, op);
      if (!feature) return this.lost(op, y);
      addFeatures(yView, "sIn", d.intoOutputs);
      record.output = yView;
      return;
    }
    if (CONV_OPS.has(op.op)) return this.conv(op, x, xView, outs[0], record);
    if (RECURRENT_OPS.has(op.op)) return this.recurrent(op, x, xView, outs, record);
  }

  private lost(op: GraphOp, y: GraphValue): void {
    this.notes.push(`The nodes ${quoteName(op.name)} writes (value ${quoteName(y.name)}, shape ${formatShape(y.shape)}) cannot be placed: their count is not known.`);
    this.views.set(y.name, null);
  }

  /** Feature index (last axis) of every node of a value that a dense op reads or writes with `features` features. */
  private featureIndex(v: GraphValue, features: number, op: GraphOp): ((k: number) => number) | undefined {
    const n = this.nodes(v);
    if (!n || n.axes.length === 0) return undefined;
    const lastAxis = v.shape!.length - 1;
    // A dense layer right after a feature map (a chain without its flatten) reads it flattened, in the value's order.
    if (n.count === features && (n.axes[n.axes.length - 1] !== lastAxis || n.dims[n.dims.length - 1] !== features)) return (k) => k;
    if (n.axes[n.axes.length - 1] !== lastAxis || n.dims[n.dims.length - 1] !== features) {
      this.notes.push(`Dense layer ${quoteName(op.name)} has ${features} features, but value ${quoteName(v.name)} has shape ${formatShape(v.shape!)}; its nodes there are left out.`);
      return undefined;
    }
    return (k) => k % features;
  }

  private conv(op: GraphOp, x: GraphValue, xView: View | null, y: GraphValue | undefined, record: { input?: View; output?: View }): void {
    const attributes = op.layer.attributes ?? {};
    if (attributes.stride === undefined && attributes.autoPad === undefined) {
      this.notes.push(`Node strengths around conv layer ${quoteName(op.name)} are left out: the file does not give its stride and padding; pass them in a layout (option layout, CLI --layout layout.json), e.g. {"layers": {${JSON.stringify(op.name)}: {"stride": [1, 1], "pads": [0, 0, 0, 0]}}}.`);
      if (xView) resolve(xView).space.complete = false;
      if (y) this.views.set(y.name, null);
      return;
    }
    const spatial = op.op === "conv1d" ? 1 : 2;
    const last = (attributes.dataFormat ?? this.model.dataFormat) === "channels_last";
    const shape = x.shape;
    const lead = shape ? shape.length - spatial - 1 : -1;
    const hw = shape && lead >= 0 ? (last ? shape.slice(lead, lead + spatial) : shape.slice(lead + 1)) : [];
    const { cIn } = convChannels(op.layer, this.sums);
    const channels = shape && lead >= 0 ? (last ? shape[shape.length - 1] : shape[lead]) : undefined;
    if (!shape || lead < 0 || !hw.every(known) || hw.length !== spatial) {
      this.notes.push(`Conv layer ${quoteName(op.name)} reads a map of unknown size (value ${quoteName(x.name)}, shape ${formatShape(shape)}); pass inputShape (CLI --input, e.g. ${cIn}x32x32) to place the node layers around it.`);
      if (xView) resolve(xView).space.complete = false;
      if (y) this.views.set(y.name, null);
      return;
    }
    if (channels !== cIn) throw new CntError("BAD_SHAPE", `Conv layer ${quoteName(op.name)} takes ${cIn} channels, but value ${quoteName(x.name)} has shape ${formatShape(shape)}.`);
    const inputHW: [number, number] = spatial === 1 ? [1, hw[0] as number] : [hw[0] as number, hw[1] as number];
    // Both maps within maxLayerNodes before any strength map is computed (sizes a file declares).
    const yNodes = y ? this.nodes(y) : undefined;
    if (!this.nodes(x) || (y && !yNodes)) {
      if (xView) resolve(xView).space.complete = false;
      if (y) this.views.set(y.name, null);
      this.notes.push(`The maps conv layer ${quoteName(op.name)} reads or writes are too large or of unknown size; the node layers around it are left out.`);
      return;
    }
    const maps = convSums(this.kernels, op.layer, inputHW, this.sums);
    if (xView) {
      addMap(xView, "sOut", maps.outOfInputs, cIn, last);
      record.input = xView;
    }
    if (!y) return;
    const [h, w] = maps.geometry.axes;
    const yView = this.newSpace(y, op.name);
    if (!yView || yView.count !== maps.cOut * h.out * w.out) return this.lost(op, y);
    addMap(yView, "sIn", maps.intoOutputs, maps.cOut, last);
    record.output = yView;
  }

  private recurrent(op: GraphOp, x: GraphValue, xView: View | null, outs: GraphValue[], record: { input?: View; output?: View }): void {
    const parts = [op.layer, ...(op.directions ?? [])].map((l) => recurrentSums(l, this.sums));
    const nIn = parts[0].outOfInputs.length;
    if (parts.some((p) => p.outOfInputs.length !== nIn)) throw new CntError("BAD_SHAPE", `The two directions of recurrent layer ${quoteName(op.name)} take different input sizes.`);
    if (xView) {
      const feature = this.featureIndex(x, nIn, op);
      if (feature) {
        const out = new Float64Array(nIn);
        for (const p of parts) for (let i = 0; i < nIn; i++) out[i] += p.outOfInputs[i];
        addFeatures(xView, "sOut", out);
        record.input = xView;
      } else resolve(xView).space.complete = false;
    }
    // Y (every step) and Y_h are the same nodes h, directions forward then reverse; the cell state is not a node layer.
    const [all, last] = [this.value(op.outputs[0]), this.value(op.outputs[1])];
    const hidden = concat(parts.map((p) => p.intoHidden));
    const next = concat(parts.map((p) => p.outOfHidden));
    const first = [all, last].find((v) => v && v.producer === op && v.kind === "data" && this.nodes(v)?.count === hidden.length);
    for (const o of outs) this.views.set(o.name, null);
    if (!first) {
      this.notes.push(`The hidden nodes of recurrent layer ${quoteName(op.name)} cannot be placed: its output shape is not known.`);
      return;
    }
    const view = this.newSpace(first, op.name)!;
    addFeatures(view, "sIn", hidden);
    addFeatures(view, "sOut", next);
    record.output = view;
    for (const o of [all, last]) if (o && o !== first && o.producer === op && this.nodes(o)?.count === hidden.length) this.setView(o, { ...view });
  }

  private elementwise(op: GraphOp, x: GraphValue, y: GraphValue | undefined): void {
    if (!y) return;
    const xView = this.viewOf(x.name)!;
    const nx = this.nodes(x), ny = this.nodes(y);
    if (nx && ny && nx.count !== ny.count && nx.count === xView.count && this.headsThroughBatch(op, x, y, nx.count, ny.count)) return this.breakOp(op, [x], [y]);
    if (!nx || !ny || nx.count !== ny.count || nx.count !== xView.count) return this.unplaced(op, `its output ${quoteName(y.name)} does not keep the node count of ${quoteName(x.name)}`);
    if ((op.op === "transpose" || op.op === "permute") && x.shape && y.shape) {
      const perm = (op.layer.attributes?.perm as number[] | undefined) ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
      const index = permutedNodes(nx, ny, perm);
      if (index) return this.setView(y, { space: xView.space, map: Int32Array.from(index, (i) => at(xView, i)), count: ny.count });
    }
    this.setView(y, { ...xView });
  }

  /**
   * A Reshape that moves groups of nodes into a symbolic (batch) axis or back (nn.MultiheadAttention:
   * q.view(T, B * heads, d) before the attention MatMuls, [T, B * heads, d] -> [T * B, C] after them).
   * Into the batch axis it is placed when everything that reads the result, through one to one ops,
   * is a break: the nodes it reads get the boundary as those breaks would give them, and the head
   * pieces are not node layers. Out of the batch axis it is placed when it reads a break's fresh
   * nodes that nothing links: the result is that break's output, with the break's boundary.
   */
  private headsThroughBatch(op: GraphOp, x: GraphValue, y: GraphValue, nIn: number, nOut: number): boolean {
    if (op.op !== "reshape" || !x.shape?.includes(null) || !y.shape?.includes(null)) return false;
    if (nIn > nOut) return nIn % nOut === 0 && this.feedsOnlyBreaks(y);
    if (nOut % nIn !== 0) return false;
    const space = resolve(this.viewOf(x.name)!).space;
    return !space.linked && space.values.some((n) => this.breakOutputs.has(n)) && this.readers(x) === 1;
  }

  /** Every op that reads the value as data, through one to one ops (a constant operand besides), is a break. */
  private feedsOnlyBreaks(v: GraphValue): boolean {
    const seen = new Set<string>();
    const queue = [v];
    while (queue.length > 0) {
      const u = queue.pop()!;
      if (seen.has(u.name)) continue;
      seen.add(u.name);
      if (this.graph.outputs.includes(u.name)) return false;
      for (const c of u.consumers) {
        const family = opFamily(c.op);
        if (family === "shape" || (family === "break" && c.op !== "reduce" && c.op !== "lookup")) continue;
        const data = this.dataInputs(c);
        if (!(family === "elementwise" || (family === "merge" && c.op !== "concat" && data.length === 1))) return false;
        for (const o of c.outputs) {
          const w = this.value(o);
          if (w?.producer === c && w.kind === "data") queue.push(w);
        }
      }
    }
    return true;
  }

  private select(op: GraphOp, x: GraphValue, outs: GraphValue[]): void {
    const xView = this.viewOf(x.name)!;
    const nx = this.nodes(x);
    if (!nx || !x.shape) return this.unplaced(op, `the shape of ${quoteName(x.name)} is not known`);
    const rank = x.shape.length;
    const axisAttr = Number(op.layer.attributes?.axis ?? 0);
    const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
    const picks = this.picks(op, x, outs.length, nx);
    if (!picks) return this.unplaced(op, "its indices are not constants");
    // An output the walk cannot place leaves the input's nodes out too (their links out are not all known).
    const lost = (y: GraphValue) => {
      this.unplaced(op, `its output ${quoteName(y.name)} cannot be placed on the nodes of ${quoteName(x.name)}`);
    };
    outs.forEach((y, o) => {
      const ny = this.nodes(y);
      if (!ny) return lost(y);
      const onNode = nx.axes.includes(picks[o].axis ?? axis);
      if (!onNode) {
        // Along positions (replicas): the same nodes.
        if (ny.count !== nx.count) return lost(y);
        return this.setView(y, { ...xView });
      }
      const index = selectedNodes(nx, picks[o].axis ?? axis, picks[o].indices);
      if (!index || index.length !== ny.count) return lost(y);
      this.setView(y, { space: xView.space, map: Int32Array.from(index, (i) => at(xView, i)), count: ny.count });
    });
  }

  /** The indices each output of a Split / Slice / Gather takes along its axis. */
  private picks(op: GraphOp, x: GraphValue, outputs: number, nx: { axes: number[]; dims: number[]; count: number }): { axis?: number; indices: number[] }[] | undefined {
    // Index lists are only made along node axes, whose sizes nodes() has bounded; other axes give empty lists.
    const shape = x.shape!.map((d, i) => (nx.axes.includes(i) ? d : null));
    const rank = shape.length;
    const a = op.layer.attributes ?? {};
    const norm = (ax: number) => (ax < 0 ? ax + rank : ax);
    const ints = (key: string, index: number) => (Array.isArray(a[key]) ? (a[key] as number[]) : this.value(op.inputs[index])?.values);
    const along = (axis: number) => new Array(outputs).fill({ axis, indices: [] });
    if (op.op === "split") {
      const axis = norm(Number(a.axis ?? 0));
      if (!nx.axes.includes(axis)) return along(axis);
      const size = shape[axis];
      if (!known(size)) return undefined;
      const sizes = ints("split", 1) ?? (size % outputs === 0 ? new Array(outputs).fill(size / outputs) : undefined);
      if (!sizes || sizes.length !== outputs || sizes.some((n) => !(n >= 0)) || sizes.reduce((a, n) => a + n, 0) !== size) return undefined;
      const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, n) => a + n, 0));
      return sizes.map((n, o) => ({ axis, indices: Array.from({ length: n }, (_, i) => starts[o] + i) }));
    }
    if (op.op === "gather") {
      const axis = norm(Number(a.axis ?? 0));
      if (!nx.axes.includes(axis)) return along(axis);
      const idx = this.value(op.inputs[1]);
      const size = shape[axis];
      if (!idx?.values || !known(size)) return undefined;
      return [{ axis, indices: idx.values.map((i) => (i < 0 ? i + size : i)) }];
    }
    // slice: one run per axis; several axes are taken one at a time only when at most one is a node axis.
    const starts = ints("starts", 1), ends = ints("ends", 2);
    if (!starts || !ends) return undefined;
    const axes = (ints("axes", 3) ?? starts.map((_, i) => i)).map(norm);
    const steps = ints("steps", 4) ?? starts.map(() => 1);
    const onNodes = axes.map((ax, i) => ({ ax, i })).filter(({ ax }) => this.roles.nodeAxes(x).includes(ax));
    // An axis taken whole (from 0 to its end, step 1) selects nothing: only the axes the slice cuts count.
    const whole = ({ ax, i }: { ax: number; i: number }) => known(shape[ax]) && starts[i] === 0 && ends[i] >= (shape[ax] as number) && (steps[i] ?? 1) === 1;
    const cutting = onNodes.filter((a) => !whole(a));
    const nodeAxes = cutting.length > 0 ? cutting : onNodes.slice(0, 1);
    if (nodeAxes.length > 1) return undefined;
    if (nodeAxes.length === 0) return [{ axis: axes[0], indices: [] }];
    const { ax, i } = nodeAxes[0];
    const size = shape[ax];
    if (!known(size)) return undefined;
    const indices: number[] = [];
    const step = steps[i];
    if (step === 0 || !Number.isSafeInteger(step)) return undefined;
    let s = starts[i] < 0 ? starts[i] + size : starts[i];
    const e = ends[i] < 0 ? ends[i] + size : Math.min(ends[i], size);
    if (step > 0) for (s = Math.max(s, 0); s < e; s += step) indices.push(s);
    else for (s = Math.min(s, size - 1); s > Math.max(e, -1); s += step) indices.push(s);
    return [{ axis: ax, indices }];
  }

  private breakOrIdentity(op: GraphOp, data: GraphValue[], outs: GraphValue[]): void {
    const x = data[0], y = outs[0];
    const nx = this.nodes(x), ny = y ? this.nodes(y) : undefined;
    // Identity pooling and resizing (same map out as in), and reductions over positions only, keep the nodes.
    const sameMap = nx && ny && nx.count === ny.count && (op.op === "pool" || op.op === "global_pool" || op.op === "upsample") && sameList(x.shape ?? [], y!.shape ?? []) && isIdentityPool(op);
    const overPositions = (op.op === "reduce" || op.op === "global_pool") && nx && ny && nx.count === ny.count;
    if (sameMap || overPositions) return this.setView(y, { ...this.viewOf(x.name)! });
    if (op.op === "reduce" && y) this.reductions.push({ x, y });
    this.breakOp(op, data, outs);
  }

  /**
   * Feature maps are listed channel-major (c, y, x) whatever the framework: a space first seen in
   * another order (an NHWC graph input that a Transpose hands to a channels-first conv) is put in
   * the order of the first conv that reads it.
   */
  private channelMajor(): void {
    const done = new Set<Space>();
    for (const op of this.graph.ops) {
      if (!CONV_OPS.has(op.op) || (op.layer.attributes?.dataFormat ?? this.model.dataFormat) === "channels_last") continue;
      const x = this.value(op.inputs[0]);
      const view = x ? this.views.get(x.name) : undefined;
      if (!x || !view) continue;
      const v = resolve(view);
      const n = this.nodes(x);
      if (done.has(v.space) || !v.map || !n || v.count !== v.space.size || !coversSpace(v)) continue;
      done.add(v.space);
      v.space.reorder(v.map, n.dims);
    }
  }

  /**
   * A reduction over the nodes whose result only scales or shifts the same nodes (through
   * elementwise steps: + eps, sqrt, reciprocal) is a norm spelled out in primitive ops (LayerNorm,
   * RMSNorm), which is one to one (spec 1b, settled cases): its statistics are not node layers
   * and reading them is not a break read.
   */
  private normStatistic(x: GraphValue, y: GraphValue): boolean {
    const xView = this.views.get(x.name);
    if (!xView) return false;
    const nodes = resolve(xView).space;
    const statistic = new Set<string>([y.name]);
    const queue = [y];
    // Only the full pattern is a norm: a reduction that reaches a graph output, or ends nowhere (a ReduceMean head), is a result.
    let applied = false;
    while (queue.length > 0) {
      const v = queue.pop()!;
      if (this.graph.outputs.includes(v.name)) return false;
      for (const c of v.consumers) {
        if (opFamily(c.op) === "shape") continue;
        const data = this.dataInputs(c);
        const others = data.filter((d) => !statistic.has(d.name));
        const outs = c.outputs.map((n) => this.value(n)).filter((o): o is GraphValue => o !== undefined && o.producer === c);
        if (others.length === 0 && (opFamily(c.op) === "elementwise" || opFamily(c.op) === "merge")) {
          for (const o of outs) if (!statistic.has(o.name)) (statistic.add(o.name), queue.push(o));
          continue;
        }
        // Sub(x, mean) whose result is then divided or multiplied (by its spread), Div(d, std), Mul(x, rsqrt): the other operand is these same nodes.
        const other = others.length === 1 ? this.views.get(others[0].name) : undefined;
        if (!NORM_STEPS.has(c.op) || !other || resolve(other).space !== nodes) return false;
        if ((c.op === "sub" || c.op === "subtract") && !outs.some((o) => o.consumers.some((r) => SCALINGS.has(r.op)))) return false;
        applied = true;
      }
    }
    return applied;
  }

  /** Data-dependent mixing: the nodes read get s_out by the boundary rule (when nothing else reads them), the nodes written start afresh. */
  private breakOp(op: GraphOp, data: GraphValue[], outs: GraphValue[]): void {
    for (const v of data) this.breakReads.set(v.name, (this.breakReads.get(v.name) ?? 0) + 1);
    for (const y of outs) if (this.newSpace(y, op.name)) this.breakOutputs.add(y.name);
  }

  private merge(op: GraphOp, data: GraphValue[], y: GraphValue | undefined): void {
    if (!y) return;
    const ny = this.nodes(y);
    if (!ny) return this.unplaced(op, `the node count of ${quoteName(y.name)} is not known`);
    const operands = data.map((v) => ({ v, view: this.viewOf(v.name)!, n: this.nodes(v) }));
    if (operands.some((o) => !o.n)) return this.unplaced(op, "an operand's node count is not known");
    // One data operand (the others constants), or the same nodes twice (x * sigmoid(x)): one to one.
    const first = resolve(operands[0].view);
    const same = operands.every((o) => {
      const r = resolve(o.view);
      return r.space === first.space && r.count === first.count && (r.map === first.map || (r.map && first.map && r.map.every((x, i) => x === first.map![i])) || (!r.map && !first.map));
    });
    if (op.op === "concat") {
      const axis = Number(op.layer.attributes?.axis ?? -1);
      const ax = axis < 0 ? axis + y.shape!.length : axis;
      // Constant operands (zero channels that pad a map, as tf2onnx writes a channel Pad) are nodes without links in.
      const all = op.inputs.map((n) => this.value(n)).filter((v): v is GraphValue => v !== undefined && v.name !== "");
      const constants = all.filter((v) => v.kind !== "data");
      if (this.roles.nodeAxes(y).includes(ax) && all.length > 1 && constants.every((c) => c.shape?.length === y.shape!.length && known(c.shape[ax]))) {
        return this.concat(op, all.map((v) => operands.find((o) => o.v === v) ?? { v, constant: true as const }), y, ny, ax);
      }
    }
    if (operands.length === 1 || same) {
      // One data operand that constants broadcast to more nodes (a keypoint's offsets against a grid of positions): its
      // nodes repeated, a break as a repeat is (spec 1b; Keras RepeatVector).
      if (operands.length === 1 && operands[0].n!.count < ny.count && broadcasts(operands[0].v.shape, y.shape)) return this.breakOp(op, data, [y]);
      if (first.count !== ny.count) return this.unplaced(op, `its output ${quoteName(y.name)} does not keep the node count of ${quoteName(operands[0].v.name)}`);
      return this.setView(y, { ...operands[0].view });
    }
    // A broadcast operand (a gate [C, 1, 1] times a map [C, H, W]) scales or shifts: the result keeps the full operand's nodes.
    // Broadcast over positions too (a modulation [1, 1, F] on a stream [1, T, F]): told by the shapes, not the node counts.
    const full = operands.filter((o) => o.view.count === ny.count && !broadcasts(o.v.shape, y.shape));
    for (const o of operands) if (!full.includes(o)) this.breakReads.set(o.v.name, (this.breakReads.get(o.v.name) ?? 0) + 1);
    if (full.length === 0) return this.unplaced(op, "no operand has the output's nodes");
    if (full.length === 1) return this.setView(y, { ...full[0].view });
    const alone = full.filter((o) => this.readers(o.v) === 1);
    this.foldPieces(alone);
    const joiners = alone.filter((o) => coversSpace(o.view));
    const skips = full.filter((o) => !joiners.includes(o));
    let out: View;
    if (joiners.length > 0) {
      out = joiners[0].view;
      for (const o of joiners.slice(1)) join(out, o.view);
      const root = resolve(out).space;
      if (!root.producers.includes(op.name)) root.producers.push(op.name);
    } else {
      const view = this.newSpace(y, op.name);
      if (!view) return;
      out = view;
    }
    this.skipLinks(skips.map((o) => o.view), out);
    this.setView(y, resolve(out));
  }

  /**
   * Operands read by nothing else that are pieces of one node layer and together reach all of it
   * (silu(gate) * up after a fused gate_up projection): the layer folds onto one piece's nodes, so
   * the pieces join as whole operands do (spec 1b: merge operands read by no other op join).
   */
  private foldPieces(operands: { v: GraphValue; view: View }[]): void {
    const bySpace = new Map<Space, { v: GraphValue; view: View }[]>();
    for (const o of operands) {
      if (coversSpace(o.view)) continue;
      const space = resolve(o.view).space;
      const group = bySpace.get(space);
      if (group) group.push(o);
      else bySpace.set(space, [o]);
    }
    for (const group of bySpace.values()) {
      if (group.length < 2) continue;
      const n = this.nodes(group[0].v);
      const folded = n && fold(group.map((o) => o.view), n.dims);
      if (folded) this.spaces[folded.order] = folded;
    }
  }

  /** Concat along a node axis: operands read by nothing else join as slices of the output's nodes; the others link into their slice by unit links. */
  private concat(op: GraphOp, operands: ({ v: GraphValue; view: View; n?: { axes: number[]; dims: number[]; count: number } } | { v: GraphValue; constant: true })[], y: GraphValue, ny: { axes: number[]; dims: number[]; count: number }, axis: number): void {
    const out = this.newSpace(y, op.name);
    if (!out) return;
    let offset = 0;
    for (const o of operands) {
      if ("constant" in o) {
        offset += o.v.shape![axis] as number;
        continue;
      }
      const n = o.n!;
      const position = (k: number) => {
        // The operand's node k, as coordinates over its node axes, lands at the same coordinates shifted along the axis.
        let rest = k, index = 0, stride = 1;
        const coords: number[] = new Array(n.axes.length);
        for (let i = n.axes.length - 1; i >= 0; i--) {
          coords[i] = rest % n.dims[i];
          rest = Math.floor(rest / n.dims[i]);
        }
        for (let i = ny.axes.length - 1; i >= 0; i--) {
          const c = ny.axes[i] === axis ? coords[i] + offset : coords[i];
          index += c * stride;
          stride *= ny.dims[i];
        }
        return index;
      };
      const slice: View = { space: out.space, map: Int32Array.from({ length: n.count }, (_, k) => at(out, position(k))), count: n.count };
      if (this.readers(o.v) === 1 && coversSpace(o.view)) join(slice, o.view);
      else {
        // A piece of another node layer read only here (a channel split's pass-through half) joins as its slice too.
        const united = this.readers(o.v) === 1 ? unite(slice, o.view) : undefined;
        if (united) this.spaces[united.order] = united;
        else this.skipLinks([o.view], slice);
      }
      offset += o.v.shape![axis] as number;
    }
    this.setView(y, resolve(out));
  }

  /** Unit links (option skip "unit"): node k of each operand into node k of the output. */
  private skipLinks(from: View[], into: View): void {
    if (from.length === 0) return;
    const w = this.options.skip === "none" ? 0 : 1;
    for (const f of from) {
      addInto(f, "sOut", () => w);
      addInto(into, "sIn", () => w);
    }
  }

  // ------------------------------------------------------------------------------------ the end

  /** The node maps of a reported space's values that reach every node once. */
  private nodeMapsOf(space: Space, values: string[]): Map<string, NodeMap> {
    const maps = new Map<string, NodeMap>();
    for (const name of values) {
      const view = this.views.get(name);
      const v = this.value(name);
      if (!view || !v) continue;
      const r = resolve(view);
      const n = this.nodes(v);
      if (r.space !== space || !n || r.count !== space.size || !coversSpace(r)) continue;
      let map = r.map;
      if (space.renumber) map = map ? map.map((i) => space.renumber![i]) : Int32Array.from(space.renumber);
      maps.set(name, { axes: n.axes, ...(map && !isIdentity(map) ? { map } : {}) });
    }
    return maps;
  }

  private finish(): StrengthsResult {
    const b = this.options.boundary === "unit" ? 1 : 0;
    const outputs = new Set(this.graph.outputs);
    for (const { x, y } of this.reductions) {
      const view = this.views.get(y.name);
      if (!view || !this.normStatistic(x, y)) continue;
      this.breakReads.set(x.name, this.breakReads.get(x.name)! - 1);
      this.statistics.add(resolve(view).space);
    }
    for (const [name, view] of this.views) {
      if (!view) continue;
      const v = this.value(name)!;
      const root = resolve(view).space;
      if (!root.complete || this.statistics.has(root)) continue;
      if (this.breakOutputs.has(name)) markBoundary(view, "inBoundary");
      const readers = this.readers(v);
      const breaks = this.breakReads.get(name) ?? 0;
      if (outputs.has(name) || (readers > 0 && breaks >= readers)) markBoundary(view, "outBoundary");
    }
    const floatInputs = new Set([...this.graph.inputs.filter((n) => isFloat(this.value(n)!)), ...this.castInputs]);
    for (const name of floatInputs) {
      const view = this.views.get(name);
      if (view && resolve(view).space.complete) markBoundary(view, "inBoundary");
    }
    this.channelMajor();
    const layers: NodeStrengths[] = [];
    const reported = new Set<Space>();
    for (const space of this.spaces) {
      if (space.parent) continue;
      const edge = space.values.some((n) => floatInputs.has(n) || outputs.has(n));
      if (!space.complete || !(space.linked || edge) || this.statistics.has(space)) continue;
      const { sIn, sOut, inBoundary, outBoundary } = space;
      const s = new Float64Array(space.size);
      for (let i = 0; i < space.size; i++) {
        sIn[i] += b * inBoundary[i];
        sOut[i] += b * outBoundary[i];
        s[i] = sIn[i] + sOut[i];
      }
      reported.add(space);
      const values = [...new Set(space.values)];
      layers.push({ after: space.producers[0], shape: space.shape, sIn: space.sIn, sOut: space.sOut, s, producers: [...space.producers], values, ...(this.options.nodeMaps ? { nodeMaps: this.nodeMapsOf(space, values) } : {}) });
    }
    const incomplete = this.spaces.filter((s) => !s.parent && !s.complete && s.linked).length;
    if (incomplete > 0) this.notes.push(`${incomplete} node layer(s) are left out because an op next to them could not be placed (see the notes above); the others are whole.`);
    const inStrengths = this.weightedOps.filter((w) => w.input && w.output && reported.has(resolve(w.input).space) && reported.has(resolve(w.output).space)).length;
    const wiring = new Map<string, { inputs: string[]; outputs: string[] }>();
    for (const op of this.graph.ops) for (const l of [op.layer, ...(op.directions ?? [])]) wiring.set(l.name, { inputs: op.inputs, outputs: op.outputs.filter((n) => n !== "") });
    return { layers, notes: [...new Set(this.notes)], coverage: { weightedLayers: this.weightedOps.length, inStrengths }, wiring };
  }
}

function isIdentity(map: Int32Array): boolean {
  for (let k = 0; k < map.length; k++) if (map[k] !== k) return false;
  return true;
}
