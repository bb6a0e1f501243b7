import { formatCount, formatShape } from "../errors.js";
import type { Distribution, Report } from "../report/types.js";

/** The human-readable report: one table of layers, one of node layers. */
export function formatReport(report: Report): string {
  const lines: string[] = [];
  const src = report.source;
  lines.push(`${src.name}  (${src.format}${src.bytes === null ? "" : `, ${formatCount(src.bytes)} bytes`})  cntscope ${report.cntscope}`);
  lines.push(`options: bias ${report.options.bias}, boundary ${report.options.boundary}, ${report.options.bins} bins, histograms ${report.options.histogram}`);
  lines.push("");
  lines.push("Layers (link weights)");
  lines.push(table(
    ["#", "name", "kind", "shape", "params", "mean", "std", "min", "max", "non-finite"],
    report.layers.map((l) => [String(l.index), l.name, l.kind, formatShape(l.shape), formatCount(l.params), ...dist(l.linkWeights)]),
  ));
  if (report.nodeLayers.length > 0) {
    lines.push("");
    lines.push("Node layers (strength s = s_in + s_out)");
    lines.push(table(
      ["#", "written by", "nodes", "mean s", "fluctuation", "cv", "min s", "max s", "mean s_in", "mean s_out"],
      report.nodeLayers.map((n) => [String(n.index), writers(n.producers), String(n.size), num(n.strength.mean), num(n.fluctuation), num(n.cv), num(n.strength.min), num(n.strength.max), num(n.strengthIn.mean), num(n.strengthOut.mean)]),
    ));
  }
  if (report.nodeLayers.length > 0) {
    lines.push(...LEGEND);
    lines.push(report.options.boundary === "unit"
      ? "Input nodes have s_in = 1 and output nodes s_out = 1 (--boundary unit, as the papers' code counts them); --boundary zero gives 0."
      : "Input nodes have s_in = 0 and output nodes s_out = 0 (--boundary zero); the default, --boundary unit, gives 1 as the papers' code does.");
  }
  const c = report.coverage;
  lines.push(`coverage: the strengths include the links of ${c.inStrengths} of ${c.weightedLayers} weighted layers`);
  for (const s of report.skipped) lines.push(`skipped ${s.name} ${formatShape(s.shape)} ${s.dtype}: ${s.reason}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}

/** What the node-layer table's columns mean; the definitions are in docs/metrics.md. */
const LEGEND = [
  "",
  "s = s_in + s_out: the summed weights of a node's incoming and outgoing links (bias included with --bias in).",
  "fluctuation: the standard deviation of s over the layer's nodes (ddof 0); cv: fluctuation / |mean s|.",
  "written by: the ops whose outputs are the layer's nodes (in the JSON: producers; `after` is the first).",
];

/** The ops that write a node layer (a residual sum: the conv and the Add), cut to fit a column. */
function writers(producers: string[]): string {
  const all = producers.join(" + ");
  return all.length <= 48 ? all : `${all.slice(0, 45)}...`;
}

function dist(d: Distribution | null): string[] {
  if (!d) return ["", "", "", "", ""];
  const bad = d.nan + d.posInf + d.negInf;
  return [num(d.mean), num(d.std), num(d.min), num(d.max), bad ? String(bad) : "0"];
}

function num(x: number | null): string {
  if (x === null) return "-";
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(3) : x.toPrecision(5);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i <= 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}
