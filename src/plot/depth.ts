import { axes, frame, heading, scales } from "./frame.js";
import { groupColour } from "./colours.js";
import { formatValue } from "./scale.js";
import { element, escapeXml, px, svgDocument, text } from "./svg.js";

export interface DepthSeries {
  label: string;
  /** The series' colour (default: green to red over the series in order). */
  colour?: string;
  /** One value per node layer, in depth order; null where the metric is undefined. */
  values: (number | null)[];
}

export interface DepthPlotOptions {
  title: string;
  /** The metric and its unit ("fluctuation (std of s)"). */
  quantity: string;
  /** Node layer names under the x axis (the layer each follows). */
  layerNames?: string[];
  width?: number;
  height?: number;
}

/** A metric by depth (node layer index), one line with markers per network or group, green to red in the given order. */
export function plotByDepth(series: DepthSeries[], options: DepthPlotOptions): string {
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const f = frame(options.width ?? Math.max(420, 40 * n + 90), options.height ?? 280);
  const finite = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const { x, y } = scales(f, [-0.4, Math.max(1, n - 1) + 0.4], [Math.min(0, ...finite), finite.length ? Math.max(...finite) : 1]);
  // Depth is an index: integer ticks only, labelled by position.
  x.ticks = Array.from({ length: n }, (_, i) => i).filter((i) => n <= 16 || i % Math.ceil(n / 16) === 0);
  x.labels = x.ticks.map(String);
  let marks = "";
  series.forEach((s, k) => {
    const colour = s.colour ?? groupColour(k, series.length);
    let path = "";
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      path += `${path && s.values[i - 1] !== null ? "L" : "M"}${px(x(i))} ${px(y(v))}`;
      const name = options.layerNames?.[i];
      marks += element("circle", { class: "point", cx: x(i), cy: y(v), r: 3, fill: colour, "data-value": String(v) }, element("title", {}, escapeXml(`${s.label}, node layer ${i}${name ? ` (after ${name})` : ""}: ${formatValue(v)}`)));
    });
    if (path) marks = element("path", { d: path, fill: "none", stroke: colour, "stroke-width": 1.4 }) + marks;
  });
  const legendRows = series.length > 1 && series.length <= 12 ? series.map((s, k) => text(f.right - 140, f.top + 10 + k * 13, s.label, { fill: s.colour ?? groupColour(k, series.length) })).join("") : "";
  const description = `${options.quantity} by node layer (0 is the input), ${series.map((s) => `${s.label}: ${s.values.map(formatValue).join(", ")}`).join("; ")}.`;
  const body = heading(f, options.title) + axes(f, x, y, "node layer (depth)", options.quantity) + marks + legendRows;
  return svgDocument(f.width, f.height, options.title, description, body);
}
