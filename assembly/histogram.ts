// Histograms of f32 values, binned in f64 against f64 edges.
//
// Bin rule (numpy.histogram's, so a float64 numpy reference agrees bin for bin): bin i holds
// edges[i] <= x < edges[i+1], the last bin also holds x == edges[bins]; values outside
// [edges[0], edges[bins]] and non-finite values are not counted here (the host counts them).
//
//   edges  ──► f64[bins + 1]   ascending
//   counts ──► i64[bins]       added into, never cleared here

/**
 * Uniform edges (edges[i] = lo + i * step, as numpy.linspace makes them). The bin estimate
 * floor((x - lo) * norm) is exact unless x lies within rounding distance of an edge: lanes
 * whose fractional position is at least `margin` from an integer are counted directly; the
 * rest (values near an edge, x == hi, out of range, NaN) go through binOne's check against the
 * edges themselves. margin bounds the rounding of (x - lo) * norm and of the edges, in bins.
 */
export function histogramUniform(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  const lo = load<f64>(edges);
  const hi = load<f64>(edges + (<usize>bins << 3));
  const norm = <f64>bins / (hi - lo);
  const margin = min(0.25, <f64>bins * (4 + 4 * (abs(lo) + abs(hi)) / (hi - lo)) * 8.881784197001252e-16); // 2^-50
  const lo2 = f64x2.splat(lo);
  const norm2 = f64x2.splat(norm);
  const margin2 = f64x2.splat(margin);
  const upper2 = f64x2.splat(1 - margin);
  const zero2 = f64x2.splat(0);
  const bins2 = f64x2.splat(<f64>bins);
  const last = bins - 1;
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    const xa = f64x2.promote_low_f32x4(v);
    const xb = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    const ta = f64x2.mul(f64x2.sub(xa, lo2), norm2);
    const tb = f64x2.mul(f64x2.sub(xb, lo2), norm2);
    const fa = f64x2.floor(ta);
    const fb = f64x2.floor(tb);
    const ea = i32x4.trunc_sat_f64x2_s_zero(fa);
    const eb = i32x4.trunc_sat_f64x2_s_zero(fb);
    if (safe(ta, fa, margin2, upper2, zero2, bins2) & safe(tb, fb, margin2, upper2, zero2, bins2)) {
      bump64(counts, i32x4.extract_lane(ea, 0));
      bump64(counts, i32x4.extract_lane(ea, 1));
      bump64(counts, i32x4.extract_lane(eb, 0));
      bump64(counts, i32x4.extract_lane(eb, 1));
    } else {
      binOne(f64x2.extract_lane(xa, 0), i32x4.extract_lane(ea, 0), lo, hi, last, edges, counts);
      binOne(f64x2.extract_lane(xa, 1), i32x4.extract_lane(ea, 1), lo, hi, last, edges, counts);
      binOne(f64x2.extract_lane(xb, 0), i32x4.extract_lane(eb, 0), lo, hi, last, edges, counts);
      binOne(f64x2.extract_lane(xb, 1), i32x4.extract_lane(eb, 1), lo, hi, last, edges, counts);
    }
  }
  for (let i = body; i < n; i++) {
    const x = <f64>load<f32>(src + (<usize>i << 2));
    binOne(x, <i32>Math.floor((x - lo) * norm), lo, hi, last, edges, counts);
  }
}

/** Both lanes inside [0, bins) and at least `margin` away from a bin boundary (false for NaN). */
// @ts-ignore: decorator
@inline function safe(t: v128, f: v128, margin2: v128, upper2: v128, zero2: v128, bins2: v128): bool {
  const frac = f64x2.sub(t, f);
  const ok = v128.and(v128.and(f64x2.gt(frac, margin2), f64x2.lt(frac, upper2)), v128.and(f64x2.ge(f, zero2), f64x2.lt(f, bins2)));
  return i64x2.all_true(ok);
}

// @ts-ignore: decorator
@inline function bump64(counts: usize, idx: i32): void {
  const at = counts + (<usize>idx << 3);
  store<i64>(at, load<i64>(at) + 1);
}

// @ts-ignore: decorator
@inline function binOne(x: f64, estimate: i32, lo: f64, hi: f64, last: i32, edges: usize, counts: usize): void {
  if (!(x >= lo && x <= hi)) return;
  let idx = estimate;
  if (idx > last) idx = last;
  if (idx < 0) idx = 0;
  if (x < load<f64>(edges + (<usize>idx << 3))) idx--;
  else if (idx != last && x >= load<f64>(edges + (<usize>(idx + 1) << 3))) idx++;
  const at = counts + (<usize>idx << 3);
  store<i64>(at, load<i64>(at) + 1);
}

/** histogramUniform for f64 values. */
export function histogramUniformF64(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  const lo = load<f64>(edges);
  const hi = load<f64>(edges + (<usize>bins << 3));
  const norm = <f64>bins / (hi - lo);
  const lo2 = f64x2.splat(lo);
  const norm2 = f64x2.splat(norm);
  const last = bins - 1;
  const body = n & ~1;
  for (let i = 0; i < body; i += 2) {
    const x = v128.load(src + (<usize>i << 3));
    const e = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.mul(f64x2.sub(x, lo2), norm2)));
    binOne(f64x2.extract_lane(x, 0), i32x4.extract_lane(e, 0), lo, hi, last, edges, counts);
    binOne(f64x2.extract_lane(x, 1), i32x4.extract_lane(e, 1), lo, hi, last, edges, counts);
  }
  if (body < n) {
    const x = load<f64>(src + (<usize>body << 3));
    binOne(x, <i32>Math.floor((x - lo) * norm), lo, hi, last, edges, counts);
  }
}

/** Any ascending edges (caller-given, possibly uneven): binary search per value. */
export function histogramEdges(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  for (let i = 0; i < n; i++) binSearch(<f64>load<f32>(src + (<usize>i << 2)), bins, edges, counts);
}

/** histogramEdges for f64 values. */
export function histogramEdgesF64(src: usize, n: i32, bins: i32, edges: usize, counts: usize): void {
  for (let i = 0; i < n; i++) binSearch(load<f64>(src + (<usize>i << 3)), bins, edges, counts);
}

// @ts-ignore: decorator
@inline function binSearch(x: f64, bins: i32, edges: usize, counts: usize): void {
  if (!(x >= load<f64>(edges) && x <= load<f64>(edges + (<usize>bins << 3)))) return;
  // Largest idx with edges[idx] <= x, capped at the last bin (x == the last edge lands there).
  let a = 0, b = bins;
  while (b - a > 1) {
    const mid = (a + b) >>> 1;
    if (load<f64>(edges + (<usize>mid << 3)) <= x) a = mid; else b = mid;
  }
  const at = counts + (<usize>a << 3);
  store<i64>(at, load<i64>(at) + 1);
}

/**
 * Fine mergeable histogram for one-shot streams, where min and max are not known before the
 * data: one u32 bucket per top 16 bits of the f32 pattern (sign, exponent, 7 mantissa bits), so
 * every bucket spans under 1/128 of its values' magnitude. Buckets merge by adding; the host
 * rebins them to [min, max] at the end (see src/metrics/fine-histogram.ts for the error bound).
 *
 *   counts ──► u32[65536]   (the host keeps n per call below 2^32)
 */
export function histogramFine(src: usize, n: i32, counts: usize): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const b = i32x4.shl(i32x4.shr_u(v128.load(src + (<usize>i << 2)), 16), 2);
    bump(counts + <usize>i32x4.extract_lane(b, 0));
    bump(counts + <usize>i32x4.extract_lane(b, 1));
    bump(counts + <usize>i32x4.extract_lane(b, 2));
    bump(counts + <usize>i32x4.extract_lane(b, 3));
  }
  for (let i = body; i < n; i++) {
    bump(counts + (<usize>(load<u32>(src + (<usize>i << 2)) >>> 16) << 2));
  }
}

// @ts-ignore: decorator
@inline function bump(at: usize): void {
  store<u32>(at, load<u32>(at) + 1);
}
