/**
 * The fine histogram of a strength vector (fineOfValues) is made by sorting for short vectors
 * (a population's per-file cost) and through a dense histogram for long ones: both must give the
 * definition's buckets, counted here value by value: bucket = top 16 bits of the value's nearest
 * f32, finite values only, ascending buckets.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fineOfValues } from "../../src/measure/fine-histogram.js";

function byDefinition(values: ArrayLike<number>): { buckets: number[]; counts: number[] } {
  const word = new DataView(new ArrayBuffer(4));
  const counts = new Map<number, number>();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    word.setFloat32(0, values[i]);
    const bucket = word.getUint32(0) >>> 16;
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  const buckets = [...counts.keys()].sort((a, b) => a - b);
  return { buckets, counts: buckets.map((b) => counts.get(b)!) };
}

function seeded(n: number, seed: number, scale: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return out;
}

test("short vectors (sorted) and long ones (dense) give the definition's buckets", () => {
  for (const n of [0, 1, 7, 64, 16_384, 16_385, 70_000]) {
    const values = seeded(n, n + 1, 6);
    assert.equal(fineOfValues(values), byDefinition(values), `n = ${n}`);
  }
});

test("non-finite values are left out; -0 and 0, and values rounding to the same f32, as the definition says", () => {
  const values = Float64Array.from([NaN, Infinity, -Infinity, -0, 0, 0, 1, 1 + 2 ** -30, -1, 3.4e38, -3.4e38, 1e-45, 5e-324]);
  const fine = fineOfValues(values);
  assert.equal(fine, byDefinition(values));
  // -0 is bucket 0x8000, +0 and 5e-324 (nearest f32: +0) bucket 0, 1 and 1 + 2^-30 both 0x3f80.
  assert.equal(fine.buckets.slice(0, 2), [0x0000, 0x3f80]);
  assert.is(fine.counts[0], 4); // 0, 0, 1e-45 (a denormal f32 in bucket 0), 5e-324
});

test.run();
