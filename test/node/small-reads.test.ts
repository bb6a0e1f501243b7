// Small reads of a file come from a read-ahead window (one system call for many): a checkpoint
// of thousands of small tensors, some straddling the window's 1 MiB edges, reads as from memory.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { analyzeFile, fileSource } from "../../src/node/index.js";
import { firstDifference } from "../helpers/diff.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

test("3,000 tensors of 1,000 values (12 MB, tensors across the window's edges): the file's report is the bytes' report", async () => {
  const tensors = Array.from({ length: 3000 }, (_, k) => ({ name: `block.${k}.w`, dtype: "F32" as const, shape: [1000], data: f32Bytes(Array.from({ length: 1000 }, (_, i) => Math.sin(k * 1000 + i))) }));
  const bytes = writeSafetensors(tensors);
  const path = join(mkdtempSync(join(tmpdir(), "cntscope-small-")), "many.safetensors");
  writeFileSync(path, bytes);
  const strip = (r: object) => JSON.parse(JSON.stringify(r, (k, v) => (k === "source" ? undefined : v)));
  assert.is(firstDifference(strip(await analyzeFile(path)), strip(await analyze(bytes))), null);
});

test("small reads anywhere in the file, in any order, give the file's bytes", async () => {
  const bytes = new Uint8Array(3 * 1024 * 1024 + 123).map((_, i) => (i * 2654435761) >>> 24);
  const path = join(mkdtempSync(join(tmpdir(), "cntscope-small-")), "bytes.bin");
  writeFileSync(path, bytes);
  const source = await fileSource(path);
  try {
    for (const [offset, length] of [[0, 10], [1048570, 12], [1048576 - 1, 2], [5, 16384], [3 * 1024 * 1024 + 100, 23], [2_000_000, 1], [100, 16385], [1048000, 9000]]) {
      const dest = new Uint8Array(length);
      await source.readInto(offset, dest);
      assert.equal(dest, bytes.subarray(offset, offset + length), `${length} bytes at ${offset}`);
    }
  } finally {
    await source.close();
  }
});

test.run();
