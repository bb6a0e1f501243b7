import { CntError, quoteName } from "../errors.js";
import { convKernel } from "../graph/ops/conv/layer.js";
import type { StrengthsResult } from "../strengths/walk.js";
import type { TensorPassRequest } from "../metrics/tensor-pass.js";
import { distributionFrom } from "../metrics/distribution.js";
import { vectorDistribution } from "../metrics/vector-distribution.js";
import type { Kernels } from "../wasm/kernels.js";
import type { TensorSummary } from "../metrics/measure.js";
import type { LayerInfo, ModelInfo, TensorInfo } from "../model/types.js";
import type { ResolvedOptions } from "../options.js";
import { checkLimit, type Limits } from "../model/limits.js";
import { VERSION } from "../version.js";
import type { LayerReport, NodeLayerReport, Report } from "./types.js";

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
        throw new CntError("BAD_SHAPE", `Dense layer ${quoteName(layer.name)}: weight ${quoteName(w.name)} has shape [${w.shape.join(", ")}], not a matrix.`, { tensor: w.name });
      }
      checkNodes(w.name, Math.max(w.shape[0], w.shape[1]));
      plans.set(w.name, { matrix: { rows: w.shape[0], cols: w.shape[1] } });
      if (layer.bias) plans.set(layer.bias, { matrix: biasMatrix(layer, tensors, layer.weightLayout === "in_out" ? w.shape[1] : w.shape[0]) });
    } else if (RECURRENT_KINDS.has(layer.kind) && layer.weight && layer.recurrentWeight) {
      for (const name of [layer.weight, layer.recurrentWeight]) {
        const w = need(tensors, name, layer);
        if (w.shape.length !== 2) throw new CntError("BAD_SHAPE", `Recurrent layer ${quoteName(layer.name)}: ${quoteName(name)} has shape [${w.shape.join(", ")}], not a matrix.`, { tensor: name });
        checkNodes(name, Math.max(w.shape[0], w.shape[1]));
        plans.set(name, { matrix: { rows: w.shape[0], cols: w.shape[1] } });
      }
      for (const name of [layer.bias, layer.recurrentBias]) {
        if (name) checkNodes(name, need(tensors, name, layer).shape.reduce((a, d) => a * d, 1));
        if (name) plans.set(name, { matrix: { rows: 1, cols: need(tensors, name, layer).shape.reduce((a, d) => a * d, 1) } });
      }
    } else if (CONV_KINDS.has(layer.kind) && layer.weight) {
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

const CONV_KINDS = new Set(["conv2d", "conv1d", "conv2d_transpose"]);
const RECURRENT_KINDS = new Set(["rnn", "lstm", "gru"]);

/** The report of spec report.md from the model description and the measured tensors. */
export function buildReport(kernels: Kernels, model: ModelInfo, summaries: Map<string, TensorSummary>, strengths: StrengthsResult, options: ResolvedOptions): Report {
  const tensors = tensorsByName(model);
  const notes: string[] = [...(model.notes ?? [])];
  const layers: LayerReport[] = model.layers
    .flatMap((layer) => {
      const report = layerReport(layer, 0, tensors, summaries);
      const wired = strengths.wiring.get(layer.name);
      if (wired) Object.assign(report, { inputs: [...wired.inputs], outputs: [...wired.outputs] });
      return options.gates === "separate" && layer.recurrentWeight && summaries.get(layer.weight!)?.gates ? gateReports(layer, report, summaries) : [report];
    })
    .map((l, index) => ({ ...l, index }));
  for (const l of layers) {
    for (const [part, d] of [["weights", l.linkWeights], ["bias", l.bias]] as const) {
      if (d && d.nan + d.posInf + d.negInf > 0) {
        notes.push(`Layer ${quoteName(l.name)} ${part}: ${d.nan} NaN, ${d.posInf} +Inf, ${d.negInf} -Inf, excluded from its statistics and counted as 0 in strengths.`);
      }
    }
  }

  notes.push(...strengths.notes);
  const nodeLayers: NodeLayerReport[] = strengths.layers.map((n, index) => {
    const strength = vectorDistribution(kernels, n.s, options.bins, options.strengthEdges);
    const fluctuation = strength.std;
    const report: NodeLayerReport = {
      index,
      after: n.after,
      size: n.s.length,
      shape: n.shape,
      strength,
      strengthIn: vectorDistribution(kernels, n.sIn, options.bins, options.strengthEdges),
      strengthOut: vectorDistribution(kernels, n.sOut, options.bins, options.strengthEdges),
      fluctuation,
      cv: fluctuation === null || strength.mean === null || strength.mean === 0 ? null : fluctuation / Math.abs(strength.mean),
      producers: n.producers,
      values: n.values,
    };
    if (options.perNode) report.perNode = { s: n.s, sIn: n.sIn, sOut: n.sOut };
    return report;
  });
  const histogram = options.linkEdges ? "edges" : [...summaries.values()].some((s) => s.histogram.exact === false) ? "rebinned" : "exact";
  return {
    cntscope: VERSION,
    source: { name: model.name, format: model.format, bytes: model.bytes ?? null },
    options: { bias: options.bias, gates: options.gates, boundary: options.boundary, skip: options.skip, bins: options.bins, histogram, ...(options.linkEdges ? { linkEdges: options.linkEdges } : {}) },
    layers,
    nodeLayers,
    skipped: model.skipped ?? [],
    notes,
    coverage: strengths.coverage,
  };
}

function layerReport(layer: LayerInfo, index: number, tensors: Map<string, TensorInfo>, summaries: Map<string, TensorSummary>): LayerReport {
  const w = layer.weight ? need(tensors, layer.weight, layer) : undefined;
  const b = layer.bias ? need(tensors, layer.bias, layer) : undefined;
  const rw = layer.recurrentWeight ? need(tensors, layer.recurrentWeight, layer) : undefined;
  const rb = layer.recurrentBias ? need(tensors, layer.recurrentBias, layer) : undefined;
  const dist = (t: TensorInfo | undefined) => {
    if (!t) return null;
    const s = summaries.get(t.name)!;
    return distributionFrom(s.moments, s.histogram);
  };
  const size = (t: TensorInfo | undefined) => (t ? t.shape.reduce((a, d) => a * d, 1) : 0);
  // The spec orients a dense W as [n_in, n_out] (PyTorch stores [n_out, n_in]; recurrent input
  // matrices [n_in, gates*hidden] likewise) and a conv kernel as [kh, kw, c_in/groups, c_out].
  const transposed = (layer.kind === "dense" || RECURRENT_KINDS.has(layer.kind)) && layer.weightLayout !== "in_out" && w?.shape.length === 2;
  const shape = !w ? [] : transposed ? [w.shape[1], w.shape[0]] : CONV_KINDS.has(layer.kind) ? convKernel(layer, w).specShape : [...w.shape];
  const report: LayerReport = {
    index,
    name: layer.name,
    kind: layer.kind,
    shape,
    params: size(w) + size(b) + size(rw) + size(rb),
    dtype: w?.dtype ?? null,
    linkWeights: dist(w),
    bias: dist(b),
    tensors: { ...(w ? { weight: w.name } : {}), ...(b ? { bias: b.name } : {}), ...(rw ? { recurrentWeight: rw.name } : {}), ...(rb ? { recurrentBias: rb.name } : {}) },
  };
  if (rw) report.recurrentWeights = dist(rw);
  if (rb) report.recurrentBias = dist(rb);
  if (layer.activation) report.activation = layer.activation;
  return report;
}

/** Gates "separate": one layer per gate, named by the gate order's letters (i, f, g, o; r, z, n; ...). */
function gateReports(layer: LayerInfo, whole: LayerReport, summaries: Map<string, TensorSummary>): LayerReport[] {
  const parts = (name: string | undefined) => (name ? summaries.get(name)?.gates : undefined);
  const wx = parts(layer.weight)!, wh = parts(layer.recurrentWeight), bx = parts(layer.bias), bh = parts(layer.recurrentBias);
  const order = typeof layer.attributes?.gateOrder === "string" && layer.attributes.gateOrder.length === wx.length ? layer.attributes.gateOrder : undefined;
  const part = (p: { moments: TensorSummary["moments"]; histogram: TensorSummary["histogram"] } | undefined) => (p ? distributionFrom(p.moments, p.histogram) : null);
  return wx.map((_, g) => ({
    ...whole,
    name: `${layer.name}.${order ? order[g] : `g${g}`}`,
    gate: order ? order[g] : `g${g}`,
    shape: [whole.shape[0], whole.shape[1] / wx.length],
    params: Math.round(whole.params / wx.length),
    linkWeights: part(wx[g]),
    bias: part(bx?.[g]),
    recurrentWeights: part(wh?.[g]),
    recurrentBias: part(bh?.[g]),
  }));
}

function tensorsByName(model: ModelInfo): Map<string, TensorInfo> {
  return new Map(model.tensors.map((t) => [t.name, t]));
}

function need(tensors: Map<string, TensorInfo>, name: string, layer: LayerInfo): TensorInfo {
  const t = tensors.get(name);
  if (!t) throw new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)} refers to tensor ${quoteName(name)}, which the file does not hold.`, { tensor: name });
  return t;
}

