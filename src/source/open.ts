import { CntError } from "../errors.js";
import { blobSource } from "./blob.js";
import { checkByteSource, checkSignal, guardSource } from "./guard.js";
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
  /** Aborts the call: a pending read rejects at once with AbortError (see src/source/guard.ts). */
  signal?: AbortSignal;
}

/** True for an object meant as a ByteSource (it has readInto); toByteSource checks the rest. */
export function isByteSource(input: unknown): input is ByteSource {
  return typeof input === "object" && input !== null && "readInto" in input && !(input instanceof ArrayBuffer) && !ArrayBuffer.isView(input);
}

/**
 * Turn any accepted input into a ByteSource, read under `options.signal` (src/source/guard.ts):
 * a caller's own ByteSource is checked first (BAD_OPTION naming the field).
 */
export function toByteSource(input: ModelInput, options: SourceOptions = {}): ByteSource {
  const signal = checkSignal(options.signal);
  return guardSource(openInput(input, options, signal), signal);
}

function openInput(input: ModelInput, options: SourceOptions, signal: AbortSignal | undefined): ByteSource {
  if (isByteSource(input)) return checkByteSource(input, options.name);
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) return memorySource(input, options.name);
  if (typeof Blob !== "undefined" && input instanceof Blob) return blobSource(input, options.name);
  if (typeof ReadableStream !== "undefined" && input instanceof ReadableStream) return streamSource(input, options.name, options.size, signal);
  throw new CntError(
    "BAD_OPTION",
    `analyze() takes an ArrayBuffer, a typed array, a Blob/File or a ReadableStream (and a file path in 'cntscope/node'); got ${Object.prototype.toString.call(input)}.`,
  );
}
