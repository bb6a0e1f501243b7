import { scratch, HALF_CONSTS } from "./scratch";

// Widening f16 and bf16 (and narrowing f64) to f32, one block at a time, so a tensor of any
// dtype reaches the stats kernels as f32 without a full copy in another dtype (spec section 5).
//
//   src ──► n values of the source dtype (little-endian)      dst ──► f32[n]
// src and dst must not overlap.

/** IEEE half to f32, exact for every pattern (subnormals, Inf, NaN payloads kept). */
export function widenF16(src: usize, dst: usize, n: i32): void {
  const body = n & ~7;
  const k = halfConsts();
  for (let i = 0; i < body; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), halfToSingle(i32x4.extend_low_i16x8_u(h), k));
    v128.store(dst + (<usize>i << 2), halfToSingle(i32x4.extend_high_i16x8_u(h), k), 16);
  }
  for (let i = body; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), halfBitsToF32(load<u16>(src + (<usize>i << 1))));
  }
}

/**
 * Write halfToSingle's constants (0x7fff, 2^112, 65536.0, 0x7f800000, 0x8000 as i32x4 / f32x4
 * splats) into the instance's scratch (assembly/scratch.ts) and return where they are. Vector
 * constants come from memory: V8 rebuilds splats inside loops, a folded load is cheaper. Every
 * kernel that reads f16 calls this once before its loops.
 */
export function halfConsts(): usize {
  const k = scratch() + HALF_CONSTS;
  v128.store(k, i32x4.splat(0x7fff), 0);
  v128.store(k, f32x4.splat(reinterpret<f32>(<u32>0x77800000)), 16); // 2^112 = 2^(127 - 15)
  v128.store(k, f32x4.splat(65536), 32);
  v128.store(k, i32x4.splat(0x7f800000), 48);
  v128.store(k, i32x4.splat(0x8000), 64);
  return k;
}

/**
 * Four stored values at `at` as f32x4, for kernels generic over the stored type T (see
 * assembly/moments.ts): f32 is loaded as is, u16 (IEEE half) and i16 (bfloat16) patterns are
 * loaded 4 x 16 bits and widened in registers, exactly as widenF16 / widenBF16 do (for u16 the
 * caller has run halfConsts).
 */
// @ts-ignore: decorator
@inline export function quad<T>(at: usize): v128 {
  if (isFloat<T>()) return v128.load(at);
  if (isSigned<T>()) return i32x4.shl(v128.load16x4_u(at), 16);
  return halfToSingle(v128.load16x4_u(at), scratch() + HALF_CONSTS);
}

/** T is the IEEE half pattern (u16): the kernels widen it span by span into SPAN_F32 instead of in registers. */
// @ts-ignore: decorator
@inline export function isHalf<T>(): bool {
  return isInteger<T>() && !isSigned<T>();
}

/** Stored value `i` from `p` as f32 (the scalar twin of quad). */
// @ts-ignore: decorator
@inline export function one<T>(p: usize, i: i32): f32 {
  if (isFloat<T>()) return load<f32>(p + (<usize>i << 2));
  if (isSigned<T>()) return reinterpret<f32>(<u32>load<u16>(p + (<usize>i << 1)) << 16);
  return halfBitsToF32(load<u16>(p + (<usize>i << 1)));
}

// @ts-ignore: decorator
@inline function halfToSingle(h: v128, k: usize): v128 {
  // Shift exponent+mantissa into f32 position; scaling by 2^112 fixes the exponent bias and
  // turns half subnormals into the right f32 normals. A half Inf/NaN (exponent 31) scales to
  // 2^16 * 1.m >= 65536 (the largest finite half, 65504, stays below): OR-ing the all-ones
  // exponent into those gives Inf / the NaN with the same payload bits.
  const scaled = f32x4.mul(i32x4.shl(v128.and(h, v128.load(k, 0)), 13), v128.load(k, 16));
  const magnitude = v128.or(scaled, v128.and(f32x4.ge(scaled, v128.load(k, 32)), v128.load(k, 48)));
  return v128.or(magnitude, i32x4.shl(v128.and(h, v128.load(k, 64)), 16));
}

function halfBitsToF32(h: u32): f32 {
  const em = (h & 0x7fff) << 13;
  const sign = (h & 0x8000) << 16;
  const magnitude = em >= (0x7c00 << 13) ? (em | 0x7f800000) : reinterpret<u32>(reinterpret<f32>(em) * reinterpret<f32>(<u32>0x77800000));
  return reinterpret<f32>(magnitude | sign);
}

/** bfloat16 to f32: the 16 bits are the top half of the f32 pattern. */
export function widenBF16(src: usize, dst: usize, n: i32): void {
  const body = n & ~7;
  for (let i = 0; i < body; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
    v128.store(dst + (<usize>i << 2), i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
  }
  for (let i = body; i < n; i++) {
    store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
  }
}

/** f64 to f32, rounding to nearest even (spec section 5: the kernels read f32). */
export function narrowF64(src: usize, dst: usize, n: i32): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const a = f32x4.demote_f64x2_zero(v128.load(src + (<usize>i << 3)));
    const b = f32x4.demote_f64x2_zero(v128.load(src + (<usize>i << 3), 16));
    v128.store(dst + (<usize>i << 2), v128.shuffle<f32>(a, b, 0, 1, 4, 5));
  }
  for (let i = body; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), <f32>load<f64>(src + (<usize>i << 3)));
  }
}
