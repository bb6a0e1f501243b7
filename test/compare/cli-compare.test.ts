// cntscope compare as a user runs it: the CLI in a child process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const model = "models/digits-mlp.safetensors";
const tmp = mkdtempSync(join(tmpdir(), "cntscope-cli-compare-"));
// The same model with every weight doubled (exact in f32): the safetensors data section scaled in place.
const doubled = join(tmp, "doubled.safetensors");
{
  const bytes = Buffer.from(readFileSync(model));
  const n = Number(bytes.readBigUInt64LE(0));
  const data = new Float32Array(bytes.buffer, bytes.byteOffset + 8 + n, (bytes.length - 8 - n) / 4);
  for (let i = 0; i < data.length; i++) data[i] *= 2;
  writeFileSync(doubled, bytes);
}

test("compare prints a table: one row per layer, a legend stating the epsilon and units", () => {
  const r = cntscope("compare", model, doubled);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Compare linkWeights of 2 models/);
  assert.match(r.stdout, /KL\(a\|\|b\)\s+KL\(b\|\|a\)\s+Jeffreys\s+JS bits\s+W1/);
  assert.is(r.stdout.split("\n").filter((l) => /^[024]\s+name\s+1-2\s/.test(l)).length, 3);
  assert.match(r.stdout, /1e-10 added to every bin's probability/);
});

test("compare --json parses; --metric strength compares the four node layers", () => {
  const r = cntscope("compare", model, doubled, "--json", "--metric", "strength", "--bins", "16");
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.is(result.metric, "strength");
  assert.is(result.entries.length, 4);
  assert.is(result.entries[0].edges.length, 17);
  assert.ok(result.entries.every((e: { pairs: { divergences: { jensenShannon: number } }[] }) => e.pairs[0].divergences.jensenShannon > 0));
});

test("compare --csv: the header and one row per layer and divergence", () => {
  const r = cntscope("compare", model, doubled, "--csv");
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.is(lines[0], "metric,kind,layer,matched_by,binning,model_a,model_b,divergence,value");
  assert.is(lines.length, 1 + 3 * 5);
  assert.ok(lines.slice(1).every((l) => l.split(",").length === 9 && Number.isFinite(Number(l.split(",")[8]))));
});

test("compare errors: one file, unknown metric, --json with --csv", () => {
  const one = cntscope("compare", model);
  assert.is(one.code, 2);
  assert.match(one.stderr, /^BAD_OPTION: cntscope compare needs two or more model files/);
  const metric = cntscope("compare", model, model, "--metric", "bias");
  assert.is(metric.code, 2);
  assert.match(metric.stderr, /^BAD_OPTION: Option --metric must be/);
  const both = cntscope("compare", model, model, "--json", "--csv");
  assert.is(both.code, 2);
  assert.match(both.stderr, /^BAD_OPTION: /);
});

test.run();
