/**
 * Colour scales. Groups ordered by a label run from green (low) to red (high), as the paper
 * draws accuracy bins; heatmaps use a light-to-dark blue ramp that stays readable in grey.
 */

function mix(a: [number, number, number], b: [number, number, number], t: number): string {
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * t));
  return `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

function ramp(stops: [number, number, number][], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  return mix(stops[i], stops[i + 1], x - i);
}

const LOW_TO_HIGH: [number, number, number][] = [
  [26, 152, 80],
  [166, 217, 106],
  [253, 174, 97],
  [215, 48, 39],
];

const LIGHT_TO_DARK: [number, number, number][] = [
  [247, 251, 255],
  [107, 174, 214],
  [8, 48, 107],
];

/** The colour of item `index` of `count` ordered from low to high label. */
export function groupColour(index: number, count: number): string {
  return ramp(LOW_TO_HIGH, count <= 1 ? 0 : index / (count - 1));
}

/** A heatmap cell's colour for t in [0, 1], and whether its text should be white. */
export function heatColour(t: number): { fill: string; darkText: boolean } {
  return { fill: ramp(LIGHT_TO_DARK, t), darkText: t < 0.55 };
}

/** The low-to-high ramp itself, for colouring by a value (fluctuation in the graph strip). */
export function valueColour(t: number): string {
  return ramp(LOW_TO_HIGH, t);
}
