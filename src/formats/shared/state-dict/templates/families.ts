/**
 * Block templates of the model families whose state_dicts people have (spec metrics.md 1c), as
 * data: one table per family, read by ./apply.ts. Names are patterns over the tensor names:
 *   {p}  the model's prefix ("model.", "transformer.", "bert.", ""), found by `detect`
 *   {b}  one block's prefix ({p} + the block list + index + "."), for every block in the file
 *   $r   the residual stream: the value the last op marked `residual` wrote
 * An op whose weight the file does not hold is left out, and its output stands for its first
 * input (optional norms, a missing pooler); `weights` lists alternatives (a tied lm_head).
 * Value names follow test/fixtures/graph/CONVENTIONS.md: a weighted op's output is its module
 * prefix, attention's output the prefix of the module holding q, k and v.
 */
export interface OpTemplate {
  /** Op name, which is also the name of the value it writes (unless `outputs` says otherwise). */
  name: string;
  kind: "dense" | "norm" | "embedding" | "none";
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
  attributes?: Record<string, number | string>;
}

export interface FamilyTemplate {
  id: string;
  /** config.json model_type values that pick this family. */
  modelTypes: string[];
  /** A tensor name that identifies the family: group 1 is the prefix {p}, group 2 a block index. */
  detect: RegExp;
  /** Every tensor of block i starts with this ({p} substituted, then {i}). */
  block: string;
  /** Graph inputs: token ids (not node layers) or float features of the width `widthFrom` gives. */
  inputs: { name: string; dtype: "INT64" | "FLOAT" }[];
  /** For a float input: the tensor whose last dimension is the input's width. */
  widthFrom?: string;
  stem: OpTemplate[];
  body: OpTemplate[];
  head: OpTemplate[];
  /** Graph outputs (the values the family's model class returns). */
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
    op("{b}self_attn", "attention", ["{b}self_attn.q_proj", "{b}self_attn.k_proj", "{b}self_attn.v_proj"]),
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
    op("{b}attn", "attention", ["{b}attn.q", "{b}attn.k", "{b}attn.v"]),
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
    op("{b}attention.self", "attention", ["{b}attention.self.query", "{b}attention.self.key", "{b}attention.self.value"]),
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
    op("{b}self_attn", "attention", ["{b}self_attn.q", "{b}self_attn.k", "{b}self_attn.v"]),
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
    op("{b}attn", "attention", ["{b}attn_q", "{b}attn_k", "{b}attn_v"]),
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

export const FAMILIES: readonly FamilyTemplate[] = [LLAMA, GPT2, BERT, TORCH_ENCODER, LLAMA_GGUF];
