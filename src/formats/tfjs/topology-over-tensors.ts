import { CntError } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import type { LayerInfo, SkippedTensor } from "../../model/types.js";
import { sliceTensor, type StoredTensorInfo } from "../../source/tensor-bytes.js";
import { layersFromTopology, type TopologyResult } from "./layers.js";

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

export interface TopologyOverTensors {
  /** The layers, then every tensor no layer claimed as a layer of its own (never dropped). */
  layers: LayerInfo[];
  /**
   * The model's tensors: GRU biases cut in halves; batch-norm running statistics kept (the forward
   * pass reads them by the names the norm layer's attributes give) though no layer's weight or bias.
   */
  tensors: StoredTensorInfo[];
  /** The running statistics, for the report's skipped list. */
  statistics: SkippedTensor[];
  mapped: TopologyResult;
}

/**
 * A Keras config (TF.js layers model, Keras .keras/.h5) laid over the tensors its weights became:
 * the layers of src/formats/tfjs/layers.ts, tensors reshaped as the layers read them, a GRU bias
 * with reset_after ([2, 3·units] = [input bias; recurrent bias]) as two byte ranges (once per
 * tensor: every call of a shared GRU reads the same halves), unclaimed tensors as layers of their
 * own, and the maxLayers check.
 */
export function topologyOverTensors(config: Record<string, unknown>, tensors: StoredTensorInfo[], fail: Fail, limits: Limits, where: { format: string; file: string }): TopologyOverTensors {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const mapped = layersFromTopology(config, { has: (n) => byName.has(n), shape: (n) => byName.get(n)!.shape }, fail, limits);
  const layers: LayerInfo[] = mapped.layers;
  const out = [...tensors];
  for (const t of out) {
    const shape = mapped.reshaped.get(t.name);
    if (shape) t.shape = shape;
  }
  const split = new Map<string, StoredTensorInfo[]>();
  for (const layer of layers) {
    const b = layer.kind === "gru" && layer.bias ? byName.get(layer.bias) : undefined;
    if (!b || b.shape.length !== 2 || b.shape[0] !== 2) continue;
    let halves = split.get(b.name);
    if (!halves) {
      const n = b.shape[1];
      halves = [sliceTensor(b, `${b.name}[input]`, [n], 0, n), sliceTensor(b, `${b.name}[recurrent]`, [n], n, n)];
      split.set(b.name, halves);
      out.splice(out.indexOf(b), 1, ...halves);
      for (const h of halves) mapped.claimed.add(h.name);
    }
    if (layer.inputs) layer.inputs = layer.inputs.flatMap((v) => (v === b.name ? [halves![0].name, halves![1].name] : [v]));
    layer.bias = halves[0].name;
    layer.recurrentBias = halves[1].name;
  }
  for (const t of out) if (!mapped.claimed.has(t.name)) layers.push({ name: t.name, kind: "other", weight: t.name });
  checkLimit(limits, "maxLayers", layers.length, `${where.format} '${where.file}': the layer count`, where);
  const statistics = out.filter((t) => mapped.statistics.has(t.name)).map((t): SkippedTensor => ({ name: t.name, dtype: t.dtype, shape: t.shape, reason: "batch-norm running statistic, not a link weight" }));
  return { layers, tensors: out, statistics, mapped };
}
