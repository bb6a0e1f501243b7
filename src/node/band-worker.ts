// A worker of the band pool (src/node/band-pool.ts): an instance of the threads build on the
// pool's shared memory, with its own scratch. For each pass it takes bands in turn from a shared
// counter, runs each into one of its two slots (waiting while both hold bands not yet merged)
// and says which band is in which slot; the results stay in shared memory. A waiting worker's
// slots hold only bands taken before the one it waits to run, so the lowest band not merged yet
// is always being run: no deadlock.
import { parentPort, workerData } from "node:worker_threads";
import { bandBlockReads, bandOf, runBand, type Band, type BandArea, type BandInput, type BandJob } from "../measure/bands.js";
import { ReadAhead, type BlockPlaces, type BlockRead } from "../measure/read-ahead.js";
import type { ByteSource } from "../source/types.js";
import { Kernels } from "../kernels/kernels.js";
import { STATE_BYTES } from "../kernels/layout.js";
import { fileSource } from "./file-source.js";

export interface BandWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** This worker's scratch area (assembly/scratch.ts), then its blocks (also its warm-up area). */
  scratch: number;
  /** Two read buffers (a file's next block is read while the kernels work on this one), then the f32 block. */
  raw: number;
  raw2: number;
  f32: number;
  path?: string;
}

export interface BandPassTask {
  /** The file; the pool's memory at `at`; or the file read into the pool's memory at `into` (src/node/band-pool.ts PoolInput). */
  input: "file" | { at: number } | { into: number };
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

const init = workerData as BandWorkerInit;
const post = (m: BandWorkerMessage) => parentPort!.postMessage(m);
const errorMessage = (error: unknown): BandWorkerMessage => {
  const e = error as { code?: string; message?: string };
  return { kind: "error", error: { code: e.code, message: e.message ?? String(error) } };
};

async function runPass(kernels: Kernels, source: ByteSource | undefined, task: BandPassTask): Promise<void> {
  const shared = new Int32Array(init.memory.buffer);
  const plan = task.plan;
  // Bands in the order this worker takes them. From a file, the reads run one block ahead of the
  // kernels, across bands: the next band is taken when its first block is to be read.
  const taken: number[] = [];
  const take = () => {
    const index = Atomics.add(shared, task.counter >> 2, 1);
    if (index < plan.count) taken.push(index);
    return index < plan.count;
  };
  let input: BandInput;
  let ahead: ReadAhead | undefined;
  if (task.input === "file" || "into" in task.input) {
    const reads = function* (): Generator<BlockRead> {
      while (take()) yield* bandBlockReads(task.job, bandOf(plan, taken[taken.length - 1]));
    };
    const offset = task.job.tensor.offset;
    const places: BlockPlaces = task.input === "file" ? [init.raw, init.raw2] : { at: ((into) => (read: BlockRead) => into + read.offset - offset)(task.input.into) };
    ahead = new ReadAhead(kernels, source!, places, reads());
    input = { ahead };
  } else input = task.input;
  try {
    for (let n = 0; ; n++) {
      if (ahead === undefined && !take()) return;
      const index = taken.shift();
      if (index === undefined) return;
      await runOne(kernels, input, task, shared, bandOf(plan, index), n & 1);
    }
  } finally {
    await ahead?.close();
  }
}

/** One band into one of this worker's two slots, once the band that held it has been merged. */
async function runOne(kernels: Kernels, input: BandInput, task: BandPassTask, shared: Int32Array, band: Band, slot: number): Promise<void> {
  const flag = (task.flags >> 2) + slot;
  while (Atomics.load(shared, flag) === 0) Atomics.wait(shared, flag, 0);
  Atomics.store(shared, flag, 0);
  const area: BandArea = { state: task.slots[slot], counts: task.counts, cols: task.slots[slot] + STATE_BYTES, fine: 0, sumOverB: 0, sumOverA: 0, raw: init.raw, f32: init.f32 };
  await runBand(kernels, input, task.job, band, area);
  post({ kind: "band", index: band.index, slot });
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
