// Work splits: the source's chunking never changes a report; blocks of any size agree with one
// block; partial moments of split tensors merge to the one-shot values.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, convertToCnt, mergeMoments, toJSON, type Report } from "../../src/entry/node-core.js";
import { momentsOf } from "../../src/measure/moments.js";
import { assertClose } from "../helpers/close.js";
import { firstDifference } from "../helpers/diff.js";
import { chunkedStream, prng } from "../helpers/sources.js";

const digits = new Uint8Array(readFileSync("models/digits-mlp.safetensors"));

/** Everything but histogram counts (a one-shot stream rebins them) and the size (a stream has none). */
function withoutCounts(report: Report): unknown {
  return JSON.parse(toJSON(report, 0), (key, value) => (key === "counts" || key === "exact" || key === "bytes" || (key === "histogram" && typeof value === "string") ? undefined : value));
}

test("block sizes from 64 bytes to 4 MiB give the same report (to 1e-13; exact fields exactly)", async () => {
  const one = await analyze(digits, { perNode: true });
  for (const blockBytes of [64, 192, 1024, 4096]) {
    const r = await analyze(digits, { perNode: true, blockBytes });
    r.layers.forEach((l, i) => {
      const o = one.layers[i];
      assert.equal(l.linkWeights!.histogram, o.linkWeights!.histogram, `${l.name} histogram at block ${blockBytes}`);
      assert.is(l.linkWeights!.min, o.linkWeights!.min);
      assert.is(l.linkWeights!.max, o.linkWeights!.max);
      assertClose(l.linkWeights!.mean, o.linkWeights!.mean, 1e-13, `${l.name} mean at ${blockBytes}`);
      assertClose(l.linkWeights!.std, o.linkWeights!.std, 1e-13, `${l.name} std at ${blockBytes}`);
    });
    r.nodeLayers.forEach((n, i) => n.perNode!.s.forEach((s, j) => assertClose(s, one.nodeLayers[i].perNode!.s[j], 1e-13, `s[${i}][${j}]`)));
  }
});

test("a Blob and a Uint8Array give the identical report", async () => {
  const a = toJSON(await analyze(digits, { name: "d" }));
  const b = toJSON(await analyze(new Blob([digits]), { name: "d" }));
  assert.is(firstDifference(JSON.parse(b), JSON.parse(a)), null);
});

test("a stream in 1-byte, 7-byte and random chunks gives the memory report; histograms are rebinned", async () => {
  const memory = await analyze(digits, { name: "d" });
  const random = prng(7);
  for (const sizes of [() => 1, () => 7, () => 1 + Math.floor(random() * 5000)]) {
    const r = await analyze(chunkedStream(digits, sizes), { name: "d" });
    assert.is(r.options.histogram, "rebinned");
    assert.is(firstDifference(withoutCounts(r), withoutCounts(memory)), null);
    r.layers.forEach((l, i) => {
      const counts = l.linkWeights!.histogram.counts;
      const exact = memory.layers[i].linkWeights!.histogram.counts;
      assert.is(counts.reduce((a, b) => a + b, 0), l.linkWeights!.count, "rebinned counts keep the total");
      const moved = counts.reduce((a, c, k) => a + Math.abs(c - exact[k]), 0) / 2;
      assert.ok(moved <= 0.05 * l.linkWeights!.count, `${l.name}: ${moved} of ${l.linkWeights!.count} values in another bin`);
    });
  }
});

test("a .cnt file read as a one-shot stream bins exactly, in one pass", async () => {
  const chunks: Uint8Array[] = [];
  for await (const c of convertToCnt(digits, { name: "d" })) chunks.push(c);
  const cnt = new Uint8Array(await new Blob(chunks).arrayBuffer());
  const memory = await analyze(digits, { name: "d" });
  const streamed = await analyze(chunkedStream(cnt, () => 333), { name: "d" });
  assert.is(streamed.options.histogram, "exact");
  assert.is(firstDifference(streamed.layers.map((l) => l.linkWeights), memory.layers.map((l) => l.linkWeights)), null);
  assert.is(firstDifference(streamed.nodeLayers, memory.nodeLayers), null);
});

test("moments of split samples merge to the one-shot moments", () => {
  const random = prng(11);
  const values = Array.from({ length: 10_001 }, () => 1e3 + random() - 0.5);
  values[17] = NaN;
  values[400] = Infinity;
  const whole = momentsOf(values);
  for (const cut of [0, 1, 5000, 10_000]) {
    const merged = mergeMoments(momentsOf(values.slice(0, cut)), momentsOf(values.slice(cut)));
    assert.is(merged.count, whole.count);
    assert.is(merged.min, whole.min);
    assert.is(merged.max, whole.max);
    assert.is(merged.nan, 1);
    assert.is(merged.posInf, 1);
    assertClose(merged.mean, whole.mean, 1e-15, "mean");
    assertClose(merged.m2, whole.m2, 1e-9, "m2");
  }
});

test.run();
