/** Linear scales and "nice" ticks (1, 2, 5 times a power of ten), as plotting libraries choose them. */

export interface Scale {
  (value: number): number;
  domain: [number, number];
  ticks: number[];
  /** Tick labels, all with the decimals the tick step needs. */
  labels: string[];
}

/** Maps [lo, hi] onto [from, to]; a zero-width domain is widened so every value has a place. */
export function linearScale(lo: number, hi: number, from: number, to: number, tickCount = 5): Scale {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.5;
    lo -= pad;
    hi += pad;
  }
  const span = hi - lo;
  const f = ((value: number) => from + ((value - lo) / span) * (to - from)) as Scale;
  f.domain = [lo, hi];
  const { ticks, step } = niceTicks(lo, hi, tickCount);
  f.ticks = ticks;
  f.labels = ticks.map((t) => formatTick(t, step));
  return f;
}

/** About `count` ticks inside [lo, hi] at a step of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count: number): { ticks: number[]; step: number } {
  const rough = (hi - lo) / Math.max(1, count);
  if (!(rough > 0) || !Number.isFinite(rough)) return { ticks: [lo], step: 1 };
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) ticks.push(i * step);
  return { ticks, step };
}

/** A tick's label: the decimals its step needs, or exponent form for very large or small steps. */
export function formatTick(value: number, step: number): string {
  if (value === 0) return "0";
  if (step >= 1e5 || step < 1e-4) return value.toExponential(Math.max(0, Math.ceil(-Math.log10(step / Math.abs(value))) - 1)).replace("e+", "e");
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

/** A number for a label or a legend: four significant digits, no trailing zeros. */
export function formatValue(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(3).replace(/\.?0+e/, "e").replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}
