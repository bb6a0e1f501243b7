/** Every problem cntscope reports about its input is a CntError with one of these codes. */
export type CntErrorCode =
  | "TRUNCATED"
  | "BAD_MAGIC"
  | "BAD_HEADER"
  | "OUT_OF_BOUNDS"
  | "OVERLAP"
  | "BAD_SHAPE"
  | "BAD_DTYPE"
  | "TOO_LARGE"
  | "UNSUPPORTED_LAYER"
  | "UNSUPPORTED_FORMAT"
  /** A pickle (PyTorch checkpoint) asks for a Python global or call a state_dict never needs; nothing was run. */
  | "UNSAFE_PICKLE"
  | "LAYOUT_NEEDED"
  | "UNSAFE_PATH"
  | "BAD_OPTION"
  | "ABORTED"
  | "BAD_CHECKSUM"
  | "NOT_FOUND"
  | "PERMISSION"
  | "OUTPUT_EXISTS"
  | "SAME_FILE"
  | "FILE_SYSTEM"
  /** A population partial (JSON from another run or machine) is malformed; the message names its file and field. */
  | "BAD_PARTIAL"
  /** Shards of a population to merge: one is missing (its index named). */
  | "SHARD_MISSING"
  /** Shards of a population to merge: two hold the same shard or the same network (both files named). */
  | "SHARD_OVERLAP"
  /** Shards of a population to merge come from different runs: another split, file list or analysis options. */
  | "SHARD_MISMATCH"
  | "INTERNAL";

export interface CntErrorDetails {
  format?: string;
  file?: string;
  tensor?: string;
  offset?: number;
  expected?: unknown;
  actual?: unknown;
  cause?: unknown;
}

/**
 * The one error type of the library: `code` says what kind of problem, the message says what to do.
 * @example
 *   try { await analyze(bytes) } catch (e) { if (e instanceof CntError && e.code === "TRUNCATED") ... }
 */
export class CntError extends Error {
  readonly code: CntErrorCode;
  readonly format?: string;
  readonly file?: string;
  readonly tensor?: string;
  readonly offset?: number;
  readonly expected?: unknown;
  readonly actual?: unknown;

  constructor(code: CntErrorCode, message: string, details: CntErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    // An aborted call rejects as the platform's do (error.name === "AbortError"), still a CntError with its code.
    this.name = code === "ABORTED" ? "AbortError" : "CntError";
    this.code = code;
    this.format = details.format;
    this.file = details.file;
    this.tensor = details.tensor;
    this.offset = details.offset;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** Quote a name from a file for a message: control characters escaped, cut to 80 characters. */
export function quoteName(name: string): string {
  let escaped = "";
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      escaped += `\\x${code.toString(16).padStart(2, "0")}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      escaped += `\\u${code.toString(16)}`;
    } else {
      escaped += ch;
    }
    if (escaped.length > 80) return `'${escaped.slice(0, 80)}…'`;
  }
  return `'${escaped}'`;
}

/** Format a byte count or index with thousands separators, as messages print them. */
export function formatCount(n: number | bigint): string {
  // Whole numbers are grouped by hand: the first toLocaleString of a process loads ICU's number
  // data, 40-90 ms here, more than the rest of a CLI run on a small model.
  if (typeof n === "bigint" || Number.isSafeInteger(n)) return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
  return n.toLocaleString("en-US");
}

/** Wrap anything that is not a CntError (engine RangeError, wasm trap) as INTERNAL, keeping it as the cause. */
export function asCntError(error: unknown, context: CntErrorDetails = {}): CntError {
  if (error instanceof CntError) return error;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CntError("INTERNAL", `Internal error (please report it): ${text}.`, { ...context, cause: error });
}

/** A shape as every message and table prints it: `[64, 3, 7, 7]`, `?` for a dim not known, `[]` for a scalar. */
export function formatShape(shape: readonly unknown[] | undefined): string {
  return `[${(shape ?? []).map((d) => (d === null || d === undefined ? "?" : String(d))).join(", ")}]`;
}

/**
 * The error an aborted call rejects with: name "AbortError" (as fetch and streams reject), code
 * ABORTED, the signal's reason as the cause.
 */
export function abortError(what: string, signal: AbortSignal | undefined, details: CntErrorDetails = {}): CntError {
  return new CntError("ABORTED", `${what} was aborted.`, { ...details, cause: signal?.reason });
}

/** Throw abortError when the signal is aborted (checked between blocks of work). */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, details: CntErrorDetails = {}): void {
  if (signal?.aborted) throw abortError(what, signal, details);
}
