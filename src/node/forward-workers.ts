/**
 * The forward pass on several threads: the samples are cut into one contiguous share per thread
 * (whole batches), each thread runs its share and the partials merge (per node with Chan's
 * formula, histogram counts added), so the report equals one thread's up to f64 rounding of the
 * merged means and M2.
 */
import { abortError, CntError, type CntErrorCode } from "../errors.js";
import { mergeDataPartials, runDataPartial, type DataMetricsArgs, type DataPartial } from "../forward/data-metrics.js";
import { isSampleSource } from "../forward/inputs/arrays.js";
import type { AnalyzeFileOptions } from "./analyze-file.js";
import type { ForwardReply, ForwardWorkerData } from "./forward-worker.js";
import type { SiblingPolicy } from "./sibling-policy.js";
import { startThread } from "./start-thread.js";

/** Fewer samples than this per thread run in this thread (a thread costs its start-up and a second measuring of the weights). */
const MIN_SAMPLES_PER_THREAD = 256;

/** A RunData for analyzeWith: the samples over `threads` threads when they are arrays and many enough. */
export function runDataOnThreads(path: string, threads: number, options: Omit<AnalyzeFileOptions, "workers" | "followLinks">, policy: SiblingPolicy): (args: DataMetricsArgs) => Promise<DataPartial> {
  return async (args) => {
    const count = args.samples.count;
    const shares = Math.min(threads, Math.floor(count / MIN_SAMPLES_PER_THREAD));
    // A SampleSource (a stream, an open file) cannot be handed to another thread; a file's path can (src/node/sample-files.ts).
    if (shares < 2 || isSampleSource(options.inputs) || (options.labels !== undefined && typeof (options.labels as { read?: unknown }).read === "function")) return runDataPartial(args);
    const per = Math.ceil(count / shares / args.batch) * args.batch;
    const { signal, onProgress: _, ...rest } = options;
    const runs: Promise<DataPartial>[] = [];
    for (let first = 0; first < count; first += per) {
      const data: ForwardWorkerData = { path, policy, options: rest, first, end: Math.min(count, first + per) };
      runs.push(runThread(data, signal));
    }
    const partials = await Promise.all(runs);
    return partials.reduce(mergeDataPartials);
  };
}

function runThread(data: ForwardWorkerData, signal: AbortSignal | undefined): Promise<DataPartial> {
  return new Promise((resolve, reject) => {
    const thread = startThread(new URL(`./forward-worker.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url), data);
    const abort = () => {
      void thread.terminate();
      reject(abortError("Running the forward pass on worker threads", signal));
    };
    signal?.addEventListener("abort", abort, { once: true });
    thread.once("message", (reply: ForwardReply) => {
      signal?.removeEventListener("abort", abort);
      void thread.terminate();
      if (reply.kind === "done") resolve(reply.partial);
      else reject(new CntError(reply.error.code as CntErrorCode, reply.error.message));
    });
    thread.once("error", (error) => {
      signal?.removeEventListener("abort", abort);
      reject(error);
    });
  });
}
