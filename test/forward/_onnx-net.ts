// A small executor for test/forward/shape.test.ts: runs every op of a model file's graph through
// the registry's runners in topological order, with weights read by WeightReader, integer
// constants as host ints, and returns the graph's outputs. Only for the ops of these tests (the
// real executor is src/forward/execute.ts).
import { inspect } from "../../src/analyze.js";
import { buildGraph } from "../../src/graph/build.js";
import { normalizeModel } from "../../src/graph/normalize.js";
import { inferShapes } from "../../src/graph/shapes.js";
import type { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import type { PrepareContext, Tensor } from "../../src/forward/types.js";
import { WeightReader } from "../../src/forward/weights.js";
import { toByteSource, type ModelInput } from "../../src/source/open.js";
import { put, type CaseTensor } from "./_merge-case.js";

export async function runModel(memory: LinearMemory, file: ModelInput, input: CaseTensor, wanted?: string[]): Promise<Map<string, Tensor>> {
  const model = normalizeModel(await inspect(file));
  const graph = buildGraph(model);
  inferShapes(graph, model);
  const weights = new WeightReader(toByteSource(file), model.tensors);
  const ctx: PrepareContext = { memory, graph, channelsLast: model.dataFormat === "channels_last", batchAxis: () => 0, weight: (n) => weights.read(n), tensorShape: (n) => weights.shape(n) };
  const values = new Map<string, Tensor>([[graph.inputs[0], put(memory, input)]]);
  const held = async (name: string): Promise<Tensor | undefined> => {
    if (!name) return undefined;
    const v = values.get(name);
    if (v) return v;
    const gv = graph.values.get(name);
    if (gv?.values && gv.kind !== "data") return { ptr: -1, shape: (gv.shape as number[]) ?? [gv.values.length], ints: [...gv.values] };
    const shape = weights.shape(name);
    if (!shape) throw new Error(`no value ${name}`);
    const data = await weights.read(name);
    const t = memory.tensor(shape);
    memory.f32(t.ptr, data.length).set(data);
    t.constant = true;
    values.set(name, t);
    return t;
  };
  for (const op of graph.ops) {
    const runner = runnerOf(op.op);
    if (!runner) throw new Error(`no runner for ${op.op} (${op.name})`);
    const prepared = await runner(op, ctx);
    const inputs = await Promise.all(op.inputs.map(held));
    const { outputs } = prepared.run(inputs);
    op.outputs.forEach((name, i) => outputs[i] && values.set(name, outputs[i]!));
  }
  await weights.close();
  return new Map((wanted ?? graph.outputs).map((name) => [name, values.get(name)!]));
}
