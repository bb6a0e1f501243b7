// An abort of analyzeFile on worker threads (src/node/parallel.ts, band-pool.ts) settles the
// call with AbortError and ends every thread it started. Threads are counted by wrapping the
// Worker class of node:worker_threads (syncBuiltinESMExports updates the modules' bindings).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Worker as WorkerType } from "node:worker_threads";
import { CntError } from "../../src/errors.js";
import { analyzeFile } from "../../src/node/index.js";
import { BAND_POOL_BYTES, WHOLE_WORKERS_BYTES } from "../../src/node/parallel.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

const threads = createRequire(import.meta.url)("node:worker_threads") as { Worker: typeof WorkerType };
const Original = threads.Worker;
const live = new Set<WorkerType>();
let created = 0;
threads.Worker = class CountedWorker extends Original {
  constructor(...args: ConstructorParameters<typeof WorkerType>) {
    super(...args);
    live.add(this);
    created++;
    this.once("exit", () => live.delete(this));
  }
} as typeof WorkerType;
syncBuiltinESMExports();

const dir = mkdtempSync(join(tmpdir(), "cntscope-abort-"));
/** Values that are not all alike (a constant tensor would take other paths). */
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.1);

const cols = 1024;
const rows = Math.ceil(BAND_POOL_BYTES / 4 / cols) + 3;
/** One tensor above BAND_POOL_BYTES (split into bands over the threads) and a small one. */
const banded = join(dir, "banded.safetensors");
writeFileSync(banded, writeSafetensors([
  { name: "0.weight", dtype: "F32", shape: [rows, cols], data: f32Bytes(values(rows * cols, 1)) },
  { name: "2.weight", dtype: "F32", shape: [10, rows], data: f32Bytes(values(10 * rows, 2)) },
]));
/** Tensors below it, shared out whole to the threads: more of them than WHOLE_WORKERS_BYTES, under which they would all stay in this thread. */
const shared = join(dir, "shared.safetensors");
const side = 1024;
const sharedCount = Math.ceil(WHOLE_WORKERS_BYTES / (side * side * 4)) + 2;
writeFileSync(shared, writeSafetensors(Array.from({ length: sharedCount }, (_, i) => ({ name: `${2 * i}.weight`, dtype: "F32" as const, shape: [side, side], data: f32Bytes(values(side * side, i)) }))));

/** Settle within `ms` or report a hang. */
async function settled(promise: Promise<unknown>, ms = 20_000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("hang"), ms)));
  try {
    return await Promise.race([promise.then(() => "report", (e: unknown) => e), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait (bounded) until every counted thread has exited; return how many are left. */
async function threadsLeft(ms = 5000): Promise<number> {
  for (const end = Date.now() + ms; live.size > 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  return live.size;
}

for (const [label, path] of [["banded tensor (band pool)", banded], ["tensors shared out whole", shared]] as const) {
  test(`analyzeFile with 2 workers, ${label}: an abort at the first progress settles with AbortError and ends every thread`, async () => {
    const ac = new AbortController();
    const reason = new Error("user cancelled");
    let progressed = 0;
    const e = await settled(analyzeFile(path, { workers: 2, signal: ac.signal, onProgress: () => (progressed++ === 0 ? ac.abort(reason) : undefined) }));
    assert.ok(progressed > 0, "progress reported before the abort");
    assert.instance(e, CntError, String(e));
    assert.is((e as CntError).code, "ABORTED", (e as CntError).message);
    assert.is((e as CntError).name, "AbortError");
    assert.is((e as CntError).cause, reason);
    assert.is(await threadsLeft(), 0, "every worker thread has exited");
  });
}

test("analyzeFile with 2 workers and a signal aborted before the call starts no thread", async () => {
  const ac = new AbortController();
  ac.abort();
  const before = live.size;
  const e = await settled(analyzeFile(shared, { workers: 2, signal: ac.signal }));
  assert.instance(e, CntError, String(e));
  assert.is((e as CntError).name, "AbortError");
  assert.is(live.size, before);
});

test("without an abort, 2 workers still give a report (the wrapped Worker class changes nothing)", async () => {
  const before = created;
  assert.is(await settled(analyzeFile(shared, { workers: 2 })), "report");
  assert.is(created - before, 2, "two threads counted");
  assert.is(await threadsLeft(), 0);
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  threads.Worker = Original;
  syncBuiltinESMExports();
});

test.run();
