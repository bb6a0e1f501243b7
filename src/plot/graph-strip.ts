import { valueColour } from "./colours.js";
import { formatValue } from "./scale.js";
import { element, escapeXml, svgDocument, text } from "./svg.js";

export interface StripLayer {
  /** The layer the node layer follows ("input" for the first). */
  after: string;
  size: number;
  fluctuation: number | null;
}

/**
 * The node layers from input to output as boxes whose height grows with the log of their size,
 * coloured by fluctuation from green (lowest in this network) to red (highest).
 */
export function plotGraphStrip(layers: StripLayer[], title = "Node layers by depth"): string {
  const box = 46, gap = 10, left = 12, top = 30, maxH = 90;
  const width = left * 2 + layers.length * (box + gap), height = top + maxH + 52;
  const logMax = Math.log10(Math.max(2, ...layers.map((l) => l.size + 1)));
  const fl = layers.map((l) => l.fluctuation).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = fl.length ? Math.min(...fl) : 0, hi = fl.length ? Math.max(...fl) : 1;
  let body = text(left, 18, title, { "font-size": 13, "font-weight": "600", fill: "#222" });
  layers.forEach((l, i) => {
    const h = Math.max(6, (maxH * Math.log10(l.size + 1)) / logMax);
    const x = left + i * (box + gap), y = top + (maxH - h) / 2;
    const known = l.fluctuation !== null && Number.isFinite(l.fluctuation);
    const fill = known ? valueColour(hi > lo ? (l.fluctuation! - lo) / (hi - lo) : 0) : "#d9d9d9";
    const tip = `node layer ${i} after ${l.after}: ${l.size.toLocaleString("en-US")} nodes, fluctuation ${formatValue(l.fluctuation)}`;
    body += element("rect", { class: "node-layer", x, y, width: box, height: h, rx: 3, fill, stroke: "#555", "data-size": String(l.size) }, element("title", {}, escapeXml(tip)));
    if (i > 0) body += element("line", { x1: x - gap, y1: top + maxH / 2, x2: x, y2: top + maxH / 2, stroke: "#888" });
    body += text(x + box / 2, top + maxH + 14, l.size.toLocaleString("en-US"), { "text-anchor": "middle", fill: "#222", "font-size": 10 });
    const name = l.after.length > 9 ? `…${l.after.slice(-8)}` : l.after;
    body += text(x + box / 2, top + maxH + 28, name, { "text-anchor": "middle", fill: "#555", "font-size": 9 });
  });
  const key = `box height: log of the node count; colour: fluctuation from ${formatValue(fl.length ? lo : null)} (green) to ${formatValue(fl.length ? hi : null)} (red)`;
  body += text(left, height - 6, key, { fill: "#555", "font-size": 9.5 });
  const description = `${layers.length} node layers: ${layers.map((l, i) => `${i} (${l.size} nodes, fluctuation ${formatValue(l.fluctuation)})`).join(", ")}.`;
  return svgDocument(Math.max(width, left * 2 + key.length * 5.4), height, title, description, body);
}
