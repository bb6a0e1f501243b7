// A thread of the population pool (src/node/population-workers.ts): analyzes the files it is
// handed, one message each, into population partials, for as long as the pool lives. The thread's
// start-up (imports) and the kernels' compile are paid once, when it starts, never per file.
import { parentPort, workerData } from "node:worker_threads";
import { init } from "../kernels/load.js";
import { asCntError } from "../errors.js";
import { withDataAccuracy } from "../population/labels.js";
import { toPartial } from "../population/partial.js";
import { analyzeFile, type AnalyzeFileOptions } from "./analyze-file.js";
import type { FileLabels } from "./sample-files.js";

/** What the pool gives a thread when it starts: the analysis options of every file. */
export interface PopulationWorkerData {
  options: Omit<AnalyzeFileOptions, "signal" | "onProgress" | "workers" | "labels"> & { dataLabels?: FileLabels };
}

/** One file to analyze: `path` to open, `file` and `labels` for its partial. */
export interface PopulationJob {
  index: number;
  path: string;
  file: string;
  labels: Record<string, string>;
}

/**
 * A thread's answer. The partial travels as its JSON text, the form a shard file stores, so a
 * population from threads and one merged from shards start from the same values (a structured
 * clone would keep a -0 or a NaN that JSON turns into 0 or null).
 */
export type PopulationReply =
  | { kind: "done"; index: number; partial: string }
  | { kind: "failed"; index: number; error: { code: string; message: string } };

const { options: { dataLabels, ...options } } = workerData as PopulationWorkerData;
const port = parentPort!;

async function run(job: PopulationJob): Promise<PopulationReply> {
  try {
    const report = await analyzeFile(job.path, { ...options, ...(dataLabels === undefined ? {} : { labels: dataLabels }), fine: true, perNode: false });
    return { kind: "done", index: job.index, partial: JSON.stringify(toPartial(report, job.file, withDataAccuracy(job.labels, report))) };
  } catch (error) {
    const e = asCntError(error, { file: job.path });
    return { kind: "failed", index: job.index, error: { code: e.code, message: e.message } };
  }
}

port.on("message", (job: PopulationJob) => {
  void run(job).then((reply) => port.postMessage(reply));
});
// Compiled while the first file is opened and read; every analysis of this thread reuses it.
void init();
