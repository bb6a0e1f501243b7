// jeffreys-reference (the reference code's KDE "Shannon divergence") against scipy's gaussian_kde,
// written out in test/fixtures/compare/make_jeffreys_reference_vectors.py (no shared vector exists).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jeffreysReference } from "../../src/compare/jeffreys-reference.js";
import { compareFiles } from "../../src/node/compare-files.js";

const vectors = JSON.parse(readFileSync("test/fixtures/compare/jeffreys-reference-vectors.json", "utf8"));
const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

test("raw samples: scipy gaussian_kde (Scott), 1000 grid points over the union range, no grid step (1e-9)", () => {
  for (const c of vectors.samples) {
    const got = jeffreysReference({ points: c.a }, { points: c.b })!;
    assert.ok(rel(got, c.value) < 1e-9, `${c.name}: ${got} vs ${c.value}`);
  }
});

test("counted points equal the same points repeated (the fine-histogram path's sample)", () => {
  for (const c of vectors.counted) {
    const got = jeffreysReference(c.a, c.b)!;
    assert.ok(rel(got, c.value) < 1e-9, `${c.name}: ${got} vs ${c.value}`);
  }
});

test("under two values or no spread: null (scipy refuses a singular covariance)", () => {
  assert.is(jeffreysReference({ points: [1] }, { points: [1, 2] }), null);
  assert.is(jeffreysReference({ points: [2, 2, 2] }, { points: [1, 2] }), null);
});

test("compare, strengths: per-node values are the raw sample, so it matches scipy (1e-9)", async () => {
  const result = await compareFiles([vectors.network.a, vectors.network.b], { metric: "strength", jeffreysReference: true });
  for (const e of result.entries) {
    const want = vectors.network.strength[e.name];
    assert.ok(rel(e.pairs[0].jeffreysReference!, want) < 1e-9, `${e.name}: ${e.pairs[0].jeffreysReference} vs ${want}`);
  }
  assert.ok(result.notes.some((n) => /jeffreys-reference/.test(n)));
});

test("compare, link weights: fine-bucket centres stand in for the raw weights; the error against scipy on the raw weights is stated", async () => {
  const result = await compareFiles([vectors.network.a, vectors.network.b], { metric: "linkWeights", jeffreysReference: true });
  const errors = result.entries.map((e) => rel(e.pairs[0].jeffreysReference!, vectors.network.linkWeights[e.name]));
  console.log(`  jeffreys-reference on fine-bucket centres vs scipy on raw weights, relative error per layer: ${errors.map((x) => x.toExponential(2)).join(", ")}`);
  assert.is(errors.length, 3);
  for (const x of errors) assert.ok(x < 1e-2, `relative error ${x}`);
});

test("CLI: compare --divergence jeffreys-reference adds a J-ref column and CSV rows; another value is refused", () => {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "compare", vectors.network.a, vectors.network.b, "--metric", "strength", "--divergence", "jeffreys-reference", "--csv"], { encoding: "utf8" });
  assert.is(run.status, 0, run.stderr);
  const rows = run.stdout.split("\n").filter((l) => l.includes(",jeffreys_reference,"));
  assert.is(rows.length, 4);
  const input = Number(rows.find((r) => r.includes(",input,"))!.split(",").pop());
  assert.ok(rel(input, vectors.network.strength.input) < 1e-9);
  const bad = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "compare", vectors.network.a, vectors.network.b, "--divergence", "kl"], { encoding: "utf8" });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /^BAD_OPTION: Option --divergence/);
});

test.run();
