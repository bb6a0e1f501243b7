import { formatCount, formatShape } from "../errors.js";
import { formatStat, reportTables } from "../report/tables.js";
import type { Report } from "../report/types.js";

/** The human-readable report: one table of layers, one of node layers. */
export function formatReport(report: Report): string {
  const lines: string[] = [];
  const src = report.source;
  lines.push(`${src.name}  (${src.format}${src.bytes === null ? "" : `, ${formatCount(src.bytes)} bytes`})  cntscope ${report.cntscope}`);
  lines.push(`options: bias ${report.options.bias}, boundary ${report.options.boundary}, ${report.options.bins} bins, histograms ${report.options.histogram}`);
  lines.push("");
  const tables = reportTables(report);
  lines.push("Layers (link weights)");
  lines.push(table(tables.layers.columns, tables.layers.rows.map((r) => r.map((c, i) => (i === 0 ? String(c) : i === 4 ? formatCount(c as number) : c === null ? "" : i === 9 ? String(c) : cellText(c))))));
  if (report.nodeLayers.length > 0) {
    lines.push("");
    lines.push("Node layers (strength s = s_in + s_out)");
    lines.push(table(tables.nodeLayers.columns, tables.nodeLayers.rows.map((r) => r.map((c, i) => (i === 0 || i === 2 ? String(c) : i === 1 ? writers(c as string) : cellText(c))))));
  }
  lines.push(...dataLines(report));
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

/**
 * With input samples: how many, and the accuracy on their labels. The node-layer table has the
 * mean and std of z and a (src/report/tables.ts); which graph values they are is in the JSON.
 */
function dataLines(report: Report): string[] {
  const data = report.data;
  if (!data) return [];
  const lines = ["", `Data: ${formatCount(data.samples)} samples of ${data.inputs.join(", ") || "no input"} in batches of ${formatCount(data.batch)}${data.output ? `; predictions from ${data.output}` : ""}`];
  if (typeof data.accuracy === "number") lines.push(`accuracy: ${data.accuracy.toFixed(4)} (${formatCount(data.correct ?? 0)} of ${formatCount(data.labelled ?? data.samples)} labelled samples)`);
  if (report.nodeLayers.some((n) => n.neuronStrength)) {
    lines.push("z: neuron strength, the weighted sum into a node (bias included); a: its activation f(z); mean and std over samples x nodes (x positions for sequences and feature maps). See docs/data-metrics.md.");
  }
  return lines;
}

/** What the node-layer table's columns mean; the definitions are in docs/metrics.md. */
const LEGEND = [
  "",
  "s = s_in + s_out: the summed weights of a node's incoming and outgoing links (bias included with --bias in).",
  "fluctuation: the standard deviation of s over the layer's nodes (ddof 0); cv: fluctuation / |mean s|.",
  "written by: the ops whose outputs are the layer's nodes (in the JSON: producers; `after` is the first).",
];

/** The ops that write a node layer (a residual sum: the conv and the Add), cut to fit a column. */
function writers(all: string): string {
  return all.length <= 48 ? all : `${all.slice(0, 45)}...`;
}

function cellText(c: string | number | null): string {
  return typeof c === "string" ? c : formatStat(c);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i <= 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}
