/**
 * The header of a NumPy .npy array: magic "\x93NUMPY", version, a little-endian header length
 * (u16 in v1.0, u32 in v2.0/3.0), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ending in '\n'. The literal is read by a tiny grammar (dict, list,
 * tuple, str, int, True/False/None) — never evaluated — and capped at 64 KiB (numpy's own reader
 * stops at 10,000 bytes by default).
 */
import { CntError, formatCount, quoteName } from "../../errors.js";
import { isNpy } from "../shared/magic.js";

export { isNpy, NPY_MAGIC } from "../shared/magic.js";
export const NPY_MAX_HEADER = 64 * 1024;

export interface NpyHeader {
  major: number;
  minor: number;
  /** Bytes before the data: magic, version, length field and the dict. */
  dataOffset: number;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Bytes of the fixed prefix for a version, and where the length field is. */
export function npyPrefixLength(major: number): number {
  return major === 1 ? 10 : 12;
}

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

/**
 * Parse the prefix (at least 12 bytes or the whole file when shorter) and return the header
 * text's length; the caller then reads that many bytes and calls parseNpyDict.
 */
export function readNpyPrefix(prefix: Uint8Array, fail: Fail): { major: number; minor: number; headerLength: number; prefixLength: number } {
  if (!isNpy(prefix)) throw fail("BAD_MAGIC", "the file does not start with the .npy magic \\x93NUMPY.");
  if (prefix.byteLength < 10) throw fail("TRUNCATED", `the file ends after ${prefix.byteLength} bytes, inside the .npy prefix.`, { expected: 10, actual: prefix.byteLength });
  const major = prefix[6];
  const minor = prefix[7];
  if (major < 1 || major > 3) throw fail("BAD_HEADER", `.npy format version ${major}.${minor} is not one cntscope reads (1.0, 2.0, 3.0).`, { offset: 6 });
  const prefixLength = npyPrefixLength(major);
  if (prefix.byteLength < prefixLength) throw fail("TRUNCATED", `the file ends after ${prefix.byteLength} bytes, inside the .npy prefix of ${prefixLength}.`, { expected: prefixLength, actual: prefix.byteLength });
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > NPY_MAX_HEADER) {
    throw fail("TOO_LARGE", `the .npy header length is ${formatCount(headerLength)} bytes, above the .npy header cap of ${formatCount(NPY_MAX_HEADER)} (numpy's own reader stops at 10,000).`, { offset: 8, expected: NPY_MAX_HEADER, actual: headerLength });
  }
  return { major, minor, headerLength, prefixLength };
}

/** Parse the header dict and check its three keys. */
export function parseNpyDict(raw: Uint8Array, major: number, minor: number, prefixLength: number, fail: Fail): NpyHeader {
  let text: string;
  try {
    text = major === 3 ? new TextDecoder("utf-8", { fatal: true }).decode(raw) : new TextDecoder("latin1").decode(raw);
  } catch (error) {
    throw fail("BAD_HEADER", "the .npy v3.0 header is not valid UTF-8.", { offset: prefixLength, cause: error });
  }
  let value: PyValue;
  try {
    value = parsePyLiteral(text);
  } catch (error) {
    if (error instanceof PyLiteralError) throw fail("BAD_HEADER", `the .npy header is not a Python literal: ${error.message}`, { offset: prefixLength + error.position });
    throw error;
  }
  if (!(value instanceof Map)) throw fail("BAD_HEADER", `the .npy header must be a dict; it is ${describe(value)}.`, { offset: prefixLength });
  for (const key of value.keys()) {
    if (key !== "descr" && key !== "fortran_order" && key !== "shape") throw fail("BAD_HEADER", `the .npy header has the unexpected key ${quoteName(String(key))}; it holds descr, fortran_order and shape only.`, { offset: prefixLength });
  }
  const descr = value.get("descr");
  const fortran = value.get("fortran_order");
  const shape = value.get("shape");
  if (descr === undefined || fortran === undefined || shape === undefined) {
    const missing = ["descr", "fortran_order", "shape"].filter((k) => !value.has(k));
    throw fail("BAD_HEADER", `the .npy header lacks ${missing.join(", ")}.`, { offset: prefixLength });
  }
  if (typeof descr !== "string") {
    throw fail("BAD_DTYPE", `the array has a structured dtype (${describe(descr)}); cntscope reads plain float arrays only.`, { offset: prefixLength });
  }
  if (typeof fortran !== "boolean") throw fail("BAD_HEADER", `fortran_order must be True or False; it is ${describe(fortran)}.`, { offset: prefixLength });
  if (!(shape instanceof PyTuple)) throw fail("BAD_SHAPE", `shape must be a tuple of integers; it is ${describe(shape)}.`, { offset: prefixLength });
  const dims: number[] = [];
  shape.items.forEach((d, i) => {
    if (typeof d !== "bigint" || d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("BAD_SHAPE", `shape dim ${i} is ${describe(d)}, not a non-negative integer below 2^53.`, { offset: prefixLength });
    dims.push(Number(d));
  });
  return { major, minor, dataOffset: prefixLength + raw.byteLength, descr, fortranOrder: fortran, shape: dims };
}

// ------------------------------------------------------------------------------ the literal

/** A Python tuple (kept apart from lists: numpy wants shape as a tuple). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export type PyValue = string | bigint | boolean | null | PyValue[] | PyTuple | Map<PyValue, PyValue>;

class PyLiteralError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
  }
}

const MAX_DEPTH = 16;

/** Parse one Python literal (what ast.literal_eval would accept, minus floats and bytes), then only whitespace. */
export function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const error = (what: string) => new PyLiteralError(`${what} at character ${i}.`, i);
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) throw error(`nesting deeper than ${MAX_DEPTH}`);
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      const map = new Map<PyValue, PyValue>();
      for (;;) {
        space();
        if (text[i] === "}") {
          i++;
          return map;
        }
        const key = value(depth + 1);
        if (typeof key !== "string") throw error("a dict key that is not a string");
        if (map.has(key)) throw error(`the key ${quoteName(key)} twice`);
        space();
        if (text[i] !== ":") throw error("a missing ':'");
        i++;
        map.set(key, value(depth + 1));
        space();
        if (text[i] === ",") i++;
        else if (text[i] !== "}") throw error("a missing ',' or '}'");
      }
    }
    if (c === "(" || c === "[") {
      const close = c === "(" ? ")" : "]";
      i++;
      const items: PyValue[] = [];
      let comma = false;
      for (;;) {
        space();
        if (text[i] === close) {
          i++;
          // (x) is just x; (x,) and () are tuples.
          if (close === ")" && items.length === 1 && !comma) return items[0];
          return close === ")" ? new PyTuple(items) : items;
        }
        items.push(value(depth + 1));
        space();
        comma = false;
        if (text[i] === ",") {
          i++;
          comma = true;
        } else if (text[i] !== close) throw error(`a missing ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const quote = c;
      i++;
      let out = "";
      while (i < text.length && text[i] !== quote) {
        if (text[i] === "\n") throw error("a line break inside a string");
        if (text[i] === "\\") {
          const e = text[i + 1];
          const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r", "0": "\0" };
          if (e !== undefined && Object.hasOwn(simple, e)) {
            out += simple[e];
            i += 2;
            continue;
          }
          if (e === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
            out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          throw error("an unsupported escape in a string");
        }
        out += text[i++];
      }
      if (i >= text.length) throw error("an unterminated string");
      i++;
      return out;
    }
    const m = /^(?:-?[0-9]+L?|True|False|None)/.exec(text.slice(i, i + 64));
    if (m) {
      const word = m[0];
      const after = text[i + word.length];
      if (after !== undefined && /[A-Za-z0-9_.]/.test(after)) throw error("a name or a float where a literal was expected");
      i += word.length;
      if (word === "True") return true;
      if (word === "False") return false;
      if (word === "None") return null;
      return BigInt(word.endsWith("L") ? word.slice(0, -1) : word);
    }
    throw error(i >= text.length ? "the end of the text where a value was expected" : `${quoteName(text.slice(i, i + 12))} where a literal was expected`);
  };
  const result = value(0);
  space();
  if (i !== text.length) throw error("text after the literal");
  return result;
}

function describe(v: PyValue): string {
  if (v instanceof Map) return "a dict";
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "string") return `the string ${quoteName(v)}`;
  if (typeof v === "bigint") return `the integer ${v}`;
  return String(v);
}
