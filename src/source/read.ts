import type { ByteSource } from "./types.js";

/** Bytes a growing read adds at a time. */
const STEP = 1 << 20;

/**
 * Read `length` bytes at `offset` into a buffer of their own. With a known size the caller has
 * already checked `length` against it, so the buffer is allocated at once; from a stream of
 * unknown size it is filled a step at a time and joined at the end, so a forged length (a header
 * that claims 16 MiB in a 100-byte stream) costs about the bytes that really arrive, not the
 * declared count.
 * @example const header = await readBytes(source, 8, declaredLength)
 */
export async function readBytes(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (source.size !== undefined || length <= STEP) {
    const out = new Uint8Array(length);
    await source.readInto(offset, out);
    return out;
  }
  const parts: Uint8Array[] = [];
  for (let done = 0; done < length; ) {
    const part = new Uint8Array(Math.min(STEP, length - done));
    await source.readInto(offset + done, part);
    parts.push(part);
    done += part.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
