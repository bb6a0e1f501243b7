// The data metrics' step of analyze(): a measured model's forward pass on the caller's samples,
// its results written into the report. Apart from src/analyze.ts so that a run without samples
// never loads the forward pass (a sixth of the CLI's code).
import type { ModelInfo } from "../model/types.js";
import type { AnalyzeOptions, ResolvedOptions } from "../options.js";
import type { Report } from "../report/types.js";
import type { ByteSource } from "../source/types.js";
import type { StrengthsResult } from "../strengths/walk.js";
import { finishData, runDataPartial, type DataMetricsArgs, type DataPartial } from "./data-metrics.js";
import { arrayLabels, arraySamples, isSampleSource } from "./inputs/arrays.js";

/** The forward pass's arguments for a model measured by measureModel. */
export function dataArgs(model: ModelInfo, source: ByteSource, layers: StrengthsResult["layers"], options: AnalyzeOptions, resolved: ResolvedOptions): DataMetricsArgs {
  const inputs = options.inputs!;
  const samples = isSampleSource(inputs) ? inputs : arraySamples(inputs, "input");
  const labels = options.labels === undefined ? undefined : arrayLabels(options.labels);
  return { model, source, layers, samples, labels, batch: resolved.batch, bins: resolved.bins, perNode: resolved.perNode, inputShape: resolved.inputShape, bias: resolved.bias, signal: options.signal, onProgress: options.onProgress };
}

/** Run the model forward on the caller's samples (in this thread unless runData is given) and add z, a and the accuracy to the report. */
export async function addDataMetrics(report: Report, model: ModelInfo, source: ByteSource, layers: StrengthsResult["layers"], options: AnalyzeOptions, resolved: ResolvedOptions, runData: (args: DataMetricsArgs) => Promise<DataPartial> = runDataPartial): Promise<void> {
  const result = finishData(await runData(dataArgs(model, source, layers, options, resolved)), resolved.bins, resolved.perNode);
  result.layers.forEach((measured, i) => {
    if (measured) Object.assign(report.nodeLayers[i], measured);
  });
  report.data = result.data;
  report.notes.push(...result.notes);
}
