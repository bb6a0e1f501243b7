import { CntError, quoteName } from "../errors.js";
import type { Activation, LayerInfo, LayerKind, ModelInfo, WeightLayout } from "../model/types.js";

/**
 * What a graph-less file (safetensors, .npz state_dicts) cannot say, given by the user: the
 * input's shape, the feature-map order, and per layer its kind, weight layout and
 * hyper-parameters (attribute names as in src/model/types.ts). Plain JSON, the same as the
 * CLI's --layout file.
 * @example
 *   { "inputShape": [1, 28, 28], "layers": { "conv1": { "stride": [1, 1], "pads": [1, 1, 1, 1] },
 *     "pool": { "insertAfter": "conv1", "op": "pool", "kernel": [2, 2], "stride": [2, 2] } } }
 */
export interface Layout {
  inputShape?: number[];
  dataFormat?: "channels_first" | "channels_last";
  layers?: Record<string, LayoutLayer>;
}

export interface LayoutLayer {
  kind?: LayerKind;
  weightLayout?: WeightLayout;
  /** The layer's activation, for the data metrics (a state_dict does not say it): "relu", "tanh", ... */
  activation?: string;
  /** A weightless layer the file does not list (pooling, flatten): placed after the named layer. */
  insertAfter?: string;
  [attribute: string]: unknown;
}

/** Activations the forward pass knows (src/model/types.ts Activation). */
const ACTIVATIONS = new Set(["linear", "relu", "tanh", "sigmoid", "softmax", "gelu", "elu", "leaky_relu", "softplus"]);

function activationOf(layer: string, value: unknown): Activation {
  if (typeof value === "string" && ACTIVATIONS.has(value)) return value as Activation;
  throw new CntError("BAD_OPTION", `Layout entry ${quoteName(layer)}: activation ${JSON.stringify(value)} is not one of ${[...ACTIVATIONS].join(", ")}.`);
}

const FIELDS = new Set(["kind", "weightLayout", "insertAfter", "activation"]);

/** The model with the layout's facts merged in; names the layout gives must exist (or be inserted). */
export function applyLayout(model: ModelInfo, layout: Layout): ModelInfo {
  const layers = model.layers.map((l) => ({ ...l, attributes: l.attributes ? { ...l.attributes } : undefined }));
  const byName = new Map(layers.map((l) => [l.name, l]));
  for (const [name, spec] of Object.entries(layout.layers ?? {})) {
    if (spec === null || typeof spec !== "object") throw new CntError("BAD_OPTION", `Layout entry ${quoteName(name)} must be an object.`);
    let layer = byName.get(name);
    if (!layer) {
      if (!spec.insertAfter) {
        throw new CntError("BAD_OPTION", `The layout names layer ${quoteName(name)}, which the model does not have (it has ${[...byName.keys()].slice(0, 20).map(quoteName).join(", ")}); add "insertAfter" to insert a weightless layer.`);
      }
      const after = layers.findIndex((l) => l.name === spec.insertAfter);
      if (after < 0) throw new CntError("BAD_OPTION", `Layout entry ${quoteName(name)} goes after ${quoteName(String(spec.insertAfter))}, which the model does not have.`);
      layer = { name, kind: "none", attributes: {} };
      layers.splice(after + 1, 0, layer);
      byName.set(name, layer);
    }
    if (spec.kind !== undefined) layer.kind = spec.kind;
    if (spec.weightLayout !== undefined) layer.weightLayout = spec.weightLayout;
    if (spec.activation !== undefined) layer.activation = activationOf(name, spec.activation);
    for (const [key, value] of Object.entries(spec)) {
      if (FIELDS.has(key)) continue;
      if (!(typeof value === "number" || typeof value === "string" || (Array.isArray(value) && value.every((v) => typeof v === "number")))) {
        throw new CntError("BAD_OPTION", `Layout entry ${quoteName(name)}: ${quoteName(key)} must be a number, a string or a list of numbers.`);
      }
      (layer.attributes ??= {})[key] = value as number | number[] | string;
    }
  }
  return {
    ...model,
    layers: layers as LayerInfo[],
    ...(layout.inputShape ? { inputShape: layout.inputShape } : {}),
    ...(layout.dataFormat ? { dataFormat: layout.dataFormat } : {}),
  };
}
