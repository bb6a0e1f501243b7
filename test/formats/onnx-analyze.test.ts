// ONNX tensors whose bytes are not in the model file (external data, typed fields) through analyze() and convert.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, convertToCnt } from "../../src/entry/node-core.js";
import { analyzeFile } from "../../src/node/index.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";
import { assertLite } from "./onnx-support.js";
const dir = "test/fixtures/onnx";
test("external mlp analyzes to the reference report", async () => {
  const expected = JSON.parse(readFileSync(`${dir}/mlp.expected.json`, "utf8")) as ExpectedReport;
  const r = await analyzeFile(`${dir}/external/mlp.onnx`, { perNode: true });
  assertMatchesExpected({ ...r, layers: r.layers.filter((l) => l.kind === "dense") }, expected, 1e-12);
});
test("typed analyzes to the reference distributions; convert round-trips", async () => {
  const expected = JSON.parse(readFileSync(`${dir}/typed.expected.json`, "utf8"));
  const bytes = readFileSync(`${dir}/typed.onnx`);
  const r = await analyze(bytes);
  const byName = new Map(r.layers.map((l) => [l.name, l]));
  for (const e of expected.layers) {
    assertLite(byName.get(e.name)!.linkWeights, e.linkWeights, 1e-12, e.name);
    if (e.bias) assertLite(byName.get(e.name)!.bias, e.bias, 1e-12, e.name + " bias");
  }
  const chunks: Uint8Array[] = [];
  for await (const c of convertToCnt(bytes)) chunks.push(c);
  const back = await analyze(new Blob(chunks));
  for (const e of expected.layers) if (byName.get(e.name)) assertLite(back.layers.find((l) => l.name === e.name)!.linkWeights, e.linkWeights, 1e-12, "cnt " + e.name);
});
test("an ONNX LSTM and GRU analyze: [num_directions, ...] tensors split per direction, strengths from the summed gates", async () => {
  for (const file of ["lstm.onnx", "gru.onnx"]) {
    const r = await analyze(readFileSync(`${dir}/${file}`), { perNode: true });
    const rec = r.layers.filter((l) => ["lstm", "gru"].includes(l.kind));
    assert.ok(rec.length >= 1, file);
    assert.ok(rec.every((l) => l.recurrentWeights && l.recurrentWeights.count > 0), `${file}: recurrent matrices measured`);
    assert.ok(r.nodeLayers.length >= 2, `${file}: node layers (${r.notes.join("; ")})`);
    // The same module's PyTorch state_dict: other gate order, separate directions, two biases.
    const torch = await analyze(readFileSync(`${dir}/${file.replace(".onnx", ".safetensors")}`), { perNode: true });
    assert.is(r.nodeLayers.length, torch.nodeLayers.length);
    r.nodeLayers.forEach((n, i) => {
      const t = torch.nodeLayers[i];
      assert.is(n.size, t.size);
      n.perNode!.s.forEach((s, j) => assert.ok(Math.abs(s - t.perNode!.s[j]) <= 1e-12 * Math.max(1, Math.abs(s)), `${file} node layer ${i} node ${j}: ${s} vs ${t.perNode!.s[j]}`));
    });
  }
});

test.run();
