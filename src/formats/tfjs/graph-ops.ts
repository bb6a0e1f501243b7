/**
 * The weightless ops of TF.js graph models (graph-model.ts) by the graph walk's op names
 * (src/graph/ops.ts), with the attributes the walk reads in the conventions of src/model/types.ts
 * (the ONNX reader's names: axis, axes, perm, starts/ends/steps, pads begins-then-ends, kernel,
 * stride, autoPad). Constant operands that TF gives as inputs (ConcatV2's axis, Transpose's perm,
 * ExpandDims' axis, StridedSlice's begin/end/strides, Mean's axes) become attributes, read from the
 * int32 constants; where such an operand is not a constant, the op stays unknown (a note). For the
 * forward pass: Cast's DstT as ONNX's `to` code, BiasAdd's data_format (dataFormat), Fill's value
 * (a one-element int32 constant, or a float32 one graph-model.ts reads).
 * Also the JSON attribute readers shared with graph-model.ts.
 */
import { CntError, quoteName } from "../../errors.js";
import type { Activation, LayerInfo } from "../../model/types.js";

type Json = Record<string, unknown>;
export type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;
type Attributes = NonNullable<LayerInfo["attributes"]>;

/** One GraphDef node as read: data inputs as value names (output 0 of n is n, output k is n:k). */
export interface Node {
  index: number;
  name: string;
  op: string;
  inputs: string[];
  attr: Json;
}

/** What a weightless node becomes: the walk's op name, its attributes, the values it reads and writes. */
export interface SimpleOp {
  op: string;
  attributes: Attributes;
  inputs: string[];
  outputs?: string[];
}

/** Ops that read only a value's shape. */
export const SHAPE_READS = new Set(["Shape", "Size", "Rank", "ShapeN"]);

/** Activation ops with a name the data-dependent metrics know. */
export const ACTIVATION_OPS: Record<string, Activation> = {
  Relu: "relu", Relu6: "relu", Elu: "elu", Sigmoid: "sigmoid", Tanh: "tanh", Softmax: "softmax", Softplus: "softplus", LeakyRelu: "leaky_relu",
};
/** One to one on elements (the walk's "activation"): ACTIVATION_OPS and these. */
const ELEMENTWISE = new Set([
  ...Object.keys(ACTIVATION_OPS), "Selu", "Softsign", "Prelu", "Sqrt", "Rsqrt", "Square", "Exp", "Log", "Log1p", "Neg", "Abs", "Reciprocal", "Floor",
  "Ceil", "Round", "Sign", "Erf", "Sin", "Cos", "ClipByValue", "LogSoftmax", "LogicalNot", "IsNan", "Swish", "Mish",
]);
const BINARY: Record<string, string> = {
  Add: "add", AddV2: "add", BiasAdd: "add", Sub: "sub", SquaredDifference: "sub", Mul: "mul", RealDiv: "div", Div: "div", DivNoNan: "div",
  FloorDiv: "div", Maximum: "max", Minimum: "min", Pow: "pow", AddN: "sum", FloorMod: "mod", Mod: "mod", TruncateMod: "mod",
};
/** TF DataType names as ONNX TensorProto.DataType codes (a Cast's `to`). */
const TF_TYPES: Record<string, number> = {
  DT_FLOAT: 1, DT_UINT8: 2, DT_INT8: 3, DT_UINT16: 4, DT_INT16: 5, DT_INT32: 6, DT_INT64: 7, DT_BOOL: 9, DT_HALF: 10, DT_DOUBLE: 11,
  DT_UINT32: 12, DT_UINT64: 13, DT_BFLOAT16: 16,
};
const COMPARE = new Set(["Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr"]);
const REDUCE = new Set(["Mean", "Sum", "Max", "Min", "Prod", "All", "Any"]);

/** Ops with more than one output, and how many. */
function multiOutputs(op: string, attr: Json): number | undefined {
  switch (op) {
    case "Split":
    case "SplitV":
      return intOf(isObject(attr.num_split) ? attr.num_split.i : undefined) ?? 0;
    case "Unpack":
      return intOf(isObject(attr.num) ? attr.num.i : undefined) ?? 0;
    case "TopKV2": case "Unique": case "Switch": case "Merge":
      return 2;
    case "NonMaxSuppressionV2": case "NonMaxSuppressionV3":
      return 1;
    case "NonMaxSuppressionV4":
      return 2;
    case "NonMaxSuppressionV5":
      return 3;
    case "FusedBatchNorm": case "FusedBatchNormV2":
      return 5;
    case "FusedBatchNormV3":
      return 6;
    case "IdentityN":
      return isObject(attr.T) && isObject(attr.T.list) && Array.isArray(attr.T.list.type) ? attr.T.list.type.length : 64;
  }
  return undefined;
}

const SINGLE = new Set([
  "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "StopGradient", "Snapshot", "Cast", "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative",
  "FusedDepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul", "_FusedMatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "ConcatV2", "Concat",
  "Pack", "Pad", "PadV2", "MirrorPad", "MaxPool", "AvgPool", "ResizeBilinear", "ResizeNearestNeighbor", "DepthToSpace", "SpaceToDepth", "Reshape",
  "Squeeze", "ExpandDims", "Transpose", "StridedSlice", "Slice", "Shape", "Size", "Rank", "GatherV2", "Gather", "ArgMax", "ArgMin", "Fill", "Range", "Tile",
  "Select", "SelectV2", "ZerosLike", "OnesLike", ...ELEMENTWISE, ...Object.keys(BINARY), ...COMPARE, ...REDUCE,
]);

/** How many outputs a node of this op has (an unknown op: up to 64 may be read). */
export function outputCount(op: string, attr: Json): number {
  const multi = multiOutputs(op, attr);
  if (multi !== undefined) return Math.min(Math.max(multi, 0), 4096);
  return SINGLE.has(op) ? 1 : 64;
}

/** A weightless node as the walk's op, or undefined when it is not one the walk knows (or its constant operands are not constants). */
export function simpleOp(node: Node, ctx: { ints(value: string | undefined): number[] | undefined; isData(value: string): boolean; scalar?(value: string | undefined): number | undefined }, fail: Fail): SimpleOp | undefined {
  const { op, inputs, name } = node;
  const x = inputs[0];
  const one = (walkOp: string, attributes: Attributes = {}, ins = x === undefined ? [] : [x]): SimpleOp => ({ op: walkOp, attributes, inputs: ins });
  if (op === "Identity" || op === "StopGradient" || op === "Snapshot" || (op === "IdentityN" && inputs.length === 1)) return one("identity");
  if (op === "Cast") {
    // The target type as ONNX's TensorProto code (`to`), which the forward pass reads for both formats.
    const dst = attrOf(node, "DstT");
    const type = isObject(dst) && typeof dst.type === "string" ? dst.type : undefined;
    return one("cast", type !== undefined && Object.hasOwn(TF_TYPES, type) ? { to: TF_TYPES[type], dstT: type } : type !== undefined ? { dstT: type.slice(0, 40) } : {});
  }
  if (op === "BiasAdd") {
    // A BiasAdd's vector runs along the channel axis: the last (NHWC, the default) or axis 1 (NCHW).
    const format = attrText(attrOf(node, "data_format"));
    return one("add", format === "NCHW" ? { dataFormat: "channels_first" } : format === "NHWC" ? { dataFormat: "channels_last" } : {}, [...inputs]);
  }
  if (ELEMENTWISE.has(op)) {
    const attributes: Attributes = {};
    const alpha = attrOf(node, "alpha");
    if (isObject(alpha) && typeof alpha.f === "number") attributes.alpha = alpha.f;
    if (op === "Relu6") attributes.maxValue = 6;
    return one("activation", attributes, [...inputs]);
  }
  if (Object.hasOwn(BINARY, op)) return one(BINARY[op], {}, [...inputs]);
  if (COMPARE.has(op)) return one("compare", {}, [...inputs]);
  if (op === "Select" || op === "SelectV2") return one("where", {}, [...inputs]);
  if (op === "Shape") return one("shape");
  if (op === "Size") return one("size");
  if (op === "Reshape") return one("reshape", { allowzero: 1 }, [...inputs.slice(0, 2)]);
  if (op === "Squeeze") {
    const axes = intList(attrOf(node, "squeeze_dims")) ?? intList(attrOf(node, "axis"));
    return one("squeeze", axes && axes.length > 0 ? { axes } : {});
  }
  if (op === "Unpack" && outputCount(op, node.attr) === 1) {
    // Unpacking the one slice of an axis of size 1 is a squeeze of that axis.
    const axis = intOf(isObject(attrOf(node, "axis")) ? (attrOf(node, "axis") as Json).i : 0) ?? 0;
    return one("squeeze", { axes: [axis] });
  }
  if (op === "ExpandDims") {
    const axes = ctx.ints(inputs[1]);
    return axes && axes.length === 1 ? one("unsqueeze", { axes }) : undefined;
  }
  if (op === "Transpose") {
    const perm = ctx.ints(inputs[1]);
    return perm ? one("transpose", { perm }) : undefined;
  }
  if (op === "ConcatV2" || op === "Concat") {
    const [axisInput, values] = op === "ConcatV2" ? [inputs[inputs.length - 1], inputs.slice(0, -1)] : [inputs[0], inputs.slice(1)];
    const axis = ctx.ints(axisInput);
    return axis && axis.length === 1 ? { op: "concat", attributes: { axis: axis[0] }, inputs: values } : undefined;
  }
  if (op === "Pack") {
    // Packing scalars of shape arithmetic (Shape → StridedSlice → Pack → Reshape) is a concat of their values; packing data is not.
    if (inputs.some((v) => ctx.isData(v))) return undefined;
    const axis = intOf(isObject(attrOf(node, "axis")) ? (attrOf(node, "axis") as Json).i : 0) ?? 0;
    return axis === 0 ? { op: "concat", attributes: { axis: 0 }, inputs: [...inputs] } : undefined;
  }
  if (op === "StridedSlice") return stridedSlice(node, ctx);
  if (op === "Slice") {
    const begin = ctx.ints(inputs[1]), size = ctx.ints(inputs[2]);
    if (!begin || !size || begin.length !== size.length) return undefined;
    // A whole axis (begin 0, size -1) selects nothing: left out, so the walk sees only the axes it cuts.
    const cut = begin.map((_, i) => i).filter((i) => !(begin[i] === 0 && size[i] === -1));
    return one("slice", { starts: cut.map((i) => begin[i]), ends: cut.map((i) => (size[i] < 0 ? TO_END : begin[i] + size[i])), axes: cut, steps: cut.map(() => 1) });
  }
  // Boxes kept by overlap and score: a selection by data (the indices), a break like TopK.
  if (/^NonMaxSuppressionV[2-5]$/.test(op)) return { op: "non_max_suppression", attributes: {}, inputs: [...inputs], outputs: Array.from({ length: outputCount(op, node.attr) }, (_, k) => (k === 0 ? name : `${name}:${k}`)) };
  if (op === "Split" || op === "SplitV") {
    const count = outputCount(op, node.attr);
    const axis = ctx.ints(op === "Split" ? inputs[0] : inputs[2]);
    const value = op === "Split" ? inputs[1] : inputs[0];
    if (!axis || axis.length !== 1 || value === undefined || count < 1) return undefined;
    const attributes: Attributes = { axis: axis[0] };
    if (op === "SplitV") {
      const sizes = ctx.ints(inputs[1]);
      if (!sizes || sizes.length !== count || sizes.some((s) => s < 0)) return undefined;
      attributes.split = sizes;
    }
    return { op: "split", attributes, inputs: [value], outputs: Array.from({ length: count }, (_, k) => (k === 0 ? name : `${name}:${k}`)) };
  }
  if (op === "GatherV2" || op === "Gather") {
    const axis = op === "GatherV2" ? ctx.ints(inputs[2]) : [0];
    return axis && axis.length === 1 ? one("gather", { axis: axis[0] }, inputs.slice(0, 2)) : undefined;
  }
  if (op === "MaxPool" || op === "AvgPool") {
    const format = dataFormatOf(node, fail);
    const spatial = format === "channels_last" ? [1, 2] : [2, 3];
    const ksize = intList(attrOf(node, "ksize"));
    if (!ksize || ksize.length !== 4 || ksize.some((v) => v < 1)) throw fail("BAD_HEADER", `node ${quoteName(name)} (${op}) has ksize ${JSON.stringify(ksize ?? null)}; expected 4 positive integers.`);
    const attributes = convAttributes(node, format, fail);
    delete attributes.dilation;
    return one("pool", { pool: op === "MaxPool" ? "max" : "average", kernel: spatial.map((i) => ksize[i]), ...attributes });
  }
  if (REDUCE.has(op)) {
    const axes = ctx.ints(inputs[1]);
    if (!axes) return undefined;
    return one("reduce", { axes, keepdims: isObject(attrOf(node, "keep_dims")) && (attrOf(node, "keep_dims") as Json).b === true ? 1 : 0, reduce: op.toLowerCase() });
  }
  if (op === "ResizeBilinear" || op === "ResizeNearestNeighbor") {
    // NHWC always; the size operand [h, w] (a constant or folded shape arithmetic) is read by shape inference (src/graph/shapes.ts).
    const size = ctx.ints(inputs[1]);
    // align_corners and half_pixel_centers place the samples (the forward pass reads them).
    const placing = { ...(boolAttr(node, "align_corners") ? { alignCorners: 1 } : {}), ...(boolAttr(node, "half_pixel_centers") ? { halfPixelCenters: 1 } : {}) };
    return one("upsample", { mode: op === "ResizeBilinear" ? "linear" : "nearest", ...(size && size.length === 2 ? { outputSize: size } : {}), sizeInput: 1, dataFormat: "channels_last", ...placing }, inputs.slice(0, 2));
  }
  if (op === "DepthToSpace" || op === "SpaceToDepth") {
    const block = intOf(isObject(attrOf(node, "block_size")) ? (attrOf(node, "block_size") as Json).i : undefined);
    return one(op === "DepthToSpace" ? "depth_to_space" : "space_to_depth", { ...(block !== undefined ? { blocksize: block } : {}), dataFormat: dataFormatOf(node, fail) });
  }
  if (op === "ArgMax" || op === "ArgMin") {
    // The axis is an operand (a constant when shape inference can use it); TF drops that axis.
    const axis = ctx.ints(inputs[1]);
    return one("argmax", { ...(axis && axis.length === 1 ? { axis: axis[0] } : {}), keepdims: 0 }, [...inputs]);
  }
  // Indices from data (a keypoint's argmax): a selection by data, so a break (spec 1b: mixing by data).
  if (op === "GatherNd") return one("gather_nd", {}, inputs.slice(0, 2));
  if (op === "TopKV2") return { op: "topk", attributes: {}, inputs: [...inputs], outputs: [name, `${name}:1`] };
  if (op === "Fill") {
    // Fill(dims, value): the value when it is a one-element constant (int32 or float32).
    const ints = ctx.ints(inputs[1]);
    const value = ints && ints.length === 1 ? ints[0] : ctx.scalar?.(inputs[1]);
    return one("constant_of_shape", value !== undefined ? { value } : {}, inputs.slice(0, 1));
  }
  if (op === "Range") return one("range", {}, [...inputs]);
  if (op === "Tile") return one("tile", {}, inputs.slice(0, 2));
  return undefined;
}

/** The largest end a slice can name (TF's end_mask says "to the end"). */
const TO_END = 2 ** 31 - 1;

/** StridedSlice with constant begin/end/strides, without ellipsis or new axes (and, on data, without shrinking axes): a slice. */
function stridedSlice(node: Node, ctx: { ints(value: string | undefined): number[] | undefined; isData(value: string): boolean }): SimpleOp | undefined {
  const [x, b, e, s] = node.inputs;
  const begin = ctx.ints(b), end = ctx.ints(e), strides = ctx.ints(s);
  if (x === undefined || !begin || !end || !strides || begin.length !== end.length || begin.length !== strides.length || begin.length > 64) return undefined;
  const mask = (key: string) => intOf(isObject(attrOf(node, key)) ? (attrOf(node, key) as Json).i : 0) ?? 0;
  if (mask("ellipsis_mask") !== 0 || mask("new_axis_mask") !== 0) return undefined;
  if (mask("shrink_axis_mask") !== 0 && ctx.isData(x)) return undefined;
  const beginMask = mask("begin_mask"), endMask = mask("end_mask");
  if (strides.some((v) => v === 0)) return undefined;
  const bit = (m: number, i: number) => Math.floor(m / 2 ** i) % 2 === 1;
  const starts = begin.map((v, i) => (bit(beginMask, i) ? (strides[i] > 0 ? 0 : TO_END) : v));
  const ends = end.map((v, i) => (bit(endMask, i) ? (strides[i] > 0 ? TO_END : -TO_END) : v));
  return { op: "slice", attributes: { starts, ends, axes: begin.map((_, i) => i), steps: [...strides] }, inputs: [x] };
}

/**
 * StridedSlice on data as a selection: one slice entry per sliced axis, and the axes a
 * shrink_axis_mask bit takes one index of (squeezed after the slice). An ellipsis_mask bit stands
 * for every axis the other entries do not name, which needs the input's rank. new_axis_mask, or
 * operands that are not constants: undefined (the op stays unknown, with a note).
 */
export function stridedSelection(node: Node, ints: (value: string | undefined) => number[] | undefined, rank: number | undefined): { starts: number[]; ends: number[]; axes: number[]; steps: number[]; squeeze: number[] } | undefined {
  const [, b, e, s] = node.inputs;
  const begin = ints(b), end = ints(e), strides = ints(s);
  if (!begin || !end || !strides || begin.length !== end.length || begin.length !== strides.length || begin.length > 64 || strides.some((v) => v === 0)) return undefined;
  const mask = (key: string) => intOf(isObject(attrOf(node, key)) ? (attrOf(node, key) as Json).i : 0) ?? 0;
  const bit = (m: number, i: number) => Math.floor(m / 2 ** i) % 2 === 1;
  if (mask("new_axis_mask") !== 0) return undefined;
  const ellipsis = mask("ellipsis_mask"), shrink = mask("shrink_axis_mask"), beginMask = mask("begin_mask"), endMask = mask("end_mask");
  const m = begin.length;
  const at = Array.from({ length: m }, (_, i) => i).filter((i) => bit(ellipsis, i));
  if (at.length > 1 || (at.length === 1 && rank === undefined)) return undefined;
  const out = { starts: [] as number[], ends: [] as number[], axes: [] as number[], steps: [] as number[], squeeze: [] as number[] };
  for (let i = 0; i < m; i++) {
    if (bit(ellipsis, i)) continue;
    const axis = at.length === 1 && i > at[0] ? rank! - (m - i) : i;
    if (axis < 0 || (rank !== undefined && axis >= rank)) return undefined;
    if (bit(shrink, i)) {
      // One index: begin[i] (from the end when negative), the axis then removed.
      out.starts.push(begin[i]);
      out.ends.push(begin[i] === -1 ? TO_END : begin[i] + 1);
      out.steps.push(1);
      out.squeeze.push(axis);
    } else {
      const start = bit(beginMask, i) ? (strides[i] > 0 ? 0 : TO_END) : begin[i];
      const stop = bit(endMask, i) ? (strides[i] > 0 ? TO_END : -TO_END) : end[i];
      // A whole axis (x[:, ...]) selects nothing: left out, so the walk sees only the axes it cuts.
      if (start === 0 && stop === TO_END && strides[i] === 1) continue;
      out.starts.push(start);
      out.ends.push(stop);
      out.steps.push(strides[i]);
    }
    out.axes.push(axis);
  }
  return out;
}

/**
 * StridedSlice that only adds axes (x[tf.newaxis, :, :], as tf.map_fn bodies write): every entry
 * a new axis or a whole axis (begin and end masked, stride 1), no ellipsis or shrink. The new
 * axes' positions in the output, for an unsqueeze; undefined for any other StridedSlice.
 */
export function stridedNewAxes(node: Node, ints: (value: string | undefined) => number[] | undefined): number[] | undefined {
  const [, b, e, s] = node.inputs;
  const begin = ints(b), end = ints(e), strides = ints(s);
  if (!begin || !end || !strides || begin.length !== end.length || begin.length !== strides.length || begin.length > 64) return undefined;
  const mask = (key: string) => intOf(isObject(attrOf(node, key)) ? (attrOf(node, key) as Json).i : 0) ?? 0;
  const bit = (m: number, i: number) => Math.floor(m / 2 ** i) % 2 === 1;
  const added = mask("new_axis_mask");
  if (added === 0 || mask("ellipsis_mask") !== 0 || mask("shrink_axis_mask") !== 0) return undefined;
  const axes: number[] = [];
  for (let i = 0; i < begin.length; i++) {
    if (bit(added, i)) axes.push(i);
    else if (!bit(mask("begin_mask"), i) || !bit(mask("end_mask"), i) || strides[i] !== 1) return undefined;
  }
  return axes;
}

// ---------------------------------------------------------------------------------- attributes

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A node's attribute by name, own keys only (a key "__proto__" is never the prototype). */
export function attrOf(node: Node, key: string): unknown {
  return Object.hasOwn(node.attr, key) ? node.attr[key] : undefined;
}

/** A TF string attribute: base64 in tfjs-converter's JSON, plain text in hand-written files. */
export function attrText(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.s !== "string") return undefined;
  return decodeText(value.s);
}

/** Base64 text that decodes to printable ASCII, decoded; anything else as it is. */
export function decodeText(s: string): string {
  if (s.length > 0 && s.length <= 4096 && s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s)) {
    try {
      const text = atob(s);
      if (/^[\x20-\x7e]*$/.test(text)) return text;
    } catch {
      // not base64: the text itself
    }
  }
  return s;
}

/** A safe integer from a JSON number or the decimal string protobuf's JSON writes for int64. */
export function intOf(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d{1,16}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** attr { list: { i: [...] } } as numbers; undefined when absent or not all integers. */
export function intList(value: unknown): number[] | undefined {
  if (!isObject(value) || !isObject(value.list)) return undefined;
  const list = value.list.i;
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length > 64) return undefined;
  const out = list.map(intOf);
  return out.every((v): v is number => v !== undefined) ? out : undefined;
}

/** attr { b: true }; false when absent or anything else. */
export function boolAttr(node: Node, key: string): boolean {
  const v = attrOf(node, key);
  return isObject(v) && v.b === true;
}

/** The node's data_format attribute (NHWC by default) as model/types.ts names it. */
export function dataFormatOf(node: Node, fail: Fail): "channels_first" | "channels_last" {
  const text = attrText(attrOf(node, "data_format")) ?? "NHWC";
  if (text === "NHWC") return "channels_last";
  if (text === "NCHW") return "channels_first";
  throw fail("UNSUPPORTED_LAYER", `node ${quoteName(node.name)} (${node.op}) has data_format ${quoteName(text.slice(0, 20))}; cntscope reads NHWC and NCHW.`);
}

/** Stride, dilation and padding of a conv or pool node (TF lists them per axis of the data, batch and channel included). */
export function convAttributes(node: Node, format: "channels_first" | "channels_last", fail: Fail): Attributes {
  const spatial = format === "channels_last" ? [1, 2] : [2, 3];
  const per = (key: string): number[] | undefined => {
    const list = intList(attrOf(node, key));
    if (list === undefined || list.length === 0) return undefined;
    if (list.length !== 4 || list.some((v) => v < 1)) throw fail("BAD_HEADER", `node ${quoteName(node.name)} (${node.op}) has ${key} [${list.join(", ")}]; expected 4 positive integers.`);
    return spatial.map((i) => list[i]);
  };
  const attributes: Attributes = { stride: per("strides") ?? [1, 1], dilation: per("dilations") ?? [1, 1] };
  const padding = attrText(attrOf(node, "padding")) ?? "VALID";
  if (padding === "SAME") attributes.autoPad = "same_upper";
  else if (padding === "VALID") Object.assign(attributes, { autoPad: "valid", pads: [0, 0, 0, 0] });
  else if (padding === "EXPLICIT") {
    const explicit = intList(attrOf(node, "explicit_paddings"));
    if (!explicit || explicit.length !== 8 || explicit.some((v) => v < 0)) throw fail("BAD_HEADER", `node ${quoteName(node.name)} (${node.op}) has padding EXPLICIT without 8 non-negative explicit_paddings.`);
    const [h, w] = spatial;
    Object.assign(attributes, { autoPad: "notset", pads: [explicit[2 * h], explicit[2 * w], explicit[2 * h + 1], explicit[2 * w + 1]] });
  } else throw fail("UNSUPPORTED_LAYER", `node ${quoteName(node.name)} (${node.op}) has padding ${quoteName(padding.slice(0, 20))}; cntscope reads SAME, VALID and EXPLICIT.`);
  return attributes;
}
