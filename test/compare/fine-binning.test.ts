// compare() on reports made with option fine: each fine histogram is rebinned onto equal bins
// over the range of all reports (one read of each file, so streams compare too). Values here sit
// away from the edges, where rebinning is exact: the counts are the numpy rule worked by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, compare, divergences } from "../../src/entry/node-core.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

const A = [-0.9, -0.3, 0.1, 0.3, 0.9];
const B = [-0.8, -0.7, 0.2, 0.6, 0.9, 0.85];

function countsByHand(values: number[], edges: number[]): number[] {
  const counts = new Array(edges.length - 1).fill(0);
  for (const v of values.map(Math.fround)) {
    let i = 0;
    while (i < counts.length - 1 && v >= edges[i + 1]) i++;
    counts[i]++;
  }
  return counts;
}

test("link weights of reports made with fine compare on edges over both ranges", async () => {
  const report = (values: number[], name: string) => analyze(writeSafetensors([{ name: "w", dtype: "F32", shape: [values.length], data: f32Bytes(values) }]), { fine: true, name });
  const result = compare([await report(A, "a"), await report(B, "b")], { bins: 4 });
  const [e] = result.entries;
  assert.is(e.binning, "fine");
  const lo = Math.fround(-0.9), hi = Math.fround(0.9);
  const edges = [0, 1, 2, 3, 4].map((i) => lo + (i * (hi - lo)) / 4);
  e.edges!.forEach((x, i) => assert.ok(Math.abs(x - edges[i]) < 1e-12, `edge ${i}`));
  assert.equal(e.counts, [countsByHand(A, edges), countsByHand(B, edges)]);
  assert.equal(e.pairs[0].divergences, divergences(edges, countsByHand(A, edges), countsByHand(B, edges)));
});

test("without fine, reports on their own edges stay unshared", async () => {
  const report = (values: number[]) => analyze(writeSafetensors([{ name: "w", dtype: "F32", shape: [values.length], data: f32Bytes(values) }]));
  const result = compare([await report(A), await report(B)], { bins: 4 });
  assert.is(result.entries[0].binning, "unshared");
  assert.is(result.entries[0].pairs[0].divergences, null);
});

test.run();
