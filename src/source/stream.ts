import { abortError, CntError, formatCount } from "../errors.js";
import { isDetached, nextTurn } from "./guard.js";
import type { ByteSource } from "./types.js";

/** Bytes kept from the start of a stream, so format detection can look at them again. */
const HEAD_BYTES = 4096;

/**
 * Empty chunks in a row after which a stream counts as hung: a producer that answers every read
 * at once with nothing would otherwise keep the reader busy forever (issue 17). A stream that
 * has nothing yet does not answer; one that sends empty chunks now and then is fine.
 */
export const MAX_EMPTY_CHUNKS = 1 << 16;

/**
 * Milliseconds of chunks answered at once (a producer that enqueues as soon as it is pulled)
 * after which the reader gives the event loop a turn, so timers, I/O and an abort get through.
 */
const YIELD_AFTER_MS = 10;

/**
 * A one-shot ReadableStream of bytes (fetch().body, a Node stream via Readable.toWeb). Reads go
 * forward only: skipped bytes are dropped, the first 4 KiB are kept for format detection, and
 * nothing else is buffered beyond the stream's current chunk.
 */
export function streamSource(stream: ReadableStream<Uint8Array>, name = "<stream>", size?: number, signal?: AbortSignal): ByteSource {
  if (stream.locked) {
    throw new CntError("BAD_OPTION", `The stream '${name}' is locked to another reader; pass a stream nothing else reads (or stream.tee()).`, { file: name });
  }
  const reader = stream.getReader();
  // A stalled stream never answers read(): on abort, cancelling it settles the pending read.
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  let position = 0; // bytes consumed from the stream
  let pending: Uint8Array | undefined; // the unconsumed rest of the last chunk
  let pendingLength = 0; // its length when kept (a producer that detaches the chunk makes it 0)
  let done = false;
  let hung: CntError | undefined; // set when the producer sent MAX_EMPTY_CHUNKS empty chunks in a row
  let turnAt = Date.now();
  let reads = 0;

  async function nextChunk(wanted: number): Promise<Uint8Array> {
    if (pending && pendingLength > 0) {
      if (pending.byteLength !== pendingLength) throw detachedChunk();
      return pending;
    }
    for (let empty = 0; ; empty++) {
      if (hung) throw hung;
      if (done) throw truncated(wanted);
      if ((++reads & 15) === 0 && Date.now() - turnAt > YIELD_AFTER_MS) {
        await nextTurn();
        turnAt = Date.now();
      }
      if (empty >= MAX_EMPTY_CHUNKS) {
        // Later reads (a caller retrying a shorter read) fail at once the same way.
        hung = new CntError("TRUNCATED", `The stream '${name}' sent ${formatCount(empty)} empty chunks in a row at byte ${formatCount(position)}; its producer looks hung, so reading stopped.`, { file: name, offset: position, expected: wanted, actual: position });
        throw hung;
      }
      if (signal?.aborted) throw aborted();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw aborted();
        throw new CntError("TRUNCATED", `The stream '${name}' failed at byte ${formatCount(position)}: ${String(error)}.`, { file: name, offset: position, cause: error });
      }
      if (signal?.aborted) throw aborted();
      if (result.done) {
        done = true;
        throw truncated(wanted);
      }
      const chunk = result.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new CntError("BAD_OPTION", `The stream '${name}' must yield Uint8Array chunks; got ${Object.prototype.toString.call(chunk)}.`, { file: name });
      }
      if (chunk.byteLength > 0) return chunk;
      if (isDetached(chunk.buffer)) throw detachedChunk();
    }
  }

  function detachedChunk(): CntError {
    return new CntError("BAD_OPTION", `The stream '${name}' detached (transferred away) a chunk it had enqueued, at byte ${formatCount(position)}; a producer must not transfer or reuse the buffer of a chunk it has handed over.`, { file: name, offset: position });
  }

  function aborted(): CntError {
    return abortError(`Reading the stream '${name}' at byte ${formatCount(position)}`, signal, { file: name, offset: position });
  }

  function truncated(wanted: number): CntError {
    return new CntError(
      "TRUNCATED",
      position === 0
        ? `The stream '${name}' is empty, but ${formatCount(wanted)} bytes were needed.`
        : `The stream '${name}' ended at byte ${formatCount(position)}, but byte ${formatCount(wanted)} was needed; the file is truncated.`,
      { file: name, offset: position, expected: wanted, actual: position },
    );
  }

  function consume(chunk: Uint8Array, count: number, into?: Uint8Array, at = 0): void {
    if (into) into.set(chunk.subarray(0, count), at);
    if (headLength < HEAD_BYTES && position < HEAD_BYTES) {
      const keep = Math.min(count, HEAD_BYTES - position);
      head.set(chunk.subarray(0, keep), position);
      headLength = position + keep;
    }
    position += count;
    pending = chunk.subarray(count);
    pendingLength = pending.byteLength;
  }

  return {
    name,
    size,
    randomAccess: false,
    async readInto(offset, dest) {
      const end = offset + dest.byteLength;
      if (end <= headLength) {
        dest.set(head.subarray(offset, end));
        return;
      }
      if (offset < position) {
        if (offset >= headLength) {
          throw new CntError("INTERNAL", `Stream '${name}' was asked to go back to byte ${offset} from ${position}; streams only go forward.`, { file: name, offset });
        }
        // The request starts inside the kept head and runs past it: serve the head part first.
        const fromHead = headLength - offset;
        dest.set(head.subarray(offset, headLength));
        await this.readInto(headLength, dest.subarray(fromHead));
        return;
      }
      while (position < offset) {
        const chunk = await nextChunk(end);
        // The producer runs between our awaits and may have taken the chunk back meanwhile
        // (nextChunk never gives an empty chunk, so an empty one here was detached).
        if (chunk.byteLength === 0) throw detachedChunk();
        consume(chunk, Math.min(chunk.byteLength, offset - position));
      }
      let filled = 0;
      while (filled < dest.byteLength) {
        const chunk = await nextChunk(end);
        if (chunk.byteLength === 0) throw detachedChunk();
        const take = Math.min(chunk.byteLength, dest.byteLength - filled);
        consume(chunk, take, dest, filled);
        filled += take;
      }
    },
    async close() {
      signal?.removeEventListener("abort", onAbort);
      await reader.cancel().catch(() => undefined);
    },
  };
}
