import { formatShape } from "../errors.js";
import { csvText } from "./csv.js";
import type { Distribution, Report } from "./types.js";

/** One table of a report as plain values: the text table, the CSV and the HTML page all render it. */
export interface ReportTable {
  columns: string[];
  /** Numbers whole (null where undefined); text as is. */
  rows: (string | number | null)[][];
}

/** The layers (link weights) and node layers (strengths) of a report, as the table shows them. */
export function reportTables(report: Report): { layers: ReportTable; nodeLayers: ReportTable } {
  return {
    layers: {
      columns: ["#", "name", "kind", "shape", "params", "mean", "std", "min", "max", "non-finite"],
      rows: report.layers.map((l) => [l.index, l.name, l.kind, formatShape(l.shape), l.params, ...moments(l.linkWeights)]),
    },
    nodeLayers: {
      columns: ["#", "written by", "nodes", "mean s", "fluctuation", "cv", "min s", "max s", "mean s_in", "mean s_out", ...(report.data ? NEURON_COLUMNS : [])],
      rows: report.nodeLayers.map((n) => [n.index, n.producers.join(" + "), n.size, n.strength.mean, n.fluctuation, n.cv, n.strength.min, n.strength.max, n.strengthIn.mean, n.strengthOut.mean, ...(report.data ? neuronStats(n) : [])]),
    },
  };
}

/** With data metrics: the neuron strength z and activation a of each node layer (spec section 3). */
const NEURON_COLUMNS = ["mean z", "std z", "mean a", "std a"];

function neuronStats(n: Report["nodeLayers"][number]): (number | null)[] {
  return [n.neuronStrength?.mean ?? null, n.neuronStrength?.std ?? null, n.neuronActivation?.mean ?? null, n.neuronActivation?.std ?? null];
}

function moments(d: Distribution | null): (number | null)[] {
  if (!d) return [null, null, null, null, null];
  return [d.mean, d.std, d.min, d.max, d.nan + d.posInf + d.negInf];
}

/**
 * The report as one CSV table: a row per layer (section "layer": the moments of its link weights)
 * and per node layer (section "nodeLayer": the moments of s, with fluctuation, cv and the mean
 * s_in and s_out, and with data metrics the mean and std of z and a), so one file loads into a
 * data frame.
 */
export function reportCsvRows(report: Report): { header: string[]; rows: (string | number | null)[][] } {
  const data = report.data !== undefined;
  const header = ["section", "index", "name", "kind", "shape", "params_or_nodes", "mean", "std", "min", "max", "non_finite", "fluctuation", "cv", "mean_s_in", "mean_s_out", "written_by", ...(data ? ["mean_z", "std_z", "mean_a", "std_a"] : [])];
  const rows: (string | number | null)[][] = [];
  for (const l of report.layers) rows.push(["layer", l.index, l.name, l.kind, l.shape.join("x"), l.params, ...moments(l.linkWeights), null, null, null, null, null, ...(data ? [null, null, null, null] : [])]);
  for (const n of report.nodeLayers) {
    const s = n.strength;
    rows.push(["nodeLayer", n.index, n.after, "", n.shape.join("x"), n.size, s.mean, s.std, s.min, s.max, s.nan + s.posInf + s.negInf, n.fluctuation, n.cv, n.strengthIn.mean, n.strengthOut.mean, n.producers.join(" + "), ...(data ? neuronStats(n) : [])]);
  }
  return { header, rows };
}

/** The report as one CSV text (`analyze --csv`, the app's CSV export). */
export function reportCsv(report: Report): string {
  const { header, rows } = reportCsvRows(report);
  return csvText(header, rows);
}

/** A statistic as the tables print it: five significant digits, exponent form outside [1e-3, 1e5). */
export function formatStat(x: number | null): string {
  if (x === null) return "-";
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(3) : x.toPrecision(5);
}
