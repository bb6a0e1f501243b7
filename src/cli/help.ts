import { READERS } from "../formats/registry.js";
import { VERSION } from "../version.js";
import { COMMANDS, FLAGS, type Command } from "./flags.js";

const USAGE: Record<Command, string> = {
  analyze: "cntscope analyze <model> [options]     link weights, node strengths, fluctuation",
  info: "cntscope info <model> [--json]          what the file holds; no metrics",
  convert: "cntscope convert <model> <out.cnt>      cntscope's own streaming format",
  compare: "cntscope compare <A> <B> [C ...]       divergences per layer on shared bin edges",
  report: "cntscope report <model|dir> ... -o F.html  one self-contained HTML page: summary, tables, plots",
  app: "cntscope app [--port N]                 the offline browser app on localhost: drop models, see and compare them",
  population: "cntscope population <dir|files...> --labels L.csv [--bin COL:EDGES | --group-by COL] -o DIR  networks grouped by a label: group statistics, pooled distributions, divergences, separation",
  merge: "cntscope merge <parts/|files...> -o DIR [--labels L.csv ...]  shards of a population (--shard I/N) or a fan-out's partials: the same files as one run",
};

/** Formats by reader id, as a user names them. */
const FORMAT_NAMES: Record<string, string> = {
  cnt: ".cnt (cntscope)",
  safetensors: "safetensors",
  "safetensors-index": "sharded safetensors (model.safetensors.index.json)",
  npy: ".npy",
  npz: ".npz",
  tfjs: "TF.js model.json",
  onnx: "ONNX",
  pytorch: "PyTorch .pt/.pth (restricted unpickler)",
  gguf: "GGUF",
  keras: "Keras .keras",
  "keras-h5": "Keras .h5",
};

/** The --help text: every command, every flag (from the one flag table), every format, the exit codes. */
export function helpText(command?: Command): string {
  const flags = FLAGS.filter((f) => command === undefined || f.commands.includes(command));
  const width = Math.max(...flags.map((f) => flagLabel(f).length));
  const formats = READERS.map((r) => FORMAT_NAMES[r.id] ?? r.id).join(", ");
  return [
    `cntscope ${VERSION}: a neural network measured as a complex network.`,
    "",
    "Usage:",
    ...(command ? [command] : COMMANDS).map((c) => `  ${USAGE[c]}`),
    "",
    `Formats (recognised by content, not by extension): ${formats}.`,
    "",
    "Options:",
    ...flags.map((f) => `  ${flagLabel(f).padEnd(width)}  ${f.help}${command === undefined && f.commands.length < COMMANDS.length ? ` [${f.commands.join(", ")}]` : ""}`),
    "",
    "Exit codes: 0 ok, 2 bad input or options (the message starts with its code), 1 internal error, 130 interrupted.",
    "Metrics and report fields: docs/metrics.md, docs/data-metrics.md (--inputs) and docs/report.md in the package (https://www.npmjs.com/package/cntscope).",
  ].join("\n");
}

function flagLabel(f: { name: string; value?: string }): string {
  return `--${f.name}${f.value ? ` ${f.value}` : ""}`;
}
