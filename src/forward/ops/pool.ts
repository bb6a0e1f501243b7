/**
 * Pooling, resizing and index copies in the forward pass, in either data layout:
 *
 *   pool             max / average windows (kernel, stride, dilation, pads, autoPad, ceilMode).
 *                    Taps on padding: ONNX skips them (the average divides by the taps on the image,
 *                    unless count_include_pad); Keras and TF "same" too; a zero padding folded into
 *                    a Keras or TF pool by the reader (autoPad "notset") counts as zeros, as the
 *                    ZeroPadding before a "valid" pool did
 *   global_pool      max / average over every position; keepdims as the graph's shapes say
 *   upsample         ONNX Resize / Upsample (nearest, linear) with their coordinate rules, Keras
 *                    UpSampling (nearest), TF ResizeBilinear / ResizeNearestNeighbor (align_corners,
 *                    half_pixel_centers); two spatial axes (or one)
 *   pad              constant, reflect, edge, symmetric; ONNX pads from the attribute or constant
 *                    inputs, TF Pad/PadV2/MirrorPad, Keras ZeroPadding (spatial pads only);
 *                    Keras Cropping ("crop") as negative pads
 *   depth_to_space   DCR / CRD, and space_to_depth
 *
 * Pad and depth_to_space copy through a per-sample index table (built once per input shape).
 */
import type { GraphOp } from "../../graph/types.js";
import type { LayerInfo } from "../../model/types.js";
import { elementsOf, ForwardUnsupported, type ForwardMemory, type PrepareContext, type PrepareOp, type PreparedOp, type Tensor } from "../types.js";
import { checkAtPrepare, checkOutputShape, geometryOf, isChannelsLast, mapDims, mapShape } from "./conv.js";

type Attributes = NonNullable<LayerInfo["attributes"]>;

function ints(op: GraphOp, a: Attributes, key: string, length: number, fallback: number): number[] {
  const v = a[key];
  if (v === undefined) return new Array(length).fill(fallback);
  const list = typeof v === "number" ? new Array(length).fill(v) : v;
  if (!Array.isArray(list) || list.length !== length || !list.every((d) => Number.isSafeInteger(d))) throw new ForwardUnsupported(op, `${key} is ${JSON.stringify(v)}; expected ${length} integers`);
  return list as number[];
}

/** Where the op comes from: its padding rules differ. */
function sourceOf(a: Attributes): "onnx" | "tf" | "keras" {
  return a.tf !== undefined ? "tf" : a.dataFormat !== undefined ? "keras" : "onnx";
}

// ---------------------------------------------------------------------------------------- pool

const preparePool: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  const kernel = a.kernel;
  if (!Array.isArray(kernel) || kernel.length < 1 || kernel.length > 2) throw new ForwardUnsupported(op, `pooling over ${Array.isArray(kernel) ? kernel.length : "unknown"} spatial axes is not run (1-D and 2-D are)`);
  const mode = a.pool === "max" ? 0 : a.pool === "average" ? 1 : -1;
  if (mode < 0) throw new ForwardUnsupported(op, `${String(a.pool)} pooling is not run (max and average are)`);
  const spatial = kernel.length;
  const last = isChannelsLast(op, ctx);
  const autoPad = String(a.autoPad ?? "notset");
  const source = sourceOf(a);
  const pads = ints(op, a, "pads", 2 * spatial, 0);
  const padded = autoPad === "notset" && pads.some((p) => p !== 0);
  let includePad = 0;
  if (source === "onnx") includePad = mode === 1 && a.countIncludePad === 1 ? 1 : 0;
  else if (padded) {
    // Keras and TF pools pad only by "same" (taps on padding skipped); explicit pads are a ZeroPadding
    // the reader folded in, whose zeros the pool saw. TF MaxPool may also say EXPLICIT (padding skipped).
    if (source === "tf" && mode === 0) throw new ForwardUnsupported(op, "a TF max pool with explicit pads is either a folded zero Pad (zeros in the windows) or EXPLICIT padding (skipped), which the graph does not tell apart");
    includePad = 1;
  }
  const ceil = a.ceilMode === 1 && autoPad === "notset";
  const kh = spatial === 1 ? 1 : kernel[0], kw = kernel[spatial - 1];
  const layer = { ...op.layer, kind: spatial === 1 ? "conv1d" : "conv2d", attributes: { ...a, groups: 1 } } as LayerInfo;
  const memory = ctx.memory;
  const plan = (x: Tensor) => {
    const d = mapDims(op, x, spatial, last);
    const [ay, ax] = geometryOf(op, layer, [d.h, d.w], [kh, kw]).axes;
    const outOf = (g: typeof ay) => {
      if (!ceil) return g.out;
      const span = g.dilation * (g.kernel - 1) + 1;
      let o = Math.ceil((g.size + g.padBegin + g.padEnd - span) / g.stride) + 1;
      // The last window starts inside the image or its begin padding (PyTorch, onnxruntime).
      if ((o - 1) * g.stride >= g.size + g.padBegin) o--;
      return o;
    };
    const oh = outOf(ay), ow = outOf(ax);
    const shape = mapShape(d.n, d.c, oh, ow, spatial, last);
    checkOutputShape(op, ctx.graph, shape);
    return { d, ay, ax, oh, ow, shape };
  };
  checkAtPrepare(op, ctx, plan);
  return {
    run([x]) {
      if (!x) throw new ForwardUnsupported(op, "it has no data input");
      const { d, ay, ax, oh, ow, shape } = plan(x);
      const out = memory.tensor(shape);
      const inSample = d.c * d.h * d.w, outSample = d.c * oh * ow;
      for (let b = 0; b < d.n; b++) {
        memory.exports.poolWindow(x.ptr + 4 * b * inSample, out.ptr + 4 * b * outSample, d.c, d.h, d.w, kh, kw, ay.stride, ax.stride, ay.dilation, ax.dilation,
          ay.padBegin, ax.padBegin, ay.padEnd, ax.padEnd, oh, ow, mode, includePad, last ? 1 : 0);
      }
      return { outputs: [out] };
    },
  } satisfies PreparedOp;
};

const prepareGlobalPool: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  const mode = a.pool === "max" ? 0 : a.pool === "average" ? 1 : -1;
  if (mode < 0) throw new ForwardUnsupported(op, `global ${String(a.pool)} pooling is not run (max and average are)`);
  const last = isChannelsLast(op, ctx);
  const memory = ctx.memory;
  const plan = (x: Tensor | undefined) => {
    if (!x || x.constant || x.shape.length < 3) throw new ForwardUnsupported(op, `its input has shape [${x?.shape.join(", ")}], not a batch of feature maps`);
    const s = x.shape, n = s[0];
    const c = last ? s[s.length - 1] : s[1];
    const S = elementsOf(last ? s.slice(1, -1) : s.slice(2));
    const shape = a.keepdims === 0 ? [n, c] : s.map((_, i) => (i === 0 ? n : i === (last ? s.length - 1 : 1) ? c : 1));
    checkOutputShape(op, ctx.graph, shape);
    return { n, c, S, shape };
  };
  checkAtPrepare(op, ctx, plan);
  return {
    run([x]) {
      const { n, c, S, shape } = plan(x);
      const out = memory.tensor(shape);
      for (let b = 0; b < n; b++) memory.exports.poolGlobal(x!.ptr + 4 * b * c * S, out.ptr + 4 * b * c, c, S, mode, last ? 1 : 0);
      return { outputs: [out] };
    },
  } satisfies PreparedOp;
};

// ------------------------------------------------------------------------------------ upsample

/** Per output position of one axis: two source indices and the weight of the second. */
interface AxisMap { index: Int32Array; weight: Float32Array }

type Coordinate = (x: number) => number;
type Pick = "linear" | ((v: number) => number);

function axisMap(inSize: number, outSize: number, coordinate: Coordinate, pick: Pick): AxisMap {
  const index = new Int32Array(2 * outSize);
  const weight = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const v = coordinate(o);
    if (pick === "linear") {
      // Coordinates outside the image take its edge (onnxruntime, PyTorch, TF alike).
      const c = Math.min(Math.max(v, 0), inSize - 1);
      const i0 = Math.floor(c);
      index[2 * o] = i0;
      index[2 * o + 1] = Math.min(i0 + 1, inSize - 1);
      weight[o] = c - i0;
    } else {
      const i = Math.min(Math.max(pick(v), 0), inSize - 1);
      index[2 * o] = index[2 * o + 1] = i;
    }
  }
  return { index, weight };
}

/** How one input shape is resized: the layout, the output sizes of the two spatial axes (1-D: [1, w]) and their maps. */
interface Resize { last: boolean; spatial: number; outs: number[]; maps: AxisMap[]; linear: boolean }
type Resizer = (shape: number[]) => Resize;

const f = Math.fround;
const ROUNDING: Record<string, (v: number) => number> = {
  round_prefer_floor: (v) => (v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v)),
  round_prefer_ceil: (v) => Math.floor(v + 0.5),
  floor: Math.floor,
  ceil: Math.ceil,
};
const TRANSFORMS = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"];

/** ONNX Resize (opset 11+: [X, roi, scales, sizes]) and Resize-10 / Upsample-9 ([X, scales]: asymmetric, floor). */
function onnxResizer(op: GraphOp, ctx: PrepareContext, a: Attributes, stored: number[] | undefined): Resizer {
  const legacy = a.onnx === "Upsample" || op.inputs.length === 2;
  const mode = String(a.mode ?? "nearest").toLowerCase();
  if (mode !== "nearest" && mode !== "linear" && mode !== "bilinear") throw new ForwardUnsupported(op, `resize mode ${mode} is not run (nearest and linear are)`);
  const linear = mode !== "nearest";
  const transform = legacy ? "asymmetric" : String(a.coordinate_transformation_mode ?? "half_pixel");
  const rounding = legacy ? "floor" : String(a.nearest_mode ?? "round_prefer_floor");
  if (!TRANSFORMS.includes(transform)) throw new ForwardUnsupported(op, `coordinate_transformation_mode ${transform} is not run`);
  if (!linear && !ROUNDING[rounding]) throw new ForwardUnsupported(op, `nearest_mode ${rounding} is not run`);
  if (a.axes !== undefined) throw new ForwardUnsupported(op, "Resize with axes is not run");
  if (a.keep_aspect_ratio_policy !== undefined && a.keep_aspect_ratio_policy !== "stretch") throw new ForwardUnsupported(op, `keep_aspect_ratio_policy ${String(a.keep_aspect_ratio_policy)} is not run`);
  const valueOf = (i: number) => (op.inputs[i] ? ctx.graph.values.get(op.inputs[i]) : undefined);
  const sizes = legacy ? undefined : valueOf(3)?.values;
  const scalesIn = valueOf(legacy ? 1 : 2);
  const scales = scalesIn?.floats ?? scalesIn?.values ?? stored;
  return (shape) => {
    const rank = shape.length;
    const bySizes = sizes?.length === rank;
    if (!bySizes && scales?.length !== rank) throw new ForwardUnsupported(op, `its ${legacy ? "scales" : "scales or sizes"} are not ${rank} constants the graph knows`);
    const outAll = shape.map((d, i) => (bySizes ? sizes![i] : Math.floor(d * scales![i])));
    const changed = shape.map((_, i) => i).filter((i) => outAll[i] !== shape[i] || (!bySizes && scales![i] !== 1));
    // Channels first resizes axes 2 (, 3); a channels-last map (converted TF graphs) axes 1, 2.
    const first = rank === 4 ? [2, 3] : [2];
    const last = !changed.every((i) => first.includes(i));
    if (changed.some((i) => i === 0 || (last ? rank !== 4 || i === 3 : false))) throw new ForwardUnsupported(op, `it resizes axes [${changed.join(", ")}] of a rank-${rank} input, not only the spatial ones`);
    const axes = last ? [1, 2] : first;
    if (!bySizes && a.antialias !== undefined && a.antialias !== 0 && linear && axes.some((ax) => scales![ax] < 1)) throw new ForwardUnsupported(op, "antialiased downscaling is not run");
    if (legacy && !linear && axes.some((ax) => scales![ax] < 1)) throw new ForwardUnsupported(op, "nearest downscaling by Upsample / Resize-10 is not run");
    const maps = axes.map((ax) => {
      const inSize = shape[ax], outSize = outAll[ax];
      // onnxruntime computes in f32: the scale given, or out / in for sizes.
      const r = f(bySizes ? outSize / inSize : scales![ax]);
      const coordinate: Coordinate =
        transform === "half_pixel" ? (x) => f(f(f(x + 0.5) / r) - 0.5)
        : transform === "pytorch_half_pixel" ? (x) => (outSize > 1 ? f(f(f(x + 0.5) / r) - 0.5) : 0)
        : transform === "align_corners" ? (x) => (outSize === 1 ? 0 : f(f(x * (inSize - 1)) / (outSize - 1)))
        : transform === "tf_half_pixel_for_nn" ? (x) => f(f(x + 0.5) / r)
        : (x) => f(x / r);
      return axisMap(inSize, outSize, coordinate, linear ? "linear" : ROUNDING[rounding]);
    });
    return { last, spatial: axes.length, outs: axes.map((ax) => outAll[ax]), maps, linear };
  };
}

/** TF ResizeBilinear / ResizeNearestNeighbor (NHWC) with align_corners and half_pixel_centers (image_resizer_state.h, in f32). */
function tfResizer(op: GraphOp, ctx: PrepareContext, a: Attributes): Resizer {
  const linear = a.mode === "linear";
  const align = a.alignCorners === 1, half = a.halfPixelCenters === 1;
  if (align && half) throw new ForwardUnsupported(op, "align_corners and half_pixel_centers are both set, which TF rejects");
  const size = Array.isArray(a.outputSize) ? (a.outputSize as number[]) : op.inputs[1] ? ctx.graph.values.get(op.inputs[1])?.values : undefined;
  if (!size || size.length !== 2) throw new ForwardUnsupported(op, "its output size is not a constant the graph knows");
  return (shape) => {
    if (shape.length !== 4) throw new ForwardUnsupported(op, `its input has rank ${shape.length}, not 4`);
    const maps = [shape[1], shape[2]].map((inSize, k) => {
      const outSize = size[k];
      const scale = align && outSize > 1 ? f((inSize - 1) / (outSize - 1)) : f(inSize / outSize);
      if (linear) return axisMap(inSize, outSize, half ? (x) => f(f(f(x + 0.5) * scale) - 0.5) : (x) => f(x * scale), "linear");
      const pick = align ? (x: number) => Math.round(f(x * scale)) : half ? (x: number) => Math.floor(f(f(x + 0.5) * scale)) : (x: number) => Math.floor(f(x * scale));
      return axisMap(inSize, outSize, (x) => x, pick);
    });
    return { last: true, spatial: 2, outs: [...size], maps, linear };
  };
}

/** Keras UpSampling1D / 2D: every value repeated `size` times (nearest). */
function kerasResizer(op: GraphOp, ctx: PrepareContext, a: Attributes): Resizer {
  const interpolation = String(a.interpolation ?? "nearest");
  // Keras resizes bilinear with half-pixel centres, TF.js layers without: which one made the file is not known.
  if (interpolation !== "nearest") throw new ForwardUnsupported(op, `UpSampling with interpolation ${interpolation} is not run (Keras and TF.js place bilinear samples differently; nearest is)`);
  const last = isChannelsLast(op, ctx);
  return (shape) => {
    const spatial = shape.length - 2;
    if (spatial < 1 || spatial > 2) throw new ForwardUnsupported(op, `its input has rank ${shape.length}`);
    const size = ints(op, a, "size", spatial, 2);
    if (size.some((s) => s < 1)) throw new ForwardUnsupported(op, `size is [${size.join(", ")}]`);
    const dims = last ? shape.slice(1, -1) : shape.slice(2);
    const outs = dims.map((d, k) => d * size[k]);
    return { last, spatial, outs, maps: dims.map((d, k) => axisMap(d, outs[k], (x) => x, (x) => Math.floor(x / size[k]))), linear: false };
  };
}

const prepareUpsample: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  const source = sourceOf(a);
  // Scales the graph did not fold but the file stores as a float tensor.
  const scalesName = op.inputs[a.onnx === "Upsample" || op.inputs.length === 2 ? 1 : 2];
  const stored = source === "onnx" && scalesName && ctx.tensorShape(scalesName) && !ctx.graph.values.get(scalesName)?.floats ? [...(await ctx.weight(scalesName))] : undefined;
  const resizer = source === "onnx" ? onnxResizer(op, ctx, a, stored) : source === "tf" ? tfResizer(op, ctx, a) : kerasResizer(op, ctx, a);
  const memory = ctx.memory;
  let cached: { key: string; r: Resize; ptrs: number[] } | undefined;
  const release = () => {
    if (cached) for (const p of cached.ptrs) memory.free(p);
    cached = undefined;
  };
  const plan = (x: Tensor | undefined) => {
    if (!x || x.constant || x.shape.length < 3 || x.shape.length > 4) throw new ForwardUnsupported(op, `its input has shape [${x?.shape.join(", ")}], not a batch of 1-D or 2-D feature maps`);
    const r = resizer(x.shape);
    const d = mapDims(op, x, r.spatial, r.last);
    if (r.outs.some((o) => !Number.isSafeInteger(o) || o < 1)) throw new ForwardUnsupported(op, `it gives an output of [${r.outs.join(", ")}]`);
    const [oh, ow] = r.spatial === 1 ? [1, r.outs[0]] : r.outs;
    const shape = mapShape(d.n, d.c, oh, ow, r.spatial, r.last);
    checkOutputShape(op, ctx.graph, shape);
    return { r, d, oh, ow, shape };
  };
  checkAtPrepare(op, ctx, plan);
  return {
    run([x]) {
      if (!x) throw new ForwardUnsupported(op, "it has no data input");
      const key = x.shape.slice(1).join(",");
      if (cached?.key !== key) {
        release();
        const { r } = plan(x);
        const rows = r.spatial === 1 ? { index: new Int32Array(2), weight: new Float32Array(1) } : r.maps[0];
        const cols = r.maps[r.spatial - 1];
        const put = (v: Int32Array | Float32Array) => {
          const p = memory.alloc(v.length);
          const view = memory.f32(p, v.length);
          (v instanceof Int32Array ? new Int32Array(view.buffer, view.byteOffset, v.length) : view).set(v);
          return p;
        };
        cached = { key, r, ptrs: [put(rows.index), put(rows.weight), put(cols.index), put(cols.weight)] };
      }
      const { r, ptrs } = cached;
      const d = mapDims(op, x, r.spatial, r.last);
      const [oh, ow] = r.spatial === 1 ? [1, r.outs[0]] : r.outs;
      const out = memory.tensor(mapShape(d.n, d.c, oh, ow, r.spatial, r.last));
      const inSample = d.c * d.h * d.w, outSample = d.c * oh * ow;
      for (let b = 0; b < d.n; b++) {
        memory.exports.poolResize(x.ptr + 4 * b * inSample, out.ptr + 4 * b * outSample, d.c, d.h, d.w, oh, ow, ptrs[0], ptrs[1], ptrs[2], ptrs[3], r.linear ? 1 : 0, r.last ? 1 : 0);
      }
      return { outputs: [out] };
    },
    dispose: release,
  } satisfies PreparedOp;
};

// ------------------------------------------------------------------------------- index copies

/** A per-sample copy through an index table, the table rebuilt when the input's shape changes. */
function gatherRunner(op: GraphOp, ctx: PrepareContext, table: (x: Tensor) => { shape: number[]; index: Int32Array; fill: number }): PreparedOp {
  const memory: ForwardMemory = ctx.memory;
  let cached: { key: string; ptr: number; shape: number[]; n: number; fill: number } | undefined;
  let checked = false;
  checkAtPrepare(op, ctx, (x) => checkOutputShape(op, ctx.graph, [x.shape[0], ...table(x).shape]));
  return {
    run([x]) {
      if (!x || x.constant || x.shape.length < 2) throw new ForwardUnsupported(op, `its input has shape [${x?.shape.join(", ")}], not a batch`);
      const key = x.shape.slice(1).join(",");
      if (cached?.key !== key) {
        if (cached) memory.free(cached.ptr);
        const t = table(x);
        const ptr = memory.alloc(t.index.length);
        const view = memory.f32(ptr, t.index.length);
        new Int32Array(view.buffer, view.byteOffset, t.index.length).set(t.index);
        cached = { key, ptr, shape: t.shape, n: t.index.length, fill: t.fill };
      }
      const shape = [x.shape[0], ...cached.shape];
      if (!checked) checkOutputShape(op, ctx.graph, shape);
      checked = true;
      const out = memory.tensor(shape);
      memory.exports.poolGather(x.ptr, out.ptr, cached.ptr, cached.n, elementsOf(x.shape.slice(1)), x.shape[0], cached.fill);
      return { outputs: [out] };
    },
    dispose() {
      if (cached) memory.free(cached.ptr);
      cached = undefined;
    },
  };
}

/** For output dims `outDims`, the flat source index of every element (row-major), -1 where any axis maps to -1. */
function combine(inDims: number[], perAxis: Int32Array[]): Int32Array {
  const outDims = perAxis.map((m) => m.length);
  const strides = inDims.map((_, i) => elementsOf(inDims.slice(i + 1)));
  const index = new Int32Array(elementsOf(outDims));
  const rank = outDims.length;
  const at = new Array(rank).fill(0);
  for (let o = 0; o < index.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) {
      const s = perAxis[i][at[i]];
      if (s < 0) {
        src = -1;
        break;
      }
      src += s * strides[i];
    }
    index[o] = src;
    for (let i = rank - 1; i >= 0; i--) {
      if (++at[i] < outDims[i]) break;
      at[i] = 0;
    }
  }
  return index;
}

const preparePad: PrepareOp = async (op, ctx) => {
  const a = op.layer.attributes ?? {};
  const mode = String(a.mode ?? "constant").toLowerCase();
  if (!["constant", "reflect", "edge", "symmetric"].includes(mode)) throw new ForwardUnsupported(op, `pad mode ${mode} is not run (constant, reflect, edge and symmetric are)`);
  const valueOf = (i: number) => (op.inputs[i] ? ctx.graph.values.get(op.inputs[i]) : undefined);
  let fill = 0;
  if (a.value !== undefined) {
    if (typeof a.value !== "number") throw new ForwardUnsupported(op, `its fill value is ${JSON.stringify(a.value)}`);
    fill = a.value;
  } else if (op.inputs[2]) {
    const v = valueOf(2);
    const values = v?.floats ?? v?.values;
    if (values?.length === 1) fill = values[0];
    else if (ctx.tensorShape(op.inputs[2]) && elementsOf(ctx.tensorShape(op.inputs[2])!) === 1) fill = (await ctx.weight(op.inputs[2]))[0];
    else throw new ForwardUnsupported(op, "its fill value is not a one-value constant");
  }
  const attrPads = Array.isArray(a.pads) ? (a.pads as number[]) : undefined;
  const stated = attrPads ?? valueOf(1)?.values;
  if (!stated) throw new ForwardUnsupported(op, "its pads are not constants the graph knows");
  // Keras Cropping gives what it cuts off: negative pads.
  const crop = op.op === "crop";
  if (crop && (mode !== "constant" || stated.some((p) => p < 0))) throw new ForwardUnsupported(op, `crop of [${stated.join(", ")}]`);
  const given = crop ? stated.map((p) => -p) : stated;
  const axesGiven = op.inputs[3] ? valueOf(3)?.values : undefined;
  if (op.inputs[3] && !axesGiven) throw new ForwardUnsupported(op, "its axes are not constants the graph knows");
  return gatherRunner(op, ctx, (x) => {
    const rank = x.shape.length;
    const last = isChannelsLast(op, ctx);
    let pads: number[];
    if (axesGiven) {
      pads = new Array(2 * rank).fill(0);
      const k = axesGiven.length;
      if (given.length !== 2 * k) throw new ForwardUnsupported(op, `${given.length} pads for ${k} axes`);
      axesGiven.forEach((ax, i) => {
        const axis = ax < 0 ? ax + rank : ax;
        pads[axis] = given[i];
        pads[axis + rank] = given[i + k];
      });
    } else if (given.length === 2 * rank) pads = [...given];
    else if (given.length === 2 * (rank - 2) && a.onnx === undefined && a.tf === undefined) {
      // Keras ZeroPadding and Cropping: [top, left, bottom, right] ([left, right] in 1-D) on the spatial axes.
      const spatial = rank - 2, first = last ? 1 : 2;
      pads = new Array(2 * rank).fill(0);
      for (let i = 0; i < spatial; i++) {
        pads[first + i] = given[i];
        pads[first + i + rank] = given[i + spatial];
      }
    } else throw new ForwardUnsupported(op, `${given.length} pads for a rank-${rank} input`);
    if (pads[0] !== 0 || pads[rank] !== 0) throw new ForwardUnsupported(op, "it pads the batch axis");
    const dims = x.shape.slice(1);
    const perAxis = dims.map((dim, i) => {
      const begin = pads[i + 1], end = pads[i + 1 + rank];
      const size = dim + begin + end;
      if (size < 0) throw new ForwardUnsupported(op, `pads [${begin}, ${end}] leave axis ${i + 1} of ${dim} empty`);
      if (mode === "reflect" && (begin > 0 || end > 0) && (begin >= dim || end >= dim)) throw new ForwardUnsupported(op, `reflect pads [${begin}, ${end}] are not shorter than axis ${i + 1} (${dim})`);
      if ((mode === "edge" || mode === "symmetric") && dim === 0 && size > 0) throw new ForwardUnsupported(op, "it pads an empty axis");
      if (mode === "symmetric" && (begin > dim || end > dim)) throw new ForwardUnsupported(op, `symmetric pads [${begin}, ${end}] are longer than axis ${i + 1} (${dim})`);
      const m = new Int32Array(size);
      for (let o = 0; o < size; o++) {
        let s = o - begin;
        if (s < 0 || s >= dim) {
          if (mode === "constant") s = -1;
          else if (mode === "edge") s = Math.min(Math.max(s, 0), dim - 1);
          else if (mode === "reflect") s = s < 0 ? -s : 2 * (dim - 1) - s;
          else s = s < 0 ? -s - 1 : 2 * dim - 1 - s;
        }
        m[o] = s;
      }
      return m;
    });
    return { shape: perAxis.map((m) => m.length), index: combine(dims, perAxis), fill };
  });
};

function prepareDepthSpace(toSpace: boolean): PrepareOp {
  return async (op, ctx) => {
    const a = op.layer.attributes ?? {};
    const block = a.blocksize;
    if (typeof block !== "number" || !Number.isSafeInteger(block) || block < 1) throw new ForwardUnsupported(op, `blocksize is ${JSON.stringify(block)}`);
    const mode = String(a.mode ?? "DCR").toUpperCase();
    if (mode !== "DCR" && mode !== "CRD") throw new ForwardUnsupported(op, `mode ${mode} is not DCR or CRD`);
    return gatherRunner(op, ctx, (x) => {
      const last = isChannelsLast(op, ctx);
      const d = mapDims(op, x, 2, last);
      const bb = block * block;
      const cOut = toSpace ? d.c / bb : d.c * bb;
      const oh = toSpace ? d.h * block : d.h / block, ow = toSpace ? d.w * block : d.w / block;
      if (!Number.isInteger(cOut) || !Number.isInteger(oh) || !Number.isInteger(ow)) throw new ForwardUnsupported(op, `a ${d.c}x${d.h}x${d.w} map does not split into blocks of ${block}`);
      const at = (c: number, y: number, xx: number, C: number, H: number, W: number) => (last ? (y * W + xx) * C + c : (c * H + y) * W + xx);
      const index = new Int32Array(cOut * oh * ow);
      // Depth index of block offset (i, j) and channel c: DCR (i*b + j)*C + c, CRD c*b*b + i*b + j.
      if (toSpace) {
        for (let c = 0; c < cOut; c++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
          const i = y % block, j = xx % block;
          const depth = mode === "DCR" ? (i * block + j) * cOut + c : c * bb + i * block + j;
          index[at(c, y, xx, cOut, oh, ow)] = at(depth, Math.floor(y / block), Math.floor(xx / block), d.c, d.h, d.w);
        }
      } else {
        for (let c = 0; c < cOut; c++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
          const depth = c, cIn = depth % d.c, k = Math.floor(depth / d.c);
          const i = Math.floor(k / block), j = k % block;
          index[at(c, y, xx, cOut, oh, ow)] = at(cIn, y * block + i, xx * block + j, d.c, d.h, d.w);
        }
      }
      return { shape: mapShape(d.n, cOut, oh, ow, 2, last).slice(1), index, fill: 0 };
    });
  };
}

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = {
  pool: preparePool,
  global_pool: prepareGlobalPool,
  upsample: prepareUpsample,
  pad: preparePad,
  crop: preparePad,
  depth_to_space: prepareDepthSpace(true),
  space_to_depth: prepareDepthSpace(false),
};
