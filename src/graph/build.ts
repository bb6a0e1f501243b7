import { quoteName } from "../errors.js";
import type { LayerInfo, ModelInfo } from "../model/types.js";
import { opName, RECURRENT_OPS } from "./ops.js";
import type { GraphOp, GraphValue, ModelGraph } from "./types.js";
import { sameList, validShape } from "./dims.js";

/** Layers that take part in a chain's data flow; `other` tensors are distributions only. */
const CHAIN_KINDS = new Set(["dense", "conv2d", "conv1d", "conv2d_transpose", "rnn", "lstm", "gru", "none", "norm", "embedding"]);

/** The name of a chain's input value. */
export const CHAIN_INPUT = "input";

/**
 * The graph of a model description, ops in topological order (O(ops + values)). A description
 * whose layers carry no inputs and outputs is a chain: each layer reads the one before it.
 */
export function buildGraph(model: ModelInfo): ModelGraph {
  const chain = !model.layers.some((l) => l.inputs !== undefined);
  const layers = chain ? chainLayers(model) : model.layers.filter((l) => l.inputs !== undefined && l.attributes?.subgraph === undefined);
  const values = new Map<string, GraphValue>();
  const value = (name: string): GraphValue => {
    let v = values.get(name);
    if (!v) values.set(name, (v = { name, kind: "constant", consumers: [] }));
    return v;
  };
  for (const t of model.tensors) value(t.name).shape = [...t.shape];
  for (const t of model.skipped ?? []) value(t.name).shape = [...t.shape];
  for (const [name, c] of Object.entries(model.graph?.constants ?? {})) Object.assign(value(name), { shape: [...c.shape], ...(c.float ? { floats: [...c.values] } : { values: [...c.values] }) });

  // A chain with no layer that data flows through has no input either (a file of loose tensors).
  const inputs = chain ? (layers.length > 0 ? [{ name: CHAIN_INPUT, shape: chainInputShape(model, layers) }] : []) : model.graph?.inputs ?? [];
  for (const i of inputs) {
    // A declared shape the walk can hold (a file may declare anything).
    const shape = validShape(i.shape) ? [...i.shape] : undefined;
    Object.assign(value(i.name), { kind: "data", shape, dtype: "dtype" in i ? i.dtype : undefined });
  }

  // One op per layer; the directions of a bidirectional recurrent op (split per direction by normalizeModel) are one op.
  const ops: GraphOp[] = [];
  for (const layer of layers) {
    const last = ops[ops.length - 1];
    if (last && RECURRENT_OPS.has(layer.kind) && layer.kind === last.layer.kind && layer.attributes?.direction === "reverse" && sameList(layer.outputs!, last.outputs)) {
      (last.directions ??= []).push(layer);
      continue;
    }
    // Empty names are ONNX's absent optional inputs and outputs: kept, so both stay at their positions (an LSTM's Y_c is its third output whatever comes before it).
    ops.push({ index: -1, name: layer.name, layer, op: opName(layer), inputs: [...layer.inputs!], outputs: [...layer.outputs!] });
  }
  const notes: string[] = [];
  const producerOf = new Map<string, GraphOp>();
  for (const op of ops) {
    for (const out of op.outputs) {
      if (out === "") continue;
      if (producerOf.has(out)) notes.push(`Value ${quoteName(out)} is written by two ops (${quoteName(producerOf.get(out)!.name)} and ${quoteName(op.name)}); the walk takes the first.`);
      else producerOf.set(out, op);
    }
  }

  // Kahn's order: an op is ready when every value it reads has been produced (or needs no producer).
  const waiting = new Map<GraphOp, number>();
  const readers = new Map<string, GraphOp[]>();
  const ready: GraphOp[] = [];
  for (const op of ops) {
    let pending = 0;
    for (const name of new Set(op.inputs)) {
      if (name === "") continue;
      const from = producerOf.get(name);
      if (from && from !== op) {
        pending++;
        let list = readers.get(name);
        if (!list) readers.set(name, (list = []));
        list.push(op);
      }
    }
    waiting.set(op, pending);
    if (pending === 0) ready.push(op);
  }
  const ordered: GraphOp[] = [];
  for (let i = 0; i < ready.length; i++) {
    const op = ready[i];
    op.index = ordered.length;
    ordered.push(op);
    for (const out of op.outputs) {
      if (out === "" || producerOf.get(out) !== op) continue;
      for (const reader of readers.get(out) ?? []) {
        const left = waiting.get(reader)! - 1;
        waiting.set(reader, left);
        if (left === 0) ready.push(reader);
      }
    }
  }
  if (ordered.length < ops.length) {
    const stuck = ops.filter((op) => op.index < 0);
    notes.push(`${stuck.length} op(s) form a cycle or read values no op writes (${stuck.slice(0, 3).map((op) => quoteName(op.name)).join(", ")}); their node layers are left out.`);
  }
  for (const op of ordered) {
    for (const name of op.inputs) if (name !== "") value(name).consumers.push(op);
    for (const out of op.outputs) {
      if (out === "") continue;
      const v = value(out);
      if (producerOf.get(out) === op) Object.assign(v, { producer: op, kind: "data" });
    }
  }
  // A name that no op writes and the file does not declare is data from outside (a graph input the file forgot to list).
  const declared = new Set([...model.tensors.map((t) => t.name), ...(model.skipped ?? []).map((t) => t.name), ...Object.keys(model.graph?.constants ?? {}), ...inputs.map((i) => i.name)]);
  // A value the file gives only a shape for (a tensor a .cnt does not store): a constant of that shape.
  for (const [name, shape] of Object.entries(model.graph?.shapes ?? {})) {
    if (declared.has(name) || producerOf.has(name)) continue;
    declared.add(name);
    value(name).shape = [...shape];
  }
  const extraInputs: string[] = [];
  for (const op of ordered) {
    for (const name of op.inputs) {
      if (name === "" || declared.has(name) || producerOf.has(name)) continue;
      declared.add(name);
      value(name).kind = "data";
      extraInputs.push(name);
    }
  }
  const outputs = chain ? (ordered.length > 0 ? ordered[ordered.length - 1].outputs.filter((n) => n !== "") : inputs.map((i) => i.name)) : model.graph?.outputs ?? [];
  return { values, ops: ordered, inputs: [...inputs.map((i) => i.name), ...extraInputs], outputs, chain, batched: !chain, dataFormat: model.dataFormat, notes };
}

/** A chain's layers with inputs and outputs: each reads the value the one before it wrote. */
function chainLayers(model: ModelInfo): LayerInfo[] {
  const out: LayerInfo[] = [];
  let current = CHAIN_INPUT;
  let previous: LayerInfo | undefined;
  for (const layer of model.layers) {
    if (!CHAIN_KINDS.has(layer.kind)) continue;
    const reverseOf = previous && RECURRENT_OPS.has(layer.kind) && layer.kind === previous.kind && layer.attributes?.direction === "reverse" && previous.attributes?.direction !== "reverse";
    const data = reverseOf ? previous!.inputs![0] : current;
    const inputs = [data, ...[layer.weight, layer.bias, layer.recurrentWeight, layer.recurrentBias].filter((t): t is string => t !== undefined)];
    const outputs = reverseOf ? previous!.outputs! : [layer.name];
    const placed = { ...layer, inputs, outputs };
    out.push(placed);
    current = outputs[0];
    previous = placed;
  }
  return out;
}

/** One sample's shape for a chain: the file's or the caller's, else the first weighted layer's input size. */
function chainInputShape(model: ModelInfo, layers: LayerInfo[]): number[] | undefined {
  if (model.inputShape) return [...model.inputShape];
  const first = layers.find((l) => l.kind !== "none" && l.kind !== "norm");
  if (!first || !first.weight) return undefined;
  const w = model.tensors.find((t) => t.name === first.weight);
  if (!w || w.shape.length !== 2) return undefined;
  if (first.kind === "dense") return [first.weightLayout === "in_out" ? w.shape[0] : w.shape[1]];
  if (RECURRENT_OPS.has(first.kind)) return [first.weightLayout === "in_out" ? w.shape[0] : w.shape[1]];
  return undefined;
}
