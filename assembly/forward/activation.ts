// Activations for the forward pass (spec metrics.md section 3: a = f(z)), out of place over n f32
// values: dst[i] = f(src[i]) (src == dst is allowed). The host picks f by a code (ACT_* below,
// mirrored in src/forward/ops/activation.ts) with up to three parameters.
//
// Cheap functions run on f32x4. exp-based ones use a vector f32 exp (range reduction by ln 2 and
// a degree-6 polynomial, about 1 ulp) and take care where the textbook formula cancels: tanh of a
// small value (odd polynomial), expm1 near 0 (Taylor), GELU as x * sigmoid(2u) and x * erfc(-x/√2)/2
// (erfc on f32x4 as t e^(-z² + P(t)), t = 1/(1 + z/2), P of degree 9 fitted to 6e-8: within 1e-5
// relative in f32 where GELU is not below 1e-9). erf, log, softplus, mish, sin and cos run per value
// in f64 (erf64 below: Chebyshev fits of erf(x)/x and erfc(x)·exp(x²), |relative error| < 1e-11).
// Every fit's coefficients come from test/fixtures/forward/make_dense.py --erf.
import { expv, tanhv } from "./vmath";

export const ACT_LINEAR: i32 = 0;
/** Keras relu: p0 negative slope, p1 threshold, p2 max value (+inf: none). */
export const ACT_RELU: i32 = 1;
/** clip(x, p0, p1) (relu6 = clip(0, 6)). */
export const ACT_CLIP: i32 = 2;
/** x >= 0 ? x : p0 x. */
export const ACT_LEAKY: i32 = 3;
/** x > 0 ? p1 x : p1 p0 expm1(x p2): elu (alpha, 1, 1), selu (alpha, gamma, 1), celu (alpha, 1, 1/alpha). */
export const ACT_ELU: i32 = 4;
export const ACT_GELU: i32 = 5;
export const ACT_GELU_TANH: i32 = 6;
/** x sigmoid(p0 x). */
export const ACT_SILU: i32 = 7;
/** clip(p0 x + p1, 0, 1). */
export const ACT_HARD_SIGMOID: i32 = 8;
/** x clip(p0 x + p1, 0, 1). */
export const ACT_HARD_SWISH: i32 = 9;
export const ACT_SIGMOID: i32 = 10;
export const ACT_TANH: i32 = 11;
export const ACT_SOFTPLUS: i32 = 12;
export const ACT_SOFTSIGN: i32 = 13;
export const ACT_MISH: i32 = 14;
export const ACT_EXP: i32 = 15;
export const ACT_LOG: i32 = 16;
export const ACT_SQRT: i32 = 17;
export const ACT_NEG: i32 = 18;
export const ACT_ABS: i32 = 19;
export const ACT_RECIPROCAL: i32 = 20;
export const ACT_ERF: i32 = 21;
/** x > p0 ? x : 0. */
export const ACT_THRESHOLDED: i32 = 22;
export const ACT_RSQRT: i32 = 23;
export const ACT_SQUARE: i32 = 24;
export const ACT_LOG1P: i32 = 25;
export const ACT_FLOOR: i32 = 26;
export const ACT_CEIL: i32 = 27;
/** Round half to even (ONNX Round, TF Round). */
export const ACT_ROUND: i32 = 28;
export const ACT_SIGN: i32 = 29;
export const ACT_SIN: i32 = 30;
export const ACT_COS: i32 = 31;
/** ONNX Shrink: x < -p1 ? x + p0 : x > p1 ? x - p0 : 0 (p0 bias, p1 lambd). */
export const ACT_SHRINK: i32 = 32;

/** dst[i] = f(src[i]) for i < n, f = the ACT_* code `kind` with parameters p0, p1, p2. */
export function activation(kind: i32, src: usize, dst: usize, n: i32, p0: f32, p1: f32, p2: f32): void {
  const n4 = n & ~3;
  let i = 0;
  switch (kind) {
    case ACT_LINEAR:
      if (src != dst) memory.copy(dst, src, <usize>n << 2);
      return;
    case ACT_RELU:
      if (p0 == 0 && p1 == 0 && p2 == Infinity) {
        const zero = f32x4.splat(0);
        for (; i < n4; i += 4) vstore(dst, i, f32x4.max(vload(src, i), zero));
      }
      break;
    case ACT_CLIP: {
      const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
      for (; i < n4; i += 4) vstore(dst, i, f32x4.min(f32x4.max(vload(src, i), lo), hi));
      break;
    }
    case ACT_LEAKY: {
      const a = f32x4.splat(p0), zero = f32x4.splat(0);
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        vstore(dst, i, v128.bitselect(f32x4.mul(x, a), x, f32x4.lt(x, zero)));
      }
      break;
    }
    case ACT_ELU: {
      const a = f32x4.splat(p0 * p1), g = f32x4.splat(p1), s = f32x4.splat(p2), zero = f32x4.splat(0);
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        vstore(dst, i, v128.bitselect(f32x4.mul(g, x), f32x4.mul(a, expm1v(f32x4.mul(x, s))), f32x4.gt(x, zero)));
      }
      break;
    }
    case ACT_GELU: {
      // 0.5 x erfc(-x / sqrt 2): erfc(z) = t e^(-z^2 + P(t)), t = 1 / (1 + z/2), for z = |x| / sqrt 2 (2 - that for x >= 0).
      const half = f32x4.splat(0.5), one = f32x4.splat(1), two = f32x4.splat(2), zero = f32x4.splat(0);
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        const z = f32x4.mul(f32x4.abs(x), f32x4.splat(0.7071067811865476));
        const t = f32x4.div(one, f32x4.add(one, f32x4.mul(half, z)));
        let q = f32x4.splat(0.15775101390850457);
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(-0.7501815785940662));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(1.3186529521438648));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(-0.9097406761449208));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(0.09432142955765836));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(-0.09025565980993788));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(0.06523265122309238));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(0.3803541216520885));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(0.9993480783095962));
        q = f32x4.add(f32x4.mul(q, t), f32x4.splat(-1.265482274567872));
        const e = f32x4.mul(t, expv(f32x4.sub(q, f32x4.mul(z, z))));
        const r = v128.bitselect(e, f32x4.sub(two, e), f32x4.lt(x, zero));
        vstore(dst, i, f32x4.mul(f32x4.mul(half, x), r));
      }
      break;
    }
    case ACT_GELU_TANH: {
      // 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): no cancellation for x << 0.
      const c = f32x4.splat(-2 * 0.7978845608028654), k = f32x4.splat(0.044715), one = f32x4.splat(1);
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        const u = f32x4.mul(c, f32x4.add(x, f32x4.mul(k, f32x4.mul(x, f32x4.mul(x, x)))));
        vstore(dst, i, f32x4.div(x, f32x4.add(one, expv(u))));
      }
      break;
    }
    case ACT_SILU: {
      const b = f32x4.splat(-p0), one = f32x4.splat(1);
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        vstore(dst, i, f32x4.div(x, f32x4.add(one, expv(f32x4.mul(b, x)))));
      }
      break;
    }
    case ACT_HARD_SIGMOID:
    case ACT_HARD_SWISH: {
      const a = f32x4.splat(p0), b = f32x4.splat(p1), zero = f32x4.splat(0), one = f32x4.splat(1);
      const swish = kind == ACT_HARD_SWISH;
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        const h = f32x4.min(f32x4.max(f32x4.add(f32x4.mul(a, x), b), zero), one);
        vstore(dst, i, swish ? f32x4.mul(x, h) : h);
      }
      break;
    }
    case ACT_SIGMOID: {
      const one = f32x4.splat(1);
      for (; i < n4; i += 4) vstore(dst, i, f32x4.div(one, f32x4.add(one, expv(f32x4.neg(vload(src, i))))));
      break;
    }
    case ACT_TANH:
      for (; i < n4; i += 4) vstore(dst, i, tanhv(vload(src, i)));
      break;
    case ACT_SOFTSIGN: {
      const one = f32x4.splat(1);
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        vstore(dst, i, f32x4.div(x, f32x4.add(one, f32x4.abs(x))));
      }
      break;
    }
    case ACT_EXP:
      for (; i < n4; i += 4) vstore(dst, i, expv(vload(src, i)));
      break;
    case ACT_SQRT:
      for (; i < n4; i += 4) vstore(dst, i, f32x4.sqrt(vload(src, i)));
      break;
    case ACT_NEG:
      for (; i < n4; i += 4) vstore(dst, i, f32x4.neg(vload(src, i)));
      break;
    case ACT_ABS:
      for (; i < n4; i += 4) vstore(dst, i, f32x4.abs(vload(src, i)));
      break;
    case ACT_RECIPROCAL: {
      const one = f32x4.splat(1);
      for (; i < n4; i += 4) vstore(dst, i, f32x4.div(one, vload(src, i)));
      break;
    }
    case ACT_SQUARE:
      for (; i < n4; i += 4) {
        const x = vload(src, i);
        vstore(dst, i, f32x4.mul(x, x));
      }
      break;
    case ACT_FLOOR:
      for (; i < n4; i += 4) vstore(dst, i, f32x4.floor(vload(src, i)));
      break;
    case ACT_CEIL:
      for (; i < n4; i += 4) vstore(dst, i, f32x4.ceil(vload(src, i)));
      break;
    case ACT_ROUND:
      for (; i < n4; i += 4) vstore(dst, i, f32x4.nearest(vload(src, i)));
      break;
    default:
      break;
  }
  // The rest (and the functions without a vector form) one value at a time.
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(dst + at, scalar(kind, load<f32>(src + at), p0, p1, p2));
  }
}

/**
 * PReLU: x >= 0 ? x : slope x over `samples` samples of `size` values each; slope holds `size`
 * values (the host broadcasts the stored slope to one sample's shape first).
 */
export function prelu(src: usize, dst: usize, samples: i32, size: i32, slope: usize): void {
  const zero = f32x4.splat(0);
  const size4 = size & ~3;
  for (let s = 0; s < samples; s++) {
    const from = src + (<usize>s * size << 2), to = dst + (<usize>s * size << 2);
    let j = 0;
    for (; j < size4; j += 4) {
      const x = vload(from, j);
      vstore(to, j, v128.bitselect(f32x4.mul(x, vload(slope, j)), x, f32x4.lt(x, zero)));
    }
    for (; j < size; j++) {
      const x = load<f32>(from + (<usize>j << 2));
      store<f32>(to + (<usize>j << 2), x < 0 ? x * load<f32>(slope + (<usize>j << 2)) : x);
    }
  }
}

/**
 * Softmax (logSoftmax != 0: log-softmax) along one axis of a tensor seen as [outer, len, inner]:
 * the axis has `len` values `inner` apart. Max-subtracted; exponentials summed in f64.
 */
export function softmax(src: usize, dst: usize, outer: i32, len: i32, inner: i32, logSoftmax: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) softmaxRow(src + (<usize>o * len << 2), dst + (<usize>o * len << 2), len, logSoftmax != 0);
    return;
  }
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * len * inner;
    for (let j = 0; j < inner; j++) {
      const from = src + ((base + j) << 2), to = dst + ((base + j) << 2);
      let max = -Infinity;
      for (let t = 0; t < len; t++) {
        const x = <f64>load<f32>(from + <usize>t * stride);
        if (x > max || x != x) max = x;
      }
      let sum: f64 = 0;
      for (let t = 0; t < len; t++) sum += Math.exp(<f64>load<f32>(from + <usize>t * stride) - max);
      if (logSoftmax != 0) {
        const shift = max + Math.log(sum);
        for (let t = 0; t < len; t++) store<f32>(to + <usize>t * stride, <f32>(<f64>load<f32>(from + <usize>t * stride) - shift));
      } else {
        const scale = 1 / sum;
        for (let t = 0; t < len; t++) store<f32>(to + <usize>t * stride, <f32>(Math.exp(<f64>load<f32>(from + <usize>t * stride) - max) * scale));
      }
    }
  }
}

/** Softmax of one contiguous row: max, then e^(x - max) on f32x4 summed in f64, then scaled (or x - max - log sum). */
function softmaxRow(from: usize, to: usize, len: i32, logSoftmax: bool): void {
  const len4 = len & ~3;
  let max: f32 = -Infinity;
  let nan = false;
  let t = 0;
  if (len4 > 0) {
    let m = vload(from, 0);
    for (t = 4; t < len4; t += 4) m = f32x4.max(m, vload(from, t));
    max = Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  }
  for (t = len4; t < len; t++) max = Mathf.max(max, load<f32>(from + (<usize>t << 2)));
  nan = max != max;
  const shift = f32x4.splat(max);
  let sum: f64 = 0;
  for (t = 0; t < len4; t += 4) {
    const e = expv(f32x4.sub(vload(from, t), shift));
    if (!logSoftmax) vstore(to, t, e);
    const lo = f64x2.promote_low_f32x4(e), hi = f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1));
    const s2 = f64x2.add(lo, hi);
    sum += f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
  }
  for (t = len4; t < len; t++) {
    const e = <f32>Math.exp(<f64>load<f32>(from + (<usize>t << 2)) - <f64>max);
    if (!logSoftmax) store<f32>(to + (<usize>t << 2), e);
    sum += <f64>e;
  }
  if (nan) sum = NaN;
  if (logSoftmax) {
    const off = <f64>max + Math.log(sum);
    for (t = 0; t < len; t++) store<f32>(to + (<usize>t << 2), <f32>(<f64>load<f32>(from + (<usize>t << 2)) - off));
  } else {
    const scale = f32x4.splat(<f32>(1 / sum));
    for (t = 0; t < len4; t += 4) vstore(to, t, f32x4.mul(vload(to, t), scale));
    const s = <f32>(1 / sum);
    for (t = len4; t < len; t++) store<f32>(to + (<usize>t << 2), load<f32>(to + (<usize>t << 2)) * s);
  }
}

/** erf in f64 (exported for the tests): |error| < 1e-11 (the fits of erf(x)/x and erfc(x)·exp(x²) to 1e-11 relative). */
export function erf64(x: f64): f64 {
  const a = Math.abs(x);
  if (a < 1) return x * chebyshev(ERF_SMALL, 2 * x * x - 1);
  if (!(a < 12)) return a != a ? x : x > 0 ? 1 : -1;
  const e = erfcLarge(a);
  return x > 0 ? 1 - e : e - 1;
}

/** erfc in f64 without the cancellation of 1 - erf for large x: within 1e-11 relative for x >= 1. */
export function erfc64(x: f64): f64 {
  const a = Math.abs(x);
  if (a < 1) return 1 - x * chebyshev(ERF_SMALL, 2 * x * x - 1);
  if (a != a) return x;
  const e = a < 12 ? erfcLarge(a) : erfcAsymptotic(a);
  return x > 0 ? e : 2 - e;
}

// ------------------------------------------------------------------------------------ scalar

function scalar(kind: i32, xf: f32, p0: f32, p1: f32, p2: f32): f32 {
  const x = <f64>xf;
  switch (kind) {
    case ACT_RELU: {
      // Keras: x above the threshold passes, clipped to [0, max] when a max is set; below it, slope (x - threshold).
      let y: f64 = x > p1 ? x : 0;
      if (p2 != Infinity) y = Math.min(Math.max(y, 0), <f64>p2);
      if (p0 != 0 && x < p1) y += <f64>p0 * (x - <f64>p1);
      return x != x ? xf : <f32>y;
    }
    case ACT_CLIP: return x != x ? xf : <f32>Math.min(Math.max(x, <f64>p0), <f64>p1);
    case ACT_LEAKY: return x < 0 ? <f32>(x * p0) : xf;
    case ACT_ELU: return x > 0 ? <f32>(<f64>p1 * x) : <f32>(<f64>p1 * <f64>p0 * Math.expm1(x * <f64>p2));
    case ACT_GELU: return <f32>(0.5 * x * erfc64(-x * 0.7071067811865476));
    case ACT_GELU_TANH: {
      const u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
      return <f32>(x / (1 + Math.exp(-2 * u)));
    }
    case ACT_SILU: return <f32>(x / (1 + Math.exp(-<f64>p0 * x)));
    case ACT_HARD_SIGMOID: return x != x ? xf : <f32>Math.min(Math.max(<f64>p0 * x + <f64>p1, 0), 1);
    case ACT_HARD_SWISH: return <f32>(x * Math.min(Math.max(<f64>p0 * x + <f64>p1, 0), 1));
    case ACT_SIGMOID: return <f32>(1 / (1 + Math.exp(-x)));
    case ACT_TANH: return <f32>Math.tanh(x);
    case ACT_SOFTPLUS: return <f32>softplus(x);
    case ACT_SOFTSIGN: return <f32>(x / (1 + Math.abs(x)));
    case ACT_MISH: return <f32>(x * Math.tanh(softplus(x)));
    case ACT_EXP: return <f32>Math.exp(x);
    case ACT_LOG: return <f32>Math.log(x);
    case ACT_SQRT: return Mathf.sqrt(xf);
    case ACT_NEG: return -xf;
    case ACT_ABS: return Mathf.abs(xf);
    case ACT_RECIPROCAL: return 1 / xf;
    case ACT_ERF: return <f32>erf64(x);
    case ACT_THRESHOLDED: return xf > p0 ? xf : 0;
    case ACT_RSQRT: return <f32>(1 / Math.sqrt(x));
    case ACT_SQUARE: return xf * xf;
    case ACT_LOG1P: return <f32>Math.log1p(x);
    case ACT_FLOOR: return Mathf.floor(xf);
    case ACT_CEIL: return Mathf.ceil(xf);
    case ACT_ROUND: return nearest<f32>(xf);
    case ACT_SIGN: return xf > 0 ? 1 : xf < 0 ? -1 : xf;
    case ACT_SIN: return <f32>Math.sin(x);
    case ACT_COS: return <f32>Math.cos(x);
    case ACT_SHRINK: return xf < -p1 ? xf + p0 : xf > p1 ? xf - p0 : 0;
    default: return xf;
  }
}

/** log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
function softplus(x: f64): f64 {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

// Chebyshev coefficients (numpy.polynomial.chebyshev convention: f(t) = sum c_k T_k(t), t in [-1, 1]).
// erf(x) / x as a function of t = 2 x^2 - 1, |x| < 1.
const ERF_SMALL = memory.data<f64>([
  0.9754769393826545, -0.1422612051037136, 0.010035582187599786, -0.0005768764699766978, 2.7419931252228874e-05, -1.1043175506787411e-06,
  3.8488755462206225e-08, -1.1808581744898014e-09, 3.233422502887798e-11, -7.990676456518272e-13, 1.801681096339632e-14, -3.0224279829662674e-16, 0.0,
]);
// erfc(a) exp(a^2) on [1, 2.5], [2.5, 4.5], [4.5, 7], [7, 12], t = (2a - (lo + hi)) / (hi - lo).
const ERFC_1 = memory.data<f64>([
  0.3017138902444293, -0.10574990110152695, 0.017104848474406735, -0.0025876822611350346, 0.0003696145268036957, -5.019856060518659e-05,
  6.517935170580455e-06, -8.126449775190698e-07, 9.763690285439174e-08, -1.133813655379129e-08, 1.275786933092608e-09, -1.3939980716908017e-10, 1.481864253152958e-11,
]);
const ERFC_2 = memory.data<f64>([
  0.16088081081780142, -0.04343026315197238, 0.005674710582267427, -0.0007196936657057846, 8.879290266673318e-05, -1.0677400532496594e-05,
  1.2535047206657272e-06, -1.4387475826901325e-07, 1.6165599190635768e-08, -1.7800661692549842e-09, 1.9228900948990444e-10, -2.0395748327864484e-11, 2.1259169647512724e-12,
]);
const ERFC_3 = memory.data<f64>([
  0.09889695534828742, -0.02110927235595922, 0.002221586115406148, -0.00023068494640006272, 2.3646073190692497e-05, -2.393773400994229e-06,
  2.394290783199529e-07, -2.367079970445101e-08, 2.3139374325652975e-09, -2.237395519532675e-10, 2.1405549367435806e-11, -2.0269030090755263e-12, 1.9002043981220395e-13,
]);
const ERFC_4 = memory.data<f64>([
  0.06115960143235807, -0.01618928685262573, 0.0021306243168987384, -0.0002788517727834913, 3.6296695099982746e-05, -4.699225083078511e-06,
  6.051846474740079e-07, -7.753321157091508e-08, 9.88235341312821e-09, -1.2532539992586828e-09, 1.5814522836969876e-10, -1.9858359160531403e-11, 2.4815762711078946e-12,
]);
const TERMS = 13;

/** Clenshaw's sum of TERMS Chebyshev coefficients at t. */
function chebyshev(c: usize, t: f64): f64 {
  let b1: f64 = 0, b2: f64 = 0;
  const t2 = 2 * t;
  for (let k = TERMS - 1; k >= 1; k--) {
    const b0 = load<f64>(c + (<usize>k << 3)) + t2 * b1 - b2;
    b2 = b1;
    b1 = b0;
  }
  return load<f64>(c) + t * b1 - b2;
}

/** erfc(a) for 1 <= a < 12. */
function erfcLarge(a: f64): f64 {
  let g: f64;
  if (a < 2.5) g = chebyshev(ERFC_1, (2 * a - 3.5) / 1.5);
  else if (a < 4.5) g = chebyshev(ERFC_2, (2 * a - 7) / 2);
  else if (a < 7) g = chebyshev(ERFC_3, (2 * a - 11.5) / 2.5);
  else g = chebyshev(ERFC_4, (2 * a - 19) / 5);
  return g * Math.exp(-a * a);
}

/** erfc(a) for a >= 12: the asymptotic series e^(-a^2) / (a sqrt(pi)) (1 - 1/(2a^2) + 3/(2a^2)^2 - ...), seven terms (< 1e-12 relative). */
function erfcAsymptotic(a: f64): f64 {
  const u = 1 / (2 * a * a);
  const s = 1 - u * (1 - 3 * u * (1 - 5 * u * (1 - 7 * u * (1 - 9 * u * (1 - 11 * u)))));
  return Math.exp(-a * a) / (a * 1.7724538509055159) * s;
}

// ------------------------------------------------------------------------------------ vectors

// @ts-ignore: decorator
@inline function vload(p: usize, i: i32): v128 {
  return v128.load(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function vstore(p: usize, i: i32, v: v128): void {
  v128.store(p + (<usize>i << 2), v);
}


/** e^x - 1: a Taylor polynomial for |x| < 0.35 (where e^x - 1 cancels), expv otherwise. */
// @ts-ignore: decorator
@inline function expm1v(x: v128): v128 {
  let p = f32x4.splat(1.0 / 40320);
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 5040));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 720));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(f32x4.mul(p, x), x), x);
  const big = f32x4.sub(expv(x), f32x4.splat(1));
  return v128.bitselect(p, big, f32x4.lt(f32x4.abs(x), f32x4.splat(0.35)));
}

