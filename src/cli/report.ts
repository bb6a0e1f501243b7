import { writeFile, rename, rm } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { CntError } from "../errors.js";
import { fileSystemError } from "../node/fs-errors.js";
import { reportFiles } from "../node/report-files.js";
import { analyzeOptions } from "./options.js";
import type { ProgressLine } from "./progress.js";
import { writeLine } from "./output.js";

/**
 * `cntscope report A [B ...] -o report.html`: the page is written to a temporary file beside
 * the target and renamed into place once whole, so an interrupted run leaves no half page.
 */
export async function runReport(paths: string[], flags: ReadonlyMap<string, string | true>, signal: AbortSignal, progress?: ProgressLine): Promise<number> {
  const out = flags.get("out");
  if (typeof out !== "string") throw new CntError("BAD_OPTION", "cntscope report needs the output file: -o report.html.");
  if (paths.length === 0) throw new CntError("BAD_OPTION", "cntscope report needs model files or folders: cntscope report <model|dir> ... -o report.html.");
  const command = ["cntscope", "report", ...process.argv.slice(3)].join(" ");
  const html = await reportFiles(paths, { ...analyzeOptions(flags), inOut: flags.has("in-out"), command, followLinks: flags.has("follow-links"), signal, onProgress: progress?.update });
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
