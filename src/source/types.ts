/**
 * A ByteSource is where a model's bytes come from: memory, a Blob, a ReadableStream, or (in the
 * Node entry) a file. Readers ask for byte ranges; sequential sources can only go forward.
 * Callers may pass their own: it is checked field by field (BAD_OPTION), may omit close(), and is
 * read under the call's AbortSignal (src/source/guard.ts).
 */
export interface ByteSource {
  /** File name for messages and the report ("<memory>" when there is none). */
  readonly name: string;
  /** Total size when known up front (always, except for streams without a declared size). */
  readonly size: number | undefined;
  /** True when any range can be read again (memory, Blob, file); false for one-shot streams. */
  readonly randomAccess: boolean;
  /**
   * Fill `dest` with the bytes at [offset, offset + dest.length). Throws CntError TRUNCATED when
   * the source ends first. A sequential source throws INTERNAL if `offset` is behind its position.
   * `dest` is filled in place (its buffer may be wasm memory): never transferred or detached.
   */
  readInto(offset: number, dest: Uint8Array): Promise<void>;
  /** Release what the source holds (file handle, stream lock). Safe to call twice. */
  close(): Promise<void>;
  /**
   * Open another file of the same model (TF.js weight shards, ONNX external data, sharded
   * safetensors), named relative to this one. Absent when the source stands alone. Refuses
   * names that could leave the model's folder with UNSAFE_PATH (see source/paths.ts).
   */
  sibling?(relativePath: string): Promise<ByteSource>;
}
