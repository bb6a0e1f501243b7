/**
 * The files of a population run (`cntscope population -o out/`), as text, from a result alone:
 * networks.csv, groups.csv, pooled.json, divergence-<metric>-<layer>.csv, separation.csv. Numbers
 * are written in JavaScript's shortest round-trip form, an empty field for a missing value, so the
 * same result gives the same bytes everywhere. Long ("tidy") tables: one value per row, ready for
 * plots (groups in plot order, `group` names as ranges, `groupIndex` for a low-to-high colour scale).
 */
import { csvCell } from "../report/csv.js";
import { DIVERGENCE_KINDS, type PopulationResult } from "./population.js";

const num = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "" : String(x));
const line = (fields: string[]) => fields.map(csvCell).join(",") + "\n";

/** A layer name as part of a file name: characters other than letters, digits, dot, dash and underscore become "_". */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 120) || "_";
}

/** Every output file of a population run: name -> text. */
export function populationOutputs(result: PopulationResult): Record<string, string> {
  const groupName = (g: number | null) => (g === null ? "" : result.groups[g].name);
  const labelColumns = [...new Set(result.networks.flatMap((n) => Object.keys(n.labels)))];
  const files: Record<string, string> = {};

  let text = line(["file", "group", "groupIndex", ...labelColumns, "layer", ...result.metrics]);
  for (const n of result.networks) {
    for (const layer of result.layers) {
      const v = n.values[layer];
      text += line([n.file, groupName(n.group), n.group === null ? "" : String(n.group), ...labelColumns.map((c) => n.labels[c] ?? ""), layer, ...result.metrics.map((m) => num(v[m]))]);
    }
  }
  files["networks.csv"] = text;

  text = line(["group", "groupIndex", "layer", "metric", "n", "mean", "sd", "median"]);
  for (const s of result.groupStats) text += line([groupName(s.group), String(s.group), s.layer, s.metric, String(s.n), num(s.mean), num(s.sd), num(s.median)]);
  files["groups.csv"] = text;

  files["pooled.json"] = JSON.stringify({
    grouping: result.grouping,
    groups: result.groups,
    bins: result.bins,
    layers: result.layers,
    pooled: result.pooled,
    fluctuations: result.fluctuations,
  }, null, 1) + "\n";

  for (const d of result.divergences) {
    text = line(["divergence", "group", "groupIndex", ...result.groups.map((g) => g.name), "within"]);
    for (const kind of DIVERGENCE_KINDS) {
      result.groups.forEach((g, a) => {
        text += line([kind, g.name, String(a), ...d.matrices[kind][a].map(num), num(d.within[kind][a])]);
      });
    }
    files[`divergence-${d.metric}-${fileSafe(d.layer)}.csv`] = text;
  }

  text = line(["metric", "layer", "statistic", "groupA", "groupB", "value", "n"]);
  for (const s of result.separation) {
    if (s.spearman) text += line([s.metric, s.layer, `spearman:${s.spearman.against}`, "", "", num(s.spearman.rho), String(s.spearman.n)]);
    for (const c of s.cohenD) text += line([s.metric, s.layer, "cohenD", groupName(c.a), groupName(c.b), num(c.d), ""]);
    text += line([s.metric, s.layer, "looAccuracy", "", "", num(s.loo.accuracy), String(s.loo.n)]);
    s.loo.confusion.forEach((row, t) => row.forEach((count, p) => (text += line([s.metric, s.layer, "looConfusion", groupName(t), groupName(p), String(count), ""]))));
  }
  files["separation.csv"] = text;
  return files;
}

/** The short summary `--json` prints: groups, sizes, and per metric and layer the separation headline. */
export function populationSummary(result: PopulationResult, written: string[] = []) {
  return {
    networks: result.networks.length,
    grouping: result.grouping,
    groups: result.groups.map((g) => ({ index: g.index, name: g.name, n: g.files.length })),
    layers: result.layers,
    seed: result.seed,
    separation: result.separation.map((s) => ({ metric: s.metric, layer: s.layer, spearman: s.spearman?.rho ?? null, looAccuracy: s.loo.accuracy })),
    notes: result.notes,
    files: written,
  };
}
