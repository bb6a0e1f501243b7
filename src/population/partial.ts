/**
 * The per-network partial of a population: what one network's analysis contributes, as plain
 * JSON (a few KB to a few hundred KB), so a population can be analyzed on many threads or
 * machines and merged later (spec metrics.md section 4).
 *
 * Shape: the report trimmed to what populations use. Every Distribution keeps its moments and its
 * fine histogram (analysis option `fine: true`), because those merge exactly: fine counts add up,
 * moments merge by Chan's formula. The report's own histogram (64 bins over the network's own
 * range) is kept too, but populations never add those up (different edges). Dropped: per-node
 * values, tensor names, wiring, producers, skipped tensors (nothing a population computes needs
 * them, and per-node values would make a partial as large as the network's node count).
 *
 * Determinism: population() sorts the partials by `file` (then by position) before anything
 * else, and merges in that order, so any split of the work (threads, shards, machines) gives the
 * same bytes as one run, as long as each partial is the same (an analysis is deterministic).
 */
import { CntError } from "../errors.js";
import type { Distribution } from "../measure/distribution.js";
import type { FineHistogram } from "../measure/fine-histogram.js";
import { EMPTY_MOMENTS, mergeMoments, stdOf, type Moments } from "../measure/moments.js";
import { FINE_BUCKETS } from "../kernels/layout.js";
import type { LayerReport, NodeLayerReport, Report } from "../report/types.js";

/** Bumped when the shape changes; readPartial refuses other versions. */
export const PARTIAL_VERSION = 1;

/** A layer of the report as a partial keeps it: what the population's metrics and pooled distributions read. */
export type PartialLayer = Pick<LayerReport, "name" | "kind" | "shape" | "linkWeights" | "bias">;

/** A node layer as a partial keeps it: no per-node values, producers or values. */
export type PartialNodeLayer = Pick<NodeLayerReport, "after" | "size" | "shape" | "strength" | "strengthIn" | "strengthOut" | "fluctuation" | "cv"> & {
  /** With data metrics: the std of the neuron strength z and activation a over samples and nodes. */
  neuronStrengthStd?: number | null;
  neuronActivationStd?: number | null;
};

export interface PartialReport {
  cntscope: string;
  source: { name: string; format: string; bytes: number | null };
  options: Report["options"];
  layers: PartialLayer[];
  nodeLayers: PartialNodeLayer[];
  notes: string[];
}

export interface NetworkPartial {
  partial: typeof PARTIAL_VERSION;
  /** The network's file as the population names it (the key of the labels table and of sorting). */
  file: string;
  /** The network's row of the labels table (all columns but `file`), as text. */
  labels: Record<string, string>;
  report: PartialReport;
}

/**
 * The partial of one analyzed network. The report must come from an analysis with `fine: true`.
 * @example
 *   const partial = toPartial(await analyze(bytes, { fine: true }), "run-3.safetensors", { accuracy: "0.91" });
 */
export function toPartial(report: Report, file: string, labels: Record<string, string> = {}): NetworkPartial {
  const missing = report.layers.find((l) => l.linkWeights && !l.linkWeights.fine) ?? report.nodeLayers.find((n) => !n.strength.fine);
  if (missing) throw new CntError("BAD_OPTION", `A population partial needs an analysis with option fine: true; the report of ${JSON.stringify(file)} has no fine histograms.`, { file });
  return {
    partial: PARTIAL_VERSION,
    file,
    labels: { ...labels },
    report: {
      cntscope: report.cntscope,
      source: { ...report.source },
      options: report.options,
      layers: report.layers.map((l) => ({ name: l.name, kind: l.kind, shape: l.shape, linkWeights: l.linkWeights, bias: l.bias })),
      nodeLayers: report.nodeLayers.map((n) => ({
        after: n.after,
        size: n.size,
        shape: n.shape,
        strength: n.strength,
        strengthIn: n.strengthIn,
        strengthOut: n.strengthOut,
        fluctuation: n.fluctuation,
        cv: n.cv,
        ...(n.neuronStrength && n.neuronActivation ? { neuronStrengthStd: n.neuronStrength.std, neuronActivationStd: n.neuronActivation.std } : {}),
      })),
      notes: report.notes,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation: a partial read back from JSON (a file written by another machine) is checked whole
// before population() trusts any field; a problem gives BAD_PARTIAL naming where it was read.

class Bad extends Error {}

function fail(path: string, what: string): never {
  throw new Bad(`${path} ${what}`);
}
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const count = (x: unknown, path: string): number => (Number.isSafeInteger(x) && (x as number) >= 0 ? (x as number) : fail(path, "must be a whole number >= 0"));
const numberOrNull = (x: unknown, path: string): number | null => (x === null || typeof x === "number" ? (x as number | null) : fail(path, "must be a number or null"));
const text = (x: unknown, path: string): string => (typeof x === "string" ? x : fail(path, "must be text"));
function numbers(x: unknown, path: string): number[] {
  if (!Array.isArray(x) || x.some((v) => typeof v !== "number")) fail(path, "must be a list of numbers");
  return x as number[];
}

function checkFine(x: unknown, path: string): FineHistogram {
  if (!isObject(x)) fail(path, "is missing (analyze with option fine: true)");
  const buckets = numbers(x.buckets, `${path}.buckets`);
  const counts = numbers(x.counts, `${path}.counts`);
  if (buckets.length !== counts.length) fail(path, `has ${buckets.length} buckets but ${counts.length} counts`);
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (!Number.isInteger(b) || b < 0 || b >= FINE_BUCKETS || (i > 0 && b <= buckets[i - 1])) fail(`${path}.buckets[${i}]`, `must be a bucket from 0 to ${FINE_BUCKETS - 1} above the one before; got ${b}`);
    if (!Number.isSafeInteger(counts[i]) || counts[i] < 1) fail(`${path}.counts[${i}]`, `must be a whole number >= 1; got ${counts[i]}`);
  }
  return x as unknown as FineHistogram;
}

function checkDistribution(x: unknown, path: string, needFine: boolean): Distribution {
  if (!isObject(x)) fail(path, "must be a distribution");
  const n = count(x.count, `${path}.count`);
  for (const k of ["mean", "std", "min", "max"]) {
    const v = numberOrNull(x[k], `${path}.${k}`);
    if ((v === null) !== (n === 0) && !(k === "std" && v === null)) fail(`${path}.${k}`, n === 0 ? "must be null when count is 0" : "must be a number when count > 0");
  }
  for (const k of ["nan", "posInf", "negInf"]) count(x[k], `${path}.${k}`);
  if (!isObject(x.histogram)) fail(`${path}.histogram`, "must be a histogram");
  if (x.histogram.edges !== null) numbers(x.histogram.edges, `${path}.histogram.edges`);
  numbers(x.histogram.counts, `${path}.histogram.counts`);
  if (needFine || x.fine !== undefined) {
    const fine = checkFine(x.fine, `${path}.fine`);
    let total = 0;
    for (const c of fine.counts) total += c;
    if (total !== n) fail(`${path}.fine`, `holds ${total} values but count is ${n}`);
  }
  return x as unknown as Distribution;
}

function checkShape(x: unknown, path: string): number[] {
  const shape = numbers(x, path);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(path, "must be whole numbers >= 0");
  return shape;
}

function checkPartial(x: unknown): NetworkPartial {
  if (!isObject(x)) fail("the partial", "must be a JSON object");
  if (x.partial !== PARTIAL_VERSION) fail("partial", `must be ${PARTIAL_VERSION} (the partial format's version); got ${JSON.stringify(x.partial)?.slice(0, 40)}`);
  text(x.file, "file");
  if (!isObject(x.labels)) fail("labels", "must be an object of text values");
  for (const [k, v] of Object.entries(x.labels)) text(v, `labels.${k.slice(0, 40)}`);
  const r = x.report;
  if (!isObject(r)) fail("report", "must be an object");
  text(r.cntscope, "report.cntscope");
  if (!isObject(r.source)) fail("report.source", "must be an object");
  text(r.source.name, "report.source.name");
  if (!isObject(r.options)) fail("report.options", "must be an object");
  if (!Array.isArray(r.layers)) fail("report.layers", "must be a list");
  r.layers.forEach((l: unknown, i: number) => {
    const p = `report.layers[${i}]`;
    if (!isObject(l)) fail(p, "must be an object");
    text(l.name, `${p}.name`);
    text(l.kind, `${p}.kind`);
    checkShape(l.shape, `${p}.shape`);
    if (l.linkWeights !== null) checkDistribution(l.linkWeights, `${p}.linkWeights`, true);
    if (l.bias !== null && l.bias !== undefined) checkDistribution(l.bias, `${p}.bias`, false);
  });
  if (!Array.isArray(r.nodeLayers)) fail("report.nodeLayers", "must be a list");
  r.nodeLayers.forEach((n: unknown, i: number) => {
    const p = `report.nodeLayers[${i}]`;
    if (!isObject(n)) fail(p, "must be an object");
    text(n.after, `${p}.after`);
    count(n.size, `${p}.size`);
    checkShape(n.shape, `${p}.shape`);
    for (const k of ["strength", "strengthIn", "strengthOut"]) checkDistribution(n[k], `${p}.${k}`, k === "strength");
    numberOrNull(n.fluctuation, `${p}.fluctuation`);
    numberOrNull(n.cv, `${p}.cv`);
    for (const k of ["neuronStrengthStd", "neuronActivationStd"]) if (n[k] !== undefined) numberOrNull(n[k], `${p}.${k}`);
  });
  if (!Array.isArray(r.notes)) fail("report.notes", "must be a list");
  return x as unknown as NetworkPartial;
}

/**
 * A partial read back from JSON (text or parsed), checked whole; BAD_PARTIAL naming `where` (the
 * file it came from) and the field otherwise.
 * @example
 *   const partial = readPartial(await readFile("parts/run-3.json", "utf8"), "parts/run-3.json");
 */
export function readPartial(json: unknown, where: string): NetworkPartial {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new CntError("BAD_PARTIAL", `Partial ${JSON.stringify(where.slice(0, 200))} is not JSON: ${(error as Error).message}.`, { file: where, cause: error });
    }
  }
  try {
    return checkPartial(value);
  } catch (error) {
    if (error instanceof Bad) throw new CntError("BAD_PARTIAL", `Partial ${JSON.stringify(where.slice(0, 200))}: ${error.message}.`, { file: where });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Merge rules. Counts and fine histograms merge exactly (integers); mean and std merge by Chan's
// formula in the order given, to f64 rounding (about 1e-16 relative per merge), so callers merge
// in one fixed order (population(): partials sorted by file).

/** The sum of fine histograms (ascending buckets, exact integer counts). */
export function addFine(fines: FineHistogram[]): FineHistogram {
  const sum = new Map<number, number>();
  for (const f of fines) for (let i = 0; i < f.buckets.length; i++) sum.set(f.buckets[i], (sum.get(f.buckets[i]) ?? 0) + f.counts[i]);
  const buckets = [...sum.keys()].sort((a, b) => a - b);
  return { buckets, counts: buckets.map((b) => sum.get(b)!) };
}

/** The pooled moments of several distributions: the sample of all their values together (a Distribution without its histograms). */
export type PooledMoments = Omit<Distribution, "histogram" | "fine">;

/** Chan's pairwise merge (mergeMoments) over the list in order, with m2 = std^2 * count for each part. */
export function mergeMomentsOf(ds: PooledMoments[]): PooledMoments {
  const m = ds.reduce<Moments>((acc, d) => mergeMoments(acc, { count: d.count, mean: d.mean ?? 0, m2: (d.std ?? 0) ** 2 * d.count, min: d.min, max: d.max, nan: d.nan, posInf: d.posInf, negInf: d.negInf }), EMPTY_MOMENTS);
  return { count: m.count, mean: m.count === 0 ? null : m.mean, std: stdOf(m), min: m.min, max: m.max, nan: m.nan, posInf: m.posInf, negInf: m.negInf };
}

/** Pooled distribution of several: moments by Chan's formula, fine histograms added. */
export function mergeDistributions(ds: Distribution[]): PooledMoments & { fine: FineHistogram } {
  return { ...mergeMomentsOf(ds), fine: addFine(ds.map((d) => d.fine ?? { buckets: [], counts: [] })) };
}

/** Partials in the population's one order: by file (code-unit order), ties kept in input order. */
export function sortPartials(partials: NetworkPartial[]): NetworkPartial[] {
  return partials.map((p, i) => [p, i] as const).sort(([a, i], [b, j]) => (a.file < b.file ? -1 : a.file > b.file ? 1 : i - j)).map(([p]) => p);
}
