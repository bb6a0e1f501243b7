/**
 * The graph of a state_dict (safetensors, sharded safetensors, PyTorch-named .npz), which holds
 * names and shapes only (spec metrics.md 1c): a config.json beside the file picks the family's
 * block template; without it the family is recognised from the names; otherwise the layers are
 * chained by shape. Tensors a template does not use are reported as distributions.
 */
import { chainByShape } from "./state-dict/chain-by-shape.js";
import { inferLayersFromNames } from "./state-dict/infer-layers.js";
import { templateGraph } from "./state-dict/templates/apply.js";
import type { GraphInfo, LayerInfo, TensorInfo } from "../../model/types.js";
import type { ByteSource } from "../../source/types.js";

/** config.json files are small; a larger one is not a model config. */
const MAX_CONFIG_BYTES = 1 << 20;

export interface StateDictGraph {
  layers: LayerInfo[];
  graph?: GraphInfo;
  notes: string[];
}

export async function stateDictGraph(source: ByteSource, tensors: TensorInfo[]): Promise<StateDictGraph> {
  const { config, note } = await readConfig(source);
  const notes = note ? [note] : [];
  const template = templateGraph(tensors, config);
  if (template) {
    const used = new Set(template.layers.flatMap((l) => [l.weight, l.bias].filter((t): t is string => t !== undefined)));
    const rest = tensors.filter((t) => !used.has(t.name)).map((t): LayerInfo => ({ name: t.name, kind: "other", weight: t.name }));
    return { layers: [...template.layers, ...rest], graph: template.graph, notes: [...notes, ...template.notes] };
  }
  const pairing: string[] = [];
  const chained = chainByShape(inferLayersFromNames(tensors, pairing), tensors);
  return { layers: chained.layers, notes: [...notes, ...pairing, ...chained.notes] };
}

/** config.json beside the file, when the input can open siblings and the file is there. */
async function readConfig(source: ByteSource): Promise<{ config?: Record<string, unknown>; note?: string }> {
  if (!source.sibling) return {};
  let file: ByteSource;
  try {
    file = await source.sibling("config.json");
  } catch {
    return {};
  }
  try {
    if (file.size === undefined || file.size > MAX_CONFIG_BYTES) return { note: `config.json beside the model is over ${MAX_CONFIG_BYTES.toLocaleString("en-US")} bytes; it was not read.` };
    const bytes = new Uint8Array(file.size);
    await file.readInto(0, bytes);
    const config = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown;
    if (typeof config !== "object" || config === null || Array.isArray(config)) return { note: "config.json beside the model is not a JSON object; it was not used." };
    return { config: config as Record<string, unknown> };
  } catch {
    return { note: "config.json beside the model is not valid JSON; it was not used." };
  } finally {
    await file.close();
  }
}
