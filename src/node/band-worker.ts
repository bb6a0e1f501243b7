// A worker of the band pool (src/node/band-pool.ts): an instance of the threads build on the
// pool's shared memory, with its own scratch. For each pass it takes bands in turn from a shared
// counter, runs each into one of its two slots (waiting while both hold bands not yet merged)
// and says which band is in which slot; the results stay in shared memory.
import { parentPort, workerData } from "node:worker_threads";
import { runBand, type BandArea, type BandJob } from "../metrics/bands.js";
import type { ByteSource } from "../source/types.js";
import { Kernels } from "../wasm/kernels.js";
import { fileSource } from "./file-source.js";

export interface BandWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** This worker's scratch area (assembly/scratch.ts), then its blocks (also its warm-up area). */
  scratch: number;
  raw: number;
  f32: number;
  path?: string;
}

export interface BandPassTask {
  input: "file" | { at: number };
  job: BandJob;
  /** The bands: `count` of `step` elements (the last one shorter) over `total` elements. */
  plan: { total: number; step: number; count: number };
  /** Int32 at `counter`: the next band to take. Int32 at `flags + 4 * slot`: 1 while this worker's slot is free. */
  counter: number;
  flags: number;
  /** This worker's two slots (state, then column sums) and its histogram counts. */
  slots: [number, number];
  counts: number;
}

export type BandWorkerMessage =
  | { kind: "ready" }
  | { kind: "band"; index: number; slot: number }
  | { kind: "end" }
  | { kind: "error"; error: { code?: string; message: string } };

const STATE_BYTES = 128;
const init = workerData as BandWorkerInit;
const post = (m: BandWorkerMessage) => parentPort!.postMessage(m);
const errorMessage = (error: unknown): BandWorkerMessage => {
  const e = error as { code?: string; message?: string };
  return { kind: "error", error: { code: e.code, message: e.message ?? String(error) } };
};

async function runPass(kernels: Kernels, source: ByteSource | undefined, task: BandPassTask): Promise<void> {
  const shared = new Int32Array(init.memory.buffer);
  const input = task.input === "file" ? { source: source! } : task.input;
  for (let taken = 0; ; taken++) {
    const index = Atomics.add(shared, task.counter >> 2, 1);
    if (index >= task.plan.count) return;
    const slot = taken & 1;
    const flag = (task.flags >> 2) + slot;
    while (Atomics.load(shared, flag) === 0) Atomics.wait(shared, flag, 0);
    Atomics.store(shared, flag, 0);
    const start = index * task.plan.step;
    const area: BandArea = { state: task.slots[slot], counts: task.counts, cols: task.slots[slot] + STATE_BYTES, fine: 0, sumOverB: 0, sumOverA: 0, raw: init.raw, f32: init.f32 };
    await runBand(kernels, input, task.job, { index, start, count: Math.min(task.plan.step, task.plan.total - start) }, area);
    post({ kind: "band", index, slot });
  }
}

try {
  const kernels = Kernels.fromInstance(await WebAssembly.instantiate(init.module, { env: { memory: init.memory } }));
  kernels.exports.setScratch(init.scratch);
  kernels.warmUp(init.raw);
  const source: ByteSource | undefined = init.path === undefined ? undefined : await fileSource(init.path);
  parentPort!.on("message", (task: BandPassTask | "close") => {
    if (task === "close") {
      void Promise.resolve(source?.close()).finally(() => parentPort!.close());
      return;
    }
    runPass(kernels, source, task).then(() => post({ kind: "end" }), (error) => post(errorMessage(error)));
  });
  post({ kind: "ready" });
} catch (error) {
  post(errorMessage(error));
}
