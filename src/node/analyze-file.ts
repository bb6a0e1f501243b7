// analyzeFile and inspectFile: a model file by path, streamed from disk. Apart from ./index.ts so
// that the CLI loads these and what they use, not the whole public API (compare, convert, the
// .cnt writer); ./index.ts re-exports them.
import "../entry/node-setup.js";
import { analyze, analyzeWith, callError, inspect } from "../analyze.js";
import { CntError } from "../errors.js";
import type { AnalyzeOptions } from "../options.js";
import type { Report } from "../report/types.js";
import type { ModelInfo } from "../model/types.js";
import { fileSource } from "./file-source.js";
import type { FileInputs, FileLabels, openDataFiles } from "./sample-files.js";
import type { ByteSource } from "../source/types.js";

/** Options of analyzeFile: those of analyze, plus threads, the policy for linked sibling files, and samples and labels by path. */
export interface AnalyzeFileOptions extends Omit<AnalyzeOptions, "inputs" | "labels"> {
  /**
   * Input samples for the data metrics: a `.npy` (one input, [N, ...one sample]) or `.npz` (one
   * entry per graph input, named by it) path, read a batch at a time; or what analyze() takes.
   */
  inputs?: FileInputs;
  /** The class of each sample (for report.data.accuracy): a `.npy` of integers or a text column of them, or what analyze() takes. */
  labels?: FileLabels;
  /** Threads to measure on (1 to 64, default 1). */
  workers?: number;
  /**
   * Open sibling files (shards, external data) wherever their symbolic or hard links lead.
   * Default false: only inside the model's folder, a Hugging Face cache repository, or a pnpm store.
   */
  followLinks?: boolean;
}

/**
 * Analyze a model file, streamed from disk with positioned reads, the next block read while
 * this one is measured. `workers` > 1 measures on that many threads: tensors of 16 MiB or more
 * are split over all of them, smaller ones shared out whole (the report is the same, bit for bit).
 * @example
 *   import { analyzeFile } from "cntscope/node";
 *   const report = await analyzeFile("models/digits-mlp.safetensors", { workers: 2 });
 */
export async function analyzeFile(path: string, options: AnalyzeFileOptions = {}): Promise<Report> {
  const { workers = 1, followLinks = false, inputs, labels, ...others } = options;
  const policy = { followLinks };
  let source: ByteSource | undefined;
  let data: Awaited<ReturnType<typeof openDataFiles>> | undefined;
  let closeEarly: (() => Promise<void>) | undefined;
  try {
    if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64) throw new CntError("BAD_OPTION", `Option workers must be an integer from 1 to 64; got ${JSON.stringify(workers)}.`);
    // The readers of samples and labels load only for a run given a file of them.
    data = typeof inputs === "string" || typeof labels === "string" ? await (await import("./sample-files.js")).openDataFiles(inputs, labels) : { inputs, labels, close: async () => {} };
    const rest: AnalyzeOptions = { ...others, ...(data.inputs === undefined ? {} : { inputs: data.inputs }), ...(data.labels === undefined ? {} : { labels: data.labels }) };
    source = await fileSource(path, policy);
    if (workers === 1) return await analyze(source, rest);
    // The worker pool and the threads build load only for a run that uses them; the band pool's
    // threads start as soon as the model is read, while this thread compiles its kernels and plans.
    const { measureInWorkers, startEarlyPool, closeEarlyPool } = await import("./parallel.js");
    let early: ReturnType<typeof startEarlyPool>;
    closeEarly = () => closeEarlyPool(early);
    const onModel = (model: ModelInfo) => void (early = startEarlyPool(path, workers, model, others.blockBytes));
    // Threads get the samples' and labels' paths as given (each opens its own share), arrays as copies.
    const shared = { ...rest, ...(typeof inputs === "string" ? { inputs } : {}), ...(typeof labels === "string" ? { labels } : {}) };
    const runData = rest.inputs === undefined ? undefined : (await import("./forward-workers.js")).runDataOnThreads(path, workers, shared, policy);
    return await analyzeWith(source, rest, (measure, model, plans) => measureInWorkers(path, workers, measure, model, plans, policy, early), runData, onModel);
  } catch (error) {
    throw callError(error, options.signal, "Analyzing", path);
  } finally {
    // analyze() closes what it opened; an option it refused before opening leaves the file to us.
    await source?.close();
    await data?.close();
    await closeEarly?.();
  }
}

/** Describe a model file (layers, tensors, dtypes, sizes) without reading its tensors. */
export async function inspectFile(path: string, options: Pick<AnalyzeFileOptions, "limits" | "followLinks" | "signal"> = {}): Promise<ModelInfo> {
  const { followLinks = false, ...rest } = options;
  let source: ByteSource | undefined;
  try {
    source = await fileSource(path, { followLinks });
    return await inspect(source, rest);
  } catch (error) {
    throw callError(error, options.signal, "Reading", path);
  } finally {
    await source?.close();
  }
}
