// Block templates whose state_dicts fuse projections or route experts (spec metrics.md 1b
// "Selections", 1c): a Phi-3 decoder (fused qkv_proj, gate_up_proj) against its Llama twin holding
// the same numbers unfused, which must give the same node layers node for node; the per-model
// float64 references are test/fixtures/graph/statedict/{phi3,vit,mixtral,qwen2-moe}.expected.json
// (make_statedict_fixtures.py, checked in graph-references.test.ts).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { analyzeFile } from "../../src/node/index.js";
import { filesSource } from "../../src/source/files.js";
import type { Report } from "../../src/report/types.js";

const dir = "test/fixtures/graph/statedict";

/** Node layers as plain numbers; the unfused twin's q, k and v layers concatenated as the fused layer lists them. */
function layers(report: Report, joinQkv: boolean) {
  const out: { size: number; sIn: number[]; sOut: number[] }[] = [];
  for (let i = 0; i < report.nodeLayers.length; i++) {
    const n = report.nodeLayers[i];
    if (joinQkv && n.values.some((v) => v.endsWith("self_attn.q_proj"))) {
      const [q, k, v] = report.nodeLayers.slice(i, i + 3);
      out.push({ size: q.size + k.size + v.size, sIn: [q, k, v].flatMap((l) => [...l.perNode!.sIn]), sOut: [q, k, v].flatMap((l) => [...l.perNode!.sOut]) });
      i += 2;
      continue;
    }
    out.push({ size: n.size, sIn: [...n.perNode!.sIn], sOut: [...n.perNode!.sOut] });
  }
  return out;
}

test("Phi-3's fused qkv_proj and gate_up_proj give the node layers of the same numbers unfused under Llama's names, node for node", async () => {
  const fused = await analyzeFile(`${dir}/phi3/model.safetensors`, { perNode: true });
  const twin = await analyzeFile(`${dir}/phi3-as-llama/model.safetensors`, { perNode: true });
  const a = layers(fused, false), b = layers(twin, true);
  assert.is(a.length, b.length, "as many node layers");
  a.forEach((l, i) => {
    assert.is(l.size, b[i].size, `layer ${i} size`);
    // The same float64 sums in another order: equal to the last bits or nearly.
    l.sIn.forEach((x, k) => assert.ok(Math.abs(x - b[i].sIn[k]) <= 1e-12 * Math.max(1, Math.abs(x)), `layer ${i} sIn[${k}] ${x} vs ${b[i].sIn[k]}`));
    l.sOut.forEach((x, k) => assert.ok(Math.abs(x - b[i].sOut[k]) <= 1e-12 * Math.max(1, Math.abs(x)), `layer ${i} sOut[${k}] ${x} vs ${b[i].sOut[k]}`));
  });
  const product = fused.nodeLayers.find((n) => n.values.includes("model.layers.0.mlp.gate_up_proj"))!;
  assert.is(product.size, 24, "the product has intermediate_size nodes, not the projection's 48");
  assert.ok(product.values.includes("model.layers.0.mlp.product"), product.values.join(", "));
  assert.is(fused.coverage.inStrengths, fused.coverage.weightedLayers);
});

test("Phi-3 without config.json: recognised by qkv_proj's name, q as wide as o_proj reads (GQA from shapes)", async () => {
  const weights = new Blob([readFileSync(`${dir}/phi3/model.safetensors`)]);
  const byNames = await analyze(filesSource(new Map([["model.safetensors", weights]]), "model.safetensors"), { perNode: true });
  const withConfig = await analyzeFile(`${dir}/phi3/model.safetensors`, { perNode: true });
  assert.ok(byNames.notes.some((n) => n.includes("phi3 block template, picked by its tensor names")), byNames.notes.join(" | "));
  assert.equal(byNames.nodeLayers.map((n) => [n.size, n.strength.mean]), withConfig.nodeLayers.map((n) => [n.size, n.strength.mean]));
});

test("Phi-3 whose config.json heads disagree with the shapes: a note, and the shapes decide the q, k, v split", async () => {
  const weights = new Blob([readFileSync(`${dir}/phi3/model.safetensors`)]);
  const config = { ...JSON.parse(readFileSync(`${dir}/phi3/config.json`, "utf8")), num_key_value_heads: 4 };
  const report = await analyze(filesSource(new Map([["model.safetensors", weights], ["config.json", new Blob([JSON.stringify(config)])]]), "model.safetensors"), { perNode: true });
  assert.ok(report.notes.some((n) => n.includes("do not match the shapes")), report.notes.join(" | "));
  assert.is(report.coverage.inStrengths, report.coverage.weightedLayers);
});

test("MoE templates: experts counted from the file, every expert's down projection in one node layer with the residual sum", async () => {
  const mixtral = await analyzeFile(`${dir}/mixtral/model.safetensors`, { perNode: true });
  const sum = mixtral.nodeLayers.find((n) => n.values.includes("model.layers.0.block_sparse_moe.experts.2.w2"))!;
  assert.ok(sum.values.includes("model.layers.0.block_sparse_moe.experts.0.w2") && sum.values.includes("model.layers.0.mlp_residual"), sum.values.join(", "));
  const router = mixtral.nodeLayers.find((n) => n.values.includes("model.layers.0.block_sparse_moe.gate"))!;
  assert.is(router.size, 3, "the router's logits over 3 experts");
  // Mixtral without config.json: the block_sparse_moe names pick the family, not Llama's.
  const weights = new Blob([readFileSync(`${dir}/mixtral/model.safetensors`)]);
  const byNames = await analyze(filesSource(new Map([["model.safetensors", weights]]), "model.safetensors"));
  assert.ok(byNames.notes.some((n) => n.includes("mixtral block template, picked by its tensor names")), byNames.notes.join(" | "));
  assert.is(byNames.coverage.inStrengths, byNames.coverage.weightedLayers);
});

test("ViT: the patch conv's input is one patch of C*p*p pixels (c, y, x); cls_token and position_embeddings are distributions only", async () => {
  const report = await analyzeFile(`${dir}/vit/model.safetensors`, { perNode: true });
  const pixels = report.nodeLayers.find((n) => n.values.includes("pixel_values"))!;
  assert.is(pixels.size, 3 * 4 * 4);
  const patch = report.layers.find((l) => l.name === "vit.embeddings.patch_embeddings.projection")!;
  assert.ok(patch, "the patch embedding is a layer");
  for (const t of ["vit.embeddings.cls_token", "vit.embeddings.position_embeddings"]) assert.ok(report.layers.some((l) => Object.values(l.tensors).includes(t)), `${t} as a distribution`);
});

test.run();
