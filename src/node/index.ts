// cntscope for Node: the core API plus file paths and progress on files of any size.
import { analyze, inspect } from "../entry/node-core.js";
import type { AnalyzeOptions } from "../options.js";
import type { Report } from "../report/types.js";
import type { ModelInfo } from "../model/types.js";
import { fileSource } from "./file-source.js";

export * from "../entry/node-core.js";
export { fileSource } from "./file-source.js";

/**
 * Analyze a model file, streamed from disk with positioned reads.
 * @example
 *   import { analyzeFile } from "cntscope/node";
 *   const report = await analyzeFile("models/digits-mlp.safetensors");
 */
export async function analyzeFile(path: string, options: AnalyzeOptions = {}): Promise<Report> {
  return analyze(await fileSource(path), options);
}

/** Describe a model file (layers, tensors, dtypes, sizes) without reading its tensors. */
export async function inspectFile(path: string, options: Pick<AnalyzeOptions, "limits"> = {}): Promise<ModelInfo> {
  return inspect(await fileSource(path), options);
}
