// Many networks in one process: a pool of worker threads, each analyzing file after file into
// population partials (src/node/population-worker.ts), with results put back in the files' order.
import { Worker } from "node:worker_threads";
import { abortError, asCntError, CntError, formatCount, type CntErrorCode } from "../errors.js";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import type { LabelsTable } from "../population/labels.js";
import { readPartial, type NetworkPartial } from "../population/partial.js";
import { shardItems, type FailedFile, type ShardSpec } from "../population/shards.js";
import type { AnalyzeFileOptions } from "./analyze-file.js";
import type { FileLabels } from "./sample-files.js";
import { populationPaths } from "./population-files.js";
import type { PopulationJob, PopulationReply, PopulationWorkerData } from "./population-worker.js";

/** A network of the population: the file to open, its name in the population and its labels. */
export interface PopulationInput {
  path: string;
  /** The name the partial carries (the labels table's key, the sort key); default `path`. */
  file?: string;
  labels?: Record<string, string>;
}

export interface PartialsOptions extends Omit<AnalyzeFileOptions, "workers" | "onProgress" | "fine" | "perNode" | "labels"> {
  /** The class of each of `inputs`' samples (analyzeFile's labels): each network's accuracy becomes its label data.accuracy. A path or an array (threads get a copy). */
  dataLabels?: FileLabels;
  /** Threads (1 to 64); each keeps its compiled kernels for all its files. Default 1. */
  workers?: number;
  /** Stop at the first file that fails (in the inputs' order), rejecting with its error; default false (the file is listed in `failed`). */
  strict?: boolean;
  /** Called as each file is done (in the order they finish). */
  onFile?: (progress: { done: number; total: number; file: string; failed: boolean }) => void;
}

export interface PartialsResult {
  /** One per analyzed file, in the order of the inputs, whatever thread did which. */
  partials: NetworkPartial[];
  /** The files that failed, in the order of the inputs. */
  failed: FailedFile[];
}

/** Files each thread holds at once: while one waits for its reads, the next one runs. */
const IN_FLIGHT = 2;

/**
 * Analyze many files into population partials on `workers` threads. The threads take files from
 * one queue; the partials come back in the inputs' order and are the same values whatever the
 * number of threads (each analysis is deterministic, and travels as the JSON a shard stores).
 * @example
 *   import { partialsOfFiles } from "cntscope/node";
 *   const { partials, failed } = await partialsOfFiles(paths.map((path) => ({ path })), { workers: 2 });
 */
export async function partialsOfFiles(inputs: readonly PopulationInput[], options: PartialsOptions = {}): Promise<PartialsResult> {
  const { workers = 1, strict = false, onFile, signal, ...analysis } = options;
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64) throw new CntError("BAD_OPTION", `Option workers must be an integer from 1 to 64; got ${JSON.stringify(workers)}.`);
  if (signal?.aborted) throw abortError("Analyzing a population", signal);
  const jobs: PopulationJob[] = inputs.map((input, index) => ({ index, path: input.path, file: input.file ?? input.path, labels: { ...(input.labels ?? {}) } }));
  const outcomes = new Array<NetworkPartial | FailedFile | undefined>(jobs.length);
  if (jobs.length === 0) return { partials: [], failed: [] };

  const url = new URL(import.meta.url.endsWith(".ts") ? "./population-worker.ts" : "./population-worker.js", import.meta.url);
  const threads: Worker[] = [];
  let next = 0;
  let done = 0;
  let firstFailed = jobs.length;
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", abort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const abort = () => finish(abortError("Analyzing a population", signal));
      signal?.addEventListener("abort", abort, { once: true });
      const give = (thread: Worker) => {
        if (next < jobs.length) thread.postMessage(jobs[next++]);
      };
      for (let t = 0; t < Math.min(workers, jobs.length); t++) {
        const thread = startThread(url, { options: analysis });
        threads.push(thread);
        thread.on("message", (reply: PopulationReply) => {
          if (settled) return;
          const job = jobs[reply.index];
          let failed = false;
          if (reply.kind === "done") {
            try {
              outcomes[reply.index] = readPartial(reply.partial, job.file);
            } catch (error) {
              return finish(asCntError(error, { file: job.path }));
            }
          } else {
            failed = true;
            outcomes[reply.index] = { file: job.file, code: reply.error.code, message: reply.error.message };
            if (strict) firstFailed = Math.min(firstFailed, reply.index);
          }
          done++;
          onFile?.({ done, total: jobs.length, file: job.file, failed });
          if (firstFailed < jobs.length) {
            // Strict: the first failing file in the inputs' order, whatever thread finished first,
            // once the files before it (all handed out already) are done; no new file starts.
            for (let i = 0; i < firstFailed; i++) if (outcomes[i] === undefined) return;
            const f = outcomes[firstFailed] as FailedFile;
            return finish(new CntError(f.code as CntErrorCode, f.message, { file: jobs[firstFailed].path }));
          }
          if (done === jobs.length) return finish();
          give(thread);
        });
        thread.on("error", (error) => finish(asCntError(error)));
        thread.on("exit", (code) => finish(new CntError("INTERNAL", `A population worker thread exited (code ${code}) with ${formatCount(jobs.length - done)} files left; please report it.`)));
        for (let k = 0; k < IN_FLIGHT; k++) give(thread);
      }
    });
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
  const partials: NetworkPartial[] = [];
  const failed: FailedFile[] = [];
  for (const outcome of outcomes) {
    if (outcome === undefined) continue;
    if ("code" in outcome && !("report" in outcome)) failed.push(outcome);
    else partials.push(outcome as NetworkPartial);
  }
  return { partials, failed };
}

/**
 * A pool thread. From sources (the test suite runs TypeScript through tsx) it registers tsx
 * first; the built package runs the compiled .js. Workers inherit the process's flags, but
 * --input-type (from `node -e`) is refused for a file.
 */
function startThread(url: URL, data: PopulationWorkerData): Worker {
  const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
  return url.pathname.endsWith(".ts")
    ? new Worker(`import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import(${JSON.stringify(url.href)}))`, { eval: true, workerData: data, execArgv })
    : new Worker(url, { workerData: data, execArgv });
}

/** Threads when none are asked for: every core but one, at least 1, at most 4 (as analyze). */
export function defaultPopulationWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, 4));
}

export interface PopulationRunOptions extends PartialsOptions {
  labels?: LabelsTable;
  /** Only shard i of n of the sorted list of files (--shard i/n). */
  shard?: ShardSpec;
}

/**
 * The analyses of a population run (the CLI's population command): its files found as
 * populationPaths finds them, sorted by name, cut to one shard when asked, labelled by their row
 * of the labels, analyzed on `workers` threads. `files` is the whole sorted list (every shard's).
 */
export async function populationRun(inputs: string[], options: PopulationRunOptions = {}): Promise<PartialsResult & { files: string[] }> {
  const { labels, shard, ...rest } = options;
  const found = (await populationPaths(inputs, labels)).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (found.length === 0) throw new CntError("BAD_OPTION", `No model files in ${inputs.map((p) => JSON.stringify(p.slice(0, 80))).join(", ")}${labels ? " named in the labels" : ""}.`);
  const mine = shard ? shardItems(found, shard) : found;
  const run = await partialsOfFiles(
    mine.map(({ path, file }) => ({ path, file, labels: labels?.rows.get(file) ?? labels?.rows.get(basename(path)) ?? {} })),
    { ...rest, workers: rest.workers ?? defaultPopulationWorkers() },
  );
  return { ...run, files: found.map((f) => f.file) };
}
