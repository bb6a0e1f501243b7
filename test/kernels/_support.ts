// Shared by the kernel tests (not a test file: the runner only picks up *.test.ts).
// Everything here is plain JS: a seeded PRNG, a bump allocator over a kernel instance's linear
// memory, float bit twiddling, and the moments state layout of assembly/state.ts as the host
// has it (src/kernels/layout.ts), so the kernel tests check the host's copy against the kernels.
import "../../src/entry/node-core.js";
import * as assert from "uvu/assert";
import { Kernels } from "../../src/kernels/kernels.js";
import { STATE as HOST_STATE, STATE_BYTES } from "../../src/kernels/layout.js";

export { Kernels };

/** mulberry32: 32-bit seeded PRNG, uniform in [0, 1) (one implementation for every test). */
export { prng as mulberry32 } from "../helpers/sources.js";

/** Random integer in [lo, hi] inclusive. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Standard normal (Box-Muller) from a uniform source. */
export function gauss(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Lay out regions of the given byte sizes one after another from kernels.base, each 64-byte
 * aligned, grow memory to hold them and zero them. Returns each region's byte offset.
 * Build typed views only after this call (growing memory detaches earlier views).
 */
export function layout(k: Kernels, sizes: number[]): number[] {
  let p = k.base;
  const out: number[] = [];
  for (const size of sizes) {
    out.push(p);
    p = Math.ceil((p + size) / 64) * 64;
  }
  k.reserve(p);
  new Uint8Array(k.memory.buffer, k.base, p - k.base).fill(0);
  return out;
}

// ---- float bits -------------------------------------------------------------------------------

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1);
const u64buf = new BigUint64Array(f64buf.buffer);

export function f32Bits(x: number): number {
  f32buf[0] = x;
  return u32buf[0];
}

export function f32FromBits(bits: number): number {
  u32buf[0] = bits >>> 0;
  return f32buf[0];
}

export function f64Bits(x: number): bigint {
  f64buf[0] = x;
  return u64buf[0];
}

export function f64FromBits(bits: bigint): number {
  u64buf[0] = BigInt.asUintN(64, bits);
  return f64buf[0];
}

/** Next f32 above a finite f32 value x (by bit increment; +0 and -0 both step to 2^-149). */
export function nextUpF32(x: number): number {
  if (x === 0) return f32FromBits(1);
  const b = f32Bits(x);
  return f32FromBits(x > 0 ? b + 1 : b - 1);
}

export function nextDownF32(x: number): number {
  return -nextUpF32(-x);
}

/** Next f64 above a finite f64 value x. */
export function nextUpF64(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const b = f64Bits(x);
  return f64FromBits(x > 0 ? b + 1n : b - 1n);
}

export function nextDownF64(x: number): number {
  return -nextUpF64(-x);
}

export const F32_MAX = f32FromBits(0x7f7fffff);
export const F32_MIN_NORMAL = f32FromBits(0x00800000);
export const F32_MIN_SUB = f32FromBits(1);

// ---- moments state (assembly/state.ts) ----------------------------------------------------------

const { NAN_COUNT, ...fields } = HOST_STATE;
export const STATE = { ...fields, NAN: NAN_COUNT, BYTES: STATE_BYTES };

/** What the host does before the first block: zero, set SHIFT, set both pairs of extrema to +Inf / -Inf. */
export function initState(k: Kernels, state: number, shift: number): void {
  new Uint8Array(k.memory.buffer, state, STATE.BYTES).fill(0);
  const f64 = new Float64Array(k.memory.buffer, state, STATE.BYTES / 8);
  const f32 = new Float32Array(k.memory.buffer, state, STATE.BYTES / 4);
  f64[STATE.SHIFT / 8] = shift;
  f32[STATE.MIN / 4] = Infinity;
  f32[STATE.MAX / 4] = -Infinity;
  f64[STATE.MIN64 / 8] = Infinity;
  f64[STATE.MAX64 / 8] = -Infinity;
}

export interface StateView {
  sum: number;
  sq: number;
  shift: number;
  min32: number;
  max32: number;
  nan: number;
  posInf: number;
  negInf: number;
  min64: number;
  max64: number;
}

export function readState(k: Kernels, state: number): StateView {
  const f64 = new Float64Array(k.memory.buffer, state, STATE.BYTES / 8);
  const f32 = new Float32Array(k.memory.buffer, state, STATE.BYTES / 4);
  return {
    sum: f64[STATE.SUM / 8],
    sq: f64[STATE.SQ / 8],
    shift: f64[STATE.SHIFT / 8],
    min32: f32[STATE.MIN / 4],
    max32: f32[STATE.MAX / 4],
    nan: f64[STATE.NAN / 8],
    posInf: f64[STATE.POS_INF / 8],
    negInf: f64[STATE.NEG_INF / 8],
    min64: f64[STATE.MIN64 / 8],
    max64: f64[STATE.MAX64 / 8],
  };
}

/** |actual - expected| <= tol, with a message that shows both. */
export function near(actual: number, expected: number, tol: number, what: string): void {
  const diff = Math.abs(actual - expected);
  assert.ok(diff <= tol, `${what}: got ${actual}, expected ${expected} (|diff| ${diff} > tol ${tol})`);
}
