import type { GraphInfo, LayerInfo, TensorInfo } from "../../../../model/types.js";
import { FAMILIES, type FamilyTemplate, type OpTemplate } from "./families.js";

export interface TemplateResult {
  family: string;
  layers: LayerInfo[];
  graph: GraphInfo;
  notes: string[];
}

/**
 * The graph of a state_dict from its family's block template (spec metrics.md 1c): the family
 * named by config.json's model_type, else the one its tensor names show. Undefined when no
 * family fits. Tensors the template does not use are left to the caller (distributions only).
 */
export function templateGraph(tensors: readonly TensorInfo[], config?: Record<string, unknown>): TemplateResult | undefined {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const modelType = typeof config?.model_type === "string" ? config.model_type : undefined;
  const named = modelType ? FAMILIES.find((f) => f.modelTypes.includes(modelType)) : undefined;
  for (const family of named ? [named] : FAMILIES) {
    const blocks = new Map<number, string>();
    for (const t of tensors) {
      const m = family.detect.exec(t.name);
      if (m) blocks.set(Number(m[2]), m[1]);
    }
    if (blocks.size === 0) continue;
    const prefixes = new Set(blocks.values());
    if (prefixes.size !== 1) continue;
    const prefix = [...prefixes][0];
    const indices = [...blocks.keys()].sort((a, b) => a - b);
    const how = named ? `config.json (model_type ${JSON.stringify(modelType)})` : "its tensor names";
    const result = build(family, prefix, indices, byName, config);
    result.notes.unshift(`The graph comes from the ${family.id} block template, picked by ${how}: ${family.assumes}.`);
    if (indices.some((i, k) => i !== k)) result.notes.push(`Blocks ${indices.join(", ")} are in the file; the numbering has gaps, which the template follows as it is.`);
    return result;
  }
  return undefined;
}

function build(family: FamilyTemplate, prefix: string, blocks: number[], tensors: Map<string, TensorInfo>, config?: Record<string, unknown>): TemplateResult {
  const layers: LayerInfo[] = [];
  const notes: string[] = [];
  /** A left-out op's output stands for its input; a left-out lookup stands for nothing (dropped from sums). */
  const alias = new Map<string, string | null>();
  const resolve = (name: string): string | null => {
    let n: string | null = name;
    for (let guard = 0; n !== null && alias.has(n) && guard < 64; guard++) n = alias.get(n)!;
    return n;
  };
  let stream = "";
  // Tied output projections: as config.json says; without the key, Hugging Face ties GPT-2's LM head (its default) and not Llama's.
  const tiedByDefault = family.id === "gpt2" && /LMHead/.test(String(config?.architectures ?? ""));
  const tied = typeof config?.tie_word_embeddings === "boolean" ? config.tie_word_embeddings : tiedByDefault;
  const conv1d = conv1dLayout(family, prefix, tensors);
  const usedInputs = new Set<string>();

  const emit = (t: OpTemplate, blockPrefix: string) => {
    const sub = (s: string) => (s === "$r" ? stream : s.replaceAll("{p}", prefix).replaceAll("{b}", blockPrefix));
    const name = sub(t.name);
    const inputs = t.inputs.map(sub).map(resolve).filter((n): n is string => n !== null);
    const outputs = (t.outputs ?? [t.name]).map(sub);
    let weight: string | undefined;
    if (t.weights) {
      const candidates = t.weights.map(sub).filter((w, i) => i === 0 || tied || t.kind !== "dense");
      weight = candidates.find((w) => tensors.has(w));
      if (!weight) {
        if (!t.optional && t.kind !== "norm") notes.push(`The ${family.id} template expects tensor ${JSON.stringify(candidates[0])}, which the file does not hold; the op is left out.`);
        else if (name === "lm_head") notes.push(`The file holds no lm_head.weight${tied ? "" : " and config.json does not tie it to the embeddings (tie_word_embeddings)"}: the graph's output is the final norm's.`);
        alias.set(name, t.kind === "embedding" ? null : inputs[0] ?? null);
        if (t.residual && inputs[0]) stream = inputs[0];
        return;
      }
    }
    if (inputs.length === 0) {
      alias.set(name, null);
      return;
    }
    const layer: LayerInfo = { name, kind: t.kind, inputs: [...inputs], outputs };
    if (weight) {
      layer.weight = weight;
      layer.inputs!.push(weight);
    }
    const bias = t.bias ? sub(t.bias) : undefined;
    if (bias && tensors.has(bias) && weight) {
      layer.bias = bias;
      layer.inputs!.push(bias);
    }
    if (t.kind === "dense") layer.weightLayout = t.layout === "conv1d" ? conv1d : t.layout ?? "out_in";
    if (t.kind === "none") layer.attributes = { op: t.op!, ...t.attributes };
    for (const i of inputs) if (family.inputs.some((g) => g.name === i)) usedInputs.add(i);
    layers.push(layer);
    if (t.residual) stream = outputs[0];
  };

  for (const t of family.stem) emit(t, "");
  for (const i of blocks) {
    const blockPrefix = family.block.replaceAll("{p}", prefix).replaceAll("{i}", String(i));
    for (const t of family.body) emit(t, blockPrefix);
  }
  for (const t of family.head) emit(t, "");
  const outputs = [...new Set(family.outputs.map((o) => resolve(o === "$r" ? stream : o.replaceAll("{p}", prefix))).filter((o): o is string => o !== null && layers.some((l) => l.outputs!.includes(o))))];
  const width = family.widthFrom ? tensors.get(family.widthFrom.replaceAll("{p}", prefix))?.shape.at(-1) : undefined;
  const inputs = family.inputs
    .filter((i) => usedInputs.has(i.name))
    .map((i) => ({ name: i.name, dtype: i.dtype, shape: i.dtype === "FLOAT" && width !== undefined ? [width] : [] }));
  return { family: family.id, layers, graph: { inputs, outputs }, notes };
}

/**
 * GPT-2 stores its projections as Conv1D [in, out]; nanoGPT-style checkpoints as nn.Linear
 * [out, in]. Told by c_attn's shape against the embedding width: [d, 3d] is Conv1D.
 */
function conv1dLayout(family: FamilyTemplate, prefix: string, tensors: Map<string, TensorInfo>): "in_out" | "out_in" {
  if (family.id !== "gpt2") return "out_in";
  const width = tensors.get(`${prefix}wte.weight`)?.shape[1];
  for (const t of tensors.values()) {
    if (!t.name.startsWith(prefix) || !t.name.endsWith("attn.c_attn.weight") || t.shape.length !== 2) continue;
    return t.shape[0] === width && t.shape[1] === 3 * width ? "in_out" : t.shape[0] === 3 * (width ?? -1) ? "out_in" : "in_out";
  }
  return "in_out";
}
