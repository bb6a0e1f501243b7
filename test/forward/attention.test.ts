// The attention op runner (src/forward/ops/attention.ts) against numpy float64 references made by
// test/fixtures/forward/make_recurrent.py (its numpy attention is checked there against torch's
// nn.MultiheadAttention): heads, causal masks, grouped-query heads, odd head sizes, one position.
// And what it refuses: unknown heads, causality or positions, RoPE, T5's relative bias; and the
// attributes the state_dict templates give (causal, positions, heads from config.json).
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import type { PrepareContext, Tensor } from "../../src/forward/types.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import type { GraphOp, ModelGraph } from "../../src/graph/types.js";
import { templateGraph } from "../../src/formats/shared/state-dict/templates/apply.js";
import type { TensorInfo } from "../../src/model/types.js";
import { close, put } from "../helpers/forward-tensors.js";

const fx = JSON.parse(readFileSync("test/fixtures/forward/attention.json", "utf8"));

function context(memory: LinearMemory): PrepareContext {
  const graph = { values: new Map(), ops: [], inputs: [], outputs: [], chain: false, batched: true, notes: [] } as ModelGraph;
  return { memory, graph, channelsLast: false, batchAxis: () => 0, weight: async () => new Float32Array(0), tensorShape: () => undefined };
}

const attentionOp = (attributes: Record<string, number | string>): GraphOp => ({ index: 0, name: "blk.attn", op: "attention", inputs: ["q", "k", "v"], outputs: ["blk.attn"], layer: { name: "blk.attn", kind: "none", attributes: { op: "attention", ...attributes } } });

for (const [n, c] of fx.cases.entries()) {
  test(`case ${n}: ${c.heads} heads, ${c.kvHeads} key/value heads, ${c.causal ? "causal" : "not causal"}, q ${JSON.stringify(c.qShape)}`, async () => {
    const memory = await LinearMemory.create();
    const prepared = await runnerOf("attention")!(attentionOp({ heads: c.heads, causal: c.causal, positions: "learned" }), context(memory));
    const out = prepared.run([put(memory, c.qShape, c.q), put(memory, c.kShape, c.k), put(memory, c.kShape, c.v)]).outputs[0]!;
    assert.equal(out.shape, c.outShape);
    close(memory.f32(out.ptr, c.out.length), c.out, `case ${n}`);
  });
}

test("without the mask, only the last position (which sees every key either way) keeps the causal result", async () => {
  const c = fx.cases[1];
  assert.is(c.causal, 1);
  const memory = await LinearMemory.create();
  const prepared = await runnerOf("attention")!(attentionOp({ heads: c.heads, causal: 0, positions: "learned" }), context(memory));
  const out = prepared.run([put(memory, c.qShape, c.q), put(memory, c.kShape, c.k), put(memory, c.kShape, c.v)]).outputs[0]!;
  const got = memory.f32(out.ptr, c.out.length);
  const [B, S, W] = c.outShape;
  for (let b = 0; b < B; b++) {
    close(got.subarray((b * S + S - 1) * W, (b * S + S) * W), c.out.slice((b * S + S - 1) * W, (b * S + S) * W), `sample ${b} last position`);
    assert.ok(Array.from(got.subarray(b * S * W, (b * S + 1) * W)).some((v, i) => Math.abs(v - c.out[b * S * W + i]) > 1e-3), `sample ${b} first position differs`);
  }
});

test("refused, not guessed: heads, causality and positions unknown; RoPE; T5's relative bias; heads that do not split k", async () => {
  const memory = await LinearMemory.create();
  for (const [attributes, pattern] of [
    [{ causal: 1, positions: "learned" }, /needs "heads"/],
    [{ heads: 2, positions: "learned" }, /needs "causal"/],
    [{ heads: 2, causal: 0 }, /needs "positions"/],
    [{ heads: 2, causal: 1, positions: "rope" }, /RoPE/],
    [{ heads: 2, positions: "relative" }, /relative position bias/],
  ] as const) {
    try {
      await runnerOf("attention")!(attentionOp(attributes), context(memory));
      assert.unreachable(JSON.stringify(attributes));
    } catch (e) {
      assert.instance(e, ForwardUnsupported);
      assert.match((e as Error).message, pattern);
    }
  }
  const prepared = await runnerOf("attention")!(attentionOp({ heads: 4, causal: 0, positions: "none" }), context(memory));
  // q of 8 = 4 heads of 2; k of 6 = 3 key/value heads, which do not divide 4.
  assert.throws(() => prepared.run([put(memory, [1, 2, 8], new Array(16).fill(0)), put(memory, [1, 2, 6], new Array(12).fill(0)), put(memory, [1, 2, 6], new Array(12).fill(0))]), /key\/value heads/);
});

test("state_dict templates give attention its causality, positions, and heads from config.json", () => {
  const t = (name: string, shape: number[]): TensorInfo => ({ name, dtype: "f32", shape, offset: 0, byteLength: 4 * shape.reduce((a, d) => a * d, 1) });
  const gpt2 = [t("h.0.ln_1.weight", [8]), t("h.0.attn.c_attn.weight", [8, 24]), t("h.0.attn.c_attn.bias", [24]), t("h.0.attn.c_proj.weight", [8, 8]), t("wte.weight", [10, 8])];
  const attn = (tensors: TensorInfo[], config?: Record<string, unknown>) => templateGraph(tensors, config)?.layers.find((l) => l.attributes?.op === "attention");
  const g = attn(gpt2, { n_head: 2 });
  assert.equal([g?.attributes?.heads, g?.attributes?.causal, g?.attributes?.positions], [2, 1, "learned"]);
  assert.is(attn(gpt2)?.attributes?.heads, undefined);
  const llama = [t("model.layers.0.self_attn.q_proj.weight", [8, 8]), t("model.layers.0.self_attn.k_proj.weight", [4, 8]), t("model.layers.0.self_attn.v_proj.weight", [4, 8]), t("model.layers.0.self_attn.o_proj.weight", [8, 8])];
  const l = attn(llama, { num_attention_heads: 2 });
  assert.equal([l?.attributes?.heads, l?.attributes?.causal, l?.attributes?.positions], [2, 1, "rope"]);
});

test.run();
