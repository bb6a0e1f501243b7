/**
 * Scaled dot-product attention, the op state_dict templates place between the q, k and v
 * projections and the output projection (src/formats/shared/state-dict/templates/families.ts):
 * inputs q [B, S, heads·d], k and v [B, S, kvHeads·d] (or [B, width]: one position), output
 * softmax(q k^T / sqrt(d)) v per head, [B, S, heads·d_v]. Grouped-query attention: k and v have
 * fewer heads, each shared by heads / kvHeads query heads (kvHeads from k's width). Attributes:
 * heads (config.json num_attention_heads, or the layout), causal 0 | 1 (decoder-only families mask
 * later positions), positions "none" | "learned" (added before the projections: nothing to do
 * here) | "rope" | "relative" (inside attention: T5's bias is not run). ONNX exports of
 * nn.MultiheadAttention arrive as MatMul and Softmax ops instead.
 *
 * RoPE (positions "rope", with ropeTheta, which the Llama template records from config.json's
 * rope_theta): q and k are rotated before the scores the way transformers' LlamaRotaryEmbedding
 * and apply_rotary_pos_emb do, rotate-half convention: position p of each sample (0..S-1), pair
 * (i, i + d/2) of each head turned by the angle p · theta^(-2i/d); x' = x·cos + rotate_half(x)·sin.
 * Angles and the rotation in f64, stored f32. Without ropeTheta (a file whose rope_theta, scaling or
 * partial rotation the reader did not vouch for) it stops. A sliding window (attributes.window,
 * Mistral's or Qwen2's sliding_window) is not run.
 */
import type { PrepareOp } from "../types.js";
import { ForwardUnsupported } from "../types.js";

const prepareAttention: PrepareOp = async (op, ctx) => {
  const attrs = op.layer.attributes ?? {};
  const heads = attrs.heads;
  if (typeof heads !== "number" || !Number.isSafeInteger(heads) || heads <= 0) {
    throw new ForwardUnsupported(op, `the number of heads is not known: the layout needs "heads" for this op (config.json's num_attention_heads when it is beside the file)`);
  }
  const rope = attrs.positions === "rope";
  const theta = attrs.ropeTheta;
  if (rope && (typeof theta !== "number" || !(theta > 0) || !Number.isFinite(theta))) {
    throw new ForwardUnsupported(op, "rotary position embeddings (RoPE) run only with the rope_theta the reader records (a Llama, Mistral or Qwen2 state_dict with its config.json and no rope_scaling); this file's RoPE base is not known");
  }
  // A sliding window changes nothing while every sequence fits in it, but the sequence length is known only at run, where a refusal would not stop cleanly.
  if (attrs.window !== undefined) throw new ForwardUnsupported(op, `its sliding window (config.json's sliding_window, ${JSON.stringify(attrs.window)}) masks keys farther back than the window, which the forward pass does not do`);
  if (attrs.positions === "relative") throw new ForwardUnsupported(op, "a relative position bias (T5) acts inside attention and is not run");
  if (attrs.positions !== "none" && attrs.positions !== "learned" && !rope) throw new ForwardUnsupported(op, `how positions enter is not known: the layout needs "positions" ("none", "learned" or "rope")`);
  if (attrs.causal !== 0 && attrs.causal !== 1) throw new ForwardUnsupported(op, `whether later positions are masked is not known: the layout needs "causal" (0 or 1)`);
  const causal = attrs.causal;
  if (op.inputs.length < 3) throw new ForwardUnsupported(op, "attention reads q, k and v");
  const memory = ctx.memory;
  return {
    run(inputs) {
      const [q, k, v] = inputs;
      if (!q || !k || !v || q.constant || k.constant || v.constant) throw new ForwardUnsupported(op, "q, k and v must be data values");
      const rank = q.shape.length;
      if ((rank !== 2 && rank !== 3) || k.shape.length !== rank || v.shape.length !== rank) throw new ForwardUnsupported(op, `q, k and v of shapes ${JSON.stringify([q.shape, k.shape, v.shape])} (expected [batch, positions, width] or [batch, width])`);
      const B = q.shape[0], S = rank === 3 ? q.shape[1] : 1;
      const qw = q.shape[rank - 1], kw = k.shape[rank - 1], vw = v.shape[rank - 1];
      if (k.shape[0] !== B || v.shape[0] !== B || (rank === 3 && (k.shape[1] !== S || v.shape[1] !== S))) throw new ForwardUnsupported(op, `q, k and v of shapes ${JSON.stringify([q.shape, k.shape, v.shape])} differ in batch or positions`);
      const d = qw / heads;
      const kvHeads = kw / d;
      const dv = vw / kvHeads;
      if (!Number.isInteger(d) || !Number.isInteger(kvHeads) || kvHeads <= 0 || heads % kvHeads !== 0 || !Number.isInteger(dv) || (attrs.kvHeads !== undefined && attrs.kvHeads !== kvHeads)) {
        throw new ForwardUnsupported(op, `q of width ${qw}, k of ${kw} and v of ${vw} do not split into ${heads} query heads and a whole number of key/value heads that divides them`);
      }
      if (dv !== d) throw new ForwardUnsupported(op, `value heads of ${dv} values beside query heads of ${d}`);
      if (rope && d % 2 !== 0) throw new ForwardUnsupported(op, `rotary position embeddings need an even head size; the heads here have ${d} values`);
      const out = memory.tensor(rank === 3 ? [B, S, heads * d] : [B, heads * d]);
      const scores = memory.alloc(S);
      // RoPE: rotated copies of q and k (the inputs stay as they are: other ops may read them).
      const qr = rope ? memory.alloc(B * S * qw) : 0;
      const kr = rope ? memory.alloc(B * S * kw) : 0;
      try {
        if (rope) {
          const [cos, sin] = ropeTables(S, d, theta as number);
          rotate(memory.f32(q.ptr, B * S * qw), memory.f32(qr, B * S * qw), B, S, qw, d, cos, sin);
          rotate(memory.f32(k.ptr, B * S * kw), memory.f32(kr, B * S * kw), B, S, kw, d, cos, sin);
        }
        const qp = rope ? qr : q.ptr, kp = rope ? kr : k.ptr;
        const scale = 1 / Math.sqrt(d);
        for (let b = 0; b < B; b++) {
          memory.exports.attention(qp + 4 * b * S * qw, kp + 4 * b * S * kw, v.ptr + 4 * b * S * vw, out.ptr + 4 * b * S * heads * d, S, heads, kvHeads, d, qw, kw, vw, heads * d, causal, scale, scores);
        }
      } finally {
        memory.free(scores);
        if (rope) {
          memory.free(qr);
          memory.free(kr);
        }
      }
      return { outputs: [out] };
    },
  };
};

/** cos and sin of the angles p · theta^(-2i/d), [S, d/2] each, f64 (LlamaRotaryEmbedding's inv_freq and freqs). */
function ropeTables(S: number, d: number, theta: number): [Float64Array, Float64Array] {
  const half = d / 2;
  const cos = new Float64Array(S * half), sin = new Float64Array(S * half);
  for (let i = 0; i < half; i++) {
    const inv = 1 / Math.pow(theta, (2 * i) / d);
    for (let p = 0; p < S; p++) {
      cos[p * half + i] = Math.cos(p * inv);
      sin[p * half + i] = Math.sin(p * inv);
    }
  }
  return [cos, sin];
}

/** x' = x·cos + rotate_half(x)·sin per head of d values (rotate_half(x) = [-x2, x1] of its halves), rows [B, S, width]. */
function rotate(x: Float32Array, out: Float32Array, B: number, S: number, width: number, d: number, cos: Float64Array, sin: Float64Array): void {
  const half = d / 2;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < S; p++) {
      const row = (b * S + p) * width;
      for (let h = 0; h < width; h += d) {
        for (let i = 0; i < half; i++) {
          const c = cos[p * half + i], s = sin[p * half + i];
          const x1 = x[row + h + i], x2 = x[row + h + half + i];
          out[row + h + i] = x1 * c - x2 * s;
          out[row + h + half + i] = x2 * c + x1 * s;
        }
      }
    }
  }
}

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { attention: prepareAttention };
