import type { CompareResult } from "../compare/compare.js";
import { formatCount } from "../errors.js";
import { plotByDepth } from "../plot/depth.js";
import { plotHeatmap } from "../plot/heatmap.js";
import { plotOverlay } from "../plot/overlay.js";
import { plotReport } from "../plot/report-plots.js";
import { escapeXml } from "../plot/svg.js";
import { formatStat, reportTables, type ReportTable } from "../report/tables.js";
import type { Report } from "../report/types.js";
import { htmlPage } from "./page.js";

export interface ReportHtmlOptions {
  /** Comparisons of the reports (compare() results), drawn as overlays and heatmaps. */
  comparisons?: CompareResult[];
  /** The command line or call that made the reports, shown with the options used. */
  command?: string;
  /** Also draw every node layer's s_in and s_out distributions. */
  inOut?: boolean;
  title?: string;
}

/**
 * One self-contained HTML page for one or more reports: per model the summary (format,
 * parameters, layers by kind, coverage, notes), the sortable and filterable tables, every plot
 * and the options used; with several models, their comparison.
 * @example
 *   import { analyze, reportHtml } from "cntscope";
 *   const html = reportHtml([await analyze(bytes)]);
 */
export function reportHtml(reports: Report[], options: ReportHtmlOptions = {}): string {
  const names = reports.map((r) => r.source.name);
  const title = options.title ?? `cntscope report: ${names.join(", ")}`;
  let body = `<h1>${escapeXml(title)}</h1>\n<p>cntscope ${escapeXml(reports[0]?.cntscope ?? "")}${options.command ? ` · <code>${escapeXml(options.command)}</code>` : ""}</p>\n`;
  if (reports.length > 1) body += `<nav><ul>${reports.map((r, i) => `<li><a href="#model-${i}">${escapeXml(r.source.name)}</a></li>`).join("")}${options.comparisons?.length ? `<li><a href="#comparison">Comparison</a></li>` : ""}</ul></nav>\n`;
  reports.forEach((r, i) => (body += modelSection(r, i, options.inOut ?? false)));
  if (reports.length > 1) body += comparisonSection(reports, options.comparisons ?? []);
  return htmlPage(title, body);
}

/** One model's part of the page: summary, notes, plots, tables, options (the browser app shows it as it is). */
export function modelSection(report: Report, index: number, inOut: boolean): string {
  const plots = plotReport(report, { inOut });
  const tables = reportTables(report);
  const params = report.layers.reduce((sum, l) => sum + l.params, 0);
  const kinds = new Map<string, number>();
  for (const l of report.layers) if (l.kind !== "none") kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
  const nodes = report.nodeLayers.reduce((sum, n) => sum + n.size, 0);
  const src = report.source;
  const summary: [string, string][] = [
    ["format", src.format],
    ["bytes", src.bytes === null ? "unknown (a stream)" : formatCount(src.bytes)],
    ["parameters", formatCount(params)],
    ["layers by kind", [...kinds].map(([k, n]) => `${k} × ${n}`).join(", ") || "none"],
    ["node layers", `${report.nodeLayers.length} (${formatCount(nodes)} nodes)`],
    ["coverage", `the strengths include the links of ${report.coverage.inStrengths} of ${report.coverage.weightedLayers} weighted layers`],
    ["histograms", `${report.options.bins} bins, ${report.options.histogram}`],
  ];
  const data = report.data;
  if (data) summary.push(["data", `${formatCount(data.samples)} samples in batches of ${data.batch} (inputs ${data.inputs.join(", ")})${data.accuracy !== undefined && data.accuracy !== null ? `; accuracy ${formatStat(data.accuracy)} (${data.correct} of ${data.labelled})` : ""}`]);
  let out = `<section id="model-${index}">\n<h2>${escapeXml(src.name)}</h2>\n<dl class="summary">${summary.map(([k, v]) => `<dt>${k}</dt><dd>${escapeXml(v)}</dd>`).join("")}</dl>\n`;
  if (report.notes.length || report.skipped.length) {
    out += `<h3>Notes</h3><ul class="notes">${report.notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}${report.skipped.map((s) => `<li>skipped ${escapeXml(s.name)} (${escapeXml(s.dtype)}): ${escapeXml(s.reason)}</li>`).join("")}</ul>\n`;
  }
  if (report.nodeLayers.length) out += `<h3>Node layers by depth</h3><div class="plots">${plots.strip}${plots.fluctuation}${plots.cv}</div>\n`;
  out += `<h3>Layers (link weights)</h3>${dataTable(`layers-${index}`, tables.layers, [1, 2, 3])}\n`;
  if (report.nodeLayers.length) out += `<h3>Node layers (strength s = s_in + s_out)</h3>${dataTable(`nodes-${index}`, tables.nodeLayers, [1])}\n`;
  const weighted = plots.layers.filter((l) => l.linkWeights);
  out += `<details><summary>Link-weight histograms (${weighted.length} layers)</summary><div class="plots">${weighted.map((l) => (l.linkWeights ?? "") + (l.bias ?? "")).join("")}</div></details>\n`;
  if (plots.neuronStd && plots.neurons) {
    out += `<h3>Neuron strength z and activation a (data)</h3><div class="plots">${plots.neuronStd}</div>\n`;
    out += `<details><summary>z and a distributions (${plots.neurons.length} node layers)</summary><div class="plots">${plots.neurons.map((n) => n.strength + n.activation).join("")}</div></details>\n`;
  }
  if (report.nodeLayers.length) out += `<details><summary>Strength distributions (${plots.nodeLayers.length} node layers)</summary><div class="plots">${plots.nodeLayers.map((n) => n.strength + (n.strengthIn ?? "") + (n.strengthOut ?? "")).join("")}</div></details>\n`;
  out += `<details><summary>Options used</summary><pre>${escapeXml(JSON.stringify(report.options, null, 2))}</pre></details>\n</section>\n`;
  return out;
}

/** A table with a filter box; numbers shown rounded, sorted by their whole value (data-sort). */
export function dataTable(id: string, table: ReportTable, textColumns: number[]): string {
  const cls = (i: number) => (textColumns.includes(i) ? ` class="text"` : "");
  const head = table.columns.map((c, i) => `<th scope="col"${cls(i)}>${escapeXml(c)}</th>`).join("");
  const rows = table.rows.map((r) => `<tr>${r.map((c, i) => (typeof c === "number" ? `<td data-sort="${c}"${cls(i)}>${escapeXml(Number.isInteger(c) ? formatCount(c) : formatStat(c))}</td>` : `<td${cls(i)}>${escapeXml(c ?? "-")}</td>`)).join("")}</tr>`).join("\n");
  return `<input class="filter" type="search" placeholder="filter rows" aria-label="filter the rows of this table" data-table="${id}">\n<table class="data" id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The comparison of several reports: fluctuation by depth overlaid, and per metric the divergences table and overlays. */
export function comparisonSection(reports: Report[], comparisons: CompareResult[]): string {
  const names = reports.map((r) => r.source.name);
  let out = `<section id="comparison">\n<h2>Comparison</h2>\n<p>Series are coloured in the order given, from green (first: ${escapeXml(names[0])}) to red (last: ${escapeXml(names[names.length - 1])}).</p>\n`;
  out += `<div class="plots">${plotByDepth(reports.map((r) => ({ label: r.source.name, values: r.nodeLayers.map((n) => n.fluctuation) })), { title: "Layer fluctuation by depth", quantity: "fluctuation (std of s)" })}</div>\n`;
  for (const c of comparisons) {
    const quantity = c.metric === "linkWeights" ? "link weight" : c.metric === "strength" ? "node strength s" : c.metric === "strengthIn" ? "in-strength s_in" : "out-strength s_out";
    let plots = "";
    for (const e of c.entries) {
      if (!e.edges || !e.counts) continue;
      plots += plotOverlay(e.counts.map((counts, m) => ({ label: c.models[m], edges: e.edges!, counts })), { title: `${e.name}: ${quantity}`, quantity });
      if (e.matrices) plots += plotHeatmap(e.matrices.jensenShannon, c.models, { title: `${e.name}: Jensen-Shannon divergence`, quantity: "Jensen-Shannon divergence (bits)" });
    }
    const pairs = c.entries.flatMap((e) => e.pairs.map((p) => [e.name, c.models[p.a], c.models[p.b], p.divergences?.jensenShannon ?? null, p.divergences?.jeffreys ?? null, p.divergences?.wasserstein ?? null, p.meanDiff, p.stdDiff] as (string | number | null)[]));
    const table: ReportTable = { columns: ["layer", "model A", "model B", "Jensen-Shannon (bits)", "Jeffreys (nats)", "1-Wasserstein", "mean B - A", "std B - A"], rows: pairs };
    out += `<h3>${escapeXml(c.metric)}</h3>\n${c.notes.length ? `<ul class="notes">${c.notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>` : ""}${dataTable(`compare-${c.metric}`, table, [0, 1, 2])}\n<details><summary>Overlays (${c.entries.filter((e) => e.counts).length})</summary><div class="plots">${plots}</div></details>\n`;
  }
  return out + `</section>\n`;
}
