import type { Histogram } from "../measure/histogram.js";
import { axes, frame, heading, scales } from "./frame.js";
import { formatValue } from "./scale.js";
import { element, escapeXml, svgDocument, text } from "./svg.js";

export interface HistogramPlotOptions {
  title: string;
  /** What the values are, with their unit if any ("link weight", "node strength s"). */
  quantity: string;
  width?: number;
  height?: number;
}

/**
 * One bar per bin (`class="bar"`, zero-height bars included, so bars and bins correspond one to
 * one), each with its range and count as a tooltip.
 */
export function plotHistogram(histogram: Histogram, options: HistogramPlotOptions): string {
  const f = frame(options.width ?? 480, options.height ?? 280);
  const { edges, counts } = histogram;
  const total = counts.reduce((a, b) => a + b, 0);
  const rebinned = histogram.exact === false ? " Counts were rebinned from a fine histogram, so bins next to an edge may be off by a few values." : "";
  if (!edges) {
    const body = heading(f, options.title) + text(f.left, (f.top + f.bottom) / 2, "No finite values.", { fill: "#444" });
    return svgDocument(f.width, f.height, options.title, `Histogram of ${options.quantity}: no finite values.`, body);
  }
  const max = Math.max(1, ...counts);
  const { x, y } = scales(f, [edges[0], edges[edges.length - 1]], [0, max]);
  // Counts are whole: no tick between two integers.
  y.labels = y.labels.filter((_, i) => Number.isInteger(y.ticks[i]));
  y.ticks = y.ticks.filter(Number.isInteger);
  let bars = "";
  counts.forEach((n, i) => {
    const x0 = x(edges[i]), x1 = x(edges[i + 1]);
    const top = y(n);
    const last = i === counts.length - 1;
    const range = `[${formatValue(edges[i])}, ${formatValue(edges[i + 1])}${last ? "]" : ")"}`;
    bars += element("rect", { class: "bar", x: x0, y: top, width: Math.max(0, x1 - x0 - (x1 - x0 > 3 ? 0.5 : 0)), height: f.bottom - top, fill: "#4a7ab5", "data-count": String(n) }, element("title", {}, escapeXml(`${range}: ${n.toLocaleString("en-US")}`)));
  });
  const description = `Histogram of ${options.quantity}: ${counts.length} bins from ${formatValue(edges[0])} to ${formatValue(edges[edges.length - 1])}, ${total.toLocaleString("en-US")} values, the fullest bin holding ${max.toLocaleString("en-US")}.${rebinned}`;
  const body = heading(f, options.title) + axes(f, x, y, options.quantity, "count") + bars;
  return svgDocument(f.width, f.height, options.title, description, body);
}
