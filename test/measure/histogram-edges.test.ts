// Histograms of awkward samples: constants too large to widen by 0.5, ranges wider than a double.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { uniformEdges, isUniformSpan } from "../../src/measure/histogram.js";
import { f32Bytes, f64Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

test("a constant of magnitude 1e16 lands in one bin, with ascending edges", async () => {
  const c = Math.fround(1e16);
  const edges = uniformEdges(c, c, 3);
  assert.ok(edges[0] < c && c < edges[3], `edges ${Array.from(edges)}`);
  const report = await analyze(writeSafetensors([{ name: "w", dtype: "F32", shape: [5], data: f32Bytes([c, c, c, c, c]) }]), { bins: 3 });
  const h = report.layers[0].linkWeights!.histogram;
  assert.is(h.counts.reduce((a, b) => a + b, 0), 5);
  assert.is(h.counts.filter((n) => n > 0).length, 1);
});

test("a range wider than the largest double bins every value", async () => {
  const values = [-1.7e308, 0, 1.7e308, 1e308, -1e308];
  const edges = uniformEdges(-1.7e308, 1.7e308, 4);
  assert.ok(edges.every(Number.isFinite), `edges ${Array.from(edges)}`);
  assert.not.ok(isUniformSpan(edges));
  const report = await analyze(writeSafetensors([{ name: "w", dtype: "F64", shape: [5], data: f64Bytes(values) }]), { bins: 4 });
  const d = report.layers[0].linkWeights!;
  assert.equal(d.histogram.counts, countsOf(values, edges));
  assert.is(d.count, 5);
});

function countsOf(values: number[], edges: Float64Array): number[] {
  const counts = new Array(edges.length - 1).fill(0);
  for (const x of values) {
    let i = 0;
    while (i < edges.length - 2 && x >= edges[i + 1]) i++;
    counts[i]++;
  }
  return counts;
}

test.run();
