// Matrix multiply for the forward pass (dense layers, convolutions as im2col, recurrent cells,
// attention; spec metrics.md section 3). Row-major f32, dot products accumulated in f32 as BLAS
// does. Relaxed SIMD (fused multiply-add) is refused by Node 20, so each step is f32x4.mul then
// f32x4.add (shared/spec/kernel-notes.md).
//
// Blocking (the classic GotoBLAS/BLIS shape, sized for what V8 keeps in registers):
//
//   C tile 4 x 8 in 8 f32x4 accumulators          B panel: 8 columns, kc rows, contiguous
//   +----------------+                            p=0  [b00 b01 .. b07]
//   | c00 c01        |  += A[i..i+4, p]  (splat)   p=1  [b10 b11 .. b17]
//   | c10 c11        |     x B panel row p          ...
//   | c20 c21        |                            (columns past n are zeros)
//   | c30 c31        |
//   +----------------+
//
// k is cut into blocks of KC rows so a B panel (KC x 8 f32 = 15 KiB) stays in L1 while every row
// block of A streams past it. `gemm` packs each panel into the scratch span (assembly/scratch.ts,
// SPAN_F32: the host-given scratch area, so nothing is allocated here); `gemmPacked` reads B
// packed once beforehand by `packB` (weights of dense layers and recurrent cells, packed at
// prepare time). Edge tiles (fewer than 8 columns) go through a 4 x 8 bounce tile in the scratch
// span; fewer than 4 rows run the 1 x 8 kernel row by row, so A is never read past row m.
import { scratch, SPAN_F32 } from "../scratch";

/** Columns of a register tile and of a packed panel. */
const NR: i32 = 8;
/** Rows of a k block: KC x NR f32 = 15,360 bytes of the 16 KiB scratch span; the bounce tile takes the rest. */
const KC: i32 = 480;
const TILE: usize = <usize>KC * NR * 4;

/**
 * C[m x n] = A[m x k] . B[k x n] (+ C when accumulate != 0) (+ bias: biasMode 1 adds bias[j] to
 * column j, 2 adds bias[i] to row i). Leading dimensions are the row lengths: lda >= k, ldb >= n,
 * ldc >= n (so blocks of bigger matrices can be multiplied in place). Uses the scratch span.
 */
export function gemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, bias: usize, biasMode: i32, accumulate: i32): void {
  gemmCore(a, b, ldb, false, c, m, n, k, lda, ldc, bias, biasMode, accumulate);
}

/**
 * As `gemm`, with B packed by `packB(b, ldb, k, n, transposed, bp)` into packedSize(k, n) f32:
 *
 *   bp + 4 * ((jp * k + p) * 8 + q)  =  B[p, 8 jp + q]   (zero where 8 jp + q >= n)
 *
 * Packing costs one pass over B; a matrix reused for many products (a layer's weight) is packed
 * once. Uses the scratch span only for edge tiles.
 */
export function gemmPacked(a: usize, bp: usize, c: usize, m: i32, n: i32, k: i32, lda: i32, ldc: i32, bias: usize, biasMode: i32, accumulate: i32): void {
  gemmCore(a, bp, 0, true, c, m, n, k, lda, ldc, bias, biasMode, accumulate);
}

/** f32 values `packB` writes for a k x n matrix: k rows of ceil(n / 8) panels of 8. */
export function packedSize(k: i32, n: i32): i32 {
  return k * ((n + NR - 1) / NR) * NR;
}

/**
 * Pack B (k x n, row length ldb) into panels for gemmPacked. transposed != 0 reads B from its
 * transpose stored row-major: B[p, j] = b[j * ldb + p] (an [n_out, n_in] weight, or K of Q.K^T).
 */
export function packB(b: usize, ldb: i32, k: i32, n: i32, transposed: i32, dst: usize): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    const nr = min(NR, n - j0);
    packPanel(b, ldb, 0, k, j0, nr, transposed != 0, dst + (<usize>j0 * k << 2));
  }
}

/**
 * A bare multiply-add loop on six independent f32x4 chains, for measuring this machine's SIMD
 * peak: each iteration is 6 f32x4.mul and 6 f32x4.add, 48 flops. Returns a sum so the loop is kept.
 */
export function fmaPeak(iterations: i32): f32 {
  const y = f32x4.splat(0.9999999);
  let m0 = f32x4.splat(1.0), m1 = f32x4.splat(1.1), m2 = f32x4.splat(1.2), m3 = f32x4.splat(1.3), m4 = f32x4.splat(1.4), m5 = f32x4.splat(1.5);
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
  for (let i = 0; i < iterations; i++) {
    m0 = f32x4.mul(m0, y); s0 = f32x4.add(s0, m0);
    m1 = f32x4.mul(m1, y); s1 = f32x4.add(s1, m1);
    m2 = f32x4.mul(m2, y); s2 = f32x4.add(s2, m2);
    m3 = f32x4.mul(m3, y); s3 = f32x4.add(s3, m3);
    m4 = f32x4.mul(m4, y); s4 = f32x4.add(s4, m4);
    m5 = f32x4.mul(m5, y); s5 = f32x4.add(s5, m5);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(s4, s5));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

function gemmCore(a: usize, b: usize, ldb: i32, packed: bool, c: usize, m: i32, n: i32, k: i32, lda: i32, ldc: i32, bias: usize, biasMode: i32, accumulate: i32): void {
  if (m <= 0 || n <= 0) return;
  const ldcBytes = <usize>ldc << 2;
  const ldaBytes = <usize>lda << 2;
  if (k <= 0 && accumulate == 0) {
    for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
  }
  const span = scratch() + SPAN_F32;
  const bounce = span + TILE;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = min(KC, k - p0);
    const load = accumulate != 0 || p0 > 0;
    for (let j0 = 0; j0 < n; j0 += NR) {
      const nr = min(NR, n - j0);
      let panel: usize;
      if (packed) panel = b + ((<usize>j0 * k + <usize>p0 * NR) << 2);
      else {
        packPanel(b, ldb, p0, kc, j0, nr, false, span);
        panel = span;
      }
      const aBlock = a + (<usize>p0 << 2);
      const cBlock = c + (<usize>j0 << 2);
      let i = 0;
      if (nr == NR) {
        for (; i + 4 <= m; i += 4) kernel4x8(aBlock + <usize>i * ldaBytes, ldaBytes, panel, cBlock + <usize>i * ldcBytes, ldcBytes, kc, load);
        for (; i < m; i++) kernel1x8(aBlock + <usize>i * ldaBytes, panel, cBlock + <usize>i * ldcBytes, kc, load);
      } else {
        // Fewer than 8 columns left: through the bounce tile (4 rows of 8), so C is never written past column n.
        for (; i < m; ) {
          const mr = min(4, m - i);
          const cRows = cBlock + <usize>i * ldcBytes;
          memory.fill(bounce, 0, 4 * NR * 4);
          if (load) for (let r = 0; r < mr; r++) memory.copy(bounce + (<usize>r * NR << 2), cRows + <usize>r * ldcBytes, <usize>nr << 2);
          if (mr == 4) kernel4x8(aBlock + <usize>i * ldaBytes, ldaBytes, panel, bounce, NR * 4, kc, true);
          else for (let r = 0; r < mr; r++) kernel1x8(aBlock + <usize>(i + r) * ldaBytes, panel, bounce + (<usize>r * NR << 2), kc, true);
          for (let r = 0; r < mr; r++) memory.copy(cRows + <usize>r * ldcBytes, bounce + (<usize>r * NR << 2), <usize>nr << 2);
          i += mr;
        }
      }
    }
  }
  if (biasMode == 1) {
    for (let i = 0; i < m; i++) addRow(c + <usize>i * ldcBytes, bias, n);
  } else if (biasMode == 2) {
    for (let i = 0; i < m; i++) addScalar(c + <usize>i * ldcBytes, load<f32>(bias + (<usize>i << 2)), n);
  }
}

/** Copy B[p0 .. p0+kc, j0 .. j0+nr] into a panel of kc rows of 8 (zeros past nr). */
function packPanel(b: usize, ldb: i32, p0: i32, kc: i32, j0: i32, nr: i32, transposed: bool, dst: usize): void {
  const ldbBytes = <usize>ldb << 2;
  if (!transposed) {
    let src = b + <usize>p0 * ldbBytes + (<usize>j0 << 2);
    if (nr == NR) {
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldbBytes;
        dst += NR * 4;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        v128.store(dst, f32x4.splat(0));
        v128.store(dst, f32x4.splat(0), 16);
        memory.copy(dst, src, <usize>nr << 2);
        src += ldbBytes;
        dst += NR * 4;
      }
    }
  } else {
    // B[p, j] = b[j * ldb + p]: read each of the panel's columns along its stored row.
    memory.fill(dst, 0, <usize>kc * NR * 4);
    for (let q = 0; q < nr; q++) {
      const src = b + <usize>(j0 + q) * ldbBytes + (<usize>p0 << 2);
      for (let p = 0; p < kc; p++) store<f32>(dst + ((<usize>p * NR + q) << 2), load<f32>(src + (<usize>p << 2)));
    }
  }
}

/** C[4 x 8] (row length ldc bytes) = (load ? C : 0) + A[4 x kc] (row length lda bytes) . panel[kc x 8]. */
// @ts-ignore: decorator
@inline function kernel4x8(a: usize, lda: usize, panel: usize, c: usize, ldc: usize, kc: i32, load: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  if (load) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c1); c11 = v128.load(c1, 16);
    c20 = v128.load(c2); c21 = v128.load(c2, 16);
    c30 = v128.load(c3); c31 = v128.load(c3, 16);
  }
  let a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  let bp = panel;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2);
    c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3);
    c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    bp += NR * 4;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c1, c10); v128.store(c1, c11, 16);
  v128.store(c2, c20); v128.store(c2, c21, 16);
  v128.store(c3, c30); v128.store(c3, c31, 16);
}

/** One row: C[1 x 8] = (load ? C : 0) + A[1 x kc] . panel[kc x 8]. */
// @ts-ignore: decorator
@inline function kernel1x8(a: usize, panel: usize, c: usize, kc: i32, load: bool): void {
  let c0 = f32x4.splat(0), c1 = c0;
  if (load) {
    c0 = v128.load(c); c1 = v128.load(c, 16);
  }
  let bp = panel;
  for (let p = 0; p < kc; p++) {
    const x = v128.load32_splat(a + (<usize>p << 2));
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(bp, 16)));
    bp += NR * 4;
  }
  v128.store(c, c0); v128.store(c, c1, 16);
}

function addRow(c: usize, bias: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const at = <usize>j << 2;
    v128.store(c + at, f32x4.add(v128.load(c + at), v128.load(bias + at)));
  }
  for (; j < n; j++) {
    const at = <usize>j << 2;
    store<f32>(c + at, load<f32>(c + at) + load<f32>(bias + at));
  }
}

function addScalar(c: usize, value: f32, n: i32): void {
  const v = f32x4.splat(value);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const at = <usize>j << 2;
    v128.store(c + at, f32x4.add(v128.load(c + at), v));
  }
  for (; j < n; j++) {
    const at = <usize>j << 2;
    store<f32>(c + at, load<f32>(c + at) + value);
  }
}
