import { quoteName } from "../errors.js";
import { convKernel } from "../graph/ops/conv/layer.js";
import { CONV_OPS, RECURRENT_OPS } from "../graph/ops.js";
import type { StrengthsResult } from "../strengths/walk.js";
import { distributionFrom } from "../measure/distribution.js";
import { fineOfValues } from "../measure/fine-histogram.js";
import { need, tensorsByName } from "../measure/plan.js";
import { vectorDistribution } from "../measure/vector-distribution.js";
import type { Kernels } from "../kernels/kernels.js";
import type { TensorSummary } from "../measure/measure.js";
import type { LayerInfo, ModelInfo, TensorInfo } from "../model/types.js";
import type { ResolvedOptions } from "../options.js";
import { VERSION } from "../version.js";
import type { LayerReport, NodeLayerReport, Report } from "./types.js";

/** The report of spec report.md from the model description and the measured tensors. */
export function buildReport(kernels: Kernels, model: ModelInfo, summaries: Map<string, TensorSummary>, strengths: StrengthsResult, options: ResolvedOptions): Report {
  const tensors = tensorsByName(model);
  const notes: string[] = [...(model.notes ?? [])];
  const layers: LayerReport[] = model.layers
    .flatMap((layer) => {
      const report = layerReport(layer, 0, tensors, summaries, options.fine);
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
  const strengthDistribution = (values: Float64Array) => {
    const d = vectorDistribution(kernels, values, options.bins, options.strengthEdges);
    return options.fine ? { ...d, fine: fineOfValues(values) } : d;
  };
  const nodeLayers: NodeLayerReport[] = strengths.layers.map((n, index) => {
    const strength = strengthDistribution(n.s);
    const fluctuation = strength.std;
    const report: NodeLayerReport = {
      index,
      after: n.after,
      size: n.s.length,
      shape: n.shape,
      strength,
      strengthIn: strengthDistribution(n.sIn),
      strengthOut: strengthDistribution(n.sOut),
      fluctuation,
      cv: fluctuation === null || strength.mean === null || strength.mean === 0 ? null : fluctuation / Math.abs(strength.mean),
      producers: n.producers,
      values: n.values,
    };
    if (options.perNode) report.perNode = { s: n.s, sIn: n.sIn, sOut: n.sOut };
    return report;
  });
  // Caller's edges for every tensor (linkEdges) or some (tensorEdges, as compareFiles gives them): "edges".
  const histogram = options.linkEdges || options.tensorEdges?.size ? "edges" : [...summaries.values()].some((s) => s.histogram.exact === false) ? "rebinned" : "exact";
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

function layerReport(layer: LayerInfo, index: number, tensors: Map<string, TensorInfo>, summaries: Map<string, TensorSummary>, fine: boolean): LayerReport {
  const w = layer.weight ? need(tensors, layer.weight, layer) : undefined;
  const b = layer.bias ? need(tensors, layer.bias, layer) : undefined;
  const rw = layer.recurrentWeight ? need(tensors, layer.recurrentWeight, layer) : undefined;
  const rb = layer.recurrentBias ? need(tensors, layer.recurrentBias, layer) : undefined;
  const dist = (t: TensorInfo | undefined) => {
    if (!t) return null;
    const s = summaries.get(t.name)!;
    const d = distributionFrom(s.moments, s.histogram);
    return fine && s.fine ? { ...d, fine: s.fine } : d;
  };
  const size = (t: TensorInfo | undefined) => (t ? t.shape.reduce((a, d) => a * d, 1) : 0);
  // The spec orients a dense W as [n_in, n_out] (PyTorch stores [n_out, n_in]; recurrent input
  // matrices [n_in, gates*hidden] likewise) and a conv kernel as [kh, kw, c_in/groups, c_out].
  const transposed = (layer.kind === "dense" || RECURRENT_OPS.has(layer.kind)) && layer.weightLayout !== "in_out" && w?.shape.length === 2;
  const shape = !w ? [] : transposed ? [w.shape[1], w.shape[0]] : CONV_OPS.has(layer.kind) ? convKernel(layer, w).specShape : [...w.shape];
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
  if (w?.decode?.values?.kind === "gguf") report.quant = w.decode.values.type;
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
