// Graphs that are not chains (spec metrics.md 1b, 1c) against float64 references written by hand
// per model in numpy (test/fixtures/graph/make_onnx_exports.py: PyTorch ONNX exports;
// make_statedict_fixtures.py: state_dicts with and without config.json), never by this code.
// Rules the references follow: test/fixtures/graph/CONVENTIONS.md. Each model also goes through
// .cnt (convert keeps the graph) and must give the same report.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile, fileSource } from "../../src/node/index.js";
import { analyze } from "../../src/entry/node-core.js";
import { convertToCnt } from "../../src/convert.js";
import type { NodeLayerReport, Report } from "../../src/report/types.js";
import { assertClose } from "../helpers/close.js";

interface Stats { count?: number; mean: number; std: number; min: number; max: number }
interface ExpectedNodeLayer { value: string; size: number; s: Stats; sIn: Stats; sOut: Stats; fluctuation: number; perNode?: { s: number[]; sIn: number[]; sOut: number[] } }
interface Expected {
  file: string;
  options: Record<string, unknown>;
  tensors: Record<string, Stats & { count: number }>;
  weightedLayers: number;
  nodeLayerCount: number | null;
  nodeLayers: ExpectedNodeLayer[];
  why: string;
}

const REL = 1e-9;
/** Absolute floor: sums near 0 are compared to 1e-12. */
const FLOOR = 1e-3;

function fixtures(folder: string): { name: string; path: string; expected: Expected }[] {
  const dir = join("test/fixtures/graph", folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".expected.json"))
    .map((f) => {
      const expected = JSON.parse(readFileSync(join(dir, f), "utf8")) as Expected;
      return { name: f.replace(".expected.json", ""), path: join(dir, expected.file), expected };
    });
}

function findLayer(report: Report, value: string): NodeLayerReport | undefined {
  return report.nodeLayers.find((n) => n.values.includes(value));
}

function sortedPairs(s: ArrayLike<number>, sIn: ArrayLike<number>): [number, number][] {
  return Array.from(s, (x, i) => [x, sIn[i]] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Compare one node layer: statistics always; every node's values in order when the reference lists them. */
function checkNodeLayer(report: Report, e: ExpectedNodeLayer, what: string): void {
  const n = findLayer(report, e.value);
  assert.ok(n, `${what}: no node layer holds value '${e.value}' (node layers: ${report.nodeLayers.map((l) => `${l.after}[${l.size}]`).join(", ")}; notes: ${report.notes.join(" | ")})`);
  assert.is(n!.size, e.size, `${what}: size`);
  for (const [key, d] of [["s", n!.strength], ["sIn", n!.strengthIn], ["sOut", n!.strengthOut]] as const) {
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(d[k], e[key][k], REL, `${what} ${key} ${k}`, FLOOR);
  }
  assertClose(n!.fluctuation, e.fluctuation, REL, `${what} fluctuation`, FLOOR);
  if (e.perNode && n!.perNode) {
    // In the reference's node order (the named value's); where a class is listed in another of its values' order, as a multiset of (s, s_in) pairs.
    const same = e.perNode.s.every((x, i) => Math.abs(n!.perNode!.s[i] - x) <= REL * Math.max(Math.abs(x), FLOOR));
    if (same) {
      e.perNode.sIn.forEach((x, i) => assertClose(n!.perNode!.sIn[i], x, REL, `${what} sIn[${i}]`, FLOOR));
    } else {
      const got = sortedPairs(n!.perNode.s, n!.perNode.sIn), want = sortedPairs(e.perNode.s, e.perNode.sIn);
      want.forEach(([s, sIn], i) => {
        assertClose(got[i][0], s, REL, `${what} sorted s[${i}]`, FLOOR);
        assertClose(got[i][1], sIn, REL, `${what} sorted sIn[${i}]`, FLOOR);
      });
    }
  }
}

function checkReport(report: Report, expected: Expected, name: string): void {
  for (const [tensor, e] of Object.entries(expected.tensors)) {
    const layer = report.layers.find((l) => Object.values(l.tensors).includes(tensor));
    if (!layer) continue; // constants that are not weights (Clip bounds) are listed by the reference only
    const role = Object.entries(layer.tensors).find(([, t]) => t === tensor)![0];
    const d = role === "weight" ? layer.linkWeights : role === "bias" ? layer.bias : role === "recurrentWeight" ? layer.recurrentWeights : layer.recurrentBias;
    assert.ok(d, `${name}: ${tensor}`);
    assert.is(d!.count, e.count, `${name}: ${tensor} count`);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(d![k], e[k], 1e-9, `${name}: ${tensor} ${k}`, FLOOR);
  }
  assert.is(report.coverage.weightedLayers, expected.weightedLayers, `${name}: weighted layers`);
  if (expected.nodeLayerCount !== null) assert.is(report.nodeLayers.length, expected.nodeLayerCount, `${name}: node layers (${report.nodeLayers.map((l) => `${l.after}[${l.size}]`).join(", ")}; notes: ${report.notes.join(" | ")})`);
  expected.nodeLayers.forEach((e, i) => checkNodeLayer(report, e, `${name} node layer ${i} (${e.value})`));
  assert.is(report.coverage.inStrengths, expected.weightedLayers, `${name}: every weighted layer's links are in the strengths (${report.notes.join(" | ")})`);
}

for (const folder of ["onnx", "statedict"]) {
  for (const { name, path, expected } of fixtures(folder)) {
    test(`${folder} ${name}: node layers follow the data flow and match the float64 reference`, async () => {
      const report = await analyzeFile(path, { perNode: true, ...expected.options });
      checkReport(report, expected, name);
      // Node layers are listed in data-flow order: every reference layer after the ones it follows.
      const order = expected.nodeLayers.map((e) => report.nodeLayers.indexOf(findLayer(report, e.value)!));
      assert.equal(order, [...order].sort((a, b) => a - b), `${name}: node layers in data-flow order`);
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
