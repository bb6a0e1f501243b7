import { CntError } from "../errors.js";
import { blobSource } from "./blob.js";
import { memorySource } from "./memory.js";
import { streamSource } from "./stream.js";
import type { ByteSource } from "./types.js";

/** Everything analyze() accepts in every runtime. The Node entry adds file paths. */
export type ModelInput = ByteSource | ArrayBuffer | ArrayBufferView | Blob | ReadableStream<Uint8Array>;

export interface SourceOptions {
  /** Name for messages and the report, when the input carries none. */
  name?: string;
  /** Size of a stream in bytes, when known (lets header checks run before any read). */
  size?: number;
  /** Aborts a pending stream read (a stalled stream would otherwise never answer). */
  signal?: AbortSignal;
}

export function isByteSource(input: unknown): input is ByteSource {
  return typeof input === "object" && input !== null && typeof (input as ByteSource).readInto === "function" && "randomAccess" in input;
}

/** Turn any accepted input into a ByteSource. */
export function toByteSource(input: ModelInput, options: SourceOptions = {}): ByteSource {
  if (isByteSource(input)) return input;
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) return memorySource(input, options.name);
  if (typeof Blob !== "undefined" && input instanceof Blob) return blobSource(input, options.name);
  if (typeof ReadableStream !== "undefined" && input instanceof ReadableStream) return streamSource(input, options.name, options.size, options.signal);
  throw new CntError(
    "BAD_OPTION",
    `analyze() takes an ArrayBuffer, a typed array, a Blob/File or a ReadableStream (and a file path in 'cntscope/node'); got ${Object.prototype.toString.call(input)}.`,
  );
}
