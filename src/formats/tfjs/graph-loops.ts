/**
 * TF1-style while loops in a GraphDef: the lowered form of tf.while_loop and tf.map_fn that
 * tfjs-converter keeps from a SavedModel (an object-detection preprocessor, NMS post-processing).
 *
 *   outside ──Enter──▶ Merge ──Switch──:1──▶ body ──▶ NextIteration ─┐
 *                        ▲       │ :0                                 │
 *                        └───────┼────────────────────────────────────┘
 *                                └──Exit──▶ outside          LoopCond (pred) ──▶ every Switch
 *
 * One loop variable per Enter/Merge/Switch/NextIteration/Exit; a frame (Enter's frame_name) holds
 * the nodes between its Enters and Exits. A frame is read as a map (tf.map_fn) when every loop
 * variable that carries data is one of:
 *   invariant    NextIteration gives back the Switch's :1 value (a TensorListFromTensor of the
 *                input: the rows the body reads with TensorListGetItem)
 *   accumulator  a TensorListReserve filled by one TensorListSetItem per iteration, read after the
 *                loop by TensorListStack
 * and no weighted op is inside. Then out[i] = f(in[i]) for every row i, which for the walk (per
 * sample, the batch axis not nodes) is f once: TensorListGetItem is a squeeze of the rows' axis 0,
 * TensorListSetItem hands on its item, TensorListStack is an unsqueeze at axis 0, and Enter, Merge
 * (its first input; the NextIteration back edge is cut), Switch and Exit (the value the last
 * iteration gave) carry values unchanged. Any other frame is opaque: graph-model.ts collapses it
 * into one op the walk does not know (a note), and the weights in it are distributions.
 */
import { attrText, type Node } from "./graph-ops.js";

/** A loop frame: its nodes (nested frames included) and how graph-model.ts reads it. */
export interface Frame {
  name: string;
  nodes: Set<Node>;
  /** Values from outside that the frame's Enters read. */
  inputs: string[];
  /** The frame's Exits (values read outside). */
  exits: Node[];
  /** Of a map: the Exits that give an accumulator's rows. */
  rows: string[];
  /** A map (the walk goes through it) or opaque (collapsed into one unknown op), with why. */
  kind: "map" | "opaque";
  why?: string;
}

/** How a node of a map frame reads for the walk. */
export type LoopStep = { op: "identity"; from: string } | { op: "squeeze" | "unsqueeze"; from: string } | { op: "skip" };

export interface Loops {
  frames: Frame[];
  /** Node -> its frame (top-level frames only; nested frames are part of their outer one). */
  frameOf: Map<Node, Frame>;
  /** For the nodes of map frames: what each one is for the walk. */
  steps: Map<Node, LoopStep>;
}

const CONTROL = new Set(["Enter", "Merge", "Switch", "NextIteration", "Exit", "LoopCond"]);

/**
 * The loop frames of a GraphDef. Map frames are rewired in place (Merge loses its NextIteration
 * input, an accumulator's Exit reads the TensorListSetItem) so the graph has no cycle through them.
 * `weighted(node)` says whether a node is a weighted op; `dataOver(order)` gives the values that carry
 * data, following the nodes in that order.
 */
export function findLoops(nodes: Node[], byName: Map<string, Node>, weighted: (n: Node) => boolean, dataOver: (order: Node[]) => Set<string>): Loops {
  const frameOf = new Map<Node, Frame>();
  const steps = new Map<Node, LoopStep>();
  if (!nodes.some((n) => n.op === "Enter")) return { frames: [], frameOf, steps };
  const producer = (v: string) => byName.get(v) ?? byName.get(v.replace(/:\d+$/, ""));

  // Frame stacks, in an order without the back edges (Merge <- NextIteration).
  const stack = new Map<Node, string[]>();
  let conflict = new Set<string>();
  const order = acyclicOrder(nodes, byName);
  for (const node of order) {
    const ins = backEdgeFree(node, byName).map(producer).filter((n): n is Node => n !== undefined);
    let deepest: string[] = [];
    for (const n of ins) {
      const s = stack.get(n) ?? [];
      if (s.length > deepest.length) {
        if (!deepest.every((f, i) => s[i] === f)) conflict.add(s[0]);
        deepest = s;
      } else if (!s.every((f, i) => deepest[i] === f)) conflict.add(deepest[0] ?? s[0]);
    }
    // Frames nest at most 64 deep here (a file may declare any depth): deeper, the outer frame is opaque.
    if (node.op === "Enter" && deepest.length >= 64) conflict.add(deepest[0]);
    else if (node.op === "Enter") deepest = [...deepest, (attrText(node.attr.frame_name) ?? "").slice(0, 200) || `(unnamed frame of ${node.name.slice(0, 80)})`];
    else if (node.op === "Exit") deepest = deepest.slice(0, -1);
    stack.set(node, deepest);
  }
  conflict = new Set([...conflict].filter((f) => f !== undefined));

  // Top-level frames and their nodes (an Exit belongs to the frame it leaves).
  const frames = new Map<string, Frame>();
  for (const node of nodes) {
    const s = node.op === "Exit" ? [...(stack.get(producer(node.inputs[0] ?? "")!) ?? [])] : stack.get(node) ?? [];
    if (s.length === 0) continue;
    let frame = frames.get(s[0]);
    if (!frame) frames.set(s[0], (frame = { name: s[0], nodes: new Set(), inputs: [], exits: [], rows: [], kind: "map" }));
    frame.nodes.add(node);
    frameOf.set(node, frame);
    if (s.length > 1) opaque(frame, "it holds a nested loop");
    if (node.op === "Enter" && s.length === 1) for (const v of node.inputs) frame.inputs.push(v);
    if (node.op === "Exit" && s.length === 1) frame.exits.push(node);
  }
  for (const f of frames.values()) if (conflict.has(f.name)) opaque(f, "values of other frames meet in it");

  const data = dataOver(order);
  const stacks = nodes.filter((n) => n.op === "TensorListStack");
  for (const frame of frames.values()) {
    if (frame.kind === "opaque") continue;
    const w = [...frame.nodes].find(weighted);
    if (w) {
      opaque(frame, `a weighted op (${w.op}) is inside`);
      continue;
    }
    mapSteps(frame, byName, data, steps);
    if (frame.kind !== "map") continue;
    // The rows come from a TensorListFromTensor outside (a list of the tensor's rows: the same values),
    // and a TensorListStack after the loop stacks what an accumulator gathered (a new axis 0).
    for (const v of frame.inputs) {
      const n = producer(v);
      if (n?.op === "TensorListFromTensor" && data.has(v)) steps.set(n, { op: "identity", from: n.inputs[0] });
    }
    const exits = new Set(frame.rows);
    for (const n of stacks) if (exits.has(n.inputs[0] ?? "")) steps.set(n, { op: "unsqueeze", from: n.inputs[0] });
  }
  return { frames: [...frames.values()], frameOf, steps };
}

function opaque(frame: Frame, why: string): void {
  if (frame.kind === "opaque") return;
  frame.kind = "opaque";
  frame.why = why;
}

/** A node's inputs without a Merge's NextIteration back edge. */
function backEdgeFree(node: Node, byName: Map<string, Node>): string[] {
  if (node.op !== "Merge") return node.inputs;
  return node.inputs.filter((v) => byName.get(v.replace(/:\d+$/, ""))?.op !== "NextIteration");
}

/** Kahn's order over the nodes with Merge's NextIteration inputs left out (what is still cyclic goes last). */
export function acyclicOrder(nodes: Node[], byName: Map<string, Node>): Node[] {
  const waiting = new Map<Node, number>();
  const next = new Map<Node, Node[]>();
  for (const node of nodes) {
    let pending = 0;
    for (const v of new Set(backEdgeFree(node, byName))) {
      const from = byName.get(v) ?? byName.get(v.replace(/:\d+$/, ""))!;
      if (from === node) continue;
      pending++;
      let list = next.get(from);
      if (!list) next.set(from, (list = []));
      list.push(node);
    }
    waiting.set(node, pending);
  }
  const ordered: Node[] = nodes.filter((n) => waiting.get(n) === 0);
  for (let i = 0; i < ordered.length; i++) {
    for (const r of next.get(ordered[i]) ?? []) {
      const left = waiting.get(r)! - 1;
      waiting.set(r, left);
      if (left === 0) ordered.push(r);
    }
  }
  if (ordered.length < nodes.length) {
    const placed = new Set(ordered);
    for (const n of nodes) if (!placed.has(n)) ordered.push(n);
  }
  return ordered;
}

/**
 * Checks that a frame is a map (module comment) and, if so, records each of its nodes' steps and
 * rewires Merge and Exit; otherwise marks it opaque and changes nothing.
 */
function mapSteps(frame: Frame, byName: Map<string, Node>, data: Set<string>, steps: Map<Node, LoopStep>): void {
  const node = (v: string | undefined) => (v === undefined ? undefined : byName.get(v.replace(/:\d+$/, "")));
  const inFrame = (n: Node | undefined) => n !== undefined && frame.nodes.has(n);
  /** Through Identity nodes to the value they copy. */
  const through = (v: string | undefined): string | undefined => {
    for (let i = 0; i < 64 && v !== undefined; i++) {
      const n = node(v);
      if (!n || n.op !== "Identity" || n.inputs.length !== 1 || v.includes(":")) return v;
      v = n.inputs[0];
    }
    return v;
  };
  const rewires: (() => void)[] = [];
  const local = new Map<Node, LoopStep>();
  const fail = (why: string) => opaque(frame, why);
  const merges = [...frame.nodes].filter((n) => n.op === "Merge");
  // Each Merge's Switches and each Switch's Exits, found once (a frame may hold many loop variables).
  const switchesOf = new Map<string, Node[]>(), exitsOf = new Map<string, Node[]>();
  for (const n of frame.nodes) {
    const into = n.op === "Switch" ? switchesOf : n.op === "Exit" ? exitsOf : undefined;
    if (!into || n.inputs[0] === undefined) continue;
    const list = into.get(n.inputs[0]);
    if (list) list.push(n);
    else into.set(n.inputs[0], [n]);
  }
  const invariantLists = new Set<string>();
  const accumulators = new Set<Node>();
  for (const merge of merges) {
    const [a, b] = merge.inputs;
    const enter = node(a), iteration = node(b);
    if (merge.inputs.length !== 2 || enter?.op !== "Enter" || iteration?.op !== "NextIteration" || !inFrame(iteration)) return fail(`Merge ${merge.name.slice(0, 80)} is not Enter + NextIteration`);
    const switches = switchesOf.get(merge.name) ?? [];
    if (switches.length !== 1) return fail(`Merge ${merge.name.slice(0, 80)} is read by ${switches.length} Switch nodes`);
    const sw = switches[0];
    const update = through(iteration.inputs[0]);
    const carries = data.has(a!) || (update !== undefined && data.has(update));
    const exits = exitsOf.get(sw.name) ?? [];
    if (update === `${sw.name}:1`) {
      // Invariant: the same value every iteration (a counter's limit, the input's rows).
      if (carries && node(enter.inputs[0])?.op !== "TensorListFromTensor") return fail("a data value enters it whole (not as rows of a tensor list)");
      if (carries && exits.length > 0) return fail("an invariant data value leaves it");
      if (carries) invariantLists.add(`${sw.name}:1`);
    } else if (carries) {
      // An accumulator: a reserved list that one TensorListSetItem per iteration fills.
      const set = node(update);
      if (node(through(enter.inputs[0]))?.op !== "TensorListReserve" || set?.op !== "TensorListSetItem" || set.inputs[0] !== `${sw.name}:1` || data.has(set.inputs[1] ?? "")) {
        return fail("a loop variable that carries data is updated by the body, not filled row by row");
      }
      accumulators.add(set);
      const filled = update!;
      for (const exit of exits) {
        rewires.push(() => ((exit.inputs = [filled]), frame.rows.push(exit.name)));
        local.set(exit, { op: "identity", from: filled });
      }
    }
    rewires.push(() => (merge.inputs = [a!]));
    local.set(merge, { op: "identity", from: a! });
  }
  for (const n of frame.nodes) {
    if (local.has(n)) continue;
    switch (n.op) {
      case "Enter": case "Switch": case "Exit":
        local.set(n, { op: "identity", from: n.inputs[0] });
        break;
      case "NextIteration": case "LoopCond":
        local.set(n, { op: "skip" });
        break;
      case "TensorListGetItem": {
        if (!invariantLists.has(through(n.inputs[0]) ?? "") || data.has(n.inputs[1] ?? "")) {
          if (data.has(n.inputs[0] ?? "") || data.has(n.inputs[1] ?? "")) return fail("a TensorListGetItem reads a list that is not the input's rows, or at an index from data");
          break;
        }
        local.set(n, { op: "squeeze", from: n.inputs[0] });
        break;
      }
      case "TensorListSetItem":
        if (!accumulators.has(n)) {
          if (n.inputs.some((v) => data.has(v))) return fail("a TensorListSetItem writes data into a list that is not an accumulator");
          break;
        }
        local.set(n, { op: "identity", from: n.inputs[2] });
        break;
      default:
        if (n.op.startsWith("TensorList") && n.inputs.some((v) => data.has(v))) return fail(`${n.op} reads data`);
        if (CONTROL.has(n.op)) return fail(`${n.op} is not where a map has it`);
    }
  }
  for (const r of rewires) r();
  for (const [n, s] of local) steps.set(n, s);
}
