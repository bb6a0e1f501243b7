import type { ReadHandle } from "./sibling.js";
import { CntError, quoteName } from "../errors.js";
import { checkRange } from "../source/memory.js";
import type { ByteSource } from "../source/types.js";

/** Reads up to this size are served from a read-ahead window; larger ones go straight into the caller's buffer. */
const SMALL_READ = 16 * 1024;
/**
 * The window's first size and its largest. A small read that misses the window reads
 * MIN_WINDOW bytes from its offset; each miss that goes on where the last window ended (small
 * tensors one after another, a checkpoint of 100,000 of them) doubles the window, up to
 * MAX_WINDOW; a miss elsewhere starts again from MIN_WINDOW. A lone bias, or the few bytes of a
 * tensor that a shard file ends with, thus costs 64 KiB, not 1 MiB.
 */
const MIN_WINDOW = 64 * 1024;
const MAX_WINDOW = 1024 * 1024;

/** What an opened file gives: its ByteSource (without siblings) and a way to let go of its window. */
export interface OpenedFile {
  source: ByteSource;
  /** Drop the read-ahead window (the file stays open, idle, holding no buffer). */
  dropWindow(): void;
}

/** Positioned reads of an open handle, small ones through a read-ahead window sized by how the reads run. */
export function openedFile(name: string, handle: ReadHandle, size: number): OpenedFile {
  let closed = false;
  let window: { start: number; bytes: Uint8Array } | undefined;
  /** End of the last window read, and the size the next one gets. */
  let windowEnd = -1;
  let windowSize = MIN_WINDOW;
  const readFully = async (offset: number, dest: Uint8Array) => {
    let filled = 0;
    while (filled < dest.byteLength) {
      const { bytesRead } = await handle.read(dest, filled, dest.byteLength - filled, offset + filled);
      if (bytesRead === 0) checkRange(name, offset + filled, dest.byteLength - filled, offset + filled);
      filled += bytesRead;
    }
  };
  const source: ByteSource = {
    name,
    size,
    randomAccess: true,
    async readInto(offset, dest) {
      if (closed) throw new CntError("INTERNAL", `${quoteName(name)} was read after it was closed.`, { file: name, offset });
      checkRange(name, offset, dest.byteLength, size);
      if (dest.byteLength > SMALL_READ) return readFully(offset, dest);
      // Small reads (headers, the tensors of a checkpoint with 100,000 small ones) come from a
      // window read ahead: one system call for many, instead of one each.
      let hit = window;
      if (!hit || offset < hit.start || offset + dest.byteLength > hit.start + hit.bytes.byteLength) {
        windowSize = offset >= windowEnd - SMALL_READ && offset <= windowEnd ? Math.min(MAX_WINDOW, windowSize * 2) : MIN_WINDOW;
        const bytes = new Uint8Array(Math.max(dest.byteLength, Math.min(windowSize, size - offset)));
        await readFully(offset, bytes);
        window = hit = { start: offset, bytes };
        windowEnd = offset + bytes.byteLength;
      }
      dest.set(hit.bytes.subarray(offset - hit.start, offset - hit.start + dest.byteLength));
    },
    async close() {
      if (!closed) {
        closed = true;
        window = undefined;
        await handle.close();
      }
    },
  };
  return {
    source,
    dropWindow() {
      window = undefined;
      windowEnd = -1;
      windowSize = MIN_WINDOW;
    },
  };
}
