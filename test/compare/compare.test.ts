// compare() and compareFiles() on the bundled MLP, against itself and against a scaled copy,
// with expected divergences from an independent float64 implementation of the definitions.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile, compare, compareFiles } from "../../src/node/index.js";
import type { CompareResult } from "../../src/compare/compare.js";
import { f32Bytes, writeSafetensors, type TestTensor } from "../helpers/safetensors-writer.js";

const model = "models/digits-mlp.safetensors";
const tmp = mkdtempSync(join(tmpdir(), "cntscope-compare-"));

/** The bundled model's tensors as float64 values, read from the file directly. */
function tensors(): { name: string; shape: number[]; values: Float32Array }[] {
  const bytes = readFileSync(model);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  return Object.entries(header).filter(([k]) => k !== "__metadata__").map(([name, t]) => {
    const raw = bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    return { name, shape: t.shape, values: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) };
  });
}

function writeModel(file: string, scale: number, rename?: (name: string) => string): string {
  const list: TestTensor[] = tensors().map((t) => ({ name: rename ? rename(t.name) : t.name, dtype: "F32", shape: t.shape, data: f32Bytes(Array.from(t.values, (v) => v * scale)) }));
  const path = join(tmp, file);
  writeFileSync(path, writeSafetensors(list));
  return path;
}

// ---- independent float64 reference of the definitions (docs/metrics.md section 4) ----
function linspace(lo: number, hi: number, bins: number): number[] {
  const step = (hi - lo) / bins;
  const e = Array.from({ length: bins + 1 }, (_, i) => lo + i * step);
  e[bins] = hi;
  return e;
}
function histogram(values: ArrayLike<number>, edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const x of Array.from(values)) {
    if (x < edges[0] || x > edges[edges.length - 1]) continue;
    let i = edges.findIndex((e, k) => k > 0 && x < e) - 1;
    if (i < 0) i = counts.length - 1; // x == last edge
    counts[i]++;
  }
  return counts;
}
function reference(edges: number[], a: number[], b: number[]) {
  const norm = (c: number[]) => { const s = c.reduce((x, y) => x + y, 0); return c.map((v) => v / s); };
  const smooth = (p: number[]) => { const s = p.reduce((x, y) => x + y + 1e-10, 0); return p.map((v) => (v + 1e-10) / s); };
  const p = norm(a), q = norm(b), ps = smooth(p), qs = smooth(q);
  const kl = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * Math.log(v / y[i]), 0);
  const m = p.map((v, i) => (v + q[i]) / 2);
  const h = (x: number[]) => x.reduce((s, v, i) => s + (v > 0 ? v * Math.log2(v / m[i]) : 0), 0);
  const centres = edges.slice(1).map((e, i) => (e + edges[i]) / 2);
  let w = 0, F = 0, G = 0;
  for (let i = 0; i + 1 < centres.length; i++) { F += p[i]; G += q[i]; w += Math.abs(F - G) * (centres[i + 1] - centres[i]); }
  return { klAB: kl(ps, qs), klBA: kl(qs, ps), jeffreys: kl(ps, qs) + kl(qs, ps), jensenShannon: (h(p) + h(q)) / 2, wasserstein: w };
}
function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 + 1e-9 * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}
function checkAgainstReference(result: CompareResult): void {
  for (const e of result.entries) {
    assert.ok(e.edges && e.counts, `${e.name} has shared edges`);
    for (const p of e.pairs) {
      const want = reference(e.edges!, e.counts![p.a], e.counts![p.b]);
      for (const k of Object.keys(want) as (keyof typeof want)[]) close(p.divergences![k], want[k], `${e.name} ${p.a}-${p.b} ${k}`);
    }
  }
}

test("a model compared with itself: every divergence and difference is 0", async () => {
  for (const metric of ["linkWeights", "strength", "strengthIn", "strengthOut"] as const) {
    const r = await compareFiles([model, model], { metric });
    assert.is(r.entries.length, metric === "linkWeights" ? 3 : 4, metric);
    for (const e of r.entries) {
      assert.is(e.matchedBy, "name");
      for (const p of e.pairs) {
        for (const v of Object.values(p.divergences!)) assert.is(v, 0, `${metric} ${e.name}`);
        assert.is(p.meanDiff, 0);
        assert.is(p.stdDiff, 0);
      }
    }
  }
});

test("link weights scaled by 1.5: shared edges over both ranges, counts and divergences equal the reference", async () => {
  const scaled = writeModel("scaled.safetensors", 1.5);
  const r = await compareFiles([model, scaled], { bins: 32 });
  assert.is(r.entries.length, 3);
  const raw = tensors();
  for (const e of r.entries) {
    assert.is(e.binning, "shared");
    const a = raw.find((t) => t.name === `${e.name}.weight`)!.values;
    const b = Float32Array.from(a, (v) => v * 1.5);
    const all = [...a, ...b];
    const edges = linspace(Math.min(...all), Math.max(...all), 32);
    assert.equal(e.edges, edges, `${e.name}: 32 equal bins over the union range`);
    assert.equal(e.counts, [histogram(a, edges), histogram(b, edges)], `${e.name}: counts`);
    const p = e.pairs[0];
    assert.ok(p.divergences!.jeffreys > 0 && p.divergences!.wasserstein > 0);
    const std = (v: ArrayLike<number>) => { const x = Array.from(v); const m = x.reduce((s, y) => s + y, 0) / x.length; return Math.sqrt(x.reduce((s, y) => s + (y - m) ** 2, 0) / x.length); };
    assert.ok(Math.abs(p.stdDiff! - (std(b) - std(a))) <= 1e-9 * std(a), `${e.name}: std difference ${p.stdDiff} vs ${std(b) - std(a)}`);
  }
  checkAgainstReference(r);
});

test("strengths of the scaled model: per-node values binned on shared edges equal the reference", async () => {
  const scaled = writeModel("scaled-s.safetensors", 1.5);
  const r = await compareFiles([model, scaled], { metric: "strength", bins: 16 });
  const a = await analyzeFile(model, { perNode: true });
  const b = await analyzeFile(scaled, { perNode: true });
  assert.is(r.entries.length, 4);
  r.entries.forEach((e, i) => {
    const va = a.nodeLayers[i].perNode!.s, vb = b.nodeLayers[i].perNode!.s;
    const all = [...va, ...vb];
    const edges = linspace(Math.min(...all), Math.max(...all), 16);
    assert.is(e.binning, "perNode", "the reports' own strength edges differ, so compare bins the node values");
    assert.equal(e.edges, edges);
    assert.equal(e.counts, [histogram(va, edges), histogram(vb, edges)]);
    const pair = e.pairs[0];
    close(pair.fluctuationDiff!, b.nodeLayers[i].fluctuation! - a.nodeLayers[i].fluctuation!, "fluctuation difference");
    close(pair.cvDiff!, b.nodeLayers[i].cv! - a.nodeLayers[i].cv!, "cv difference");
  });
  checkAgainstReference(r);
});

test("three models: a matrix per layer; renamed layers match by position", async () => {
  const scaled = writeModel("scaled3.safetensors", 1.5);
  const renamed = writeModel("renamed.safetensors", 0.5, (n) => n.replace(/^(\d)\./, "fc$1."));
  const r = await compareFiles([model, scaled, renamed]);
  assert.is(r.entries.length, 3);
  for (const e of r.entries) {
    assert.is(e.matchedBy, "position");
    assert.is(e.pairs.length, 3);
    const m = e.matrices!;
    for (const p of e.pairs) {
      assert.is(m.kl[p.a][p.b], p.divergences!.klAB);
      assert.is(m.kl[p.b][p.a], p.divergences!.klBA);
      assert.is(m.jensenShannon[p.a][p.b], m.jensenShannon[p.b][p.a]);
    }
    assert.is(m.wasserstein[1][1], 0);
  }
  checkAgainstReference(r);
});

test("compare() of reports on different edges: not compared, said so", async () => {
  const a = await analyzeFile(model);
  const b = await analyzeFile(writeModel("scaled-u.safetensors", 2));
  const r = compare([a, b]);
  assert.ok(r.entries.every((e) => e.binning === "unshared" && e.pairs[0].divergences === null));
  assert.match(r.notes.join(" "), /different edges/);
  try {
    compare([a]);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, "BAD_OPTION");
  }
});

test("option tensorEdges: one set of edges for one tensor; bad edges and a bad metric are BAD_OPTION", async () => {
  const r = await analyzeFile(model, { tensorEdges: { "2.weight": [-1, 0, 1] } });
  assert.equal(r.layers[1].linkWeights!.histogram.edges, [-1, 0, 1]);
  assert.equal(r.layers[1].linkWeights!.histogram.counts, histogram(tensors().find((t) => t.name === "2.weight")!.values, [-1, 0, 1]), "values outside the edges are left out, as numpy does");
  assert.is(r.layers[0].linkWeights!.histogram.counts.length, 64, "other tensors keep their own bins");
  assert.is(r.options.histogram, "edges", "the report says some histograms use the caller's edges");
  for (const bad of [{ "2.weight": [1, 0] }, { "2.weight": [0] }, { "2.weight": [0, NaN] }, [] as unknown as Record<string, number[]>]) {
    try {
      await analyzeFile(model, { tensorEdges: bad });
      assert.unreachable(JSON.stringify(bad));
    } catch (e) {
      assert.is((e as { code?: string }).code, "BAD_OPTION", JSON.stringify(bad));
    }
  }
  try {
    await compareFiles([model, model], { metric: "bias" as never });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, "BAD_OPTION");
  }
});

test.run();
