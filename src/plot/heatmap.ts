import { heatColour } from "./colours.js";
import { heading } from "./frame.js";
import { formatValue } from "./scale.js";
import { element, escapeXml, px, svgDocument, text } from "./svg.js";

export interface HeatmapPlotOptions {
  title: string;
  /** What the cells hold ("Jensen-Shannon divergence (bits)"). */
  quantity: string;
}

/**
 * A B x B matrix (divergences between networks or groups): one `class="cell"` rect per entry
 * with its value written in, rows and columns labelled by the given labels (for accuracy bins,
 * their ranges), and a colour bar from the smallest to the largest value.
 */
export function plotHeatmap(matrix: (number | null)[][], labels: string[], options: HeatmapPlotOptions): string {
  const n = matrix.length;
  const cell = Math.max(28, Math.min(64, Math.floor(420 / Math.max(1, n))));
  const labelWidth = Math.min(150, 12 + 6.2 * Math.max(0, ...labels.map((l) => l.length)));
  const left = labelWidth + 8, top = 34;
  const width = left + n * cell + 90, height = top + n * cell + labelWidth + 10;
  const values = matrix.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = values.length ? Math.min(...values) : 0, hi = values.length ? Math.max(...values) : 1;
  const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0);
  let cells = "";
  matrix.forEach((row, i) => {
    row.forEach((v, j) => {
      const x = left + j * cell, y = top + i * cell;
      const known = v !== null && Number.isFinite(v);
      const { fill, darkText } = known ? heatColour(t(v!)) : { fill: "#f0f0f0", darkText: true };
      const tip = `${labels[i]} vs ${labels[j]}: ${known ? formatValue(v) : "not defined"}`;
      cells += element("rect", { class: "cell", x, y, width: cell - 1, height: cell - 1, fill, "data-value": known ? String(v) : undefined }, element("title", {}, escapeXml(tip)));
      if (cell >= 34) cells += text(x + cell / 2, y + cell / 2 + 3.5, known ? formatValue(v) : "–", { "text-anchor": "middle", fill: darkText ? "#222" : "#ffffff", "font-size": 10 });
    });
  });
  let axisLabels = "";
  labels.forEach((label, i) => {
    const short = label.length > 22 ? `${label.slice(0, 21)}…` : label;
    axisLabels += text(left - 6, top + i * cell + cell / 2 + 3.5, short, { "text-anchor": "end", fill: "#222" });
    const cx = left + i * cell + cell / 2, cy = top + n * cell + 8;
    axisLabels += text(cx, cy, short, { "text-anchor": "end", fill: "#222", transform: `rotate(-60 ${px(cx)} ${px(cy)})` });
  });
  // Colour bar: ten steps from the smallest value (top label) to the largest.
  const barX = left + n * cell + 18, barH = Math.max(60, n * cell);
  let bar = "";
  for (let k = 0; k < 10; k++) bar += element("rect", { x: barX, y: top + (barH * (9 - k)) / 10, width: 14, height: barH / 10 + 0.5, fill: heatColour(k / 9).fill });
  bar += text(barX + 18, top + 8, formatValue(values.length ? hi : null), { fill: "#222" }) + text(barX + 18, top + barH, formatValue(values.length ? lo : null), { fill: "#222" });
  const description = `${options.quantity} between ${n} items (${labels.join("; ")}); rows and columns in that order; smallest ${formatValue(values.length ? lo : null)}, largest ${formatValue(values.length ? hi : null)}.`;
  const f = { width, height, left, right: width, top, bottom: height };
  return svgDocument(width, height, options.title, description, heading(f, options.title) + cells + axisLabels + bar);
}
