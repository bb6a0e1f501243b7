import type { Report } from "./types.js";

/**
 * The report as JSON text, as `cntscope analyze --json` prints it: per-node typed arrays become
 * plain arrays; NaN and Infinity (impossible in JSON) become null.
 * @example
 *   const text = toJSON(await analyze(bytes, { perNode: true }));
 */
export function toJSON(report: Report, indent = 2): string {
  return JSON.stringify(
    report,
    (_key, value) => {
      if (value instanceof Float64Array || value instanceof Float32Array) return Array.from(value);
      if (typeof value === "number" && !Number.isFinite(value)) return null;
      return value;
    },
    indent,
  );
}
