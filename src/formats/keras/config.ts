/**
 * Keras 3 config.json to the weight names src/formats/tfjs/layers.ts reads (`<layer>/kernel`,
 * `<layer>/bias`, `<layer>/recurrent_kernel`, `<layer>/gamma`, ...), by the paths Keras 3 gives
 * each layer's variables in model.weights.h5. layers.ts then makes the layers and the graph from
 * the same config (its Keras 3 inbound_nodes form), so there is one layer table, not two.
 *
 * Keras 3's saving (keras/src/saving/saving_lib.py) names a model's layers in its weights file by
 * class, not by layer name: `layers/<snake_case(class_name)>` with `_1`, `_2`, ... for the second
 * and later layer of a class in the same model, in the order of `model.layers` (the config's
 * order; a Sequential leaves out its InputLayer). Variables are `<layer path>/vars/<i>` in the order
 * the layer creates them:
 *   Dense, Conv1D/2D/3D, Conv*Transpose     0 kernel, 1 bias (use_bias)
 *   DepthwiseConv1D/2D                       0 kernel [kh, kw, c_in, mult] (layers.ts: depthwise_kernel), 1 bias
 *   SeparableConv1D/2D                       0 depthwise_kernel, 1 pointwise_kernel, 2 bias
 *   BatchNormalization                       gamma (scale), beta (center), moving_mean, moving_variance
 *   LayerNormalization                       gamma (scale), beta (center)
 *   Embedding 0 embeddings; PReLU 0 alpha; Normalization 0 mean, 1 variance, 2 count (statistics, skipped)
 *   LSTM, GRU, SimpleRNN                     `<path>/cell/vars`: 0 kernel, 1 recurrent_kernel, 2 bias
 *   Bidirectional                            `<path>/forward_layer/cell/vars`, `<path>/backward_layer/...`
 *   TimeDistributed                          `<path>/layer/vars` (the wrapped layer)
 *   nested Sequential / Functional           `<path>/layers/...` as above
 * Variables of other classes keep a name from their layer and position (`<layer>/vars/<i>`): they
 * are reported as distributions, never dropped.
 */
import { CntError, quoteName } from "../../errors.js";
import type { Limits } from "../../model/limits.js";

type Json = unknown;
type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

const NESTED = new Set(["Sequential", "Functional", "Model"]);
const KERNEL_BIAS = ["kernel", "bias"];
const VARIABLES: Record<string, string[]> = {
  Dense: KERNEL_BIAS, EinsumDense: KERNEL_BIAS,
  Conv1D: KERNEL_BIAS, Conv2D: KERNEL_BIAS, Conv3D: KERNEL_BIAS,
  Conv1DTranspose: KERNEL_BIAS, Conv2DTranspose: KERNEL_BIAS, Conv3DTranspose: KERNEL_BIAS,
  DepthwiseConv1D: ["depthwise_kernel", "bias"], DepthwiseConv2D: ["depthwise_kernel", "bias"],
  SeparableConv1D: ["depthwise_kernel", "pointwise_kernel", "bias"], SeparableConv2D: ["depthwise_kernel", "pointwise_kernel", "bias"],
  Embedding: ["embeddings"], PReLU: ["alpha"],
  // A preprocessing layer: (x - mean) / sqrt(variance) per feature, one to one; its statistics are not link weights.
  Normalization: ["mean", "variance", "count"],
};
/** Variables that are statistics of the data, not link weights (listed as skipped). */
const STATISTICS: Record<string, Set<string>> = { Normalization: new Set(["mean", "variance", "count"]) };
const RECURRENT = new Set(["LSTM", "GRU", "SimpleRNN"]);

/** Keras's naming.to_snake_case. */
export function snakeCase(name: string): string {
  return name
    .replace(/[^\p{L}\p{N}_]+/gu, "")
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/**
 * The weight name of every variable path the config accounts for (`layers/dense/vars/0` ->
 * `dense/kernel`). `has` says whether the weights file holds a path.
 * @example
 *   const names = weightNames(config, (p) => paths.has(p), fail, limits);
 */
export function weightNames(modelConfig: Json, has: (path: string) => boolean, fail: Fail, limits: Pick<Limits, "maxDepth" | "maxLayers">): { names: Map<string, string>; statistics: Set<string> } {
  const names = new Map<string, string>();
  const statistics = new Set<string>();
  let layerCount = 0;

  const assign = (group: string, roles: string[], prefix: string, cls = "") => {
    for (let i = 0; has(`${group}/vars/${i}`); i++) {
      if (i >= 64) throw fail("BAD_HEADER", `the weights group ${quoteName(group)} holds more than 64 variables; Keras layers create a few.`);
      const name = `${prefix}/${roles[i] ?? `vars/${i}`}`;
      names.set(`${group}/vars/${i}`, name);
      if (roles[i] !== undefined && STATISTICS[cls]?.has(roles[i])) statistics.add(name);
    }
  };

  const model = (spec: Record<string, Json>, path: string, prefix: string, depth: number) => {
    if (depth > limits.maxDepth) throw fail("TOO_LARGE", `models are nested deeper than maxDepth = ${limits.maxDepth}.`);
    const config = spec.config;
    const list = Array.isArray(config) ? config : isRecord(config) && Array.isArray(config.layers) ? config.layers : undefined;
    if (!list) throw fail("BAD_HEADER", `the ${String(spec.class_name)} config has no layers list.`);
    // Sequential.layers leaves out its InputLayer; Functional.layers keeps its InputLayers.
    const items = spec.class_name === "Sequential" && isRecord(list[0]) && list[0].class_name === "InputLayer" ? list.slice(1) : list;
    const used = new Map<string, number>();
    for (const item of items) {
      if (!isRecord(item) || typeof item.class_name !== "string") throw fail("BAD_HEADER", "a layer of the config has no class_name.");
      if (++layerCount > limits.maxLayers) throw new CntError("TOO_LARGE", `The model has more than ${limits.maxLayers.toLocaleString("en-US")} layers, above the limit maxLayers; raise it in options.limits if the file is trusted.`, { expected: limits.maxLayers });
      let key = snakeCase(item.class_name);
      const n = used.get(key);
      used.set(key, n === undefined ? 0 : n + 1);
      if (n !== undefined) key = `${key}_${n + 1}`;
      layer(item, `${path}layers/${key}`, prefix, depth);
    }
  };

  const layer = (item: Record<string, Json>, path: string, prefix: string, depth: number, rename?: string) => {
    const cls = String(item.class_name);
    const config = isRecord(item.config) ? item.config : {};
    const name = rename ?? (typeof config.name === "string" ? config.name : typeof item.name === "string" ? item.name : undefined);
    if (name === undefined) throw fail("BAD_HEADER", `a layer of class ${quoteName(cls)} has no name.`);
    const full = `${prefix}${name}`;
    if (NESTED.has(cls)) {
      model(item, `${path}/`, `${full}/`, depth + 1);
      return;
    }
    if (RECURRENT.has(cls)) {
      assign(`${path}/cell`, ["kernel", "recurrent_kernel", "bias"], full);
      return;
    }
    if (cls === "Bidirectional") {
      const inner = isRecord(config.layer) && isRecord(config.layer.config) ? config.layer.config : {};
      const innerName = typeof inner.name === "string" ? inner.name : "";
      for (const side of ["forward", "backward"]) assign(`${path}/${side}_layer/cell`, ["kernel", "recurrent_kernel", "bias"], `${full}/${side}_${innerName}`);
      return;
    }
    if (cls === "TimeDistributed" && isRecord(config.layer)) {
      if (depth > limits.maxDepth) throw fail("TOO_LARGE", `layers are wrapped deeper than maxDepth = ${limits.maxDepth}.`);
      layer(config.layer, `${path}/layer`, prefix, depth + 1, name);
      return;
    }
    let roles = VARIABLES[cls];
    if (cls === "BatchNormalization" || cls === "LayerNormalization") {
      roles = [...(config.scale === false ? [] : ["gamma"]), ...(config.center === false ? [] : ["beta"])];
      if (cls === "BatchNormalization") roles.push("moving_mean", "moving_variance");
    }
    assign(path, roles ?? [], full, cls);
  };

  if (!isRecord(modelConfig)) throw fail("BAD_HEADER", "config.json is not a JSON object.");
  if (!NESTED.has(String(modelConfig.class_name))) {
    throw fail("UNSUPPORTED_LAYER", `the model's class is ${typeof modelConfig.class_name === "string" ? quoteName(modelConfig.class_name) : "missing"}; cntscope reads Sequential and Functional models (a subclassed model's config does not say how its layers connect).`);
  }
  model(modelConfig, "", "", 0);
  return { names, statistics };
}

function isRecord(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
