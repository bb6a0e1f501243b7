// How many threads `cntscope analyze` uses when --workers is not given.
import { stat } from "node:fs/promises";

/**
 * Threads for `analyze` without --workers: once a file is big enough to gain from them, every
 * core but one (at most 4). One thread already keeps two cores busy on a file, its kernels on one
 * and the next block's read (libuv's thread pool) on another, so on two cores a second worker
 * gains nothing (measured: 0.93-0.99x).
 */
export function defaultWorkers(bytes: number | undefined, cores: number): number {
  return bytes !== undefined && bytes >= 64 << 20 ? Math.max(1, Math.min(cores - 1, 4)) : 1;
}

/** The file's size, or undefined when it cannot be read (analyzeFile then reports why). */
export async function fileSize(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}
