import { CntError, formatCount } from "../errors.js";
import type { ByteSource } from "./types.js";

/** Bytes already in memory (ArrayBuffer or any typed array view over one). */
export function memorySource(data: ArrayBuffer | ArrayBufferView, name = "<memory>"): ByteSource {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    name,
    size: bytes.byteLength,
    randomAccess: true,
    async readInto(offset, dest) {
      checkRange(name, offset, dest.byteLength, bytes.byteLength);
      dest.set(bytes.subarray(offset, offset + dest.byteLength));
    },
    async close() {},
  };
}

/** Throw TRUNCATED when [offset, offset + length) is not inside a source of `size` bytes. */
export function checkRange(name: string, offset: number, length: number, size: number): void {
  if (offset + length > size) {
    throw new CntError(
      "TRUNCATED",
      `'${name}' ends at byte ${formatCount(size)}, but bytes ${formatCount(offset)} to ${formatCount(offset + length)} were needed; the file is truncated.`,
      { file: name, offset, expected: offset + length, actual: size },
    );
  }
}
