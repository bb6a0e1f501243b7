import { linearScale, type Scale } from "./scale.js";
import { element, px, text } from "./svg.js";

/** The plotting area inside a figure, with room for the title, the axes and their labels. */
export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function frame(width: number, height: number, extraRight = 0): Frame {
  return { width, height, left: 62, right: width - 14 - extraRight, top: 30, bottom: height - 46 };
}

/** The title above the plotting area. */
export function heading(f: Frame, title: string): string {
  return text(f.left, 18, title, { "font-size": 13, "font-weight": "600", fill: "#222" });
}

/** The x and y scales of a frame over the given data ranges. */
export function scales(f: Frame, x: [number, number], y: [number, number]): { x: Scale; y: Scale } {
  return { x: linearScale(x[0], x[1], f.left, f.right, 6), y: linearScale(y[0], y[1], f.bottom, f.top, 5) };
}

/** Axes with ticks, tick labels and the axis titles (units in the titles). */
export function axes(f: Frame, x: Scale, y: Scale, xTitle: string, yTitle: string): string {
  const line = (x1: number, y1: number, x2: number, y2: number, stroke = "#444") => element("line", { x1, y1, x2, y2, stroke, "stroke-width": 1 });
  let out = "";
  y.ticks.forEach((t, i) => {
    const at = y(t);
    out += line(f.left, at, f.right, at, "#e6e6e6");
    out += line(f.left - 4, at, f.left, at);
    out += text(f.left - 6, at + 3.5, y.labels[i], { "text-anchor": "end", fill: "#444" });
  });
  x.ticks.forEach((t, i) => {
    const at = x(t);
    out += line(at, f.bottom, at, f.bottom + 4);
    out += text(at, f.bottom + 16, x.labels[i], { "text-anchor": "middle", fill: "#444" });
  });
  out += line(f.left, f.bottom, f.right, f.bottom) + line(f.left, f.top, f.left, f.bottom);
  out += text((f.left + f.right) / 2, f.height - 10, xTitle, { "text-anchor": "middle", fill: "#222" });
  const cy = (f.top + f.bottom) / 2;
  out += text(14, cy, yTitle, { "text-anchor": "middle", fill: "#222", transform: `rotate(-90 14 ${px(cy)})` });
  return out;
}

/** A legend box at the top right of the plotting area: one swatch and label per entry. */
export function legend(f: Frame, entries: { label: string; colour: string }[], x = f.right - 150): string {
  if (entries.length === 0) return "";
  const rowHeight = 14;
  let out = element("rect", { x: x - 6, y: f.top + 2, width: 156, height: entries.length * rowHeight + 8, fill: "#ffffff", "fill-opacity": 0.85, stroke: "#ccc" });
  entries.forEach((e, i) => {
    const y = f.top + 8 + i * rowHeight;
    out += element("rect", { x, y, width: 12, height: 9, fill: e.colour });
    out += text(x + 17, y + 8.5, e.label.length > 24 ? `${e.label.slice(0, 23)}…` : e.label, { fill: "#222" });
  });
  return out;
}
