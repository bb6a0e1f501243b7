import { stat } from "node:fs/promises";
import { compare } from "../compare/compare.js";
import { CntError } from "../errors.js";
import { reportHtml } from "../html/report-html.js";
import type { Report } from "../report/types.js";
import { analyzeFile, type AnalyzeFileOptions } from "./index.js";
import { modelFilesIn } from "./model-files.js";

export interface ReportFilesOptions extends Omit<AnalyzeFileOptions, "perNode" | "fine" | "onProgress"> {
  /** Also plot every node layer's s_in and s_out. */
  inOut?: boolean;
  /** The command line shown in the page. */
  command?: string;
  title?: string;
  /** Called before each file is analyzed. */
  onFile?: (path: string, index: number, count: number) => void;
  onProgress?: AnalyzeFileOptions["onProgress"];
}

/**
 * The self-contained HTML report of model files (folders stand for the model files in them):
 * each file analyzed once; with two or more, their link weights compared on shared edges rebinned
 * from fine histograms and their strengths on shared edges over the per-node values.
 * @example
 *   import { writeFile } from "node:fs/promises";
 *   import { reportFiles } from "cntscope/node";
 *   await writeFile("report.html", await reportFiles(["models/digits-mlp.safetensors"]));
 */
export async function reportFiles(paths: string[], options: ReportFilesOptions = {}): Promise<string> {
  const { inOut, command, title, onFile, ...analyzeOptions } = options;
  const files = await expandFolders(paths);
  const several = files.length > 1;
  const reports: Report[] = [];
  for (const [i, path] of files.entries()) {
    onFile?.(path, i, files.length);
    reports.push(await analyzeFile(path, { ...analyzeOptions, fine: several, perNode: several }));
  }
  const comparisons = several ? [compare(reports, { metric: "linkWeights" }), compare(reports, { metric: "strength" })] : [];
  // The page shows distributions, not every node's values.
  for (const r of reports) for (const n of r.nodeLayers) delete n.perNode;
  return reportHtml(reports, { comparisons, inOut, command, title });
}

async function expandFolders(paths: string[]): Promise<string[]> {
  if (!Array.isArray(paths) || paths.length === 0) throw new CntError("BAD_OPTION", "A report needs at least one model file or folder.");
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      const found = await modelFilesIn(path);
      if (found.length === 0) throw new CntError("NOT_FOUND", `The folder '${path}' holds no model file cntscope reads.`, { file: path });
      files.push(...found);
    } else files.push(path);
  }
  return files;
}
