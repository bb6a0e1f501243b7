import { readFileSync } from "node:fs";
import "../../src/entry/node-setup.js";
import { openModel } from "../../src/analyze.js";
import { givesZ } from "../../src/forward/execute.js";
import { selectTargets, type Targets } from "../../src/forward/targets.js";
import { buildGraph } from "../../src/graph/build.js";
import { normalizeModel } from "../../src/graph/normalize.js";
import { inferShapes } from "../../src/graph/shapes.js";
import { Kernels } from "../../src/kernels/kernels.js";
import { measureTensors } from "../../src/measure/measure.js";
import { tensorPlans } from "../../src/measure/plan.js";
import { resolveOptions } from "../../src/options.js";
import { memorySource } from "../../src/source/memory.js";
import { nodeStrengths, type NodeStrengths } from "../../src/strengths/walk.js";

/** A model file's node layers as the walk gives them (with node maps), and the z and a the forward pass would measure for each. */
export async function walkedTargets(path: string): Promise<{ layer: NodeStrengths; targets: Targets | undefined }[]> {
  const source = memorySource(readFileSync(path), path);
  const options = resolveOptions({});
  const model = normalizeModel(await openModel(source, options.limits));
  const kernels = await Kernels.create();
  const summaries = await measureTensors({ kernels, source, options }, model, tensorPlans(model, options.limits));
  const { layers } = nodeStrengths(kernels, model, summaries, { ...options, nodeMaps: true });
  const graph = buildGraph(model);
  inferShapes(graph, model);
  return layers.map((layer) => ({ layer, targets: selectTargets(graph, layer, (op) => givesZ(graph, op)) }));
}
