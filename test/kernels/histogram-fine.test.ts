// histogramFine (assembly/histogram.ts): bucket = top 16 bits of each f32 pattern, u32[65536]
// counts added into; checked against a reference over random bit patterns and special values.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FINE_BUCKETS } from "../../src/kernels/layout.js";
import { Kernels, layout, mulberry32, f32Bits, F32_MAX, F32_MIN_SUB, F32_MIN_NORMAL } from "./_support.js";

const k = await Kernels.create();
const BUCKETS = FINE_BUCKETS;

/** Runs histogramFine over raw f32 bit patterns in calls of random length 1..maxLen, counts pre-seeded. */
function runFine(bits: Uint32Array, seed: number, maxLen: number, preset: (i: number) => number): Uint32Array {
  const [src, counts] = layout(k, [bits.byteLength + 16, BUCKETS * 4]);
  new Uint32Array(k.memory.buffer, src, bits.length).set(bits); // raw bits: NaN payloads survive
  const c = new Uint32Array(k.memory.buffer, counts, BUCKETS);
  for (let i = 0; i < BUCKETS; i++) c[i] = preset(i);
  const rand = mulberry32(seed);
  for (let start = 0; start < bits.length; ) {
    const len = Math.min(bits.length - start, 1 + Math.floor(rand() * maxLen));
    k.exports.histogramFine(src + start * 4, len, counts);
    start += len;
  }
  return new Uint32Array(k.memory.buffer, counts, BUCKETS).slice();
}

function reference(bits: Uint32Array, preset: (i: number) => number): Uint32Array {
  const c = new Uint32Array(BUCKETS);
  for (let i = 0; i < BUCKETS; i++) c[i] = preset(i);
  for (const b of bits) c[b >>> 16]++;
  return c;
}

function specialBits(): number[] {
  const values = [0, -0, 1, -1, Infinity, -Infinity, F32_MAX, -F32_MAX, F32_MIN_SUB, -F32_MIN_SUB, F32_MIN_NORMAL, 0.1, -2.5e-40];
  // NaNs with assorted payloads and both signs, and the patterns at bucket boundaries.
  return [...values.map(f32Bits), 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff, 0x0000ffff, 0x00010000, 0x8000ffff, 0x80010000];
}

function assertSame(actual: Uint32Array, expected: Uint32Array, what: string): void {
  for (let i = 0; i < BUCKETS; i++) {
    if (actual[i] !== expected[i]) assert.unreachable(`${what}: bucket 0x${i.toString(16)} has ${actual[i]}, expected ${expected[i]}`);
  }
}

test("histogramFine: random bit patterns and special values (NaN payloads, ±Inf, ±0, subnormals) land in bucket bits >>> 16", () => {
  const rand = mulberry32(91);
  const list = specialBits();
  for (let i = 0; i < 20000; i++) list.push((rand() * 2 ** 32) >>> 0);
  for (let i = 0; i < 3000; i++) list.push(f32Bits(rand() * 2 - 1)); // crowd some buckets
  const bits = Uint32Array.from(list);
  const zero = () => 0;
  assertSame(runFine(bits, 92, 41, zero), reference(bits, zero), "random + specials");
});

test("histogramFine: counts are added into (not cleared), in calls of 1..3 values (scalar tail only)", () => {
  const bits = Uint32Array.from(specialBits().concat(specialBits()));
  const preset = (i: number) => (i * 2654435761) >>> 8;
  assertSame(runFine(bits, 93, 3, preset), reference(bits, preset), "preset counts");
});

test("histogramFine: one call over n % 4 = 3 values matches, and n = 0 changes nothing", () => {
  const rand = mulberry32(94);
  const bits = Uint32Array.from({ length: 1023 }, () => (rand() * 2 ** 32) >>> 0);
  const zero = () => 0;
  assertSame(runFine(bits, 95, 5000, zero), reference(bits, zero), "n = 1023");
  const [src, counts] = layout(k, [64, BUCKETS * 4]);
  new Uint32Array(k.memory.buffer, src, 4).fill(0x3f800000);
  k.exports.histogramFine(src, 0, counts);
  assert.ok(new Uint32Array(k.memory.buffer, counts, BUCKETS).every((c) => c === 0));
});

test.run();
