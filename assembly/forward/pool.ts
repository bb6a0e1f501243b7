// Forward kernels: pooling, resize and index copies (pad, depth_to_space) (see src/forward/ops/pool.ts).

/**
 * Max (mode 0) or average (mode 1) pooling of one sample: x [C, H, W] or [H, W, C] (channelsLast)
 * -> out [C, oh, ow] or [oh, ow, C]. Window of output o: taps o*s - padBegin + k*d.
 * includePad 0: taps off the image are skipped (max ignores them; the average divides by the taps
 * on the image). includePad 1: taps on the padded image [-padBegin, size + padEnd) count as zeros
 * (max sees a 0; the average divides by those taps, PyTorch's and ONNX's count_include_pad);
 * taps past the padded image (ceil mode) are skipped.
 */
export function poolWindow(x: usize, out: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, pb: i32, pr: i32, oh: i32, ow: i32, mode: i32, includePad: i32, channelsLast: i32): void {
  const cs: usize = channelsLast != 0 ? 1 : <usize>H * W;
  const ps: usize = channelsLast != 0 ? <usize>C : 1;
  const ocs: usize = channelsLast != 0 ? 1 : <usize>oh * ow;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * cs) << 2);
    const oplane = out + ((<usize>c * ocs) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best: f64 = -Infinity;
        let sum: f64 = 0;
        let count = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          const inY = iy >= 0 && iy < H;
          const padY = iy >= -pt && iy < H + pb;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (inY && ix >= 0 && ix < W) {
              const v = <f64>load<f32>(plane + ((<usize>(iy * W + ix) * ps) << 2));
              if (mode == 0) {
                if (v > best || isNaN(v)) best = isNaN(best) ? best : v;
              } else sum += v;
              count++;
            } else if (includePad != 0 && padY && ix >= -pl && ix < W + pr) {
              if (mode == 0) {
                if (0 > best) best = isNaN(best) ? best : 0;
              }
              count++;
            }
          }
        }
        const v: f64 = mode == 0 ? best : sum / <f64>count;
        store<f32>(oplane + ((<usize>(oy * ow + ox) * ps) << 2), <f32>v);
      }
    }
  }
}

/** Global max (mode 0) or average (mode 1) over S positions of one sample: x [C, S] or [S, C] -> out [C]. */
export function poolGlobal(x: usize, out: usize, C: i32, S: i32, mode: i32, channelsLast: i32): void {
  const cs: usize = channelsLast != 0 ? 1 : <usize>S;
  const ps: usize = channelsLast != 0 ? <usize>C : 1;
  for (let c = 0; c < C; c++) {
    const base = x + ((<usize>c * cs) << 2);
    let best: f64 = -Infinity;
    let sum: f64 = 0;
    for (let s = 0; s < S; s++) {
      const v = <f64>load<f32>(base + ((<usize>s * ps) << 2));
      if (mode == 0) {
        if (v > best || isNaN(v)) best = isNaN(best) ? best : v;
      } else sum += v;
    }
    store<f32>(out + (<usize>c << 2), <f32>(mode == 0 ? best : sum / <f64>S));
  }
}

/**
 * Resize of one sample, 2-D: x [C, H, W] or [H, W, C] -> out [C, oh, ow] or [oh, ow, C]. Per
 * output row and column the host gives two source indices (i32) and the weight of the second
 * (f32): yi [oh*2], yw [oh], xi [ow*2], xw [ow]. linear 0: the first index only (nearest).
 */
export function poolResize(x: usize, out: usize, C: i32, H: i32, W: i32, oh: i32, ow: i32, yi: usize, yw: usize, xi: usize, xw: usize, linear: i32, channelsLast: i32): void {
  const cs: usize = channelsLast != 0 ? 1 : <usize>H * W;
  const ps: usize = channelsLast != 0 ? <usize>C : 1;
  const ocs: usize = channelsLast != 0 ? 1 : <usize>oh * ow;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * cs) << 2);
    const oplane = out + ((<usize>c * ocs) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const y0 = load<i32>(yi + (<usize>(2 * oy) << 2)), y1 = load<i32>(yi + (<usize>(2 * oy + 1) << 2));
      const wy = load<f32>(yw + (<usize>oy << 2));
      for (let ox = 0; ox < ow; ox++) {
        const x0 = load<i32>(xi + (<usize>(2 * ox) << 2)), x1 = load<i32>(xi + (<usize>(2 * ox + 1) << 2));
        const a = load<f32>(plane + ((<usize>(y0 * W + x0) * ps) << 2));
        let v = a;
        if (linear != 0) {
          const wx = load<f32>(xw + (<usize>ox << 2));
          const b = load<f32>(plane + ((<usize>(y0 * W + x1) * ps) << 2));
          const c0 = load<f32>(plane + ((<usize>(y1 * W + x0) * ps) << 2));
          const d = load<f32>(plane + ((<usize>(y1 * W + x1) * ps) << 2));
          const top = a + (b - a) * wx;
          const bottom = c0 + (d - c0) * wx;
          v = top + (bottom - top) * wy;
        }
        store<f32>(oplane + ((<usize>(oy * ow + ox) * ps) << 2), v);
      }
    }
  }
}

/**
 * Index copy of every sample: out[s][i] = x[s][idx[i]], or `fill` where idx[i] < 0 (pads,
 * depth_to_space, space_to_depth). n output and inSize input elements per sample.
 */
export function poolGather(x: usize, out: usize, idx: usize, n: i32, inSize: i32, samples: i32, fill: f32): void {
  for (let s = 0; s < samples; s++) {
    const src = x + ((<usize>s * inSize) << 2);
    const dst = out + ((<usize>s * n) << 2);
    for (let i = 0; i < n; i++) {
      const j = load<i32>(idx + (<usize>i << 2));
      store<f32>(dst + (<usize>i << 2), j < 0 ? fill : load<f32>(src + (<usize>j << 2)));
    }
  }
}
