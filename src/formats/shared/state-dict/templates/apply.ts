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
    if (!named && family.marker && !tensors.some((t) => family.marker!.test(t.name))) continue;
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
  // Tied output projections: as config.json says; without the key, Hugging Face ties GPT-2's and T5's LM heads (their default) and not Llama's.
  const tiedByDefault = (family.id === "gpt2" && /LMHead/.test(String(config?.architectures ?? ""))) || (family.id === "t5" && /ConditionalGeneration/.test(String(config?.architectures ?? "")));
  const tied = typeof config?.tie_word_embeddings === "boolean" ? config.tie_word_embeddings : tiedByDefault;
  const conv1d = conv1dLayout(family, prefix, tensors);
  const usedInputs = new Set<string>();

  const emit = (t: OpTemplate, blockPrefix: string, expert = "", experts: number[] = []) => {
    const sub = (s: string) => (s === "$r" ? stream : s.replaceAll("{p}", prefix).replaceAll("{b}", blockPrefix).replaceAll("{e}", expert));
    const name = sub(t.name);
    // "{e*}": the value of every expert of the block.
    const named = t.inputs.flatMap((i) => (i.includes("{e*}") ? experts.map((e) => i.replaceAll("{e*}", String(e))) : [i]));
    const inputs = named.map(sub).map(resolve).filter((n): n is string => n !== null);
    const outputs = (t.outputs ?? [t.name]).map(sub);
    if (t.when && !tensors.has(sub(t.when))) {
      for (const o of new Set([name, ...outputs])) alias.set(o, null);
      return;
    }
    let weight: string | undefined;
    if (t.weights) {
      const candidates = t.weights.map(sub).filter((_, i) => i === 0 || tied || t.kind !== "dense");
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
    // Attention's query heads, as config.json declares them (shapes do not tell them; the forward pass needs them).
    const heads = Number(config?.num_attention_heads ?? config?.n_head);
    if (t.op === "attention" && Number.isSafeInteger(heads) && heads > 0) layer.attributes!.heads = heads;
    if (family.id === "llama") llamaForward(t, layer, config);
    if (t.kind === "conv2d") {
      // A patch embedding's stride is its kernel (torch stores conv kernels [out, in, kh, kw]).
      const k = tensors.get(weight!)!.shape.slice(2);
      layer.attributes = { ...t.attributes, ...(t.attributes?.stride === "kernel" ? { stride: k } : {}) };
    }
    if (t.qkvBy) {
      const split = qkvSizes(layers, inputs[0], tensors.get(sub(t.qkvBy)), tensors, config);
      if (split.sizes) layer.attributes = { ...layer.attributes, split: split.sizes };
      if (split.note) notes.push(split.note);
    }
    for (const i of inputs) if (family.inputs.some((g) => g.name === i)) usedInputs.add(i);
    layers.push(layer);
    if (t.residual) stream = outputs[0];
  };

  for (const t of family.stem) emit(t, "");
  for (const i of blocks) {
    const blockPrefix = family.block.replaceAll("{p}", prefix).replaceAll("{i}", String(i));
    const experts = expertsOf(family, blockPrefix, tensors);
    // A run of ops named with {e} is one expert's ops: made expert after expert, in the run's order.
    for (let k = 0; k < family.body.length; k++) {
      if (!family.body[k].name.includes("{e}")) {
        emit(family.body[k], blockPrefix, "", experts);
        continue;
      }
      let end = k;
      while (end < family.body.length && family.body[end].name.includes("{e}")) end++;
      for (const e of experts) for (const t of family.body.slice(k, end)) emit(t, blockPrefix, String(e), experts);
      k = end - 1;
    }
  }
  if (family.decoder) {
    const decoder = family.decoder;
    for (const t of decoder.stem) emit(t, "");
    const indices = new Set<number>();
    for (const name of tensors.keys()) {
      const m = decoder.detect.exec(name);
      if (m && m[1] === prefix) indices.add(Number(m[2]));
    }
    for (const i of [...indices].sort((a, b) => a - b)) {
      const blockPrefix = decoder.block.replaceAll("{p}", prefix).replaceAll("{i}", String(i));
      for (const t of decoder.body) emit(t, blockPrefix);
    }
  }
  for (const t of family.head) emit(t, "");
  const written = new Set(layers.flatMap((l) => l.outputs!));
  const outputName = (o: string) => {
    // "a|b": a where an op writes it, else b.
    const alternatives = o.split("|").map((a) => (a === "$r" ? stream : a.replaceAll("{p}", prefix)));
    return resolve(alternatives.find((a) => written.has(a)) ?? alternatives[alternatives.length - 1]);
  };
  const outputs = [...new Set(family.outputs.map(outputName).filter((o): o is string => o !== null && written.has(o)))];
  const widthOf = family.widthFrom ? tensors.get(family.widthFrom.replaceAll("{p}", prefix))?.shape : undefined;
  const width = widthOf && widthOf.length >= 2 ? widthOf.slice(1).reduce((a, d) => a * d, 1) : undefined;
  const inputs = family.inputs
    .filter((i) => usedInputs.has(i.name))
    .map((i) => ({ name: i.name, dtype: i.dtype, shape: inputShape(i, width, prefix, tensors) }));
  return { family: family.id, layers, graph: { inputs, outputs }, notes };
}

/**
 * config.json model types whose blocks are exactly the Llama template's (Gemma scales its embeddings
 * and norms by 1 + weight, Qwen3 norms q and k, Granite and OLMo differ too: not vouched for).
 */
const PLAIN_LLAMA = new Set(["llama", "mistral", "qwen2", "yi"]);

/**
 * What the forward pass needs to run a Llama block and the file's config.json says (nothing without
 * it, and nothing for a type not in PLAIN_LLAMA: those ops then stop rather than guess): the norms'
 * rms_norm_eps (transformers' default 1e-6), the MLP's hidden_act (default silu), RoPE's rope_theta
 * (default 10000) when there is no rope_scaling or partial rotation, and Mistral's or Qwen2's
 * sliding window.
 */
function llamaForward(t: OpTemplate, layer: LayerInfo, config?: Record<string, unknown>): void {
  const type = config?.model_type;
  // Every type of the template norms by root mean square; the epsilon (and so the run) only for the plain ones.
  if (t.kind === "norm") layer.attributes = { ...layer.attributes, op: "rms_norm" };
  if (typeof type !== "string" || !PLAIN_LLAMA.has(type)) return;
  if (t.kind === "norm") {
    const eps = config!.rms_norm_eps ?? 1e-6;
    if (typeof eps === "number" && eps >= 0) layer.attributes!.epsilon = eps;
  } else if (t.op === "activation") {
    // transformers' ACT2FN names: only SiLU is vouched for here (its "gelu" and "gelu_new" differ from other readers' names).
    const act = config!.hidden_act ?? "silu";
    if (act === "silu" || act === "swish") {
      layer.activation = "unknown";
      layer.attributes = { ...layer.attributes, activationName: "silu" };
    }
  } else if (t.op === "attention") {
    const theta = config!.rope_theta ?? 10000;
    const scaled = (config!.rope_scaling !== undefined && config!.rope_scaling !== null) || (config!.partial_rotary_factor !== undefined && config!.partial_rotary_factor !== 1);
    if (typeof theta === "number" && theta > 0 && !scaled) layer.attributes!.ropeTheta = theta;
    const window = config!.sliding_window;
    const sliding = type === "mistral" || (type === "qwen2" && config!.use_sliding_window === true);
    if (sliding && window !== undefined && window !== null) layer.attributes!.window = typeof window === "number" ? window : String(window);
  }
}

/** A template input's declared shape: [batch, positions] for ids, [width] for features, [positions, C, kh, kw] for one patch of a conv kernel [out, C, kh, kw]. */
function inputShape(input: FamilyTemplate["inputs"][number], width: number | undefined, prefix: string, tensors: Map<string, TensorInfo>): (number | null)[] {
  // Token ids [batch, positions] (graph inputs carry the batch axis, as ONNX declares them): any number of each.
  if (input.dtype !== "FLOAT") return [null, null];
  if (input.patchOf) {
    const k = tensors.get(input.patchOf.replaceAll("{p}", prefix))?.shape;
    return k && k.length === 4 ? [null, k[1], k[2], k[3]] : [];
  }
  return width !== undefined ? [width] : [];
}

/** The experts block {b} holds: 0, 1, ... while the family's expert tensor is in the file. */
function expertsOf(family: FamilyTemplate, blockPrefix: string, tensors: Map<string, TensorInfo>): number[] {
  const out: number[] = [];
  if (!family.expert) return out;
  const pattern = family.expert.replaceAll("{b}", blockPrefix);
  while (tensors.has(pattern.replaceAll("{e}", String(out.length)))) out.push(out.length);
  return out;
}

/**
 * The q, k and v widths of a fused projection (spec 1b, "a fused qkv projection split into q, k,
 * v"): q is as wide as o_proj reads; k and v share the other rows. config.json's heads, when it
 * gives them, must agree (a note otherwise, and the shapes win).
 */
function qkvSizes(layers: LayerInfo[], fused: string | undefined, oProj: TensorInfo | undefined, tensors: Map<string, TensorInfo>, config?: Record<string, unknown>): { sizes?: number[]; note?: string } {
  // The fused projection is the op just before the split (a look back over the block, not the model).
  let producer: LayerInfo | undefined;
  for (let i = layers.length - 1; i >= 0 && i >= layers.length - 8 && !producer; i--) if (fused !== undefined && layers[i].outputs!.includes(fused)) producer = layers[i];
  const w = producer?.weight ? tensors.get(producer.weight)?.shape[0] : undefined;
  if (!w || !oProj || oProj.shape.length !== 2) return {};
  const q = oProj.shape[1], rest = w - q;
  if (rest <= 0 || rest % 2 !== 0) return { note: `The fused projection ${JSON.stringify(producer!.name)} has ${w} outputs, which do not split into q (${q}, as wide as ${JSON.stringify(oProj.name)} reads) and two equal k, v parts; it is split in three equal parts where it can be.` };
  const heads = Number(config?.num_attention_heads), kvHeads = Number(config?.num_key_value_heads ?? config?.num_attention_heads);
  const headDim = Number(config?.head_dim ?? Number(config?.hidden_size) / heads);
  if (Number.isSafeInteger(heads) && Number.isSafeInteger(kvHeads) && Number.isSafeInteger(headDim) && (heads * headDim !== q || kvHeads * headDim !== rest / 2)) {
    return { sizes: [q, rest / 2, rest / 2], note: `config.json's heads (${heads} of ${headDim}, ${kvHeads} key/value heads) do not match the shapes of ${JSON.stringify(producer!.name)} (q ${q}, k and v ${rest / 2} each); the shapes are used.` };
  }
  return { sizes: [q, rest / 2, rest / 2] };
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
