// Graphs that are not chains (spec metrics.md 1b, 1c) against float64 references written by hand
// per model in numpy (test/fixtures/graph/make_onnx_exports.py: PyTorch ONNX exports;
// make_statedict_fixtures.py: state_dicts with and without config.json), never by this code.
// Rules the references follow: test/fixtures/graph/CONVENTIONS.md. Each model also goes through
// .cnt (convert keeps the graph) and must give the same report.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile, fileSource } from "../../src/node/index.js";
import { analyze } from "../../src/entry/node-core.js";
import { convertToCnt } from "../../src/convert.js";
import { filesSource } from "../../src/source/files.js";
import { assertClose } from "../helpers/close.js";
import { checkNodeLayer, checkReport, expectedFixtures, findLayer, FLOOR, REL, type Expected } from "../helpers/graph-expected.js";

const fixtures = (folder: string) => expectedFixtures(join("test/fixtures/graph", folder));

for (const folder of ["onnx", "statedict"]) {
  for (const { name, path, expected } of fixtures(folder)) {
    test(`${folder} ${name}: node layers follow the data flow and match the float64 reference`, async () => {
      const report = await analyzeFile(path, { perNode: true, ...expected.options });
      checkReport(report, expected, name);
    });
  }
}

test('skip "none": a skip connection adds no unit links; every other link is the same', async () => {
  const expected = JSON.parse(readFileSync("test/fixtures/graph/onnx/res-block.expected.json", "utf8")) as Expected;
  const report = await analyzeFile("test/fixtures/graph/onnx/res-block.onnx", { perNode: true, skip: "none" });
  assert.is(report.options.skip, "none");
  const x = findLayer(report, "/c0/Conv_output_0")!, y = findLayer(report, "/Add_output_0")!;
  const ex = expected.nodeLayers.find((n) => n.value === "/c0/Conv_output_0")!, ey = expected.nodeLayers.find((n) => n.value === "/Add_output_0")!;
  // x loses its unit link out, the Add's nodes their unit link in: one less per node.
  ex.perNode!.sOut.forEach((v, i) => assertClose(x.perNode!.sOut[i], v - 1, REL, `x sOut[${i}]`, FLOOR));
  ey.perNode!.sIn.forEach((v, i) => assertClose(y.perNode!.sIn[i], v - 1, REL, `y sIn[${i}]`, FLOOR));
  ey.perNode!.sOut.forEach((v, i) => assertClose(y.perNode!.sOut[i], v, REL, `y sOut[${i}]`, FLOOR));
});

test("GPT-2 LM head: tied to wte by Hugging Face's default when config.json names GPT2LMHeadModel; a note when a file holds no head", async () => {
  const dir = "test/fixtures/graph/statedict/gpt2";
  const weights = new Blob([readFileSync(`${dir}/model.safetensors`)]);
  const config = (extra: object) => new Blob([JSON.stringify({ ...JSON.parse(readFileSync(`${dir}/config.json`, "utf8")), ...extra })]);
  const lm = await analyze(filesSource(new Map([["model.safetensors", weights], ["config.json", config({ architectures: ["GPT2LMHeadModel"] })]]), "model.safetensors"));
  const head = lm.layers.find((l) => l.name === "lm_head")!;
  assert.is(head.tensors.weight, "wte.weight", "the embedding matrix read a second time");
  assert.is(lm.coverage.weightedLayers, 9);
  assert.is(lm.nodeLayers[lm.nodeLayers.length - 1].size, 28, "the logits over the vocabulary");
  const base = await analyzeFile(`${dir}/model.safetensors`);
  assert.not.ok(base.layers.some((l) => l.name === "lm_head"));
  assert.ok(base.notes.some((n) => n.includes("no lm_head.weight")), base.notes.join(" | "));
});

test("a conv input of symbolic size without inputShape: a report with every distribution, the node layers it can place and a note (never an error)", async () => {
  const report = await analyzeFile("test/fixtures/graph/onnx/res-block-symbolic.onnx", { perNode: true });
  assert.is(report.layers.filter((l) => l.linkWeights).length, 4, "every weight's distribution");
  assert.ok(report.notes.some((n) => /inputShape/.test(n) && /unknown size/.test(n)), report.notes.join(" | "));
  assert.ok(report.coverage.inStrengths < report.coverage.weightedLayers, "coverage says the walk is partial");
  assert.is(report.coverage.weightedLayers, 4);
  // The pooled features and the head do not depend on the map's size: they are placed.
  const expected = JSON.parse(readFileSync("test/fixtures/graph/onnx/res-block-symbolic.expected.json", "utf8")) as Expected;
  for (const e of expected.nodeLayers.filter((n) => n.value === "/GlobalAveragePool_output_0" || n.value === "output")) checkNodeLayer(report, e, `symbolic ${e.value}`);
  assert.not.ok(report.nodeLayers.some((n) => n.values.includes("/c0/Conv_output_0")), "no node layer with part of its links");
});

for (const { name, path, expected } of [...fixtures("onnx"), ...fixtures("statedict")]) {
  test(`${path.includes("statedict") ? "statedict" : "onnx"} ${name}: the same report after convert to .cnt (the graph is kept)`, async () => {
    const chunks: Uint8Array[] = [];
    // Through the file path, so files beside it (config.json) are read as analyze reads them.
    for await (const c of convertToCnt(await fileSource(path))) chunks.push(c);
    const cnt = new Uint8Array(Buffer.concat(chunks));
    const report = await analyze(cnt, { perNode: true, name: `${name}.cnt`, ...expected.options });
    checkReport(report, expected, `${name}.cnt`);
  });
}

test.run();
