import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { CntError } from "../errors.js";
import { parseLabels, withDataAccuracy, type LabelsTable } from "../population/labels.js";
import { toPartial, type NetworkPartial } from "../population/partial.js";
import { population, type PopulationOptions, type PopulationResult } from "../population/population.js";
import { fileSystemError } from "./fs-errors.js";
import { analyzeFile, type AnalyzeFileOptions } from "./index.js";
import { modelFilesIn } from "./model-files.js";
import { mulberry32, sampleIndices } from "../population/prng.js";
import { partialsOfFiles } from "./population-workers.js";
import type { FileLabels } from "./sample-files.js";

export interface PopulationFilesOptions extends Omit<AnalyzeFileOptions, "fine" | "perNode" | "onProgress" | "linkEdges" | "tensorEdges" | "strengthEdges" | "bins" | "labels">, PopulationOptions {
  /** The labels: a CSV path, its parsed table, or none (every network in one group). */
  labels?: string | LabelsTable;
  /** The class of each of `inputs`' samples (analyzeFile's labels): each network's accuracy on them becomes its label data.accuracy (bin: { column: "data.accuracy", ... }). */
  dataLabels?: FileLabels;
  /** Called after each network is analyzed (index from 0, in file order). */
  onFile?: (progress: { file: string; index: number; total: number }) => void;
}

/** The model files of a population: each folder's model files (recognised by content; with labels, only those the labels name), each file as given; keyed by base name unless the labels name the path as given. */
export async function populationPaths(inputs: string[], labels?: LabelsTable): Promise<{ path: string; file: string }[]> {
  const out: { path: string; file: string }[] = [];
  for (const input of inputs) {
    let isDir = false;
    try {
      isDir = (await stat(input)).isDirectory();
    } catch (error) {
      throw fileSystemError(error, `Cannot read ${JSON.stringify(input)}`, input);
    }
    if (!isDir) {
      out.push({ path: input, file: labels?.rows.has(input) ? input : basename(input) });
      continue;
    }
    for (const path of await modelFilesIn(input)) {
      const name = basename(path);
      if (!labels || labels.rows.has(name)) out.push({ path, file: name });
    }
  }
  const seen = new Set<string>();
  for (const { file } of out) {
    if (seen.has(file)) throw new CntError("BAD_OPTION", `Two networks of the population are named ${JSON.stringify(file.slice(0, 80))}; give files with different names.`, { file });
    seen.add(file);
  }
  return out;
}

/**
 * Analyze each model file (one after another in this process, fine histograms kept) into its
 * partial, labelled by the labels table's row of the same file name (or base name).
 */
export async function populationPartials(inputs: string[], options: PopulationFilesOptions = {}): Promise<NetworkPartial[]> {
  return (await partialsWithTotal(inputs, options)).partials;
}

async function partialsWithTotal(inputs: string[], options: PopulationFilesOptions): Promise<{ partials: NetworkPartial[]; total: number; unlabelled: number; missing: number }> {
  const { labels: labelsOption, onFile, bin: _bin, groupBy: _groupBy, sample: _sample, seed: _seed, splits: _splits, against: _against, ...analyzeOptions } = options;
  let labels: LabelsTable | undefined;
  if (typeof labelsOption === "string") {
    let text: string;
    try {
      text = await readFile(labelsOption, "utf8");
    } catch (error) {
      throw fileSystemError(error, `Cannot read labels ${JSON.stringify(labelsOption)}`, labelsOption);
    }
    labels = parseLabels(text, labelsOption);
  } else labels = labelsOption;
  const all = (await populationPaths(inputs, labels)).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  let files = all;
  const keys = new Set(all.flatMap(({ path, file }) => [file, basename(path)]));
  const missing = labels ? [...labels.rows.keys()].filter((k) => !keys.has(k) && !keys.has(basename(k))).length : 0;
  const unlabelled = labels ? all.filter(({ path, file }) => !labels!.rows.has(file) && !labels!.rows.has(basename(path))).length : 0;
  if (files.length === 0) throw new CntError("BAD_OPTION", `No model files in ${inputs.map((p) => JSON.stringify(p.slice(0, 80))).join(", ")}${labels ? " named in the labels" : ""}.`);
  // The same draw population() makes over the partials sorted by file, made before reading, so a sample reads only its files.
  if (options.sample !== undefined && !(Number.isSafeInteger(options.sample) && options.sample >= 1)) throw new CntError("BAD_OPTION", `Option sample must be a whole number >= 1; got ${JSON.stringify(options.sample)}.`);
  if (options.sample !== undefined && options.sample < files.length) {
    files = sampleIndices(files.length, options.sample, mulberry32(options.seed ?? 0)).map((i) => files[i]);
  }
  const labelsOf = (path: string, file: string) => labels?.rows.get(file) ?? labels?.rows.get(basename(path)) ?? {};
  const { workers = 1, dataLabels, ...rest } = analyzeOptions;
  if (workers > 1) {
    const { partials } = await partialsOfFiles(files.map(({ path, file }) => ({ path, file, labels: labelsOf(path, file) })), { ...rest, dataLabels, workers, strict: true, onFile: (p) => onFile?.({ file: p.file, index: p.done - 1, total: p.total }) });
    return { partials, total: all.length, unlabelled, missing };
  }
  const partials: NetworkPartial[] = [];
  for (const [index, { path, file }] of files.entries()) {
    const report = await analyzeFile(path, { ...rest, ...(dataLabels === undefined ? {} : { labels: dataLabels }), fine: true, workers: 1 });
    partials.push(toPartial(report, file, withDataAccuracy(labelsOf(path, file), report)));
    onFile?.({ file, index, total: files.length });
  }
  return { partials, total: all.length, unlabelled, missing };
}

/**
 * A population of model files: each analyzed in this process, grouped by its labels (see population()).
 * @example
 *   import { populationFiles } from "cntscope/node";
 *   const result = await populationFiles(["runs/"], { labels: "runs/labels.csv", bin: { column: "accuracy", edges: [0, 0.5, 0.9, 1] } });
 */
export async function populationFiles(inputs: string[], options: PopulationFilesOptions = {}): Promise<PopulationResult> {
  const { partials, total, unlabelled, missing } = await partialsWithTotal(inputs, options);
  const { bin, groupBy, seed, splits, against, bins } = options as PopulationOptions;
  // populationPartials drew the sample already (same rule): population() keeps them all and says so.
  const result = population(partials, { bin, groupBy, seed, splits, against, bins });
  if (partials.length < total) result.notes.unshift(`Sampled ${partials.length} of ${total} networks (seed ${seed ?? 0}).`);
  if (missing > 0) result.notes.push(`${missing} files named in the labels were not found among the inputs.`);
  if (unlabelled > 0) result.notes.push(`${unlabelled} model files have no row in the labels.`);
  return result;
}
