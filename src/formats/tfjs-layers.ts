/**
 * Keras layer configs (as TF.js layers models carry them in modelTopology.model_config) to
 * LayerInfo, with each layer's weights found by the Keras naming `<layer>/kernel`, `/bias`,
 * `/recurrent_kernel`, `/depthwise_kernel`, `/gamma`, ... Configs are data: class names are
 * looked up in the table below and nothing else; Lambda and unknown (custom) classes are
 * UNSUPPORTED_LAYER, never resolved or run.
 *
 * Mapping (LayerInfo conventions of src/model/types.ts):
 *   Dense                    dense, kernel [n_in, n_out] "in_out", activation from config
 *   Conv1D / Conv2D          conv1d / conv2d, kernel "hwio"; stride, dilation, groups, autoPad
 *                            ("same" → "same_upper", "valid" → "valid" with zero pads, Conv1D
 *                            "causal" → pads [(k-1)·d, 0])
 *   DepthwiseConv2D          conv2d, depthwise_kernel stored [kh, kw, c_in, mult]: the same bytes, in
 *                            row-major order, as the grouped "hwio" kernel [kh, kw, c_in/groups = 1,
 *                            c_out = c_in·mult] with groups = c_in (output channel ci·mult + m is in
 *                            group ci). Its TensorInfo.shape is given in that grouped form so the
 *                            conv graph reads it like any kernel; attributes: groups = c_in,
 *                            depthMultiplier = mult, storedShape = [kh, kw, c_in, mult]
 *   SeparableConv2D          two layers: `<name>/depthwise` (as above) then `<name>` (1x1 pointwise, bias)
 *   Conv2DTranspose          conv2d_transpose, kernel [kh, kw, c_out, c_in] "hwoi"
 *   BatchNormalization,      norm: gamma as weight, beta as bias; moving_mean/moving_variance are
 *   LayerNormalization       running statistics, listed as skipped
 *   Embedding                embedding (embeddings)
 *   SimpleRNN / GRU / LSTM   rnn / gru / lstm: kernel → weight "in_out", recurrent_kernel →
 *                            recurrentWeight, bias → bias; hidden = units; gateOrder "ifco" (LSTM),
 *                            "zrh" (GRU); direction "reverse" when go_backwards. A GRU with
 *                            reset_after (Keras 2 default) has a bias [2, 3·units]: row 0 the input
 *                            bias, row 1 the recurrent bias; the reader splits it into two byte
 *                            ranges, `<bias>[input]` → bias and `<bias>[recurrent]` → recurrentBias,
 *                            and the layer gets resetAfter = 1.
 *   Bidirectional            two layers, `<name>/forward` and `<name>/backward` (direction reverse)
 *   TimeDistributed          the wrapped layer, under the wrapper's name
 *   Activation, ReLU, ...    none, op "activation", activation by name (ReLU max_value → maxValue)
 *   Flatten, Reshape, ...    none, op "flatten" / "reshape" / "dropout" / "identity" / ...
 *   Max/AveragePooling1D/2D  none, op "pool", pool "max" | "average", kernel, stride, autoPad/pads
 *   Global*Pooling1D/2D      none, op "global_pool"
 *   ZeroPadding1D/2D         none, op "pad", pads [top, left, bottom, right] ([left, right] in 1-D)
 *   UpSampling1D/2D          none, op "upsample", size
 *   Add, Concatenate, ...    none, op "add" / "concat" / "multiply" / ...
 *   InputLayer               not a layer: its batch_input_shape without the batch axis is inputShape
 *   Sequential / Functional  nested models are walked in place (their layers in config order)
 */
import { CntError, quoteName } from "../errors.js";
import type { Activation, LayerInfo } from "../model/types.js";

type Json = unknown;
type Attributes = NonNullable<LayerInfo["attributes"]>;

/** The weights of the manifest, looked up by name; each may be claimed by one layer. */
export interface WeightNames {
  has(name: string): boolean;
  shape(name: string): number[];
}

export interface TopologyResult {
  layers: LayerInfo[];
  /** Weight names the layers use, and running statistics to list as skipped. */
  claimed: Set<string>;
  statistics: Set<string>;
  /** Tensors whose shape is given in another form of the same bytes (depthwise kernels). */
  reshaped: Map<string, number[]>;
  inputShape?: (number | null)[];
  dataFormat?: "channels_first" | "channels_last";
}

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

const ACTIVATIONS: Record<string, Activation> = {
  linear: "linear", relu: "relu", tanh: "tanh", sigmoid: "sigmoid", softmax: "softmax", gelu: "gelu", elu: "elu",
  leaky_relu: "leaky_relu", leakyrelu: "leaky_relu", softplus: "softplus",
};

const OPS: Record<string, string> = {
  Flatten: "flatten", Reshape: "reshape", Permute: "permute", RepeatVector: "repeat",
  Dropout: "dropout", SpatialDropout1D: "dropout", SpatialDropout2D: "dropout", SpatialDropout3D: "dropout", AlphaDropout: "dropout",
  GaussianDropout: "dropout", GaussianNoise: "dropout", ActivityRegularization: "identity", Masking: "identity", Rescaling: "rescale",
  Add: "add", Subtract: "subtract", Multiply: "multiply", Average: "average", Maximum: "maximum", Minimum: "minimum",
  Concatenate: "concat", Dot: "dot",
};

const POOLS: Record<string, "max" | "average"> = {
  MaxPooling1D: "max", MaxPooling2D: "max", MaxPool1D: "max", MaxPool2D: "max",
  AveragePooling1D: "average", AveragePooling2D: "average", AvgPool1D: "average", AvgPool2D: "average",
};
const GLOBAL_POOLS: Record<string, "max" | "average"> = {
  GlobalMaxPooling1D: "max", GlobalMaxPooling2D: "max", GlobalMaxPool1D: "max", GlobalMaxPool2D: "max",
  GlobalAveragePooling1D: "average", GlobalAveragePooling2D: "average", GlobalAvgPool1D: "average", GlobalAvgPool2D: "average",
};
const ACTIVATION_LAYERS: Record<string, Activation> = { ReLU: "relu", LeakyReLU: "leaky_relu", ELU: "elu", Softmax: "softmax", ThresholdedReLU: "unknown" };
const NESTED = new Set(["Sequential", "Functional", "Model"]);

/**
 * Walk a model_config ({class_name, config}) and produce layers in config order.
 * `maxDepth` bounds nested models; `maxLayers` the layer count.
 */
export function layersFromTopology(modelConfig: Json, weights: WeightNames, fail: Fail, limits: { maxDepth: number; maxLayers: number }): TopologyResult {
  const out: TopologyResult = { layers: [], claimed: new Set(), statistics: new Set(), reshaped: new Map() };
  const names = new Set<string>();
  let formatSeen: "channels_first" | "channels_last" | undefined;

  const weight = (prefixes: string[], layer: string, suffix: string): string | undefined => {
    for (const p of prefixes) {
      const name = `${p}${layer}/${suffix}`;
      if (weights.has(name) && !out.claimed.has(name)) {
        out.claimed.add(name);
        return name;
      }
    }
    return undefined;
  };
  const need = (prefixes: string[], layer: string, suffix: string, cls: string): string => {
    const name = weight(prefixes, layer, suffix);
    if (name === undefined) throw fail("BAD_HEADER", `layer ${quoteName(layer)} (${cls}) has no weight ${quoteName(`${layer}/${suffix}`)} in the weights manifest.`);
    return name;
  };
  const push = (layer: LayerInfo) => {
    if (names.has(layer.name)) throw fail("BAD_HEADER", `two layers are named ${quoteName(layer.name)}.`);
    names.add(layer.name);
    out.layers.push(layer);
    if (out.layers.length > limits.maxLayers) throw new CntError("TOO_LARGE", `The model has more than ${limits.maxLayers.toLocaleString("en-US")} layers, above the limit maxLayers; raise it in options.limits if the file is trusted.`, { expected: limits.maxLayers });
  };
  const dataFormat = (config: Record<string, Json>, layer: string) => {
    const f = config.data_format;
    if (f !== "channels_first" && f !== "channels_last") return;
    if (formatSeen && formatSeen !== f) throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(layer)} is ${f} but earlier layers are ${formatSeen}; mixed data formats are not supported.`);
    formatSeen = f;
  };

  const walk = (modelConfig: Json, prefixes: string[], depth: number) => {
    if (depth > limits.maxDepth) throw fail("TOO_LARGE", `models are nested deeper than maxDepth = ${limits.maxDepth}.`);
    const m = object(modelConfig, "model_config", fail);
    const cls = m.class_name;
    if (typeof cls !== "string" || !NESTED.has(cls)) throw fail("UNSUPPORTED_LAYER", `the model's class is ${typeof cls === "string" ? quoteName(cls) : "missing"}; cntscope reads Sequential and Functional (Model) configs.`);
    // Keras 2.2 Sequential: config is the list of layers; later: {name, layers}.
    const config = m.config;
    const list = Array.isArray(config) ? config : Array.isArray(object(config, `${cls} config`, fail).layers) ? (config as { layers: Json[] }).layers : undefined;
    if (!list) throw fail("BAD_HEADER", `the ${cls} config has no layers list.`);
    for (const item of list) layer(item, prefixes, depth);
  };

  const layer = (item: Json, prefixes: string[], depth: number, rename?: string) => {
    const spec = object(item, "a layer", fail);
    const cls = spec.class_name;
    const config = spec.config === undefined ? (Object.create(null) as Record<string, Json>) : object(spec.config, "a layer config", fail);
    const rawName = rename ?? config.name ?? spec.name;
    if (typeof rawName !== "string") throw fail("BAD_HEADER", `a layer of class ${typeof cls === "string" ? quoteName(cls) : "?"} has no name.`);
    const name = rawName;
    if (typeof cls !== "string") throw fail("BAD_HEADER", `layer ${quoteName(name)} has no class_name.`);
    const w = (suffix: string) => weight(prefixes, name, suffix);
    const needW = (suffix: string) => need(prefixes, name, suffix, cls);

    if (cls === "InputLayer") {
      const shape = config.batch_input_shape ?? config.batch_shape;
      if (Array.isArray(shape) && out.inputShape === undefined) out.inputShape = shape.slice(1).map((d) => (typeof d === "number" ? d : null));
      return;
    }
    if (out.inputShape === undefined && Array.isArray(config.batch_input_shape)) {
      out.inputShape = (config.batch_input_shape as Json[]).slice(1).map((d) => (typeof d === "number" ? d : null));
    }
    if (NESTED.has(cls)) {
      walk(spec, [...prefixes, `${name}/`], depth + 1);
      return;
    }
    if (cls === "Lambda") {
      throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(name)} is a Lambda layer, which carries Python code; cntscope never runs code from a model file. Replace it with built-in layers before converting.`);
    }
    if (cls === "TimeDistributed") {
      layer(config.layer, prefixes, depth + 1, name);
      return;
    }
    if (cls === "Bidirectional") {
      const inner = object(config.layer, `the layer of ${quoteName(name)}`, fail);
      const innerConfig = object(inner.config, `the layer config of ${quoteName(name)}`, fail);
      const innerName = typeof innerConfig.name === "string" ? innerConfig.name : "";
      for (const [side, reverse] of [["forward", false], ["backward", true]] as const) {
        const sideConfig = { ...innerConfig, go_backwards: reverse !== Boolean(innerConfig.go_backwards), name: `${name}/${side}` };
        const layerPrefix = `${name}/${side}_${innerName}`;
        recurrent(String(inner.class_name), `${name}/${side}`, sideConfig, (suffix) => weight(["", ...prefixes], layerPrefix, suffix));
      }
      return;
    }
    if (cls === "LSTM" || cls === "GRU" || cls === "SimpleRNN") {
      recurrent(cls, name, config, w);
      return;
    }

    const attributes: Attributes = {};
    if (cls === "Dense") {
      push({ name, kind: "dense", weight: needW("kernel"), weightLayout: "in_out", bias: w("bias"), activation: activation(config.activation, attributes), ...some(attributes) });
      return;
    }
    if (cls === "Conv1D" || cls === "Conv2D" || cls === "Convolution1D" || cls === "Convolution2D") {
      const rank = cls.includes("1D") ? 1 : 2;
      dataFormat(config, name);
      const kernel = needW("kernel");
      convAttributes(attributes, config, rank, weights.shape(kernel).slice(0, rank), name);
      attributes.groups = intOr(config.groups, 1, "groups", name);
      push({ name, kind: rank === 1 ? "conv1d" : "conv2d", weight: kernel, weightLayout: "hwio", bias: w("bias"), activation: activation(config.activation, attributes), attributes });
      return;
    }
    if (cls === "DepthwiseConv2D" || cls === "SeparableConv2D" || cls === "SeparableConvolution2D") {
      dataFormat(config, name);
      const dw = needW("depthwise_kernel");
      const shape = weights.shape(dw);
      if (shape.length !== 4) throw fail("BAD_SHAPE", `layer ${quoteName(name)} (${cls}): depthwise_kernel has shape [${shape.join(", ")}], not [kh, kw, c_in, multiplier].`, { tensor: dw });
      convAttributes(attributes, config, 2, shape.slice(0, 2), name);
      attributes.groups = shape[2];
      attributes.depthMultiplier = shape[3];
      attributes.storedShape = shape;
      out.reshaped.set(dw, depthwiseAsGrouped(shape));
      if (cls === "DepthwiseConv2D") {
        push({ name, kind: "conv2d", weight: dw, weightLayout: "hwio", bias: w("bias"), activation: activation(config.activation, attributes), attributes });
      } else {
        push({ name: `${name}/depthwise`, kind: "conv2d", weight: dw, weightLayout: "hwio", attributes });
        push({ name, kind: "conv2d", weight: needW("pointwise_kernel"), weightLayout: "hwio", bias: w("bias"), activation: activation(config.activation, {}), attributes: { stride: [1, 1], dilation: [1, 1], autoPad: "valid", pads: [0, 0, 0, 0], groups: 1 } });
      }
      return;
    }
    if (cls === "Conv2DTranspose" || cls === "Deconvolution2D" || cls === "Deconv2D") {
      dataFormat(config, name);
      const kernel = needW("kernel");
      convAttributes(attributes, config, 2, weights.shape(kernel).slice(0, 2), name);
      attributes.groups = 1;
      if (Array.isArray(config.output_padding)) attributes.outputPadding = ints(config.output_padding, "output_padding", name);
      push({ name, kind: "conv2d_transpose", weight: kernel, weightLayout: "hwoi", bias: w("bias"), activation: activation(config.activation, attributes), attributes });
      return;
    }
    if (cls === "BatchNormalization" || cls === "LayerNormalization") {
      const gamma = w("gamma");
      const beta = w("beta");
      for (const s of ["moving_mean", "moving_variance"]) {
        const stat = w(s);
        if (stat) out.statistics.add(stat);
      }
      if (typeof config.epsilon === "number") attributes.epsilon = config.epsilon;
      push({ name, kind: "norm", weight: gamma, bias: beta, ...some(attributes) });
      return;
    }
    if (cls === "Embedding") {
      push({ name, kind: "embedding", weight: needW("embeddings") });
      return;
    }
    if (cls === "PReLU") {
      push({ name, kind: "other", weight: needW("alpha"), attributes: { op: "activation" } });
      return;
    }
    if (cls === "Activation") {
      push({ name, kind: "none", activation: activation(config.activation, attributes), attributes: { op: "activation", ...attributes } });
      return;
    }
    if (Object.hasOwn(ACTIVATION_LAYERS, cls)) {
      attributes.op = "activation";
      if (cls === "ThresholdedReLU") attributes.activationName = "thresholded_relu";
      if (typeof config.max_value === "number") attributes.maxValue = config.max_value;
      if (typeof config.alpha === "number") attributes.alpha = config.alpha;
      if (typeof config.negative_slope === "number" && config.negative_slope !== 0) attributes.negativeSlope = config.negative_slope;
      if (typeof config.threshold === "number" && config.threshold !== 0) attributes.threshold = config.threshold;
      push({ name, kind: "none", activation: ACTIVATION_LAYERS[cls], attributes });
      return;
    }
    if (Object.hasOwn(POOLS, cls)) {
      const rank = cls.includes("1D") ? 1 : 2;
      dataFormat(config, name);
      const size = intList(config.pool_size, rank, "pool_size", name) ?? Array(rank).fill(2);
      attributes.op = "pool";
      attributes.pool = POOLS[cls];
      attributes.kernel = size;
      attributes.stride = intList(config.strides, rank, "strides", name) ?? size;
      padding(attributes, config.padding, rank, name);
      push({ name, kind: "none", attributes });
      return;
    }
    if (Object.hasOwn(GLOBAL_POOLS, cls)) {
      dataFormat(config, name);
      push({ name, kind: "none", attributes: { op: "global_pool", pool: GLOBAL_POOLS[cls] } });
      return;
    }
    if (cls === "ZeroPadding1D" || cls === "ZeroPadding2D" || cls === "Cropping1D" || cls === "Cropping2D") {
      const rank = cls.endsWith("1D") ? 1 : 2;
      dataFormat(config, name);
      const value = cls.startsWith("Zero") ? config.padding : config.cropping;
      push({ name, kind: "none", attributes: { op: cls.startsWith("Zero") ? "pad" : "crop", pads: edgePads(value, rank, name) } });
      return;
    }
    if (cls === "UpSampling1D" || cls === "UpSampling2D") {
      const rank = cls.endsWith("1D") ? 1 : 2;
      dataFormat(config, name);
      attributes.op = "upsample";
      attributes.size = intList(config.size ?? config.length, rank, "size", name) ?? Array(rank).fill(2);
      if (typeof config.interpolation === "string") attributes.interpolation = config.interpolation;
      push({ name, kind: "none", attributes });
      return;
    }
    if (Object.hasOwn(OPS, cls)) {
      attributes.op = OPS[cls];
      if (cls === "Reshape") {
        const target = intList(config.target_shape, undefined, "target_shape", name, true);
        if (target) attributes.targetShape = target;
      }
      if (cls === "Concatenate" && typeof config.axis === "number") attributes.axis = config.axis;
      if (cls === "Dropout" && typeof config.rate === "number") attributes.rate = config.rate;
      push({ name, kind: "none", attributes });
      return;
    }
    throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(name)} has the class ${quoteName(cls)}, which cntscope does not know (a custom layer?); class names are never resolved or run.`);
  };

  const recurrent = (cls: string, name: string, config: Record<string, Json>, w: (suffix: string) => string | undefined) => {
    const kind = cls === "LSTM" ? "lstm" : cls === "GRU" ? "gru" : cls === "SimpleRNN" ? "rnn" : undefined;
    if (!kind) throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(name)} wraps the class ${quoteName(cls)}; only SimpleRNN, GRU and LSTM are read inside Bidirectional.`);
    const kernel = w("kernel");
    const recurrentKernel = w("recurrent_kernel");
    if (!kernel || !recurrentKernel) throw fail("BAD_HEADER", `layer ${quoteName(name)} (${cls}) needs a kernel and a recurrent_kernel in the weights manifest.`);
    const units = weights.shape(recurrentKernel)[0];
    const attributes: Attributes = { hidden: typeof config.units === "number" ? config.units : units, direction: config.go_backwards ? "reverse" : "forward" };
    if (kind === "lstm") attributes.gateOrder = "ifco";
    if (kind === "gru") attributes.gateOrder = "zrh";
    const bias = w("bias");
    if (kind === "gru" && bias && weights.shape(bias).length === 2) attributes.resetAfter = 1;
    if (typeof config.recurrent_activation === "string") attributes.recurrentActivation = config.recurrent_activation;
    push({ name, kind, weight: kernel, weightLayout: "in_out", recurrentWeight: recurrentKernel, bias, activation: activation(config.activation ?? "tanh", attributes), attributes });
  };

  const convAttributes = (attributes: Attributes, config: Record<string, Json>, rank: number, kernel: number[], name: string) => {
    attributes.stride = intList(config.strides ?? config.subsample, rank, "strides", name) ?? Array(rank).fill(1);
    const dilation = intList(config.dilation_rate, rank, "dilation_rate", name) ?? Array(rank).fill(1);
    attributes.dilation = dilation;
    if (config.padding === "causal" && rank === 1) {
      attributes.autoPad = "notset";
      attributes.pads = [(kernel[0] - 1) * dilation[0], 0];
    } else {
      padding(attributes, config.padding ?? config.border_mode, rank, name);
    }
  };
  const padding = (attributes: Attributes, value: Json, rank: number, name: string) => {
    if (value === "same") attributes.autoPad = "same_upper";
    else if (value === "valid" || value === undefined) {
      attributes.autoPad = "valid";
      attributes.pads = Array(rank * 2).fill(0);
    } else throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(name)} has padding ${JSON.stringify(value)?.slice(0, 30)}; cntscope reads "same" and "valid".`);
  };
  const edgePads = (value: Json, rank: number, name: string): number[] => {
    // int; [a, b] (2-D: symmetric rows, cols; 1-D: left, right); [[top, bottom], [left, right]]
    if (typeof value === "number") return Array(rank * 2).fill(int(value, "padding", name));
    if (Array.isArray(value) && rank === 1 && value.length === 2) return ints(value, "padding", name);
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")) {
      const [h, w] = ints(value, "padding", name);
      return [h, w, h, w];
    }
    if (Array.isArray(value) && value.length === 2 && value.every((v) => Array.isArray(v) && v.length === 2)) {
      const [[top, bottom], [left, right]] = value.map((v) => ints(v as Json[], "padding", name));
      return [top, left, bottom, right];
    }
    throw fail("BAD_HEADER", `layer ${quoteName(name)} has the padding ${JSON.stringify(value)?.slice(0, 40)}, which is not an int, a pair or a pair of pairs.`);
  };
  const int = (v: Json, field: string, name: string, signed = false): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || (!signed && v < 0)) throw fail("BAD_HEADER", `layer ${quoteName(name)}: ${field} holds ${JSON.stringify(v)?.slice(0, 30)}, not a non-negative integer.`);
    return v;
  };
  const ints = (v: Json[], field: string, name: string, signed = false) => v.map((x) => int(x, field, name, signed));
  const intOr = (v: Json, fallback: number, field: string, name: string) => (v === undefined || v === null ? fallback : int(v, field, name));
  const intList = (v: Json, rank: number | undefined, field: string, name: string, signed = false): number[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && rank !== undefined) return Array(rank).fill(int(v, field, name));
    if (Array.isArray(v) && (rank === undefined || v.length === rank)) return ints(v, field, name, signed);
    throw fail("BAD_HEADER", `layer ${quoteName(name)}: ${field} is ${JSON.stringify(v)?.slice(0, 30)}, not ${rank ?? "a list of"} integer(s).`);
  };

  walk(modelConfig, [""], 0);
  if (formatSeen) out.dataFormat = formatSeen;
  return out;
}

/** [kh, kw, c_in, mult] → the grouped-conv view [kh, kw, 1, c_in·mult] of the same bytes. */
export function depthwiseAsGrouped(shape: number[]): number[] {
  return [shape[0], shape[1], 1, shape[2] * shape[3]];
}

/** A Keras activation by name; unknown names become "unknown" with the name kept as activationName. */
function activation(value: Json, attributes: Attributes): Activation | undefined {
  if (value === undefined || value === null) return undefined;
  const name = typeof value === "string" ? value : typeof value === "object" && typeof (value as Record<string, Json>).class_name === "string" ? String((value as Record<string, Json>).class_name) : undefined;
  if (name === undefined) return "unknown";
  const key = name.toLowerCase();
  if (Object.hasOwn(ACTIVATIONS, key)) return ACTIVATIONS[key];
  attributes.activationName = name.slice(0, 80);
  return "unknown";
}

function some(attributes: Attributes): { attributes?: Attributes } {
  return Object.keys(attributes).length > 0 ? { attributes } : {};
}

function object(value: Json, what: string, fail: Fail): Record<string, Json> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail("BAD_HEADER", `${what} is not a JSON object.`);
  return value as Record<string, Json>;
}
