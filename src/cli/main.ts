#!/usr/bin/env node
import { availableParallelism } from "node:os";
import { CntError, formatCount } from "../errors.js";
import type { CompareMetric } from "../compare/compare.js";
// Only what analyze needs is imported up front; compare and convert load their modules when run.
import { analyzeFile, inspectFile } from "../node/analyze-file.js";
import { jsonPieces } from "../report/json-text.js";
import { VERSION } from "../version.js";
import { checkFlagsFor, closest, COMMANDS, parseArgs, quote, type Command } from "./flags.js";
import { helpText } from "./help.js";
import { formatInfo, infoCsv } from "./info-text.js";
import { analyzeOptions, convertOptions } from "./options.js";
import { OutputClosed, writeAll, writeLine } from "./output.js";
import { ProgressLine } from "./progress.js";
import { reportCsv } from "../report/tables.js";
import { formatReport } from "./table.js";
import { defaultWorkers, fileSize } from "./workers.js";

/** Ctrl-C: work stops at the next block, a convert removes its partial file, the exit code is 130. */
const interrupt = new AbortController();
let progress: ProgressLine | undefined;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.flags.has("version")) {
    await writeLine(process.stdout, VERSION);
    return 0;
  }
  const command = args.command === "help" ? (args.positional[0] as Command | undefined) : (args.command as Command | undefined);
  if (args.flags.has("help") || args.command === "help") {
    await writeLine(process.stdout, helpText(COMMANDS.includes(command as Command) ? command : undefined));
    return 0;
  }
  if (command === undefined) {
    await writeLine(process.stderr, helpText());
    return 2;
  }
  if (!COMMANDS.includes(command)) {
    const near = closest(command, COMMANDS);
    throw new CntError("BAD_OPTION", `Unknown command ${quote(command)}.${near ? ` Did you mean ${near}?` : ""} The commands are ${COMMANDS.join(", ")}; see cntscope --help.`);
  }
  checkFlagsFor(command, args.flags);
  if (command === "compare") return await runCompare(args.positional, args.flags);
  if (command === "merge") {
    const { runMerge } = await import("./merge.js");
    await runMerge(args.positional, args.flags);
    return 0;
  }
  if (command === "population") {
    if (!args.flags.has("quiet") && process.stderr.isTTY) progress = new ProgressLine(process.stderr);
    const { runPopulation } = await import("./population.js");
    // Progress per file: the line's percent is of the files, its name the last file done.
    await runPopulation(args.positional, args.flags, interrupt.signal, (p) => progress?.update({ tensor: p.file, bytesDone: p.index + 1, bytesTotal: p.total }));
    progress?.end();
    return 0;
  }
  if (command === "app") {
    const { runApp } = await import("./app.js");
    return await runApp(args.flags.has("port") ? portOf(args.flags.get("port") as string) : undefined, interrupt.signal);
  }
  if (command === "report") {
    if (!args.flags.has("quiet") && process.stderr.isTTY) progress = new ProgressLine(process.stderr);
    const { runReport } = await import("./report.js");
    return await runReport(args.positional, args.flags, interrupt.signal, progress);
  }
  const wanted = command === "convert" ? 2 : 1;
  const [path, out] = args.positional;
  if (!path) throw new CntError("BAD_OPTION", `cntscope ${command} needs a model file: ${usage(command)}.`);
  if (command === "convert" && !out) throw new CntError("BAD_OPTION", `cntscope convert needs an output path: ${usage(command)}.`);
  if (args.positional.length > wanted) throw new CntError("BAD_OPTION", `cntscope ${command} takes ${wanted === 1 ? "one file" : "two files"}, but got ${args.positional.length}: ${args.positional.map(quote).join(" ")}. ${usage(command)}.`);
  if (!args.flags.has("quiet") && process.stderr.isTTY) progress = new ProgressLine(process.stderr);
  const signal = interrupt.signal;
  const followLinks = args.flags.has("follow-links");
  switch (command) {
    case "analyze": {
      const options = analyzeOptions(args.flags);
      options.workers ??= defaultWorkers(await fileSize(path), availableParallelism());
      const report = await analyzeFile(path, { ...options, followLinks, signal, onProgress: progress?.update });
      progress?.end();
      await writeAll(process.stdout, args.flags.has("json") ? jsonPieces(report) : [args.flags.has("csv") ? reportCsv(report) : formatReport(report)]);
      await writeLine(process.stdout, "");
      return 0;
    }
    case "info": {
      const model = await inspectFile(path, { followLinks });
      await writeAll(process.stdout, args.flags.has("json") ? jsonPieces(model) : [args.flags.has("csv") ? infoCsv(model) : formatInfo(model)]);
      await writeLine(process.stdout, "");
      return 0;
    }
    case "convert": {
      const { convertFile } = await import("../node/convert-file.js");
      const { bytes } = await convertFile(path, out, { ...convertOptions(args.flags), followLinks, signal, onProgress: progress?.update });
      progress?.end();
      await writeLine(process.stderr, `wrote ${out} (${formatCount(bytes)} bytes)`);
      return 0;
    }
  }
}

function portOf(raw: string): number {
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new CntError("BAD_OPTION", `Option --port must be an integer from 1 to 65,535; got ${quote(raw)}.`);
  return port;
}

function usage(command: Command): string {
  return { analyze: "cntscope analyze <model>", info: "cntscope info <model>", convert: "cntscope convert <model> <out.cnt>", compare: "cntscope compare <A> <B> [C ...]", report: "cntscope report <model|dir> ... -o report.html", population: "cntscope population <dir|files...> --labels labels.csv -o out/", merge: "cntscope merge <parts/> -o out/", app: "cntscope app [--port N]" }[command];
}

async function runCompare(paths: string[], flags: ReadonlyMap<string, string | true>): Promise<number> {
  if (paths.length < 2) throw new CntError("BAD_OPTION", `cntscope compare needs two or more model files; got ${paths.length}. ${usage("compare")}.`);
  const [{ COMPARE_METRICS }, { compareFiles }, { compareCsv, formatCompare }] = await Promise.all([import("../compare/compare.js"), import("../node/compare-files.js"), import("./compare-table.js")]);
  const metric = (flags.get("metric") ?? "linkWeights") as string;
  if (!(COMPARE_METRICS as readonly string[]).includes(metric)) throw new CntError("BAD_OPTION", `Option --metric must be ${COMPARE_METRICS.join(", ")}; got ${quote(metric)}.`);
  const divergence = flags.get("divergence");
  if (divergence !== undefined && divergence !== "jeffreys-reference") throw new CntError("BAD_OPTION", `Option --divergence must be jeffreys-reference (the others are always computed); got ${quote(String(divergence))}.`);
  const result = await compareFiles(paths, { ...analyzeOptions(flags), metric: metric as CompareMetric, jeffreysReference: divergence !== undefined, followLinks: flags.has("follow-links"), signal: interrupt.signal });
  await writeAll(process.stdout, flags.has("json") ? jsonPieces(result) : [flags.has("csv") ? compareCsv(result) : formatCompare(result)]);
  await writeLine(process.stdout, "");
  return 0;
}

/** Report an error on stderr (whole before exit) and give the exit code: 2 for bad input, 1 for our bugs. */
async function fail(error: unknown): Promise<number> {
  progress?.end();
  if (error instanceof OutputClosed) return 0;
  const debug = process.argv.includes("--debug");
  if (error instanceof CntError && error.code === "ABORTED" && interrupt.signal.aborted) {
    await writeLine(process.stderr, "interrupted");
    return 130;
  }
  if (error instanceof CntError && error.code !== "INTERNAL") {
    await writeLine(process.stderr, `${error.code}: ${error.message}${debug ? `\n${error.stack}` : ""}`);
    return 2;
  }
  const text = error instanceof Error ? error.message : String(error);
  await writeLine(process.stderr, debug ? String(error instanceof Error ? error.stack : error) : `INTERNAL: ${text} (run with --debug for the stack)`);
  return 1;
}

process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(130); // a second Ctrl-C does not wait
  progress?.end();
  interrupt.abort(new Error("interrupted (Ctrl-C)"));
});

main(process.argv.slice(2))
  .catch(fail)
  .then((code) => process.exit(code));
