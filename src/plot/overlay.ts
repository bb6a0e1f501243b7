import { axes, frame, heading, legend, scales } from "./frame.js";
import { groupColour } from "./colours.js";
import { formatValue } from "./scale.js";
import { element, escapeXml, px, svgDocument } from "./svg.js";

export interface OverlaySeries {
  /** The network or group ("seed 3", "accuracy 0.70–0.90"). */
  label: string;
  edges: number[];
  counts: number[];
}

export interface OverlayPlotOptions {
  title: string;
  quantity: string;
  width?: number;
  height?: number;
}

/**
 * Several distributions of one metric drawn as step outlines of their densities (count over
 * total and bin width), so groups of different sizes compare; colours run from green for the
 * first series to red for the last: pass them ordered from low to high label.
 */
export function plotOverlay(series: OverlaySeries[], options: OverlayPlotOptions): string {
  const f = frame(options.width ?? 560, options.height ?? 300);
  const drawn = series.filter((s) => s.edges.length === s.counts.length + 1 && s.counts.some((n) => n > 0));
  const densities = drawn.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0);
    return s.counts.map((n, i) => n / total / (s.edges[i + 1] - s.edges[i]));
  });
  const lo = Math.min(...drawn.map((s) => s.edges[0]));
  const hi = Math.max(...drawn.map((s) => s.edges[s.edges.length - 1]));
  const top = Math.max(0, ...densities.flat().filter(Number.isFinite));
  const { x, y } = scales(f, drawn.length ? [lo, hi] : [0, 1], [0, top || 1]);
  let paths = "";
  drawn.forEach((s, k) => {
    const d = densities[k];
    let path = `M${px(x(s.edges[0]))} ${px(y(0))}`;
    d.forEach((v, i) => (path += `V${px(y(v))}H${px(x(s.edges[i + 1]))}`));
    path += `V${px(y(0))}`;
    const colour = groupColour(series.indexOf(s), series.length);
    paths += element("path", { class: "series", d: path, fill: "none", stroke: colour, "stroke-width": 1.6, "data-label": s.label }, element("title", {}, escapeXml(s.label)));
  });
  const keys = series.map((s, i) => ({ label: s.label, colour: groupColour(i, series.length) }));
  const description = `Densities of ${options.quantity} for ${series.length} series (${series.map((s) => s.label).join("; ")}), from ${formatValue(drawn.length ? lo : null)} to ${formatValue(drawn.length ? hi : null)}; colours run from green (first) to red (last).`;
  const body = heading(f, options.title) + axes(f, x, y, options.quantity, "density (share per unit)") + paths + legend(f, keys);
  return svgDocument(f.width, f.height, options.title, description, body);
}
