// The baseline the end-to-end benches divide by: a plain fs read of the same files.
import { closeSync, openSync, readSync, statSync } from "node:fs";

let buffer: Buffer | undefined;

/** Milliseconds to read whole files with positioned reads into one buffer, allocated (and kept) outside the timing. */
export function readAll(...paths: string[]): number {
  let ms = 0;
  for (const path of paths) {
    const size = statSync(path).size;
    if (!buffer || buffer.byteLength < size) buffer = Buffer.allocUnsafe(size);
    const fd = openSync(path, "r");
    const t = performance.now();
    for (let done = 0; done < size; ) done += readSync(fd, buffer, done, size - done, done);
    ms += performance.now() - t;
    closeSync(fd);
  }
  return ms;
}
