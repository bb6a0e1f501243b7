import { CntError } from "../errors.js";

/** The CLI's commands. */
export type Command = "analyze" | "info" | "convert" | "compare" | "report" | "population" | "merge" | "app";
export const COMMANDS: readonly Command[] = ["analyze", "info", "convert", "compare", "report", "population", "merge", "app"];

/** One CLI flag: its value (if any), the commands that take it, and its line in --help. */
export interface FlagSpec {
  name: string;
  /** Placeholder of the value, e.g. "N"; absent for a switch. */
  value?: string;
  commands: readonly Command[];
  help: string;
}

const ALL = COMMANDS;

/** Every flag, in the order --help lists them. Parsing, validation and help read this one table. */
export const FLAGS: readonly FlagSpec[] = [
  { name: "json", commands: ["analyze", "info", "compare", "population", "merge"], help: "print the report (analyze), the model description (info), the comparison (compare) or the population's summary (population) as JSON" },
  { name: "csv", commands: ["analyze", "info", "compare"], help: "print the table as CSV: a row per layer and node layer (analyze), per layer (info), per layer, pair of models and divergence (compare)" },
  { name: "out", value: "FILE", commands: ["report", "population", "merge"], help: "where to write (also -o): the HTML page of cntscope report, or an .svg for one model's summary figure; the folder of cntscope population's (and merge's) tables, or of a --shard's part file" },
  { name: "inputs", value: "FILE", commands: ["analyze", "report", "population"], help: "input samples for the data metrics (neuron strength z, activation a, accuracy): a .npy [N, ...one sample] or a .npz with one array per graph input, named by it (docs/data-metrics.md)" },
  { name: "labels", value: "FILE", commands: ["analyze", "report", "population", "merge"], help: "analyze, report: the class of each --inputs sample (a .npy of integers or one integer a line), for the accuracy; population, merge: a CSV with a file column and any others (accuracy, seed, arch...): the networks' labels" },
  { name: "data-labels", value: "FILE", commands: ["population"], help: "the class of each --inputs sample (as --labels of analyze): each network's accuracy on them becomes its label data.accuracy (--bin data.accuracy:0,.5,.9,1)" },
  { name: "batch", value: "N", commands: ["analyze", "report", "population"], help: "--inputs samples per forward batch (default 64); memory grows with it, never with the file" },
  { name: "bin", value: "COL:EDGES", commands: ["population", "merge"], help: "group by bins of a numeric label, e.g. accuracy:0,.25,.7,.9,.975,1 (the last bin includes its top edge)" },
  { name: "group-by", value: "COL", commands: ["population", "merge"], help: "group by the values of a label" },
  { name: "sample", value: "N", commands: ["population", "merge"], help: "keep N networks, drawn with --seed (mulberry32, Fisher-Yates; see README)" },
  { name: "seed", value: "S", commands: ["population", "merge"], help: "seed of the sample and of the within-group half splits (default 0)" },
  { name: "splits", value: "N", commands: ["population", "merge"], help: "random half splits per group for the within-group divergence baseline (default 20)" },
  { name: "shard", value: "I/N", commands: ["population"], help: "analyze only shard I of N (I from 0: every N-th file of the sorted list) and write its partials to -o DIR/part-I-of-N.json, for cntscope merge" },
  { name: "strict", commands: ["population"], help: "stop at the first file that cannot be analyzed (default: list it in failed.csv and go on)" },
  { name: "port", value: "N", commands: ["app"], help: "the localhost port to serve the app on (default: a free one)" },
  { name: "in-out", commands: ["report"], help: "also plot every node layer's s_in and s_out distributions" },
  { name: "metric", value: "M", commands: ["compare"], help: "what to compare: linkWeights (default), strength, strengthIn or strengthOut" },
  { name: "divergence", value: "jeffreys-reference", commands: ["compare"], help: "also the reference code's KDE divergence (J-ref: no grid step, scales with 1/range; link weights from fine-histogram bucket centres, an approximation)" },
  { name: "per-node", commands: ["analyze"], help: "include every node's s, s_in, s_out in the JSON (needs --json)" },
  { name: "bins", value: "N", commands: ["analyze", "compare", "report", "population", "merge"], help: "histogram bins over [min, max] (default 64)" },
  { name: "link-edges", value: "a,b,c", commands: ["analyze", "report"], help: "fixed link-weight histogram edges (compare networks bin for bin)" },
  { name: "bias", value: "in|ignore", commands: ["analyze", "compare", "report", "population"], help: "bias as a link into its neuron (default in)" },
  { name: "boundary", value: "unit|zero", commands: ["analyze", "compare", "report", "population"], help: "s_in of inputs and s_out of outputs (default unit)" },
  { name: "skip", value: "unit|none", commands: ["analyze", "compare", "report", "population"], help: "a skip connection into a merge: unit links (default) or none" },
  { name: "gates", value: "sum|separate", commands: ["analyze", "report"], help: "recurrent gates summed into one link (default), or also one by one" },
  { name: "input", value: "CxHxW", commands: ["analyze", "compare", "report", "population"], help: "one input sample's shape (the model's own order) when the file does not say" },
  { name: "layout", value: "FILE", commands: ["analyze", "compare", "report", "population"], help: "a JSON layout: conv strides and padding, pooling, input shape (see README)" },
  { name: "block-bytes", value: "N", commands: ["analyze", "convert", "compare", "report"], help: "bytes per kernel call (default 4194304)" },
  { name: "workers", value: "N", commands: ["analyze", "report", "population"], help: "measure on N threads (same report, bit for bit; default: the cores but one, at most 4, for files of 64 MiB or more, else 1; population: files on N threads, default the cores but one, at least 1, at most 4)" },
  { name: "force", commands: ["convert"], help: "replace an existing output file (never the input itself)" },
  { name: "follow-links", commands: ALL, help: "let a model's sibling files (shards, external data) be symbolic links anywhere" },
  { name: "quiet", commands: ALL, help: "no progress on stderr" },
  { name: "debug", commands: ALL, help: "print stack traces of errors" },
  { name: "help", commands: ALL, help: "this help (also -h)" },
  { name: "version", commands: ALL, help: "the version (also -v)" },
];

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  flags: Map<string, string | true>;
}

/**
 * `--name value`, `--name=value`, switches, `-h` and `-v`. Unknown flags, flags of another
 * command and a value given to a switch are errors that say what was meant.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositional || arg === "-" || !arg.startsWith("-")) {
      positional.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositional = true;
      continue;
    }
    if (arg === "-h") {
      flags.set("help", true);
      continue;
    }
    if (arg === "-v" || arg === "-V") {
      flags.set("version", true);
      continue;
    }
    if (arg === "-o") {
      if (flags.has("out")) throw new CntError("BAD_OPTION", "Option --out (-o) is given twice.");
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) throw new CntError("BAD_OPTION", "Option -o needs a value (the output path).");
      flags.set("out", value);
      continue;
    }
    if (!arg.startsWith("--")) throw new CntError("BAD_OPTION", `Unknown option ${quote(arg)}; options are long (--json), besides -h, -v and -o. See cntscope --help.`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = BY_NAME.get(name);
    if (!spec) {
      const near = closest(name, [...BY_NAME.keys()]);
      throw new CntError("BAD_OPTION", `Unknown option --${name}.${near ? ` Did you mean --${near}?` : ""} See cntscope --help.`);
    }
    if (spec.value === undefined) {
      if (eq >= 0) throw new CntError("BAD_OPTION", `Option --${name} is a switch and takes no value; got ${quote(arg.slice(eq + 1))}.`);
      flags.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new CntError("BAD_OPTION", `Option --${name} needs a value (${spec.value}).`);
    if (flags.has(name)) throw new CntError("BAD_OPTION", `Option --${name} is given twice.`);
    flags.set(name, value);
  }
  return { command: positional.shift(), positional, flags };
}

/** Flags that the command does not take are errors naming the command they belong to. */
export function checkFlagsFor(command: Command, flags: ReadonlyMap<string, unknown>): void {
  for (const name of flags.keys()) {
    const spec = BY_NAME.get(name)!;
    if (!spec.commands.includes(command)) {
      throw new CntError("BAD_OPTION", `Option --${name} is for cntscope ${listOf(spec.commands)}, not cntscope ${command}.`);
    }
  }
  if (flags.has("per-node") && !flags.has("json")) throw new CntError("BAD_OPTION", "Option --per-node adds every node's values to the JSON report, so it needs --json; the table never shows them.");
  if (flags.has("json") && flags.has("csv")) throw new CntError("BAD_OPTION", "Options --json and --csv both choose the output; give one.");
  // Sample labels: --labels on analyze and report, --data-labels on population (whose --labels is the networks' table).
  const sampleLabels = command === "population" ? "data-labels" : command === "merge" ? undefined : "labels";
  if (sampleLabels && flags.has(sampleLabels) && !flags.has("inputs")) throw new CntError("BAD_OPTION", `Option --${sampleLabels} gives the class of each input sample, so it needs --inputs (the samples).`);
  if (flags.has("batch") && !flags.has("inputs")) throw new CntError("BAD_OPTION", "Option --batch sets the samples per forward pass of --inputs, so it needs --inputs.");
  if (flags.has("bins") && flags.has("link-edges")) throw new CntError("BAD_OPTION", "Options --bins and --link-edges both set the histogram bins; give one (--link-edges a,b,c has its own count of bins).");
}

/** "a", "a and b", "a, b and c". */
function listOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The candidate closest to a misspelt command or flag, when it is close enough to be the one meant. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Edits (insert, delete, change, swap two neighbours) from a to b: "jsno" is one swap from "json". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** A value from the command line, quoted for a message (cut, control characters shown). */
export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
