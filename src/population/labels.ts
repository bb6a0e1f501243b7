/**
 * The labels table of a population (a CSV with a `file` column and any others: accuracy, seed,
 * epoch, arch...) and the grouping of networks by it: bins of a numeric column, or the distinct
 * values of a column.
 */
import { CntError } from "../errors.js";
import type { Report } from "../report/types.js";

export interface LabelsTable {
  columns: string[];
  /** One row per file, keyed by the `file` column as written. */
  rows: Map<string, Record<string, string>>;
}

/**
 * A CSV (RFC 4180: commas, double-quoted fields with "" inside, CRLF or LF) with a header row that
 * has a `file` column. BAD_OPTION naming `where` on a missing column, a ragged row or a file twice.
 */
export function parseLabels(text: string, where: string): LabelsTable {
  const records = csvRecords(text.replace(/^\uFEFF/, ""), where).filter((r) => !(r.length === 1 && r[0] === ""));
  if (records.length === 0) throw new CntError("BAD_OPTION", `Labels ${JSON.stringify(where)} are empty; the first row names the columns, one of them file.`, { file: where });
  const columns = records[0].map((c) => c.trim());
  const fileAt = columns.indexOf("file");
  if (fileAt < 0) throw new CntError("BAD_OPTION", `Labels ${JSON.stringify(where)} have no column named file (columns: ${columns.map((c) => JSON.stringify(c.slice(0, 40))).join(", ").slice(0, 200)}).`, { file: where });
  const rows = new Map<string, Record<string, string>>();
  records.slice(1).forEach((r, i) => {
    if (r.length !== columns.length) throw new CntError("BAD_OPTION", `Labels ${JSON.stringify(where)} line ${i + 2} has ${r.length} fields; the header has ${columns.length}.`, { file: where });
    const file = r[fileAt];
    if (rows.has(file)) throw new CntError("BAD_OPTION", `Labels ${JSON.stringify(where)} name file ${JSON.stringify(file.slice(0, 80))} twice (line ${i + 2}).`, { file: where });
    const row: Record<string, string> = {};
    columns.forEach((c, k) => k !== fileAt && (row[c] = r[k]));
    rows.set(file, row);
  });
  return { columns: columns.filter((c) => c !== "file"), rows };
}

function csvRecords(text: string, where: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [], field = "", i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (ch === '"') (quoted = false), i++;
      else (field += ch), i++;
      continue;
    }
    if (ch === '"' && field === "") (quoted = true), i++;
    else if (ch === ",") record.push(field), (field = ""), i++;
    else if (ch === "\n" || ch === "\r") {
      record.push(field);
      records.push(record);
      (record = []), (field = "");
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else (field += ch), i++;
  }
  if (quoted) throw new CntError("BAD_OPTION", `Labels ${JSON.stringify(where)} end inside a quoted field.`, { file: where });
  if (field !== "" || record.length > 0) record.push(field), records.push(record);
  return records;
}

/** A label as a number: a finite decimal, else null. */
export function numericLabel(text: string | undefined): number | null {
  if (text === undefined || text.trim() === "") return null;
  const x = Number(text.trim());
  return Number.isFinite(x) ? x : null;
}

/** `column:e0,e1,...` of --bin: a column and two or more ascending finite edges. */
export function parseBinSpec(spec: string): { column: string; edges: number[] } {
  const colon = spec.lastIndexOf(":");
  const column = spec.slice(0, colon).trim();
  const edges = spec.slice(colon + 1).split(",").map((e) => Number(e.trim()));
  if (colon <= 0 || edges.length < 2 || edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]))) {
    throw new CntError("BAD_OPTION", `Option bin must be column:edges with two or more ascending numbers, e.g. accuracy:0,.25,.7,.9,.975,1; got ${JSON.stringify(spec.slice(0, 80))}.`);
  }
  return { column, edges };
}

/** "0.70–0.90": both edges with the same decimals, at least 2, enough for either edge. */
export function rangeLabel(lo: number, hi: number): string {
  const decimals = (x: number) => {
    const s = String(x);
    const dot = s.indexOf(".");
    return s.includes("e") ? 6 : dot < 0 ? 0 : s.length - dot - 1;
  };
  const d = Math.min(12, Math.max(2, decimals(lo), decimals(hi)));
  return `${lo.toFixed(d)}\u2013${hi.toFixed(d)}`;
}

/** The bin of x: edges[i] <= x < edges[i+1], the last bin also x == the last edge; -1 outside. */
export function binIndex(x: number, edges: readonly number[]): number {
  const last = edges.length - 1;
  if (!(x >= edges[0] && x <= edges[last])) return -1;
  if (x === edges[last]) return last - 1;
  let i = 0;
  while (edges[i + 1] <= x) i++;
  return i;
}

/**
 * The label a network gets from its own accuracy on labelled input samples (report.data.accuracy,
 * with --inputs and --data-labels), so a population bins by it without a labels table:
 * `--bin data.accuracy:0,.5,.9,1`.
 */
export const DATA_ACCURACY = "data.accuracy";

/** `labels` plus data.accuracy when the report measured one. */
export function withDataAccuracy(labels: Record<string, string>, report: Pick<Report, "data">): Record<string, string> {
  const accuracy = report.data?.accuracy;
  return typeof accuracy === "number" ? { ...labels, [DATA_ACCURACY]: String(accuracy) } : labels;
}
