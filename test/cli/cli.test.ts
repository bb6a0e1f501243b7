// The command line as a user runs it: the built CLI in a child process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const model = "models/digits-mlp.safetensors";
const tmp = mkdtempSync(join(tmpdir(), "cntscope-cli-"));

test("analyze prints a table of layers and node layers", () => {
  const r = cntscope("analyze", model);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Layers \(link weights\)/);
  assert.match(r.stdout, /Node layers/);
  assert.match(r.stdout, /fluctuation/);
  assert.is(r.stdout.split("\n").filter((l) => /^\d+\s+\d+\s+dense/.test(l)).length, 3);
});

test("analyze --json --per-node prints the report, equal to the float64 reference", () => {
  const r = cntscope("analyze", model, "--json", "--per-node");
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.is(report.source.format, "safetensors");
  assert.equal(report.options.bins, 64);
  const expected = JSON.parse(readFileSync("test/fixtures/digits-mlp.expected.json", "utf8")) as ExpectedReport;
  assertMatchesExpected(report, expected, 1e-9);
});

test("--bins, --bias ignore and --boundary zero change what they should", () => {
  const r = JSON.parse(cntscope("analyze", model, "--json", "--bins", "8", "--bias", "ignore", "--boundary=zero").stdout);
  assert.is(r.options.bins, 8);
  assert.is(r.layers[0].linkWeights.histogram.counts.length, 8);
  assert.is(r.nodeLayers[0].strengthIn.mean, 0, "inputs get s_in = 0");
  assert.is(r.nodeLayers[3].strengthOut.mean, 0, "outputs get s_out = 0");
  const withBias = JSON.parse(cntscope("analyze", model, "--json", "--per-node").stdout);
  const bias = withBias.layers[2].bias;
  const shift = withBias.nodeLayers[3].strengthIn.mean - r.nodeLayers[3].strengthIn.mean;
  assert.ok(Math.abs(shift - bias.mean) < 1e-12, "bias in adds the mean bias to the mean s_in");
});

test("convert writes a .cnt that analyzes to the same report", () => {
  const out = join(tmp, "digits.cnt");
  const c = cntscope("convert", model, out);
  assert.is(c.code, 0, c.stderr);
  const a = JSON.parse(cntscope("analyze", model, "--json").stdout);
  const b = JSON.parse(cntscope("analyze", out, "--json").stdout);
  assert.is(b.source.format, "cnt");
  assert.equal(b.layers.map((l: { linkWeights: unknown }) => l.linkWeights), a.layers.map((l: { linkWeights: unknown }) => l.linkWeights));
  assert.equal(b.nodeLayers, a.nodeLayers);
});

test("info lists layers and tensors without metrics", () => {
  const r = cntscope("info", model);
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.layers.map((l: { name: string }) => l.name), ["0", "2", "4"]);
  assert.equal(info.tensors.find((t: { name: string }) => t.name === "0.weight").shape, [32, 64]);
});

test("bad input: CODE: message on stderr, exit 2, no stack", () => {
  const bad = join(tmp, "bad.safetensors");
  writeFileSync(bad, readFileSync(model).subarray(0, 500));
  const r = cntscope("analyze", bad);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^TRUNCATED: /);
  assert.not.match(r.stderr, /\n\s+at /);
  const html = join(tmp, "page.safetensors");
  writeFileSync(html, "<!doctype html><html>404</html>");
  const h = cntscope("analyze", html);
  assert.is(h.code, 2);
  assert.match(h.stderr, /^BAD_MAGIC: .*HTML/);
  const missing = cntscope("analyze", join(tmp, "nope.safetensors"));
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
  const flag = cntscope("analyze", model, "--bogus");
  assert.is(flag.code, 2);
  assert.match(flag.stderr, /Unknown option --bogus/);
  const bins = cntscope("analyze", model, "--bins", "0");
  assert.is(bins.code, 2);
  assert.match(bins.stderr, /^BAD_OPTION: Option bins/);
});

test.run();
