import type { LayerInfo, ModelInfo, TensorInfo } from "../model/types.js";
import { sliceTensor } from "../source/tensor-bytes.js";

const RECURRENT = new Set(["rnn", "lstm", "gru"]);

/**
 * Put a model description in the form the graph walk reads, without touching any bytes:
 * recurrent tensors stacked by direction ([num_directions, gates*hidden, n], as ONNX stores
 * them) become one tensor per direction (a byte range of the original) and one layer per
 * direction ("forward", then "reverse"), as PyTorch stores them. A bidirectional op's tensors
 * stay in the report as stored too (spec section 2: every parameter layer has its link-weight
 * distribution): one more layer entry under the op's own name, of kind "other" (no graph op, no
 * links: the walk places the directions), whose weight, recurrent weight and bias are the whole
 * stacked tensors [2, gates·H, n]. An extra entry rather than a field, so every layer entry keeps
 * one tensor per role and tools that list tensors find the file's own names.
 */
export function normalizeModel(model: ModelInfo): ModelInfo {
  if (!model.layers.some((l) => RECURRENT.has(l.kind))) return model;
  const byName = new Map(model.tensors.map((t) => [t.name, t]));
  const replaced = new Map<string, TensorInfo[]>();
  /** Tensors of a bidirectional op, reported whole as well as per direction. */
  const stacked = new Set<string>();
  const layers: LayerInfo[] = [];
  for (const layer of model.layers) {
    const w = layer.weight ? byName.get(layer.weight) : undefined;
    if (!RECURRENT.has(layer.kind) || !w || w.shape.length !== 3) {
      layers.push(layer);
      continue;
    }
    const directions = w.shape[0];
    const names = directions === 2 ? ["forward", "reverse"] : [layer.attributes?.direction === "reverse" ? "reverse" : "forward"];
    const split = (name: string | undefined): string[] | undefined => {
      if (!name) return undefined;
      const t = byName.get(name)!;
      if (!replaced.has(name)) replaced.set(name, byDirection(t, directions, names));
      return replaced.get(name)!.map((p) => p.name);
    };
    const parts = [split(layer.weight), split(layer.recurrentWeight), split(layer.bias), split(layer.recurrentBias)];
    if (directions === 2) {
      layers.push({ name: layer.name, kind: "other", weight: layer.weight, recurrentWeight: layer.recurrentWeight, bias: layer.bias, recurrentBias: layer.recurrentBias, attributes: { stacked: "direction" } });
      for (const name of [layer.weight, layer.recurrentWeight, layer.bias, layer.recurrentBias]) if (name && replaced.get(name)![0] !== byName.get(name)) stacked.add(name);
    }
    names.forEach((direction, d) => {
      layers.push({
        ...layer,
        name: directions === 1 ? layer.name : `${layer.name}.${direction}`,
        weight: parts[0]?.[d],
        recurrentWeight: parts[1]?.[d],
        bias: parts[2]?.[d],
        recurrentBias: parts[3]?.[d],
        attributes: { ...layer.attributes, direction },
      });
    });
  }
  const tensors = model.tensors.flatMap((t) => (stacked.has(t.name) ? [t, ...replaced.get(t.name)!] : replaced.get(t.name) ?? [t]));
  return { ...model, tensors, layers };
}

/** One tensor per direction: [D, ...rest] split along its first axis (sliceTensor keeps file and decoding). */
function byDirection(t: TensorInfo, directions: number, names: string[]): TensorInfo[] {
  if (t.shape[0] !== directions) return [t];
  const count = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return names.map((direction, d) => {
    const part = sliceTensor(t, directions === 1 ? t.name : `${t.name}[${direction}]`, t.shape.slice(1), d * count, count);
    // Bytes decoded by the reader are not enumerable; every part reads its range of them.
    if (t.data) Object.defineProperty(part, "data", { value: t.data, enumerable: false });
    return part;
  });
}
