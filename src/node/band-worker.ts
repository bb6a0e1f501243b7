// A worker of the band pool (src/node/band-pool.ts): an instance of the threads build on the
// pool's shared memory, with its own scratch. For each pass it takes bands in turn from a shared
// counter, reads their blocks itself (blocking reads: the pool's threads already keep the cores
// busy), runs each band into the next of its ring of slots (waiting only while that slot holds a
// band not yet merged) and says, a few at a time, which band is in which slot; the results stay in
// shared memory. A waiting worker has said which bands its slots hold, and they were all taken
// before the one it waits to run, so the lowest band not merged yet is always being run or is
// known to this thread: no deadlock.
import { parentPort, workerData } from "node:worker_threads";
import { bandBlockReads, bandMoments, bandOf, runBand, type Band, type BandArea, type BandInput, type BandJob } from "../measure/bands.js";
import { SyncReads, type BlockPlaces, type BlockRead } from "../measure/read-ahead.js";
import { Kernels } from "../kernels/kernels.js";
import { STATE_BYTES, THEN, THEN_READY } from "../kernels/layout.js";
import { isUniformSpan, uniformEdges } from "../measure/histogram.js";
import { EMPTY_MOMENTS, mergeMoments, type Moments } from "../measure/moments.js";
import { syncFile, type SyncFile } from "./sync-file.js";

export interface BandWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** This worker's scratch area (assembly/scratch.ts), then its blocks (also its warm-up area). */
  scratch: number;
  /** Two read buffers, then the f32 block. */
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
  /** This worker's ring of slots (state, then column sums), used in turn, and its histogram counts. */
  slots: number[];
  counts: number;
  /**
   * Go on to the histogram pass over the held bytes (src/node/band-pool.ts ThenHistogram): `bins`
   * uniform bins, their edges written at `edges` (f64) by the worker that runs the last band, from
   * the band states whose slots it finds at `bandMap` (Int32 per band); counters at `counter` + THEN.
   */
  then?: { bins: number; edges: number; bandMap: number };
}

export type BandWorkerMessage =
  | { kind: "ready" }
  /** Bands run since the last message: band index and slot, in pairs. */
  | { kind: "bands"; bands: number[] }
  | { kind: "end" }
  | { kind: "error"; error: { code?: string; message: string } };

const init = workerData as BandWorkerInit;
const post = (m: BandWorkerMessage) => parentPort!.postMessage(m);
const errorMessage = (error: unknown): BandWorkerMessage => {
  const e = error as { code?: string; message?: string };
  return { kind: "error", error: { code: e.code, message: e.message ?? String(error) } };
};

/** How often at most a worker says which bands it has run while its slots are not all used (progress, and merges that free slots). */
const SAY_EVERY_MS = 10;

async function runPass(kernels: Kernels, file: SyncFile | undefined, task: BandPassTask): Promise<void> {
  const shared = new Int32Array(init.memory.buffer);
  const { plan, job } = task;
  const fromFile = task.input === "file" || "into" in task.input;
  const into = typeof task.input === "object" && "into" in task.input ? task.input.into : undefined;
  // Blocks from the file go to the two read buffers in turn, or each to its place in the held region.
  const places: BlockPlaces = into === undefined ? [init.raw, init.raw2] : { at: (read: BlockRead) => into + read.offset - job.tensor.offset };
  const said: Said = { bands: [], at: performance.now() };
  try {
    for (let n = 0; ; n++) {
      const index = Atomics.add(shared, task.counter >> 2, 1);
      if (index >= plan.count) break;
      const band = bandOf(plan, index);
      const input: BandInput = fromFile ? { ahead: new SyncReads(kernels, (at, dest) => file!.read(at, dest), places, bandBlockReads(job, band)) } : (task.input as { at: number });
      const slot = n % task.slots.length;
      await runOne(kernels, input, task, shared, band, slot, said);
      if (task.then) {
        Atomics.store(shared, (task.then.bandMap >> 2) + index, task.slots[slot]);
        if (Atomics.add(shared, (task.counter >> 2) + THEN.DONE, 1) === plan.count - 1) readyHistogram(kernels, task, shared);
      }
    }
  } finally {
    say(said);
  }
  if (!task.then || into === undefined) return;
  // The histogram pass over the held bytes, once the worker that ran the last band has set its edges.
  const ready = (task.counter >> 2) + THEN.READY;
  while (Atomics.load(shared, ready) === THEN_READY.WAIT) Atomics.wait(shared, ready, THEN_READY.WAIT);
  const how = Atomics.load(shared, ready);
  if (how !== THEN_READY.UNIFORM && how !== THEN_READY.EDGES) return;
  const second: BandJob = { ...job, matrix: undefined, histogramOnly: true, edges: { at: task.then.edges, bins: task.then.bins, uniform: how === THEN_READY.UNIFORM } };
  const area: BandArea = { state: 0, counts: task.counts, cols: 0, fine: 0, sumOverB: 0, sumOverA: 0, raw: init.raw, f32: init.f32 };
  for (;;) {
    const index = Atomics.add(shared, (task.counter >> 2) + THEN.SECOND, 1);
    if (index >= plan.count) return;
    await runBand(kernels, { at: into }, second, bandOf(plan, index), area);
  }
}

/**
 * Run by the worker that ran the first pass's last band: the pass's [min, max] from every band's
 * state merged in band order (as src/node/band-pool.ts merges them), the histogram's edges from it
 * (as src/measure/measure.ts makes them), and the go for every worker's histogram pass.
 */
function readyHistogram(kernels: Kernels, task: BandPassTask, shared: Int32Array): void {
  const { plan, job } = task;
  const then = task.then!;
  let moments: Moments = EMPTY_MOMENTS;
  for (let b = 0; b < plan.count; b++) moments = mergeMoments(moments, bandMoments(kernels, Atomics.load(shared, (then.bandMap >> 2) + b), job.tensor.dtype, bandOf(plan, b).count));
  let how: number = THEN_READY.NONE;
  if (moments.count > 0) {
    const edges = uniformEdges(moments.min!, moments.max!, then.bins);
    kernels.f64(then.edges, then.bins + 1).set(edges);
    how = isUniformSpan(edges) ? THEN_READY.UNIFORM : THEN_READY.EDGES;
  }
  const ready = (task.counter >> 2) + THEN.READY;
  // A stopped pass keeps its STOP.
  Atomics.compareExchange(shared, ready, THEN_READY.WAIT, how);
  Atomics.notify(shared, ready);
}

interface Said {
  /** Band index and slot of the bands run and not yet said, in pairs. */
  bands: number[];
  at: number;
}

function say(said: Said): void {
  if (said.bands.length === 0) return;
  post({ kind: "bands", bands: said.bands });
  said.bands = [];
  said.at = performance.now();
}

/** One band into one of this worker's slots, once the band that held it has been merged. */
async function runOne(kernels: Kernels, input: BandInput, task: BandPassTask, shared: Int32Array, band: Band, slot: number, said: Said): Promise<void> {
  const flag = (task.flags >> 2) + slot;
  if (Atomics.load(shared, flag) === 0) {
    // The slot waits for a merge, which may wait for bands this worker has not said yet.
    say(said);
    while (Atomics.load(shared, flag) === 0) Atomics.wait(shared, flag, 0);
  }
  Atomics.store(shared, flag, 0);
  const area: BandArea = { state: task.slots[slot], counts: task.counts, cols: task.slots[slot] + STATE_BYTES, fine: 0, sumOverB: 0, sumOverA: 0, raw: init.raw, f32: init.f32 };
  await runBand(kernels, input, task.job, band, area);
  said.bands.push(band.index, slot);
  if (performance.now() - said.at >= SAY_EVERY_MS) say(said);
}

try {
  const kernels = Kernels.fromInstance(await WebAssembly.instantiate(init.module, { env: { memory: init.memory } }));
  kernels.exports.setScratch(init.scratch);
  kernels.warmUp(init.raw);
  const file = init.path === undefined ? undefined : syncFile(init.path);
  parentPort!.on("message", (task: BandPassTask | "close") => {
    if (task === "close") {
      try {
        file?.close();
      } finally {
        parentPort!.close();
      }
      return;
    }
    runPass(kernels, file, task).then(() => post({ kind: "end" }), (error) => post(errorMessage(error)));
  });
  post({ kind: "ready" });
} catch (error) {
  post(errorMessage(error));
}
