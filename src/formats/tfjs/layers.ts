/**
 * Keras layer configs (as TF.js layers models carry them in modelTopology.model_config) to
 * LayerInfo, with each layer's weights found by the Keras naming `<layer>/kernel`, `/bias`,
 * `/recurrent_kernel`, `/depthwise_kernel`, `/gamma`, ... Configs are data: class names are
 * looked up in the table below and nothing else; Lambda and unknown (custom) classes stay in the
 * list as ops the graph walk does not know (their node layers are left out with a note), never
 * resolved or run.
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
 *   BatchNormalization,      norm: gamma as weight, beta as bias; op "batch_norm" | "layer_norm",
 *   LayerNormalization       axis (Keras default -1), epsilon (Keras default 1e-3); a batch norm's
 *                            moving_mean/moving_variance are running statistics: listed as skipped
 *                            (never link weights), named by attributes mean and variance for the
 *                            forward pass, which reads them from the model's tensors
 *   Rescaling, Normalization none, op "rescale": Rescaling's scale and offset; Normalization's mean
 *                            and variance (numbers from the config, else its weights' names, left
 *                            as they are), axis, invert
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
 * Every conv, pool, global pool, upsample and Flatten carries attributes.dataFormat (Keras default
 * "channels_last"); global pools keepdims 0 unless the config sets keepdims; Permute perm = [0, ...dims];
 * recurrent layers returnSequences (0/1), returnState and timeMajor as the config says.
 *
 * A Functional (Model) config is a graph (spec metrics.md 1b): its layers' inbound_nodes say what
 * each call reads, in the Keras 2 form [[[layer, node, tensor, kwargs], ...], ...] or the Keras 3
 * form [{args, kwargs}, ...] (keras tensors with keras_history anywhere in them, masks left out).
 * Each call of a layer is one LayerInfo: the first is named by the layer and writes the value of
 * that name; a shared layer's call k > 0 is `<layer>#<k>` (same weight tensors), writing `<layer>#<k>`;
 * output t > 0 of a call is `<value>:<t>`. inputs list the data values first, then the weights.
 * InputLayers are the graph inputs (batch_input_shape / batch_shape, batch axis first, null where
 * symbolic), input_layers / output_layers give graph.inputs / graph.outputs. Nested models are
 * inlined: the first call's layers keep their names, call k > 0 of nested model M names its layers
 * `M#<k>/<layer>` (a nested Sequential's layers each read the one before). A ZeroPadding read only
 * by a conv or pool with padding "valid" becomes that op's pads (taps on padding link to nothing);
 * it stays in the layer list without inputs. A Sequential top level stays a chain (no inputs).
 */
import { CntError, quoteName, formatShape } from "../../errors.js";
import type { Activation, LayerInfo } from "../../model/types.js";
import { depthwiseAsGrouped } from "../shared/depthwise.js";

type Json = unknown;

/** Scopes tf.keras puts recurrent weights under, between the layer and the weight's name. */
const RECURRENT_CELLS = ["lstm_cell/", "gru_cell/", "simple_rnn_cell/"];

/** Tensors one Keras layer call may write. */
const MAX_LAYER_OUTPUTS = 64;
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
  /** Functional (Model) configs: where data enters and leaves; the layers then carry inputs and outputs. */
  graph?: { inputs: { name: string; shape?: (number | null)[]; dtype?: string }[]; outputs: string[] };
}

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

const ACTIVATIONS: Record<string, Activation> = {
  linear: "linear", relu: "relu", tanh: "tanh", sigmoid: "sigmoid", softmax: "softmax", gelu: "gelu", elu: "elu",
  leaky_relu: "leaky_relu", leakyrelu: "leaky_relu", softplus: "softplus",
};

const OPS: Record<string, string> = {
  Flatten: "flatten", Reshape: "reshape", Permute: "permute", RepeatVector: "repeat",
  Dropout: "dropout", SpatialDropout1D: "dropout", SpatialDropout2D: "dropout", SpatialDropout3D: "dropout", AlphaDropout: "dropout",
  GaussianDropout: "dropout", GaussianNoise: "dropout", ActivityRegularization: "identity", Masking: "identity",
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
      // tf.keras names a recurrent layer's weights by its cell ("lstm/lstm_cell/kernel"); both forms are read.
      for (const cell of ["", ...RECURRENT_CELLS]) {
        const name = `${p}${layer}/${cell}${suffix}`;
        if (weights.has(name) && !out.claimed.has(name)) {
          out.claimed.add(name);
          return name;
        }
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
  /** The layer's data_format (Keras default "channels_last"), checked against the other layers'. */
  const dataFormat = (config: Record<string, Json>, layer: string): "channels_first" | "channels_last" => {
    const f = config.data_format;
    if (f !== "channels_first" && f !== "channels_last") return "channels_last";
    if (formatSeen && formatSeen !== f) throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(layer)} is ${f} but earlier layers are ${formatSeen}; mixed data formats are not supported.`);
    formatSeen = f;
    return f;
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
      // Python code, never run: the layer stays in the list as an op the graph walk does not know (a note, the node layers next to it left out).
      push({ name, kind: "none", attributes: { op: "lambda" } });
      return;
    }
    if (cls === "TimeDistributed") {
      const before = out.layers.length;
      layer(config.layer, prefixes, depth + 1, name);
      // The wrapped layer runs at every step of axis 1, sharing its weights: the steps are replicas
      // (spec 1b), so a wrapped conv's node layers are one step's maps (graph/roles.ts, shapes.ts).
      for (const l of out.layers.slice(before)) l.attributes = { ...l.attributes, timeDistributed: 1 };
      return;
    }
    if (cls === "Bidirectional") {
      const inner = object(config.layer, `the layer of ${quoteName(name)}`, fail);
      const innerConfig = object(inner.config, `the layer config of ${quoteName(name)}`, fail);
      const innerName = typeof innerConfig.name === "string" ? innerConfig.name : "";
      for (const [side, reverse] of [["forward", false], ["backward", true]] as const) {
        const sideConfig = { ...innerConfig, go_backwards: reverse !== Boolean(innerConfig.go_backwards), name: `${name}/${side}`, merge_mode: config.merge_mode === undefined ? "concat" : config.merge_mode };
        const layerPrefix = `${name}/${side}_${innerName}`;
        recurrent(String(inner.class_name), `${name}/${side}`, sideConfig, (suffix) => weight(["", ...prefixes], layerPrefix, suffix));
      }
      return;
    }
    if (cls === "LSTM" || cls === "GRU" || cls === "SimpleRNN") {
      recurrent(cls, name, config, w);
      return;
    }

    // The topology and the weights must tell the same output count: a kernel reshaped in the
    // manifest (same bytes, other shape) would otherwise be read with its rows and columns mixed.
    const outputsAgree = (kernel: string, declared: unknown, key: string) => {
      const shape = weights.shape(kernel);
      if (typeof declared === "number" && shape.length > 0 && shape[shape.length - 1] !== declared) {
        throw fail("BAD_SHAPE", `layer ${quoteName(name)} (${cls}, ${key} ${declared}): kernel ${quoteName(kernel)} has shape ${formatShape(shape)}, whose last axis should be ${declared}; the topology and the weights manifest disagree.`, { tensor: kernel });
      }
    };
    const attributes: Attributes = {};
    if (cls === "Dense") {
      const kernel = needW("kernel");
      outputsAgree(kernel, config.units, "units");
      push({ name, kind: "dense", weight: kernel, weightLayout: "in_out", bias: w("bias"), activation: activation(config.activation, attributes), ...some(attributes) });
      return;
    }
    if (cls === "Conv1D" || cls === "Conv2D" || cls === "Convolution1D" || cls === "Convolution2D") {
      const rank = cls.includes("1D") ? 1 : 2;
      const format = dataFormat(config, name);
      const kernel = needW("kernel");
      outputsAgree(kernel, config.filters, "filters");
      convAttributes(attributes, config, rank, weights.shape(kernel).slice(0, rank), name);
      attributes.groups = intOr(config.groups, 1, "groups", name);
      attributes.dataFormat = format;
      push({ name, kind: rank === 1 ? "conv1d" : "conv2d", weight: kernel, weightLayout: "hwio", bias: w("bias"), activation: activation(config.activation, attributes), attributes });
      return;
    }
    if (cls === "DepthwiseConv2D" || cls === "SeparableConv2D" || cls === "SeparableConvolution2D") {
      const format = dataFormat(config, name);
      const dw = needW("depthwise_kernel");
      const shape = weights.shape(dw);
      if (shape.length !== 4) throw fail("BAD_SHAPE", `layer ${quoteName(name)} (${cls}): depthwise_kernel has shape ${formatShape(shape)}, not [kh, kw, c_in, multiplier].`, { tensor: dw });
      convAttributes(attributes, config, 2, shape.slice(0, 2), name);
      attributes.groups = shape[2];
      attributes.depthMultiplier = shape[3];
      attributes.storedShape = shape;
      attributes.dataFormat = format;
      out.reshaped.set(dw, depthwiseAsGrouped(shape));
      if (cls === "DepthwiseConv2D") {
        push({ name, kind: "conv2d", weight: dw, weightLayout: "hwio", bias: w("bias"), activation: activation(config.activation, attributes), attributes });
      } else {
        push({ name: `${name}/depthwise`, kind: "conv2d", weight: dw, weightLayout: "hwio", attributes });
        push({ name, kind: "conv2d", weight: needW("pointwise_kernel"), weightLayout: "hwio", bias: w("bias"), activation: activation(config.activation, {}), attributes: { stride: [1, 1], dilation: [1, 1], autoPad: "valid", pads: [0, 0, 0, 0], groups: 1, dataFormat: format } });
      }
      return;
    }
    if (cls === "Conv2DTranspose" || cls === "Deconvolution2D" || cls === "Deconv2D") {
      const format = dataFormat(config, name);
      const kernel = needW("kernel");
      convAttributes(attributes, config, 2, weights.shape(kernel).slice(0, 2), name);
      attributes.groups = 1;
      if (Array.isArray(config.output_padding)) attributes.outputPadding = ints(config.output_padding, "output_padding", name);
      attributes.dataFormat = format;
      push({ name, kind: "conv2d_transpose", weight: kernel, weightLayout: "hwoi", bias: w("bias"), activation: activation(config.activation, attributes), attributes });
      return;
    }
    if (cls === "BatchNormalization" || cls === "LayerNormalization") {
      const gamma = w("gamma");
      const beta = w("beta");
      attributes.op = cls === "BatchNormalization" ? "batch_norm" : "layer_norm";
      // The forward pass reads the running statistics by these names; they stay out of the link weights (skipped).
      for (const [s, key] of [["moving_mean", "mean"], ["moving_variance", "variance"]] as const) {
        const stat = w(s);
        if (stat) {
          out.statistics.add(stat);
          attributes[key] = stat;
        }
      }
      // Keras's defaults: axis -1, epsilon 1e-3 (both kinds).
      attributes.epsilon = typeof config.epsilon === "number" ? config.epsilon : 1e-3;
      const axis = axisOf(config.axis);
      if (axis !== undefined) attributes.axis = axis;
      // Keras 3 LayerNormalization(rms_scaling=True) scales by the root mean square, without centering.
      if (config.rms_scaling === true) attributes.rmsScaling = 1;
      push({ name, kind: "norm", weight: gamma, bias: beta, attributes });
      return;
    }
    if (cls === "Rescaling" || cls === "Normalization") {
      attributes.op = "rescale";
      if (cls === "Rescaling") {
        // x · scale + offset (Keras defaults offset 0).
        const scale = numbers(config.scale), offset = config.offset === undefined ? 0 : numbers(config.offset);
        if (scale !== undefined) attributes.scale = scale;
        if (offset !== undefined) attributes.offset = offset;
      } else {
        // (x - mean) / max(sqrt(variance), 1e-7) along `axis` (Keras default -1): the statistics from the
        // config when it gives them, else the layer's weights by name (not claimed: they stay where they were).
        for (const key of ["mean", "variance"] as const) {
          const given = numbers(config[key]);
          if (given !== undefined) attributes[key] = given;
          else for (const p of prefixes) if (attributes[key] === undefined && weights.has(`${p}${name}/${key}`)) attributes[key] = `${p}${name}/${key}`;
        }
        const axis = axisOf(config.axis);
        if (axis !== undefined) attributes.axis = axis;
        if (config.invert === true) attributes.invert = 1;
      }
      push({ name, kind: "none", attributes });
      return;
    }
    if (cls === "Embedding") {
      // mask_zero: id 0 masks its steps in the recurrent layers downstream (kept so the forward pass can refuse them).
      push({ name, kind: "embedding", weight: needW("embeddings"), ...(config.mask_zero === true ? { attributes: { maskZero: 1 } } : {}) });
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
      const format = dataFormat(config, name);
      const size = intList(config.pool_size, rank, "pool_size", name) ?? Array(rank).fill(2);
      attributes.op = "pool";
      attributes.pool = POOLS[cls];
      attributes.kernel = size;
      attributes.stride = intList(config.strides, rank, "strides", name) ?? size;
      padding(attributes, config.padding, rank, name);
      attributes.dataFormat = format;
      push({ name, kind: "none", attributes });
      return;
    }
    if (Object.hasOwn(GLOBAL_POOLS, cls)) {
      // Keras global pooling drops the spatial axes unless keepdims is set.
      push({ name, kind: "none", attributes: { op: "global_pool", pool: GLOBAL_POOLS[cls], dataFormat: dataFormat(config, name), keepdims: config.keepdims === true ? 1 : 0 } });
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
      const format = dataFormat(config, name);
      attributes.op = "upsample";
      attributes.size = intList(config.size ?? config.length, rank, "size", name) ?? Array(rank).fill(2);
      if (typeof config.interpolation === "string") attributes.interpolation = config.interpolation;
      attributes.dataFormat = format;
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
      if (cls === "Masking") attributes.masking = 1;
      // Keras Permute dims count from 1 and leave the batch axis out.
      if (cls === "Permute") attributes.perm = [0, ...(intList(config.dims, undefined, "dims", name) ?? [])];
      // Flatten's order follows its data_format (Keras: channels-last unless it says otherwise).
      if (cls === "Flatten") attributes.dataFormat = config.data_format === "channels_first" ? "channels_first" : "channels_last";
      if (cls === "Dropout" && typeof config.rate === "number") attributes.rate = config.rate;
      push({ name, kind: "none", attributes });
      return;
    }
    // A class we do not know (a custom layer): never resolved or run; its weights are reported on their own, the walk notes it.
    push({ name, kind: "none", attributes: { op: "custom", className: cls.slice(0, 80) } });
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
    // Keras recurrent values are batch-major [N, T, I] unless time_major; the output is every step or the last.
    attributes.returnSequences = config.return_sequences === true ? 1 : 0;
    if (config.return_state === true) attributes.returnState = 1;
    if (config.time_major === true) attributes.timeMajor = 1;
    // Bidirectional: how the two directions' outputs combine (null: returned apart, "none").
    if (config.merge_mode !== undefined) attributes.mergeMode = config.merge_mode === null ? "none" : String(config.merge_mode).slice(0, 40);
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

  // ------------------------------------------------------------------ Functional graphs

  /** A Functional (or nested Sequential) model: its layers by name, each with its calls, and its inputs and outputs. */
  const define = (spec: Record<string, Json>, prefixes: string[], depth: number): ModelDef => {
    if (depth > limits.maxDepth) throw fail("TOO_LARGE", `models are nested deeper than maxDepth = ${limits.maxDepth}.`);
    const cls = String(spec.class_name);
    const config = spec.config;
    const modelName = typeof spec.name === "string" ? spec.name : isRecord(config) && typeof config.name === "string" ? config.name : cls;
    const list = Array.isArray(config) ? config : isRecord(config) && Array.isArray(config.layers) ? config.layers : undefined;
    if (!list) throw fail("BAD_HEADER", `the ${cls} config ${quoteName(modelName)} has no layers list.`);
    const def: ModelDef = { name: modelName, layers: new Map(), order: [], inputs: [], outputs: [] };
    const graph = isGraphConfig(spec);
    // A Sequential inside a Functional: each layer reads the one before it.
    let previous: Ref | undefined;
    const add = (name: string, layerDef: LayerDef) => {
      if (def.layers.has(name)) throw fail("BAD_HEADER", `two layers of ${quoteName(modelName)} are named ${quoteName(name)}.`);
      def.layers.set(name, layerDef);
      def.order.push(name);
    };
    for (const item of list) {
      const layerSpec = object(item, "a layer", fail);
      const layerCls = layerSpec.class_name;
      const layerConfig = isRecord(layerSpec.config) ? layerSpec.config : {};
      const name = layerConfig.name ?? layerSpec.name;
      if (typeof name !== "string") throw fail("BAD_HEADER", `a layer of class ${typeof layerCls === "string" ? quoteName(layerCls) : "?"} in ${quoteName(modelName)} has no name.`);
      let calls: Ref[][];
      if (graph) calls = callsOf(layerSpec.inbound_nodes, name);
      else {
        if (!previous && layerCls !== "InputLayer") {
          // No InputLayer: the Sequential's own input.
          const input = `${modelName}:input`;
          add(input, { kind: "input", name: input });
          def.inputs.push((previous = { layer: input, node: 0, tensor: 0 }));
        }
        calls = previous ? [[previous]] : [];
      }
      if (layerCls === "InputLayer") {
        layer(item, prefixes, depth);
        const shape = layerConfig.batch_input_shape ?? layerConfig.batch_shape;
        add(name, { kind: "input", name, ...(Array.isArray(shape) ? { shape: shape.map((d) => (typeof d === "number" ? d : null)) } : {}), ...dtypeOf(layerConfig.dtype) });
        if (!graph) def.inputs.push((previous = { layer: name, node: 0, tensor: 0 }));
        continue;
      }
      if (typeof layerCls === "string" && NESTED.has(layerCls)) {
        add(name, { kind: "model", name, def: define({ ...layerSpec, name }, [...prefixes, `${name}/`], depth + 1), calls });
      } else {
        const start = out.layers.length;
        layer(item, prefixes, depth);
        add(name, { kind: "ops", name, templates: out.layers.slice(start), calls });
      }
      if (!graph) previous = { layer: name, node: 0, tensor: 0 };
    }
    if (graph) {
      const c = config as Record<string, Json>;
      def.inputs = refsIn(c.input_layers, 0);
      def.outputs = refsIn(c.output_layers, 0);
      if (def.outputs.length === 0) throw fail("BAD_HEADER", `the Functional config ${quoteName(modelName)} has no output_layers.`);
      // Keras numbers a nested model's calls from 1 (its node 0 links its own input to its output,
      // and is left out of the config); Keras 3 does so in output_layers only. Where references to a
      // nested model reach one past its calls, they count from 1.
      for (const d of def.layers.values()) {
        if (d.kind !== "model") continue;
        const renumber = (refs: Ref[]) => {
          const mine = refs.filter((r) => r.layer === d.name);
          if (mine.some((r) => r.node >= d.calls.length) && mine.every((r) => r.node >= 1)) for (const r of mine) r.node -= 1;
        };
        renumber([...def.layers.values()].flatMap((l) => (l.kind === "input" ? [] : l.calls.flat())));
        renumber(def.outputs);
      }
    } else if (previous) def.outputs = [previous];
    return def;
  };

  /** The calls of a layer (Keras 2: [[[name, node, tensor, kwargs], ...], ...]; Keras 3: [{args, kwargs}, ...]), each as the refs it reads, data first. */
  const callsOf = (nodes: Json, layerName: string): Ref[][] => {
    if (nodes === undefined || nodes === null) return [];
    if (!Array.isArray(nodes)) throw fail("BAD_HEADER", `layer ${quoteName(layerName)}: inbound_nodes is not a list.`);
    return nodes.map((node) => {
      if (isRecord(node)) {
        // Keras 3: keras tensors anywhere in args, then in kwargs (masks and the training flag are not data).
        const refs = refsIn(node.args, 0);
        if (isRecord(node.kwargs)) for (const [k, v] of Object.entries(node.kwargs)) if (k !== "mask" && k !== "training") refs.push(...refsIn(v, 0));
        return refs;
      }
      if (!Array.isArray(node)) throw fail("BAD_HEADER", `layer ${quoteName(layerName)}: an inbound node is neither a list nor an object.`);
      const refs: Ref[] = [];
      for (const entry of node) {
        const ref = refOf(entry);
        if (!ref) {
          if (Array.isArray(entry) && entry[0] === "_CONSTANT_VALUE") continue;
          throw fail("BAD_HEADER", `layer ${quoteName(layerName)}: the inbound entry ${JSON.stringify(entry)?.slice(0, 60)} is not [layer, node, tensor].`);
        }
        refs.push(ref);
        // Keras 2 keeps further tensor arguments (attention's value) in the entry's kwargs.
        const kwargs = Array.isArray(entry) ? entry[3] : undefined;
        if (isRecord(kwargs)) for (const [k, v] of Object.entries(kwargs)) if (k !== "mask" && k !== "training") refs.push(...refsIn(v, 0));
      }
      return refs;
    });
  };

  /** Every tensor reference in a JSON value, in order: [layer, node, tensor] triples and Keras 3 keras tensors. */
  const refsIn = (value: Json, depth: number): Ref[] => {
    if (depth > 32) throw fail("BAD_HEADER", "tensor references are nested more than 32 deep.");
    const ref = refOf(value);
    if (ref) return [ref];
    if (Array.isArray(value)) return value.flatMap((v) => refsIn(v, depth + 1));
    if (isRecord(value)) {
      if (value.class_name === "__keras_tensor__") {
        const history = isRecord(value.config) ? value.config.keras_history : undefined;
        const r = refOf(history);
        if (!r) throw fail("BAD_HEADER", `a keras tensor has the history ${JSON.stringify(history)?.slice(0, 60)}, not [layer, node, tensor].`);
        return [r];
      }
      return Object.values(value).flatMap((v) => refsIn(v, depth + 1));
    }
    return [];
  };

  const emitted: LayerInfo[] = [];
  const instanced = new Set<LayerInfo>();
  /** How many of an instance's inputs are data (the rest are its weights). */
  const dataCount = new Map<LayerInfo, number>();

  /** One instance of a template layer: the template itself the first time, a copy reading the same weights after. */
  const instance = (template: LayerInfo, name: string): LayerInfo => {
    let layerInfo: LayerInfo;
    if (!instanced.has(template) && name === template.name) {
      instanced.add(template);
      layerInfo = template;
    } else {
      let unique = name;
      for (let n = 2; names.has(unique); n++) unique = `${name}~${n}`;
      names.add(unique);
      layerInfo = { ...template, name: unique };
      if (template.attributes) layerInfo.attributes = { ...template.attributes };
    }
    emitted.push(layerInfo);
    if (emitted.length > limits.maxLayers) throw new CntError("TOO_LARGE", `The model has more than ${limits.maxLayers.toLocaleString("en-US")} layer calls, above the limit maxLayers; raise it in options.limits if the file is trusted.`, { expected: limits.maxLayers });
    return layerInfo;
  };

  /**
   * Place every call of a model's layers, given the values its inputs are: ops in config order as
   * their inputs become known (a shared layer's later call may read a layer listed after it).
   * `prefix` names the values of a nested model's second and later calls. Returns its output values.
   */
  const instantiate = (def: ModelDef, inputs: string[], prefix: string, depth: number): string[] => {
    if (depth > limits.maxDepth) throw fail("TOO_LARGE", `models are nested deeper than maxDepth = ${limits.maxDepth}.`);
    const values = new Map<string, string>();
    def.inputs.forEach((r, i) => {
      if (i < inputs.length) values.set(refKey(r), inputs[i]);
    });
    // The most outputs any call has (tensor indices read), per "layer\0node".
    const width = new Map<string, number>();
    const need = (r: Ref) => width.set(`${r.layer}\u0000${r.node}`, Math.max(width.get(`${r.layer}\u0000${r.node}`) ?? 1, r.tensor + 1));
    for (const d of def.layers.values()) if (d.kind !== "input") for (const call of d.calls) call.forEach(need);
    def.outputs.forEach(need);
    let pending: { d: OpsDef | NestedDef; k: number }[] = [];
    for (const name of def.order) {
      const d = def.layers.get(name)!;
      if (d.kind !== "input") d.calls.forEach((_, k) => pending.push({ d, k }));
    }
    while (pending.length > 0) {
      const waiting: typeof pending = [];
      for (const { d, k } of pending) {
        const ins = d.calls[k].map((r) => values.get(refKey(r)));
        if (ins.some((v) => v === undefined)) {
          waiting.push({ d, k });
          continue;
        }
        const value = `${prefix}${d.name}${k > 0 ? `#${k}` : ""}`;
        let outs: string[];
        if (d.kind === "model") {
          outs = instantiate(d.def, ins as string[], k > 0 ? `${value}/` : prefix, depth + 1);
        } else {
          const n = width.get(`${d.name}\u0000${k}`) ?? 1;
          // Keras layers write a few tensors (an LSTM with return_state three); a reference far past that is a broken file.
          if (n > MAX_LAYER_OUTPUTS) throw fail("BAD_HEADER", `a layer reads tensor ${n - 1} of layer ${quoteName(d.name)} (call ${k}); Keras layers write at most ${MAX_LAYER_OUTPUTS}.`);
          outs = [value, ...Array.from({ length: n - 1 }, (_, t) => `${value}:${t + 1}`)];
          wire(d, k, ins as string[], outs, prefix);
        }
        outs.forEach((v, t) => values.set(refKey({ layer: d.name, node: k, tensor: t }), v));
      }
      if (waiting.length === pending.length) {
        const { d, k } = waiting[0];
        const missing = d.calls[k].find((r) => !values.has(refKey(r)))!;
        throw fail("BAD_HEADER", `layer ${quoteName(d.name)} (call ${k}) of ${quoteName(def.name)} reads tensor ${JSON.stringify([missing.layer, missing.node, missing.tensor])}, which no layer of the model gives (or the layers form a cycle).`);
      }
      pending = waiting;
    }
    return def.outputs.map((r) => {
      const v = values.get(refKey(r));
      if (v === undefined) throw fail("BAD_HEADER", `the output ${JSON.stringify([r.layer, r.node, r.tensor])} of ${quoteName(def.name)} is not a tensor of its layers.`);
      return v;
    });
  };

  /** Inputs and outputs of one call of a layer's LayerInfos: data first, then the weight tensors. */
  const wire = (d: OpsDef, k: number, ins: string[], outs: string[], prefix: string) => {
    const suffix = k > 0 ? `#${k}` : "";
    const layers = d.templates.map((t) => instance(t, `${prefix}${t.name}${suffix}`));
    if (layers.length === 0) throw fail("UNSUPPORTED_LAYER", `layer ${quoteName(d.name)} is called in the graph but holds no op cntscope can place.`);
    const separable = layers.length === 2 && d.templates[0].name === `${d.name}/depthwise`;
    layers.forEach((l, i) => {
      const data = separable && i === 1 ? [layers[0].name] : ins;
      l.inputs = [...data, ...weightsOf(l)];
      l.outputs = separable && i === 0 ? [l.name] : [...outs];
      dataCount.set(l, data.length);
    });
  };

  /**
   * ZeroPadding read only by a conv or pool without padding of its own is that op's padding (spec
   * 1: taps on padding link to nothing): the conv reads the unpadded value with the pads; the
   * ZeroPadding layer stays in the list, outside the graph.
   */
  const foldPads = (graphOutputs: Set<string>) => {
    const readers = new Map<string, LayerInfo[]>();
    for (const l of emitted) {
      for (const v of new Set(l.inputs!.slice(0, dataCount.get(l) ?? 1))) {
        let list = readers.get(v);
        if (!list) readers.set(v, (list = []));
        list.push(l);
      }
    }
    for (const pad of emitted) {
      const pads = pad.attributes?.pads;
      if (pad.attributes?.op !== "pad" || !Array.isArray(pads) || graphOutputs.has(pad.outputs![0])) continue;
      const rs = readers.get(pad.outputs![0]) ?? [];
      if (rs.length !== 1) continue;
      const op = rs[0];
      const a = op.attributes ?? {};
      const own = a.pads;
      const foldable = (op.kind === "conv2d" || op.kind === "conv1d" || (op.kind === "none" && a.op === "pool")) && a.autoPad === "valid" &&
        (dataCount.get(op) ?? 1) === 1 && op.inputs![0] === pad.outputs![0] && Array.isArray(own) && own.length === pads.length && own.every((p) => p === 0);
      if (!foldable) continue;
      op.inputs = [pad.inputs![0], ...op.inputs!.slice(1)];
      op.attributes = { ...a, autoPad: "notset", pads: [...pads] };
      delete pad.inputs;
      delete pad.outputs;
    }
  };

  const functional = (spec: Record<string, Json>) => {
    const def = define(spec, [""], 0);
    const templates = out.layers;
    const inputs = def.inputs.map((r) => {
      const d = def.layers.get(r.layer);
      if (!d || d.kind !== "input" || r.node !== 0 || r.tensor !== 0) throw fail("BAD_HEADER", `the model input ${JSON.stringify([r.layer, r.node, r.tensor])} is not an InputLayer.`);
      return { name: d.name, ...(d.shape ? { shape: d.shape } : {}), ...(d.dtype ? { dtype: d.dtype } : {}) };
    });
    const outputs = instantiate(def, inputs.map((i) => i.name), "", 0);
    foldPads(new Set(outputs));
    // Calls in the order they were placed; layers no call reaches stay in the list after the layer before them.
    const after = new Map<LayerInfo | undefined, LayerInfo[]>();
    let last: LayerInfo | undefined;
    for (const t of templates) {
      if (instanced.has(t)) last = t;
      else after.set(last, [...(after.get(last) ?? []), t]);
    }
    out.layers = [...(after.get(undefined) ?? [])];
    for (const l of emitted) out.layers.push(l, ...(after.get(l) ?? []));
    out.graph = { inputs, outputs };
  };

  const top = object(modelConfig, "model_config", fail);
  if (isGraphConfig(top)) functional(top);
  else walk(modelConfig, [""], 0);
  if (formatSeen) out.dataFormat = formatSeen;
  return out;
}

interface Ref { layer: string; node: number; tensor: number }
interface InputDef { kind: "input"; name: string; shape?: (number | null)[]; dtype?: string }
interface OpsDef { kind: "ops"; name: string; templates: LayerInfo[]; calls: Ref[][] }
interface NestedDef { kind: "model"; name: string; def: ModelDef; calls: Ref[][] }
type LayerDef = InputDef | OpsDef | NestedDef;
interface ModelDef { name: string; layers: Map<string, LayerDef>; order: string[]; inputs: Ref[]; outputs: Ref[] }

const refKey = (r: Ref) => `${r.layer}\u0000${r.node}\u0000${r.tensor}`;

/** [layer, node, tensor] or [layer, node, tensor, kwargs]. */
function refOf(value: Json): Ref | undefined {
  if (!Array.isArray(value) || value.length < 3 || value.length > 4 || typeof value[0] !== "string") return undefined;
  const [layer, node, tensor] = value;
  if (!Number.isSafeInteger(node) || !Number.isSafeInteger(tensor) || (node as number) < 0 || (tensor as number) < 0) return undefined;
  if (value.length === 4 && !isRecord(value[3])) return undefined;
  return { layer, node: node as number, tensor: tensor as number };
}

/** A Functional (Model) config whose layers say what they read. */
function isGraphConfig(spec: Record<string, Json>): boolean {
  if (spec.class_name !== "Functional" && spec.class_name !== "Model") return false;
  const config = spec.config;
  return isRecord(config) && Array.isArray(config.layers) && config.output_layers !== undefined &&
    config.layers.some((l) => isRecord(l) && Array.isArray(l.inbound_nodes) && l.inbound_nodes.length > 0);
}

/** The weight tensors a layer reads, in LayerInfo order. */
function weightsOf(l: LayerInfo): string[] {
  return [l.weight, l.bias, l.recurrentWeight, l.recurrentBias].filter((t): t is string => t !== undefined);
}

/** A Keras dtype: a name, or a Keras 3 DTypePolicy {config: {name}}. */
function dtypeOf(value: Json): { dtype?: string } {
  if (typeof value === "string") return { dtype: value.slice(0, 40) };
  if (isRecord(value) && isRecord(value.config) && typeof value.config.name === "string") return { dtype: value.config.name.slice(0, 40) };
  return {};
}

function isRecord(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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

/** A number, or a flat list of numbers, from a config (Rescaling's scale, Normalization's mean); anything else undefined. */
function numbers(value: Json): number | number[] | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (Array.isArray(value) && value.length > 0 && value.length <= 65536 && value.every((v) => typeof v === "number" && Number.isFinite(v))) return value as number[];
  return undefined;
}

/** A Keras axis config (int or list of ints, Keras default -1); a value that is neither is left out (the forward pass then stops on it). */
function axisOf(value: Json): number | number[] | undefined {
  if (value === undefined || value === null) return -1;
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (Array.isArray(value) && value.length > 0 && value.length <= 64 && value.every((v) => Number.isSafeInteger(v))) return value as number[];
  return undefined;
}

function some(attributes: Attributes): { attributes?: Attributes } {
  return Object.keys(attributes).length > 0 ? { attributes } : {};
}

function object(value: Json, what: string, fail: Fail): Record<string, Json> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail("BAD_HEADER", `${what} is not a JSON object.`);
  return value as Record<string, Json>;
}
