// Forward kernels: recurrent cells, embedding lookups and attention (see src/forward/ops/recurrent.ts
// and src/forward/ops/attention.ts). The host does the matrix products with gemm (the input
// projection of every step at once, then h R^T per step); these kernels do one step's gate math.
// Gates arrive in a canonical order: LSTM i, f, c, o; GRU z, r, h. Row-major f32; `ld*` are row
// lengths in f32 values, so a step's rows can sit inside a bigger [B, T, ...] or [T, B, ...] block.
import { expv, tanhv } from "./vmath";

/** Activation codes: 0 linear, 1 tanh, 2 sigmoid, 3 relu, 4 hard sigmoid max(0, min(1, 0.2x + 0.5)) (ONNX's default alpha and beta). */

@inline function vact(x: v128, kind: i32): v128 {
  if (kind == 1) return tanhv(x);
  if (kind == 2) return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expv(f32x4.neg(x))));
  if (kind == 3) return f32x4.max(x, f32x4.splat(0));
  if (kind == 4) return f32x4.max(f32x4.splat(0), f32x4.min(f32x4.splat(1), f32x4.add(f32x4.mul(x, f32x4.splat(0.2)), f32x4.splat(0.5))));
  return x;
}

/** ONNX clip: gate inputs to [-clip, clip] (clip <= 0: none). */
@inline function vclamp(x: v128, clip: f32): v128 {
  return clip > 0 ? f32x4.min(f32x4.max(x, f32x4.splat(-clip)), f32x4.splat(clip)) : x;
}

/** Address of [row, col] in a row-major block with rows of ld values. */
@inline function at(base: usize, row: i32, ld: i32, col: i32): usize {
  return base + ((<usize>row * ld + col) << 2);
}

/** Four lanes from p, or (tail: lanes < 4) the first `lanes` values and zeros. */
@inline function ld4(p: usize, lanes: i32): v128 {
  if (lanes == 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 8));
  return v;
}

@inline function st4(p: usize, v: v128, lanes: i32): void {
  if (lanes == 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
  if (lanes > 2) store<f32>(p + 8, f32x4.extract_lane(v, 2));
}

/** Simple RNN step: h = act(g) where g = x W^T + h R^T + b (already summed by the host); y and z (the argument of act) get row b at b * ld. */
export function rnnStep(g: usize, ldg: i32, h: usize, y: usize, ldy: i32, z: usize, ldz: i32, batch: i32, hidden: i32, fAct: i32, clip: f32): void {
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j += 4) {
      const n = min(4, hidden - j);
      const pre = vclamp(ld4(at(g, b, ldg, j), n), clip);
      const v = vact(pre, fAct);
      st4(at(h, b, hidden, j), v, n);
      st4(at(y, b, ldy, j), v, n);
      if (z != 0) st4(at(z, b, ldz, j), pre, n);
    }
  }
}

/**
 * LSTM step over gate pre-activations g [batch, 4H] (i, f, c, o): c = f * c + i * gAct(c~),
 * h = o * hAct(c). c is updated in place; h written to h [batch, H] and y; z gets c.
 * inputForget: f = 1 - i (ONNX input_forget).
 */
export function lstmStep(g: usize, ldg: i32, c: usize, h: usize, y: usize, ldy: i32, z: usize, ldz: i32, batch: i32, hidden: i32, fAct: i32, gAct: i32, hAct: i32, clip: f32, inputForget: i32): void {
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j += 4) {
      const n = min(4, hidden - j);
      const i = vact(vclamp(ld4(at(g, b, ldg, j), n), clip), fAct);
      const f = inputForget != 0 ? f32x4.sub(f32x4.splat(1), i) : vact(vclamp(ld4(at(g, b, ldg, hidden + j), n), clip), fAct);
      const cand = vact(vclamp(ld4(at(g, b, ldg, 2 * hidden + j), n), clip), gAct);
      const o = vact(vclamp(ld4(at(g, b, ldg, 3 * hidden + j), n), clip), fAct);
      const cell = f32x4.add(f32x4.mul(f, ld4(at(c, b, hidden, j), n)), f32x4.mul(i, cand));
      st4(at(c, b, hidden, j), cell, n);
      const v = f32x4.mul(o, vact(cell, hAct));
      st4(at(h, b, hidden, j), v, n);
      st4(at(y, b, ldy, j), v, n);
      if (z != 0) st4(at(z, b, ldz, j), cell, n);
    }
  }
}

/** GRU with the reset gate before the recurrent product (ONNX linear_before_reset = 0): rh = r * h, for the host's rh R_h^T. */
export function gruReset(g: usize, ldg: i32, hr: usize, h: usize, rh: usize, batch: i32, hidden: i32, fAct: i32, clip: f32): void {
  const ldr = 3 * hidden;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j += 4) {
      const n = min(4, hidden - j);
      const r = vact(vclamp(f32x4.add(ld4(at(g, b, ldg, hidden + j), n), ld4(at(hr, b, ldr, hidden + j), n)), clip), fAct);
      st4(at(rh, b, hidden, j), f32x4.mul(r, ld4(at(h, b, hidden, j), n)), n);
    }
  }
}

/**
 * GRU step: g [batch, 3H] the input side (z, r, h) with the biases folded in, hr [batch, 3H] the
 * recurrent side (h R^T; its h block is (r * h) R_h^T when linearBeforeReset = 0, else h R_h^T + Rb_h).
 * n = gAct(g_h + (lbr ? r * hr_h : hr_h)), h = (1 - z) * n + z * h (in place); z gets n's argument.
 */
export function gruStep(g: usize, ldg: i32, hr: usize, h: usize, y: usize, ldy: i32, z: usize, ldz: i32, batch: i32, hidden: i32, fAct: i32, gAct: i32, clip: f32, linearBeforeReset: i32): void {
  const ldr = 3 * hidden;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j += 4) {
      const n = min(4, hidden - j);
      const u = vact(vclamp(f32x4.add(ld4(at(g, b, ldg, j), n), ld4(at(hr, b, ldr, j), n)), clip), fAct);
      let rec = ld4(at(hr, b, ldr, 2 * hidden + j), n);
      if (linearBeforeReset != 0) {
        const r = vact(vclamp(f32x4.add(ld4(at(g, b, ldg, hidden + j), n), ld4(at(hr, b, ldr, hidden + j), n)), clip), fAct);
        rec = f32x4.mul(r, rec);
      }
      const pre = vclamp(f32x4.add(ld4(at(g, b, ldg, 2 * hidden + j), n), rec), clip);
      const cand = vact(pre, gAct);
      const v = f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), u), cand), f32x4.mul(u, ld4(at(h, b, hidden, j), n)));
      st4(at(h, b, hidden, j), v, n);
      st4(at(y, b, ldy, j), v, n);
      if (z != 0) st4(at(z, b, ldz, j), pre, n);
    }
  }
}

/** Rows of a table [vocab, dim] by id (f32 holding integers): out [n, dim]. Returns -1, or the position of the first id that is not a row. */
export function lookupRows(ids: usize, n: i32, table: usize, vocab: i32, dim: i32, out: usize): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(ids + (<usize>i << 2));
    if (!(v >= 0 && v < <f32>vocab) || v != Mathf.floor(v)) return i;
    memory.copy(out + ((<usize>i * dim) << 2), table + ((<usize>(<i32>v) * dim) << 2), <usize>dim << 2);
  }
  return -1;
}

/**
 * Scaled dot-product attention of one sample: q [S, heads·d], k and v [S, kvHeads·d] (row lengths
 * ldq, ldk, ldv), out [S, heads·d]; head h reads k/v head h / (heads / kvHeads). Causal: position i
 * sees keys 0..i. scores: room for S f32 values.
 */
export function attention(q: usize, k: usize, v: usize, out: usize, seq: i32, heads: i32, kvHeads: i32, dim: i32, ldq: i32, ldk: i32, ldv: i32, ldo: i32, causal: i32, scale: f32, scores: usize): void {
  const group = heads / kvHeads;
  for (let h = 0; h < heads; h++) {
    const kh = h / group;
    for (let i = 0; i < seq; i++) {
      const qi = at(q, i, ldq, h * dim);
      const last = causal != 0 ? i : seq - 1;
      let top: f32 = -Infinity;
      for (let j = 0; j <= last; j++) {
        const kj = at(k, j, ldk, kh * dim);
        let p = 0;
        let acc = f32x4.splat(0);
        for (; p + 4 <= dim; p += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qi + (<usize>p << 2)), v128.load(kj + (<usize>p << 2))));
        let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
        for (; p < dim; p++) s += load<f32>(qi + (<usize>p << 2)) * load<f32>(kj + (<usize>p << 2));
        s *= scale;
        store<f32>(scores + (<usize>j << 2), s);
        if (s > top) top = s;
      }
      let total: f32 = 0;
      for (let j = 0; j <= last; j++) {
        const e = Mathf.exp(load<f32>(scores + (<usize>j << 2)) - top);
        store<f32>(scores + (<usize>j << 2), e);
        total += e;
      }
      const oi = at(out, i, ldo, h * dim);
      for (let p = 0; p < dim; p++) store<f32>(oi + (<usize>p << 2), 0);
      for (let j = 0; j <= last; j++) {
        const w = f32x4.splat(load<f32>(scores + (<usize>j << 2)) / total);
        const vj = at(v, j, ldv, kh * dim);
        let p = 0;
        for (; p + 4 <= dim; p += 4) v128.store(oi + (<usize>p << 2), f32x4.add(v128.load(oi + (<usize>p << 2)), f32x4.mul(w, v128.load(vj + (<usize>p << 2)))));
        for (; p < dim; p++) store<f32>(oi + (<usize>p << 2), load<f32>(oi + (<usize>p << 2)) + f32x4.extract_lane(w, 0) * load<f32>(vj + (<usize>p << 2)));
      }
    }
  }
}
