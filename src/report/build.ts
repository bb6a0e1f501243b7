import { CntError, quoteName } from "../errors.js";
import { denseChainStrengths, type DenseLink } from "../graph/dense-chain.js";
import { distributionFrom, distributionOf } from "../metrics/distribution.js";
import type { TensorSummary } from "../metrics/measure.js";
import { stdOf } from "../metrics/moments.js";
import type { LayerInfo, ModelInfo, TensorInfo } from "../model/types.js";
import type { ResolvedOptions } from "../options.js";
import { VERSION } from "../version.js";
import type { LayerReport, NodeLayerReport, Report } from "./types.js";

/** Which tensors are read as matrices, and how: dense weights by their stored shape, biases as [1, n]. */
export function matricesOf(model: ModelInfo): Map<string, { rows: number; cols: number }> {
  const tensors = tensorsByName(model);
  const matrices = new Map<string, { rows: number; cols: number }>();
  for (const layer of model.layers) {
    if (layer.kind !== "dense" || !layer.weight) continue;
    const w = need(tensors, layer.weight, layer);
    if (w.shape.length !== 2) {
      throw new CntError("BAD_SHAPE", `Dense layer ${quoteName(layer.name)}: weight ${quoteName(w.name)} has shape [${w.shape.join(", ")}], not a matrix.`, { tensor: w.name });
    }
    matrices.set(w.name, { rows: w.shape[0], cols: w.shape[1] });
    if (layer.bias) {
      const b = need(tensors, layer.bias, layer);
      const nOut = layer.weightLayout === "in_out" ? w.shape[1] : w.shape[0];
      const count = b.shape.reduce((a, d) => a * d, 1);
      if (count !== nOut) {
        throw new CntError("BAD_SHAPE", `Dense layer ${quoteName(layer.name)}: bias ${quoteName(b.name)} has ${count} values but the layer has ${nOut} outputs.`, { tensor: b.name, expected: nOut, actual: count });
      }
      matrices.set(b.name, { rows: 1, cols: count });
    }
  }
  return matrices;
}

/** The report of spec report.md from the model description and the measured tensors. */
export function buildReport(model: ModelInfo, summaries: Map<string, TensorSummary>, options: ResolvedOptions): Report {
  const tensors = tensorsByName(model);
  const notes: string[] = [];
  const layers: LayerReport[] = model.layers.map((layer, index) => layerReport(layer, index, tensors, summaries));
  for (const l of layers) {
    for (const [part, d] of [["weights", l.linkWeights], ["bias", l.bias]] as const) {
      if (d && d.nan + d.posInf + d.negInf > 0) {
        notes.push(`Layer ${quoteName(l.name)} ${part}: ${d.nan} NaN, ${d.posInf} +Inf, ${d.negInf} -Inf, excluded from its statistics and counted as 0 in strengths.`);
      }
    }
  }

  const unsupported = model.layers.filter((l) => ["conv2d", "conv1d", "conv2d_transpose", "rnn", "lstm", "gru"].includes(l.kind));
  let nodeLayers: NodeLayerReport[] = [];
  const dense = model.layers.filter((l) => l.kind === "dense");
  if (unsupported.length > 0) {
    notes.push(`Node strengths are given for dense chains only in this version; ${unsupported.length} layer(s) of kind ${[...new Set(unsupported.map((l) => l.kind))].join(", ")} are reported as link-weight distributions.`);
  } else if (dense.length > 0) {
    const links = dense.map((layer) => denseLink(layer, tensors, summaries));
    nodeLayers = denseChainStrengths(links, options).map((n, index) => {
      const strength = distributionOf(n.s, options.bins, options.strengthEdges);
      const fluctuation = strength.std;
      const report: NodeLayerReport = {
        index,
        after: n.after,
        size: n.s.length,
        strength,
        strengthIn: distributionOf(n.sIn, options.bins, options.strengthEdges),
        strengthOut: distributionOf(n.sOut, options.bins, options.strengthEdges),
        fluctuation,
        cv: fluctuation === null || strength.mean === null || strength.mean === 0 ? null : fluctuation / Math.abs(strength.mean),
      };
      if (options.perNode) report.perNode = { s: n.s, sIn: n.sIn, sOut: n.sOut };
      return report;
    });
  }
  const histogram = options.linkEdges ? "edges" : [...summaries.values()].some((s) => s.histogram.exact === false) ? "rebinned" : "exact";
  return {
    cntscope: VERSION,
    source: { name: model.name, format: model.format, bytes: model.bytes ?? null },
    options: { bias: options.bias, boundary: options.boundary, bins: options.bins, histogram, ...(options.linkEdges ? { linkEdges: options.linkEdges } : {}) },
    layers,
    nodeLayers,
    skipped: model.skipped ?? [],
    notes,
  };
}

function layerReport(layer: LayerInfo, index: number, tensors: Map<string, TensorInfo>, summaries: Map<string, TensorSummary>): LayerReport {
  const w = layer.weight ? need(tensors, layer.weight, layer) : undefined;
  const b = layer.bias ? need(tensors, layer.bias, layer) : undefined;
  const dist = (t: TensorInfo | undefined) => {
    if (!t) return null;
    const s = summaries.get(t.name)!;
    return distributionFrom(s.moments, s.histogram);
  };
  const size = (t: TensorInfo | undefined) => (t ? t.shape.reduce((a, d) => a * d, 1) : 0);
  // The spec orients a dense W as [n_in, n_out]; PyTorch stores [n_out, n_in].
  const shape = w ? (layer.kind === "dense" && layer.weightLayout !== "in_out" ? [w.shape[1], w.shape[0]] : [...w.shape]) : [];
  const report: LayerReport = {
    index,
    name: layer.name,
    kind: layer.kind,
    shape,
    params: size(w) + size(b),
    dtype: w?.dtype ?? null,
    linkWeights: dist(w),
    bias: dist(b),
    tensors: { ...(w ? { weight: w.name } : {}), ...(b ? { bias: b.name } : {}) },
  };
  if (layer.activation) report.activation = layer.activation;
  return report;
}

function denseLink(layer: LayerInfo, tensors: Map<string, TensorInfo>, summaries: Map<string, TensorSummary>): DenseLink {
  const w = need(tensors, layer.weight!, layer);
  const sums = summaries.get(w.name)!;
  const outIn = layer.weightLayout !== "in_out";
  // Stored [out, in]: a stored row is an output node (its sum is what enters it), a stored column an input node.
  const link: DenseLink = {
    name: layer.name,
    nIn: outIn ? w.shape[1] : w.shape[0],
    nOut: outIn ? w.shape[0] : w.shape[1],
    outOfInputs: outIn ? sums.colSums! : sums.rowSums!,
    intoOutputs: outIn ? sums.rowSums! : sums.colSums!,
  };
  if (layer.bias) link.bias = summaries.get(layer.bias)!.colSums!;
  return link;
}

function tensorsByName(model: ModelInfo): Map<string, TensorInfo> {
  return new Map(model.tensors.map((t) => [t.name, t]));
}

function need(tensors: Map<string, TensorInfo>, name: string, layer: LayerInfo): TensorInfo {
  const t = tensors.get(name);
  if (!t) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)} refers to tensor ${quoteName(name)}, which the file does not hold.`, { tensor: name });
  return t;
}

export { stdOf };
