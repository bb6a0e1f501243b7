import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { CntError } from "../errors.js";
import { fileSystemError } from "./fs-errors.js";
import { openedFile } from "./opened-file.js";
import { SiblingHandles } from "./sibling-handles.js";
import type { SiblingPolicy } from "./sibling-policy.js";
import type { ByteSource } from "../source/types.js";

/**
 * A file on disk, read with positioned reads straight into the caller's buffer (which is a view
 * of wasm memory for tensor data): no intermediate copy, any file size (offsets above 4 GiB).
 * Its sibling files (shards, external data) are opened once for as long as it is open, however
 * often a reader and the tensor passes ask for them (src/node/sibling-handles.ts), and closed
 * with it.
 * @example
 *   const source = await fileSource("model.json");
 *   try { const report = await analyze(source); } finally { await source.close(); }
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
  const siblings = new SiblingHandles(path, policy);
  const file = openedFile(basename(path), handle, stat.size);
  return {
    ...file.source,
    async close() {
      try {
        await siblings.close();
      } finally {
        await file.source.close();
      }
    },
    sibling: (relativePath) => siblings.lease(relativePath),
  };
}
