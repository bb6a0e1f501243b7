/**
 * The data-dependent metrics (spec metrics.md section 3): the network runs forward on the
 * samples a batch at a time; each node layer's z and a are measured as they are made, and the
 * predictions are scored against the labels. Memory: the weights plus one batch's live values.
 */
import { CntError, formatShape, quoteName, throwIfAborted } from "../errors.js";
import { buildGraph } from "../graph/build.js";
import { RECURRENT_OPS } from "../graph/ops.js";
import { inferShapes } from "../graph/shapes.js";
import type { ModelGraph } from "../graph/types.js";
import type { ModelInfo } from "../model/types.js";
import type { Progress } from "../options.js";
import type { ByteSource } from "../source/types.js";
import { withInputShape, type NodeStrengths } from "../strengths/walk.js";
import { FINE_BUCKETS } from "../kernels/layout.js";
import { addBatch, CollectScratch, emptyAccumulator, flushFine, mergeNeuronPartials, neuronDistribution, partialOf, type NeuronAccumulator, type NeuronDistribution, type NeuronPartial } from "./collect.js";
import { Executor, givesZ } from "./execute.js";
import type { LabelSource, SampleSource } from "./inputs/types.js";
import { LinearMemory } from "./memory.js";
import { stridesOf } from "./ops/merge.js";
import { baseName, selectTargets, type Targets } from "./targets.js";
import { elementsOf, type Tensor } from "./types.js";
import { WeightReader } from "./weights.js";

export interface DataSummary {
  /** Samples the network ran on. */
  samples: number;
  /** Samples per forward batch. */
  batch: number;
  /** The graph inputs the samples fed. */
  inputs: string[];
  /** The value whose argmax is the prediction (with labels). */
  output?: string;
  /** With labels: correct / labelled. */
  accuracy?: number;
  correct?: number;
  labelled?: number;
}

export interface DataMetricsResult {
  /** Per node layer (the strengths' order): z and a, or undefined where they could not be had. */
  layers: ({ neuronStrength: NeuronDistribution; neuronActivation: NeuronDistribution } | undefined)[];
  data: DataSummary;
  notes: string[];
}

/**
 * The forward pass's results before the report: plain data that merges exactly with the partial
 * of other samples (other batches, workers or machines) of the same model and options.
 */
export interface DataPartial {
  samples: number;
  batch: number;
  inputs: string[];
  output?: string;
  correct: number;
  labelled: number;
  /** Per node layer (the strengths' order): z and a, or null where they could not be had. */
  layers: ({ z: NeuronPartial; a: NeuronPartial } | null)[];
  notes: string[];
}

export interface DataMetricsArgs {
  model: ModelInfo;
  source: ByteSource;
  layers: NodeStrengths[];
  samples: SampleSource;
  labels?: LabelSource;
  batch: number;
  bins: number;
  perNode: boolean;
  inputShape?: number[];
  /** "ignore": z leaves out the bias of the dense or conv op that makes it (spec section 3). */
  bias?: "in" | "ignore";
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Run only samples [first, end) (default all): a worker's share. */
  first?: number;
  end?: number;
}

/** Two partials of disjoint samples, merged (per node with Chan's formula, histograms by adding counts). */
export function mergeDataPartials(a: DataPartial, b: DataPartial): DataPartial {
  if (a.layers.length !== b.layers.length) throw new CntError("INTERNAL", `Data partials of ${a.layers.length} and ${b.layers.length} node layers cannot merge.`);
  return {
    ...a,
    samples: a.samples + b.samples,
    correct: a.correct + b.correct,
    labelled: a.labelled + b.labelled,
    layers: a.layers.map((x, i) => {
      const y = b.layers[i];
      return x && y ? { z: mergeNeuronPartials(x.z, y.z), a: mergeNeuronPartials(x.a, y.a) } : null;
    }),
    notes: [...new Set([...a.notes, ...b.notes])],
  };
}

/** The report's part of a partial: distributions binned over each value's [min, max], the accuracy. */
export function finishData(p: DataPartial, bins: number, perNode: boolean): DataMetricsResult {
  const data: DataSummary = { samples: p.samples, batch: p.batch, inputs: p.inputs };
  if (p.output !== undefined) Object.assign(data, { output: p.output, correct: p.correct, labelled: p.labelled, accuracy: p.labelled === 0 ? null : p.correct / p.labelled });
  return {
    layers: p.layers.map((l) => (l && l.z.count > 0 ? { neuronStrength: neuronDistribution(l.z, bins, perNode), neuronActivation: neuronDistribution(l.a, bins, perNode) } : undefined)),
    data,
    notes: p.notes,
  };
}

/** The forward pass on samples [first, end), as a partial. */
export async function runDataPartial(args: DataMetricsArgs): Promise<DataPartial> {
  const { model, samples, layers } = args;
  const graph = buildGraph(args.inputShape ? withInputShape(model, args.inputShape) : model);
  inferShapes(graph, model);
  const notes: string[] = [];
  const empty = (): DataPartial => ({ samples: 0, batch: args.batch, inputs: [], correct: 0, labelled: 0, layers: layers.map(() => null), notes });

  const unsaid = graph.chain ? graph.ops.filter((op) => ["dense", "conv1d", "conv2d", "conv2d_transpose"].includes(op.op) && op.layer.activation === undefined) : [];
  if (unsaid.length > 0 && unsaid.length === graph.ops.filter((op) => op.layer.kind !== "none").length) {
    notes.push(`The file does not say the layers' activations (${unsaid.slice(0, 5).map((op) => quoteName(op.name)).join(", ")}${unsaid.length > 5 ? ", ..." : ""}), so the data metrics are left out: give each layer's activation in a layout (layout.layers.<name>.activation, CLI --layout), e.g. "relu", and "linear" for the output layer.`);
    return empty();
  }
  if (unsaid.length > 0) notes.push(`The file does not say the activation of ${unsaid.map((op) => quoteName(op.name)).join(", ")}; the forward pass reads ${unsaid.length === 1 ? "it" : "them"} as linear (give it in a layout to change that).`);

  const bound = bindInputs(graph, samples);
  const fixed = bound.fixedBatch;
  const batch = fixed ?? args.batch;
  if (fixed !== undefined && fixed !== args.batch) notes.push(`The file fixes the batch at ${fixed} sample(s); the forward pass runs ${fixed} at a time.`);
  const runnable = fixed === undefined ? samples.count : samples.count - (samples.count % fixed);
  const from = args.first ?? 0;
  const to = Math.min(args.end ?? runnable, runnable);
  if (runnable < samples.count) notes.push(`The file fixes the batch at ${fixed}: the last ${samples.count - runnable} sample(s) are left out.`);
  if (args.labels && args.labels.count !== samples.count) throw new CntError("BAD_OPTION", `There are ${args.labels.count} labels for ${samples.count} samples; give one label per sample.`);

  const targets: (Targets | undefined)[] = layers.map((layer) => selectTargets(graph, layer, (op) => givesZ(graph, op)));
  const output = args.labels ? graph.outputs[0] : undefined;
  const wanted = new Set<string>();
  for (const t of targets) if (t) wanted.add(baseName(t.z)).add(baseName(t.a));
  if (output) wanted.add(output);

  const memory = await LinearMemory.create();
  const weights = new WeightReader(args.source, model.tensors);
  let executor: Executor | undefined;
  try {
    executor = await Executor.prepare(memory, graph, model, weights, bound.batchAxis, wanted);
    notes.push(...executor.notes);
    // What to measure: each wanted value once, for every layer that wants it (a z without its
    // bias, option bias "ignore", apart from the same value measured as an a).
    const ready = targets.map((t, index) => {
      if (!t) return undefined;
      const stopped = [t.z, t.a].map((n) => executor!.unavailable.get(baseName(n))).find((why) => why !== undefined);
      const maps = layers[index].nodeMaps;
      return stopped || !maps?.has(baseName(t.z)) || !maps.has(baseName(t.a)) ? { left: `${quoteName(layers[index].after)}${stopped ? ` (${stopped})` : ""}` } : { t };
    });
    const left = ready.flatMap((r) => (r && "left" in r ? [r.left] : []));
    const zs = ready.flatMap((r) => (r && "t" in r ? [r.t!.z] : []));
    const unbiased = args.bias === "ignore" ? await biasesOfZ(graph, zs, weights, notes) : new Map<string, { bias: Float32Array; axis: number }>();
    const UNBIASED = "\u0000-b ";
    type Entry = { value: string; partial: NeuronAccumulator; layer: NodeStrengths; drop?: { bias: Float32Array; axis: number } };
    const partials = new Map<string, Entry>();
    const measured: { index: number; z: string; a: string }[] = [];
    ready.forEach((r, index) => {
      if (!r || !("t" in r)) return;
      const t = r.t!;
      const zKey = unbiased.has(t.z) ? UNBIASED + t.z : t.z;
      for (const [key, value] of [[zKey, t.z], [t.a, t.a]]) {
        if (!partials.has(key)) partials.set(key, { value, partial: emptyAccumulator(value, layers[index].s.length), layer: layers[index], ...(key !== value ? { drop: unbiased.get(value) } : {}) });
      }
      measured.push({ index, z: zKey, a: t.a });
    });
    // Entries by the value they read.
    const byValue = new Map<string, Entry[]>();
    for (const entry of partials.values()) byValue.set(entry.value, [...(byValue.get(entry.value) ?? []), entry]);
    if (left.length > 0) notes.push(`The data metrics leave out ${left.length} node layer(s): ${left.slice(0, 8).join("; ")}${left.length > 8 ? "; ..." : ""}.`);
    const outputReady = output !== undefined && !executor.unavailable.has(output);
    if (output !== undefined && !outputReady) notes.push(`No accuracy: the graph output ${quoteName(output)} could not be computed (${executor.unavailable.get(output)}).`);

    // Each measured value counts its fine histogram into an area of its own when they all fit in
    // 64 MiB (harvested once at the end); beyond that, through one shared area batch by batch.
    if (partials.size * FINE_BUCKETS * 4 <= 64 << 20) {
      for (const { partial } of partials.values()) {
        partial.dense = memory.alloc(FINE_BUCKETS);
        new Uint32Array(memory.exports.memory.buffer, partial.dense, FINE_BUCKETS).fill(0);
      }
    }
    const scratch = new CollectScratch(memory);
    const labels = new Int32Array(batch);
    let correct = 0, labelled = 0;
    let perPosition = false;
    const batched = graph.batched;
    const sink = (name: string, t: Tensor) => {
      for (const entry of byValue.get(name) ?? []) {
        if (!entry.drop) {
          collect(memory, scratch, entry.partial, entry.layer, baseName(name), t, graph, batched);
          continue;
        }
        const copy = withoutBias(memory, t, entry.drop, batched ? 0 : 1);
        collect(memory, scratch, entry.partial, entry.layer, baseName(name), copy, graph, batched);
        memory.free(copy.ptr);
      }
      if (outputReady && name === output) {
        const n = t.shape[0];
        const classes = elementsOf(t.shape) / n;
        if (t.shape.length > 2 && t.shape.slice(1, -1).some((d) => d !== 1)) {
          // Scores per position (a language model's [N, T, vocab]): no one class per sample.
          if (!perPosition) notes.push(`No accuracy: the output ${quoteName(name)} has shape ${formatShape(t.shape)}, a score vector per position, not one prediction per sample.`);
          perPosition = true;
          return;
        }
        const out = memory.alloc(n);
        memory.exports.argmaxRows(t.ptr, n, classes, out);
        const predicted = new Int32Array(memory.exports.memory.buffer, out, n);
        for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) correct++;
        labelled += n;
        memory.free(out);
      }
    };
    for (let first = from; first < to; first += batch) {
      throwIfAborted(args.signal, `Running ${quoteName(model.name)} forward`, { file: model.name });
      const n = Math.min(batch, to - first);
      const inputs = new Map<string, Tensor>();
      for (const [name, shape] of bound.inputs) {
        const b = bound.batchAxis.get(name)!;
        inputs.set(name, memory.tensor([...shape.slice(0, b), n, ...shape.slice(b)]));
      }
      for (const [name, shape] of bound.inputs) {
        const t = inputs.get(name)!;
        const b = bound.batchAxis.get(name)!;
        if (b === 0) {
          await samples.read(bound.sampleName.get(name)!, first, n, memory.f32(t.ptr, n * elementsOf(shape)));
          continue;
        }
        // Samples on axis b: read them sample-major, then interleave.
        const staged = new Float32Array(n * elementsOf(shape));
        await samples.read(bound.sampleName.get(name)!, first, n, staged);
        const outer = elementsOf(shape.slice(0, b)), inner = elementsOf(shape.slice(b));
        const into = memory.f32(t.ptr, staged.length);
        for (let o = 0; o < outer; o++) for (let s = 0; s < n; s++) into.set(staged.subarray(s * outer * inner + o * inner, s * outer * inner + (o + 1) * inner), (o * n + s) * inner);
      }
      if (args.labels && outputReady) await args.labels.read(first, n, labels.subarray(0, n));
      try {
        executor.run(inputs, sink);
      } catch (error) {
        // An op that finds at run time what it cannot do (a sequence past a sliding window): no
        // data metrics rather than some layers measured on fewer samples than others.
        if (!(error instanceof CntError) || error.code !== "UNSUPPORTED_LAYER") throw error;
        notes.push(`${error.message.replace(/\.?$/, ".")} It stopped the forward pass at sample ${first}, so there are no data metrics.`);
        return { ...empty(), batch, inputs: [...bound.inputs.keys()] };
      }
      args.onProgress?.({ tensor: [...bound.inputs.keys()][0], bytesDone: 0, bytesTotal: 0, pass: "forward", samples: { done: first + n - from, total: to - from } });
    }
    for (const { partial } of partials.values()) flushFine(memory, partial);
    const plain = new Map([...partials].map(([name, { partial }]) => [name, partialOf(partial)]));
    const result: DataPartial["layers"] = layers.map(() => null);
    for (const { index, z, a } of measured) result[index] = { z: plain.get(z)!, a: plain.get(a)! };
    return { samples: Math.max(0, to - from), batch, inputs: [...bound.inputs.keys()], ...(outputReady && !perPosition ? { output } : {}), correct, labelled, layers: result, notes };
  } finally {
    executor?.dispose();
    await weights.close();
  }
}

/** Which sample input feeds which graph input, with one sample's shape as the graph takes it. */
/**
 * For option bias "ignore": the bias to take off each z that a dense or conv op makes (its output,
 * or the z of its fused activation), with the axis of the value its entries run along (graph
 * coordinates). A z made otherwise (a norm, a residual sum, a recurrent cell) has no single b_j:
 * a note says it keeps what reaches it.
 */
async function biasesOfZ(graph: ModelGraph, zs: string[], weights: WeightReader, notes: string[]): Promise<Map<string, { bias: Float32Array; axis: number }>> {
  const out = new Map<string, { bias: Float32Array; axis: number }>();
  const kept: string[] = [];
  for (const z of new Set(zs)) {
    const base = baseName(z);
    const op = graph.values.get(base)?.producer;
    if (!op || !["dense", "conv1d", "conv2d", "conv2d_transpose"].includes(op.op)) {
      kept.push(z);
      continue;
    }
    if (!op.layer.bias) continue;
    const rank = graph.values.get(base)?.shape?.length ?? 2;
    const channelsLast = op.op === "dense" || (op.layer.attributes?.dataFormat ?? graph.dataFormat) === "channels_last";
    out.set(z, { bias: await weights.read(op.layer.bias), axis: channelsLast ? rank - 1 : graph.batched ? 1 : 0 });
  }
  if (kept.length > 0) notes.push(`Option bias "ignore" takes the bias off the z of dense and conv layers; ${kept.map(quoteName).join(", ")} ${kept.length === 1 ? "is" : "are"} not made by one such op (a norm, a residual sum, a recurrent cell), so ${kept.length === 1 ? "it keeps" : "they keep"} everything that reaches ${kept.length === 1 ? "it" : "them"}.`);
  return out;
}

/** A copy of `t` with bias[k] taken off every element whose index along `axis` (+ offset for a chain's batch axis) is k. */
function withoutBias(memory: LinearMemory, t: Tensor, drop: { bias: Float32Array; axis: number }, offset: number): Tensor {
  const axis = drop.axis + offset;
  const n = elementsOf(t.shape);
  const copy = memory.tensor(t.shape);
  const src = memory.f32(t.ptr, n);
  const dst = memory.f32(copy.ptr, n);
  const inner = elementsOf(t.shape.slice(axis + 1));
  const size = t.shape[axis];
  for (let i = 0; i < n; i++) dst[i] = src[i] - drop.bias[Math.floor(i / inner) % size];
  return copy;
}

/**
 * The axis a graph input's samples go on: 1 where a recurrent op reads the input time-major
 * (ONNX layout 0: [T, B, I], as torch exports nn.LSTM without batch_first), else 0.
 */
function batchAxisOf(graph: ModelGraph, name: string): number {
  if (!graph.batched) return 0;
  const readers = graph.values.get(name)?.consumers ?? [];
  // An ONNX recurrent op (out_in weights in a graph, src/forward/ops/recurrent.ts) with layout 0.
  const timeMajor = readers.some((op) => RECURRENT_OPS.has(op.op) && op.inputs[0] === name && op.layer.weightLayout === "out_in" && Number(op.layer.attributes?.layout ?? 0) === 0);
  return timeMajor ? 1 : 0;
}

function bindInputs(graph: ModelGraph, samples: SampleSource): { inputs: Map<string, number[]>; sampleName: Map<string, string>; batchAxis: Map<string, number>; fixedBatch?: number } {
  const dataInputs = graph.inputs.filter((n) => graph.values.get(n)?.kind === "data");
  const inputs = new Map<string, number[]>();
  const sampleName = new Map<string, string>();
  const batchAxis = new Map<string, number>();
  let fixedBatch: number | undefined;
  const names = samples.inputs.map((i) => i.name);
  for (const input of samples.inputs) {
    const name = samples.inputs.length === 1 && dataInputs.length === 1 ? dataInputs[0] : input.name;
    if (!dataInputs.includes(name)) throw new CntError("BAD_OPTION", `The samples hold input ${quoteName(input.name)}, which the model does not take; its inputs are ${dataInputs.map(quoteName).join(", ")}.`);
    const declared = graph.values.get(name)!.shape;
    const b = batchAxisOf(graph, name);
    batchAxis.set(name, b);
    const one = declared ? (graph.batched ? [...declared.slice(0, b), ...declared.slice(b + 1)] : declared) : undefined;
    if (graph.batched && typeof declared?.[b] === "number") fixedBatch = declared[b] as number;
    const given = input.sampleShape;
    let shape = given;
    if (one && one.every((d): d is number => typeof d === "number")) {
      if (elementsOf(one) !== elementsOf(given)) throw new CntError("BAD_OPTION", `Input ${quoteName(name)}: a sample has shape ${formatShape(given)} (${elementsOf(given)} values), but the model takes ${formatShape(one)} (${elementsOf(one)} values).`);
      shape = one;
    } else if (one) {
      if (one.length !== given.length || one.some((d, i) => d !== null && d !== given[i])) throw new CntError("BAD_OPTION", `Input ${quoteName(name)}: a sample has shape ${formatShape(given)}, but the model takes ${formatShape(one)}.`);
    }
    inputs.set(name, shape);
    sampleName.set(name, input.name);
  }
  const unfed = dataInputs.filter((n) => !inputs.has(n) && graph.values.get(n)!.consumers.length > 0);
  if (unfed.length > 0) throw new CntError("BAD_OPTION", `The model also takes input(s) ${unfed.map(quoteName).join(", ")}, which the samples do not hold (they hold ${names.map(quoteName).join(", ")}); give them in an .npz or by name.`);
  return { inputs, sampleName, batchAxis, fixedBatch };
}

/** Add a value's batch to its partial: observations as rows, the layer's nodes as columns. */
function collect(memory: LinearMemory, scratch: CollectScratch, partial: NeuronAccumulator, layer: NodeStrengths, base: string, t: Tensor, graph: ModelGraph, batched: boolean): void {
  const nodeMap = layer.nodeMaps!.get(base)!;
  const offset = batched ? 0 : 1;
  const rank = t.shape.length;
  const declared = graph.values.get(base)?.shape;
  if (declared && declared.length + offset !== rank) throw new CntError("INTERNAL", `Value ${quoteName(base)} has shape ${formatShape(t.shape)} in the forward pass, but rank ${declared.length + offset} in the graph.`);
  // A node axis of size 1 in the graph adds no nodes; where the run has more there (a batch axis a
  // file declared with the traced batch of 1, as torch's value_info does), it holds observations.
  const axes = nodeMap.axes.filter((a) => !(declared?.[a] === 1 && t.shape[a + offset] !== 1)).map((a) => a + offset);
  const nodes = axes.reduce((p, a) => p * t.shape[a], 1);
  if (nodes !== layer.s.length) throw new CntError("INTERNAL", `Value ${quoteName(base)} has ${nodes} nodes in the forward pass (shape ${formatShape(t.shape)}), but its node layer has ${layer.s.length}.`);
  const rows = elementsOf(t.shape) / nodes;
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  if (trailing) return addBatch(memory, scratch, partial, t.ptr, rows, nodes, nodeMap.map);
  // Node axes elsewhere (a sequence-first recurrent output): copy into rows x nodes first.
  const outer = [...Array(rank).keys()].filter((a) => !axes.includes(a));
  const order = [...outer, ...axes];
  const permuted = memory.alloc(rows * nodes);
  const src = memory.f32(t.ptr, rows * nodes);
  const dst = memory.f32(permuted, rows * nodes);
  const strides = stridesOf(t.shape);
  const dims = order.map((a) => t.shape[a]);
  const step = order.map((a) => strides[a]);
  const index = new Array<number>(rank).fill(0);
  for (let k = 0, at = 0; k < rows * nodes; k++) {
    dst[k] = src[at];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      at += step[d];
      if (index[d] < dims[d]) break;
      at -= step[d] * dims[d];
      index[d] = 0;
    }
  }
  addBatch(memory, scratch, partial, permuted, rows, nodes, nodeMap.map);
  memory.free(permuted);
}
