/**
 * Block templates of the model families whose state_dicts people have (spec metrics.md 1c), as
 * data: one table per family, read by ./apply.ts. Names are patterns over the tensor names:
 *   {p}  the model's prefix ("model.", "transformer.", "bert.", ""), found by `detect`
 *   {b}  one block's prefix ({p} + the block list + index + "."), for every block in the file
 *   $r   the residual stream: the value the last op marked `residual` wrote
 *   {e}  one expert's index: an op named with {e} is made once per expert the block holds
 *        (FamilyTemplate.expert); an input "...{e*}..." lists that value of every expert
 * An op whose weight the file does not hold is left out, and its output stands for its first
 * input (optional norms, a missing pooler); `weights` lists alternatives (a tied lm_head).
 * Value names follow test/fixtures/graph/CONVENTIONS.md: a weighted op's output is its module
 * prefix, attention's output the prefix of the module holding q, k and v.
 */
export interface OpTemplate {
  /** Op name, which is also the name of the value it writes (unless `outputs` says otherwise). */
  name: string;
  kind: "dense" | "conv2d" | "norm" | "embedding" | "none";
  /** For kind none: add, mul, activation, attention, split. */
  op?: string;
  /** Weight tensor names, the first the file holds is taken. */
  weights?: string[];
  bias?: string;
  /** Stored [out, in] (nn.Linear) or [in, out] (GPT-2 Conv1D); "conv1d" decides by the model's shapes. */
  layout?: "out_in" | "in_out" | "conv1d";
  inputs: string[];
  outputs?: string[];
  /** The op's output becomes the residual stream $r. */
  residual?: boolean;
  /** A weighted op the family may leave out (biasless variants, heads). */
  optional?: boolean;
  /** Attributes of the op; a conv's stride "kernel" is as large as its kernel (a patch embedding). */
  attributes?: Record<string, number | number[] | string>;
  /** The op is made only when the file holds this tensor; otherwise its output stands for nothing (dropped from sums and outputs). */
  when?: string;
  /**
   * A split of a fused q, k, v projection: q is as wide as this [out, in] tensor's input (o_proj
   * reads the heads' concatenation, num_heads * head_dim); k and v share the other rows (GQA).
   */
  qkvBy?: string;
}

export interface FamilyTemplate {
  id: string;
  /** config.json model_type values that pick this family. */
  modelTypes: string[];
  /** A tensor name that identifies the family: group 1 is the prefix {p}, group 2 a block index. */
  detect: RegExp;
  /** Picked by names (no config.json) only when some tensor also matches this (MoE blocks beside Llama's). */
  marker?: RegExp;
  /** Every tensor of block i starts with this ({p} substituted, then {i}). */
  block: string;
  /**
   * Graph inputs: token ids (not node layers), float features of the width `widthFrom` gives, or
   * (patchOf: a conv kernel [out, C, kh, kw]) one patch of pixels [positions, C, kh, kw].
   */
  inputs: { name: string; dtype: "INT64" | "FLOAT"; patchOf?: string }[];
  /** For a float input: the [out, in] tensor whose input size is the input's width. */
  widthFrom?: string;
  /** A tensor whose presence says that block {b} holds expert {e} (experts 0, 1, ... up to the first missing). */
  expert?: string;
  stem: OpTemplate[];
  body: OpTemplate[];
  /** An encoder-decoder's second stack of blocks (T5's decoder), after the first stack's blocks and before the head. */
  decoder?: { detect: RegExp; block: string; stem: OpTemplate[]; body: OpTemplate[] };
  head: OpTemplate[];
  /** Graph outputs (the values the family's model class returns); "a|b": a where the graph has it, else b. */
  outputs: string[];
  /** What the reader of the report should know about the assumed structure. */
  assumes: string;
}

const dense = (name: string, input: string, extra: Partial<OpTemplate> = {}): OpTemplate => ({ name, kind: "dense", weights: [`${name}.weight`], bias: `${name}.bias`, layout: "out_in", inputs: [input], ...extra });
const norm = (name: string, input: string, extra: Partial<OpTemplate> = {}): OpTemplate => ({ name, kind: "norm", weights: [`${name}.weight`], bias: `${name}.bias`, inputs: [input], optional: true, ...extra });
const op = (name: string, kind: string, inputs: string[], extra: Partial<OpTemplate> = {}): OpTemplate => ({ name, kind: "none", op: kind, inputs, ...extra });

/** Llama, Mistral, Qwen2, Gemma: pre-norm blocks, q/k/v/o (GQA by shapes), SwiGLU MLP. */
const LLAMA: FamilyTemplate = {
  id: "llama",
  modelTypes: ["llama", "mistral", "qwen2", "qwen3", "gemma", "olmo", "internlm2", "yi", "deepseek", "granite"],
  detect: /^(.*?)layers\.(\d+)\.self_attn\.q_proj\.weight$/,
  block: "{p}layers.{i}.",
  inputs: [{ name: "input_ids", dtype: "INT64" }],
  stem: [{ name: "{p}embed_tokens", kind: "embedding", weights: ["{p}embed_tokens.weight"], inputs: ["input_ids"], residual: true }],
  body: [
    norm("{b}input_layernorm", "$r"),
    dense("{b}self_attn.q_proj", "{b}input_layernorm"),
    dense("{b}self_attn.k_proj", "{b}input_layernorm"),
    dense("{b}self_attn.v_proj", "{b}input_layernorm"),
    op("{b}self_attn", "attention", ["{b}self_attn.q_proj", "{b}self_attn.k_proj", "{b}self_attn.v_proj"], { attributes: { causal: 1, positions: "rope" } }),
    dense("{b}self_attn.o_proj", "{b}self_attn"),
    op("{b}attn_residual", "add", ["$r", "{b}self_attn.o_proj"], { residual: true }),
    norm("{b}post_attention_layernorm", "$r"),
    dense("{b}mlp.gate_proj", "{b}post_attention_layernorm"),
    op("{b}mlp.act", "activation", ["{b}mlp.gate_proj"]),
    dense("{b}mlp.up_proj", "{b}post_attention_layernorm"),
    op("{b}mlp.product", "mul", ["{b}mlp.act", "{b}mlp.up_proj"]),
    dense("{b}mlp.down_proj", "{b}mlp.product"),
    op("{b}mlp_residual", "add", ["$r", "{b}mlp.down_proj"], { residual: true }),
  ],
  head: [
    norm("{p}norm", "$r"),
    { name: "lm_head", kind: "dense", weights: ["lm_head.weight", "{p}embed_tokens.weight"], layout: "out_in", inputs: ["{p}norm"], optional: true },
  ],
  outputs: ["lm_head"],
  assumes: "a decoder of pre-norm blocks: q, k and v read the normed residual stream, attention mixing breaks the chain, o_proj and down_proj add into the residual stream, the gate's activation times up_proj feeds down_proj; lm_head (or the tied embedding matrix) gives the logits",
};

/** GPT-2: Conv1D [in, out] weights (nn.Linear [out, in] in nanoGPT, told by shape), fused c_attn split into q, k, v. */
const GPT2: FamilyTemplate = {
  id: "gpt2",
  modelTypes: ["gpt2"],
  detect: /^(.*?)h\.(\d+)\.attn\.c_attn\.weight$/,
  block: "{p}h.{i}.",
  inputs: [{ name: "input_ids", dtype: "INT64" }, { name: "position_ids", dtype: "INT64" }],
  stem: [
    { name: "{p}wte", kind: "embedding", weights: ["{p}wte.weight"], inputs: ["input_ids"] },
    { name: "{p}wpe", kind: "embedding", weights: ["{p}wpe.weight"], inputs: ["position_ids"], optional: true },
    op("{p}embeddings", "add", ["{p}wte", "{p}wpe"], { residual: true }),
  ],
  body: [
    norm("{b}ln_1", "$r"),
    dense("{b}attn.c_attn", "{b}ln_1", { layout: "conv1d" }),
    op("{b}attn.split", "split", ["{b}attn.c_attn"], { outputs: ["{b}attn.q", "{b}attn.k", "{b}attn.v"], attributes: { axis: -1 } }),
    op("{b}attn", "attention", ["{b}attn.q", "{b}attn.k", "{b}attn.v"], { attributes: { causal: 1, positions: "learned" } }),
    dense("{b}attn.c_proj", "{b}attn", { layout: "conv1d" }),
    op("{b}attn_residual", "add", ["$r", "{b}attn.c_proj"], { residual: true }),
    norm("{b}ln_2", "$r"),
    dense("{b}mlp.c_fc", "{b}ln_2", { layout: "conv1d" }),
    op("{b}mlp.act", "activation", ["{b}mlp.c_fc"]),
    dense("{b}mlp.c_proj", "{b}mlp.act", { layout: "conv1d" }),
    op("{b}mlp_residual", "add", ["$r", "{b}mlp.c_proj"], { residual: true }),
  ],
  head: [
    norm("{p}ln_f", "$r"),
    { name: "lm_head", kind: "dense", weights: ["lm_head.weight", "{p}wte.weight"], layout: "out_in", inputs: ["{p}ln_f"], optional: true },
  ],
  outputs: ["lm_head", "{p}ln_f"],
  assumes: "GPT-2 blocks: ln_1, the fused c_attn split into q, k and v, attention mixing, c_proj into the residual stream; ln_2, c_fc, gelu, c_proj into the residual stream; the output is ln_f's (or lm_head's logits when the file holds lm_head)",
};

/** BERT, RoBERTa: post-norm encoder blocks; word + position + token-type lookups summed. */
const BERT: FamilyTemplate = {
  id: "bert",
  modelTypes: ["bert", "roberta", "xlm-roberta", "camembert", "electra"],
  detect: /^(.*?)encoder\.layer\.(\d+)\.attention\.self\.query\.weight$/,
  block: "{p}encoder.layer.{i}.",
  inputs: [{ name: "input_ids", dtype: "INT64" }, { name: "position_ids", dtype: "INT64" }, { name: "token_type_ids", dtype: "INT64" }],
  stem: [
    { name: "{p}embeddings.word_embeddings", kind: "embedding", weights: ["{p}embeddings.word_embeddings.weight"], inputs: ["input_ids"] },
    { name: "{p}embeddings.position_embeddings", kind: "embedding", weights: ["{p}embeddings.position_embeddings.weight"], inputs: ["position_ids"], optional: true },
    { name: "{p}embeddings.token_type_embeddings", kind: "embedding", weights: ["{p}embeddings.token_type_embeddings.weight"], inputs: ["token_type_ids"], optional: true },
    op("{p}embeddings.sum", "add", ["{p}embeddings.word_embeddings", "{p}embeddings.position_embeddings", "{p}embeddings.token_type_embeddings"]),
    norm("{p}embeddings.LayerNorm", "{p}embeddings.sum", { residual: true }),
  ],
  body: [
    dense("{b}attention.self.query", "$r"),
    dense("{b}attention.self.key", "$r"),
    dense("{b}attention.self.value", "$r"),
    op("{b}attention.self", "attention", ["{b}attention.self.query", "{b}attention.self.key", "{b}attention.self.value"], { attributes: { causal: 0, positions: "learned" } }),
    dense("{b}attention.output.dense", "{b}attention.self"),
    op("{b}attention.residual", "add", ["$r", "{b}attention.output.dense"]),
    norm("{b}attention.output.LayerNorm", "{b}attention.residual", { residual: true }),
    dense("{b}intermediate.dense", "$r"),
    op("{b}intermediate.act", "activation", ["{b}intermediate.dense"]),
    dense("{b}output.dense", "{b}intermediate.act"),
    op("{b}output.residual", "add", ["$r", "{b}output.dense"]),
    norm("{b}output.LayerNorm", "{b}output.residual", { residual: true }),
  ],
  head: [
    // The pooler reads the first position: a selection along positions, one to one on features.
    { ...dense("{p}pooler.dense", "$r"), optional: true },
    op("{p}pooler.act", "activation", ["{p}pooler.dense"]),
  ],
  outputs: ["$r", "{p}pooler.act"],
  assumes: "post-norm encoder blocks: query, key and value read the stream, attention mixing breaks the chain, attention.output.dense adds into the stream before its LayerNorm; intermediate, gelu and output.dense likewise; the word, position and token-type lookups are summed; the pooler (when stored) reads the last stream",
};

/** torch.nn.TransformerEncoder (post-norm, the default norm_first = False): fused in_proj split into q, k, v. */
const TORCH_ENCODER: FamilyTemplate = {
  id: "torch-transformer-encoder",
  modelTypes: [],
  detect: /^(.*?)layers\.(\d+)\.self_attn\.in_proj_weight$/,
  block: "{p}layers.{i}.",
  inputs: [{ name: "input", dtype: "FLOAT" }],
  widthFrom: "{p}layers.0.self_attn.in_proj_weight",
  stem: [op("input.stream", "identity", ["input"], { residual: true })],
  body: [
    { name: "{b}self_attn.in_proj", kind: "dense", weights: ["{b}self_attn.in_proj_weight"], bias: "{b}self_attn.in_proj_bias", layout: "out_in", inputs: ["$r"] },
    op("{b}self_attn.split", "split", ["{b}self_attn.in_proj"], { outputs: ["{b}self_attn.q", "{b}self_attn.k", "{b}self_attn.v"], attributes: { axis: -1 } }),
    op("{b}self_attn", "attention", ["{b}self_attn.q", "{b}self_attn.k", "{b}self_attn.v"], { attributes: { causal: 0, positions: "none" } }),
    dense("{b}self_attn.out_proj", "{b}self_attn"),
    op("{b}attn_residual", "add", ["$r", "{b}self_attn.out_proj"]),
    norm("{b}norm1", "{b}attn_residual", { residual: true }),
    dense("{b}linear1", "$r"),
    op("{b}act", "activation", ["{b}linear1"]),
    dense("{b}linear2", "{b}act"),
    op("{b}ff_residual", "add", ["$r", "{b}linear2"]),
    norm("{b}norm2", "{b}ff_residual", { residual: true }),
  ],
  head: [norm("{p}norm", "$r", { residual: true })],
  outputs: ["$r"],
  assumes: "nn.TransformerEncoder layers in PyTorch's default post-norm order (norm_first = False, which a state_dict cannot show): the fused in_proj split into q, k and v, attention mixing, out_proj into the stream, norm1; linear1, the activation, linear2 into the stream, norm2",
};

/**
 * Llama's blocks under llama.cpp's GGUF tensor names (src/formats/gguf/read.ts; shapes there are
 * ne reversed, so weights are [out, in] as nn.Linear's). `output` falls back to token_embd as
 * llama.cpp does when the file has no output.weight (the reader passes tie_word_embeddings).
 */
const LLAMA_GGUF: FamilyTemplate = {
  id: "llama-gguf",
  modelTypes: [],
  detect: /^()blk\.(\d+)\.attn_q\.weight$/,
  block: "blk.{i}.",
  inputs: [{ name: "input_ids", dtype: "INT64" }],
  stem: [{ name: "token_embd", kind: "embedding", weights: ["token_embd.weight"], inputs: ["input_ids"], residual: true }],
  body: [
    norm("{b}attn_norm", "$r"),
    dense("{b}attn_q", "{b}attn_norm"),
    dense("{b}attn_k", "{b}attn_norm"),
    dense("{b}attn_v", "{b}attn_norm"),
    op("{b}attn", "attention", ["{b}attn_q", "{b}attn_k", "{b}attn_v"], { attributes: { causal: 1, positions: "rope" } }),
    dense("{b}attn_output", "{b}attn"),
    op("{b}attn_residual", "add", ["$r", "{b}attn_output"], { residual: true }),
    norm("{b}ffn_norm", "$r"),
    dense("{b}ffn_gate", "{b}ffn_norm"),
    op("{b}ffn_act", "activation", ["{b}ffn_gate"]),
    dense("{b}ffn_up", "{b}ffn_norm"),
    op("{b}ffn_product", "mul", ["{b}ffn_act", "{b}ffn_up"]),
    dense("{b}ffn_down", "{b}ffn_product"),
    op("{b}ffn_residual", "add", ["$r", "{b}ffn_down"], { residual: true }),
  ],
  head: [
    norm("output_norm", "$r"),
    { name: "output", kind: "dense", weights: ["output.weight", "token_embd.weight"], layout: "out_in", inputs: ["output_norm"], optional: true },
  ],
  outputs: ["output"],
  assumes: LLAMA.assumes.replace("lm_head", "output").replace("q, k and v", "attn_q, attn_k and attn_v").replace("o_proj and down_proj", "attn_output and ffn_down").replace("up_proj", "ffn_up") + " (llama.cpp's GGUF names)",
};

/** Llama's attention half of a block, up to the second norm (Mistral, Qwen2, Mixtral, Qwen2-MoE). */
const LLAMA_ATTENTION = LLAMA.body.slice(0, LLAMA.body.findIndex((t) => t.name === "{b}post_attention_layernorm") + 1);

/** Phi-3: Llama's block with fused projections, qkv_proj split into q, k, v (GQA by o_proj's width) and gate_up_proj's halves multiplied. */
const PHI3: FamilyTemplate = {
  id: "phi3",
  modelTypes: ["phi3"],
  detect: /^(.*?)layers\.(\d+)\.self_attn\.qkv_proj\.weight$/,
  block: "{p}layers.{i}.",
  inputs: LLAMA.inputs,
  stem: LLAMA.stem,
  body: [
    norm("{b}input_layernorm", "$r"),
    dense("{b}self_attn.qkv_proj", "{b}input_layernorm"),
    op("{b}self_attn.split", "split", ["{b}self_attn.qkv_proj"], { outputs: ["{b}self_attn.q", "{b}self_attn.k", "{b}self_attn.v"], attributes: { axis: -1 }, qkvBy: "{b}self_attn.o_proj.weight" }),
    op("{b}self_attn", "attention", ["{b}self_attn.q", "{b}self_attn.k", "{b}self_attn.v"], { attributes: { causal: 1, positions: "rope" } }),
    dense("{b}self_attn.o_proj", "{b}self_attn"),
    op("{b}attn_residual", "add", ["$r", "{b}self_attn.o_proj"], { residual: true }),
    norm("{b}post_attention_layernorm", "$r"),
    dense("{b}mlp.gate_up_proj", "{b}post_attention_layernorm"),
    // HF's chunk(2, dim=-1): the first half is the gate, the second up; up * silu(gate) pairs their node k.
    op("{b}mlp.chunk", "split", ["{b}mlp.gate_up_proj"], { outputs: ["{b}mlp.gate", "{b}mlp.up"], attributes: { axis: -1 } }),
    op("{b}mlp.act", "activation", ["{b}mlp.gate"]),
    op("{b}mlp.product", "mul", ["{b}mlp.up", "{b}mlp.act"]),
    dense("{b}mlp.down_proj", "{b}mlp.product"),
    op("{b}mlp_residual", "add", ["$r", "{b}mlp.down_proj"], { residual: true }),
  ],
  head: LLAMA.head,
  outputs: ["lm_head"],
  assumes: "Llama's pre-norm blocks with two fused projections: qkv_proj split into q (as wide as o_proj reads) and k, v sharing the other rows, attention mixing breaks the chain; gate_up_proj's first half (the gate) through SiLU times its second half (up) is one node layer of intermediate_size nodes, each summing its gate row and its up row, as an unfused gate_proj and up_proj give; lm_head gives the logits",
};

/**
 * A mixture-of-experts MLP (spec 1c: "MoE experts are dense layers; the router's mixing breaks").
 * The router is a dense op; softmax and top-k over its logits weigh each expert per token from
 * data, a break (one reduction per expert stands for it: expert e's weight, a scalar per token).
 * Each expert is a SwiGLU MLP; its output times its routing weight is a data-dependent scale, one
 * to one on the expert's outputs (spec 1b: a broadcast operand), and the weighted outputs, read by
 * nothing else, are summed: they join, so every expert's down projection adds into one node layer.
 */
const moe = (m: string, gate: string, up: string, down: string, when: string): OpTemplate[] => {
  const e = `${m}experts.{e}.`;
  return [
    { ...dense(`${m}gate`, "{b}post_attention_layernorm"), when },
    { ...dense(`${e}${gate}`, "{b}post_attention_layernorm"), when },
    op(`${e}act`, "activation", [`${e}${gate}`], { when }),
    { ...dense(`${e}${up}`, "{b}post_attention_layernorm"), when },
    op(`${e}product`, "mul", [`${e}act`, `${e}${up}`], { when }),
    { ...dense(`${e}${down}`, `${e}product`), when },
    op(`${e}routing_weight`, "reduce", [`${m}gate`], { attributes: { axes: [-1], keepdims: 1 }, when }),
    op(`${e}weighted`, "mul", [`${e}${down}`, `${e}routing_weight`], { when }),
  ];
};

/** Mixtral: Llama's attention, a sparse MoE MLP (block_sparse_moe: gate router, experts w1 gate, w3 up, w2 down). */
const MIXTRAL: FamilyTemplate = {
  id: "mixtral",
  modelTypes: ["mixtral"],
  detect: LLAMA.detect,
  marker: /layers\.\d+\.block_sparse_moe\.gate\.weight$/,
  block: "{p}layers.{i}.",
  expert: "{b}block_sparse_moe.experts.{e}.w1.weight",
  inputs: LLAMA.inputs,
  stem: LLAMA.stem,
  body: [
    ...LLAMA_ATTENTION,
    ...moe("{b}block_sparse_moe.", "w1", "w3", "w2", "{b}block_sparse_moe.gate.weight"),
    op("{b}block_sparse_moe", "add", ["{b}block_sparse_moe.experts.{e*}.weighted"]),
    op("{b}mlp_residual", "add", ["$r", "{b}block_sparse_moe"], { residual: true }),
  ],
  head: LLAMA.head,
  outputs: ["lm_head"],
  assumes: "Llama's attention half; the MLP is a mixture of experts: the router (block_sparse_moe.gate) is a dense layer whose softmax and top-k weigh the experts from data (a break: its node layer gets s_out by the boundary rule); every expert (w1 gate, w3 up, w2 down, SwiGLU) is a dense MLP counted whatever the router picks; each expert's output times its routing weight is one to one on its outputs, and the weighted outputs are summed, so all experts' w2 outputs are one node layer, which adds into the residual stream",
};

/** Qwen2-MoE / Qwen3-MoE: Llama's attention (Qwen2: q, k, v biases), a MoE MLP (mlp.gate router, mlp.experts.{e}) plus a shared expert scaled by sigmoid(shared_expert_gate); a block without mlp.gate is a dense Llama MLP. */
const QWEN2_MOE: FamilyTemplate = {
  id: "qwen2-moe",
  modelTypes: ["qwen2_moe", "qwen3_moe"],
  detect: LLAMA.detect,
  marker: /layers\.\d+\.mlp\.experts\.\d+\.down_proj\.weight$/,
  block: "{p}layers.{i}.",
  expert: "{b}mlp.experts.{e}.gate_proj.weight",
  inputs: LLAMA.inputs,
  stem: LLAMA.stem,
  body: [
    ...LLAMA_ATTENTION,
    ...moe("{b}mlp.", "gate_proj", "up_proj", "down_proj", "{b}mlp.gate.weight"),
    ...[
      dense("{b}mlp.shared_expert.gate_proj", "{b}post_attention_layernorm"),
      op("{b}mlp.shared_expert.act", "activation", ["{b}mlp.shared_expert.gate_proj"]),
      dense("{b}mlp.shared_expert.up_proj", "{b}post_attention_layernorm"),
      op("{b}mlp.shared_expert.product", "mul", ["{b}mlp.shared_expert.act", "{b}mlp.shared_expert.up_proj"]),
      dense("{b}mlp.shared_expert.down_proj", "{b}mlp.shared_expert.product"),
      // sigmoid(shared_expert_gate(x)), one value per token, scales the shared expert's output.
      dense("{b}mlp.shared_expert_gate", "{b}post_attention_layernorm"),
      op("{b}mlp.shared_expert_gate.act", "activation", ["{b}mlp.shared_expert_gate"]),
      op("{b}mlp.shared_expert.weighted", "mul", ["{b}mlp.shared_expert.down_proj", "{b}mlp.shared_expert_gate.act"]),
    ].map((t) => ({ ...t, when: "{b}mlp.shared_expert.down_proj.weight" })),
    op("{b}mlp", "add", ["{b}mlp.experts.{e*}.weighted", "{b}mlp.shared_expert.weighted"], { when: "{b}mlp.gate.weight" }),
    // Layers listed in mlp_only_layers hold a dense Llama MLP instead.
    ...LLAMA.body.slice(LLAMA_ATTENTION.length, -1).map((t) => ({ ...t, when: "{b}mlp.gate_proj.weight" })),
    op("{b}mlp_residual", "add", ["$r", "{b}mlp", "{b}mlp.down_proj"], { residual: true }),
  ],
  head: LLAMA.head,
  outputs: ["lm_head"],
  assumes: MIXTRAL.assumes.replace("(block_sparse_moe.gate)", "(mlp.gate)").replace("(w1 gate, w3 up, w2 down, SwiGLU)", "(gate_proj, up_proj, down_proj)").replace("all experts' w2 outputs", "all experts' down_proj outputs and the shared expert's (scaled by sigmoid(shared_expert_gate), whose one node gets s_out by the boundary rule)") + "; a layer without mlp.gate holds a dense MLP",
};

/**
 * ViT (ViTModel / ViTForImageClassification): the patch embedding is a conv with kernel = stride =
 * patch size and no padding, a dense op applied at every patch position, so (spec 1b, positions are
 * replicas) its input nodes are one patch's C*p*p pixels and its output nodes the hidden features.
 * The tokens are positions: flattening the patches, the CLS token's concat along the sequence and
 * the position-embedding add keep the feature nodes (cls_token and position_embeddings are
 * distributions only). Pre-norm encoder blocks.
 */
const VIT: FamilyTemplate = {
  id: "vit",
  modelTypes: ["vit"],
  detect: /^(.*?)encoder\.layer\.(\d+)\.attention\.attention\.query\.weight$/,
  block: "{p}encoder.layer.{i}.",
  inputs: [{ name: "pixel_values", dtype: "FLOAT", patchOf: "{p}embeddings.patch_embeddings.projection.weight" }],
  stem: [
    { name: "{p}embeddings.patch_embeddings.projection", kind: "conv2d", weights: ["{p}embeddings.patch_embeddings.projection.weight"], bias: "{p}embeddings.patch_embeddings.projection.bias", inputs: ["pixel_values"], attributes: { stride: "kernel", pads: [0, 0, 0, 0] } },
    op("{p}embeddings", "flatten", ["{p}embeddings.patch_embeddings.projection"], { residual: true }),
  ],
  body: [
    norm("{b}layernorm_before", "$r"),
    dense("{b}attention.attention.query", "{b}layernorm_before"),
    dense("{b}attention.attention.key", "{b}layernorm_before"),
    dense("{b}attention.attention.value", "{b}layernorm_before"),
    op("{b}attention.attention", "attention", ["{b}attention.attention.query", "{b}attention.attention.key", "{b}attention.attention.value"], { attributes: { causal: 0, positions: "learned" } }),
    dense("{b}attention.output.dense", "{b}attention.attention"),
    op("{b}attention_residual", "add", ["$r", "{b}attention.output.dense"], { residual: true }),
    norm("{b}layernorm_after", "$r"),
    dense("{b}intermediate.dense", "{b}layernorm_after"),
    op("{b}intermediate.act", "activation", ["{b}intermediate.dense"]),
    dense("{b}output.dense", "{b}intermediate.act"),
    op("{b}output_residual", "add", ["$r", "{b}output.dense"], { residual: true }),
  ],
  head: [
    norm("{p}layernorm", "$r", { residual: true }),
    // The pooler and the classifier read the CLS position: a selection along positions, one to one on features.
    { ...dense("{p}pooler.dense", "$r"), optional: true },
    op("{p}pooler.act", "activation", ["{p}pooler.dense"], { when: "{p}pooler.dense.weight" }),
    { ...dense("classifier", "$r"), optional: true },
  ],
  outputs: ["classifier|$r", "classifier|{p}pooler.act"],
  assumes: "pre-norm encoder blocks over patch tokens: the patch embedding (a conv with kernel = stride = patch size, no padding) is a dense op applied at every patch, so its input nodes are one patch's channels x patch x patch pixels (c, y, x) and its output nodes the hidden features; the CLS token's concat and the position-embedding add are one to one; query, key and value read the normed stream, attention mixing breaks the chain, attention.output.dense and output.dense add into the stream; the classifier (or the pooler) reads the final layernorm at the CLS position",
};

/** T5's feed-forward: wi, relu, wo (T5 v1.0) or gelu(wi_0) * wi_1, wo (v1.1, Flan-T5), whichever the file holds. */
const t5FeedForward = (l: string): OpTemplate[] => {
  const f = `{b}layer.${l}.DenseReluDense.`;
  return [
    norm(`{b}layer.${l}.layer_norm`, "$r"),
    { ...dense(`${f}wi`, `{b}layer.${l}.layer_norm`), when: `${f}wi.weight` },
    op(`${f}act`, "activation", [`${f}wi`], { when: `${f}wi.weight` }),
    { ...dense(`${f}wi_0`, `{b}layer.${l}.layer_norm`), when: `${f}wi_0.weight` },
    op(`${f}gelu`, "activation", [`${f}wi_0`], { when: `${f}wi_0.weight` }),
    { ...dense(`${f}wi_1`, `{b}layer.${l}.layer_norm`), when: `${f}wi_0.weight` },
    op(`${f}product`, "mul", [`${f}gelu`, `${f}wi_1`], { when: `${f}wi_0.weight` }),
    dense(`${f}wo`, `${f}act`, { inputs: [`${f}act`, `${f}product`] }),
    op(`{b}layer.${l}.residual`, "add", ["$r", `${f}wo`], { residual: true }),
  ];
};

/** T5's attention sublayer: q, k, v (k and v from `kv`, the encoder's output for cross-attention), o into the stream. */
const t5Attention = (l: string, module: string, kv: string): OpTemplate[] => {
  const a = `{b}layer.${l}.${module}`;
  const x = `{b}layer.${l}.layer_norm`;
  return [
    norm(x, "$r"),
    dense(`${a}.q`, x),
    dense(`${a}.k`, kv === "$x" ? x : kv),
    dense(`${a}.v`, kv === "$x" ? x : kv),
    op(a, "attention", [`${a}.q`, `${a}.k`, `${a}.v`], { attributes: { positions: "relative" } }),
    dense(`${a}.o`, a),
    op(`{b}layer.${l}.residual`, "add", ["$r", `${a}.o`], { residual: true }),
  ];
};

/**
 * T5 (T5Model, T5ForConditionalGeneration; v1.0, v1.1 and Flan-T5 feed-forwards): pre-norm encoder
 * blocks, then decoder blocks whose cross-attention reads the encoder's final output with its k
 * and v. The shared embedding is looked up twice (encoder and decoder ids); the relative position
 * bias is added to the attention scores inside the mixing (a distribution only).
 */
const T5: FamilyTemplate = {
  id: "t5",
  modelTypes: ["t5", "mt5", "umt5"],
  detect: /^(.*?)encoder\.block\.(\d+)\.layer\.0\.SelfAttention\.q\.weight$/,
  block: "{p}encoder.block.{i}.",
  inputs: [{ name: "input_ids", dtype: "INT64" }, { name: "decoder_input_ids", dtype: "INT64" }],
  stem: [{ name: "{p}encoder.embed_tokens", kind: "embedding", weights: ["{p}encoder.embed_tokens.weight", "{p}shared.weight"], inputs: ["input_ids"], residual: true }],
  body: [...t5Attention("0", "SelfAttention", "$x"), ...t5FeedForward("1")],
  decoder: {
    detect: /^(.*?)decoder\.block\.(\d+)\.layer\.0\.SelfAttention\.q\.weight$/,
    block: "{p}decoder.block.{i}.",
    stem: [
      norm("{p}encoder.final_layer_norm", "$r"),
      { name: "{p}decoder.embed_tokens", kind: "embedding", weights: ["{p}decoder.embed_tokens.weight", "{p}shared.weight"], inputs: ["decoder_input_ids"], residual: true },
    ],
    body: [...t5Attention("0", "SelfAttention", "$x"), ...t5Attention("1", "EncDecAttention", "{p}encoder.final_layer_norm"), ...t5FeedForward("2")],
  },
  head: [
    norm("{p}decoder.final_layer_norm", "$r", { residual: true }),
    { name: "lm_head", kind: "dense", weights: ["lm_head.weight", "{p}shared.weight"], layout: "out_in", inputs: ["{p}decoder.final_layer_norm"], optional: true },
  ],
  outputs: ["lm_head|$r"],
  assumes: "pre-norm encoder blocks (self-attention, then the feed-forward: wi, relu, wo, or gelu(wi_0) times wi_1, wo), the encoder's final layer norm, then decoder blocks: self-attention, cross-attention whose k and v read the encoder's final output (every decoder block's k and v add to its s_out), the feed-forward; attention mixing breaks the chain, o and wo add into the stream; the shared embedding is a lookup for both stacks; lm_head (or the tied shared matrix) gives the logits",
};

export const FAMILIES: readonly FamilyTemplate[] = [T5, MIXTRAL, QWEN2_MOE, LLAMA, PHI3, GPT2, BERT, VIT, TORCH_ENCODER, LLAMA_GGUF];
