// Reports against the float64 references of the graph fixtures (test/fixtures/graph/CONVENTIONS.md):
// node layers found by the name of a value they hold, every statistic and node to 1e-9.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as assert from "uvu/assert";
import type { NodeLayerReport, Report } from "../../src/report/types.js";
import { assertClose } from "./close.js";

interface Stats { count?: number; mean: number; std: number; min: number; max: number }
export interface ExpectedNodeLayer { value: string; size: number; s: Stats; sIn: Stats; sOut: Stats; fluctuation: number; perNode?: { s: number[]; sIn: number[]; sOut: number[] } }
export interface Expected {
  file: string;
  options: Record<string, unknown>;
  tensors: Record<string, Stats & { count: number }>;
  weightedLayers: number;
  nodeLayerCount: number | null;
  nodeLayers: ExpectedNodeLayer[];
  why: string;
}

export const REL = 1e-9;
/** Absolute floor: sums near 0 are compared to 1e-12. */
export const FLOOR = 1e-3;

/** Every `<name>.expected.json` of a fixture folder, with the path of its model file. */
export function expectedFixtures(dir: string): { name: string; path: string; expected: Expected }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".expected.json"))
    .map((f) => {
      const expected = JSON.parse(readFileSync(join(dir, f), "utf8")) as Expected;
      return { name: f.replace(".expected.json", ""), path: join(dir, expected.file), expected };
    });
}

export const describe = (report: Report) => `node layers: ${report.nodeLayers.map((l) => `${l.after}[${l.size}]`).join(", ")}; notes: ${report.notes.join(" | ")}`;

export function findLayer(report: Report, value: string): NodeLayerReport | undefined {
  return report.nodeLayers.find((n) => n.values.includes(value));
}

/** One node layer: its size, statistics and, where the reference lists them, every node in the named value's order. */
export function checkNodeLayer(report: Report, e: ExpectedNodeLayer, what: string): void {
  const n = findLayer(report, e.value);
  assert.ok(n, `${what}: no node layer holds value '${e.value}' (${describe(report)})`);
  assert.is(n!.size, e.size, `${what}: size`);
  for (const [key, d] of [["s", n!.strength], ["sIn", n!.strengthIn], ["sOut", n!.strengthOut]] as const) {
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(d[k], e[key][k], REL, `${what} ${key} ${k}`, FLOOR);
  }
  assertClose(n!.fluctuation, e.fluctuation, REL, `${what} fluctuation`, FLOOR);
  if (e.perNode) {
    assert.ok(n!.perNode, `${what}: perNode`);
    for (const key of ["s", "sIn", "sOut"] as const) e.perNode[key].forEach((x, i) => assertClose(n!.perNode![key][i], x, REL, `${what} ${key}[${i}]`, FLOOR));
  }
}

/** A whole report: every tensor's distribution, every weighted layer's links in the strengths, the node layers in data-flow order. */
export function checkReport(report: Report, expected: Expected, name: string): void {
  let compared = 0;
  for (const [tensor, e] of Object.entries(expected.tensors)) {
    // ONNX recurrent tensors stacked by direction: the whole tensor has an entry of its own besides the directions' (src/graph/normalize.ts).
    const layer = report.layers.find((l) => Object.values(l.tensors).includes(tensor));
    assert.ok(layer, `${name}: no layer reads ${tensor}`);
    compared++;
    const role = Object.entries(layer!.tensors).find(([, t]) => t === tensor)![0];
    const d = role === "weight" ? layer!.linkWeights : role === "bias" ? layer!.bias : role === "recurrentWeight" ? layer!.recurrentWeights : layer!.recurrentBias;
    assert.ok(d, `${name}: ${tensor}`);
    assert.is(d!.count, e.count, `${name}: ${tensor} count`);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(d![k], e[k], REL, `${name}: ${tensor} ${k}`, FLOOR);
  }
  assert.ok(compared > 0, `${name}: distributions compared`);
  assert.is(report.coverage.weightedLayers, expected.weightedLayers, `${name}: weighted layers`);
  assert.is(report.coverage.inStrengths, expected.weightedLayers, `${name}: every weighted layer's links are in the strengths (${describe(report)})`);
  if (expected.nodeLayerCount !== null) assert.is(report.nodeLayers.length, expected.nodeLayerCount, `${name}: node layer count (${describe(report)})`);
  expected.nodeLayers.forEach((e, i) => checkNodeLayer(report, e, `${name} node layer ${i} (${e.value})`));
  const order = expected.nodeLayers.map((e) => report.nodeLayers.indexOf(findLayer(report, e.value)!));
  assert.equal(order, [...order].sort((a, b) => a - b), `${name}: node layers in data-flow order`);
}
