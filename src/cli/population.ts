// cntscope population DIR|FILES... --labels labels.csv [--bin col:edges | --group-by col] -o out/
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CntError } from "../errors.js";
import { fileSystemError } from "../node/fs-errors.js";
import { populationFiles } from "../node/population-files.js";
import { parseBinSpec } from "../population/labels.js";
import { populationOutputs, populationSummary } from "../population/outputs.js";
import type { PopulationResult } from "../population/population.js";
import { quote } from "./flags.js";
import { analyzeOptions } from "./options.js";
import { writeLine } from "./output.js";

function wholeNumber(flags: ReadonlyMap<string, string | true>, name: string, min: number): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (typeof text !== "string" || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new CntError("BAD_OPTION", `Option --${name} must be a whole number >= ${min}; got ${quote(String(text))}.`);
  return n;
}

/** Runs the command; the files go to --out, the summary to stdout (JSON with --json, else a few lines). */
export async function runPopulation(inputs: string[], flags: ReadonlyMap<string, string | true>, signal: AbortSignal, onFile?: (p: { file: string; index: number; total: number }) => void): Promise<PopulationResult> {
  if (inputs.length === 0) throw new CntError("BAD_OPTION", "cntscope population needs a folder or model files: cntscope population <dir|files...> --labels labels.csv -o out/.");
  if (flags.has("bin") && flags.has("group-by")) throw new CntError("BAD_OPTION", "Options --bin and --group-by both choose the groups; give one.");
  const bin = flags.has("bin") ? parseBinSpec(String(flags.get("bin"))) : undefined;
  const groupBy = flags.has("group-by") ? String(flags.get("group-by")) : undefined;
  if ((bin || groupBy !== undefined) && !flags.has("labels")) throw new CntError("BAD_OPTION", `Option --${bin ? "bin" : "group-by"} reads a label column, so it needs --labels labels.csv.`);
  const { bins: _bins, ...analysis } = analyzeOptions(flags);
  const result = await populationFiles(inputs, {
    ...analysis,
    labels: flags.has("labels") ? String(flags.get("labels")) : undefined,
    bin,
    groupBy,
    sample: wholeNumber(flags, "sample", 1),
    seed: wholeNumber(flags, "seed", 0),
    splits: wholeNumber(flags, "splits", 0),
    bins: wholeNumber(flags, "bins", 1),
    workers: wholeNumber(flags, "workers", 1),
    followLinks: flags.has("follow-links"),
    signal,
    onFile,
  });
  const written: string[] = [];
  const out = flags.get("out");
  if (typeof out === "string") {
    try {
      await mkdir(out, { recursive: true });
      for (const [name, text] of Object.entries(populationOutputs(result))) {
        await writeFile(join(out, name), text);
        written.push(join(out, name));
      }
    } catch (error) {
      throw fileSystemError(error, `Cannot write the population's files to ${quote(out)}`, out);
    }
  }
  if (flags.has("json")) await writeLine(process.stdout, JSON.stringify(populationSummary(result, written), null, 2));
  else await writeLine(process.stdout, summaryText(result, written));
  return result;
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
