/**
 * The ByteSource every public entry reads through (src/source/open.ts toByteSource): it checks
 * a caller's own ByteSource once, races every read against the call's AbortSignal, and turns
 * whatever a source does wrong into a CntError.
 *
 *   abort     a pending read (a source that never answers) rejects at once with AbortError;
 *             its late answer is ignored. Between reads the event loop gets a turn now and then,
 *             so an abort requested by a timer or a UI event arrives while bytes stream in from
 *             memory (whose reads never wait for I/O);
 *   contract  `name`, `size`, `randomAccess`, `readInto`, `close`, `sibling` checked up front
 *             (BAD_OPTION); a missing close() is a no-op; a read that detaches the buffer it was
 *             given to fill is BAD_OPTION;
 *   failures  a read that throws or rejects with anything but a CntError (a RangeError, a string)
 *             is TRUNCATED with the failure as cause, as a failing Blob or stream is;
 *   close     called once; its failure is ignored (every byte needed has been read by then), and
 *             after an abort it is not waited for.
 */
import { abortError, CntError, formatCount, quoteName, throwIfAborted } from "../errors.js";
import type { ByteSource } from "./types.js";

/** Milliseconds of reads without a turn of the event loop, when a signal could abort them. */
const YIELD_AFTER_MS = 50;

/** The name a caller's source goes by when it has none. */
const UNNAMED = "<source>";

/**
 * Check a ByteSource the caller wrote (not one of ours): every field of the interface has the
 * type it must have; a missing close() is allowed. Throws BAD_OPTION naming the field.
 */
export function checkByteSource(input: object, fallbackName = UNNAMED): ByteSource {
  const s = input as Partial<Record<keyof ByteSource, unknown>>;
  const name = s.name === undefined ? fallbackName : s.name;
  const bad = (field: string, must: string, got: unknown) =>
    new CntError("BAD_OPTION", `The ByteSource ${typeof name === "string" ? quoteName(name) : "given"}: ${field} must be ${must}; got ${describe(got)}.`, { file: typeof name === "string" ? name : undefined });
  if (typeof name !== "string") throw bad("name", "a string", name);
  if (typeof s.readInto !== "function") throw bad("readInto", "a function (offset, dest) => Promise<void>", s.readInto);
  if (s.size !== undefined && !(typeof s.size === "number" && Number.isSafeInteger(s.size) && s.size >= 0)) {
    throw bad("size", "undefined (unknown) or a whole number of bytes from 0 to 2^53 - 1", s.size);
  }
  if (typeof s.randomAccess !== "boolean") throw bad("randomAccess", "true or false (false: reads only go forward)", s.randomAccess);
  if (s.close !== undefined && typeof s.close !== "function") throw bad("close", "a function or absent", s.close);
  if (s.sibling !== undefined && typeof s.sibling !== "function") throw bad("sibling", "a function or absent", s.sibling);
  if (s.name !== undefined) return input as ByteSource;
  // A source without a name: give it one without touching the caller's object (its methods are
  // still called on it, so a class with private fields works).
  const source = input as ByteSource;
  return {
    name: fallbackName,
    size: source.size,
    randomAccess: source.randomAccess,
    readInto: (offset, dest) => source.readInto(offset, dest),
    close: async () => source.close?.(),
    ...(source.sibling ? { sibling: (relativePath: string) => source.sibling!(relativePath) } : {}),
  };
}

/** Throw BAD_OPTION unless `signal` is undefined or looks like an AbortSignal. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const s = signal as Partial<AbortSignal> | null;
  if (typeof s !== "object" || s === null || typeof s.aborted !== "boolean" || typeof s.addEventListener !== "function" || typeof s.removeEventListener !== "function") {
    throw new CntError("BAD_OPTION", `Option signal must be an AbortSignal (new AbortController().signal); got ${describe(signal)}.`);
  }
  return signal as AbortSignal;
}

/**
 * Settle with `work`, or reject with AbortError as soon as `signal` aborts, whichever is first.
 * `work` may still settle later: that answer is dropped (a late rejection is not unhandled).
 * @example await untilAborted(source.readInto(0, head), signal, "Reading 'model.onnx'")
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string | (() => string), details: ConstructorParameters<typeof CntError>[2] = {}): Promise<T> {
  if (!signal) return work;
  const error = () => abortError(typeof what === "string" ? what : what(), signal, details);
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(error());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(error());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Give the event loop a turn (timers, I/O, an abort from a UI event), not just the microtask
 * queue. Where setImmediate exists (Node, Bun), a zero timer: an immediate runs in the loop's
 * check phase, and work that was itself started from a timer callback would reach the next
 * timers phase only after it ends, so a timer set to abort it never ran (Node's zero timer is
 * 1 ms, not clamped). Elsewhere a message through a fresh MessageChannel, closed at once (a zero
 * timer chained from timers is clamped to 4 ms in browsers); a zero timer where neither exists.
 */
export function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (callback: () => void) => unknown };
  if (typeof g.setImmediate === "function") return new Promise((resolve) => setTimeout(resolve, 0));
  if (typeof MessageChannel === "function") {
    return new Promise((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => {
        port1.close();
        port2.close();
        resolve();
      };
      port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** `source` read under `signal`, with the rules above. Siblings it opens are guarded the same way. */
export function guardSource(source: ByteSource, signal?: AbortSignal): ByteSource {
  const { name } = source;
  const quoted = quoteName(name);
  let closed = false;
  let turnAt = Date.now();
  const guarded: ByteSource = {
    name,
    size: source.size,
    randomAccess: source.randomAccess,
    async readInto(offset, dest) {
      const where = { file: name, offset };
      const what = () => `Reading ${quoted} at byte ${formatCount(offset)}`;
      if (signal) {
        if (Date.now() - turnAt > YIELD_AFTER_MS) {
          await nextTurn();
          turnAt = Date.now();
        }
        if (signal.aborted) throw abortError(what(), signal, where);
      }
      const length = dest.byteLength;
      try {
        await untilAborted(call(() => source.readInto(offset, dest)), signal, what, where);
      } catch (error) {
        if (error instanceof CntError) throw error;
        if (dest.byteLength !== length) throw detached(name, offset, length, error);
        throw new CntError("TRUNCATED", `Reading ${quoted} failed at byte ${formatCount(offset)}: ${describeError(error)}.`, { ...where, cause: error });
      }
      if (dest.byteLength !== length) throw detached(name, offset, length);
    },
    async close() {
      if (closed) return;
      closed = true;
      const closing = call(() => source.close?.()).catch(() => undefined);
      // After an abort the call settles now; the source finishes closing on its own.
      if (signal?.aborted) return;
      await untilAborted(closing, signal, () => `Closing ${quoted}`).catch(() => undefined);
    },
  };
  if (source.sibling) {
    guarded.sibling = async (relativePath) => {
      const what = `Opening ${quoteName(relativePath)} beside ${quoteName(name)}`;
      throwIfAborted(signal, what, { file: name });
      const opening = call(() => source.sibling!(relativePath));
      let opened: ByteSource;
      try {
        opened = await untilAborted(opening, signal, what, { file: name });
      } catch (error) {
        // A sibling opened after the abort is closed as soon as it arrives.
        if (signal?.aborted) void opening.then((late) => late?.close?.()).catch(() => undefined);
        if (error instanceof CntError) throw error;
        throw new CntError("TRUNCATED", `${what} failed: ${describeError(error)}.`, { file: name, cause: error });
      }
      if (typeof opened !== "object" || opened === null) {
        throw new CntError("BAD_OPTION", `The ByteSource ${quoteName(name)}: sibling(${quoteName(relativePath)}) must give a ByteSource; got ${describe(opened)}.`, { file: name });
      }
      return guardSource(checkByteSource(opened, relativePath), signal);
    };
  }
  return guarded;
}

/**
 * True when `buffer` was detached (transferred away): a view over it then reads as empty, which
 * an empty chunk also does. `detached` where the runtime has it, else constructing a view fails.
 */
export function isDetached(buffer: ArrayBufferLike): boolean {
  if ("detached" in buffer && typeof buffer.detached === "boolean") return buffer.detached;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Run `f` and give its answer as a promise (a synchronous throw becomes a rejection). */
function call<T>(f: () => T | PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (error) {
    return Promise.reject(error);
  }
}

function detached(name: string, offset: number, length: number, cause?: unknown): CntError {
  return new CntError(
    "BAD_OPTION",
    `The ByteSource ${quoteName(name)} detached the buffer it was given to fill at byte ${formatCount(offset)} (${formatCount(length)} bytes); readInto must write into dest in place, not transfer its buffer.`,
    { file: name, offset, cause },
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : describe(error);
}

/** A value as a message quotes it: strings quoted and cut, objects by their tag. */
function describe(value: unknown): string {
  if (typeof value === "string") return quoteName(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}
