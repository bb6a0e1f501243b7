import { abortError, asCntError, CntError, quoteName, throwIfAborted } from "./errors.js";
import { DETECT_BYTES, detectFormat } from "./formats/registry.js";
import { measureGates, measureTensors, type MeasureContext, type TensorSummary } from "./measure/measure.js";
import type { ModelInfo } from "./model/types.js";
import { resolveOptions, type AnalyzeOptions } from "./options.js";
import type { DataMetricsArgs, DataPartial } from "./forward/data-metrics.js";
import { tensorPlans } from "./measure/plan.js";
import { buildReport } from "./report/build.js";
import { nodeStrengths } from "./strengths/walk.js";
import { normalizeModel } from "./graph/normalize.js";
import { applyLayout } from "./graph/layout.js";
import type { Report } from "./report/types.js";
import { toByteSource, type ModelInput } from "./source/open.js";
import type { ByteSource } from "./source/types.js";
import { Kernels } from "./kernels/kernels.js";

/**
 * Measure a model: link-weight distributions per layer, node strengths and fluctuation per node
 * layer (spec report.md). The input is streamed block by block; nothing holds a whole tensor.
 * @example
 *   import { analyze } from "cntscope";
 *   const report = await analyze(new Uint8Array(await (await fetch("model.safetensors")).arrayBuffer()));
 *   console.log(report.nodeLayers.map((n) => n.fluctuation));
 */
export async function analyze(input: ModelInput, options: AnalyzeOptions = {}): Promise<Report> {
  return analyzeWith(input, options, (measure, model, plans) => measureTensors(measure, model, plans));
}

/** How the tensors get measured: in this thread (analyze), or spread over workers (cntscope/node). */
export type MeasureAll = (measure: MeasureContext, model: ModelInfo, plans: ReturnType<typeof tensorPlans>) => Promise<Map<string, TensorSummary>>;

/** How the forward pass runs: in this thread (analyze), or its samples spread over workers (cntscope/node). */
export type RunData = (args: DataMetricsArgs) => Promise<DataPartial>;

/** analyze() with the measuring step (and the forward pass) given: open, measure, walk the graph, report. */
export async function analyzeWith(input: ModelInput, options: AnalyzeOptions, measureAll: MeasureAll, runData?: RunData, onModel?: (model: ModelInfo) => void): Promise<Report> {
  let source: ByteSource | undefined;
  try {
    source = toByteSource(input, { name: options.name, size: options.size, signal: options.signal });
    const { model, kernels, summaries, strengths, resolved } = await measureModel(source, options, measureAll, onModel);
    const report = buildReport(kernels, model, summaries, strengths, resolved);
    if (options.inputs !== undefined) {
      // The forward pass (a sixth of the CLI's code) loads only for a run given samples.
      const { addDataMetrics } = await import("./forward/add-data.js");
      await addDataMetrics(report, model, source, strengths.layers, options, resolved, runData);
    }
    return report;
  } catch (error) {
    throw callError(error, options.signal, "Analyzing", source?.name);
  } finally {
    await source?.close();
  }
}

/**
 * Everything analyze() knows before the report: the model as the walk reads it, its tensors
 * measured, its node layers (with node maps when there are inputs). `onModel` hears of the model
 * as soon as it is read, before the kernels are compiled and the tensors planned (analyzeFile
 * starts its band pool's threads then).
 */
export async function measureModel(source: ByteSource, options: AnalyzeOptions, measureAll: MeasureAll, onModel?: (model: ModelInfo) => void) {
  const resolved = resolveOptions(options);
  throwIfAborted(options.signal, `Analyzing ${quoteName(source.name)}`, { file: source.name });
  // The file's description as the graph walk reads it (inspect() shows it as the file has it).
  const read = await openModel(source, resolved.limits);
  const model = normalizeModel(options.layout ? applyLayout(read, options.layout) : read);
  onModel?.(model);
  const kernels = await Kernels.create();
  const measure: MeasureContext = { kernels, source, options: resolved, signal: options.signal, onProgress: options.onProgress };
  const summaries = await measureAll(measure, model, tensorPlans(model, resolved.limits));
  if (resolved.gates === "separate") await measureGates(measure, model, summaries);
  throwIfAborted(options.signal, `Analyzing ${quoteName(source.name)}`, { file: source.name });
  const strengths = nodeStrengths(kernels, model, summaries, { ...resolved, nodeMaps: options.inputs !== undefined }, resolved.inputShape);
  return { model, kernels, summaries, strengths, resolved };
}

/**
 * Read a model's description (layers, tensors, shapes, dtypes) without reading tensor data.
 * @example
 *   const model = await inspect(bytes); console.log(model.layers.map((l) => l.kind));
 */
export async function inspect(input: ModelInput, options: Pick<AnalyzeOptions, "name" | "size" | "limits" | "signal"> = {}): Promise<ModelInfo> {
  let source: ByteSource | undefined;
  try {
    const resolved = resolveOptions(options);
    source = toByteSource(input, { name: options.name, size: options.size, signal: options.signal });
    throwIfAborted(options.signal, `Reading ${quoteName(source.name)}`, { file: source.name });
    return await openModel(source, resolved.limits);
  } catch (error) {
    throw callError(error, options.signal, "Reading", source?.name);
  } finally {
    await source?.close();
  }
}

/**
 * What a public call rejects with: a CntError as it is, anything else (an engine RangeError, a
 * wasm trap) as INTERNAL with it as cause; and once the call's signal has aborted, AbortError
 * (code ABORTED, the signal's reason as cause) whatever the abort made fail on the way out.
 */
export function callError(error: unknown, signal: AbortSignal | undefined, doing: string, file: string | undefined): CntError {
  if (error instanceof CntError && error.code === "ABORTED") return error;
  if (signal?.aborted === true) return abortError(file === undefined ? doing : `${doing} ${quoteName(file)}`, signal, { file });
  return asCntError(error, { file });
}

/**
 * The bytes detection looks at: DETECT_BYTES, or all of a shorter file. A stream of unknown size
 * may be shorter too: try the full count, then 16 bytes (the stream keeps what it has read).
 */
async function firstBytes(source: ByteSource): Promise<Uint8Array> {
  if (source.size !== undefined) {
    const first = new Uint8Array(Math.min(DETECT_BYTES, source.size));
    if (first.byteLength > 0) await source.readInto(0, first);
    return first;
  }
  try {
    const first = new Uint8Array(DETECT_BYTES);
    await source.readInto(0, first);
    return first;
  } catch (error) {
    if (!(error instanceof CntError && error.code === "TRUNCATED")) throw error;
    const first = new Uint8Array(16);
    await source.readInto(0, first);
    return first;
  }
}

/** Detect the format by content and open the model with its reader. */
export async function openModel(source: ByteSource, limits: ReturnType<typeof resolveOptions>["limits"]): Promise<ModelInfo> {
  const reader = detectFormat(await firstBytes(source), source.name);
  return reader.open(source, limits);
}
