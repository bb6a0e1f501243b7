/**
 * The forward pass over the graph (spec metrics.md section 3): ops in topological order on one
 * batch at a time, values in the kernels' linear memory, each value freed after its last reader.
 * Ops are prepared once (weights read, widened and packed); an op no runner knows, or one whose
 * inputs cannot be had, leaves its outputs unavailable and says why, so the layers before it are
 * still measured.
 */
import { CntError, quoteName } from "../errors.js";
import { opFamily, RECURRENT_OPS } from "../graph/ops.js";
import type { GraphOp, ModelGraph } from "../graph/types.js";
import type { ModelInfo } from "../model/types.js";
import { runnerOf, takesHostInts } from "./ops/registry.js";
import { preName } from "./targets.js";
import type { ForwardMemory, PreparedOp, PrepareContext, Tensor } from "./types.js";
import type { WeightReader } from "./weights.js";

const DENSE_OR_CONV = new Set(["dense", "conv1d", "conv2d", "conv2d_transpose"]);
/** Ops that apply an activation (the walk's names and the readers' attributes). */
const ACTIVATION_OPS = new Set(["activation", "relu", "sigmoid", "tanh", "softmax"]);

/**
 * A dense or conv op whose layer names an activation applies it, unless the graph has that
 * activation as its own op right after (ONNX and TF.js graphs name it on the layer as well).
 */
export function appliesActivation(graph: ModelGraph, op: GraphOp): boolean {
  const act = op.layer.activation;
  if (!DENSE_OR_CONV.has(op.op) || act === undefined || act === "linear") return false;
  const readers = graph.values.get(op.outputs[0])?.consumers ?? [];
  return !(readers.length === 1 && ACTIVATION_OPS.has(readers[0].op) && readers[0].layer.activation === act);
}

/** Ops whose output comes with a z of its own ("<output>#z"). */
export function givesZ(graph: ModelGraph, op: GraphOp): boolean {
  return appliesActivation(graph, op) || RECURRENT_OPS.has(op.op);
}

/** Called with each value an op makes (and a fused op's z), before it may be freed. */
export type ValueSink = (name: string, tensor: Tensor) => void;

export class Executor {
  /** Ops that run, in order, with their runners. */
  private readonly steps: { op: GraphOp; runner: PreparedOp; activation?: PreparedOp }[] = [];
  /** Per batch: how many steps read each value (a value is freed when the count reaches 0). */
  private readonly readers = new Map<string, number>();
  /** Constants read as operands: in linear memory for the whole run. */
  private readonly constants = new Map<string, Tensor>();
  readonly notes: string[] = [];
  /** Values the run cannot produce (their op stopped), with the op that stopped them. */
  readonly unavailable = new Map<string, string>();

  private constructor(private readonly memory: ForwardMemory) {}

  /**
   * Prepare the ops that lead to `wanted` values. `fed` are the graph inputs the samples give, with
   * the axis their samples are on.
   */
  static async prepare(memory: ForwardMemory, graph: ModelGraph, model: ModelInfo, weights: WeightReader, fed: Map<string, number>, wanted: Set<string>): Promise<Executor> {
    const ex = new Executor(memory);
    const ctx: PrepareContext = {
      memory,
      weight: (name) => weights.read(name),
      tensorShape: (name) => weights.shape(name),
      graph,
      channelsLast: graph.dataFormat === "channels_last",
      batchAxis: (input) => fed.get(input) ?? 0,
    };
    const tensors = new Set(model.tensors.map((t) => t.name));
    // Only ops some wanted value depends on run.
    const needed = new Set<GraphOp>();
    const stack = [...wanted];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const op = graph.values.get(name)?.producer;
      if (!op || needed.has(op)) continue;
      needed.add(op);
      for (const input of op.inputs) if (input !== "") stack.push(input);
    }
    const available = new Set<string>(fed.keys());
    const canRead = (name: string) => name === "" || available.has(name) || tensors.has(name) || graph.values.get(name)?.values !== undefined || graph.values.get(name)?.floats !== undefined;
    for (const op of graph.ops) {
      if (!needed.has(op)) continue;
      const stopped = (why: string) => {
        for (const out of op.outputs) if (out !== "" && !ex.unavailable.has(out)) ex.unavailable.set(out, why);
      };
      const missing = op.inputs.find((n) => !canRead(n));
      if (missing !== undefined) {
        stopped(ex.unavailable.get(missing) ?? `its input ${quoteName(missing)} is not known to the forward pass`);
        continue;
      }
      const prepareOp = runnerOf(op.op);
      if (!prepareOp) {
        const what = op.layer.attributes?.onnx ?? op.layer.attributes?.tf ?? op.op;
        ex.notes.push(`The forward pass has no kernel for op ${quoteName(op.name)} (${String(what)}); the data metrics of the node layers after it are left out.`);
        stopped(`op ${quoteName(op.name)} (${String(what)}) has no forward kernel`);
        continue;
      }
      try {
        const runner = await prepareOp(op, ctx);
        let activation: PreparedOp | undefined;
        if (appliesActivation(graph, op)) {
          const activationOp = runnerOf("activation");
          if (!activationOp) throw new CntError("UNSUPPORTED_LAYER", `no kernel for its activation ${op.layer.activation}`);
          activation = await activationOp({ index: op.index, name: `${op.name}/activation`, op: "activation", layer: { name: `${op.name}/activation`, kind: "none", activation: op.layer.activation, attributes: { ...op.layer.attributes, op: "activation" } }, inputs: [op.outputs[0]], outputs: [op.outputs[0]] }, ctx);
        }
        ex.steps.push({ op, runner, activation });
        for (const out of op.outputs) if (out !== "") available.add(out);
        for (const input of new Set(op.inputs)) if (available.has(input)) ex.readers.set(input, (ex.readers.get(input) ?? 0) + 1);
      } catch (error) {
        if (!(error instanceof CntError) || error.code === "TOO_LARGE" || error.code === "INTERNAL") throw error;
        ex.notes.push(`The forward pass stops at op ${quoteName(op.name)}: ${error.message.replace(/^The forward pass cannot run op [^:]*: /, "")}${/[.!?]$/.test(error.message) ? "" : "."} The data metrics of the node layers after it are left out.`);
        stopped(`op ${quoteName(op.name)} could not run`);
      }
    }
    // Constant operands of ops that take them as tensors (not weighted ops, which packed theirs).
    for (const { op } of ex.steps) {
      if (opFamily(op.op) === "weighted" || op.op === "lookup") continue;
      for (const name of op.inputs) {
        if (name === "" || available.has(name) || ex.constants.has(name)) continue;
        const v = graph.values.get(name);
        if (v?.values !== undefined) ex.constants.set(name, { ptr: -1, shape: v.shape?.map((d) => d ?? 1) ?? [v.values.length], constant: true, ints: [...v.values] });
        else if (tensors.has(name)) {
          const data = await weights.read(name);
          const t = memory.tensor(weights.shape(name)!);
          memory.f32(t.ptr, data.length).set(data);
          ex.constants.set(name, { ...t, constant: true });
        } else if (v?.floats !== undefined) {
          const t = memory.tensor(v.shape?.map((d) => d ?? 1) ?? [v.floats.length]);
          memory.f32(t.ptr, v.floats.length).set(v.floats);
          ex.constants.set(name, { ...t, constant: true });
        }
      }
    }
    return ex;
  }

  /**
   * Run one batch. `inputs` are the graph inputs (batch axis first); they are freed here. `sink`
   * sees every value made, and the z of fused ops, right after the op that made it.
   */
  run(inputs: Map<string, Tensor>, sink: ValueSink): void {
    const live = new Map<string, Tensor>(inputs);
    const left = new Map(this.readers);
    const release = (name: string) => {
      const n = (left.get(name) ?? 0) - 1;
      left.set(name, n);
      if (n > 0) return;
      const t = live.get(name);
      if (t && t.ptr >= 0) this.memory.free(t.ptr);
      live.delete(name);
    };
    try {
      for (const { op, runner, activation } of this.steps) {
        const args = op.inputs.map((name) => (name === "" ? undefined : live.get(name) ?? this.constants.get(name)));
        // A zero initial state made by ConstantOfShape is host ints; a recurrent cell reads memory.
        const copies: number[] = [];
        if (!takesHostInts(op.op)) {
          args.forEach((t, i) => {
            if (!t || t.ints === undefined) return;
            const copy = this.memory.tensor(t.shape);
            this.memory.f32(copy.ptr, t.ints.length).set(t.ints);
            copies.push(copy.ptr);
            args[i] = { ...copy, constant: t.constant };
          });
        }
        const result = runner.run(args);
        for (const ptr of copies) this.memory.free(ptr);
        let outputs = result.outputs;
        if (activation && outputs[0]) {
          const z = outputs[0];
          const a = activation.run([z]).outputs[0]!;
          outputs = [a, ...outputs.slice(1)];
          sink(preName(op.outputs[0]), z);
          if (z.ptr >= 0) this.memory.free(z.ptr);
        } else if (result.pre) {
          sink(preName(op.outputs[0]), result.pre);
          if (result.pre.ptr >= 0) this.memory.free(result.pre.ptr);
        }
        op.outputs.forEach((name, i) => {
          const t = outputs[i];
          if (name === "" || !t) {
            if (t && t.ptr >= 0) this.memory.free(t.ptr);
            return;
          }
          live.set(name, t);
          sink(name, t);
          if (!left.has(name)) release(name);
        });
        for (const name of new Set(op.inputs)) if (live.has(name)) release(name);
      }
    } finally {
      for (const t of live.values()) if (t.ptr >= 0) this.memory.free(t.ptr);
    }
  }

  dispose(): void {
    for (const { runner, activation } of this.steps) {
      runner.dispose?.();
      activation?.dispose?.();
    }
    for (const t of this.constants.values()) if (t.ptr >= 0) this.memory.free(t.ptr);
  }
}
