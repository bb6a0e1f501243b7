#!/usr/bin/env node
import { createWriteStream, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Writable } from "node:stream";
import { CntError } from "../errors.js";
import { analyzeFile, convertToCnt, fileSource, inspectFile, toJSON } from "../node/index.js";
import type { AnalyzeOptions, Progress } from "../options.js";
import { VERSION } from "../version.js";
import type { Layout } from "../graph/layout.js";
import { parseArgs } from "./args.js";
import { defaultWorkers, fileSize } from "./workers.js";
import { formatReport } from "./table.js";

const HELP = `cntscope ${VERSION}: a neural network measured as a complex network.

Usage:
  cntscope analyze <model> [--json] [--per-node] [--bins N] [--bias in|ignore] [--boundary unit|zero]
                   [--gates sum|separate] [--input 3x32x32]
  cntscope info <model>             layers, tensors, shapes, dtypes and sizes; no metrics
  cntscope convert <model> <out.cnt> cntscope's own streaming format, with each tensor's range stored

Formats: .cnt, safetensors (and the readers registered in src/formats/registry.ts). Options:
  --json            print the report as JSON (spec: report.md)
  --per-node        include every node's s, s_in, s_out in the JSON
  --bins N          histogram bins over [min, max] (default 64)
  --link-edges a,b,c  fixed link-weight histogram edges (compare networks bin for bin)
  --bias in|ignore  bias as a link into its neuron (default in)
  --boundary unit|zero  s_in of inputs and s_out of outputs (default unit)
  --skip unit|none      a skip connection into a merge: unit links (default) or none
  --gates sum|separate  recurrent gates summed into one link (default), or also reported one by one
  --input CxHxW     one input sample's shape (the model's own order) when the file does not say
  --layout FILE     a JSON layout: conv strides and padding, pooling, input shape (see README)
  --block-bytes N   bytes per kernel call (default 4194304)
  --workers N       measure on N threads, large tensors split over all of them (the
                    report is the same, bit for bit; default: the cores but one, at
                    most 4, for files of 64 MiB or more, else 1)
  --quiet           no progress on stderr
  --debug           print stack traces of errors
Exit codes: 0 ok, 2 bad input (the message starts with its code), 1 internal error.`;

const KNOWN = new Set(["json", "per-node", "bins", "bias", "boundary", "skip", "gates", "input", "layout", "workers", "block-bytes", "link-edges", "quiet", "debug", "help", "version"]);

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, KNOWN);
  if (args.flags.has("version")) {
    console.log(VERSION);
    return 0;
  }
  if (args.flags.has("help") || args.command === undefined || args.command === "help") {
    console.log(HELP);
    return args.command === undefined && !args.flags.has("help") ? 2 : 0;
  }
  const [path, out] = args.positional;
  if (!path) throw new CntError("BAD_OPTION", `cntscope ${args.command} needs a model file; see cntscope --help.`);
  const options = analyzeOptions(args.flags);
  switch (args.command) {
    case "analyze": {
      options.workers ??= defaultWorkers(await fileSize(path), availableParallelism());
      const report = await analyzeFile(path, options);
      console.log(args.flags.has("json") ? toJSON(report) : formatReport(report));
      return 0;
    }
    case "info": {
      const model = await inspectFile(path);
      console.log(JSON.stringify(model, null, 2));
      return 0;
    }
    case "convert": {
      if (!out) throw new CntError("BAD_OPTION", "cntscope convert needs an output path: cntscope convert <model> <out.cnt>.");
      const sink = Writable.toWeb(createWriteStream(out));
      const writer = sink.getWriter();
      for await (const chunk of convertToCnt(await fileSource(path), options)) await writer.write(chunk);
      await writer.close();
      console.error(`wrote ${out}`);
      return 0;
    }
    default:
      throw new CntError("BAD_OPTION", `Unknown command '${args.command}'; commands are analyze, info, convert.`);
  }
}

function readLayout(path: string): Layout {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CntError("BAD_OPTION", `Cannot read the layout file '${path}': ${(error as Error).message}.`, { cause: error });
  }
  try {
    return JSON.parse(text) as Layout;
  } catch (error) {
    throw new CntError("BAD_OPTION", `The layout file '${path}' is not valid JSON (${(error as Error).message}).`, { cause: error });
  }
}

function analyzeOptions(flags: Map<string, string | true>): AnalyzeOptions & { workers?: number } {
  const options: AnalyzeOptions & { workers?: number } = {};
  const text = (name: string) => flags.get(name) as string | undefined;
  if (flags.has("bins")) options.bins = Number(text("bins"));
  if (flags.has("bias")) options.bias = text("bias") as AnalyzeOptions["bias"];
  if (flags.has("boundary")) options.boundary = text("boundary") as AnalyzeOptions["boundary"];
  if (flags.has("skip")) options.skip = text("skip") as AnalyzeOptions["skip"];
  if (flags.has("block-bytes")) options.blockBytes = Number(text("block-bytes"));
  if (flags.has("workers")) options.workers = Number(text("workers"));
  if (flags.has("gates")) options.gates = text("gates") as AnalyzeOptions["gates"];
  if (flags.has("input")) options.inputShape = text("input")!.split(/[x,]/).map(Number);
  if (flags.has("layout")) options.layout = readLayout(text("layout")!);
  if (flags.has("link-edges")) options.linkEdges = text("link-edges")!.split(",").map(Number);
  if (flags.has("per-node")) options.perNode = true;
  if (!flags.has("quiet") && process.stderr.isTTY) options.onProgress = progressPrinter();
  return options;
}

/** Progress on stderr for work that takes more than a moment, at most ten updates a second. */
function progressPrinter(): (p: Progress) => void {
  const start = Date.now();
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - start < 500 || now - last < 100) return;
    last = now;
    const pct = p.bytesTotal ? ((100 * p.bytesDone) / p.bytesTotal).toFixed(1) : "?";
    process.stderr.write(`\r${pct}% ${(p.bytesDone / 1e6).toFixed(0)}/${(p.bytesTotal / 1e6).toFixed(0)} MB  ${p.tensor.slice(0, 40).padEnd(40)}`);
    if (p.bytesDone === p.bytesTotal) process.stderr.write("\n");
  };
}

const debug = process.argv.includes("--debug");
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof CntError && error.code !== "INTERNAL") {
      console.error(`${error.code}: ${error.message}`);
      if (debug) console.error(error.stack);
      process.exit(2);
    }
    console.error(debug ? error : `INTERNAL: ${error instanceof Error ? error.message : String(error)} (run with --debug for the stack)`);
    process.exit(1);
  },
);
