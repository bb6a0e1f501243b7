import { Worker } from "node:worker_threads";
import { readWasmBeside } from "../entry/node-core.js";
import { abortError, CntError, quoteName, type CntErrorCode } from "../errors.js";
import { BandPlan, bandMoments, blockElements, kernelCallElements, quantBlockElements, type BandJob } from "../measure/bands.js";
import { EMPTY_MOMENTS, mergeMoments, type Moments } from "../measure/moments.js";
import { addInto, type TensorPassRequest, type TensorPassResult } from "../measure/tensor-pass.js";
import { Kernels } from "../kernels/kernels.js";
import { ALIGN, align, COUNTER_BYTES, SLOTS_BYTES, STATE_BYTES, THEN, THEN_READY, THREADS_MEMORY, WARM_UP_BYTES } from "../kernels/layout.js";
import { uniformEdges } from "../measure/histogram.js";
import { DTYPE_BYTES, GGUF_BLOCKS, type GgufQuant } from "../model/types.js";
import { kernelQuant } from "../source/tensor-bytes.js";
import type { BandPassTask, BandWorkerInit, BandWorkerMessage } from "./band-worker.js";

let threadsModule: Promise<WebAssembly.Module> | undefined;

/**
 * Where a pool reads a tensor's bytes: the file it was made for, its own shared memory (`at`:
 * element 0), or the file read INTO its shared memory (`into`: each block to its place there, for
 * a next pass over `at` the same offset).
 */
export type PoolInput = "file" | { at: number } | { into: number };

/**
 * A statistics pass over a tensor read `into` the pool's memory that goes on, in the workers, to
 * its histogram pass over the held bytes: `bins` uniform bins over the [min, max] the statistics
 * found (measureTensors' second pass, src/measure/measure.ts), with no turn through this thread
 * in between. Its result: the edges and counts, absent when the tensor has no finite value.
 */
export interface ThenHistogram {
  bins: number;
}

/** A pass's result with the histogram pass that followed it (ThenHistogram). */
export interface PoolPassResult extends TensorPassResult {
  histogram?: { edges: Float64Array; counts: number[] };
}

export interface BandPoolOptions {
  threads: number;
  /** Bytes per kernel call; the same as the single-thread pass's, so results agree bit for bit. */
  blockBytes: number;
  /** A model file every worker opens for "file" inputs. */
  path?: string;
}

interface PoolWorker {
  worker: Worker;
  /** Settles when the thread has exited (for any reason). */
  exited: Promise<void>;
  alive: boolean;
}

/**
 * Threads that share one wasm memory (the threads build, cntscope-threads.wasm) and measure the
 * bands of one tensor at a time, all of them at once: both cores on one big matrix. Workers take
 * bands in order from a shared counter and read their blocks themselves; each keeps its bands'
 * partials (state and column sums) in a ring of slots, enough for all the bands of a pass when
 * they fit SLOTS_BYTES, and this thread merges the partials in band order and frees their slots,
 * so the result equals runTensorPass's bit for bit. A worker waits for this thread only when its
 * next slot still holds a band that earlier bands keep from being merged.
 *
 *   shared memory: static ─ per worker: scratch, raw block, f32 block ─ allocate()d inputs ─ per pass: counters, slot flags, band map?, edges, rows, per worker: counts, then per worker: K x (state, cols)
 *   (every region ALIGN-aligned; the whole map of memory: src/kernels/layout.ts)
 */
export class BandPool {
  private inputsEnd: number;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Passes queued or running (allocate must not move the per-pass region under one). */
  private passes = 0;
  /** Set when a worker failed: the pool is stopped and every later pass fails with it. */
  private broken: CntError | undefined;

  private constructor(
    readonly kernels: Kernels,
    private readonly workers: PoolWorker[],
    /** Bytes per read and kernel call: the same as the single-thread pass's (options.blockBytes). */
    readonly blockBytes: number,
    inputsStart: number,
  ) {
    this.inputsEnd = inputsStart;
  }

  static async create(options: BandPoolOptions): Promise<BandPool> {
    const { threads, blockBytes } = options;
    threadsModule ??= readWasmBeside(import.meta.url, "cntscope-threads.wasm").then((bytes) => WebAssembly.compile(bytes as BufferSource));
    const module = await threadsModule;
    const memory = new WebAssembly.Memory({ initial: THREADS_MEMORY.initial, maximum: THREADS_MEMORY.maximum, shared: true });
    // This thread's instance only lays out memory and reads results; it never runs a kernel.
    const kernels = Kernels.fromInstance(await WebAssembly.instantiate(module, { env: { memory } }));
    const scratchBytes = align(kernels.exports.scratchBytes(), ALIGN);
    // A read holds up to blockBytes (a band is at least one row, which may be wider than
    // BAND_ELEMENTS), or one GGUF block when that is larger; f16/bf16 are widened, GGUF blocks
    // dequantized, one kernel call at a time.
    const quants = Object.keys(GGUF_BLOCKS) as GgufQuant[];
    const quantRead = (q: GgufQuant) => (quantBlockElements(blockBytes, q) / GGUF_BLOCKS[q].elements) * GGUF_BLOCKS[q].bytes;
    const rawBytes = align(Math.max(blockBytes, ...quants.map(quantRead)), ALIGN);
    const f32Bytes = align(kernelCallElements(Math.max(blockElements(blockBytes, 2), ...quants.map((q) => quantBlockElements(blockBytes, q)))) * 4, ALIGN);
    const areaBytes = scratchBytes + Math.max(WARM_UP_BYTES, 2 * rawBytes + f32Bytes);
    const areas = Array.from({ length: threads }, (_, w) => kernels.base + w * areaBytes);
    const inputsStart = kernels.base + threads * areaBytes;
    kernels.reserve(inputsStart);
    const url = new URL(import.meta.url.endsWith(".ts") ? "./band-worker.ts" : "./band-worker.js", import.meta.url);
    const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
    const workers: PoolWorker[] = areas.map((at) => {
      const init: BandWorkerInit = { module, memory, scratch: at, raw: at + scratchBytes, raw2: at + scratchBytes + rawBytes, f32: at + scratchBytes + 2 * rawBytes, path: options.path };
      // From sources (tests run TypeScript through tsx) the worker registers tsx first.
      const worker = url.pathname.endsWith(".ts")
        ? new Worker(`import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import(${JSON.stringify(url.href)}))`, { eval: true, workerData: init, execArgv })
        : new Worker(url, { workerData: init, execArgv });
      const pw: PoolWorker = { worker, alive: true, exited: new Promise<void>((resolve) => worker.once("exit", () => ((pw.alive = false), resolve()))) };
      return pw;
    });
    const started = await Promise.allSettled(
      workers.map(
        ({ worker, exited }) =>
          new Promise<void>((resolve, reject) => {
            worker.once("message", (m: BandWorkerMessage) => (m.kind === "ready" ? resolve() : reject(workerError(m))));
            worker.once("error", reject);
            void exited.then(() => reject(new CntError("INTERNAL", "A band worker exited before it was ready.")));
          }),
      ),
    );
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
      throw failed.reason;
    }
    return new BandPool(kernels, workers, blockBytes, inputsStart);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Room for `bytes` of caller data in the shared memory (e.g. a tensor already in memory); its offset. */
  allocate(bytes: number): number {
    if (this.passes > 0) throw new CntError("INTERNAL", "BandPool.allocate was called while a pass is queued or running; allocate before running passes.");
    const at = align(this.inputsEnd, ALIGN);
    this.kernels.reserve(at + bytes);
    this.inputsEnd = at + bytes;
    return at;
  }

  /**
   * A dense or flat tensor pass (no conv sums, no fine histogram) on every thread. Passes share
   * the pool's counter, slots and working memory: calls made while one runs wait their turn.
   */
  runPass(input: PoolInput, request: TensorPassRequest, signal?: AbortSignal, onBlock?: (bytes: number) => void, then?: ThenHistogram): Promise<PoolPassResult> {
    this.passes++;
    const run = this.queue.then(() => this.runOnePass(input, request, signal, onBlock, then)).finally(() => this.passes--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runOnePass(input: PoolInput, request: TensorPassRequest, signal?: AbortSignal, onBlock?: (bytes: number) => void, thenHistogram?: ThenHistogram): Promise<PoolPassResult> {
    if (this.broken) throw this.broken;
    if (this.closed) throw new CntError("INTERNAL", "The band pool was closed.");
    if (this.workers.some((w) => !w.alive)) {
      this.broken = new CntError("INTERNAL", "A band worker has exited; the pool is stopped.");
      await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
      throw this.broken;
    }
    if (request.conv || request.fine || request.hold) throw new CntError("INTERNAL", `Tensor ${quoteName(request.tensor.name)}: a band pool measures dense passes only (held bytes are given as its input).`);
    const { tensor, matrix, edges } = request;
    const { kernels } = this;
    const width = DTYPE_BYTES[tensor.dtype];
    const total = tensor.byteLength / width;
    // GGUF blocks are read as stored and dequantized in the workers' f32 blocks, as on one thread.
    const quant = kernelQuant(tensor);
    const block = quant ? quantBlockElements(this.blockBytes, quant) : blockElements(this.blockBytes, width);
    const plan = new BandPlan(total, matrix?.cols, false, quant ? GGUF_BLOCKS[quant].elements : 1);
    const cols = matrix && !request.histogramOnly ? matrix.cols : 0;
    const slotBytes = align(STATE_BYTES + cols * 8, ALIGN);
    // The histogram pass follows in the workers when every band of the first pass keeps its slot
    // until all have run (their states give the [min, max]): a slot per band in SLOTS_BYTES.
    const then = thenHistogram && typeof input === "object" && "into" in input && !request.histogramOnly && !edges && Math.floor(SLOTS_BYTES / slotBytes) >= plan.count ? thenHistogram : undefined;
    const bins = edges ? edges.values.length - 1 : then ? then.bins : 0;

    // Slots per worker: one for every band of the pass when they fit SLOTS_BYTES, so no worker
    // waits for this thread's merges; at least two.
    const ring = Math.max(2, Math.min(plan.count, Math.floor(SLOTS_BYTES / slotBytes)));
    const counterAt = align(this.inputsEnd, ALIGN);
    const flagsAt = counterAt + COUNTER_BYTES;
    const flagCount = this.workers.length * ring;
    // With `then`: where each band's state is (Int32 per band), for the worker that ends the first pass.
    const bandMapAt = flagsAt + flagCount * 4;
    const edgesAt = align(bandMapAt + (then ? plan.count * 4 : 0), ALIGN);
    const rowsAt = align(edgesAt + (bins + 1) * 8, ALIGN);
    let at = align(rowsAt + (matrix ? matrix.rows * 8 : 0), ALIGN);
    const counts = this.workers.map(() => {
      const c = at;
      at = align(c + bins * 8, ALIGN);
      return c;
    });
    // What must start at zero ends here; each band sets its slot up itself.
    const zeroEnd = at;
    const local = counts.map((c) => {
      const slots = Array.from({ length: ring }, (_, k) => at + k * slotBytes);
      at += ring * slotBytes;
      return { counts: c, slots };
    });
    try {
      kernels.reserve(at);
    } catch (error) {
      throw new CntError("TOO_LARGE", `Tensor ${quoteName(tensor.name)} needs ${at.toLocaleString("en-US")} bytes of working memory, more than WebAssembly can give.`, { tensor: tensor.name, cause: error });
    }
    kernels.bytes(edgesAt, zeroEnd - edgesAt).fill(0);
    if (edges) kernels.f64(edgesAt, bins + 1).set(edges.values);
    const job: BandJob = { tensor, matrix, rows: rowsAt, edges: edges && { at: edgesAt, bins, uniform: edges.uniform }, histogramOnly: request.histogramOnly, blockElements: block, quant };

    let moments: Moments = EMPTY_MOMENTS;
    const colTotals = cols ? new Float64Array(cols) : undefined;
    const shared = new Int32Array(kernels.memory.buffer);
    for (let i = 0; i < COUNTER_BYTES / 4; i++) Atomics.store(shared, (counterAt >> 2) + i, 0);
    for (let f = 0; f < flagCount; f++) Atomics.store(shared, (flagsAt >> 2) + f, 1);
    await new Promise<void>((resolve, reject) => {
      let merged = 0;
      let ended = 0;
      let bytesDone = 0;
      let failure: unknown;
      const finished = new Map<number, { w: number; slot: number }>();
      const stop = (error: unknown) => {
        // No band is taken after this; the pass ends when every worker has finished its band.
        failure ??= error;
        Atomics.store(shared, counterAt >> 2, plan.count);
        Atomics.store(shared, (counterAt >> 2) + THEN.SECOND, plan.count);
        Atomics.store(shared, (counterAt >> 2) + THEN.READY, THEN_READY.STOP);
        Atomics.notify(shared, (counterAt >> 2) + THEN.READY);
        for (let f = 0; f < flagCount; f++) {
          Atomics.store(shared, (flagsAt >> 2) + f, 1);
          Atomics.notify(shared, (flagsAt >> 2) + f);
        }
      };
      const done = () => {
        for (const { worker } of this.workers) {
          worker.off("message", listeners.get(worker)!);
          worker.off("error", crashed);
          worker.off("exit", crashed);
        }
        signal?.removeEventListener("abort", aborted);
        if (failure !== undefined) reject(failure);
        else resolve();
      };
      const crashed = (error: unknown) => {
        // The other workers may still be in this pass: stop them all, and the pool with them.
        const why = this.closed ? "the pool was closed" : error instanceof Error ? error.message : `the thread exited (code ${String(error)})`;
        this.broken = new CntError("INTERNAL", `A band worker stopped while measuring tensor ${quoteName(tensor.name)}: ${why}.`, { tensor: tensor.name, cause: error });
        stop(this.broken);
        for (const { worker } of this.workers) void worker.terminate();
        done();
      };
      const aborted = () => stop(abortError(`Reading tensor ${quoteName(tensor.name)}`, signal, { tensor: tensor.name }));
      signal?.addEventListener("abort", aborted, { once: true });
      if (signal?.aborted) aborted();
      const listeners = new Map<Worker, (m: BandWorkerMessage) => void>();
      this.workers.forEach(({ worker }, w) => {
        const listener = (m: BandWorkerMessage) => {
          if (m.kind === "end" || m.kind === "error") {
            if (m.kind === "error") stop(workerError(m));
            if (++ended === this.workers.length) done();
            return;
          }
          if (m.kind !== "bands" || failure !== undefined) return;
          for (let i = 0; i < m.bands.length; i += 2) {
            finished.set(m.bands[i], { w, slot: m.bands[i + 1] });
            onBlock?.((bytesDone += plan.band(m.bands[i]).count * width));
          }
          // Merge every band that is next in order, and hand its slot back to its worker.
          for (let f = finished.get(merged); f !== undefined; f = finished.get(merged)) {
            finished.delete(merged);
            const state = local[f.w].slots[f.slot];
            if (!request.histogramOnly) moments = mergeMoments(moments, bandMoments(kernels, state, tensor.dtype, plan.band(merged).count));
            if (colTotals) addInto(colTotals, kernels.f64(state + STATE_BYTES, cols));
            const flag = (flagsAt >> 2) + f.w * ring + f.slot;
            Atomics.store(shared, flag, 1);
            Atomics.notify(shared, flag);
            merged++;
          }
        };
        listeners.set(worker, listener);
        worker.on("message", listener);
        worker.on("error", crashed);
        worker.on("exit", crashed);
        const task: BandPassTask = { input, job, plan: { total: plan.total, step: plan.step, count: plan.count }, counter: counterAt, flags: flagsAt + w * ring * 4, slots: local[w].slots, counts: local[w].counts, ...(then ? { then: { bins, edges: edgesAt, bandMap: bandMapAt } } : {}) };
        worker.postMessage(task);
      });
    });

    const result: PoolPassResult = { moments };
    if (then && moments.count > 0) {
      // The edges the workers used (the same merge of the same band states, in band order).
      const histogramEdges = uniformEdges(moments.min!, moments.max!, bins);
      if (Atomics.load(shared, (counterAt >> 2) + THEN.READY) === THEN_READY.STOP || kernels.f64(edgesAt, bins + 1).some((x, i) => !Object.is(x, histogramEdges[i]))) {
        throw new CntError("INTERNAL", `Tensor ${quoteName(tensor.name)}: the band workers' histogram edges differ from this thread's.`, { tensor: tensor.name });
      }
      const counts = new Array<number>(bins).fill(0);
      for (const l of local) new BigInt64Array(kernels.memory.buffer, l.counts, bins).forEach((c, i) => (counts[i] += Number(c)));
      result.histogram = { edges: histogramEdges, counts };
    }
    if (matrix) {
      result.rowSums = kernels.f64(rowsAt, matrix.rows).slice();
      result.colSums = colTotals ?? new Float64Array(matrix.cols);
    }
    if (edges) {
      const counts = new Array<number>(bins).fill(0);
      for (const l of local) new BigInt64Array(kernels.memory.buffer, l.counts, bins).forEach((c, i) => (counts[i] += Number(c)));
      result.counts = counts;
    }
    return result;
  }

  /** Stop the workers (each closes its file first). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.workers.map(({ worker, exited }) => {
        worker.postMessage("close"); // a no-op for a thread that has exited
        // A worker stuck in a long kernel call would not read the message: do not wait forever.
        const timer = setTimeout(() => void worker.terminate(), 2000);
        return exited.finally(() => clearTimeout(timer));
      }),
    );
  }
}

function workerError(m: BandWorkerMessage): CntError {
  if (m.kind !== "error") return new CntError("INTERNAL", `A band worker answered ${JSON.stringify(m.kind)}.`);
  return new CntError((m.error.code as CntErrorCode) ?? "INTERNAL", m.error.message);
}
