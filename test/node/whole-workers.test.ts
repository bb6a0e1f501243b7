// analyzeFile with workers: tensors under BAND_POOL_BYTES are measured whole on worker threads of
// their own only when they add up to WHOLE_WORKERS_BYTES or more (a thread's start-up costs more
// than measuring a few MiB here); either way the report is the one-thread report, bit for bit,
// and a model's progress ends at the bytes it read (each tensor once: held for its histogram).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { BAND_POOL_BYTES, WHOLE_WORKERS_BYTES } from "../../src/node/parallel.js";
import { firstDifference } from "../helpers/diff.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";
import { prng } from "../helpers/sources.js";

function replacer(_key: string, value: unknown) {
  return value instanceof Float64Array ? Array.from(value, (x) => (Object.is(x, -0) ? "-0" : x)) : value;
}

test("tensors under BAND_POOL_BYTES adding up past WHOLE_WORKERS_BYTES go to worker threads; the report is the one-thread report", async () => {
  // A chain of square layers, each just under BAND_POOL_BYTES, enough of them to pass WHOLE_WORKERS_BYTES.
  const n = Math.floor(Math.sqrt(BAND_POOL_BYTES / 4)) - 8;
  const layers = Math.ceil(WHOLE_WORKERS_BYTES / (n * n * 4)) + 1;
  const random = prng(19);
  const tensors = Array.from({ length: layers }, (_, l) => {
    const values = new Float32Array(n * n);
    for (let i = 0; i < values.length; i++) values[i] = (random() - 0.5) * 0.1 * (l + 1);
    return { name: `${l}.weight`, dtype: "F32" as const, shape: [n, n], data: f32Bytes(values) };
  });
  const dir = mkdtempSync(join(tmpdir(), "cntscope-whole-"));
  const path = join(dir, "chain.safetensors");
  writeFileSync(path, writeSafetensors(tensors));
  try {
    const one = await analyzeFile(path, { perNode: true });
    let last = { bytesDone: 0, bytesTotal: 0 };
    const two = await analyzeFile(path, { perNode: true, workers: 2, onProgress: (p) => (last = p) });
    assert.is(firstDifference(JSON.parse(JSON.stringify(two, replacer)), JSON.parse(JSON.stringify(one, replacer))), null);
    assert.is(last.bytesDone, last.bytesTotal);
    assert.is(last.bytesTotal, layers * n * n * 4, "each tensor read once");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
