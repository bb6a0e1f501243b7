/**
 * population(): networks grouped by a label, compared per layer (spec metrics.md section 4;
 * issue 18 point 2). A pure function of the list of partials: they are sorted by file first, and
 * every random choice comes from the seeded generator in prng.ts, so threads, shards or machines
 * that make the same partials give the same result, byte for byte.
 */
import { divergences, sameEdges, type Divergences } from "../compare/divergences.js";
import { matchItems } from "../compare/match.js";
import { CntError } from "../errors.js";
import type { Distribution } from "../measure/distribution.js";
import { rebinFine } from "../measure/fine-histogram.js";
import { uniformEdges } from "../measure/histogram.js";
import { binIndex, numericLabel, rangeLabel } from "./labels.js";
import { mergeDistributions, sortPartials, type NetworkPartial, type PooledMoments } from "./partial.js";
import { mulberry32, sampleIndices, shuffled } from "./prng.js";
import { cohenD, looNearestCentroid, mean, median, sd, spearman, type LooResult } from "./stats.js";

/** Per network and layer: link weights' mean and std, mean node strength s, fluctuation, cv. */
export const POPULATION_METRICS = ["weightMean", "weightStd", "strengthMean", "fluctuation", "cv"] as const;
/** With data metrics (networks analyzed on inputs): the std of each node layer's neuron strength z and activation a (spec section 3). */
export const DATA_METRICS = ["neuronStrengthStd", "neuronActivationStd"] as const;
export type PopulationMetric = (typeof POPULATION_METRICS)[number] | (typeof DATA_METRICS)[number];
/** The pooled distributions: all link weights of a layer, all node strengths s of a node layer. */
export const POOLED_METRICS = ["linkWeights", "strength"] as const;
export type PooledMetric = (typeof POOLED_METRICS)[number];
export const DIVERGENCE_KINDS = ["kl", "jeffreys", "jensenShannon", "wasserstein"] as const;

export interface PopulationOptions {
  /** Groups by bins of a numeric label: edges[i] <= x < edges[i+1], the last bin closed. */
  bin?: { column: string; edges: number[] };
  /** Groups by the distinct values of a label (numeric order when all are numbers). */
  groupBy?: string;
  /** Keep N networks, drawn with the seeded generator (default: all). */
  sample?: number;
  /** Seed of the sample and of the half splits (default 0). */
  seed?: number;
  /** Bins of the pooled histograms over each layer's range in the whole population (default 64). */
  bins?: number;
  /** Random half splits per group for the within-group divergence baseline (default 20). */
  splits?: number;
  /** The numeric label Spearman's rho is taken against (default: the bin column, else the group-by column if numeric). */
  against?: string;
}

export interface PopulationGroup {
  index: number;
  /** "0.70–0.90" for a bin, the label's value for group-by, "all" without grouping. */
  name: string;
  /** A bin's [lo, hi]. */
  range?: [number, number];
  /** Files of the group's networks, in file order. */
  files: string[];
}

export interface NetworkRow {
  file: string;
  /** Index into groups, or null when the network's label put it in no group (see notes). */
  group: number | null;
  labels: Record<string, string>;
  /** values[layer][metric], null where the network has no such value. */
  values: Record<string, Partial<Record<PopulationMetric, number | null>>>;
}

export interface GroupStat {
  group: number;
  layer: string;
  metric: PopulationMetric;
  n: number;
  mean: number | null;
  /** Sample sd (ddof 1) over the group's networks. */
  sd: number | null;
  median: number | null;
}

export interface PooledEntry {
  layer: string;
  metric: PooledMetric;
  /** Shared edges: `bins` equal bins over the layer's [min, max] in the whole population. */
  edges: number[];
  /** True when the counts are sums of the networks' own histograms on these edges; false when rebinned from the merged fine histograms (counts off only within one fine bucket of an edge). */
  exact: boolean;
  /** Per group, in group order. */
  groups: { group: number; networks: number; moments: PooledMoments; counts: number[] }[];
}

export interface DivergenceEntry {
  layer: string;
  metric: PooledMetric;
  /** matrices[kind][a][b]; kl[a][b] is KL(group a || group b). Null where a group is empty. */
  matrices: Record<(typeof DIVERGENCE_KINDS)[number], (number | null)[][]>;
  /** Per group: the mean over `splits` random half splits of the divergence between the halves (null under 2 networks). */
  within: Record<(typeof DIVERGENCE_KINDS)[number], (number | null)[]>;
}

export interface SeparationEntry {
  metric: PopulationMetric;
  /** A layer, or "*" for the vector of all the layers that have the metric. */
  layer: string;
  spearman: { against: string; rho: number | null; n: number } | null;
  /** Between neighbouring groups (a, a + 1). */
  cohenD: { a: number; b: number; d: number | null }[];
  loo: LooResult;
}

export interface PopulationResult {
  seed: number;
  bins: number;
  splits: number;
  grouping: { kind: "bin"; column: string; edges: number[] } | { kind: "groupBy"; column: string } | { kind: "all" };
  /** In plot order: bins low to high, values ascending. Colour k of a low-to-high scale goes to group k. */
  groups: PopulationGroup[];
  /** Every network kept (after sampling), in file order. */
  networks: NetworkRow[];
  /** Layer keys in order: node layer "input" first, then the parameter layers' names (a node layer is keyed by the layer it follows). */
  layers: string[];
  metrics: readonly PopulationMetric[];
  groupStats: GroupStat[];
  pooled: PooledEntry[];
  /** Per node layer and group: each network's fluctuation, in file order. */
  fluctuations: { layer: string; groups: (number | null)[][] }[];
  divergences: DivergenceEntry[];
  separation: SeparationEntry[];
  notes: string[];
}

interface Item {
  layer: string;
  metric: PooledMetric;
  /** Per network (sorted, sampled), the distribution. */
  dists: Distribution[];
}

/**
 * Group the networks, then per layer: statistics per group, pooled distributions on shared edges,
 * divergence matrices between groups with a within-group baseline, and how well each metric
 * separates the groups.
 * @example
 *   const result = population(partials, { bin: { column: "accuracy", edges: [0, 0.25, 0.7, 0.9, 0.975, 1] } });
 */
export function population(partials: NetworkPartial[], options: PopulationOptions = {}): PopulationResult {
  const seed = options.seed ?? 0;
  const bins = options.bins ?? 64;
  const splits = options.splits ?? 20;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new CntError("BAD_OPTION", `Option seed must be an integer from 0 to 4294967295; got ${JSON.stringify(seed)}.`);
  if (!Number.isSafeInteger(bins) || bins < 1 || bins > 100_000) throw new CntError("BAD_OPTION", `Option bins must be an integer from 1 to 100,000; got ${JSON.stringify(bins)}.`);
  if (!Number.isSafeInteger(splits) || splits < 0 || splits > 10_000) throw new CntError("BAD_OPTION", `Option splits must be an integer from 0 to 10,000; got ${JSON.stringify(splits)}.`);
  if (options.bin && options.groupBy !== undefined) throw new CntError("BAD_OPTION", "Options bin and groupBy both choose the groups; give one.");
  if (!Array.isArray(partials) || partials.length === 0) throw new CntError("BAD_OPTION", "A population needs one or more networks.");
  const notes: string[] = [];

  let sorted = sortPartials(partials);
  if (options.sample !== undefined) {
    if (!Number.isSafeInteger(options.sample) || options.sample < 1) throw new CntError("BAD_OPTION", `Option sample must be a whole number >= 1; got ${JSON.stringify(options.sample)}.`);
    if (options.sample < sorted.length) {
      const keep = sampleIndices(sorted.length, options.sample, mulberry32(seed));
      notes.push(`Sampled ${keep.length} of ${sorted.length} networks (seed ${seed}).`);
      sorted = keep.map((i) => sorted[i]);
    }
  }

  // Groups.
  const { groups, groupOf, grouping } = makeGroups(sorted, options, notes);
  const against = options.against ?? (grouping.kind === "bin" ? grouping.column : grouping.kind === "groupBy" && sorted.every((p) => numericLabel(p.labels[grouping.column]) !== null) ? grouping.column : undefined);
  if (options.against !== undefined && !sorted.some((p) => numericLabel(p.labels[options.against!]) !== null)) notes.push(`No network has a numeric label ${JSON.stringify(options.against)}; Spearman's rho is left out.`);

  // Layers matched across networks, as compare() matches them.
  const reports = sorted.map((p) => p.report);
  const layerMatch = matchItems(reports.map((r) => r.layers.map((l) => ({ name: l.name, size: l.shape.join("x") }))));
  const nodeMatch = matchItems(reports.map((r) => r.nodeLayers.map((n) => ({ name: n.after, size: n.shape.join("x") }))));
  if (layerMatch.unmatched.length + nodeMatch.unmatched.length > 0) notes.push(`${layerMatch.unmatched.length} layers and ${nodeMatch.unmatched.length} node layers are not in every network (matched by name, else position and size) and are left out.`);
  const layerOf = new Map<string, number[]>(); // key -> index of the layer in each network
  for (const m of layerMatch.matches) layerOf.set(reports[0].layers[m.indices[0]].name, m.indices);
  const nodeOf = new Map<string, number[]>();
  for (const m of nodeMatch.matches) nodeOf.set(reports[0].nodeLayers[m.indices[0]].after, m.indices);
  const layers = [...(nodeOf.has("input") && !layerOf.has("input") ? ["input"] : []), ...layerOf.keys()];
  for (const key of nodeOf.keys()) if (!layers.includes(key)) layers.push(key);

  // Per network and layer values.
  const networks: NetworkRow[] = sorted.map((p, i) => {
    const values: NetworkRow["values"] = {};
    for (const key of layers) {
      const row: Partial<Record<PopulationMetric, number | null>> = {};
      const l = layerOf.has(key) ? p.report.layers[layerOf.get(key)![i]] : undefined;
      if (l) Object.assign(row, { weightMean: l.linkWeights?.mean ?? null, weightStd: l.linkWeights?.std ?? null });
      const n = nodeOf.has(key) ? p.report.nodeLayers[nodeOf.get(key)![i]] : undefined;
      if (n) Object.assign(row, { strengthMean: n.strength.mean, fluctuation: n.fluctuation, cv: n.cv });
      if (n && n.neuronStrengthStd !== undefined) Object.assign(row, { neuronStrengthStd: n.neuronStrengthStd, neuronActivationStd: n.neuronActivationStd ?? null });
      values[key] = row;
    }
    return { file: p.file, group: groupOf[i], labels: p.labels, values };
  });
  const grouped = networks.map((_, i) => i).filter((i) => networks[i].group !== null);
  const membersOf = groups.map((g) => grouped.filter((i) => networks[i].group === g.index));
  const valuesOf = (key: string, metric: PopulationMetric, members: number[]) => members.map((i) => networks[i].values[key][metric]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));

  // The data metrics are columns only when some network has them.
  const metrics: readonly PopulationMetric[] = networks.some((n) => Object.values(n.values).some((v) => "neuronStrengthStd" in v)) ? [...POPULATION_METRICS, ...DATA_METRICS] : POPULATION_METRICS;

  // Group statistics.
  const groupStats: GroupStat[] = [];
  for (const g of groups) {
    for (const key of layers) {
      for (const metric of metrics) {
        if (!networks.some((n) => metric in n.values[key])) continue;
        const v = valuesOf(key, metric, membersOf[g.index]);
        groupStats.push({ group: g.index, layer: key, metric, n: v.length, mean: mean(v), sd: sd(v), median: median(v) });
      }
    }
  }

  // Pooled distributions, divergences and their within-group baseline on shared edges.
  const items: Item[] = [];
  for (const key of layers) {
    const li = layerOf.get(key);
    if (li && sorted.every((p, i) => p.report.layers[li[i]].linkWeights)) items.push({ layer: key, metric: "linkWeights", dists: sorted.map((p, i) => p.report.layers[li[i]].linkWeights!) });
    const ni = nodeOf.get(key);
    if (ni) items.push({ layer: key, metric: "strength", dists: sorted.map((p, i) => p.report.nodeLayers[ni[i]].strength) });
  }
  const splitRandom = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  const halves = membersOf.map((members) => (members.length < 2 ? [] : Array.from({ length: splits }, () => {
    const order = shuffled(members, splitRandom);
    const h = members.length >> 1;
    return [order.slice(0, h).sort((a, b) => a - b), order.slice(h).sort((a, b) => a - b)] as const;
  })));
  const pooled: PooledEntry[] = [];
  const divergenceEntries: DivergenceEntry[] = [];
  for (const item of items) {
    const used = grouped.map((i) => item.dists[i]);
    const finite = used.filter((d) => d.count > 0);
    if (finite.length === 0) continue;
    const edges = Array.from(uniformEdges(Math.min(...finite.map((d) => d.min!)), Math.max(...finite.map((d) => d.max!)), bins));
    const exact = used.every((d) => d.histogram.exact !== false && sameEdges(d.histogram.edges, edges));
    const countsOf = (members: number[]): number[] => {
      if (exact) {
        const sum = new Array<number>(bins).fill(0);
        for (const i of members) item.dists[i].histogram.counts.forEach((c, b) => (sum[b] += c));
        return sum;
      }
      return rebinFine(mergeDistributions(members.map((i) => item.dists[i])).fine!, edges);
    };
    const perGroup = groups.map((g) => ({ group: g.index, networks: membersOf[g.index].length, moments: stripFine(mergeDistributions(membersOf[g.index].map((i) => item.dists[i]))), counts: countsOf(membersOf[g.index]) }));
    pooled.push({ layer: item.layer, metric: item.metric, edges, exact, groups: perGroup });
    const square = () => groups.map((_, a) => groups.map((_, b) => (a === b && perGroup[a].moments.count > 0 ? 0 : null)) as (number | null)[]);
    const matrices = { kl: square(), jeffreys: square(), jensenShannon: square(), wasserstein: square() };
    for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        const d = divergences(edges, perGroup[a].counts, perGroup[b].counts);
        if (!d) continue;
        matrices.kl[a][b] = d.klAB;
        matrices.kl[b][a] = d.klBA;
        for (const k of ["jeffreys", "jensenShannon", "wasserstein"] as const) matrices[k][a][b] = matrices[k][b][a] = d[k];
      }
    }
    const within = { kl: [] as (number | null)[], jeffreys: [] as (number | null)[], jensenShannon: [] as (number | null)[], wasserstein: [] as (number | null)[] };
    for (const g of groups) {
      const ds = halves[g.index].map(([a, b]) => divergences(edges, countsOf(a), countsOf(b))).filter((d): d is Divergences => d !== null);
      within.kl.push(ds.length ? mean(ds.map((d) => (d.klAB + d.klBA) / 2)) : null);
      for (const k of ["jeffreys", "jensenShannon", "wasserstein"] as const) within[k].push(ds.length ? mean(ds.map((d) => d[k])) : null);
    }
    divergenceEntries.push({ layer: item.layer, metric: item.metric, matrices, within });
  }
  if (pooled.some((p) => !p.exact)) notes.push("Pooled histograms are rebinned from the merged fine histograms (exact: false): a count can be off only for values within one fine bucket (1/128 of their magnitude) of a bin edge.");

  const fluctuations = layers.filter((key) => nodeOf.has(key)).map((key) => ({ layer: key, groups: membersOf.map((members) => members.map((i) => networks[i].values[key].fluctuation ?? null)) }));

  // Separation.
  const separation: SeparationEntry[] = [];
  for (const metric of metrics) {
    const keys = layers.filter((key) => networks.some((n) => metric in n.values[key]));
    for (const key of [...keys, ...(keys.length > 1 ? ["*"] : [])]) {
      const cols = key === "*" ? keys : [key];
      const members = grouped.filter((i) => cols.every((k) => Number.isFinite(networks[i].values[k][metric] ?? NaN)));
      const feature = members.map((i) => cols.map((k) => networks[i].values[k][metric] as number));
      let rank: SeparationEntry["spearman"] = null;
      if (against !== undefined && key !== "*") {
        const pairs = members.map((i, j) => [numericLabel(sorted[i].labels[against]), feature[j][0]] as const).filter((p): p is readonly [number, number] => p[0] !== null);
        rank = { against, rho: spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1])), n: pairs.length };
      }
      const cohen = key === "*" ? [] : groups.slice(1).map((g) => ({ a: g.index - 1, b: g.index, d: cohenD(valuesOf(key, metric, membersOf[g.index - 1]), valuesOf(key, metric, membersOf[g.index])) }));
      separation.push({ metric, layer: key, spearman: rank, cohenD: cohen, loo: looNearestCentroid(feature, members.map((i) => networks[i].group!), groups.length) });
    }
  }

  return { seed, bins, splits, grouping, groups, networks, layers, metrics, groupStats, pooled, fluctuations, divergences: divergenceEntries, separation, notes };
}

function stripFine(m: PooledMoments & { fine?: unknown }): PooledMoments {
  const { fine: _, ...rest } = m;
  return rest;
}

function makeGroups(sorted: NetworkPartial[], options: PopulationOptions, notes: string[]): { groups: PopulationGroup[]; groupOf: (number | null)[]; grouping: PopulationResult["grouping"] } {
  if (options.bin) {
    const { column, edges } = options.bin;
    if (!Array.isArray(edges) || edges.length < 2 || edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]))) throw new CntError("BAD_OPTION", `Option bin.edges must be two or more ascending numbers; got ${JSON.stringify(edges)?.slice(0, 80)}.`);
    const groupOf = sorted.map((p) => {
      const x = numericLabel(p.labels[column]);
      return x === null ? null : binIndex(x, edges) < 0 ? null : binIndex(x, edges);
    });
    const out = groupOf.filter((g) => g === null).length;
    if (out > 0) notes.push(`${out} networks have no ${JSON.stringify(column)} label in [${edges[0]}, ${edges[edges.length - 1]}] and are in no group.`);
    const groups = edges.slice(1).map((hi, i) => ({ index: i, name: rangeLabel(edges[i], hi), range: [edges[i], hi] as [number, number], files: sorted.filter((_, k) => groupOf[k] === i).map((p) => p.file) }));
    return { groups, groupOf, grouping: { kind: "bin", column, edges: [...edges] } };
  }
  if (options.groupBy !== undefined) {
    const column = options.groupBy;
    const values = [...new Set(sorted.map((p) => p.labels[column]).filter((v): v is string => v !== undefined && v !== ""))];
    if (values.every((v) => numericLabel(v) !== null)) values.sort((a, b) => numericLabel(a)! - numericLabel(b)! || (a < b ? -1 : a > b ? 1 : 0));
    else values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const groupOf = sorted.map((p) => (values.includes(p.labels[column]) ? values.indexOf(p.labels[column]) : null));
    const out = groupOf.filter((g) => g === null).length;
    if (out > 0) notes.push(`${out} networks have no ${JSON.stringify(column)} label and are in no group.`);
    const groups = values.map((v, i) => ({ index: i, name: v, files: sorted.filter((_, k) => groupOf[k] === i).map((p) => p.file) }));
    return { groups, groupOf, grouping: { kind: "groupBy", column } };
  }
  return { groups: [{ index: 0, name: "all", files: sorted.map((p) => p.file) }], groupOf: sorted.map(() => 0), grouping: { kind: "all" } };
}
