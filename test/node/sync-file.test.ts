// The band pool workers' blocking reads (src/node/sync-file.ts): the bytes at the offset asked,
// TRUNCATED past the end or when the file shrank after it was opened, NOT_FOUND for no file.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CntError } from "../../src/errors.js";
import { syncFile } from "../../src/node/sync-file.js";

function withFile(bytes: Uint8Array, run: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "cntscope-sync-"));
  const path = join(dir, "f.bin");
  writeFileSync(path, bytes);
  try {
    run(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function codeOf(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    assert.instance(error, CntError);
    return (error as CntError).code;
  }
  return undefined;
}

const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);

test("reads the bytes at an offset into a view of wasm memory", () => {
  withFile(bytes, (path) => {
    const file = syncFile(path);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const dest = new Uint8Array(memory.buffer, 64, 300);
    file.read(500, dest);
    assert.equal(Array.from(dest), Array.from(bytes.subarray(500, 800)));
    file.close();
    file.close(); // twice is fine
  });
});

test("past the end, or after the file shrank, is TRUNCATED", () => {
  withFile(bytes, (path) => {
    const file = syncFile(path);
    assert.is(codeOf(() => file.read(900, new Uint8Array(101))), "TRUNCATED");
    truncateSync(path, 600);
    assert.is(codeOf(() => file.read(500, new Uint8Array(200))), "TRUNCATED");
    file.close();
  });
});

test("a missing file is NOT_FOUND", () => {
  assert.is(codeOf(() => syncFile(join(tmpdir(), "cntscope-no-such-file.bin"))), "NOT_FOUND");
});

test.run();
