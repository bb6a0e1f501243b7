// Option fine: every distribution keeps the fine histogram (non-empty buckets by the top 16 bits
// of the value's f32), which adds up exactly across reports. The expected buckets come from the
// definition, worked in the test with a DataView, never from the kernels.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { denseFine, type FineHistogram } from "../../src/measure/fine-histogram.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

const word = new DataView(new ArrayBuffer(4));
function bucketsOf(values: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const x of values) {
    if (!Number.isFinite(x)) continue;
    word.setFloat32(0, x);
    const b = word.getUint32(0) >>> 16;
    out.set(b, (out.get(b) ?? 0) + 1);
  }
  return out;
}
function asMap(fine: FineHistogram | undefined): Map<number, number> {
  assert.ok(fine, "the distribution has a fine histogram");
  assert.equal([...fine!.buckets], [...fine!.buckets].sort((a, b) => a - b), "buckets ascend");
  return new Map(fine!.buckets.map((b, i) => [b, fine!.counts[i]]));
}

// fc: PyTorch [out = 3, in = 2]; awkward values: -0, a subnormal, NaN and Inf (counted apart).
const W = [0.5, -0.25, -0, 1.5e-45, 3, NaN, Infinity, -2, 0.125].slice(0, 6);
const B = [0.1, -0.2, 0.3];

test("link weights and strengths carry the fine histogram of their values", async () => {
  const file = writeSafetensors([
    { name: "fc.weight", dtype: "F32", shape: [3, 2], data: f32Bytes(W) },
    { name: "fc.bias", dtype: "F32", shape: [3], data: f32Bytes(B) },
  ]);
  const report = await analyze(file, { fine: true });
  const layer = report.layers[0];
  assert.equal(asMap(layer.linkWeights!.fine), bucketsOf(W));
  assert.equal(asMap(layer.bias!.fine), bucketsOf(B.map(Math.fround)));
  // Strengths by hand (spec section 2, boundary unit, bias in; NaN/Inf weights count as 0).
  const w = W.map((x) => (Number.isFinite(x) ? Math.fround(x) : 0));
  const at = (j: number, i: number) => w[j * 2 + i];
  const sIn0 = [1, 1], sOut0 = [0, 1].map((i) => at(0, i) + at(1, i) + at(2, i));
  const sIn1 = [0, 1, 2].map((j) => at(j, 0) + at(j, 1) + Math.fround(B[j])), sOut1 = [1, 1, 1];
  const [input, output] = report.nodeLayers;
  assert.equal(asMap(input.strengthOut.fine), bucketsOf(sOut0));
  assert.equal(asMap(input.strength.fine), bucketsOf(sOut0.map((x, i) => x + sIn0[i])));
  assert.equal(asMap(output.strengthIn.fine), bucketsOf(sIn1));
  assert.equal(asMap(output.strength.fine), bucketsOf(sIn1.map((x, i) => x + sOut1[i])));
});

test("fine histograms of two files add up to the fine histogram of both files' values", async () => {
  const a = [0.5, 0.25, -1, 2, 2.0001];
  const b = [0.5, -3, 7, 1e-3];
  const fineOf = async (values: number[]) => (await analyze(writeSafetensors([{ name: "w", dtype: "F32", shape: [values.length], data: f32Bytes(values) }]), { fine: true })).layers[0].linkWeights!.fine!;
  const [fa, fb] = [await fineOf(a), await fineOf(b)];
  const sum = denseFine(fa).map((n, i) => n + denseFine(fb)[i]);
  const expected = bucketsOf([...a, ...b]);
  const got = new Map<number, number>();
  sum.forEach((n, i) => n > 0 && got.set(i, n));
  assert.equal(got, expected);
});

test("without the option, no distribution carries a fine histogram", async () => {
  const report = await analyze(writeSafetensors([{ name: "fc.weight", dtype: "F32", shape: [3, 2], data: f32Bytes([1, 2, 3, 4, 5, 6]) }]));
  assert.is(report.layers[0].linkWeights!.fine, undefined);
  assert.is(report.nodeLayers[0].strength.fine, undefined);
});

test.run();
