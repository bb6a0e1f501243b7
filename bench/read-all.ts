// The baselines the end-to-end benches divide by: plain reads of the same files, in the same run.
//   readLoop: positioned reads into ONE reused buffer of the block size (analyze's default
//             blockBytes, what it reads per call): the rate Node can read a file at, the honest
//             baseline. It follows the block size if that changes.
//   catRate:  `cat file > /dev/null`: the operating system's own rate, no JavaScript at all.
//   readAll:  the whole file into one buffer as large as the file. It pays a page fault per
//             4 KiB of a fresh buffer on its first use, so it is slower than readLoop and
//             flatters whatever is divided by it; kept for the older lines that name it.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { DEFAULT_BLOCK_BYTES } from "../src/options.js";

/** Bytes per read of readLoop: analyze's default blockBytes. */
export const READ_BLOCK = DEFAULT_BLOCK_BYTES;

let buffer: Buffer | undefined;
let block: Buffer | undefined;

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

/** Milliseconds to read whole files with positioned reads of READ_BLOCK bytes into one reused buffer (touched once before the timing). */
export function readLoop(...paths: string[]): number {
  block ??= Buffer.alloc(READ_BLOCK);
  let ms = 0;
  for (const path of paths) {
    const size = statSync(path).size;
    const fd = openSync(path, "r");
    const t = performance.now();
    for (let done = 0; done < size; ) {
      const n = readSync(fd, block, 0, Math.min(READ_BLOCK, size - done), done);
      if (n === 0) break;
      done += n;
    }
    ms += performance.now() - t;
    closeSync(fd);
  }
  return ms;
}

/** Milliseconds for `cat` to copy the file to /dev/null (process start included: well under 1 ms per GB read). */
export function catRate(path: string): number {
  const t = performance.now();
  const run = spawnSync("sh", ["-c", 'cat "$1" > /dev/null', "sh", path]);
  const ms = performance.now() - t;
  if (run.status !== 0) throw new Error(`cat ${path} failed: ${run.stderr}`);
  return ms;
}

/** The median of some numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** "lo-hi" of some numbers, to `digits` places. */
export function range(xs: number[], digits = 2): string {
  return `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
}
