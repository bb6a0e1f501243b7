// Dequantizing llama.cpp (GGUF) blocks to f32, a run of whole blocks at a time, so quantized
// weights reach the stats and histogram kernels as f32 without the tensor ever being widened
// whole: the host reads a chunk of blocks into the raw window and calls one of these into its f32
// window, exactly as f16 goes through widenF16 (assembly/widen.ts).
//
//   src ──► `blocks` blocks of the type's layout, back to back      dst ──► f32[blocks * QK]
// src and dst must not overlap. Block layouts as ggml-common.h defines them (all little-endian;
// d, m, dmin are IEEE halves; QK = 32 for the _0/_1 types, 256 for the K types):
//
//   Q8_0  34 B   d | qs i8[32]                          y[i] = d * qs[i]
//   Q4_0  18 B   d | qs u8[16]                          y[i] = d * (nib(i) - 8)     nib(i): low nibble of qs[i] for i < 16, high of qs[i-16]
//   Q4_1  20 B   d | m | qs u8[16]                      y[i] = d * nib(i) + m
//   Q5_0  22 B   d | qh u32 | qs u8[16]                 y[i] = d * ((nib(i) | bit i of qh << 4) - 16)
//   Q5_1  24 B   d | m | qh u32 | qs u8[16]             y[i] = d * (nib(i) | bit i of qh << 4) + m
//   Q4_K 144 B   d | dmin | scales u8[12] | qs u8[128]  8 sub-blocks of 32 with 6-bit scale sc and min mn:
//                                                       y = (d * sc) * q - (dmin * mn), q a nibble
//   Q5_K 176 B   d | dmin | scales u8[12] | qh u8[32] | qs u8[128]   as Q4_K, q = nibble | bit s of qh[l] << 4
//   Q6_K 210 B   ql u8[128] | qh u8[64] | scales i8[16] | d     16 sub-blocks of 16: y = (d * sc) * (q - 32),
//                                                       q = 4 bits of ql | 2 bits of qh << 4
//   Q2_K  84 B   scales u8[16] | qs u8[64] | d | dmin   16 sub-blocks of 16: y = (d * (sc & 15)) * q - (dmin * (sc >> 4)),
//                                                       q = 2 bits of qs
//   Q3_K 110 B   hmask u8[32] | qs u8[64] | scales u8[12] | d    16 sub-blocks of 16 with 6-bit signed scales:
//                                                       y = (d * (sc - 32)) * (q - (hmask bit clear ? 4 : 0)), q = 2 bits of qs
//
// Every product is an f32 multiply (and an f32 add or subtract) in the order written above, the
// order of ggml's dequantize_row_* and of gguf-py's numpy reference, so the results agree bit for
// bit (wasm SIMD has no fused multiply-add to round differently).

// @ts-ignore: decorator
@inline function half(h: u32): f32 {
  const em = (h & 0x7fff) << 13;
  const sign = (h & 0x8000) << 16;
  const magnitude = em >= (0x7c00 << 13) ? (em | 0x7f800000) : reinterpret<u32>(reinterpret<f32>(em) * reinterpret<f32>(<u32>0x77800000));
  return reinterpret<f32>(magnitude | sign);
}

// 16 signed bytes q to 16 f32 at dst: d * q.
// @ts-ignore: decorator
@inline function put16s(dst: usize, q: v128, d: v128): void {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(dst, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo))), 0);
  v128.store(dst, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo))), 16);
  v128.store(dst, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi))), 32);
  v128.store(dst, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi))), 48);
}

// 16 unsigned bytes q to 16 f32 at dst: d * q + m.
// @ts-ignore: decorator
@inline function put16add(dst: usize, q: v128, d: v128, m: v128): void {
  const lo = i16x8.extend_low_i8x16_u(q);
  const hi = i16x8.extend_high_i8x16_u(q);
  v128.store(dst, f32x4.add(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(lo))), m), 0);
  v128.store(dst, f32x4.add(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(lo))), m), 16);
  v128.store(dst, f32x4.add(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(hi))), m), 32);
  v128.store(dst, f32x4.add(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(hi))), m), 48);
}

// 16 unsigned bytes q to 16 f32 at dst: d * q - m.
// @ts-ignore: decorator
@inline function put16sub(dst: usize, q: v128, d: v128, m: v128): void {
  const lo = i16x8.extend_low_i8x16_u(q);
  const hi = i16x8.extend_high_i8x16_u(q);
  v128.store(dst, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(lo))), m), 0);
  v128.store(dst, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(lo))), m), 16);
  v128.store(dst, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(hi))), m), 32);
  v128.store(dst, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(hi))), m), 48);
}

/** Q8_0: 34-byte blocks of 32 values. */
export function dequantQ8_0(src: usize, dst: usize, blocks: i32): void {
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 34;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(half(load<u16>(p)));
    put16s(o, v128.load(p, 2, 1), d);
    put16s(o + 64, v128.load(p, 18, 1), d);
  }
}

/** Q4_0: 18-byte blocks of 32 values. */
export function dequantQ4_0(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  const eight = i8x16.splat(8);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 18;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(half(load<u16>(p)));
    const q = v128.load(p, 2, 1);
    put16s(o, i8x16.sub(v128.and(q, low), eight), d);
    put16s(o + 64, i8x16.sub(i8x16.shr_u(q, 4), eight), d);
  }
}

/** Q4_1: 20-byte blocks of 32 values. */
export function dequantQ4_1(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 20;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(half(load<u16>(p)));
    const m = f32x4.splat(half(load<u16>(p, 2)));
    const q = v128.load(p, 4, 1);
    put16add(o, v128.and(q, low), d, m);
    put16add(o + 64, i8x16.shr_u(q, 4), d, m);
  }
}

// The fifth bits of 32 values, bit i of qh for value i, as 0x10 or 0 in 16 byte lanes:
// half 0 takes qh's bytes 0 and 1 (each to 8 lanes), half 1 bytes 2 and 3.
// @ts-ignore: decorator
@inline function fifthBits(qh: u32, pick: v128, bits: v128, sixteen: v128): v128 {
  const spread = i8x16.swizzle(i32x4.splat(qh), pick);
  return v128.and(i8x16.eq(v128.and(spread, bits), bits), sixteen);
}

/** Q5_0: 22-byte blocks of 32 values. */
export function dequantQ5_0(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  const sixteen = i8x16.splat(16);
  const bits = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const pick0 = i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const pick1 = i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 22;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(half(load<u16>(p)));
    const qh = load<u32>(p, 2);
    const q = v128.load(p, 6, 1);
    put16s(o, i8x16.sub(v128.or(v128.and(q, low), fifthBits(qh, pick0, bits, sixteen)), sixteen), d);
    put16s(o + 64, i8x16.sub(v128.or(i8x16.shr_u(q, 4), fifthBits(qh, pick1, bits, sixteen)), sixteen), d);
  }
}

/** Q5_1: 24-byte blocks of 32 values. */
export function dequantQ5_1(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  const sixteen = i8x16.splat(16);
  const bits = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const pick0 = i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const pick1 = i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 24;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(half(load<u16>(p)));
    const m = f32x4.splat(half(load<u16>(p, 2)));
    const qh = load<u32>(p, 4);
    const q = v128.load(p, 8, 1);
    put16add(o, v128.or(v128.and(q, low), fifthBits(qh, pick0, bits, sixteen)), d, m);
    put16add(o + 64, v128.or(i8x16.shr_u(q, 4), fifthBits(qh, pick1, bits, sixteen)), d, m);
  }
}

// The 6-bit scale (sub-block j of 8) of a K block's 12 scale bytes at s (ggml's get_scale_min_k4).
// @ts-ignore: decorator
@inline function scaleK(s: usize, j: i32): u32 {
  return j < 4 ? <u32>load<u8>(s + j) & 63 : (<u32>load<u8>(s + j + 4) & 0xf) | ((<u32>load<u8>(s + j - 4) >> 6) << 4);
}

// The 6-bit min of sub-block j.
// @ts-ignore: decorator
@inline function minK(s: usize, j: i32): u32 {
  return j < 4 ? <u32>load<u8>(s + j + 4) & 63 : (<u32>load<u8>(s + j + 4) >> 4) | ((<u32>load<u8>(s + j) >> 6) << 4);
}

/**
 * Q4_K: 144-byte blocks of 256 values. Group g (0..3) of 64 values reads qs[32g .. 32g + 32):
 * low nibbles are sub-block 2g, high nibbles sub-block 2g + 1.
 */
export function dequantQ4_K(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 144;
    const o = dst + (<usize>b << 10);
    const d = half(load<u16>(p));
    const dmin = half(load<u16>(p, 2));
    const s = p + 4;
    const qs = p + 16;
    for (let g = 0; g < 4; g++) {
      const d1 = f32x4.splat(d * <f32>scaleK(s, 2 * g));
      const m1 = f32x4.splat(dmin * <f32>minK(s, 2 * g));
      const d2 = f32x4.splat(d * <f32>scaleK(s, 2 * g + 1));
      const m2 = f32x4.splat(dmin * <f32>minK(s, 2 * g + 1));
      const q0 = v128.load(qs + (<usize>g << 5), 0, 1);
      const q1 = v128.load(qs + (<usize>g << 5), 16, 1);
      const og = o + (<usize>g << 8);
      put16sub(og, v128.and(q0, low), d1, m1);
      put16sub(og + 64, v128.and(q1, low), d1, m1);
      put16sub(og + 128, i8x16.shr_u(q0, 4), d2, m2);
      put16sub(og + 192, i8x16.shr_u(q1, 4), d2, m2);
    }
  }
}

/** Q5_K: 176-byte blocks of 256 values; as Q4_K, with bit s of qh[l] the fifth bit of value l of sub-block s. */
export function dequantQ5_K(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  const one = i8x16.splat(1);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 176;
    const o = dst + (<usize>b << 10);
    const d = half(load<u16>(p));
    const dmin = half(load<u16>(p, 2));
    const s = p + 4;
    const h0 = v128.load(p, 16, 1);
    const h1 = v128.load(p, 32, 1);
    const qs = p + 48;
    for (let g = 0; g < 4; g++) {
      const d1 = f32x4.splat(d * <f32>scaleK(s, 2 * g));
      const m1 = f32x4.splat(dmin * <f32>minK(s, 2 * g));
      const d2 = f32x4.splat(d * <f32>scaleK(s, 2 * g + 1));
      const m2 = f32x4.splat(dmin * <f32>minK(s, 2 * g + 1));
      const q0 = v128.load(qs + (<usize>g << 5), 0, 1);
      const q1 = v128.load(qs + (<usize>g << 5), 16, 1);
      const sa = <u32>(2 * g);
      const sb = sa + 1;
      const og = o + (<usize>g << 8);
      put16sub(og, v128.or(v128.and(q0, low), i8x16.shl(v128.and(i8x16.shr_u(h0, sa), one), 4)), d1, m1);
      put16sub(og + 64, v128.or(v128.and(q1, low), i8x16.shl(v128.and(i8x16.shr_u(h1, sa), one), 4)), d1, m1);
      put16sub(og + 128, v128.or(i8x16.shr_u(q0, 4), i8x16.shl(v128.and(i8x16.shr_u(h0, sb), one), 4)), d2, m2);
      put16sub(og + 192, v128.or(i8x16.shr_u(q1, 4), i8x16.shl(v128.and(i8x16.shr_u(h1, sb), one), 4)), d2, m2);
    }
  }
}

/**
 * Q6_K: 210-byte blocks of 256 values in two halves of 128. In half h, for l in 0..31 (two runs
 * of 16, c = l >> 4), with a = ql[64h + l], b = ql[64h + 32 + l], t = qh[32h + l]:
 *   value 128h + l       = (a & 15 | (t & 3) << 4) - 32         scale 8h + c
 *   value 128h + 32 + l  = (b & 15 | (t >> 2 & 3) << 4) - 32    scale 8h + c + 2
 *   value 128h + 64 + l  = (a >> 4 | (t >> 4 & 3) << 4) - 32    scale 8h + c + 4
 *   value 128h + 96 + l  = (b >> 4 | (t >> 6) << 4) - 32        scale 8h + c + 6
 */
export function dequantQ6_K(src: usize, dst: usize, blocks: i32): void {
  const low = i8x16.splat(0x0f);
  const three = i8x16.splat(3);
  const bias = i8x16.splat(32);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 210;
    const o = dst + (<usize>b << 10);
    const d = half(load<u16>(p, 208));
    const sc = p + 192;
    for (let h = 0; h < 2; h++) {
      for (let c = 0; c < 2; c++) {
        const a = v128.load(p + (<usize>h << 6) + (<usize>c << 4), 0, 1);
        const bb = v128.load(p + (<usize>h << 6) + (<usize>c << 4), 32, 1);
        const t = v128.load(p + 128 + (<usize>h << 5) + (<usize>c << 4), 0, 1);
        const is = sc + (<usize>h << 3) + <usize>c;
        const oc = o + (<usize>h << 9) + (<usize>c << 6);
        put16s(oc, i8x16.sub(v128.or(v128.and(a, low), i8x16.shl(v128.and(t, three), 4)), bias), f32x4.splat(d * <f32>load<i8>(is)));
        put16s(oc + 128, i8x16.sub(v128.or(v128.and(bb, low), i8x16.shl(v128.and(i8x16.shr_u(t, 2), three), 4)), bias), f32x4.splat(d * <f32>load<i8>(is, 2)));
        put16s(oc + 256, i8x16.sub(v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(t, 4), three), 4)), bias), f32x4.splat(d * <f32>load<i8>(is, 4)));
        put16s(oc + 384, i8x16.sub(v128.or(i8x16.shr_u(bb, 4), i8x16.shl(i8x16.shr_u(t, 6), 4)), bias), f32x4.splat(d * <f32>load<i8>(is, 6)));
      }
    }
  }
}

/**
 * Q2_K: 84-byte blocks of 256 values. In half h (128 values), for shift j (0..3) and l in 0..31,
 * value 128h + 32j + l = (qs[32h + l] >> 2j) & 3, of sub-block 8h + 2j + (l >> 4).
 */
export function dequantQ2_K(src: usize, dst: usize, blocks: i32): void {
  const three = i8x16.splat(3);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 84;
    const o = dst + (<usize>b << 10);
    const d = half(load<u16>(p, 80));
    const dmin = half(load<u16>(p, 82));
    for (let h = 0; h < 2; h++) {
      const q0 = v128.load(p + 16 + (<usize>h << 5), 0, 1);
      const q1 = v128.load(p + 16 + (<usize>h << 5), 16, 1);
      for (let j = 0; j < 4; j++) {
        const s = p + (<usize>h << 3) + (<usize>j << 1);
        const sa = <u32>load<u8>(s);
        const sb = <u32>load<u8>(s, 1);
        const oj = o + (<usize>h << 9) + (<usize>j << 7);
        const shift = <u32>(2 * j);
        put16sub(oj, v128.and(i8x16.shr_u(q0, shift), three), f32x4.splat(d * <f32>(sa & 15)), f32x4.splat(dmin * <f32>(sa >> 4)));
        put16sub(oj + 64, v128.and(i8x16.shr_u(q1, shift), three), f32x4.splat(d * <f32>(sb & 15)), f32x4.splat(dmin * <f32>(sb >> 4)));
      }
    }
  }
}

// The 6-bit scale i (0..15) of a Q3_K block's 12 scale bytes at s, as ggml packs it: the low four
// bits from byte i (i < 8) or the high nibble of byte i - 8, the top two from byte 8 + i % 4 >> 2 (i / 4).
// @ts-ignore: decorator
@inline function scaleQ3(s: usize, i: i32): f32 {
  const lowBits = i < 8 ? <u32>load<u8>(s + i) & 15 : <u32>load<u8>(s + i - 8) >> 4;
  const highBits = (<u32>load<u8>(s + 8 + (i & 3)) >> (2 * (i >> 2))) & 3;
  return <f32>(<i32>(lowBits | (highBits << 4)) - 32);
}

/**
 * Q3_K: 110-byte blocks of 256 values. Value 128h + 32j + l (half h, shift j, l in 0..31) is
 * ((qs[32h + l] >> 2j) & 3) - 4 when bit 4h + j of hmask[l] is clear, of sub-block 8h + 2j + (l >> 4).
 */
export function dequantQ3_K(src: usize, dst: usize, blocks: i32): void {
  const three = i8x16.splat(3);
  const four = i8x16.splat(4);
  const zero = i8x16.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 110;
    const o = dst + (<usize>b << 10);
    const d = half(load<u16>(p, 108));
    const s = p + 96;
    const m0 = v128.load(p, 0, 1);
    const m1 = v128.load(p, 16, 1);
    for (let h = 0; h < 2; h++) {
      const q0 = v128.load(p + 32 + (<usize>h << 5), 0, 1);
      const q1 = v128.load(p + 32 + (<usize>h << 5), 16, 1);
      for (let j = 0; j < 4; j++) {
        const shift = <u32>(2 * j);
        const bit = i8x16.splat(<i8>(<i32>1 << <i32>(4 * h + j)));
        const low0 = v128.and(i8x16.eq(v128.and(m0, bit), zero), four);
        const low1 = v128.and(i8x16.eq(v128.and(m1, bit), zero), four);
        const oj = o + (<usize>h << 9) + (<usize>j << 7);
        const is = 8 * h + 2 * j;
        put16s(oj, i8x16.sub(v128.and(i8x16.shr_u(q0, shift), three), low0), f32x4.splat(d * scaleQ3(s, is)));
        put16s(oj + 64, i8x16.sub(v128.and(i8x16.shr_u(q1, shift), three), low1), f32x4.splat(d * scaleQ3(s, is + 1)));
      }
    }
  }
}
