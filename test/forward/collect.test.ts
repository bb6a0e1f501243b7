// Per-node statistics over batches (src/forward/collect.ts) against the definitions computed in
// float64 over the whole sample at once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import "../../src/entry/node-setup.js";
import { addBatch, CollectScratch, emptyAccumulator, mergeNeuronPartials, neuronDistribution, partialOf } from "../../src/forward/collect.js";
import { LinearMemory } from "../../src/forward/memory.js";

const close = (a: number, b: number, rel = 1e-12) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

/** rows x nodes values with a spread of magnitudes, negatives and a constant node. */
function sample(rows: number, nodes: number): Float32Array {
  const x = new Float32Array(rows * nodes);
  for (let i = 0; i < rows; i++) for (let j = 0; j < nodes; j++) x[i * nodes + j] = j === 2 ? 0.75 : Math.fround(Math.sin(i * 1.7 + j * 0.3) * (j + 1) * 10 ** ((j % 3) - 1));
  return x;
}

test("batches of 3, 1 and 7 rows give each node's mean and std of all 11 rows, and the layer's over all values", async () => {
  const memory = await LinearMemory.create();
  const scratch = new CollectScratch(memory);
  const rows = 11, nodes = 5;
  const x = sample(rows, nodes);
  const partial = emptyAccumulator("v", nodes);
  // Value node k is layer node map[k].
  const map = Int32Array.from([4, 0, 1, 3, 2]);
  let at = 0;
  for (const n of [3, 1, 7]) {
    const t = memory.tensor([n, nodes]);
    memory.f32(t.ptr, n * nodes).set(x.subarray(at * nodes, (at + n) * nodes));
    addBatch(memory, scratch, partial, t.ptr, n, nodes, map);
    memory.free(t.ptr);
    at += n;
  }
  const d = neuronDistribution(partialOf(partial), 4, true);
  for (let k = 0; k < nodes; k++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += x[i * nodes + k];
    const mean = s / rows;
    let q = 0;
    for (let i = 0; i < rows; i++) q += (x[i * nodes + k] - mean) ** 2;
    assert.ok(close(d.perNode!.mean[map[k]], mean), `node ${map[k]} mean`);
    assert.ok(close(d.perNode!.std[map[k]], Math.sqrt(q / rows), 1e-10), `node ${map[k]} std`);
  }
  const all = Array.from(x);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  assert.is(d.count, rows * nodes);
  assert.ok(close(d.mean!, mean), "layer mean");
  assert.ok(close(d.std!, std, 1e-10), "layer std");
  assert.is(d.min, Math.min(...all));
  assert.is(d.max, Math.max(...all));
  assert.is(d.histogram.counts.reduce((a, b) => a + b, 0), rows * nodes, "every value binned once");
  // Bin by bin against numpy's rule (edges over [min, max], last bin closed); values near an edge may move by one bin (rebinned).
  const edges = d.histogram.edges!;
  const expected = new Array(4).fill(0);
  for (const v of all) expected[Math.min(3, Math.floor(((v - edges[0]) / (edges[4] - edges[0])) * 4))]++;
  assert.ok(d.histogram.counts.every((c, i) => Math.abs(c - expected[i]) <= 1), `${d.histogram.counts} vs ${expected}`);
  assert.is(d.histogram.exact, false);
});

test("two partials of disjoint samples merge to the partial of all of them", async () => {
  const memory = await LinearMemory.create();
  const scratch = new CollectScratch(memory);
  const x = sample(9, 3);
  const one = (from: number, to: number) => {
    const p = emptyAccumulator("v", 3);
    const t = memory.tensor([to - from, 3]);
    memory.f32(t.ptr, (to - from) * 3).set(x.subarray(from * 3, to * 3));
    addBatch(memory, scratch, p, t.ptr, to - from, 3, undefined);
    return partialOf(p);
  };
  const merged = neuronDistribution(mergeNeuronPartials(one(0, 4), one(4, 9)), 8, true);
  const whole = neuronDistribution(one(0, 9), 8, true);
  for (let j = 0; j < 3; j++) {
    assert.ok(close(merged.perNode!.mean[j], whole.perNode!.mean[j]));
    assert.ok(close(merged.perNode!.std[j], whole.perNode!.std[j], 1e-10));
  }
  assert.equal(merged.histogram.counts, whole.histogram.counts, "fine histograms add exactly");
  assert.is(merged.count, whole.count);
});

test("non-finite values are counted apart and leave mean and std null", async () => {
  const memory = await LinearMemory.create();
  const scratch = new CollectScratch(memory);
  const p = emptyAccumulator("v", 2);
  const t = memory.tensor([3, 2]);
  memory.f32(t.ptr, 6).set([1, NaN, 2, Infinity, -Infinity, 4]);
  addBatch(memory, scratch, p, t.ptr, 3, 2, undefined);
  const d = neuronDistribution(partialOf(p), 4, false);
  assert.equal([d.nan, d.posInf, d.negInf, d.count], [1, 1, 1, 3]);
  assert.is(d.mean, null);
  assert.equal([d.min, d.max], [1, 4]);
  assert.is(d.histogram.counts.reduce((a, b) => a + b, 0), 3, "only the finite values are binned");
});

test.run();
