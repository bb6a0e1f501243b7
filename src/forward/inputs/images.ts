/**
 * Input samples from images: decoded pixels (RGBA bytes with width and height, as a canvas's
 * ImageData gives them) turned into one sample of the shape a model takes. No DOM here: the
 * caller decodes (the browser app with createImageBitmap + OffscreenCanvas), so this runs in
 * Node too.
 *
 *   pixels   RGBA, 8 bits a channel, row-major; alpha is ignored (no compositing)
 *   colour   C = 3: R, G, B; C = 1: ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B of the stored
 *            (gamma-encoded) bytes, as PIL's convert("L") but in float64, not rounded to a byte
 *   resize   per axis, from the colour values: when an axis grows, bilinear with half-pixel
 *            centres (src = (dst + 0.5) * in / out - 0.5, clamped to >= 0; the neighbours clamped
 *            at the far edge), as torch.nn.functional.interpolate(mode="bilinear",
 *            align_corners=False, antialias=False) and torchvision's resize(antialias=False);
 *            when an axis shrinks, area averaging: an output pixel is the mean of the source
 *            interval [dst * in / out, (dst + 1) * in / out), pixels cut by its edges weighted by
 *            the part inside (OpenCV's INTER_AREA when shrinking). `resize: "bilinear"` uses
 *            bilinear for shrinking too (PIL's BILINEAR differs there: it antialiases).
 *   values   byte v -> lo + (hi - lo) * v / 255 with `range` [lo, hi] (default [0, 1]), then
 *            optionally (x - mean[c]) / std[c] (`normalize`, e.g. IMAGENET)
 *   layout   of one sample: [C, H, W] (channels first), [H, W, C] (channels last), [H, W]
 *            (one channel), or flat [H * W * C] in H, W, C order (an MLP on a flattened image:
 *            [64] is 8 x 8 grayscale, [3072] is 32 x 32 RGB)
 *
 * The sums run in float64 and the result is rounded to f32 once.
 */
import { CntError, formatShape } from "../../errors.js";
import type { Dim } from "../../graph/types.js";
import type { SampleSource } from "./types.js";

/** One decoded image: RGBA bytes, `width * height * 4` of them (an ImageData). */
export interface DecodedImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** How one sample of the model's input holds an image. */
export interface ImageTarget {
  height: number;
  width: number;
  channels: 1 | 3;
  /** chw: [C, H, W]; hwc: [H, W, C]; hw: [H, W] (C = 1); flat: [H * W * C] in H, W, C order. */
  layout: "chw" | "hwc" | "hw" | "flat";
  /** One sample's shape as the model takes it. */
  shape: number[];
}

export interface ImageOptions {
  /** The value a byte of 0 and of 255 becomes (before `normalize`); default [0, 1]. */
  range?: [number, number];
  /** Per channel (one value for all channels, or one per channel): x -> (x - mean) / std. */
  normalize?: { mean: number[]; std: number[] };
  /** "auto" (default): area averaging on a shrinking axis, bilinear on a growing one; "bilinear": bilinear on both. */
  resize?: "auto" | "bilinear";
  /** The size to use where the model leaves height or width open (e.g. [224, 224]); default the first image's. */
  size?: [number, number];
  /** The channels where the shape does not say (a flat input that is both a square and three squares); default 1. */
  channels?: 1 | 3;
}

/** ImageNet's per-channel mean and std of 0..1 RGB (torchvision's models). */
export const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * How one sample of shape `sample` (the model's, batch axis removed) holds an image. Open
 * height/width (null) come from `options.size` or `first`, the first image's size.
 * @example
 *   imageTarget([64]);          // 8 x 8 grayscale, flat
 *   imageTarget([3, 224, 224]); // channels first RGB
 */
export function imageTarget(sample: Dim[], options: Pick<ImageOptions, "size" | "channels"> = {}, dataFormat?: "channels_first" | "channels_last", first?: { width: number; height: number }): ImageTarget {
  const open = (axis: 0 | 1): number => {
    const size = options.size?.[axis] ?? (axis === 0 ? first?.height : first?.width);
    if (size === undefined) throw new CntError("BAD_OPTION", `The model takes samples of shape ${formatShape(sample)}, leaving the image size open; give a size (e.g. [224, 224]).`);
    return size;
  };
  const dim = (d: Dim, axis: 0 | 1) => (d === null ? open(axis) : d);
  const isC = (d: Dim) => d === 1 || d === 3;
  const fail = (why: string) => new CntError("BAD_OPTION", `The model takes samples of shape ${formatShape(sample)}, which ${why}; images feed [C, H, W], [H, W, C], [H, W] or a flat [H * W * C] with C = 1 or 3.`);
  if (sample.length === 1) {
    const n = sample[0];
    if (n === null) throw fail("is open in its one axis");
    const side = (k: number) => (Number.isInteger(Math.sqrt(n / k)) ? Math.sqrt(n / k) : undefined);
    const gray = side(1);
    const rgb = n % 3 === 0 ? side(3) : undefined;
    const channels = options.channels ?? (gray !== undefined ? 1 : rgb !== undefined ? 3 : undefined);
    const s = channels === 1 ? gray : channels === 3 ? rgb : undefined;
    if (channels === undefined || s === undefined) throw fail(`is not a square image of 1 or 3 channels (${n} values)`);
    return { height: s, width: s, channels, layout: "flat", shape: [n] };
  }
  if (sample.length === 2) {
    const [h, w] = [dim(sample[0], 0), dim(sample[1], 1)];
    return { height: h, width: w, channels: 1, layout: "hw", shape: [h, w] };
  }
  if (sample.length === 3) {
    const first = isC(sample[0]);
    const last = isC(sample[2]);
    const layout = first && last ? (dataFormat === "channels_last" ? "hwc" : "chw") : first ? "chw" : last ? "hwc" : undefined;
    if (!layout) throw fail("has no channel axis of 1 or 3 first or last");
    const channels = (layout === "chw" ? sample[0] : sample[2]) as 1 | 3;
    const [h, w] = layout === "chw" ? [dim(sample[1], 0), dim(sample[2], 1)] : [dim(sample[0], 0), dim(sample[1], 1)];
    return { height: h, width: w, channels, layout, shape: layout === "chw" ? [channels, h, w] : [h, w, channels] };
  }
  throw fail(`has ${sample.length} axes`);
}

/** What the images become, for people: "8x8 grayscale, 0..1" or "224x224 RGB, channels first, 0..1, then ImageNet-normalized". */
export function describeTarget(target: ImageTarget, options: ImageOptions = {}): string {
  const [lo, hi] = options.range ?? [0, 1];
  const layout = { chw: ", channels first", hwc: ", channels last", hw: "", flat: target.channels === 1 ? "" : ", flat H, W, C" }[target.layout];
  const norm = options.normalize ? `, then (x - mean) / std with mean ${options.normalize.mean.join(", ")} and std ${options.normalize.std.join(", ")}` : "";
  return `${target.height}x${target.width} ${target.channels === 1 ? "grayscale" : "RGB"}${layout}, ${lo}..${hi}${norm}`;
}

/** Per output index along one axis: the source indices and weights that make it. */
interface AxisWeights {
  index: Int32Array[];
  weight: Float64Array[];
}

/** The weights of one axis of `size` source pixels resized to `out` (see the file's comment). */
export function axisWeights(size: number, out: number, mode: "auto" | "bilinear" = "auto"): AxisWeights {
  const index: Int32Array[] = [];
  const weight: Float64Array[] = [];
  const scale = size / out;
  for (let d = 0; d < out; d++) {
    if (out === size) {
      index.push(Int32Array.of(d));
      weight.push(Float64Array.of(1));
    } else if (out < size && mode === "auto") {
      const start = d * scale;
      const end = (d + 1) * scale;
      const i0 = Math.floor(start);
      const i1 = Math.min(size, Math.ceil(end));
      const idx: number[] = [];
      const w: number[] = [];
      for (let i = i0; i < i1; i++) {
        const covered = Math.min(end, i + 1) - Math.max(start, i);
        if (covered > 0) {
          idx.push(i);
          w.push(covered / scale);
        }
      }
      index.push(Int32Array.from(idx));
      weight.push(Float64Array.from(w));
    } else {
      const x = Math.max(0, (d + 0.5) * scale - 0.5);
      const x0 = Math.min(Math.floor(x), size - 1);
      const x1 = Math.min(x0 + 1, size - 1);
      const t = x - x0;
      index.push(Int32Array.of(x0, x1));
      weight.push(Float64Array.of(1 - t, t));
    }
  }
  return { index, weight };
}

/**
 * One image as one sample: written to `into` at `offset` (the target's elements, its layout).
 * @example
 *   const x = new Float32Array(64); imageToSample(image, imageTarget([64]), {}, x, 0);
 */
export function imageToSample(image: DecodedImage, target: ImageTarget, options: ImageOptions, into: Float32Array, offset = 0): void {
  const { width: sw, height: sh, data } = image;
  if (!(sw > 0 && sh > 0) || data.length !== sw * sh * 4) throw new CntError("BAD_SHAPE", `An image of ${sw}x${sh} pixels needs ${sw * sh * 4} RGBA bytes but has ${data.length}.`);
  const { width: dw, height: dh, channels: c } = target;
  const [lo, hi] = options.range ?? [0, 1];
  const mean = options.normalize?.mean ?? [0];
  const std = options.normalize?.std ?? [1];
  for (const list of [mean, std]) {
    if (list.length !== 1 && list.length !== c) throw new CntError("BAD_OPTION", `normalize gives ${list.length} values for ${c} channel(s); give one, or one per channel.`);
  }
  // The colour values of the source, channel-major, in float64.
  const src = new Float64Array(c * sh * sw);
  for (let p = 0; p < sw * sh; p++) {
    const r = data[4 * p];
    const g = data[4 * p + 1];
    const b = data[4 * p + 2];
    if (c === 1) src[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    else {
      src[p] = r;
      src[sw * sh + p] = g;
      src[2 * sw * sh + p] = b;
    }
  }
  const mode = options.resize ?? "auto";
  const wx = axisWeights(sw, dw, mode);
  const wy = axisWeights(sh, dh, mode);
  // Rows first (sh x dw per channel), then columns.
  const rows = new Float64Array(sh * dw);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * sh * sw;
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < dw; x++) {
        const idx = wx.index[x];
        const w = wx.weight[x];
        let s = 0;
        for (let k = 0; k < idx.length; k++) s += w[k] * src[base + y * sw + idx[k]];
        rows[y * dw + x] = s;
      }
    }
    const m = mean.length === 1 ? mean[0] : mean[ch];
    const sd = std.length === 1 ? std[0] : std[ch];
    for (let y = 0; y < dh; y++) {
      const idx = wy.index[y];
      const w = wy.weight[y];
      for (let x = 0; x < dw; x++) {
        let s = 0;
        for (let k = 0; k < idx.length; k++) s += w[k] * rows[idx[k] * dw + x];
        const v = (lo + ((hi - lo) * s) / 255 - m) / sd;
        const at = target.layout === "chw" ? (ch * dh + y) * dw + x : (y * dw + x) * c + ch;
        into[offset + at] = v;
      }
    }
  }
}

/**
 * Images as a SampleSource of one input: `decode(i)` gives image i when a batch asks for it, so
 * only one batch of images is ever decoded at a time.
 * @example
 *   const samples = imageSamples(files.length, (i) => decode(files[i]), imageTarget([64]));
 */
export function imageSamples(count: number, decode: (i: number) => Promise<DecodedImage>, target: ImageTarget, options: ImageOptions = {}, name = "images"): SampleSource {
  const per = target.shape.reduce((a, d) => a * d, 1);
  return {
    count,
    inputs: [{ name, sampleShape: [...target.shape], kind: "float" }],
    async read(input, first, n, into) {
      if (input !== name) throw new CntError("BAD_OPTION", `The images are input '${name}', not '${input}'.`);
      for (let i = 0; i < n; i++) imageToSample(await decode(first + i), target, options, into, i * per);
    },
  };
}

/**
 * The class of an image from its path: its folder's name when that is a whole number
 * ("digits/3/a.png" -> 3), else the file name's leading number before "_", "-" or "." ("3_a.png" -> 3);
 * undefined when neither says.
 */
export function labelFromPath(path: string): number | undefined {
  const parts = path.split("/");
  const folder = parts.length >= 2 ? parts[parts.length - 2] : "";
  if (/^\d+$/.test(folder)) return Number(folder);
  const m = /^(\d+)[_.-]/.exec(parts[parts.length - 1]);
  return m ? Number(m[1]) : undefined;
}
