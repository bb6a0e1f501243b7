/**
 * In-memory ByteSources for tests. `memorySource` serves real bytes; `sparseSource` reports any
 * size (5 GiB, 300 MB) while holding only a small head, reading zeros after it, and records the
 * largest read so a test can prove nothing was allocated from a declared length.
 */
import { CntError } from "../../src/errors.js";
import type { ByteSource } from "../../src/source/types.js";

export interface RecordingSource extends ByteSource {
  /** Every [offset, length] asked for, in order. */
  readonly reads: Array<[number, number]>;
}

/** A random-access source over `bytes`; `size: undefined` makes it look like a stream of unknown length. */
export function memorySource(bytes: Uint8Array, options: { name?: string; size?: number | null } = {}): RecordingSource {
  return sparseSource(bytes, options.size === null ? undefined : (options.size ?? bytes.length), options.name ?? "<memory>");
}

/** A source of `size` bytes (undefined: unknown) whose first bytes are `head` and the rest zeros. */
export function sparseSource(head: Uint8Array, size: number | undefined, name = "sparse.cnt"): RecordingSource {
  const end = size ?? head.length; // a stream still ends where its bytes end
  const reads: Array<[number, number]> = [];
  return {
    name,
    size,
    randomAccess: true,
    reads,
    async readInto(offset: number, dest: Uint8Array): Promise<void> {
      reads.push([offset, dest.length]);
      if (offset + dest.length > end) {
        throw new CntError("TRUNCATED", `Source ${name} ends at byte ${end}, before ${offset + dest.length}.`, { file: name, offset });
      }
      dest.fill(0);
      if (offset < head.length) dest.set(head.subarray(offset, Math.min(head.length, offset + dest.length)), 0);
    },
    async close(): Promise<void> {},
  };
}
