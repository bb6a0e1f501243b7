import { groupColour } from "../plot/colours.js";
import { plotByDepth } from "../plot/depth.js";
import { plotHeatmap } from "../plot/heatmap.js";
import { plotOverlay } from "../plot/overlay.js";
import { escapeXml } from "../plot/svg.js";
import type { PopulationResult } from "../population/population.js";
import type { ReportTable } from "../report/tables.js";
import { htmlPage } from "./page.js";
import { dataTable } from "./report-html.js";

/**
 * The page of a population run (`population -o out/` writes it as report.html beside the CSVs):
 * groups from low to high label in green to red; fluctuation by depth per network and per group;
 * per layer the pooled distributions overlaid and the Jensen-Shannon matrix between groups
 * (labelled by the groups' ranges); the separation statistics and the group statistics.
 */
export function populationHtml(result: PopulationResult, options: { command?: string } = {}): string {
  const groups = result.groups;
  const colour = (g: number | null) => (g === null ? "#999999" : groupColour(g, groups.length));
  const grouping = result.grouping.kind === "bin" ? `binned by ${result.grouping.column}` : result.grouping.kind === "groupBy" ? `grouped by ${result.grouping.column}` : "one group";
  const title = `cntscope population: ${result.networks.length} networks, ${grouping}`;
  let body = `<h1>${escapeXml(title)}</h1>\n`;
  if (options.command) body += `<p><code>${escapeXml(options.command)}</code></p>\n`;
  body += `<p>Groups from low to high, coloured green to red: ${groups.map((g) => `<span style="color:${colour(g.index)}">■</span> ${escapeXml(g.name)} (${g.files.length})`).join(", ")}. Seed ${result.seed}, ${result.bins} bins, ${result.splits} half splits for the within-group baseline.</p>\n`;
  if (result.notes.length) body += `<ul class="notes">${result.notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>\n`;

  // Fluctuation by depth: each network as a thin line in its group's colour, and the group means.
  const nodeLayers = result.fluctuations.map((f) => f.layer);
  const perNetwork = result.networks.map((n) => ({ label: n.file, colour: colour(n.group), values: nodeLayers.map((layer) => n.values[layer]?.fluctuation ?? null) }));
  const means = groups.map((g) => ({
    label: g.name,
    colour: colour(g.index),
    values: nodeLayers.map((layer) => result.groupStats.find((s) => s.group === g.index && s.layer === layer && s.metric === "fluctuation")?.mean ?? null),
  }));
  body += `<h2>Layer fluctuation by depth</h2><div class="plots">${plotByDepth(perNetwork, { title: "Each network's fluctuation", quantity: "fluctuation (std of s)", layerNames: nodeLayers })}${plotByDepth(means, { title: "Group means of fluctuation", quantity: "fluctuation (std of s)", layerNames: nodeLayers })}</div>\n`;

  for (const metric of ["linkWeights", "strength"] as const) {
    const entries = result.pooled.filter((p) => p.metric === metric);
    if (entries.length === 0) continue;
    const quantity = metric === "linkWeights" ? "link weight" : "node strength s";
    let plots = "";
    for (const p of entries) {
      plots += plotOverlay(p.groups.map((g) => ({ label: groups[g.group].name, edges: p.edges, counts: g.counts })), { title: `${p.layer}: pooled ${quantity}${p.exact ? "" : " (rebinned)"}`, quantity });
      const d = result.divergences.find((x) => x.layer === p.layer && x.metric === metric);
      if (d) plots += plotHeatmap(d.matrices.jensenShannon, groups.map((g) => g.name), { title: `${p.layer}: Jensen-Shannon between groups`, quantity: "Jensen-Shannon divergence (bits)" });
    }
    body += `<h2>Pooled ${quantity} distributions by layer</h2><div class="plots">${plots}</div>\n`;
  }

  const separation: ReportTable = {
    columns: ["metric", "layer", "Spearman rho", "against", "LOO accuracy", "n", "Cohen's d (neighbouring groups)"],
    rows: result.separation.map((s) => [s.metric, s.layer, s.spearman?.rho ?? null, s.spearman?.against ?? "", s.loo.accuracy, s.loo.n, s.cohenD.map((c) => (c.d === null ? "-" : c.d.toFixed(2))).join(", ")]),
  };
  body += `<h2>How well each metric separates the groups</h2>${dataTable("separation", separation, [0, 1, 3, 6])}\n`;
  const stats: ReportTable = {
    columns: ["group", "layer", "metric", "n", "mean", "sd", "median"],
    rows: result.groupStats.map((s) => [groups[s.group].name, s.layer, s.metric, s.n, s.mean, s.sd, s.median]),
  };
  body += `<h2>Group statistics</h2>${dataTable("group-stats", stats, [0, 1, 2])}\n`;
  return htmlPage(title, body);
}
