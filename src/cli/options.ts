import { readFileSync } from "node:fs";
import { CntError, formatCount } from "../errors.js";
import type { Layout } from "../graph/layout.js";
import type { AnalyzeFileOptions } from "../node/analyze-file.js";
import { fileSystemError } from "../node/fs-errors.js";
import { quote } from "./flags.js";

type Flags = ReadonlyMap<string, string | true>;

/**
 * Flag values as API options, checked here so that a message names the flag the user typed
 * (--block-bytes, not blockBytes) and says what it got.
 */
export function analyzeOptions(flags: Flags, sampleLabels: "labels" | "data-labels" = "labels"): AnalyzeFileOptions {
  const options: AnalyzeFileOptions = {};
  const text = (name: string) => flags.get(name) as string | undefined;
  if (flags.has("bins")) options.bins = integer(flags, "bins", 1, 1_000_000);
  if (flags.has("bias")) options.bias = choice(flags, "bias", ["in", "ignore"] as const);
  if (flags.has("boundary")) options.boundary = choice(flags, "boundary", ["unit", "zero"] as const);
  if (flags.has("skip")) options.skip = choice(flags, "skip", ["unit", "none"] as const);
  if (flags.has("gates")) options.gates = choice(flags, "gates", ["sum", "separate"] as const);
  if (flags.has("block-bytes")) options.blockBytes = integer(flags, "block-bytes", 64, 2 ** 30);
  if (flags.has("workers")) options.workers = integer(flags, "workers", 1, 64);
  if (flags.has("input")) options.inputShape = shape(text("input")!);
  if (flags.has("layout")) options.layout = readLayout(text("layout")!);
  if (flags.has("link-edges")) options.linkEdges = edges(text("link-edges")!);
  if (flags.has("per-node")) options.perNode = true;
  // Paths: analyzeFile opens them (src/node/sample-files.ts); their errors name the file.
  if (flags.has("inputs")) options.inputs = text("inputs")!;
  if (flags.has(sampleLabels)) options.labels = text(sampleLabels)!;
  if (flags.has("batch")) options.batch = integer(flags, "batch", 1, 1 << 20);
  return options;
}

/** The options of `convert` that come from flags. */
export function convertOptions(flags: Flags): { blockBytes?: number; force: boolean } {
  return { ...(flags.has("block-bytes") ? { blockBytes: integer(flags, "block-bytes", 64, 2 ** 30) } : {}), force: flags.has("force") };
}

function integer(flags: Flags, name: string, min: number, max: number): number {
  const raw = flags.get(name) as string;
  const value = /^\s*[+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CntError("BAD_OPTION", `Option --${name} must be an integer from ${formatCount(min)} to ${formatCount(max)}; got ${quote(raw)}.`);
  }
  return value;
}

function choice<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T {
  const raw = flags.get(name) as string;
  if (!(allowed as readonly string[]).includes(raw)) throw new CntError("BAD_OPTION", `Option --${name} must be ${allowed.join(" or ")}; got ${quote(raw)}.`);
  return raw as T;
}

function shape(raw: string): number[] {
  const dims = raw.split(/[x,×]/).map((d) => (/^\s*\d+\s*$/.test(d) ? Number(d) : NaN));
  if (dims.length === 0 || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new CntError("BAD_OPTION", `Option --input must be positive sizes joined by x, one sample without the batch axis (e.g. 3x32x32); got ${quote(raw)}.`);
  }
  return dims;
}

function edges(raw: string): number[] {
  const values = raw.split(",").map((v) => (v.trim() === "" ? NaN : Number(v)));
  if (values.length < 2 || values.some((v) => !Number.isFinite(v)) || values.some((v, i) => i > 0 && v <= values[i - 1])) {
    throw new CntError("BAD_OPTION", `Option --link-edges must be at least two finite numbers in ascending order, joined by commas (e.g. -1,0,1); got ${quote(raw)}.`);
  }
  return values;
}

function readLayout(path: string): Layout {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw fileSystemError(error, `Option --layout: cannot read ${quote(path)}`, path);
  }
  try {
    return JSON.parse(text) as Layout;
  } catch (error) {
    throw new CntError("BAD_OPTION", `Option --layout: ${quote(path)} is not valid JSON (${(error as Error).message}).`, { file: path, cause: error });
  }
}
