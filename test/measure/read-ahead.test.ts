// The next block is read while the kernels work on this one, in the pass's order, and a failed
// read surfaces when its block is asked for.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CntError } from "../../src/errors.js";
import { ReadAhead, type BlockRead } from "../../src/measure/read-ahead.js";
import type { ByteSource } from "../../src/source/types.js";
import "../../src/entry/node-core.js";
import { Kernels } from "../../src/kernels/kernels.js";

/** A source whose byte at offset i is i % 251, each read finishing a tick later; it logs starts and ends. */
function slowSource(log: string[], failAt?: number): ByteSource {
  return {
    name: "slow",
    size: 1 << 20,
    randomAccess: true,
    async readInto(offset, dest) {
      log.push(`start ${offset}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (offset === failAt) throw new CntError("TRUNCATED", `no bytes at ${offset}`);
      for (let i = 0; i < dest.length; i++) dest[i] = (offset + i) % 251;
      log.push(`end ${offset}`);
    },
    async close() {},
  };
}

const reads = (count: number, bytes: number): BlockRead[] => Array.from({ length: count }, (_, i) => ({ offset: i * bytes, bytes }));

test("blocks come in order from two buffers in turn, each read started before its block is asked for", async () => {
  const kernels = await Kernels.create();
  const buffers: [number, number] = [kernels.base, kernels.base + 4096];
  const log: string[] = [];
  const ahead = new ReadAhead(kernels, slowSource(log), buffers, reads(5, 1000)[Symbol.iterator]());
  for (let i = 0; i < 5; i++) {
    const at = await ahead.next();
    assert.is(at, buffers[i & 1], `block ${i} buffer`);
    const bytes = kernels.bytes(at, 1000);
    assert.ok(bytes.every((b, j) => b === (i * 1000 + j) % 251), `block ${i} bytes`);
    // While block i is in use, block i + 1 is already being read (and no later one).
    if (i < 4) assert.ok(log.includes(`start ${(i + 1) * 1000}`), `read of block ${i + 1} started`);
    assert.not.ok(log.includes(`start ${(i + 2) * 1000}`), `read of block ${i + 2} not started`);
  }
  await ahead.close();
});

test("a failed read surfaces when its block is asked for; close() then returns", async () => {
  const kernels = await Kernels.create();
  const ahead = new ReadAhead(kernels, slowSource([], 2000), [kernels.base, kernels.base + 4096], reads(4, 1000)[Symbol.iterator]());
  await ahead.next();
  await ahead.next();
  const error = await ahead.next().then(() => null, (e) => e);
  assert.is(error?.code, "TRUNCATED");
  await ahead.close();
});

test("a pass that stops early (close before the last block) leaves no read running", async () => {
  const kernels = await Kernels.create();
  const log: string[] = [];
  const ahead = new ReadAhead(kernels, slowSource(log), [kernels.base, kernels.base + 4096], reads(4, 1000)[Symbol.iterator]());
  await ahead.next();
  await ahead.close();
  assert.equal(log, ["start 0", "end 0", "start 1000", "end 1000"]);
});

test("through(end): reads of their own places (a held tensor's file pieces) are done up to end, one more started, none beyond", async () => {
  const kernels = await Kernels.create();
  const log: string[] = [];
  // Pieces of uneven sizes that do not follow 1000-byte blocks (as a tensor's parts in shard files).
  const pieces: BlockRead[] = [{ offset: 0, bytes: 700 }, { offset: 700, bytes: 900 }, { offset: 1600, bytes: 1400 }, { offset: 3000, bytes: 1000 }];
  const ahead = new ReadAhead(kernels, slowSource(log), { at: (read) => kernels.base + read.offset }, pieces[Symbol.iterator]());
  for (const [end, done, started] of [[1000, [0, 700], [1600]], [2000, [0, 700, 1600], [3000]], [3000, [0, 700, 1600], [3000]], [4000, [0, 700, 1600, 3000], []]] as const) {
    await ahead.through(end);
    for (const offset of done) assert.ok(log.includes(`end ${offset}`), `through(${end}): piece at ${offset} read`);
    for (const offset of started) assert.ok(log.includes(`start ${offset}`), `through(${end}): piece at ${offset} started`);
    const furthest = Math.max(...log.filter((l) => l.startsWith("start")).map((l) => Number(l.slice(6))));
    assert.ok(furthest <= (started.length ? started[0] : done[done.length - 1]), `through(${end}): nothing started past the next piece (furthest ${furthest})`);
    const bytes = kernels.bytes(kernels.base, end);
    assert.ok(bytes.every((b, j) => b === j % 251), `through(${end}): bytes 0 to ${end} in place`);
  }
  await ahead.close();
});

test.run();
