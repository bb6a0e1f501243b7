// Real safetensors files written by an independent numpy writer (test/fixtures/make_*.py), each
// with a float64 reference report computed from the spec's definitions.
import { readdirSync, readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { analyzeFile } from "../../src/node/index.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";

const dir = "test/fixtures/safetensors";
const files = readdirSync(dir).filter((f) => f.endsWith(".safetensors")).sort();

test("the fixture set is complete", () => {
  assert.ok(files.length >= 7, `found ${files.length} fixtures`);
});

for (const file of files) {
  test(`${file} matches its float64 reference to 1e-9`, async () => {
    const expected = JSON.parse(readFileSync(`${dir}/${file.replace(".safetensors", ".expected.json")}`, "utf8")) as ExpectedReport;
    const report = await analyze(readFileSync(`${dir}/${file}`), { perNode: true, name: file });
    assert.is(report.source.format, "safetensors");
    assert.is(report.source.name, file);
    assertMatchesExpected(report, expected, 1e-9);
  });
}

test("the shipped digits model matches its float64 reference", async () => {
  const expected = JSON.parse(readFileSync("test/fixtures/digits-mlp.expected.json", "utf8")) as ExpectedReport;
  const report = await analyzeFile("models/digits-mlp.safetensors", { perNode: true });
  assert.is(report.source.bytes, readFileSync("models/digits-mlp.safetensors").byteLength);
  assertMatchesExpected(report, expected, 1e-9);
});

test("non-finite weights are counted, reported in a note, and left out of the statistics", async () => {
  const report = await analyze(readFileSync(`${dir}/mlp-nonfinite.safetensors`));
  const fc2 = report.layers.find((l) => l.name === "fc2")!;
  assert.equal([fc2.linkWeights!.nan, fc2.linkWeights!.posInf, fc2.linkWeights!.negInf], [5, 2, 1]);
  assert.is(fc2.linkWeights!.count, 12 * 16 - 8);
  assert.ok(report.notes.some((n) => n.includes("'fc2'") && n.includes("5 NaN")), report.notes.join("\n"));
  assert.ok(Number.isFinite(report.nodeLayers[1].fluctuation!));
});
test.run();
