// Convolution kernels for node strengths (spec metrics.md section 2, "Conv"): the kernel tensor
// is reduced to per-tap channel sums in the same pass as its moments, then each channel's
// strength map is a separable product of small 0/1 matrices — never the naive six-deep loop.

/**
 * Per-tap channel sums of a kernel tensor, for a block of `n` f32 values that starts at flat
 * element `first` of the tensor. The tensor has axes A (split into `groups` equal groups),
 * B (per group) and K taps (kh * kw), in one of two orders:
 *
 *   tapMajor = 0:  [A, B, K]  (PyTorch/ONNX Conv OIHW: A = c_out, B = c_in/g;
 *                              ConvTranspose IOHW: A = c_in, B = c_out/g)
 *   tapMajor = 1:  [K, B, A]  (Keras Conv2D HWIO: A = c_out, B = c_in/g;
 *                              Conv2DTranspose HWOI: A = c_in, B = c_out)
 *
 *   sumOverB ──► f64[A][K]       sumOverB[a][k] = sum over b of x(a, b, k)
 *   sumOverA ──► f64[G*B][K]     sumOverA[g*B + b][k] = sum over a in group g of x(a, b, k)
 *
 * Non-finite values add 0 (as in the dense sums). Both outputs are added into.
 */
export function convTapSums(src: usize, n: i32, first: i32, tapMajor: i32, A: i32, B: i32, K: i32, groups: i32, sumOverB: usize, sumOverA: usize): void {
  tapSums<f32>(src, n, first, tapMajor, A, B, K, groups, sumOverB, sumOverA);
}

/** convTapSums for f64 kernels (read at full precision). */
export function convTapSumsF64(src: usize, n: i32, first: i32, tapMajor: i32, A: i32, B: i32, K: i32, groups: i32, sumOverB: usize, sumOverA: usize): void {
  tapSums<f64>(src, n, first, tapMajor, A, B, K, groups, sumOverB, sumOverA);
}

// @ts-ignore: decorator
@inline function tapSums<T>(src: usize, n: i32, first: i32, tapMajor: i32, A: i32, B: i32, K: i32, groups: i32, sumOverB: usize, sumOverA: usize): void {
  const perGroup = A / groups;
  if (tapMajor == 0) {
    // Runs of K taps share (a, b).
    let k = first % K;
    let row = first / K;
    let b = row % B;
    let a = row / B;
    let i = 0;
    while (i < n) {
      const run = min(K - k, n - i);
      const outB = sumOverB + (<usize>(a * K + k) << 3);
      const outA = sumOverA + (<usize>(((a / perGroup) * B + b) * K + k) << 3);
      for (let t = 0; t < run; t++) {
        const x = finiteOrZero(load<T>(src + (<usize>(i + t) * sizeof<T>())));
        const at = <usize>t << 3;
        store<f64>(outB + at, load<f64>(outB + at) + x);
        store<f64>(outA + at, load<f64>(outA + at) + x);
      }
      i += run;
      k = 0;
      if (++b == B) { b = 0; a++; }
    }
  } else {
    // Runs of A channels share (k, b); the run of group g adds into one sumOverA slot.
    let a = first % A;
    let row = first / A;
    let b = row % B;
    let k = row / B;
    let i = 0;
    while (i < n) {
      const run = min(A - a, n - i);
      let groupSum: f64 = 0;
      let g = a / perGroup;
      for (let t = 0; t < run; t++) {
        const aa = a + t;
        const gg = aa / perGroup;
        if (gg != g) {
          addF64(sumOverA + (<usize>((g * B + b) * K + k) << 3), groupSum);
          groupSum = 0;
          g = gg;
        }
        const x = finiteOrZero(load<T>(src + (<usize>(i + t) * sizeof<T>())));
        addF64(sumOverB + (<usize>(aa * K + k) << 3), x);
        groupSum += x;
      }
      addF64(sumOverA + (<usize>((g * B + b) * K + k) << 3), groupSum);
      i += run;
      a = 0;
      if (++b == B) { b = 0; k++; }
    }
  }
}

// @ts-ignore: decorator
@inline function finiteOrZero<T>(x: T): f64 {
  const v = <f64>x;
  return abs(v) < Infinity ? v : 0;
}

// @ts-ignore: decorator
@inline function addF64(at: usize, x: f64): void {
  store<f64>(at, load<f64>(at) + x);
}

/**
 * Strength maps of `channels` channels: out[c][i][j] = sum over n, m of
 * rowTaps[i][n] * taps[c][n][m] * colTaps[j][m], where rowTaps [H x kh] and colTaps [W x kw] are
 * the 0/1 "tap lands inside" matrices of the layer's geometry (src/graph/ops/conv/geometry.ts).
 * Cost per channel: kh*kw*W + kh*H*W multiply-adds, vectorised over j.
 *
 *   taps    ──► f64[channels][kh][kw]     rowTaps ──► f64[H][kh]     colTaps ──► f64[kw][W]  (transposed)
 *   scratch ──► f64[kh][W]                out     ──► f64[channels][H][W]  (overwritten)
 */
export function separableMaps(taps: usize, channels: i32, kh: i32, kw: i32, rowTaps: usize, H: i32, colTapsT: usize, W: i32, scratch: usize, out: usize): void {
  const pairs = W & ~1;
  for (let c = 0; c < channels; c++) {
    const u = taps + (<usize>(c * kh * kw) << 3);
    // scratch[n][j] = sum over m of u[n][m] * colTapsT[m][j]
    for (let nn = 0; nn < kh; nn++) {
      const row = scratch + (<usize>(nn * W) << 3);
      for (let j = 0; j < W; j++) store<f64>(row + (<usize>j << 3), 0);
      for (let m = 0; m < kw; m++) {
        const w = load<f64>(u + (<usize>(nn * kw + m) << 3));
        if (w == 0) continue;
        const w2 = f64x2.splat(w);
        const col = colTapsT + (<usize>(m * W) << 3);
        for (let j = 0; j < pairs; j += 2) {
          const at = <usize>j << 3;
          v128.store(row + at, f64x2.add(v128.load(row + at), f64x2.mul(w2, v128.load(col + at))));
        }
        if (pairs < W) {
          const at = <usize>pairs << 3;
          store<f64>(row + at, load<f64>(row + at) + w * load<f64>(col + at));
        }
      }
    }
    // out[c][i][j] = sum over n of rowTaps[i][n] * scratch[n][j]
    const o = out + (<usize>(c * H * W) << 3);
    for (let i = 0; i < H; i++) {
      const dst = o + (<usize>(i * W) << 3);
      for (let j = 0; j < W; j++) store<f64>(dst + (<usize>j << 3), 0);
      for (let nn = 0; nn < kh; nn++) {
        if (load<f64>(rowTaps + (<usize>(i * kh + nn) << 3)) == 0) continue;
        const src = scratch + (<usize>(nn * W) << 3);
        for (let j = 0; j < pairs; j += 2) {
          const at = <usize>j << 3;
          v128.store(dst + at, f64x2.add(v128.load(dst + at), v128.load(src + at)));
        }
        if (pairs < W) {
          const at = <usize>pairs << 3;
          store<f64>(dst + at, load<f64>(dst + at) + load<f64>(src + at));
        }
      }
    }
  }
}
