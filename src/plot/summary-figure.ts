import type { Report } from "../report/types.js";
import { plotByDepth } from "./depth.js";
import { plotGraphStrip } from "./graph-strip.js";
import { plotHistogram } from "./histogram.js";
import { element, escapeXml } from "./svg.js";

/**
 * One figure of a report's main results, for a README or a paper draft: the node layers as a
 * strip, fluctuation by depth, the first layer's link weights and the widest hidden node layer's
 * strengths. Each panel is a nested standalone plot, so it keeps its own title and description.
 */
export function plotSummary(report: Report): string {
  const panels: string[] = [];
  panels.push(plotGraphStrip(report.nodeLayers.map((n) => ({ after: n.after, size: n.size, fluctuation: n.fluctuation })), `${report.source.name}: node layers`));
  panels.push(plotByDepth([{ label: report.source.name, values: report.nodeLayers.map((n) => n.fluctuation) }], { title: "Layer fluctuation by depth", quantity: "fluctuation (std of s)", width: 420, height: 260 }));
  const first = report.layers.find((l) => l.linkWeights);
  if (first) panels.push(plotHistogram(first.linkWeights!.histogram, { title: `${first.name}: link weights`, quantity: "link weight", width: 420, height: 260 }));
  const hidden = report.nodeLayers.slice(1, -1).sort((a, b) => b.size - a.size)[0] ?? report.nodeLayers[0];
  if (hidden) panels.push(plotHistogram(hidden.strength.histogram, { title: `node layer ${hidden.index} (after ${hidden.after}): s`, quantity: "node strength s", width: 420, height: 260 }));
  // Strip across the top, then the plots two by two.
  const sizes = panels.map((p) => ({ w: Number(/width="([\d.]+)"/.exec(p)![1]), h: Number(/height="([\d.]+)"/.exec(p)![1]) }));
  let y = 0, body = "", width = 0;
  body += nested(panels[0], 0, 0);
  y = sizes[0].h;
  width = sizes[0].w;
  for (let i = 1; i < panels.length; i += 2) {
    body += nested(panels[i], 0, y);
    if (panels[i + 1]) body += nested(panels[i + 1], sizes[i].w, y);
    width = Math.max(width, sizes[i].w + (panels[i + 1] ? sizes[i + 1].w : 0));
    y += Math.max(sizes[i].h, panels[i + 1] ? sizes[i + 1].h : 0);
  }
  const title = `cntscope: ${report.source.name}`;
  return element(
    "svg",
    { xmlns: "http://www.w3.org/2000/svg", width, height: y, viewBox: `0 0 ${width} ${y}`, role: "img", "aria-label": title },
    element("title", {}, escapeXml(title)) + body,
  ) + "\n";
}

function nested(svg: string, x: number, y: number): string {
  return svg.trimEnd().replace(/^<svg /, `<svg x="${x}" y="${y}" `);
}
