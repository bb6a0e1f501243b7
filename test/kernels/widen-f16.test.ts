// widenF16 (assembly/widen.ts): every one of the 65,536 half patterns, widened to f32 and
// compared bit for bit with a reference that decodes sign, exponent and mantissa arithmetically.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, layout, mulberry32, f32Bits } from "./_support.js";

const k = await Kernels.create();

/** IEEE 754 binary16 decoded from its fields with Math.pow: the value (NaN for NaN patterns). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * Math.pow(2, -24); // ±0 and subnormals
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * Math.pow(2, exp - 15);
}

/** Expected f32 bits: the exact value's pattern; a NaN keeps its sign and its payload shifted by 13. */
function expectedBits(h: number): number {
  const exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 31 && mant !== 0) return ((h & 0x8000) << 16 | 0x7f800000 | (mant << 13)) >>> 0;
  return f32Bits(halfValue(h)); // every half value is exact in f32, so this cannot round
}

function widen(patterns: Uint16Array, calls: number[]): Uint32Array {
  const [src, dst] = layout(k, [patterns.byteLength + 16, patterns.length * 4 + 16]);
  new Uint16Array(k.memory.buffer, src, patterns.length).set(patterns);
  let start = 0;
  for (const n of calls) {
    k.exports.widenF16(src + start * 2, dst + start * 4, n);
    start += n;
  }
  assert.is(start, patterns.length);
  return new Uint32Array(k.memory.buffer, dst, patterns.length).slice();
}

function check(patterns: Uint16Array, out: Uint32Array, what: string): void {
  for (let i = 0; i < patterns.length; i++) {
    const h = patterns[i], got = out[i], want = expectedBits(h);
    if (Number.isNaN(halfValue(h))) {
      // Spelled out for NaN: exponent all ones, mantissa non-zero, sign and payload << 13 kept.
      assert.ok((got & 0x7f800000) === 0x7f800000 && (got & 0x7fffff) !== 0, `${what}: 0x${h.toString(16)} is not NaN`);
      assert.is(got >>> 31, h >>> 15, `${what}: NaN sign of 0x${h.toString(16)}`);
      assert.is(got & 0x7fffff, (h & 0x3ff) << 13, `${what}: NaN payload of 0x${h.toString(16)}`);
    }
    if (got !== want) assert.unreachable(`${what}: half 0x${h.toString(16)} gave 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
  }
}

const ALL = Uint16Array.from({ length: 65536 }, (_, i) => i);

test("reference decoder sanity: 1.0, -2.0, 65504, smallest subnormal, +Inf", () => {
  assert.is(halfValue(0x3c00), 1);
  assert.is(halfValue(0xc000), -2);
  assert.is(halfValue(0x7bff), 65504);
  assert.is(halfValue(0x0001), 2 ** -24);
  assert.is(halfValue(0x7c00), Infinity);
});

test("widenF16: all 65,536 half patterns in one call (n % 8 = 0) widen bit for bit", () => {
  check(ALL, widen(ALL, [65536]), "one call");
});

test("widenF16: all 65,536 patterns in calls of 8k + r values (r = 1..7) widen bit for bit", () => {
  const rand = mulberry32(101);
  const calls: number[] = [];
  let left = 65536;
  while (left > 0) {
    const n = Math.min(left, 8 * Math.floor(rand() * 40) + 1 + Math.floor(rand() * 7));
    calls.push(n);
    left -= n;
  }
  check(ALL, widen(ALL, calls), "odd calls");
});

test("widenF16: a shuffled order (patterns in every lane position) and n < 8", () => {
  const rand = mulberry32(102);
  const shuffled = ALL.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  check(shuffled, widen(shuffled, [65533, 3]), "shuffled, n = 65533 then 3");
  const few = Uint16Array.from([0x7e01, 0xfc00, 0x8001, 0x03ff, 0x0400, 0xfe00, 0x7bff]);
  check(few, widen(few, [7]), "n = 7");
});

test.run();
