// narrowF64 (assembly/widen.ts): f64 to f32, rounding to nearest even, against Math.fround, for
// random doubles of every magnitude, exact ties, NaN, ±Inf, ±0 and subnormals.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, layout, mulberry32, f32Bits, f32FromBits, f64FromBits, nextUpF32, F32_MAX, F32_MIN_SUB, F32_MIN_NORMAL } from "./_support.js";

const k = await Kernels.create();

/** Doubles exactly halfway between adjacent f32 values (ties), and just either side of them. */
function ties(rand: () => number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    // Any finite f32 (random pattern below the Inf exponent), then the midpoint to its successor.
    const a = f32FromBits(Math.floor(rand() * 0x7f7fffff) | (rand() < 0.5 ? 0x80000000 : 0));
    const b = a >= 0 ? nextUpF32(a) : -nextUpF32(-a); // next away from 0
    const mid = (a + b) / 2; // exact in f64
    out.push(mid, mid + Math.abs(mid) * 2 ** -50, mid - Math.abs(mid) * 2 ** -50);
  }
  // Subnormal and overflow ties: halfway to the next subnormal, and halfway past F32_MAX (rounds to Inf).
  out.push(F32_MIN_SUB / 2, -F32_MIN_SUB / 2, 1.5 * F32_MIN_SUB, 2.5 * F32_MIN_SUB, F32_MIN_NORMAL - F32_MIN_SUB / 2);
  out.push(F32_MAX + 2 ** 103, -(F32_MAX + 2 ** 103), F32_MAX + 2 ** 103 - 2 ** 60, 2 ** 128, 1e300, -1e-300, 1e-46);
  return out;
}

function narrowCase(values: Float64Array, bitsOverride: Map<number, bigint>, seed: number, what: string): void {
  const [src, dst] = layout(k, [values.byteLength + 16, values.length * 4 + 16]);
  new Float64Array(k.memory.buffer, src, values.length).set(values);
  const raw = new BigUint64Array(k.memory.buffer, src, values.length);
  for (const [i, bits] of bitsOverride) raw[i] = bits; // NaN payloads written as raw bits
  const rand = mulberry32(seed);
  let start = 0;
  while (start < values.length) {
    const n = Math.min(values.length - start, 1 + Math.floor(rand() * 45));
    k.exports.narrowF64(src + start * 8, dst + start * 4, n);
    start += n;
  }
  const out = new Uint32Array(k.memory.buffer, dst, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bitsOverride.has(i) ? f64FromBits(bitsOverride.get(i)!) : values[i];
    const want = Math.fround(x);
    const got = f32FromBits(out[i]);
    if (Number.isNaN(want)) {
      if (!Number.isNaN(got)) assert.unreachable(`${what}: NaN input ${i} gave ${got}`);
    } else if (out[i] !== f32Bits(want)) {
      assert.unreachable(`${what}: ${x} gave 0x${out[i].toString(16)} (${got}), expected 0x${f32Bits(want).toString(16)} (${want})`);
    }
  }
}

test("narrowF64: random doubles of every magnitude, ties, NaN, ±Inf, ±0 and subnormals round like Math.fround", () => {
  const rand = mulberry32(121);
  const list: number[] = [0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, -Number.MIN_VALUE, 1, -1, F32_MAX, F32_MIN_SUB];
  for (let i = 0; i < 5000; i++) {
    // Random bit patterns (huge, tiny, NaN...) and values in the f32 range.
    const hi = Math.floor(rand() * 2 ** 32), lo = Math.floor(rand() * 2 ** 32);
    list.push(f64FromBits((BigInt(hi) << 32n) | BigInt(lo)));
    list.push((rand() - 0.5) * Math.pow(2, Math.floor(rand() * 300) - 160));
  }
  list.push(...ties(rand, 3000));
  const values = Float64Array.from(list);
  const nanBits = new Map<number, bigint>([[4, 0x7ff0000000000001n], [5, 0xfff8000000000abcn]]);
  narrowCase(values, nanBits, 122, "mixed");
});

test("narrowF64: ties round to even in the SIMD body and in the scalar tail (n = 1, 2, 3)", () => {
  const rand = mulberry32(131);
  const values = Float64Array.from(ties(rand, 50));
  // Same values again, each through a call of n = 1..3 so they hit the scalar tail.
  narrowCase(values, new Map(), 132, "ties");
  const [src, dst] = layout(k, [64, 64]);
  for (const x of [1 + 2 ** -24, 1 + 3 * 2 ** -24, -(1 + 2 ** -24)]) {
    for (const n of [1, 2, 3]) {
      k.f64(src, 3).fill(x);
      k.exports.narrowF64(src, dst, n);
      const out = k.f32(dst, n);
      for (let i = 0; i < n; i++) assert.is(out[i], Math.fround(x), `${x} with n = ${n}`);
    }
  }
});

test.run();
