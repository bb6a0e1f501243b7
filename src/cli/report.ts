import { writeFile, rename, rm } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { CntError } from "../errors.js";
import { fileSystemError } from "../node/fs-errors.js";
import { analyzeFile } from "../node/index.js";
import { reportFiles } from "../node/report-files.js";
import { plotSummary } from "../plot/summary-figure.js";
import { analyzeOptions } from "./options.js";
import type { ProgressLine } from "./progress.js";
import { writeLine } from "./output.js";

/**
 * `cntscope report A [B ...] -o report.html` (or `-o figure.svg`: one model's summary figure): the page is written to a temporary file beside
 * the target and renamed into place once whole, so an interrupted run leaves no half page.
 */
export async function runReport(paths: string[], flags: ReadonlyMap<string, string | true>, signal: AbortSignal, progress?: ProgressLine): Promise<number> {
  const out = flags.get("out");
  if (typeof out !== "string") throw new CntError("BAD_OPTION", "cntscope report needs the output file: -o report.html.");
  if (paths.length === 0) throw new CntError("BAD_OPTION", "cntscope report needs model files or folders: cntscope report <model|dir> ... -o report.html.");
  const command = ["cntscope", "report", ...process.argv.slice(3)].join(" ");
  const options = { ...analyzeOptions(flags), followLinks: flags.has("follow-links"), signal, onProgress: progress?.update };
  let html: string;
  if (/\.svg$/i.test(out)) {
    // An .svg output is the one-figure summary of one model (the README's picture).
    if (paths.length !== 1) throw new CntError("BAD_OPTION", `An .svg report is the summary figure of one model; got ${paths.length} paths. Write an .html report to compare models.`);
    html = plotSummary(await analyzeFile(paths[0], options));
  } else html = await reportFiles(paths, { ...options, inOut: flags.has("in-out"), command });
  progress?.end();
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  try {
    await writeFile(temp, html);
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    throw fileSystemError(error, `Cannot write '${out}'`, out);
  }
  await writeLine(process.stderr, `wrote ${out} (${Math.round(html.length / 1024)} KB)`);
  return 0;
}
