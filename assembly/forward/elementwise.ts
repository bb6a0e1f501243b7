// Forward kernels: elementwise (see src/forward/ops/merge.ts and src/forward/ops/shape.ts).
//
// Binary ops by code (BINARY in src/forward/ops/merge.ts):
//   0 add  1 sub  2 mul  3 div  4 max  5 min  6 pow (in f64, rounded)  7 squared difference
//   8 floor division  9 division with x / 0 = 0 (TF DivNoNan)
//   10 equal  11 less  12 greater  13 less-or-equal  14 greater-or-equal  15 and  16 or  17 not-equal
//   (compares and logic write 1.0 or 0.0; and/or read "not 0" as true)
//
// Layouts (f32, row-major; out may be a or b):
//   ewBinary      a[n] op b[n] -> out[n]
//   ewBinaryMid   a[outer, mid, inner] op b[mid] -> out[outer, mid, inner]; swap: b op a.
//                 inner == 1 is "b broadcast over rows" (f32x4 along mid); inner > 1 is "one value
//                 of b per channel" (b[m] splat, f32x4 along inner); outer = mid = 1 is a scalar.
//   ewWhere       c[n] != 0 ? x[n] : y[n] -> out[n]
//   ewTrunc       trunc(x[n]) (a cast to an integer type) -> out[n]
//   stridedCopy   dst[...] = src[...] over an index grid; table (i32, host-written):
//                   [rank, dims[rank], srcStrides[rank], dstStrides[rank], counters[rank]]
//                 strides in elements (may be 0: broadcast; negative: a reversed slice);
//                 counters are scratch the kernel uses (no allocation in wasm).
//   copyBlocks    count blocks of `block` values: src + k*srcStride -> dst + k*dstStride
//   reduceMid     out[o, i] = R over m of x[o, m, i]  (f64 accumulation)
//                   0 sum 1 mean 2 max 3 min 4 prod 5 l1 6 l2 7 sum-square 8 log-sum-exp

@inline function apply4(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return v128.bitselect(a, b, v128.or(f32x4.gt(a, b), f32x4.ne(a, a))); // NaN propagates, as numpy.maximum
    case 5: return v128.bitselect(a, b, v128.or(f32x4.lt(a, b), f32x4.ne(a, a)));
    case 10: return v128.and(f32x4.eq(a, b), one);
    case 11: return v128.and(f32x4.lt(a, b), one);
    case 12: return v128.and(f32x4.gt(a, b), one);
    case 13: return v128.and(f32x4.le(a, b), one);
    case 14: return v128.and(f32x4.ge(a, b), one);
    case 15: return v128.and(v128.and(f32x4.ne(a, zero), f32x4.ne(b, zero)), one);
    case 16: return v128.and(v128.or(f32x4.ne(a, zero), f32x4.ne(b, zero)), one);
    case 17: return v128.and(f32x4.ne(a, b), one);
  }
  return lanes(op, a, b);
}

/** The ops without a SIMD form (pow, floor division, ...): lane by lane (not inlined: rare, and large). */
function lanes(op: i32, a: v128, b: v128): v128 {
  let r = f32x4.splat(apply1(op, f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
  r = f32x4.replace_lane(r, 1, apply1(op, f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
  r = f32x4.replace_lane(r, 2, apply1(op, f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
  return f32x4.replace_lane(r, 3, apply1(op, f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
}

@inline function apply1(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a > b || a != a ? a : b;
    case 5: return a < b || a != a ? a : b;
    case 6: return <f32>Math.pow(<f64>a, <f64>b);
    case 7: return (a - b) * (a - b);
    case 8: return <f32>Math.floor(<f64>a / <f64>b);
    case 9: return b == 0 ? 0 : a / b;
    case 10: return a == b ? 1.0 : 0.0;
    case 11: return a < b ? 1.0 : 0.0;
    case 12: return a > b ? 1.0 : 0.0;
    case 13: return a <= b ? 1.0 : 0.0;
    case 14: return a >= b ? 1.0 : 0.0;
    case 15: return a != 0 && b != 0 ? 1.0 : 0.0;
    case 16: return a != 0 || b != 0 ? 1.0 : 0.0;
    case 17: return a != b ? 1.0 : 0.0;
  }
  return NaN;
}

/** out[i] = a[i] op b[i], i < n. */
export function ewBinary(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, apply4(op, v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, apply1(op, load<f32>(a + o), load<f32>(b + o)));
  }
}

/** out[o, m, i] = a[o, m, i] op b[m] (swap != 0: b[m] op a[o, m, i]). */
export function ewBinaryMid(op: i32, a: usize, b: usize, out: usize, outer: i32, mid: i32, inner: i32, swap: i32): void {
  if (inner == 1) {
    for (let o: i32 = 0; o < outer; o++) {
      const row = <usize>o * <usize>mid << 2;
      let m: i32 = 0;
      for (; m + 4 <= mid; m += 4) {
        const x = v128.load(a + row + (<usize>m << 2));
        const y = v128.load(b + (<usize>m << 2));
        v128.store(out + row + (<usize>m << 2), apply4(op, select<v128>(y, x, swap), select<v128>(x, y, swap)));
      }
      for (; m < mid; m++) {
        const x = load<f32>(a + row + (<usize>m << 2));
        const y = load<f32>(b + (<usize>m << 2));
        store<f32>(out + row + (<usize>m << 2), apply1(op, select<f32>(y, x, swap), select<f32>(x, y, swap)));
      }
    }
    return;
  }
  for (let o: i32 = 0; o < outer; o++) {
    for (let m: i32 = 0; m < mid; m++) {
      const base = (<usize>o * <usize>mid + <usize>m) * <usize>inner << 2;
      const s = load<f32>(b + (<usize>m << 2));
      const y = f32x4.splat(s);
      let i: i32 = 0;
      for (; i + 4 <= inner; i += 4) {
        const x = v128.load(a + base + (<usize>i << 2));
        v128.store(out + base + (<usize>i << 2), apply4(op, select<v128>(y, x, swap), select<v128>(x, y, swap)));
      }
      for (; i < inner; i++) {
        const x = load<f32>(a + base + (<usize>i << 2));
        store<f32>(out + base + (<usize>i << 2), apply1(op, select<f32>(s, x, swap), select<f32>(x, s, swap)));
      }
    }
  }
}

/** out[i] = c[i] != 0 ? x[i] : y[i]. */
export function ewWhere(c: usize, x: usize, y: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0.0);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, v128.bitselect(v128.load(x + o), v128.load(y + o), f32x4.ne(v128.load(c + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(c + o) != 0 ? load<f32>(x + o) : load<f32>(y + o));
  }
}

/** out[i] = trunc(x[i]) (toward zero). */
export function ewTrunc(x: usize, out: usize, n: i32): void {
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.trunc(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, Mathf.trunc(load<f32>(x + o)));
  }
}

/** Copy over an index grid (table layout above). Offsets are in elements and stay in range by the host's plan. */
export function stridedCopy(src: usize, dst: usize, table: usize): void {
  const rank = load<i32>(table);
  if (rank == 0) {
    store<f32>(dst, load<f32>(src));
    return;
  }
  const dims = table + 4;
  const ss = dims + (<usize>rank << 2);
  const ds = ss + (<usize>rank << 2);
  const cnt = ds + (<usize>rank << 2);
  const last = rank - 1;
  const n = load<i32>(dims + (<usize>last << 2));
  const sIn = load<i32>(ss + (<usize>last << 2));
  const dIn = load<i32>(ds + (<usize>last << 2));
  for (let k: i32 = 0; k < rank; k++) store<i32>(cnt + (<usize>k << 2), 0);
  for (let k: i32 = 0; k < last; k++) if (load<i32>(dims + (<usize>k << 2)) == 0) return;
  if (n == 0) return;
  let so: isize = 0;
  let dd: isize = 0;
  while (true) {
    const s = <usize>(<isize>src + (so << 2));
    const d = <usize>(<isize>dst + (dd << 2));
    if (sIn == 1 && dIn == 1) {
      memory.copy(d, s, <usize>n << 2);
    } else if (sIn == 0 && dIn == 1) {
      const v = load<f32>(s);
      const vv = f32x4.splat(v);
      let i: i32 = 0;
      for (; i + 4 <= n; i += 4) v128.store(d + (<usize>i << 2), vv);
      for (; i < n; i++) store<f32>(d + (<usize>i << 2), v);
    } else {
      for (let i: i32 = 0; i < n; i++) store<f32>(<usize>(<isize>d + ((<isize>i * <isize>dIn) << 2)), load<f32>(<usize>(<isize>s + ((<isize>i * <isize>sIn) << 2))));
    }
    // Odometer over the outer axes.
    let k = last - 1;
    while (k >= 0) {
      const at = cnt + (<usize>k << 2);
      const c = load<i32>(at) + 1;
      const sk = <isize>load<i32>(ss + (<usize>k << 2));
      const dk = <isize>load<i32>(ds + (<usize>k << 2));
      if (c < load<i32>(dims + (<usize>k << 2))) {
        store<i32>(at, c);
        so += sk;
        dd += dk;
        break;
      }
      store<i32>(at, 0);
      so -= sk * <isize>(c - 1);
      dd -= dk * <isize>(c - 1);
      k--;
    }
    if (k < 0) return;
  }
}

/** count blocks of `block` values from src (every srcStride values) to dst (every dstStride values). */
export function copyBlocks(src: usize, srcStride: i32, dst: usize, dstStride: i32, count: i32, block: i32): void {
  for (let k: i32 = 0; k < count; k++) {
    memory.copy(dst + (<usize>k * <usize>dstStride << 2), src + (<usize>k * <usize>srcStride << 2), <usize>block << 2);
  }
}

/** out[o, i] = R over m of x[o, m, i], accumulated in f64 (codes above). */
export function reduceMid(op: i32, x: usize, out: usize, outer: i32, mid: i32, inner: i32): void {
  for (let o: i32 = 0; o < outer; o++) {
    for (let i: i32 = 0; i < inner; i++) {
      const base = x + ((<usize>o * <usize>mid * <usize>inner + <usize>i) << 2);
      const step = <usize>inner << 2;
      let acc: f64 = op == 2 ? -Infinity : op == 3 ? Infinity : op == 4 ? 1.0 : 0.0;
      let top: f64 = -Infinity;
      if (op == 8) {
        for (let m: i32 = 0; m < mid; m++) top = Math.max(top, <f64>load<f32>(base + <usize>m * step));
        if (!isFinite(top)) top = 0;
      }
      for (let m: i32 = 0; m < mid; m++) {
        const v = <f64>load<f32>(base + <usize>m * step);
        switch (op) {
          case 0: case 1: acc += v; break;
          case 2: acc = v > acc || v != v ? v : acc; break;
          case 3: acc = v < acc || v != v ? v : acc; break;
          case 4: acc *= v; break;
          case 5: acc += Math.abs(v); break;
          case 6: case 7: acc += v * v; break;
          case 8: acc += Math.exp(v - top); break;
        }
      }
      if (op == 1) acc /= <f64>mid;
      else if (op == 6) acc = Math.sqrt(acc);
      else if (op == 8) acc = Math.log(acc) + top;
      store<f32>(out + ((<usize>o * <usize>inner + <usize>i) << 2), <f32>acc);
    }
  }
}
