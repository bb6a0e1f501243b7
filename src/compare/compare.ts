/**
 * compare(): divergences and moment differences between the same layers of two or more reports
 * (spec metrics.md section 4). Plain data, ready for JSON, tables and plots.
 *
 * Shared edges: histograms are compared only on the same bin edges. Reports analyzed with shared
 * edges (options linkEdges / tensorEdges / strengthEdges, as compareFiles does) compare as they
 * are. For strength metrics, reports made with perNode carry the node values, and compare bins
 * them itself on `bins` equal bins over the layer's range across all reports. Reports made with
 * option fine (one read of each file, streams included) are rebinned from their fine histograms
 * onto such edges. Otherwise the layer's divergences are null with binning "unshared".
 */
import { CntError } from "../errors.js";
import { rebinFine } from "../measure/fine-histogram.js";
import { uniformEdges } from "../measure/histogram.js";
import type { Distribution, NodeLayerReport, Report } from "../report/types.js";
import { binValues } from "./binning.js";
import { divergences, EPSILON, sameEdges, type Divergences } from "./divergences.js";
import { jeffreysReference, sampleOfFine, type KdeSample } from "./jeffreys-reference.js";
import { matchItems } from "./match.js";

export const COMPARE_METRICS = ["linkWeights", "strength", "strengthIn", "strengthOut"] as const;
export type CompareMetric = (typeof COMPARE_METRICS)[number];

export interface CompareOptions {
  /** Which distribution to compare (default "linkWeights"; the others compare node layers). */
  metric?: CompareMetric;
  /** Bins when compare bins per-node values itself (default: the first report's bins). */
  bins?: number;
  /**
   * Also the reference code's divergence, `jeffreys-reference` (jeffreys-reference.ts): on per-node
   * values for strengths (reports made with perNode), on fine-histogram bucket centres for link
   * weights (reports made with fine: an approximation); null where neither is in the reports.
   */
  jeffreysReference?: boolean;
}

export interface ModelStats {
  count: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Node layers: std of s over the layer, and std / |mean of s|. */
  fluctuation?: number | null;
  cv?: number | null;
}

export interface PairComparison {
  /** Indices of the two models in `models`. */
  a: number;
  b: number;
  /** Null when the histograms do not share edges or one is empty. */
  divergences: Divergences | null;
  /** Differences b - a. */
  meanDiff: number | null;
  stdDiff: number | null;
  fluctuationDiff?: number | null;
  cvDiff?: number | null;
  /** With option jeffreysReference: the reference code's KDE "Shannon divergence" (not a divergence of the distributions: it scales with 1 / range). */
  jeffreysReference?: number | null;
}

export interface CompareEntry {
  kind: "layer" | "nodeLayer";
  /** The name in the first model (node layers: the layer they follow, or "input"). */
  name: string;
  /** The name in each model. */
  names: string[];
  matchedBy: "name" | "position";
  /**
   * "shared": the reports' own histograms on the same edges; "perNode": binned here from per-node
   * values; "fine": rebinned here from the reports' fine histograms (option fine: one read of each
   * file, counts next to an edge off by at most the values within 1/128 of their magnitude of it);
   * "unshared": not comparable.
   */
  binning: "shared" | "perNode" | "fine" | "unshared";
  edges: number[] | null;
  /** Each model's counts on `edges`. */
  counts: number[][] | null;
  stats: ModelStats[];
  /** Every pair a < b. */
  pairs: PairComparison[];
  /** Three or more models: matrices [a][b] (klAB is KL(row || column)). */
  matrices?: { kl: (number | null)[][]; jeffreys: (number | null)[][]; jensenShannon: (number | null)[][]; wasserstein: (number | null)[][]; jeffreysReference?: (number | null)[][] };
}

export interface CompareResult {
  metric: CompareMetric;
  models: string[];
  /** The smoothing of KL and Jeffreys (added to every bin's probability, then renormalised). */
  epsilon: number;
  units: { kl: "nats"; jeffreys: "nats"; jensenShannon: "bits"; wasserstein: "metric units" };
  entries: CompareEntry[];
  /** Layers of some model that matched no layer of the others. */
  unmatched: { model: number; kind: "layer" | "nodeLayer"; name: string }[];
  notes: string[];
}

export function compare(reports: Report[], options: CompareOptions = {}): CompareResult {
  const metric = options.metric ?? "linkWeights";
  if (!(COMPARE_METRICS as readonly string[]).includes(metric)) throw new CntError("BAD_OPTION", `Option metric must be one of ${COMPARE_METRICS.join(", ")}; got ${JSON.stringify(metric)?.slice(0, 60)}.`);
  if (!Array.isArray(reports) || reports.length < 2) throw new CntError("BAD_OPTION", `compare needs two or more reports; got ${Array.isArray(reports) ? reports.length : "no list"}.`);
  const bins = options.bins ?? reports[0].options.bins;
  if (!Number.isSafeInteger(bins) || bins < 1 || bins > 1_000_000) throw new CntError("BAD_OPTION", `Option bins must be an integer from 1 to 1,000,000; got ${JSON.stringify(bins)}.`);
  const notes: string[] = [];
  const entries: CompareEntry[] = [];
  const unmatched: CompareResult["unmatched"] = [];
  if (metric === "linkWeights") {
    const { matches, unmatched: left } = matchItems(reports.map((r) => r.layers.map((l) => ({ name: l.name, size: l.shape.join("x") }))));
    for (const match of matches) {
      const layers = match.indices.map((j, m) => reports[m].layers[j]);
      if (layers.some((l) => !l.linkWeights)) {
        notes.push(`Layer ${JSON.stringify(layers[0].name)} has no link weights in some model; not compared.`);
        continue;
      }
      entries.push(entry("layer", layers.map((l) => l.name), match.matchedBy, layers.map((l) => l.linkWeights!), null, bins, options.jeffreysReference === true));
    }
    for (const [m, j] of left) unmatched.push({ model: m, kind: "layer", name: reports[m].layers[j].name });
  } else {
    const { matches, unmatched: left } = matchItems(reports.map((r) => r.nodeLayers.map((n) => ({ name: n.after, size: n.shape.join("x") }))));
    const key = ({ strength: "s", strengthIn: "sIn", strengthOut: "sOut" } as const)[metric];
    for (const match of matches) {
      const nodes = match.indices.map((j, m) => reports[m].nodeLayers[j]);
      const values = nodes.every((n) => n.perNode) ? nodes.map((n) => n.perNode![key]) : null;
      entries.push(entry("nodeLayer", nodes.map((n) => n.after), match.matchedBy, nodes.map((n) => n[metric]), { nodes, values }, bins, options.jeffreysReference === true));
    }
    for (const [m, j] of left) unmatched.push({ model: m, kind: "nodeLayer", name: reports[m].nodeLayers[j].after });
  }
  const unshared = entries.filter((e) => e.binning === "unshared").length;
  if (options.jeffreysReference) {
    const missing = entries.filter((e) => e.pairs.some((p) => p.jeffreysReference === null)).length;
    notes.push(`jeffreys-reference: the reference code's sum over 1000 grid points of Gaussian-KDE densities (Scott's rule), without the grid step, so it scales with 1 / range; ${metric === "linkWeights" ? "link weights from fine-histogram bucket centres (an approximation of the raw weights)" : "strengths from per-node values"}.${missing ? ` ${missing} layers lack ${metric === "linkWeights" ? "fine histograms (analyze with fine: true)" : "per-node values (analyze with perNode)"} or spread, and have none.` : ""}`);
  }
  if (unshared > 0) notes.push(`${unshared} of ${entries.length} layers have histograms on different edges and are not compared: analyze with shared edges (compareFiles does), with option fine, or, for strengths, with perNode.`);
  return {
    metric,
    models: reports.map((r) => r.source.name),
    epsilon: EPSILON,
    units: { kl: "nats", jeffreys: "nats", jensenShannon: "bits", wasserstein: "metric units" },
    entries,
    unmatched,
    notes,
  };
}

function entry(kind: CompareEntry["kind"], names: string[], matchedBy: CompareEntry["matchedBy"], ds: Distribution[], node: { nodes: NodeLayerReport[]; values: Float64Array[] | null } | null, bins: number, reference: boolean): CompareEntry {
  let binning: CompareEntry["binning"] = "unshared";
  let edges: number[] | null = null;
  let counts: number[][] | null = null;
  const first = ds[0].histogram.edges;
  if (first && ds.every((d) => sameEdges(d.histogram.edges, first))) {
    binning = "shared";
    edges = first;
    counts = ds.map((d) => d.histogram.counts);
  } else if (node?.values) {
    const finite = ds.filter((d) => d.min !== null && d.max !== null);
    if (finite.length > 0) {
      binning = "perNode";
      edges = Array.from(uniformEdges(Math.min(...finite.map((d) => d.min!)), Math.max(...finite.map((d) => d.max!)), bins));
      counts = node.values.map((v) => binValues(v, edges!));
    }
  }
  if (binning === "unshared" && ds.every((d) => d.fine)) {
    // Reports made with option fine: each fine histogram rebinned onto edges over the range of all.
    const finite = ds.filter((d) => d.min !== null && d.max !== null);
    if (finite.length > 0) {
      binning = "fine";
      edges = Array.from(uniformEdges(Math.min(...finite.map((d) => d.min!)), Math.max(...finite.map((d) => d.max!)), bins));
      counts = ds.map((d) => rebinFine(d.fine!, edges!));
    }
  }
  const stats: ModelStats[] = ds.map((d, m) => ({ count: d.count, mean: d.mean, std: d.std, min: d.min, max: d.max, ...(node ? { fluctuation: node.nodes[m].fluctuation, cv: node.nodes[m].cv } : {}) }));
  const pairs: PairComparison[] = [];
  for (let a = 0; a < ds.length; a++) {
    for (let b = a + 1; b < ds.length; b++) {
      const pair: PairComparison = {
        a,
        b,
        divergences: edges && counts ? divergences(edges, counts[a], counts[b]) : null,
        meanDiff: diff(stats[a].mean, stats[b].mean),
        stdDiff: diff(stats[a].std, stats[b].std),
      };
      if (node) Object.assign(pair, { fluctuationDiff: diff(stats[a].fluctuation!, stats[b].fluctuation!), cvDiff: diff(stats[a].cv!, stats[b].cv!) });
      if (reference) pair.jeffreysReference = referenceOf(ds, node?.values ?? null, a, b);
      pairs.push(pair);
    }
  }
  const result: CompareEntry = { kind, name: names[0], names, matchedBy, binning, edges, counts, stats, pairs };
  if (ds.length >= 3) result.matrices = matrices(ds.length, pairs);
  if (ds.length >= 3 && reference) {
    const m = Array.from({ length: ds.length }, (_, i) => Array.from({ length: ds.length }, (_, j) => (i === j ? 0 : null)) as (number | null)[]);
    for (const p of pairs) m[p.a][p.b] = m[p.b][p.a] = p.jeffreysReference ?? null;
    result.matrices!.jeffreysReference = m;
  }
  return result;
}

/** jeffreys-reference of models a and b: raw per-node values where given, else fine-bucket centres over the exact range. */
function referenceOf(ds: Distribution[], values: Float64Array[] | null, a: number, b: number): number | null {
  if (values) return jeffreysReference({ points: values[a] }, { points: values[b] });
  const [da, db] = [ds[a], ds[b]];
  if (!da.fine || !db.fine || da.min === null || db.min === null) return null;
  const samples: [KdeSample, KdeSample] = [sampleOfFine(da.fine), sampleOfFine(db.fine)];
  return jeffreysReference(samples[0], samples[1], [Math.min(da.min, db.min), Math.max(da.max!, db.max!)]);
}

function diff(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined ? null : b - a;
}

function matrices(n: number, pairs: PairComparison[]): NonNullable<CompareEntry["matrices"]> {
  const square = (): (number | null)[][] => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : null)));
  const out = { kl: square(), jeffreys: square(), jensenShannon: square(), wasserstein: square() };
  for (const { a, b, divergences: d } of pairs) {
    if (!d) continue;
    out.kl[a][b] = d.klAB;
    out.kl[b][a] = d.klBA;
    for (const k of ["jeffreys", "jensenShannon", "wasserstein"] as const) out[k][a][b] = out[k][b][a] = d[k];
  }
  return out;
}
