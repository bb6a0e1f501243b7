/**
 * Which values of a node layer are its neuron strength z and neuron activation a (spec
 * metrics.md section 3). A node layer is a class of values (1b); the forward pass measures two:
 *   a  the class's last value: what its nodes hand to the next layer (an activation's output
 *      before steps that only lay the same numbers out again in order: a Reshape, a zero Pad);
 *   z  what reaches the nodes before their activation: going back from a along its dominators
 *      (values every path into a passes through), the first one made by a linear step once a
 *      non-linear step has been passed. conv -> batch norm -> relu: z is the norm's output;
 *      a spelled-out GELU (x * (1 + erf(x / sqrt 2)) / 2): z is x; a residual add -> relu: z is the
 *      sum; a norm spelled out in primitive ops scales by a statistic from outside the layer,
 *      which counts as linear. A weighted op with its activation inside (Keras Dense(activation=...), fused TF.js
 *      ops, recurrent cells) gives z as "<output>#z", and a is then that output. No non-linear
 *      step: z = a.
 */
import type { GraphOp, GraphValue, ModelGraph } from "../graph/types.js";
import type { NodeStrengths } from "../strengths/walk.js";
import { opFamily } from "../graph/ops.js";

/** The name of the z a weighted op with its activation inside gives for its output. */
export function preName(output: string): string {
  return `${output}#z`;
}

/** The graph value a measured name reads: the output itself for a preName. */
export function baseName(name: string): string {
  return name.endsWith("#z") ? name.slice(0, -2) : name;
}

export interface Targets {
  z: string;
  a: string;
}

/** Ops that change nothing but how the same numbers are laid out. */
const LAYOUT = new Set(["flatten", "reshape", "transpose", "squeeze", "unsqueeze", "expand", "permute", "identity", "dropout", "cast", "concat", "split", "slice", "gather", "pad"]);
/** Layout steps that keep the elements' order. */
const RELAYOUT = new Set(["flatten", "reshape", "squeeze", "unsqueeze", "identity", "dropout", "cast", "pad"]);
/** Reductions over positions that stay in their features' node layer. */
const REDUCTIONS = new Set(["reduce", "global_pool", "pool"]);
/** Linear in their data operands (with the other operands constant, or data added). */
const SUMS = new Set(["add", "sub", "subtract", "sum", "mean", "average"]);
const SCALES = new Set(["mul", "multiply", "div", "rescale"]);

/**
 * z and a of each node layer, or undefined for one with nothing to measure (the input layer).
 * `fused(op)` says whether the executor gives a z for the op's output (an activation inside it).
 */
export function selectTargets(graph: ModelGraph, layer: NodeStrengths, fused: (op: GraphOp) => boolean): Targets | undefined {
  if (layer.producers.includes("input")) return undefined;
  // Values that reach every node once (a split piece or a slice is not the layer's z or a).
  const members = new Set(layer.values.filter((n) => graph.values.get(n)?.kind === "data" && (!layer.nodeMaps || layer.nodeMaps.has(n))));
  if (members.size === 0) return undefined;
  const order = (name: string) => {
    const p = graph.values.get(name)?.producer;
    return p ? p.index + p.outputs.indexOf(name) / (p.outputs.length + 1) : -1;
  };
  const sorted = [...members].sort((x, y) => order(x) - order(y));
  const dataIn = (op: GraphOp) => op.inputs.filter((n) => members.has(n));
  // A mean or max over positions (a reduction the walk reads as one to one on the features) is not
  // any observation's activation: a is the last value before it.
  const reduced = (name: string) => REDUCTIONS.has(graph.values.get(name)?.producer?.op ?? "");
  let a = [...sorted].reverse().find((n) => !reduced(n)) ?? sorted[sorted.length - 1];

  // Immediate dominators over the class's values (a virtual root feeds the values entering it).
  const ROOT = "";
  const idom = new Map<string, string>();
  const rank = new Map<string, number>([[ROOT, -Infinity]]);
  for (const name of sorted) rank.set(name, order(name));
  const intersect = (x: string, y: string) => {
    while (x !== y) {
      while (rank.get(x)! > rank.get(y)!) x = idom.get(x)!;
      while (rank.get(y)! > rank.get(x)!) y = idom.get(y)!;
    }
    return x;
  };
  for (const name of sorted) {
    const p = graph.values.get(name)!.producer;
    const preds = p ? dataIn(p) : [];
    idom.set(name, preds.length === 0 ? ROOT : preds.map((n) => (idom.has(n) ? n : ROOT)).reduce(intersect));
  }

  const producer = (name: string) => graph.values.get(name)!.producer;
  const linear = (op: GraphOp | undefined) => {
    if (!op) return true;
    if (op.layer.kind === "norm" || LAYOUT.has(op.op) || SUMS.has(op.op)) return true;
    // A scale by a constant, or by a per-sample statistic from outside the layer (a norm's 1/std): linear in the layer's values.
    if (SCALES.has(op.op)) return dataIn(op).length <= 1;
    return op.layer.kind === "dense" || op.layer.kind === "conv1d" || op.layer.kind === "conv2d" || op.layer.kind === "conv2d_transpose";
  };
  // An activation's output handed on by steps that only lay the same numbers out again in the same order (x.view(x.size(0), -1), a zero Pad) is a.
  let before = a;
  for (let p = producer(before); p && RELAYOUT.has(p.op) && dataIn(p).length === 1 && p.inputs[0] === dataIn(p)[0]; p = producer(before)) before = dataIn(p)[0];
  const made = producer(before);
  if (before !== a && made && !linear(made) && (opFamily(made.op) === "elementwise" || opFamily(made.op) === "merge")) a = before;
  // Going back from a: `later` is the dominator after `here`; the steps between them are checked.
  let passed = false;
  let later = a;
  for (let here: string | undefined = a; here !== undefined && here !== ROOT; here = idom.get(here)) {
    const op = producer(here);
    // Its own z: measure both on the op's output (a recurrent layer's a over every step, like its z).
    if (op && fused(op)) return { z: preName(here), a: here };
    if (here !== a) {
      passed ||= stepsBetween(graph, members, here, later, rank).some((s) => !linear(s));
      if (passed && linear(op)) return { z: here, a };
    }
    later = here;
    if (here === a && !linear(op)) passed = true;
  }
  return { z: a, a };
}

/** The ops that make the values on paths from `from` (exclusive) to `to` (inclusive) inside the class. */
function stepsBetween(graph: ModelGraph, members: Set<string>, from: string, to: string, rank: Map<string, number>): GraphOp[] {
  const ops = new Set<GraphOp>();
  const low = rank.get(from)!;
  const stack = [to];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || name === from) continue;
    seen.add(name);
    const op: GraphOp | undefined = (graph.values.get(name) as GraphValue).producer;
    if (!op) continue;
    ops.add(op);
    for (const input of op.inputs) if (members.has(input) && rank.get(input)! > low) stack.push(input);
  }
  return [...ops];
}
