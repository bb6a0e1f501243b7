import type { Report } from "./types.js";
import { jsonReplacer } from "./json-text.js";

/**
 * The report as JSON text, as `cntscope analyze --json` prints it: per-node typed arrays become
 * plain arrays; NaN and Infinity (impossible in JSON) become null. One string, so for reports of
 * hundreds of MB (per-node values of a large model) use jsonPieces.
 * @example
 *   const text = toJSON(await analyze(bytes, { perNode: true }));
 */
export function toJSON(report: Report, indent = 2): string {
  return JSON.stringify(report, jsonReplacer, indent);
}
