import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { checkRange } from "../source/memory.js";
import { fileSystemError } from "./fs-errors.js";

/** A file read with blocking positioned reads: what a band pool's worker reads its blocks with (src/measure/read-ahead.ts SyncReads). */
export interface SyncFile {
  /** Fill `dest` with the bytes at [offset, offset + dest.length); TRUNCATED when the file ends first. */
  read(offset: number, dest: Uint8Array): void;
  close(): void;
}

/**
 * Open `path` for blocking positioned reads, straight into the caller's buffer (a view of wasm
 * memory): no thread pool, no copy.
 * @example
 *   const file = syncFile("model.safetensors");
 *   try { file.read(8, header); } finally { file.close(); }
 */
export function syncFile(path: string): SyncFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw fileSystemError(error, `Cannot open '${path}'`, path);
  }
  const size = fstatSync(fd).size;
  const name = basename(path);
  let open = true;
  return {
    read(offset, dest) {
      checkRange(name, offset, dest.byteLength, size);
      for (let filled = 0; filled < dest.byteLength; ) {
        let n: number;
        try {
          n = readSync(fd, dest, filled, dest.byteLength - filled, offset + filled);
        } catch (error) {
          throw fileSystemError(error, `Cannot read '${path}'`, path);
        }
        // The file shrank since it was opened.
        if (n === 0) checkRange(name, offset + filled, dest.byteLength - filled, offset + filled);
        filled += n;
      }
    },
    close() {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
  };
}
