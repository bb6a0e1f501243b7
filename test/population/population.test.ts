// population() on the test population (24 tanh MLPs on digits, test/fixtures/population): every
// number against expected.json, which expected_population.py computes with numpy/scipy from the
// safetensors files and the definitions (never from cntscope's output).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CntError } from "../../src/errors.js";
import { populationFiles, populationPartials } from "../../src/node/population-files.js";
import { populationOutputs } from "../../src/population/outputs.js";
import { readPartial, type NetworkPartial } from "../../src/population/partial.js";
import { population, type PopulationResult } from "../../src/population/population.js";

const DIR = "test/fixtures/population";
const LABELS = `${DIR}/labels.csv`;
const BIN = { column: "accuracy", edges: [0, 0.25, 0.7, 0.9, 0.975, 1] };
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8"));

let partials: NetworkPartial[];
let result: PopulationResult;

function close(got: number | null | undefined, want: number | null, tol: number, what: string) {
  if (want === null) return assert.ok(got === null || got === undefined, `${what}: expected none, got ${got}`);
  assert.ok(typeof got === "number", `${what}: got ${got}`);
  assert.ok(Math.abs(got! - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
}

test.before(async () => {
  partials = await populationPartials([DIR], { labels: LABELS });
  result = population(partials, { bin: BIN });
});

test("groups: the accuracy bins, low to high, named as ranges", () => {
  assert.equal(result.groups.map((g) => g.name), ["0.00–0.25", "0.25–0.70", "0.70–0.90", "0.900–0.975", "0.975–1.000"]);
  assert.equal(result.groups.map((g) => g.files), expected.groups);
  assert.equal(result.networks.map((n) => n.file), expected.files);
  assert.equal(result.layers, ["input", "0", "2", "4"]);
});

test("networks: link-weight mean and std, mean s, fluctuation and cv per network and layer (1e-9)", () => {
  for (const n of result.networks) {
    for (const [layer, metrics] of Object.entries(expected.networks[n.file] as Record<string, Record<string, number>>)) {
      for (const [metric, want] of Object.entries(metrics)) close(n.values[layer][metric as "cv"], want, 1e-9, `${n.file} ${layer} ${metric}`);
    }
  }
});

test("groups.csv numbers: mean, sd (ddof 1), median per group, layer and metric", () => {
  assert.is(result.groupStats.length, expected.groupStats.length);
  for (const want of expected.groupStats) {
    const got = result.groupStats.find((s) => s.group === want.group && s.layer === want.layer && s.metric === want.metric)!;
    assert.is(got.n, want.n);
    close(got.mean, want.mean, 1e-9, `mean ${want.layer} ${want.metric}`);
    close(got.sd, want.sd, 1e-9, `sd ${want.layer} ${want.metric}`);
    close(got.median, want.median, 1e-9, `median ${want.layer} ${want.metric}`);
  }
});

test("pooled: moments by Chan's formula, counts on shared edges from the merged fine histograms", () => {
  assert.is(result.pooled.length, expected.pooled.length);
  for (const want of expected.pooled) {
    const got = result.pooled.find((p) => p.layer === want.layer && p.metric === want.metric)!;
    assert.is(got.exact, false);
    got.edges.forEach((e, i) => close(e, want.edges[i], 1e-12, `edge ${i}`));
    got.groups.forEach((g, k) => {
      assert.equal(g.counts, want.counts[k], `${want.metric} ${want.layer} group ${k}`);
      assert.is(g.moments.count, want.moments[k].count);
      for (const m of ["mean", "std", "min", "max"] as const) close(g.moments[m], want.moments[k][m], 1e-9, `${want.metric} ${want.layer} ${m}`);
    });
  }
  // Each network's fluctuation, per group.
  const input = result.fluctuations.find((f) => f.layer === "input")!;
  input.groups.forEach((g, k) => g.forEach((v, j) => close(v, expected.networks[expected.groups[k][j]].input.fluctuation, 1e-9, "fluctuation list")));
});

test("divergence matrices between groups and the within-group half-split baseline", () => {
  for (const want of expected.divergences) {
    const got = result.divergences.find((d) => d.layer === want.layer && d.metric === want.metric)!;
    for (const kind of ["kl", "jeffreys", "jensenShannon", "wasserstein"] as const) {
      want.matrices[kind].forEach((row: number[], a: number) => row.forEach((v, b) => close(got.matrices[kind][a][b], v, 1e-9, `${want.metric} ${want.layer} ${kind}[${a}][${b}]`)));
      want.within[kind].forEach((v: number | null, g: number) => close(got.within[kind][g], v, 1e-9, `${want.metric} ${want.layer} within ${kind} ${g}`));
    }
  }
});

test("separation: Spearman against accuracy, Cohen's d of neighbours, leave-one-out nearest centroid", () => {
  for (const want of expected.separation) {
    const got = result.separation.find((s) => s.metric === want.metric && s.layer === want.layer)!;
    assert.ok(got, `${want.metric} ${want.layer}`);
    assert.equal(got.loo.confusion, want.loo.confusion, `${want.metric} ${want.layer} confusion`);
    close(got.loo.accuracy, want.loo.accuracy, 1e-12, "loo accuracy");
    if (want.layer === "*") continue;
    close(got.spearman!.rho, want.spearman, 1e-9, `${want.metric} ${want.layer} spearman`);
    want.cohenD.forEach((d: number | null, k: number) => close(got.cohenD[k].d, d, 1e-9, `${want.metric} ${want.layer} cohen ${k}`));
  }
});

test("the paper's claim shows: layer fluctuation rises with the accuracy bin (Spearman > 0 in the reference and here)", () => {
  for (const s of result.separation.filter((s) => s.metric === "fluctuation" && s.layer !== "*")) {
    const want = expected.separation.find((e: { metric: string; layer: string }) => e.metric === "fluctuation" && e.layer === s.layer);
    assert.ok(want.spearman > 0.5, `reference ${s.layer}: ${want.spearman}`);
    assert.ok(s.spearman!.rho! > 0.5, `${s.layer}: ${s.spearman!.rho}`);
  }
});

test("a pure function of the partials: any order, or partials through JSON, gives the same bytes", () => {
  const shuffledOrder = [...partials].reverse();
  const viaJson = shuffledOrder.map((p) => readPartial(JSON.stringify(p), p.file));
  const again = population(viaJson, { bin: BIN });
  assert.equal(populationOutputs(again), populationOutputs(result));
});

test("--sample N --seed S draws the reference's networks (mulberry32, Fisher-Yates over the sorted files)", () => {
  const sampled = population(partials, { bin: BIN, sample: 10, seed: 7 });
  assert.equal(sampled.networks.map((n) => n.file), expected.sample.files);
  assert.match(sampled.notes[0], /Sampled 10 of 24 networks \(seed 7\)/);
});

test("populationFiles on two threads, and with --sample drawn before reading, gives the same bytes as one thread", async () => {
  const threads = await populationFiles([DIR], { labels: LABELS, bin: BIN, workers: 2 });
  assert.equal(populationOutputs(threads), populationOutputs(result));
  const sampled = await populationFiles([DIR], { labels: LABELS, bin: BIN, sample: 10, seed: 7 });
  assert.equal(populationOutputs(sampled), populationOutputs(population(partials, { bin: BIN, sample: 10, seed: 7 })));
});

test("group-by a label; no grouping; a bad option", () => {
  const bySteps = population(partials, { groupBy: "steps" });
  assert.equal(bySteps.groups.map((g) => g.name), ["0", "3", "10", "30", "80", "600"], "numeric values in numeric order");
  assert.is(bySteps.separation.find((s) => s.metric === "fluctuation" && s.layer === "0")!.spearman!.against, "steps");
  assert.equal(population(partials).groups.map((g) => g.name), ["all"]);
  try {
    population(partials, { bin: BIN, groupBy: "seed" });
    assert.unreachable();
  } catch (e) {
    assert.is((e as CntError).code, "BAD_OPTION");
  }
});

test("readPartial: BAD_PARTIAL naming the file and the field", () => {
  const bad = JSON.parse(JSON.stringify(partials[0]));
  bad.report.layers[0].linkWeights.fine.counts[0] = -1;
  for (const [json, phrase] of [[bad, /linkWeights\.fine\.counts\[0\]/], ["{", /not JSON/], [{ partial: 9 }, /version/]] as const) {
    try {
      readPartial(typeof json === "string" ? json : JSON.stringify(json), "parts/x.json");
      assert.unreachable();
    } catch (e) {
      assert.is((e as CntError).code, "BAD_PARTIAL");
      assert.match((e as Error).message, /parts\/x\.json/);
      assert.match((e as Error).message, phrase);
    }
  }
});

test("CLI: cntscope population writes the tables, --json prints the summary", () => {
  const out = mkdtempSync(join(tmpdir(), "cnt-pop-"));
  try {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "population", DIR, "--labels", LABELS, "--bin", "accuracy:0,.25,.7,.9,.975,1", "-o", out, "--json"], { encoding: "utf8" });
    assert.is(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.is(summary.networks, 24);
    assert.equal(summary.groups.map((g: { n: number }) => g.n), expected.groups.map((g: string[]) => g.length));
    const files = readdirSync(out).sort();
    for (const f of ["report.html", "networks.csv", "groups.csv", "pooled.json", "separation.csv", "divergence-linkWeights-0.csv", "divergence-strength-input.csv"]) assert.ok(files.includes(f), f);
    assert.is(readFileSync(join(out, "networks.csv"), "utf8"), populationOutputs(result)["networks.csv"]);
    assert.is(readFileSync(join(out, "separation.csv"), "utf8"), populationOutputs(result)["separation.csv"]);
    const bad = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "population", DIR, "--bin", "accuracy:1,0"], { encoding: "utf8" });
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /^BAD_OPTION: /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
