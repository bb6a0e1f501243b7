import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { CntError } from "../errors.js";
import { checkRange } from "../source/memory.js";
import { fileSystemError } from "./fs-errors.js";
import { resolveSibling, type SiblingPolicy } from "./sibling.js";
import type { ByteSource } from "../source/types.js";

/** Reads up to this size are served from a read-ahead window of WINDOW bytes; larger ones go straight into the caller's buffer. */
const SMALL_READ = 16 * 1024;
const WINDOW = 1024 * 1024;

/**
 * A file on disk, read with positioned reads straight into the caller's buffer (which is a view
 * of wasm memory for tensor data): no intermediate copy, any file size (offsets above 4 GiB).
 */
export async function fileSource(path: string, policy: SiblingPolicy = {}): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw fileSystemError(error, `Cannot open '${path}'`, path);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new CntError("BAD_OPTION", `'${path}' is not a regular file.`, { file: path });
  }
  const name = basename(path);
  let closed = false;
  let window: { start: number; bytes: Uint8Array } | undefined;
  const readFully = async (offset: number, dest: Uint8Array) => {
    let filled = 0;
    while (filled < dest.byteLength) {
      const { bytesRead } = await handle.read(dest, filled, dest.byteLength - filled, offset + filled);
      if (bytesRead === 0) checkRange(name, offset + filled, dest.byteLength - filled, offset + filled);
      filled += bytesRead;
    }
  };
  return {
    name,
    size: stat.size,
    randomAccess: true,
    async readInto(offset, dest) {
      checkRange(name, offset, dest.byteLength, stat.size);
      if (dest.byteLength > SMALL_READ) return readFully(offset, dest);
      // Small reads (headers, the tensors of a checkpoint with 100,000 small ones) come from a
      // window read ahead: one system call for many, instead of one each.
      let hit = window;
      if (!hit || offset < hit.start || offset + dest.byteLength > hit.start + hit.bytes.byteLength) {
        const bytes = new Uint8Array(Math.min(WINDOW, stat.size - offset));
        await readFully(offset, bytes);
        window = hit = { start: offset, bytes };
      }
      dest.set(hit.bytes.subarray(offset - hit.start, offset - hit.start + dest.byteLength));
    },
    async close() {
      if (!closed) {
        closed = true;
        await handle.close();
      }
    },
    async sibling(relativePath) {
      return fileSource(await resolveSibling(path, relativePath, policy), policy);
    },
  };
}
