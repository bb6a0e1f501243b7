import { Worker } from "node:worker_threads";
import { abortError, asCntError, CntError, type CntErrorCode } from "../errors.js";
import { bytesToRead, heldBetweenPasses, heldBytes, measureTensors, type MeasureContext, type RunPass, type TensorSummary } from "../measure/measure.js";
import { runTensorPass } from "../measure/tensor-pass.js";
import { EMPTY_MOMENTS } from "../measure/moments.js";
import { BandPool, type PoolInput } from "./band-pool.js";
import { DEFAULT_BLOCK_BYTES } from "../options.js";
import { kernelQuant } from "../source/tensor-bytes.js";
import type { ModelInfo, TensorInfo } from "../model/types.js";
import type { TensorPassRequest } from "../measure/tensor-pass.js";
import type { WorkerMessage, WorkerTask } from "./measure-worker.js";
import type { SiblingPolicy } from "./sibling-policy.js";

/** Tensors at least this large are measured by all threads together, band by band. */
export const BAND_POOL_BYTES = 16 << 20;
/**
 * The other tensors go to worker threads of their own only when they add up to this many bytes
 * or more: a thread costs 0.1-1 s of CPU to start (loading the modules, compiling, warming the
 * kernels), which is more than this thread takes to measure 64 MiB (a 1 GB model's biases: 16
 * tensors of 16 KiB cost two such threads 1.9 s of CPU, half the run on a busy 2-core machine).
 */
export const WHOLE_WORKERS_BYTES = 64 << 20;

type Plans = Map<string, Pick<TensorPassRequest, "matrix" | "conv">>;

/** Whether a tensor can be measured in bands on the pool (measureInWorkers adds: not a conv kernel). */
function poolable(t: TensorInfo): boolean {
  return t.byteLength >= BAND_POOL_BYTES && t.file === undefined && t.data === undefined && (t.decode === undefined || kernelQuant(t) !== undefined);
}

/**
 * Start a band pool as soon as a model is read, so that its threads start (load their modules,
 * compile and warm up the kernels) while this thread compiles its own kernels and plans: only
 * when a tensor of the model will be measured in bands. measureInWorkers takes it (or closes it);
 * a caller that never gets there closes it with closeEarlyPool.
 */
export function startEarlyPool(path: string, workers: number, model: ModelInfo, blockBytes: number | undefined): Promise<BandPool> | undefined {
  if (workers < 2 || !model.tensors.some(poolable)) return undefined;
  // resolveOptions' rounding; an invalid option fails analyze() before any pass, and the pool is then closed unused.
  const pool = BandPool.create({ threads: workers, blockBytes: Math.floor((blockBytes ?? DEFAULT_BLOCK_BYTES) / 64) * 64, path });
  pool.catch(() => undefined); // a failure surfaces where the pool is used
  return pool;
}

/** Close a pool from startEarlyPool (again, or after its start failed: both are no-ops). */
export async function closeEarlyPool(early: Promise<BandPool> | undefined): Promise<void> {
  await early?.then((pool) => pool.close(), () => undefined);
}

/**
 * Measure a model's tensors on `workers` threads, so that the report is the same, bit for bit,
 * as from one thread:
 *  - large dense tensors stored plainly in the file (or as GGUF blocks) go first, one at a time,
 *    each split into bands over all threads sharing one wasm memory (src/node/band-pool.ts),
 *    which also holds a tensor's bytes between its two passes (options.memoryBudget);
 *  - the other tensors are shared out whole by size (largest first, to the least loaded worker),
 *    each worker with its own kernels and file handle; tensors whose bytes a reader decoded into
 *    memory stay in this thread, and so do all of them when they are few (WHOLE_WORKERS_BYTES).
 */
export async function measureInWorkers(path: string, workers: number, measure: MeasureContext, model: ModelInfo, plans: Plans, policy: SiblingPolicy = {}, early?: Promise<BandPool>): Promise<Map<string, TensorSummary>> {
  const banded = model.tensors.filter((t) => poolable(t) && plans.get(t.name)?.conv === undefined);
  const rest = model.tensors.filter((t) => !banded.includes(t));
  // Progress counts the bytes read, second histogram passes included, over both phases.
  const bandedBytes = banded.reduce((a, t) => a + bytesToRead(measure, t), 0);
  const few = rest.reduce((a, t) => a + t.byteLength, 0) < WHOLE_WORKERS_BYTES;
  const restBytes = rest.reduce((a, t) => a + bytesToRead(few ? measure : shareOf(measure, workers), t), 0);
  const merged = new Map<string, TensorSummary>();
  const ready = early && (await early.catch(() => undefined));
  // A pool started early for other reads per block (or that failed to start) is not used.
  const prestarted = ready?.blockBytes === measure.options.blockBytes ? ready : undefined;
  if (ready !== prestarted || banded.length === 0) await ready?.close();
  if (banded.length > 0) {
    const pool = prestarted ?? (await BandPool.create({ threads: workers, blockBytes: measure.options.blockBytes, path }));
    try {
      const onProgress = measure.onProgress && ((p: { tensor: string; bytesDone: number; bytesTotal: number }) => measure.onProgress!({ ...p, bytesTotal: bandedBytes + restBytes }));
      // One held region in the pool's memory, as large as the largest tensor held (with option
      // fine every first pass runs in this thread, which holds in its own memory instead).
      const held = measure.options.fine ? 0 : Math.max(0, ...banded.filter((t) => heldBetweenPasses(measure, t)).map(heldBytes));
      const heldAt = held > 0 ? pool.allocate(held) : 0;
      // A tensor whose first pass ran in this thread (conv sums, fine histograms) has its second here too: its held bytes are here.
      const here = new Set<string>();
      // Histograms the workers made right after a held tensor's statistics pass (no turn through
      // this thread between the two), taken by measureTensors' histogram pass for that tensor.
      const histograms = new Map<string, { edges: Float64Array; counts: number[] }>();
      const runPass: RunPass = async (pass, request) => {
        if (request.conv || request.fine || here.has(request.tensor.name)) {
          here.add(request.tensor.name);
          return runTensorPass(pass, request);
        }
        const { hold, ...rest } = request;
        const made = hold === "reuse" ? histograms.get(request.tensor.name) : undefined;
        histograms.delete(request.tensor.name);
        if (made && request.edges && request.edges.values.length === made.edges.length && request.edges.values.every((x, i) => Object.is(x, made.edges[i]))) return { moments: EMPTY_MOMENTS, counts: made.counts };
        const input: PoolInput = hold === "keep" ? { into: heldAt } : hold === "reuse" ? { at: heldAt } : "file";
        const result = await pool.runPass(input, rest, pass.signal, pass.onBlock, hold === "keep" ? { bins: measure.options.bins } : undefined);
        if (result.histogram) histograms.set(request.tensor.name, result.histogram);
        return result;
      };
      for (const [name, summary] of await measureTensors({ ...measure, onProgress }, { ...model, tensors: banded }, plans, runPass)) merged.set(name, summary);
    } finally {
      await pool.close();
    }
  }
  if (rest.length > 0) {
    const onProgress = measure.onProgress && ((p: { tensor: string; bytesDone: number; bytesTotal: number }) => measure.onProgress!({ ...p, bytesDone: p.bytesDone + bandedBytes, bytesTotal: bandedBytes + restBytes }));
    const measured = few ? measureTensors({ ...measure, onProgress }, { ...model, tensors: rest }, plans) : measureWhole(path, workers, { ...measure, onProgress }, { ...model, tensors: rest }, plans, policy);
    for (const [name, summary] of await measured) merged.set(name, summary);
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
  const bytesTotal = model.tensors.reduce((a, t) => a + bytesToRead(shareOf(measure, workers), t), 0);
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
      const task: WorkerTask = { path, followLinks: policy.followLinks === true, model: { ...model, tensors: share }, plans: share.filter((t) => plans.has(t.name)).map((t) => [t.name, plans.get(t.name)!]), options: shareOf(measure, workers).options };
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

/** A worker's part of the call: the memory budget is the whole call's, so each of `workers` holds tensors within its share of it. */
function shareOf(measure: MeasureContext, workers: number): MeasureContext {
  return { ...measure, options: { ...measure.options, memoryBudget: Math.floor(measure.options.memoryBudget / workers) } };
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
