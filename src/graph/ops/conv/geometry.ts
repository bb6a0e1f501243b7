import { CntError, quoteName } from "../../../errors.js";
import type { LayerInfo } from "../../../model/types.js";

/** The geometry of one spatial axis of a convolution (spec section 1, "Convolution 2-D"). */
export interface AxisGeometry {
  /** Input size (unpadded), kernel size, stride, dilation, padding before and after. */
  size: number;
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
  /** Output size. */
  out: number;
}

export interface ConvGeometry {
  /** [height, width]; a 1-D convolution has height 1 and kernel height 1. */
  axes: [AxisGeometry, AxisGeometry];
  groups: number;
  transposed: boolean;
}

/**
 * Resolve a conv layer's geometry from its attributes (conventions in src/model/types.ts) and
 * its input size. Forward: out = floor((size + pads - dilation (k - 1) - 1) / stride) + 1.
 * Transposed: out = (size - 1) stride - pads + dilation (k - 1) + outputPadding + 1.
 * autoPad "same_upper"/"same_lower" choose the total padding that makes out = ceil(size / stride)
 * (forward) or size * stride (transposed), the odd pixel at the end (upper) or the start (lower).
 */
export function convGeometry(layer: LayerInfo, inputHW: [number, number], kernelHW: [number, number]): ConvGeometry {
  const a = layer.attributes ?? {};
  const rank = layer.kind === "conv1d" ? 1 : 2;
  const transposed = layer.kind === "conv2d_transpose";
  const list = (key: string, fallback: number, length: number): number[] => {
    const v = a[key];
    if (v === undefined) return new Array(length).fill(fallback);
    const values = typeof v === "number" ? new Array(length).fill(v) : Array.isArray(v) ? v : null;
    if (!values || values.length !== length || !values.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)}: attribute ${key} is ${JSON.stringify(v)}; expected ${length} non-negative integers.`);
    }
    return values;
  };
  // 1-D layers carry 1-D attributes; the height axis is a trivial one.
  const widen = (values: number[], trivial: number) => (rank === 1 ? [trivial, ...values] : values);
  const stride = widen(list("stride", 1, rank), 1);
  const dilation = widen(list("dilation", 1, rank), 1);
  const pads = list("pads", 0, 2 * rank);
  const begins = widen(pads.slice(0, rank), 0);
  const ends = widen(pads.slice(rank), 0);
  const outputPadding = widen(list("outputPadding", 0, rank), 0);
  const autoPad = typeof a.autoPad === "string" ? a.autoPad : "notset";
  if (!["notset", "valid", "same_upper", "same_lower"].includes(autoPad)) {
    throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)}: autoPad ${quoteName(autoPad)} is not notset, valid, same_upper or same_lower.`);
  }
  const groups = typeof a.groups === "number" ? a.groups : 1;
  if (!Number.isSafeInteger(groups) || groups < 1) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)}: groups is ${JSON.stringify(a.groups)}.`);
  for (const v of [...stride, ...dilation]) {
    if (v < 1) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)}: strides and dilations must be at least 1.`);
  }

  const axes = [0, 1].map((d): AxisGeometry => {
    const size = inputHW[d], kernel = kernelHW[d], s = stride[d], dil = dilation[d];
    const span = dil * (kernel - 1) + 1;
    let padBegin = begins[d], padEnd = ends[d];
    if (autoPad === "valid") padBegin = padEnd = 0;
    else if (autoPad !== "notset") {
      const wanted = transposed ? size * s : Math.ceil(size / s);
      const total = transposed
        ? Math.max(0, (size - 1) * s + span + outputPadding[d] - wanted)
        : Math.max(0, (wanted - 1) * s + span - size);
      const small = Math.floor(total / 2);
      [padBegin, padEnd] = autoPad === "same_upper" ? [small, total - small] : [total - small, small];
    }
    const out = transposed
      ? (size - 1) * s - padBegin - padEnd + span + outputPadding[d]
      : Math.floor((size + padBegin + padEnd - span) / s) + 1;
    if (!(out >= 1)) {
      throw new CntError("BAD_SHAPE", `Layer ${quoteName(layer.name)}: an input of ${inputHW.join("x")} gives an empty output (kernel ${kernelHW.join("x")}, stride ${stride.join("x")}, dilation ${dilation.join("x")}, pads ${[...begins, ...ends].join(",")}).`);
    }
    return { size, kernel, stride: s, dilation: dil, padBegin, padEnd, out };
  }) as [AxisGeometry, AxisGeometry];
  return { axes, groups, transposed };
}

/**
 * 0/1 matrix [outSize x kernel]: entry (i, n) is 1 when tap n of placement i lands inside the
 * input (forward conv: 0 <= i*s - p + n*d < size). Used for the in-strengths of a conv's
 * outputs and the out-strengths of a transposed conv's inputs (placements over the input).
 */
export function placementTaps(size: number, kernel: number, stride: number, dilation: number, padBegin: number, placements: number): Float64Array {
  const m = new Float64Array(placements * kernel);
  for (let i = 0; i < placements; i++) {
    for (let n = 0; n < kernel; n++) {
      const at = i * stride - padBegin + n * dilation;
      if (at >= 0 && at < size) m[i * kernel + n] = 1;
    }
  }
  return m;
}

/**
 * 0/1 matrix [size x kernel]: entry (y, n) is 1 when some placement i in [0, placements) puts
 * tap n on position y ((y + p - n*d) / s is an integer in range). Used for the out-strengths of
 * a conv's inputs and the in-strengths of a transposed conv's outputs.
 */
export function coveringTaps(size: number, kernel: number, stride: number, dilation: number, padBegin: number, placements: number): Float64Array {
  const m = new Float64Array(size * kernel);
  for (let y = 0; y < size; y++) {
    for (let n = 0; n < kernel; n++) {
      const shifted = y + padBegin - n * dilation;
      if (shifted >= 0 && shifted % stride === 0 && shifted / stride < placements) m[y * kernel + n] = 1;
    }
  }
  return m;
}
