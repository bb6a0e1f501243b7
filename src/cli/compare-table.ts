import type { CompareResult, PairComparison } from "../compare/compare.js";
import { csvCell } from "../report/csv.js";

const DIVERGENCES = [
  ["kl_ab", "klAB"],
  ["kl_ba", "klBA"],
  ["jeffreys", "jeffreys"],
  ["js_bits", "jensenShannon"],
  ["wasserstein1", "wasserstein"],
] as const;

/** The readable comparison: one row per layer and pair of models. */
export function formatCompare(result: CompareResult): string {
  const lines: string[] = [];
  lines.push(`Compare ${result.metric} of ${result.models.length} models:`);
  result.models.forEach((name, i) => lines.push(`  [${i + 1}] ${name}`));
  lines.push("");
  const nodes = result.metric !== "linkWeights";
  const reference = result.entries.some((e) => e.pairs.some((p) => p.jeffreysReference !== undefined));
  const head = [nodes ? "after layer" : "layer", "matched", "pair", "KL(a||b)", "KL(b||a)", "Jeffreys", "JS bits", "W1", "d mean", "d std", ...(nodes ? ["d fluct", "d cv"] : []), ...(reference ? ["J-ref"] : [])];
  const rows: string[][] = [];
  for (const e of result.entries) {
    for (const p of e.pairs) {
      const d = p.divergences;
      rows.push([e.name, e.matchedBy, `${p.a + 1}-${p.b + 1}`, ...(d ? DIVERGENCES.map(([, k]) => num(d[k])) : DIVERGENCES.map(() => e.binning === "unshared" ? "edges?" : "-")), num(p.meanDiff), num(p.stdDiff), ...(nodes ? [num(p.fluctuationDiff), num(p.cvDiff)] : []), ...(reference ? [num(p.jeffreysReference)] : [])]);
    }
  }
  lines.push(table(head, rows));
  lines.push("");
  lines.push(`KL and Jeffreys in nats, with ${result.epsilon} added to every bin's probability, then renormalised; JS (Jensen-Shannon) in bits, 0 to 1; W1: 1-Wasserstein on the histograms, in the metric's units; d: b minus a.`);
  if (result.unmatched.length > 0) lines.push(`Not matched: ${result.unmatched.map((u) => `[${u.model + 1}] ${u.name}`).join(", ")}.`);
  lines.push(...result.notes);
  return lines.join("\n");
}

/** CSV: one row per layer, pair of models and divergence. */
export function compareCsv(result: CompareResult): string {
  const lines = ["metric,kind,layer,matched_by,binning,model_a,model_b,divergence,value"];
  for (const e of result.entries) {
    for (const p of e.pairs) {
      for (const [label, key] of DIVERGENCES) {
        lines.push([result.metric, e.kind, e.name, e.matchedBy, e.binning, result.models[p.a], result.models[p.b], label, value(p, key)].map(csvCell).join(","));
      }
      if (p.jeffreysReference !== undefined) lines.push([result.metric, e.kind, e.name, e.matchedBy, e.binning, result.models[p.a], result.models[p.b], "jeffreys_reference", p.jeffreysReference === null ? "" : String(p.jeffreysReference)].map(csvCell).join(","));
    }
  }
  return lines.join("\n");
}

function value(p: PairComparison, key: (typeof DIVERGENCES)[number][1]): string {
  return p.divergences ? String(p.divergences[key]) : "";
}

function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return "-";
  if (v === 0) return "0";
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toPrecision(4) : v.toExponential(3);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}
