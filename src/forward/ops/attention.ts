/**
 * Scaled dot-product attention, the op state_dict templates place between the q, k and v
 * projections and the output projection (src/formats/shared/state-dict/templates/families.ts):
 * inputs q [B, S, heads·d], k and v [B, S, kvHeads·d] (or [B, width]: one position), output
 * softmax(q k^T / sqrt(d)) v per head, [B, S, heads·d_v]. Grouped-query attention: k and v have
 * fewer heads, each shared by heads / kvHeads query heads (kvHeads from k's width). Attributes:
 * heads (config.json num_attention_heads, or the layout), causal 0 | 1 (decoder-only families mask
 * later positions), positions "none" | "learned" (added before the projections: nothing to do
 * here) | "rope" | "relative" (inside attention: not run). ONNX exports of nn.MultiheadAttention
 * arrive as MatMul and Softmax ops instead.
 */
import type { PrepareOp } from "../types.js";
import { ForwardUnsupported } from "../types.js";

const prepareAttention: PrepareOp = async (op, ctx) => {
  const attrs = op.layer.attributes ?? {};
  const heads = attrs.heads;
  if (typeof heads !== "number" || !Number.isSafeInteger(heads) || heads <= 0) {
    throw new ForwardUnsupported(op, `the number of heads is not known: the layout needs "heads" for this op (config.json's num_attention_heads when it is beside the file)`);
  }
  if (attrs.positions === "rope") throw new ForwardUnsupported(op, "rotary position embeddings (RoPE) act inside attention and are not run");
  if (attrs.positions === "relative") throw new ForwardUnsupported(op, "a relative position bias (T5) acts inside attention and is not run");
  if (attrs.positions !== "none" && attrs.positions !== "learned") throw new ForwardUnsupported(op, `how positions enter is not known: the layout needs "positions" ("none" or "learned"; "rope" is not run)`);
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
      const out = memory.tensor(rank === 3 ? [B, S, heads * d] : [B, heads * d]);
      const scores = memory.alloc(S);
      try {
        const scale = 1 / Math.sqrt(d);
        for (let b = 0; b < B; b++) {
          memory.exports.attention(q.ptr + 4 * b * S * qw, k.ptr + 4 * b * S * kw, v.ptr + 4 * b * S * vw, out.ptr + 4 * b * S * heads * d, S, heads, kvHeads, d, qw, kw, vw, heads * d, causal, scale, scores);
        }
      } finally {
        memory.free(scores);
      }
      return { outputs: [out] };
    },
  };
};

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { attention: prepareAttention };
