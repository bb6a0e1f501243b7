import { Worker } from "node:worker_threads";
import { abortError, asCntError, CntError, type CntErrorCode } from "../errors.js";
import { bytesToRead, measureTensors, type MeasureContext, type RunPass, type TensorSummary } from "../measure/measure.js";
import { runTensorPass } from "../measure/tensor-pass.js";
import { BandPool } from "./band-pool.js";
import type { ModelInfo, TensorInfo } from "../model/types.js";
import type { TensorPassRequest } from "../measure/tensor-pass.js";
import type { WorkerMessage, WorkerTask } from "./measure-worker.js";
import type { SiblingPolicy } from "./sibling.js";

/** Tensors at least this large are measured by all threads together, band by band. */
export const BAND_POOL_BYTES = 16 << 20;

type Plans = Map<string, Pick<TensorPassRequest, "matrix" | "conv">>;

/**
 * Measure a model's tensors on `workers` threads, so that the report is the same, bit for bit,
 * as from one thread:
 *  - large dense tensors stored plainly in the file go first, one at a time, each split into
 *    bands over all threads sharing one wasm memory (src/node/band-pool.ts);
 *  - the other tensors are shared out whole by size (largest first, to the least loaded worker),
 *    each worker with its own kernels and file handle; tensors whose bytes a reader decoded into
 *    memory stay in this thread.
 */
export async function measureInWorkers(path: string, workers: number, measure: MeasureContext, model: ModelInfo, plans: Plans, policy: SiblingPolicy = {}): Promise<Map<string, TensorSummary>> {
  const banded = model.tensors.filter((t) => t.byteLength >= BAND_POOL_BYTES && t.file === undefined && t.data === undefined && t.decode === undefined && plans.get(t.name)?.conv === undefined);
  const rest = model.tensors.filter((t) => !banded.includes(t));
  // Progress counts the bytes read, second histogram passes included, over both phases.
  const bandedBytes = banded.reduce((a, t) => a + bytesToRead(measure, t), 0);
  const restBytes = rest.reduce((a, t) => a + bytesToRead(measure, t), 0);
  const merged = new Map<string, TensorSummary>();
  if (banded.length > 0) {
    const pool = await BandPool.create({ threads: workers, blockBytes: measure.options.blockBytes, path });
    try {
      const onProgress = measure.onProgress && ((p: { tensor: string; bytesDone: number; bytesTotal: number }) => measure.onProgress!({ ...p, bytesTotal: bandedBytes + restBytes }));
      const runPass: RunPass = (pass, request) => (request.conv || request.fine ? runTensorPass(pass, request) : pool.runPass("file", request, pass.signal, pass.onBlock));
      for (const [name, summary] of await measureTensors({ ...measure, onProgress }, { ...model, tensors: banded }, plans, runPass)) merged.set(name, summary);
    } finally {
      await pool.close();
    }
  }
  if (rest.length > 0) {
    const onProgress = measure.onProgress && ((p: { tensor: string; bytesDone: number; bytesTotal: number }) => measure.onProgress!({ ...p, bytesDone: p.bytesDone + bandedBytes, bytesTotal: bandedBytes + restBytes }));
    for (const [name, summary] of await measureWhole(path, workers, { ...measure, onProgress }, { ...model, tensors: rest }, plans, policy)) merged.set(name, summary);
  }
  return merged;
}

/** Tensors measured whole, shared out over `workers` threads by size. */
async function measureWhole(path: string, workers: number, measure: MeasureContext, model: ModelInfo, plans: Plans, policy: SiblingPolicy): Promise<Map<string, TensorSummary>> {
  const local = model.tensors.filter((t) => t.data !== undefined);
  const shares: TensorInfo[][] = Array.from({ length: workers }, () => []);
  const load = new Array<number>(workers).fill(0);
  for (const t of model.tensors.filter((t) => t.data === undefined).sort((a, b) => b.byteLength - a.byteLength)) {
    const w = load.indexOf(Math.min(...load));
    shares[w].push(t);
    load[w] += t.byteLength;
  }
  const bytesTotal = model.tensors.reduce((a, t) => a + bytesToRead(measure, t), 0);
  let bytesDone = 0;
  const progress = (bytes: number) => {
    bytesDone += bytes;
    measure.onProgress?.({ tensor: "", bytesDone, bytesTotal });
  };
  const url = new URL(import.meta.url.endsWith(".ts") ? "./measure-worker.ts" : "./measure-worker.js", import.meta.url);
  const running = shares
    .filter((share) => share.length > 0)
    .map((share) => {
      // Tensors keep file order within a share (a stream-free source, so any order reads fine).
      share.sort((a, b) => a.offset - b.offset);
      const task: WorkerTask = { path, followLinks: policy.followLinks === true, model: { ...model, tensors: share }, plans: share.filter((t) => plans.has(t.name)).map((t) => [t.name, plans.get(t.name)!]), options: measure.options };
      return runWorker(url, task, progress, measure.signal);
    });
  let results: Map<string, TensorSummary>[];
  try {
    results = await Promise.all([...running.map((r) => r.result), local.length ? measureTensors(measure, { ...model, tensors: local }, plans) : Promise.resolve(new Map<string, TensorSummary>())]);
  } catch (error) {
    // One share failed or the call was aborted: the other threads stop too, before the call settles.
    await Promise.all(running.map((r) => r.stop()));
    throw error;
  }
  const merged = new Map<string, TensorSummary>();
  for (const part of results) for (const [name, summary] of part) merged.set(name, summary);
  return merged;
}

/**
 * One worker measuring one share. `result` settles exactly once: with the summaries, with the
 * worker's CntError, INTERNAL when the thread fails or exits without an answer, or AbortError
 * as soon as the signal aborts (the thread is terminated). `stop` terminates the thread.
 */
function runWorker(url: URL, task: WorkerTask, progress: (bytes: number) => void, signal?: AbortSignal): { result: Promise<Map<string, TensorSummary>>; stop: () => Promise<void> } {
  if (signal?.aborted) return { result: Promise.reject(abortError("Measuring on worker threads", signal)), stop: async () => undefined };
  let worker: Worker | undefined;
  const result = new Promise<Map<string, TensorSummary>>((resolve, reject) => {
    // From sources (the test suite runs TypeScript through tsx), the worker registers tsx first;
    // the built package runs the compiled .js directly.
    // Workers inherit the process's flags, but --input-type (from `node -e`) is refused for a file.
    const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
    const thread = (worker = url.pathname.endsWith(".ts")
      ? new Worker(`import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import(${JSON.stringify(url.href)}))`, { eval: true, workerData: task, execArgv })
      : new Worker(url, { workerData: task, execArgv }));
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", abort);
      finish();
    };
    const abort = () => {
      void thread.terminate();
      settle(() => reject(abortError("Measuring on worker threads", signal)));
    };
    signal?.addEventListener("abort", abort, { once: true });
    thread.on("message", (message: WorkerMessage) => {
      if (message.kind === "progress") progress(message.bytes);
      else if (message.kind === "done") settle(() => resolve(new Map(message.summaries)));
      else settle(() => reject(new CntError((message.error.code as CntErrorCode | undefined) ?? "INTERNAL", message.error.message)));
    });
    thread.on("error", (error) => settle(() => reject(asCntError(error))));
    thread.on("exit", (code) => settle(() => reject(new CntError("INTERNAL", `A measuring worker thread exited (code ${code}) before it answered.`))));
  });
  return { result, stop: async () => void (await worker?.terminate()) };
}
