// cntscope population DIR|FILES... --labels labels.csv [--bin col:edges | --group-by col] -o out/
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CntError } from "../errors.js";
import { fileSystemError } from "../node/fs-errors.js";
import { populationRun } from "../node/population-workers.js";
import { DATA_ACCURACY, parseBinSpec, parseLabels, type LabelsTable } from "../population/labels.js";
import { populationOutputs, populationSummary } from "../population/outputs.js";
import { population, type PopulationOptions, type PopulationResult } from "../population/population.js";
import { failedCsv, parseShard, shardFileName, toShard, type FailedFile } from "../population/shards.js";
import { quote } from "./flags.js";
import { analyzeOptions } from "./options.js";
import { writeLine } from "./output.js";
import { populationHtml } from "../html/population-html.js";

function wholeNumber(flags: ReadonlyMap<string, string | true>, name: string, min: number): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (typeof text !== "string" || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new CntError("BAD_OPTION", `Option --${name} must be a whole number >= ${min}; got ${quote(String(text))}.`);
  return n;
}

/** The grouping and statistics options of population and merge, from their flags. */
export function populationOptionsOf(flags: ReadonlyMap<string, string | true>): PopulationOptions {
  if (flags.has("bin") && flags.has("group-by")) throw new CntError("BAD_OPTION", "Options --bin and --group-by both choose the groups; give one.");
  const bin = flags.has("bin") ? parseBinSpec(String(flags.get("bin"))) : undefined;
  const groupBy = flags.has("group-by") ? String(flags.get("group-by")) : undefined;
  // data.accuracy comes from the analyses (--inputs, --data-labels) or the partials (merge), not from a labels table.
  const fromData = (bin?.column ?? groupBy) === DATA_ACCURACY;
  if ((bin || groupBy !== undefined) && !flags.has("labels") && !fromData) throw new CntError("BAD_OPTION", `Option --${bin ? "bin" : "group-by"} reads a label column, so it needs --labels labels.csv.`);
  return { bin, groupBy, sample: wholeNumber(flags, "sample", 1), seed: wholeNumber(flags, "seed", 0), splits: wholeNumber(flags, "splits", 0), bins: wholeNumber(flags, "bins", 1) };
}

/** Runs the command; the files go to --out, the summary to stdout (JSON with --json, else a few lines). With --shard, only the shard's partials, to --out/part-<i>-of-<n>.json. */
export async function runPopulation(inputs: string[], flags: ReadonlyMap<string, string | true>, signal: AbortSignal, onFile?: (p: { file: string; index: number; total: number }) => void): Promise<PopulationResult | undefined> {
  if (inputs.length === 0) throw new CntError("BAD_OPTION", "cntscope population needs a folder or model files: cntscope population <dir|files...> --labels labels.csv -o out/.");
  const options = populationOptionsOf(flags);
  const shard = flags.has("shard") ? parseShard(String(flags.get("shard"))) : undefined;
  if (shard && typeof flags.get("out") !== "string") throw new CntError("BAD_OPTION", `Option --shard writes the shard's partials to -o DIR (as ${shardFileName(shard)}), for cntscope merge; give -o.`);
  const { bins: _bins, workers, labels: dataLabels, ...analysis } = analyzeOptions(flags, "data-labels");
  const labelsPath = flags.get("labels");
  const table = typeof labelsPath === "string" ? await readLabels(labelsPath) : undefined;
  if ((options.bin?.column ?? options.groupBy) === DATA_ACCURACY && !flags.has("data-labels")) {
    throw new CntError("BAD_OPTION", `Grouping by ${DATA_ACCURACY} needs each network's accuracy on labelled samples: give --inputs and --data-labels.`);
  }
  if (dataLabels !== undefined && table?.columns.includes(DATA_ACCURACY)) {
    throw new CntError("BAD_OPTION", `The labels ${quote(String(labelsPath))} have a column ${DATA_ACCURACY}, which --data-labels measures; rename the column.`);
  }
  const run = await populationRun(inputs, {
    ...analysis,
    dataLabels,
    labels: table,
    shard,
    workers,
    strict: flags.has("strict"),
    followLinks: flags.has("follow-links"),
    signal,
    onFile: onFile && ((p) => onFile({ file: p.file, index: p.done - 1, total: p.total })),
  });
  if (shard) {
    const path = join(String(flags.get("out")), shardFileName(shard));
    await writeFiles(String(flags.get("out")), { [shardFileName(shard)]: JSON.stringify(toShard(shard, run.files, run.partials, run.failed)) });
    await writeLine(process.stderr, `wrote ${path}: shard ${shard.index} of ${shard.count}, ${run.partials.length} networks, ${run.failed.length} failed (merge the shards with cntscope merge)`);
    return undefined;
  }
  const result = population(run.partials, options);
  await writePopulation(result, run.failed, flags);
  return result;
}

/** The population's files to --out (and failed.csv when a network failed), its summary to stdout. Shared by population and merge. */
export async function writePopulation(result: PopulationResult, failed: FailedFile[], flags: ReadonlyMap<string, string | true>): Promise<void> {
  const written: string[] = [];
  const out = flags.get("out");
  if (typeof out === "string") {
    // report.html shows the same result as the tables (no paths or times in it, so merge gives the same bytes).
    const files = { ...populationOutputs(result), "report.html": populationHtml(result), ...(failed.length > 0 ? { "failed.csv": failedCsv(failed) } : {}) };
    await writeFiles(out, files);
    written.push(...Object.keys(files).map((name) => join(out, name)));
  }
  if (flags.has("json")) await writeLine(process.stdout, JSON.stringify({ ...populationSummary(result, written), failed }, null, 2));
  else await writeLine(process.stdout, summaryText(result, written) + failed.map((f) => `\nfailed: ${f.file}: ${f.code}: ${f.message}`).join(""));
}

async function writeFiles(out: string, files: Record<string, string>): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(out, name), text);
  } catch (error) {
    throw fileSystemError(error, `Cannot write the population's files to ${quote(out)}`, out);
  }
}

async function readLabels(path: string): Promise<LabelsTable> {
  try {
    return parseLabels(await readFile(path, "utf8"), path);
  } catch (error) {
    throw fileSystemError(error, `Cannot read labels ${JSON.stringify(path)}`, path);
  }
}

function summaryText(result: PopulationResult, written: string[]): string {
  const lines = [`${result.networks.length} networks in ${result.groups.length} groups: ${result.groups.map((g) => `${g.name} (${g.files.length})`).join(", ")}`];
  for (const s of result.separation.filter((s) => s.metric === "fluctuation")) {
    lines.push(`fluctuation ${s.layer}: ${s.spearman ? `Spearman ${s.spearman.rho?.toFixed(3) ?? "-"} against ${s.spearman.against}, ` : ""}leave-one-out nearest centroid ${s.loo.accuracy === null ? "-" : s.loo.accuracy.toFixed(3)}`);
  }
  lines.push(...result.notes);
  lines.push(written.length ? `wrote ${written.length} files to ${join(written[0], "..")}` : "no files written (give -o DIR)");
  return lines.join("\n");
}
