// Forward kernels: norm (see src/forward/ops/norm.ts).
//
//   normRows   x[rows, cols] -> (x - mean_row) / sqrt(var_row + eps), mean and variance (ddof 0)
//              of each row in f64 (two passes: mean, then squared deviations). out may be x.
//              Layer norm: rows = the leading axes; instance norm: rows = n x c, cols = the
//              spatial size; group norm: rows = n x groups.
//   affineMid  x[outer, mid, inner] -> (x - center[m]) * scale[m] + shift[m] in f32; a pointer of
//              0 leaves its step out. Batch norm (channels first: mid = c, inner = spatial size;
//              channels last: inner = 1) with center = running mean, scale = gamma / sqrt(var + eps);
//              the affine step after normRows (layer norm: inner = 1; instance/group norm: mid = c).

/** Normalize each row of x[rows, cols] (f64 statistics); out may be x. */
export function normRows(x: usize, out: usize, rows: i32, cols: i32, eps: f64): void {
  for (let r: i32 = 0; r < rows; r++) {
    const row = x + (<usize>r * <usize>cols << 2);
    const dst = out + (<usize>r * <usize>cols << 2);
    let a0: f64 = 0, a1: f64 = 0;
    let c: i32 = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      a0 += <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 2);
      a1 += <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 3);
    }
    let sum = a0 + a1;
    for (; c < cols; c++) sum += <f64>load<f32>(row + (<usize>c << 2));
    const mean = sum / <f64>cols;
    const m2 = f64x2.splat(mean);
    let q = f64x2.splat(0);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      const lo = f64x2.sub(f64x2.promote_low_f32x4(v), m2);
      const hi = f64x2.sub(f64x2.promote_low_f32x4(i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)), m2);
      q = f64x2.add(q, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
    }
    let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
    for (; c < cols; c++) {
      const d = <f64>load<f32>(row + (<usize>c << 2)) - mean;
      sq += d * d;
    }
    const inv = 1.0 / Math.sqrt(sq / <f64>cols + eps);
    for (c = 0; c < cols; c++) store<f32>(dst + (<usize>c << 2), <f32>((<f64>load<f32>(row + (<usize>c << 2)) - mean) * inv));
  }
}

@inline function affine4(v: v128, c: v128, s: v128, t: v128, hasC: bool, hasS: bool, hasT: bool): v128 {
  if (hasC) v = f32x4.sub(v, c);
  if (hasS) v = f32x4.mul(v, s);
  if (hasT) v = f32x4.add(v, t);
  return v;
}

/** (x - center[m]) * scale[m] + shift[m] over x[outer, mid, inner]; a 0 pointer skips its step; out may be x. */
export function affineMid(x: usize, out: usize, outer: i32, mid: i32, inner: i32, center: usize, scale: usize, shift: usize): void {
  const hasC = center != 0, hasS = scale != 0, hasT = shift != 0;
  if (inner == 1) {
    for (let o: i32 = 0; o < outer; o++) {
      const row = <usize>o * <usize>mid << 2;
      let m: i32 = 0;
      for (; m + 4 <= mid; m += 4) {
        const at = <usize>m << 2;
        const c = hasC ? v128.load(center + at) : f32x4.splat(0);
        const s = hasS ? v128.load(scale + at) : f32x4.splat(1);
        const t = hasT ? v128.load(shift + at) : f32x4.splat(0);
        v128.store(out + row + at, affine4(v128.load(x + row + at), c, s, t, hasC, hasS, hasT));
      }
      for (; m < mid; m++) {
        const at = <usize>m << 2;
        let v = load<f32>(x + row + at);
        if (hasC) v -= load<f32>(center + at);
        if (hasS) v *= load<f32>(scale + at);
        if (hasT) v += load<f32>(shift + at);
        store<f32>(out + row + at, v);
      }
    }
    return;
  }
  for (let o: i32 = 0; o < outer; o++) {
    for (let m: i32 = 0; m < mid; m++) {
      const base = (<usize>o * <usize>mid + <usize>m) * <usize>inner << 2;
      const at = <usize>m << 2;
      const cs: f32 = hasC ? load<f32>(center + at) : 0;
      const ss: f32 = hasS ? load<f32>(scale + at) : 1;
      const ts: f32 = hasT ? load<f32>(shift + at) : 0;
      const c = f32x4.splat(cs), s = f32x4.splat(ss), t = f32x4.splat(ts);
      let i: i32 = 0;
      for (; i + 4 <= inner; i += 4) {
        const p = base + (<usize>i << 2);
        v128.store(out + p, affine4(v128.load(x + p), c, s, t, hasC, hasS, hasT));
      }
      for (; i < inner; i++) {
        const p = base + (<usize>i << 2);
        let v = load<f32>(x + p);
        if (hasC) v -= cs;
        if (hasS) v *= ss;
        if (hasT) v += ts;
        store<f32>(out + p, v);
      }
    }
  }
}
