// Streams and abort that always settle (issue 17, point 4): a stream of endless empty chunks does
// not spin and can be aborted, an abort settles a call while a ByteSource read is pending, and a
// user ByteSource that lacks close(), lies about its size, throws engine errors or detaches the
// buffer it was given ends in a CntError, never a raw engine error. Time limits here are only
// there so that a regression fails instead of hanging the run; nothing asserts speed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, CntError, convertToCnt, inspect, toJSON } from "../../src/entry/node-core.js";
import { analyzeFile, convertFile, inspectFile } from "../../src/node/index.js";
import type { ByteSource } from "../../src/source/types.js";
import { writeSafetensors } from "../helpers/safetensors-writer.js";
import { chunkedStream, prng } from "../helpers/sources.js";

const valid = new Uint8Array(readFileSync(new URL("../hostile/files/st-00-valid-mlp.safetensors", import.meta.url)));
/** A byte inside the last tensor (the file's last 20 bytes are fc2.bias and the end of fc2.weight). */
const MID_TENSOR = valid.length - 20;

/** The call's outcome within `ms` (a settled report, a CntError, or another error), or "hang". */
async function outcome(promise: Promise<unknown>, ms = 5000): Promise<{ error?: unknown; value?: unknown } | "hang"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((resolve) => (timer = setTimeout(() => resolve("hang"), ms)));
  try {
    return await Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Expect a CntError with `code` within `ms`; return it. */
async function rejection(promise: Promise<unknown>, code: string, ms = 5000): Promise<CntError> {
  const result = await outcome(promise, ms);
  if (result === "hang") throw new assert.Assertion({ message: `expected ${code}, but nothing settled within ${ms} ms`, generated: false, operator: "rejects" } as never);
  if (!("error" in result)) throw new assert.Assertion({ message: `expected ${code}, got a result`, generated: false, operator: "rejects" } as never);
  const e = result.error;
  assert.instance(e, CntError, `not a CntError: ${String(e)}`);
  assert.is((e as CntError).code, code, (e as CntError).message);
  return e as CntError;
}

/** An aborted call: name AbortError (as the platform's), code ABORTED, the signal's reason as cause. */
function assertAbort(e: CntError, reason: unknown): void {
  assert.is(e.name, "AbortError");
  assert.is(e.code, "ABORTED");
  assert.is(e.cause, reason);
}

/** Drain convertToCnt into one array. */
async function convert(input: Parameters<typeof convertToCnt>[0], options: Parameters<typeof convertToCnt>[1] = {}): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of convertToCnt(input, options)) chunks.push(chunk);
  return chunks;
}

/**
 * A stream that sends the first `head` bytes of the valid file, then nothing but empty chunks;
 * after `cap` pulls it closes, so that even a loop that never yields ends (with TRUNCATED). `pulls`
 * counts the empty chunks handed out.
 */
function emptyChunks(head: number, cap: number, onFirstEmpty?: () => void) {
  const state = { pulls: 0, stream: undefined as unknown as ReadableStream<Uint8Array> };
  let sent = false;
  state.stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        if (head > 0) {
          controller.enqueue(valid.slice(0, head));
          return;
        }
      }
      if (++state.pulls === 1) onFirstEmpty?.();
      if (state.pulls > cap) controller.close();
      else controller.enqueue(new Uint8Array(0));
    },
  });
  return state;
}

/** A ByteSource over the valid file whose reads reaching `from` never answer. */
function stallingSource(from: number, extra: Partial<ByteSource> = {}) {
  let onStall = () => {};
  /** Settles at the first read that never answers. */
  const stall = new Promise<void>((resolve) => (onStall = resolve));
  const state = { closed: 0, stalled: 0, stall };
  const source: ByteSource = {
    name: "stalling",
    size: valid.length,
    randomAccess: true,
    readInto(offset, dest) {
      if (offset + dest.byteLength > from) {
        state.stalled++;
        onStall();
        return new Promise<void>(() => {});
      }
      dest.set(valid.subarray(offset, offset + dest.byteLength));
      return Promise.resolve();
    },
    async close() {
      state.closed++;
    },
    ...extra,
  };
  return { source, state };
}

/** A plain user ByteSource over `bytes` (what a caller could write), with `overrides` applied. */
function userSource(bytes: Uint8Array, overrides: Record<string, unknown> = {}): ByteSource {
  return {
    name: "user",
    size: bytes.length,
    randomAccess: true,
    async readInto(offset: number, dest: Uint8Array) {
      dest.set(bytes.subarray(offset, offset + dest.byteLength));
    },
    async close() {},
    ...overrides,
  } as ByteSource;
}

// --- 1. endless empty chunks ---------------------------------------------------------------------

for (const [label, head] of [["before the header", 0], ["mid-tensor", MID_TENSOR]] as const) {
  test(`endless empty chunks ${label}: timers run while the stream is read`, async () => {
    let pullsWhenTimerFired = -1;
    let fire: () => void = () => {};
    const fired = new Promise<void>((resolve) => (fire = resolve));
    // The timer is set once the empty chunks have begun, from inside the stream's pull.
    const s = emptyChunks(head, 2_000_000, () => setTimeout(() => ((pullsWhenTimerFired = s.pulls), fire()), 5));
    const ac = new AbortController();
    const run = outcome(analyze(s.stream, { name: "empty", signal: ac.signal }));
    await fired;
    ac.abort(new Error("stop"));
    await run;
    // A loop that never yields lets the timer run only after the stream has closed.
    assert.ok(pullsWhenTimerFired >= 0 && pullsWhenTimerFired < 2_000_000, `the timer fired after ${pullsWhenTimerFired} empty chunks`);
  });

  test(`endless empty chunks ${label}: an abort settles analyze() with AbortError`, async () => {
    const ac = new AbortController();
    const reason = new Error("user cancelled");
    const s = emptyChunks(head, 2_000_000, () => setTimeout(() => ac.abort(reason), 20));
    const e = await rejection(analyze(s.stream, { name: "empty", signal: ac.signal }), "ABORTED", 10_000);
    assertAbort(e, reason);
    assert.ok(s.pulls < 2_000_000, `the stream ran dry first (${s.pulls} empty chunks)`);
  });

  test(`endless empty chunks ${label}: without an abort the read gives up with TRUNCATED`, async () => {
    const s = emptyChunks(head, 2_000_000);
    const e = await rejection(analyze(s.stream, { name: "empty" }), "TRUNCATED", 30_000);
    assert.match(e.message, "empty chunks");
    assert.ok(s.pulls < 2_000_000, `the stream ran dry first (${s.pulls} empty chunks)`);
  });
}

test("a few empty chunks between data chunks are harmless", async () => {
  let at = 0;
  let flip = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      flip = !flip;
      if (flip) return controller.enqueue(new Uint8Array(0));
      if (at >= valid.length) return controller.close();
      controller.enqueue(valid.slice(at, at + 7));
      at += 7;
    },
  });
  const report = await analyze(stream, { name: "s" });
  assert.is(toJSON(report), toJSON(await analyze(chunkedStream(valid, () => 7), { name: "s" })));
});

// --- 2. an abort while a ByteSource read is pending ----------------------------------------------

for (const [label, from] of [["the header", 0], ["a tensor", MID_TENSOR]] as const) {
  test(`a ByteSource read of ${label} that never answers: abort settles analyze() and closes the source`, async () => {
    const { source, state } = stallingSource(from);
    const ac = new AbortController();
    const reason = new Error("user cancelled");
    // Abort once the read is pending (a fixed delay raced the reading on a loaded machine).
    void state.stall.then(() => setTimeout(() => ac.abort(reason), 5));
    const e = await rejection(analyze(source, { signal: ac.signal }), "ABORTED");
    assertAbort(e, reason);
    assert.ok(state.stalled > 0, "the read stalled");
    assert.is(state.closed, 1, "closed once");
  });
}

test("a ByteSource read that never answers: abort settles inspect()", async () => {
  const { source } = stallingSource(0);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  const e = await rejection(inspect(source, { signal: ac.signal }), "ABORTED");
  assert.is(e.name, "AbortError");
  assert.instance(e.cause, DOMException, "the default reason (an AbortError DOMException) is the cause");
});

test("a ByteSource read that never answers: abort settles convertToCnt()", async () => {
  const { source, state } = stallingSource(MID_TENSOR);
  const ac = new AbortController();
  const reason = new Error("user cancelled");
  setTimeout(() => ac.abort(reason), 30);
  const e = await rejection(convert(source, { signal: ac.signal }), "ABORTED");
  assertAbort(e, reason);
  assert.is(state.closed, 1, "closed once");
});

test("an abort from a timer reaches an analysis of bytes in memory (reads that never wait still give timers a turn)", async () => {
  const rows = 2048;
  const cols = 4096; // 32 MiB of f32: many blocks, two passes
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001);
  const model = writeSafetensors([{ name: "0.weight", dtype: "F32", shape: [rows, cols], data: new Uint8Array(data.buffer) }]);
  const ac = new AbortController();
  let last = { bytesDone: 0, bytesTotal: 1 };
  let timerSet = false;
  const run = analyze(model, {
    signal: ac.signal,
    onProgress: (p) => {
      last = p;
      if (!timerSet) {
        timerSet = true;
        setTimeout(() => ac.abort(), 0);
        // Work longer than the guard's 50 ms without a turn, whatever the machine's speed, so the
        // next read must give the timer its turn (a fast machine could otherwise finish first).
        const until = Date.now() + 80;
        while (Date.now() < until);
      }
    },
  });
  const e = await rejection(run, "ABORTED", 60_000);
  assert.is(e.name, "AbortError");
  assert.ok(last.bytesDone < last.bytesTotal, `the analysis ran to its end (${last.bytesDone} of ${last.bytesTotal} bytes) before the timer could abort it`);
});

test("an abort before the call rejects at once with AbortError, even for input that would fail", async () => {
  const ac = new AbortController();
  ac.abort();
  for (const input of [valid, new Uint8Array(3)]) {
    assert.is((await rejection(analyze(input, { signal: ac.signal }), "ABORTED")).name, "AbortError");
    assert.is((await rejection(inspect(input, { signal: ac.signal }), "ABORTED")).name, "AbortError");
    assert.is((await rejection(convert(input, { signal: ac.signal }), "ABORTED")).name, "AbortError");
  }
});

test("a read that answers late, after the abort, is ignored (no unhandled rejection)", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const ac = new AbortController();
    const source = userSource(valid, {
      readInto(offset: number, dest: Uint8Array) {
        if (offset + dest.byteLength <= MID_TENSOR) {
          dest.set(valid.subarray(offset, offset + dest.byteLength));
          return Promise.resolve();
        }
        ac.abort();
        return new Promise<void>((_, reject) => setTimeout(() => reject(new Error("late failure")), 50));
      },
    });
    await rejection(analyze(source, { signal: ac.signal }), "ABORTED");
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

// --- 3. user ByteSources: missing close, bad values, engine errors, detached buffers ----------------

test("a user ByteSource without close() works like one with it", async () => {
  const source = userSource(valid, { close: undefined });
  delete (source as { close?: unknown }).close;
  const expected = toJSON(await analyze(valid, { name: "user" }));
  assert.is(toJSON(await analyze(source)), expected);
  const described = await inspect(userSource(valid, { close: undefined }));
  assert.ok(described.tensors.length > 0);
  assert.ok((await convert(userSource(valid, { close: undefined }))).length > 0);
});

test("a user ByteSource without a name, written as a class with private fields, works (named by options.name)", async () => {
  class Source {
    #bytes = valid;
    readonly size = valid.length;
    readonly randomAccess = true;
    async readInto(offset: number, dest: Uint8Array) {
      dest.set(this.#bytes.subarray(offset, offset + dest.byteLength));
    }
  }
  const report = await analyze(new Source() as unknown as ByteSource, { name: "user" });
  assert.is(toJSON(report), toJSON(await analyze(userSource(valid))));
  assert.is((await inspect(new Source() as unknown as ByteSource)).name !== undefined, true);
});

test("a user ByteSource whose close() throws or never answers does not change the result", async () => {
  const expected = toJSON(await analyze(valid, { name: "user" }));
  assert.is(toJSON(await analyze(userSource(valid, { close: () => { throw new RangeError("close failed"); } }))), expected);
  assert.is(toJSON(await analyze(userSource(valid, { close: () => Promise.reject(new Error("close failed")) }))), expected);
  const ac = new AbortController();
  const hanging = analyze(userSource(valid, { close: () => { ac.abort(); return new Promise(() => {}); } }), { signal: ac.signal });
  const result = await outcome(hanging);
  assert.ok(result !== "hang", "a close() that never answers is not waited for after an abort");
});

for (const [label, overrides, phrase] of [
  ["size -1", { size: -1 }, "size"],
  ["size NaN", { size: NaN }, "size"],
  ["size 1.5", { size: 1.5 }, "size"],
  ["size '100'", { size: "100" }, "size"],
  ["size 2^60", { size: 2 ** 60 }, "size"],
  ["randomAccess missing", { randomAccess: undefined }, "randomAccess"],
  ["readInto not a function", { readInto: 7 }, "readInto"],
  ["name not a string", { name: 12 }, "name"],
  ["close not a function", { close: 42 }, "close"],
  ["sibling not a function", { sibling: "x" }, "sibling"],
] as [string, Record<string, unknown>, string][]) {
  test(`a user ByteSource with ${label} is BAD_OPTION naming the field`, async () => {
    for (const run of [() => analyze(userSource(valid, overrides)), () => inspect(userSource(valid, overrides)), () => convert(userSource(valid, overrides))]) {
      const e = await rejection(run(), "BAD_OPTION");
      assert.match(e.message, phrase);
    }
  });
}

for (const [label, readInto] of [
  ["throws a RangeError", () => { throw new RangeError("Invalid typed array length: -1"); }],
  ["rejects with a RangeError", () => Promise.reject(new RangeError("Invalid typed array length: -1"))],
  ["rejects with a string", () => Promise.reject("disk on fire")],
  ["rejects with undefined", () => Promise.reject(undefined)],
] as [string, () => Promise<void>][]) {
  test(`a user ByteSource whose readInto ${label} ends in TRUNCATED with the failure as cause`, async () => {
    for (const run of [() => analyze(userSource(valid, { readInto })), () => inspect(userSource(valid, { readInto })), () => convert(userSource(valid, { readInto }))]) {
      const e = await rejection(run(), "TRUNCATED");
      assert.match(e.message, "user");
    }
  });
}

test("a user ByteSource whose readInto fails mid-tensor keeps the failure as cause", async () => {
  const failure = new RangeError("Invalid typed array length: -1");
  const source = userSource(valid, {
    async readInto(offset: number, dest: Uint8Array) {
      if (offset + dest.byteLength > MID_TENSOR) throw failure;
      dest.set(valid.subarray(offset, offset + dest.byteLength));
    },
  });
  const e = await rejection(analyze(source), "TRUNCATED");
  let cause: unknown = e.cause;
  while (cause instanceof CntError) cause = cause.cause;
  assert.is(cause, failure);
});

const detachers: [string, (dest: Uint8Array) => void][] = [["structuredClone(..., { transfer })", (dest) => void structuredClone(dest.buffer, { transfer: [dest.buffer as ArrayBuffer] })]];
// ArrayBuffer.prototype.transfer: Node 21 and later.
if ("transfer" in ArrayBuffer.prototype) detachers.push(["ArrayBuffer.prototype.transfer", (dest) => void (dest.buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer()]);
for (const [label, detach] of detachers) {
  for (const [where, from] of [["the header", 0], ["a tensor", MID_TENSOR]] as const) {
    test(`a user ByteSource that detaches the buffer it fills (${label}) while reading ${where} is BAD_OPTION`, async () => {
      const source = () =>
        userSource(valid, {
          async readInto(offset: number, dest: Uint8Array) {
            dest.set(valid.subarray(offset, offset + dest.byteLength));
            // Wasm memory cannot be detached (transfer throws TypeError); plain buffers can.
            if (offset + dest.byteLength > from) detach(dest);
          },
        });
      for (const run of [() => analyze(source()), () => inspect(source()), () => convert(source())]) {
        const result = await outcome(run());
        assert.ok(result !== "hang", "settles");
        if ("value" in result) continue; // every read of this call went into wasm memory, which cannot be detached
        const e = result.error;
        assert.instance(e, CntError, `not a CntError: ${String(e)}`);
        // Header reads go into plain buffers (detached: BAD_OPTION); tensor reads into wasm
        // memory, which cannot be detached: the source's own TypeError is then TRUNCATED.
        if (from === 0) assert.is((e as CntError).code, "BAD_OPTION", (e as CntError).message);
        else assert.ok(["BAD_OPTION", "TRUNCATED"].includes((e as CntError).code), (e as CntError).message);
      }
    });
  }
}

test("a stream whose producer detaches a chunk it has handed over is BAD_OPTION, not a skipped range", async () => {
  let step = 0;
  let first: Uint8Array | undefined;
  // highWaterMark 1: the stream pulls again as soon as the first chunk is read, while the
  // reader still holds most of it.
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      step++;
      if (step === 1) {
        first = valid.slice(0, 300);
        controller.enqueue(first);
      } else if (step === 2) {
        structuredClone(first!.buffer, { transfer: [first!.buffer as ArrayBuffer] });
        controller.enqueue(valid.slice(300));
      } else controller.close();
    },
  });
  const e = await rejection(analyze(stream, { name: "s" }), "BAD_OPTION");
  assert.match(e.message, "detached");
});

test("a thing that is neither input nor ByteSource is BAD_OPTION from every entry", async () => {
  for (const input of [{}, { readInto: "no" }, null, 42] as never[]) {
    await rejection(analyze(input), "BAD_OPTION");
    await rejection(inspect(input), "BAD_OPTION");
    await rejection(convert(input), "BAD_OPTION");
  }
});

test("a ByteSource that misbehaves at random, read after read, always ends in a report or a CntError (seeded)", async () => {
  const random = prng(17);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const thrown = [new RangeError("Invalid typed array length: -1"), new TypeError("x is not a function"), "a string", undefined, null, { code: 7 }, 42];
  type Act = (offset: number, dest: Uint8Array, abort: () => void) => unknown;
  const acts: Act[] = [
    (offset, dest) => { throw pick(thrown); },
    (offset, dest) => Promise.reject(pick(thrown)),
    (offset, dest) => {
      dest.set(valid.subarray(offset, offset + dest.byteLength));
      try {
        structuredClone(dest.buffer, { transfer: [dest.buffer as ArrayBuffer] });
      } catch {
        // wasm memory cannot be detached
      }
    },
    (offset, dest) => { dest.set(valid.subarray(offset, offset + dest.byteLength)); return 12345; }, // not a promise
    async (offset, dest) => { dest.set(valid.subarray(offset, offset + dest.byteLength)); return { junk: true }; },
    async (offset, dest) => dest.set(valid.subarray(offset, offset + Math.floor(dest.byteLength / 2))), // half filled
    (offset, dest, abort) => { setTimeout(abort, 1); return new Promise(() => {}); }, // hangs, then the caller aborts
  ];
  const outcomes = new Map<string, number>();
  for (let run = 0; run < 150; run++) {
    const ac = new AbortController();
    const failAt = Math.floor(random() * 6);
    const act = pick(acts);
    let reads = 0;
    const source = userSource(valid, {
      readInto(offset: number, dest: Uint8Array) {
        if (reads++ === failAt) return act(offset, dest, () => ac.abort());
        dest.set(valid.subarray(offset, offset + dest.byteLength));
        return Promise.resolve();
      },
    });
    const entry = pick([() => analyze(source, { signal: ac.signal }), () => inspect(source, { signal: ac.signal }), () => convert(source, { signal: ac.signal })]);
    const result = await outcome(entry());
    assert.ok(result !== "hang", `run ${run}: no answer`);
    if ("error" in result) {
      assert.instance(result.error, CntError, `run ${run}: ${String(result.error)}`);
      const e = result.error as CntError;
      if (ac.signal.aborted) assert.is(e.name, "AbortError", `run ${run}: ${e.message}`);
      outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
    } else outcomes.set("settled", (outcomes.get("settled") ?? 0) + 1);
  }
  assert.ok(outcomes.size >= 3, `outcomes: ${JSON.stringify([...outcomes])}`);
});

// --- 4. the file entries of cntscope/node ---------------------------------------------------------

const validPath = new URL("../hostile/files/st-00-valid-mlp.safetensors", import.meta.url).pathname;

test("analyzeFile, inspectFile and convertFile with a signal aborted before the call reject with AbortError", async () => {
  const ac = new AbortController();
  const reason = new Error("user cancelled");
  ac.abort(reason);
  const dir = mkdtempSync(join(tmpdir(), "cntscope-abort-"));
  try {
    for (const run of [
      () => analyzeFile(validPath, { signal: ac.signal }),
      () => analyzeFile(validPath, { signal: ac.signal, workers: 2 }),
      () => inspectFile(validPath, { signal: ac.signal }),
      () => convertFile(validPath, join(dir, "out.cnt"), { signal: ac.signal }),
    ]) {
      assertAbort(await rejection(run(), "ABORTED"), reason);
    }
    assert.equal(readdirSync(dir), [], "no output and no partial file");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("convertFile aborted at its first progress rejects with AbortError and leaves no file", async () => {
  const ac = new AbortController();
  const dir = mkdtempSync(join(tmpdir(), "cntscope-abort-"));
  try {
    const e = await rejection(convertFile(validPath, join(dir, "out.cnt"), { signal: ac.signal, blockBytes: 64, onProgress: () => ac.abort() }), "ABORTED");
    assert.is(e.name, "AbortError");
    assert.not.ok(existsSync(join(dir, "out.cnt")));
    assert.equal(readdirSync(dir), [], "no partial file");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a signal that is not an AbortSignal is BAD_OPTION", async () => {
  for (const signal of [{ aborted: false }, "stop", 1] as never[]) {
    const e = await rejection(analyze(valid, { signal }), "BAD_OPTION");
    assert.match(e.message, "signal");
    await rejection(inspect(valid, { signal }), "BAD_OPTION");
    await rejection(convert(valid, { signal }), "BAD_OPTION");
  }
});

test.run();
