// A Llama decoder read from a Hugging Face state_dict (the llama block template,
// src/formats/shared/state-dict/templates/families.ts) run forward on token ids, against the
// float64 numpy forward pass of test/fixtures/forward/make_llama.py (written from transformers'
// modeling_llama: RMSNorm, rotate_half RoPE, causal GQA attention, SiLU-gated MLP), with
// config.json's rope_theta 500 and rms_norm_eps 1e-5 (not the defaults). And what it refuses.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/analyze.js";
import "../../src/entry/node-core.js";
import { Executor } from "../../src/forward/execute.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { WeightReader } from "../../src/forward/weights.js";
import { buildGraph } from "../../src/graph/build.js";
import { normalizeModel } from "../../src/graph/normalize.js";
import { inferShapes } from "../../src/graph/shapes.js";
import type { NodeLayerReport, Report } from "../../src/report/types.js";
import { filesSource } from "../../src/source/files.js";
import { toByteSource } from "../../src/source/open.js";
import { assertDist, type NeuronDist, type ReferenceDist } from "../helpers/forward-reference.js";

const dir = "test/fixtures/forward/llama";
const ref = JSON.parse(readFileSync(`${dir}/reference.json`, "utf8")) as { shape: [number, number]; vocab: number; argmax: number[][]; logits: number[]; values: Record<string, ReferenceDist> };
const config = JSON.parse(readFileSync(`${dir}/config.json`, "utf8")) as Record<string, unknown>;
const weights = readFileSync(`${dir}/model.safetensors`);
const [N, T] = ref.shape;

function readIds(): Int32Array {
  const npy = readFileSync(`${dir}/ids.npy`);
  const header = npy.readUInt16LE(8);
  assert.match(npy.subarray(10, 10 + header).toString("latin1"), /'descr': '<i4'/);
  return new Int32Array(npy.buffer.slice(npy.byteOffset + 10 + header, npy.byteOffset + npy.length));
}
const ids = readIds();

const source = (cfg?: Record<string, unknown>) => filesSource(new Map<string, Blob>([["model.safetensors", new Blob([weights])], ...(cfg ? [["config.json", new Blob([JSON.stringify(cfg)])] as [string, Blob]] : [])]), "model.safetensors");

type NodeLayerWithData = NodeLayerReport & { neuronStrength?: NeuronDist; neuronActivation?: NeuronDist };

/** The logits [N, T, vocab] of the graph's output, run by the executor the data metrics use. */
async function logits(cfg: Record<string, unknown>): Promise<Float32Array> {
  const src = source(cfg);
  const model = normalizeModel(await inspect(src));
  const graph = buildGraph(model);
  inferShapes(graph, model);
  assert.equal(graph.outputs, ["lm_head"]);
  const memory = await LinearMemory.create();
  const reader = new WeightReader(toByteSource(src), model.tensors);
  const ex = await Executor.prepare(memory, graph, model, reader, new Map([["input_ids", 0]]), new Set(["lm_head"]));
  const input = memory.tensor([N, T]);
  memory.f32(input.ptr, N * T).set(Array.from(ids));
  let out: Float32Array | undefined;
  ex.run(new Map([["input_ids", input]]), (name, t) => {
    if (name === "lm_head") {
      assert.equal(t.shape, [N, T, ref.vocab]);
      out = memory.f32(t.ptr, N * T * ref.vocab).slice();
    }
  });
  ex.dispose();
  await reader.close();
  return out!;
}

function argmaxRows(x: Float32Array, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / width; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (x[r * width + c] > x[r * width + best]) best = c;
    out.push(best);
  }
  return out;
}

test("the logits of every position: numpy's argmax, and each logit within 1e-5 of the logits' largest magnitude", async () => {
  const got = await logits(config);
  assert.equal(argmaxRows(got, ref.vocab), ref.argmax.flat());
  // f32 through two blocks: a logit near 0 keeps an absolute error of about 1e-6, so the bound is relative to the scale of the logits.
  const scale = ref.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.logits[i]));
  assert.ok(worst <= 1e-5 * scale, `largest logit error ${worst.toExponential(2)} beside logits up to ${scale.toFixed(3)}`);
});

test("every node layer's z and a (with perNode) equal numpy's statistics of the value it names", async () => {
  const report = (await analyze(source(config), { perNode: true, inputs: { data: ids, shape: [N, T] } })) as Report & { data?: { samples: number } };
  assert.is(report.data?.samples, N);
  const measured = (report.nodeLayers as NodeLayerWithData[]).filter((n) => n.neuronStrength || n.neuronActivation);
  // 7 node layers a block (q, k, v, attention, o_proj, gate/up, down_proj) x 2 blocks, the embedding, lm_head.
  assert.is(measured.length, 16, report.nodeLayers.map((n) => n.after).join(", "));
  const seen = new Set<string>();
  for (const nl of measured) {
    for (const [key, got] of [["z", nl.neuronStrength], ["a", nl.neuronActivation]] as const) {
      assert.ok(got, `${key} missing on node layer ${nl.index} after ${nl.after}`);
      const want = ref.values[got!.value];
      assert.ok(want, `node layer ${nl.index} measures '${got!.value}', a value the reference does not have`);
      assertDist(got!, want, `node layer ${nl.index} ${key} '${got!.value}'`);
      seen.add(got!.value);
    }
  }
  // The RMS norms, both attentions (RoPE inside), the SiLU-gated products and the logits are among them.
  for (const v of ["model.layers.0.input_layernorm", "model.layers.1.self_attn", "model.layers.1.mlp.product", "model.norm", "lm_head"]) assert.ok(seen.has(v), `${v} not measured`);
});

test("config.json's rope_theta is what the rotation uses: the default base gives other logits", async () => {
  const { rope_theta: _, ...noTheta } = config;
  const got = await logits(noTheta);
  let far = 0;
  for (let i = 0; i < got.length; i++) if (Math.abs(got[i] - ref.logits[i]) > 1e-3 * (1 + Math.abs(ref.logits[i]))) far++;
  assert.ok(far > got.length / 4, `only ${far} of ${got.length} logits moved`);
});

test("refused, not guessed: no config.json, rope_scaling, a type whose blocks differ, another hidden_act, a sliding window", async () => {
  for (const [cfg, pattern] of [
    [undefined, /input_layernorm': it is a root-mean-square norm whose epsilon the reader did not record/],
    [{ ...config, rope_scaling: { rope_type: "llama3", factor: 8 } }, /self_attn': rotary position embeddings \(RoPE\) run only with the rope_theta/],
    [{ ...config, model_type: "gemma" }, /input_layernorm': it is a root-mean-square norm whose epsilon/],
    [{ ...config, hidden_act: "gelu" }, /mlp.act': the op names no activation function/],
    [{ ...config, model_type: "mistral", sliding_window: 4096 }, /self_attn': its sliding window \(config.json's sliding_window, 4096\)/],
  ] as const) {
    const report = (await analyze(source(cfg as Record<string, unknown> | undefined), { inputs: { data: ids, shape: [N, T] } })) as Report;
    const last = (report.nodeLayers as NodeLayerWithData[]).find((n) => n.after === "lm_head");
    assert.ok(last && !last.neuronStrength && !last.neuronActivation, `${JSON.stringify(cfg)?.slice(0, 80)}: lm_head measured`);
    assert.match(report.notes.join("\n"), pattern);
  }
});

test("labels on a language model: no accuracy (a score vector per position), and a note says why", async () => {
  const report = await analyze(source(config), { inputs: { data: ids, shape: [N, T] }, labels: new Array(N).fill(0) });
  assert.is(report.data!.accuracy, undefined);
  assert.ok(report.notes.some((n) => /No accuracy: .* a score vector per position/.test(n)), report.notes.join(" | "));
  assert.ok(report.nodeLayers.some((n) => n.neuronStrength), "the z and a are still measured");
});

test.run();
