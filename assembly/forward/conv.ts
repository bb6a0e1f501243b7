// Forward kernels: convolutions (see src/forward/ops/conv.ts). Ordinary convs are im2col + gemm
// (the host calls gemm on the columns these kernels write); depthwise convs run directly; a
// transposed conv is gemm into columns, then col2im scatters them into the output.
//
// Geometry of one axis: output position o reads input o*s - padBegin + k*d for taps k; positions
// outside [0, size) are zero padding. Channels-first maps are [c, h, w], channels-last [h, w, c].

/** First output position whose tap at `offset` (= k*d - padBegin) lands at input >= 0. */
@inline function firstInside(offset: i32, stride: i32): i32 {
  // smallest o with o*s + offset >= 0
  if (offset >= 0) return 0;
  return (-offset + stride - 1) / stride;
}

/** One past the last output position whose tap at `offset` lands at input < size. */
@inline function endInside(offset: i32, stride: i32, size: i32, out: i32): i32 {
  // largest o with o*s + offset <= size - 1, plus one
  const top = size - 1 - offset;
  if (top < 0) return 0;
  const e = top / stride + 1;
  return e < out ? e : out;
}

/**
 * Channels-first im2col of one group: x [C, H, W] -> col [C*kh*kw, oh*ow], rows (c, ky, kx).
 * Taps on padding are 0.
 */
export function convIm2colCF(x: usize, col: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  const n = <usize>oh * ow;
  let row = col;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    for (let ky = 0; ky < kh; ky++) {
      const offY = ky * dh - pt;
      const y0 = firstInside(offY, sh), y1 = endInside(offY, sh, H, oh);
      for (let kx = 0; kx < kw; kx++) {
        const offX = kx * dw - pl;
        const x0 = firstInside(offX, sw), x1 = endInside(offX, sw, W, ow);
        if (y0 >= y1 || x0 >= x1) {
          memory.fill(row, 0, n << 2);
          row += n << 2;
          continue;
        }
        if (y0 > 0) memory.fill(row, 0, (<usize>y0 * ow) << 2);
        for (let oy = y0; oy < y1; oy++) {
          const dst = row + ((<usize>oy * ow) << 2);
          const src = plane + ((<usize>(oy * sh + offY) * W) << 2);
          if (x0 > 0) memory.fill(dst, 0, <usize>x0 << 2);
          if (sw == 1) {
            memory.copy(dst + (<usize>x0 << 2), src + (<usize>(x0 + offX) << 2), <usize>(x1 - x0) << 2);
          } else {
            for (let ox = x0; ox < x1; ox++) store<f32>(dst + (<usize>ox << 2), load<f32>(src + (<usize>(ox * sw + offX) << 2)));
          }
          if (x1 < ow) memory.fill(dst + (<usize>x1 << 2), 0, <usize>(ow - x1) << 2);
        }
        if (y1 < oh) memory.fill(row + ((<usize>y1 * ow) << 2), 0, (<usize>(oh - y1) * ow) << 2);
        row += n << 2;
      }
    }
  }
}

/**
 * Channels-last im2col of one group: x [H, W, C] (the group's Cg channels start at x) ->
 * col [oh*ow, kh*kw*Cg], columns (ky, kx, c).
 */
export function convIm2colCL(x: usize, col: usize, C: i32, Cg: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  const run = <usize>Cg << 2;
  let dst = col;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dw;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) memory.fill(dst, 0, run);
          else memory.copy(dst, x + ((<usize>(iy * W + ix) * C) << 2), run);
          dst += run;
        }
      }
    }
  }
}

/**
 * Channels-first col2im of one group (transposed conv): col [Co*kh*kw, H*W], rows (co, ky, kx),
 * added into out [Co, oh, ow] at oy = iy*sh - pt + ky*dh (positions outside the output dropped).
 */
export function convCol2imCF(col: usize, out: usize, Co: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  let row = col;
  for (let c = 0; c < Co; c++) {
    const plane = out + ((<usize>c * oh * ow) << 2);
    for (let ky = 0; ky < kh; ky++) {
      const offY = ky * dh - pt;
      const y0 = firstInside(offY, sh), y1 = endInside(offY, sh, oh, H);
      for (let kx = 0; kx < kw; kx++) {
        const offX = kx * dw - pl;
        const x0 = firstInside(offX, sw), x1 = endInside(offX, sw, ow, W);
        for (let iy = y0; iy < y1; iy++) {
          const src = row + ((<usize>iy * W) << 2);
          const dst = plane + ((<usize>(iy * sh + offY) * ow) << 2);
          for (let ix = x0; ix < x1; ix++) {
            const at = dst + (<usize>(ix * sw + offX) << 2);
            store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>ix << 2)));
          }
        }
        row += (<usize>H * W) << 2;
      }
    }
  }
}

/**
 * Channels-last col2im of one group: col [H*W, kh*kw*Cog], columns (ky, kx, co), added into
 * out [oh, ow, Cout] (the group's channels start at out).
 */
export function convCol2imCL(col: usize, out: usize, Cout: i32, Cog: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  let src = col;
  for (let iy = 0; iy < H; iy++) {
    for (let ix = 0; ix < W; ix++) {
      for (let ky = 0; ky < kh; ky++) {
        const oy = iy * sh - pt + ky * dh;
        for (let kx = 0; kx < kw; kx++) {
          const ox = ix * sw - pl + kx * dw;
          if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
            const dst = out + ((<usize>(oy * ow + ox) * Cout) << 2);
            let c = 0;
            for (; c + 4 <= Cog; c += 4) {
              const at = dst + (<usize>c << 2);
              v128.store(at, f32x4.add(v128.load(at), v128.load(src + (<usize>c << 2))));
            }
            for (; c < Cog; c++) {
              const at = dst + (<usize>c << 2);
              store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>c << 2)));
            }
          }
          src += <usize>Cog << 2;
        }
      }
    }
  }
}

/** out += bias per channel: [C, S] (channels first) or [S, C] (channels last). */
export function convAddBias(out: usize, bias: usize, C: i32, S: i32, channelsLast: i32): void {
  if (channelsLast != 0) {
    for (let s = 0; s < S; s++) {
      const row = out + ((<usize>s * C) << 2);
      let c = 0;
      for (; c + 4 <= C; c += 4) v128.store(row + (<usize>c << 2), f32x4.add(v128.load(row + (<usize>c << 2)), v128.load(bias + (<usize>c << 2))));
      for (; c < C; c++) store<f32>(row + (<usize>c << 2), load<f32>(row + (<usize>c << 2)) + load<f32>(bias + (<usize>c << 2)));
    }
  } else {
    for (let c = 0; c < C; c++) {
      const b = load<f32>(bias + (<usize>c << 2));
      const vb = f32x4.splat(b);
      const row = out + ((<usize>c * S) << 2);
      let s = 0;
      for (; s + 4 <= S; s += 4) v128.store(row + (<usize>s << 2), f32x4.add(v128.load(row + (<usize>s << 2)), vb));
      for (; s < S; s++) store<f32>(row + (<usize>s << 2), load<f32>(row + (<usize>s << 2)) + b);
    }
  }
}

/**
 * Depthwise conv, channels first: x [C, H, W], w [C*mult, kh, kw] (oihw with c_in/g = 1), out
 * [C*mult, oh, ow]; output channel co reads input channel co / mult. bias: 0 for none.
 */
export function convDepthwiseCF(x: usize, w: usize, bias: usize, out: usize, C: i32, mult: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  const Cout = C * mult;
  const plane = <usize>oh * ow;
  for (let co = 0; co < Cout; co++) {
    const dst = out + ((<usize>co * plane) << 2);
    const b: f32 = bias != 0 ? load<f32>(bias + (<usize>co << 2)) : 0;
    const vb = f32x4.splat(b);
    let i: usize = 0;
    for (; i + 4 <= plane; i += 4) v128.store(dst + (i << 2), vb);
    for (; i < plane; i++) store<f32>(dst + (i << 2), b);
    const src = x + ((<usize>(co / mult) * H * W) << 2);
    for (let ky = 0; ky < kh; ky++) {
      const offY = ky * dh - pt;
      const y0 = firstInside(offY, sh), y1 = endInside(offY, sh, H, oh);
      for (let kx = 0; kx < kw; kx++) {
        const wv = load<f32>(w + ((<usize>(co * kh + ky) * kw + kx) << 2));
        const vw = f32x4.splat(wv);
        const offX = kx * dw - pl;
        const x0 = firstInside(offX, sw), x1 = endInside(offX, sw, W, ow);
        if (x0 >= x1) continue;
        for (let oy = y0; oy < y1; oy++) {
          const o = dst + ((<usize>oy * ow) << 2);
          const r = src + ((<usize>(oy * sh + offY) * W) << 2);
          let ox = x0;
          if (sw == 1) {
            for (; ox + 4 <= x1; ox += 4) {
              const at = o + (<usize>ox << 2);
              v128.store(at, f32x4.add(v128.load(at), f32x4.mul(vw, v128.load(r + (<usize>(ox + offX) << 2)))));
            }
          }
          for (; ox < x1; ox++) {
            const at = o + (<usize>ox << 2);
            store<f32>(at, load<f32>(at) + wv * load<f32>(r + (<usize>(ox * sw + offX) << 2)));
          }
        }
      }
    }
  }
}

/**
 * Depthwise conv, channels last: x [H, W, C], w [kh, kw, C*mult] (hwio with c_in/g = 1), out
 * [oh, ow, C*mult]; output channel co reads input channel co / mult. bias: 0 for none.
 */
export function convDepthwiseCL(x: usize, w: usize, bias: usize, out: usize, C: i32, mult: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  const Cout = C * mult;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const dst = out + ((<usize>(oy * ow + ox) * Cout) << 2);
      let c = 0;
      if (bias != 0) memory.copy(dst, bias, <usize>Cout << 2);
      else memory.fill(dst, 0, <usize>Cout << 2);
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dw;
          if (ix < 0 || ix >= W) continue;
          const src = x + ((<usize>(iy * W + ix) * C) << 2);
          const wr = w + ((<usize>(ky * kw + kx) * Cout) << 2);
          if (mult == 1) {
            c = 0;
            for (; c + 4 <= Cout; c += 4) {
              const at = dst + (<usize>c << 2);
              v128.store(at, f32x4.add(v128.load(at), f32x4.mul(v128.load(src + (<usize>c << 2)), v128.load(wr + (<usize>c << 2)))));
            }
            for (; c < Cout; c++) {
              const at = dst + (<usize>c << 2);
              store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>c << 2)) * load<f32>(wr + (<usize>c << 2)));
            }
          } else {
            for (let ci = 0; ci < C; ci++) {
              const xv = load<f32>(src + (<usize>ci << 2));
              for (let m = 0; m < mult; m++) {
                const co = ci * mult + m;
                const at = dst + (<usize>co << 2);
                store<f32>(at, load<f32>(at) + xv * load<f32>(wr + (<usize>co << 2)));
              }
            }
          }
        }
      }
    }
  }
}
