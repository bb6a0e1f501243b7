// How many threads `cntscope analyze` uses when --workers is not given.
import { stat } from "node:fs/promises";

/** Threads for `analyze` without --workers: every core (at most 4) once a file is big enough to gain from them. */
export function defaultWorkers(bytes: number | undefined, cores: number): number {
  return bytes !== undefined && bytes >= 64 << 20 ? Math.max(1, Math.min(cores, 4)) : 1;
}

/** The file's size, or undefined when it cannot be read (analyzeFile then reports why). */
export async function fileSize(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}
