// Broken sources (hostile-inputs.md case 36): a stream that errors mid-tensor, a Blob whose read
// fails, an abort while a stream stalls, and 1-byte chunks giving the report of one chunk. Each
// ends in a CntError with the source's error as `cause`, and nothing waits forever. Also (issue
// 17): endless empty chunks, a ByteSource that never answers, one without close(), one that
// lies about its size, throws an engine error or detaches the buffer it fills.
// test/source/abort.test.ts has these in depth (inspect, convertToCnt, the file entries).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, CntError, toJSON } from "../../src/entry/node-core.js";
import type { ByteSource } from "../../src/source/types.js";
import { streamSource } from "../../src/source/stream.js";
import { chunkedStream } from "../helpers/sources.js";

const valid = new Uint8Array(readFileSync(new URL("./files/st-00-valid-mlp.safetensors", import.meta.url)));
const validCnt = new Uint8Array(readFileSync(new URL("./files/cnt-00-valid-mlp.cnt", import.meta.url)));

async function rejection(promise: Promise<unknown>, ms = 2000): Promise<CntError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([promise, hang]);
  } catch (error) {
    if (!(error instanceof CntError)) throw error;
    return error;
  } finally {
    clearTimeout(timer);
  }
  throw new Error("expected a rejection, got a report");
}

/** A stream of `bytes` that errors with `failure` once `at` bytes have been sent. */
function failingStream(bytes: Uint8Array, at: number, failure: Error): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= at) {
        controller.error(failure);
        return;
      }
      const n = Math.min(16, at - sent);
      controller.enqueue(bytes.slice(sent, sent + n));
      sent += n;
    },
  });
}

/** A stream that sends `at` bytes, then never answers again. */
function stalledStream(bytes: Uint8Array, at: number): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        controller.enqueue(bytes.slice(0, at));
        sent = true;
        return;
      }
      return new Promise<void>(() => {});
    },
  });
}

/** A caller's own ByteSource over `bytes`, with `overrides` applied. */
function byteSource(bytes: Uint8Array, overrides: Record<string, unknown> = {}): ByteSource {
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

/** A readInto over `bytes` whose reads reaching byte `from` never answer. */
function stallFrom(bytes: Uint8Array, from: number) {
  return (offset: number, dest: Uint8Array): Promise<void> => {
    if (offset + dest.byteLength > from) return new Promise<void>(() => {});
    dest.set(bytes.subarray(offset, offset + dest.byteLength));
    return Promise.resolve();
  };
}

/**
 * A stream that sends `at` bytes, then empty chunks, each at once (`onEmpty` runs at the first);
 * after 2,000,000 of them it closes, so that a reader that never yields still ends.
 */
function emptyAfter(bytes: Uint8Array, at: number, onEmpty?: () => void): ReadableStream<Uint8Array> {
  let sent = false;
  let empty = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(bytes.slice(0, at));
      } else if (++empty > 2_000_000) controller.close();
      else {
        if (empty === 1) onEmpty?.();
        controller.enqueue(new Uint8Array(0));
      }
    },
  });
}

/** The innermost cause (readers wrap a source's TRUNCATED in their own, keeping it as cause). */
function rootCause(e: CntError): unknown {
  let cause: unknown = e.cause;
  while (cause instanceof CntError) cause = cause.cause;
  return cause;
}

// Cut points inside a tensor: the last 20 bytes of the safetensors file are fc2.bias and the end
// of fc2.weight; in the .cnt file, data byte 132 (file byte 640 + 132) is inside fc2.weight.
for (const [label, bytes, cut] of [["safetensors", valid, valid.length - 20], ["cnt", validCnt, 640 + 132]] as const) {
  test(`${label}: a stream that errors mid-tensor is TRUNCATED with the stream's error as cause`, async () => {
    const failure = new Error("connection reset");
    const e = await rejection(analyze(failingStream(bytes, cut, failure), { name: "s" }));
    assert.is(e.code, "TRUNCATED", e.message);
    assert.match(e.message, "connection reset");
    assert.is(rootCause(e), failure);
  });

  test(`${label}: a stream that ends early is TRUNCATED`, async () => {
    const e = await rejection(analyze(chunkedStream(bytes.slice(0, cut), () => 5), { name: "s" }));
    assert.is(e.code, "TRUNCATED", e.message);
  });

  test(`${label}: a Blob whose read fails is TRUNCATED with the failure as cause`, async () => {
    const failure = new Error("NotReadableError: the file changed");
    class BrokenBlob extends Blob {
      override slice(start?: number, end?: number): Blob {
        const part = super.slice(start, end);
        if ((end ?? 0) > 100) return Object.assign(part, { arrayBuffer: () => Promise.reject(failure) });
        return part;
      }
    }
    const e = await rejection(analyze(new BrokenBlob([bytes as Uint8Array<ArrayBuffer>]), { name: "b" }));
    assert.is(e.code, "TRUNCATED", e.message);
    assert.is(rootCause(e), failure);
  });

  test(`${label}: an aborted signal ends the analysis with ABORTED`, async () => {
    const ac = new AbortController();
    ac.abort(new Error("user cancelled"));
    const e = await rejection(analyze(bytes, { name: "m", signal: ac.signal }));
    assert.is(e.code, "ABORTED", e.message);
  });

  test(`${label}: an abort while a stream stalls mid-tensor ends the read with AbortError`, async () => {
    for (const input of [() => stalledStream(bytes, cut), () => streamSource(stalledStream(bytes, cut), "s", undefined, undefined)]) {
      const ac = new AbortController();
      const reason = new Error("user cancelled");
      setTimeout(() => ac.abort(reason), 50);
      const e = await rejection(analyze(input(), { name: "s", signal: ac.signal }));
      assert.is(e.code, "ABORTED", e.message);
      assert.is(e.name, "AbortError");
      assert.is(e.cause, reason);
    }
  });

  test(`${label}: an abort while a ByteSource read never answers ends the call with AbortError`, async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const e = await rejection(analyze(byteSource(bytes, { readInto: stallFrom(bytes, cut) }), { signal: ac.signal }));
    assert.is(e.code, "ABORTED", e.message);
    assert.is(e.name, "AbortError");
  });

  test(`${label}: a stream of endless empty chunks mid-tensor can be aborted, and ends by itself`, async () => {
    const ac = new AbortController();
    const aborted = await rejection(analyze(emptyAfter(bytes, cut, () => setTimeout(() => ac.abort(), 20)), { name: "s", signal: ac.signal }), 10_000);
    assert.is(aborted.code, "ABORTED", aborted.message);
    const hung = await rejection(analyze(emptyAfter(bytes, cut), { name: "s" }), 30_000);
    assert.is(hung.code, "TRUNCATED", hung.message);
    assert.match(hung.message, "empty chunks");
  });

  test(`${label}: a ByteSource without close() gives the report of one with it`, async () => {
    const withClose = await analyze(byteSource(bytes));
    const without = byteSource(bytes);
    delete (without as { close?: unknown }).close;
    assert.is(toJSON(await analyze(without)), toJSON(withClose));
  });

  test(`${label}: a ByteSource that lies about its size, throws a RangeError or detaches its buffer ends in a CntError`, async () => {
    const failure = new RangeError("Invalid typed array length: -1");
    const cases: [Record<string, unknown>, string][] = [
      [{ size: -1 }, "BAD_OPTION"],
      [{ size: 2.5 }, "BAD_OPTION"],
      [{ readInto: () => { throw failure; } }, "TRUNCATED"],
      [{ readInto: async (offset: number, dest: Uint8Array) => { dest.set(bytes.subarray(offset, offset + dest.byteLength)); structuredClone(dest.buffer, { transfer: [dest.buffer as ArrayBuffer] }); } }, "BAD_OPTION"],
    ];
    for (const [overrides, code] of cases) {
      const e = await rejection(analyze(byteSource(bytes, overrides)));
      assert.is(e.code, code, e.message);
    }
  });

  test(`${label}: 1-byte chunks give exactly the report of one chunk`, async () => {
    const one = await analyze(chunkedStream(bytes, () => bytes.length), { name: "s" });
    const tiny = await analyze(chunkedStream(bytes, () => 1), { name: "s" });
    assert.is(toJSON(tiny), toJSON(one));
  });
}

test.run();
