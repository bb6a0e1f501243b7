// The graph stage (build the graph, infer shapes and axis roles, walk it into node layers) against
// the measuring of the same model's bytes and a copy of them, in the same run: the graph work is
// O(ops + nodes), so it must cost no more than reading the bytes. Cases: the largest fixture
// (a torchvision resnet18 exported to ONNX) and Llama-style state_dicts of 100, 200 and 400 blocks
// with their config.json, built here in memory: the graph stage's time per block at 200 and 400
// blocks against 100 blocks' (same run) says whether it stays linear.
import { readFileSync } from "node:fs";
import { Bench } from "tinybench";
// The Node entry sets the wasm loader (read from disk) for the kernels used below.
import "../src/entry/node-core.js";
import { openModel } from "../src/analyze.js";
import { Kernels } from "../src/kernels/kernels.js";
import { measureTensors } from "../src/measure/measure.js";
import { tensorPlans } from "../src/measure/plan.js";
import type { ModelInfo } from "../src/model/types.js";
import { resolveOptions } from "../src/options.js";
import { filesSource } from "../src/source/files.js";
import { memorySource } from "../src/source/memory.js";
import type { ByteSource } from "../src/source/types.js";
import { nodeStrengths } from "../src/strengths/walk.js";
import { writeSafetensors } from "../test/helpers/safetensors-writer.js";

export interface GraphBenchResult {
  case: string;
  bytes: number;
  ops: number;
  nodes: number;
  /** Open + graph + walk, the measuring pass, and a copy of the file's bytes, each in ms (median). */
  openMs: number;
  graphMs: number;
  measureMs: number;
  copyMs: number;
  graphOfMeasure: number;
  graphOfCopy: number;
  /** Llama-style cases: the blocks, and the graph stage's time per block over the 100-block case's (same run). */
  blocks?: number;
  perBlockOf100?: number;
}

/** A Llama-style decoder of `blocks` blocks (hidden 64, intermediate 172, GQA 4/2 heads, vocab 512), f32, with its config.json. */
export function llamaFiles(blocks: number): Map<string, Uint8Array> {
  const d = 64, inter = 172, kv = 32, vocab = 512;
  const shapes: [string, number[]][] = [["model.embed_tokens.weight", [vocab, d]]];
  for (let i = 0; i < blocks; i++) {
    const b = `model.layers.${i}.`;
    shapes.push([`${b}input_layernorm.weight`, [d]], [`${b}self_attn.q_proj.weight`, [d, d]], [`${b}self_attn.k_proj.weight`, [kv, d]], [`${b}self_attn.v_proj.weight`, [kv, d]], [`${b}self_attn.o_proj.weight`, [d, d]]);
    shapes.push([`${b}post_attention_layernorm.weight`, [d]], [`${b}mlp.gate_proj.weight`, [inter, d]], [`${b}mlp.up_proj.weight`, [inter, d]], [`${b}mlp.down_proj.weight`, [d, inter]]);
  }
  shapes.push(["model.norm.weight", [d]], ["lm_head.weight", [vocab, d]]);
  // Small pseudo-random weights: the values do not change the graph work, only the measuring.
  let seed = 12345;
  const tensors = shapes.map(([name, shape]) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;
    return { name, dtype: "F32" as const, shape, data: new Uint8Array(values.buffer) };
  });
  const file = writeSafetensors(tensors);
  const config = { model_type: "llama", architectures: ["LlamaForCausalLM"], hidden_size: d, intermediate_size: inter, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: blocks, vocab_size: vocab, tie_word_embeddings: false };
  return new Map([["model.safetensors", file], ["config.json", new TextEncoder().encode(JSON.stringify(config))]]);
}

async function benchOne(name: string, source: () => ByteSource, bytes: Uint8Array): Promise<GraphBenchResult> {
  const options = resolveOptions({});
  const kernels = await Kernels.create();
  const open = async () => {
    const s = source();
    try {
      return await openModel(s, options.limits);
    } finally {
      await s.close();
    }
  };
  const model: ModelInfo = await open();
  const s = source();
  const summaries = await measureTensors({ kernels, source: s, options }, model, tensorPlans(model, options.limits));
  await s.close();
  const walk = () => nodeStrengths(kernels, model, summaries, options);
  const result = walk();
  const copy = new Uint8Array(bytes.byteLength);
  const bench = new Bench({ time: 1500, warmup: true });
  bench
    .add("open", async () => void (await open()))
    .add("graph", () => void walk())
    .add("measure", async () => {
      const m = source();
      await measureTensors({ kernels, source: m, options }, model, tensorPlans(model, options.limits));
      await m.close();
    })
    .add("copy", () => copy.set(bytes));
  await bench.run();
  const ms = (task: string) => (bench.tasks.find((t) => t.name === task)!.result as { latency: { p50: number } }).latency.p50;
  return {
    case: name,
    bytes: bytes.byteLength,
    ops: model.layers.length,
    nodes: result.layers.reduce((a, l) => a + l.s.length, 0),
    openMs: ms("open"),
    graphMs: ms("graph"),
    measureMs: ms("measure"),
    copyMs: ms("copy"),
    graphOfMeasure: ms("graph") / ms("measure"),
    graphOfCopy: ms("graph") / ms("copy"),
  };
}

export async function benchGraph(): Promise<GraphBenchResult[]> {
  const resnet = new Uint8Array(readFileSync("test/fixtures/graph/onnx/resnet18.onnx"));
  const results = [await benchOne("resnet18.onnx (f16)", () => memorySource(resnet, "resnet18.onnx"), resnet)];
  for (const blocks of [100, 200, 400]) {
    const llama = llamaFiles(blocks);
    const blobs = new Map([...llama].map(([k, v]) => [k, new Blob([v as Uint8Array<ArrayBuffer>])]));
    const r = await benchOne(`Llama-style, ${blocks} blocks, with config.json`, () => filesSource(blobs, "model.safetensors"), llama.get("model.safetensors")!);
    const base = results.find((x) => x.blocks === 100);
    results.push({ ...r, blocks, perBlockOf100: base ? r.graphMs / blocks / (base.graphMs / 100) : 1 });
  }
  return results;
}

export function formatGraph(r: GraphBenchResult): string {
  const f = (x: number) => x.toFixed(2);
  return `graph ${r.case}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.ops} layers, ${r.nodes.toLocaleString("en-US")} nodes in node layers\n` +
    `  open (read the description) ${f(r.openMs)} ms; graph + shapes + roles + walk ${f(r.graphMs)} ms; measuring the tensors ${f(r.measureMs)} ms; copy of the bytes ${f(r.copyMs)} ms\n` +
    `  graph stage = ${f(r.graphOfMeasure)} of the measuring, ${f(r.graphOfCopy)}x a copy of the file's bytes` +
    (r.blocks ? `\n  graph stage per block ${(r.graphMs / r.blocks).toFixed(3)} ms, ${f(r.perBlockOf100!)}x the 100-block case's (same run; 1.00 is linear)` : "");
}

if (import.meta.url === `file://${process.argv[1]}`) for (const r of await benchGraph()) console.log(formatGraph(r));
