import { asCntError, CntError } from "../errors.js";
import { checkRange } from "./memory.js";
import type { ByteSource } from "./types.js";

/** A Blob or File (browser file input, fetch().blob()): random access by slicing, nothing buffered. */
export function blobSource(blob: Blob, name = (blob as File).name || "<blob>"): ByteSource {
  return {
    name,
    size: blob.size,
    randomAccess: true,
    async readInto(offset, dest) {
      checkRange(name, offset, dest.byteLength, blob.size);
      let bytes: ArrayBuffer;
      try {
        bytes = await blob.slice(offset, offset + dest.byteLength).arrayBuffer();
      } catch (error) {
        throw new CntError("TRUNCATED", `Reading '${name}' failed at byte ${offset}: ${String(error)}.`, { file: name, offset, cause: error });
      }
      if (bytes.byteLength !== dest.byteLength) throw asCntError(new Error("Blob slice returned a short read"), { file: name, offset });
      dest.set(new Uint8Array(bytes));
    },
    async close() {},
  };
}
