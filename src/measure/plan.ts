import { CntError, quoteName, formatShape } from "../errors.js";
import { convKernel } from "../graph/ops/conv/layer.js";
import { CONV_OPS, RECURRENT_OPS } from "../graph/ops.js";
import { checkLimit, type Limits } from "../model/limits.js";
import type { LayerInfo, ModelInfo, TensorInfo } from "../model/types.js";
import type { TensorPassRequest } from "./tensor-pass.js";

/**
 * How each tensor is read besides its moments: dense weights as matrices by their stored shape,
 * biases as [1, n] (their column sums are their values), conv kernels reduced per tap.
 */
export function tensorPlans(model: ModelInfo, limits: Limits): Map<string, Pick<TensorPassRequest, "matrix" | "conv">> {
  const tensors = tensorsByName(model);
  const plans = new Map<string, Pick<TensorPassRequest, "matrix" | "conv">>();
  // Row and column sums are reserved from the shape before the bytes arrive: bound them first.
  const checkNodes = (name: string, nodes: number) => checkLimit(limits, "maxLayerNodes", nodes, `The rows or columns of tensor ${quoteName(name)}`, { file: model.name });
  for (const layer of model.layers) {
    if (layer.kind === "dense" && layer.weight) {
      const w = need(tensors, layer.weight, layer);
      if (w.shape.length !== 2) {
        throw new CntError("BAD_SHAPE", `Dense layer ${quoteName(layer.name)}: weight ${quoteName(w.name)} has shape ${formatShape(w.shape)}, not a matrix.`, { tensor: w.name });
      }
      checkNodes(w.name, Math.max(w.shape[0], w.shape[1]));
      plans.set(w.name, { matrix: { rows: w.shape[0], cols: w.shape[1] } });
      if (layer.bias) plans.set(layer.bias, { matrix: biasMatrix(layer, tensors, layer.weightLayout === "in_out" ? w.shape[1] : w.shape[0]) });
    } else if (RECURRENT_OPS.has(layer.kind) && layer.weight && layer.recurrentWeight) {
      for (const name of [layer.weight, layer.recurrentWeight]) {
        const w = need(tensors, name, layer);
        if (w.shape.length !== 2) throw new CntError("BAD_SHAPE", `Recurrent layer ${quoteName(layer.name)}: ${quoteName(name)} has shape ${formatShape(w.shape)}, not a matrix.`, { tensor: name });
        checkNodes(name, Math.max(w.shape[0], w.shape[1]));
        plans.set(name, { matrix: { rows: w.shape[0], cols: w.shape[1] } });
      }
      for (const name of [layer.bias, layer.recurrentBias]) {
        if (name) checkNodes(name, need(tensors, name, layer).shape.reduce((a, d) => a * d, 1));
        if (name) plans.set(name, { matrix: { rows: 1, cols: need(tensors, name, layer).shape.reduce((a, d) => a * d, 1) } });
      }
    } else if (CONV_OPS.has(layer.kind) && layer.weight) {
      const kernel = convKernel(layer, need(tensors, layer.weight, layer));
      checkNodes(layer.weight, Math.max(kernel.cIn, kernel.cOut));
      plans.set(layer.weight, { conv: kernel.request });
      if (layer.bias) plans.set(layer.bias, { matrix: biasMatrix(layer, tensors, kernel.cOut) });
    }
  }
  return plans;
}

function biasMatrix(layer: LayerInfo, tensors: Map<string, TensorInfo>, outputs: number): { rows: number; cols: number } {
  const b = need(tensors, layer.bias!, layer);
  const count = b.shape.reduce((a, d) => a * d, 1);
  if (count !== outputs) {
    throw new CntError("BAD_SHAPE", `Layer ${quoteName(layer.name)}: bias ${quoteName(b.name)} has ${count} values but the layer has ${outputs} outputs.`, { tensor: b.name, expected: outputs, actual: count });
  }
  return { rows: 1, cols: count };
}

/** The model's tensors by name. */
export function tensorsByName(model: ModelInfo): Map<string, TensorInfo> {
  return new Map(model.tensors.map((t) => [t.name, t]));
}

/** A tensor a layer names, or BAD_HEADER naming both. */
export function need(tensors: Map<string, TensorInfo>, name: string, layer: LayerInfo): TensorInfo {
  const t = tensors.get(name);
  if (!t) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)} refers to tensor ${quoteName(name)}, which the file does not hold.`, { tensor: name });
  return t;
}
