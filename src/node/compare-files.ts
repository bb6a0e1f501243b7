import { compare, COMPARE_METRICS, type CompareOptions, type CompareResult } from "../compare/compare.js";
import { matchItems } from "../compare/match.js";
import { CntError } from "../errors.js";
import { uniformEdges } from "../measure/histogram.js";
import type { Report } from "../report/types.js";
import { analyzeFile, type AnalyzeFileOptions } from "./index.js";

export interface CompareFilesOptions extends Omit<AnalyzeFileOptions, "linkEdges" | "tensorEdges" | "perNode" | "onProgress">, CompareOptions {}

/**
 * Compare model files layer by layer on shared histogram edges (see compare()).
 * Link weights: a first analysis of every file finds each matched layer's [min, max] over all the
 * models (with throwaway edges, so one read of each tensor), then a second analysis gives every
 * layer `bins` equal bins over that range (option tensorEdges): each file is read twice.
 * Strengths: one analysis with perNode; compare() bins the node values on shared edges.
 * @example
 *   import { compareFiles } from "cntscope/node";
 *   const result = await compareFiles(["a.safetensors", "b.safetensors"], { metric: "strength" });
 */
export async function compareFiles(paths: string[], options: CompareFilesOptions = {}): Promise<CompareResult> {
  const { metric = "linkWeights", bins, jeffreysReference, ...rest } = options;
  if (!(COMPARE_METRICS as readonly string[]).includes(metric)) throw new CntError("BAD_OPTION", `Option metric must be one of ${COMPARE_METRICS.join(", ")}; got ${JSON.stringify(metric)?.slice(0, 60)}.`);
  if (!Array.isArray(paths) || paths.length < 2) throw new CntError("BAD_OPTION", `compare needs two or more model files; got ${Array.isArray(paths) ? paths.length : "no list"}.`);
  const binCount = bins ?? 64;
  const analyzeOptions = { ...rest, bins: binCount };
  // Throwaway edges make the first pass read each tensor once: only min and max are used from it.
  const first: Report[] = [];
  for (const path of paths) first.push(await analyzeFile(path, { ...analyzeOptions, linkEdges: [0, 1], perNode: metric !== "linkWeights" }));
  if (metric !== "linkWeights") return compare(first, { metric, bins: binCount, jeffreysReference });
  const tensorEdges = paths.map(() => ({}) as Record<string, number[]>);
  const { matches } = matchItems(first.map((r) => r.layers.map((l) => ({ name: l.name, size: l.shape.join("x") }))));
  for (const match of matches) {
    const layers = match.indices.map((j, m) => first[m].layers[j]);
    const ranges = layers.map((l) => l.linkWeights).filter((d) => d && d.min !== null && d.max !== null);
    if (ranges.length === 0 || layers.some((l) => !l.tensors.weight)) continue;
    const edges = Array.from(uniformEdges(Math.min(...ranges.map((d) => d!.min!)), Math.max(...ranges.map((d) => d!.max!)), binCount));
    layers.forEach((l, m) => (tensorEdges[m][l.tensors.weight!] = edges));
  }
  const second: Report[] = [];
  // jeffreys-reference on link weights needs a sample: the fine histogram stands in for the raw weights.
  for (let m = 0; m < paths.length; m++) second.push(await analyzeFile(paths[m], { ...analyzeOptions, tensorEdges: tensorEdges[m], ...(jeffreysReference ? { fine: true } : {}) }));
  const result = compare(second, { metric, bins: binCount, jeffreysReference });
  result.notes.unshift(`Shared edges: ${binCount} equal bins per layer over its range across all ${paths.length} models, from a first analysis of each file.`);
  return result;
}
