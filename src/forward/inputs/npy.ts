/**
 * Input samples and labels from a NumPy `.npy` file: an array of shape [N, ...one sample] in C
 * order, read a batch of samples at a time straight from the file's bytes (memory is bounded by
 * the batch, never the file). The header is the model reader's (src/formats/numpy: v1/v2/v3, a
 * tiny literal grammar, never evaluated); the element types differ: samples may be any of
 * f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1 in either byte order, widened to f32. Integers are kind
 * "int" (token ids, pixel bytes) and must stay within 2^24, where every integer is an exact f32;
 * a larger one is an error, never a rounded id.
 *
 * Labels: a `.npy` of integers of shape (N,) or (N, 1), or a text column of integers (one a
 * line, an optional header line, CSV with one column).
 */
import { CntError, formatCount, formatShape, quoteName, type CntErrorCode } from "../../errors.js";
import { readHeader } from "../../formats/numpy/read.js";
import { isNpy, type NpyHeader } from "../../formats/numpy/header.js";
import type { ByteSource } from "../../source/types.js";
import type { LabelSource, SampleInput, SampleSource } from "./types.js";

/** Reads bytes [offset, offset + dest.length) of one array's container (a file, or a .npz entry's inflated bytes). */
export type ReadAt = (offset: number, dest: Uint8Array) => Promise<void>;

/** Where an array is, for messages: "inputs 'x.npy'" or "inputs 'x.npz' entry 'ids.npy'". */
export type Fail = (code: CntErrorCode, message: string, extra?: object) => CntError;

/** The element type of an array as stored. */
export interface NpyElement {
  /** f float, i signed, u unsigned, b bool. */
  kind: "f" | "i" | "u" | "b";
  size: number;
  little: boolean;
  descr: string;
}

/** One array of N samples: its element type, shape and bytes, and how to read them. */
export interface SampleArray {
  input: SampleInput;
  element: NpyElement;
  /** Samples (the first axis). */
  count: number;
  /** Elements of one sample. */
  perSample: number;
  /** Offset of the data in what `read` reads. */
  dataOffset: number;
  read: ReadAt;
  fail: Fail;
}

/** The largest integer every f32 holds exactly: an int input above it would be rounded. */
export const EXACT_INT = 2 ** 24;

/**
 * The samples of a `.npy` file as a SampleSource with one input, named `name` (default: the
 * file name without ".npy"). The source stays open: its owner closes it.
 * @example
 *   const samples = await npySamples(memorySource(bytes, "batch.npy")); // inputs[0].name === "batch"
 */
export async function npySamples(source: ByteSource, name?: string): Promise<SampleSource> {
  const fail = failFor(`inputs '${source.name}'`, source.name);
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty; a .npy of samples starts with \\x93NUMPY.");
  const header = await readHeader((offset, dest) => source.readInto(offset, dest), source.size, fail);
  const array = sampleArray(header, name ?? stem(source.name), (offset, dest) => source.readInto(offset, dest), fail);
  if (source.size !== undefined) checkDataLength(source.size - header.dataOffset, array, header);
  return arraysSource([array]);
}

/** A SampleSource over checked arrays of the same N (a .npy's one, a .npz's several). */
export function arraysSource(arrays: SampleArray[]): SampleSource {
  const byName = new Map(arrays.map((a) => [a.input.name, a]));
  const scratch = { bytes: new Uint8Array(0) };
  return {
    count: arrays[0].count,
    inputs: arrays.map((a) => a.input),
    async read(name, first, count, into) {
      const array = byName.get(name);
      if (!array) throw new CntError("BAD_OPTION", `The samples have no input named ${quoteName(name)}; they hold ${[...byName.keys()].map(quoteName).join(", ")}.`);
      await readSamples(array, first, count, into, scratch);
    },
  };
}

/** Check a header as an array of samples and describe it. */
export function sampleArray(header: NpyHeader, name: string, read: ReadAt, fail: Fail): SampleArray {
  const element = elementOf(header.descr, fail);
  if (header.fortranOrder && header.shape.length > 1) {
    throw fail("UNSUPPORTED_FORMAT", `input ${quoteName(name)} of shape ${formatShape(header.shape)} is stored in Fortran order (column-major), so a sample's values are not together; save it with np.ascontiguousarray (C order).`, { tensor: name });
  }
  if (header.shape.length === 0) throw fail("BAD_SHAPE", `input ${quoteName(name)} is a scalar; samples need a first axis: [samples, ...one sample].`, { tensor: name });
  const perSample = checkedCount(header.shape.slice(1), name, fail);
  const count = header.shape[0];
  if (!Number.isSafeInteger(count * perSample * element.size)) throw fail("BAD_SHAPE", `input ${quoteName(name)} of shape ${formatShape(header.shape)} takes more than 2^53 bytes.`, { tensor: name });
  return {
    input: { name, sampleShape: header.shape.slice(1), kind: element.kind === "f" ? "float" : "int" },
    element,
    count,
    perSample,
    dataOffset: header.dataOffset,
    read,
    fail,
  };
}

/** The data after the header must be exactly the array's bytes. */
export function checkDataLength(have: number, array: SampleArray, header: NpyHeader): void {
  const need = array.count * array.perSample * array.element.size;
  const what = `input ${quoteName(array.input.name)} is ${quoteName(header.descr)} of shape ${formatShape(header.shape)}, which takes ${formatCount(need)} bytes`;
  if (have < need) throw array.fail("TRUNCATED", `${what}, but only ${formatCount(have)} follow its header.`, { tensor: array.input.name, expected: need, actual: have });
  if (have > need) throw array.fail("BAD_SHAPE", `${what}, but ${formatCount(have)} follow its header (the shape and the data disagree).`, { tensor: array.input.name, expected: need, actual: have });
}

/**
 * Samples [first, first + count) of an array, widened to f32, into `into`. A little-endian f4
 * array is read straight into `into`; others go through `scratch` (one batch of stored bytes).
 */
export async function readSamples(array: SampleArray, first: number, count: number, into: Float32Array, scratch: { bytes: Uint8Array }): Promise<void> {
  const { element, perSample, input, fail } = array;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || first + count > array.count) {
    throw fail("BAD_OPTION", `samples ${first} to ${first + count} of input ${quoteName(input.name)} were asked for, but it holds ${formatCount(array.count)}.`, { tensor: input.name });
  }
  const n = count * perSample;
  if (into.length < n) throw new CntError("INTERNAL", `A read of ${formatCount(n)} values of input ${quoteName(input.name)} was given room for ${formatCount(into.length)}.`, { tensor: input.name });
  if (n === 0) return;
  const offset = array.dataOffset + first * perSample * element.size;
  if (element.kind === "f" && element.size === 4 && element.little) {
    await array.read(offset, new Uint8Array(into.buffer, into.byteOffset, n * 4));
    return;
  }
  const bytes = n * element.size;
  if (scratch.bytes.byteLength < bytes) scratch.bytes = new Uint8Array(bytes);
  const raw = scratch.bytes.subarray(0, bytes);
  await array.read(offset, raw);
  widen(raw, element, into, n, (value, i) =>
    fail("BAD_OPTION", `input ${quoteName(input.name)} holds the integer ${value} (sample ${formatCount(first + Math.floor(i / perSample))}), above 2^24 = 16,777,216 in magnitude: as f32 it would be rounded to another id. Inputs above 2^24 cannot be read exactly.`, { tensor: input.name }),
  );
}

/** Stored elements to f32; `tooLarge` makes the error for an integer beyond ±2^24. */
function widen(raw: Uint8Array, element: NpyElement, into: Float32Array, n: number, tooLarge: (value: number | bigint, index: number) => CntError): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = element.little;
  const { kind, size } = element;
  if (kind === "f") {
    if (size === 2) for (let i = 0; i < n; i++) into[i] = half(view.getUint16(2 * i, le));
    else if (size === 4) for (let i = 0; i < n; i++) into[i] = view.getFloat32(4 * i, le);
    else for (let i = 0; i < n; i++) into[i] = view.getFloat64(8 * i, le);
    return;
  }
  if (size === 1) {
    if (kind === "i") for (let i = 0; i < n; i++) into[i] = view.getInt8(i);
    else if (kind === "u") for (let i = 0; i < n; i++) into[i] = raw[i];
    else for (let i = 0; i < n; i++) into[i] = raw[i] === 0 ? 0 : 1;
    return;
  }
  if (size === 2) {
    if (kind === "i") for (let i = 0; i < n; i++) into[i] = view.getInt16(2 * i, le);
    else for (let i = 0; i < n; i++) into[i] = view.getUint16(2 * i, le);
    return;
  }
  if (size === 4) {
    for (let i = 0; i < n; i++) {
      const v = kind === "i" ? view.getInt32(4 * i, le) : view.getUint32(4 * i, le);
      if (v > EXACT_INT || v < -EXACT_INT) throw tooLarge(v, i);
      into[i] = v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = kind === "i" ? view.getBigInt64(8 * i, le) : view.getBigUint64(8 * i, le);
    if (v > BigInt(EXACT_INT) || v < -BigInt(EXACT_INT)) throw tooLarge(v, i);
    into[i] = Number(v);
  }
}

/** IEEE half-precision bits as a number (exact in f32). */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const SIZES: Record<string, readonly number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

/** '<f4', '>i8', '|u1', '|b1', ...: numeric types only. */
export function elementOf(descr: string, fail: Fail): NpyElement {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const size = m ? Number(m[3]) : 0;
  if (!m || !SIZES[m[2]].includes(size)) {
    throw fail("BAD_DTYPE", `the array has dtype ${quoteName(descr)}; samples are read from numeric arrays: float16/32/64 ('<f2' '<f4' '<f8'), int8 to int64, uint8 to uint64 or bool, in either byte order.`);
  }
  if (m[1] === "=" && size > 1) throw fail("BAD_DTYPE", `the array has the native byte order ${quoteName(descr)}, which does not say little or big endian.`);
  return { kind: m[2] as NpyElement["kind"], size, little: m[1] !== ">", descr };
}

function checkedCount(dims: number[], name: string, fail: Fail): number {
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (!Number.isSafeInteger(n)) throw fail("BAD_SHAPE", `one sample of input ${quoteName(name)} has more than 2^53 values.`, { tensor: name });
  }
  return n;
}

/** Errors that name the file (and the .npz entry) and say it is the samples or the labels. */
export function failFor(what: string, file: string, entry?: string): Fail {
  const at = entry === undefined ? "" : ` entry ${quoteName(entry)}`;
  return (code, message, extra = {}) => new CntError(code, `${capital(what)}${at}: ${message}`, { file, ...(entry === undefined ? {} : { tensor: entry }), ...extra });
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "batch" for ".../batch.npy". */
export function stem(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
  return base.replace(/\.(npy|npz)$/i, "") || "input";
}

// ------------------------------------------------------------------------------------- labels

/**
 * Labels from a file: a `.npy` of integers, (N,) or (N, 1), read a batch at a time; or text, one
 * integer a line (an optional header line, CSV with one column). Told apart by content.
 * @example
 *   const labels = await fileLabels(memorySource(bytes, "y.npy")); // labels.count === N
 */
export async function fileLabels(source: ByteSource): Promise<LabelSource> {
  const first = new Uint8Array(Math.min(6, source.size ?? 6));
  await source.readInto(0, first);
  if (isNpy(first)) return npyLabels(source);
  if (source.size === undefined) throw new CntError("BAD_OPTION", `Labels '${source.name}': a text column of labels needs its size known (give a file or a buffer).`, { file: source.name });
  if (source.size > 64 * 1024 * 1024) throw new CntError("TOO_LARGE", `Labels '${source.name}' are ${formatCount(source.size)} bytes of text, above 64 MiB; save them as a .npy of integers.`, { file: source.name });
  const bytes = new Uint8Array(source.size);
  await source.readInto(0, bytes);
  return textLabels(new TextDecoder("utf-8").decode(bytes), source.name);
}

/** Labels from a `.npy` of integers of shape (N,) or (N, 1). */
export async function npyLabels(source: ByteSource): Promise<LabelSource> {
  const fail = failFor(`labels '${source.name}'`, source.name);
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  const header = await readHeader((offset, dest) => source.readInto(offset, dest), source.size, fail);
  const element = elementOf(header.descr, fail);
  if (element.kind !== "i" && element.kind !== "u") throw fail("BAD_DTYPE", `labels are class indices, so integers; the array has dtype ${quoteName(header.descr)}. Save them with y.astype(np.int64).`);
  const shape = header.shape;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) throw fail("BAD_SHAPE", `labels need shape (N,) or (N, 1), one class index per sample; the array has shape ${formatShape(shape)}.`);
  const array = sampleArray(header, "labels", (offset, dest) => source.readInto(offset, dest), fail);
  if (source.size !== undefined) checkDataLength(source.size - header.dataOffset, array, header);
  return {
    count: array.count,
    async read(first, count, into) {
      if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || first + count > array.count) {
        throw fail("BAD_OPTION", `labels ${first} to ${first + count} were asked for, but the file holds ${formatCount(array.count)}.`);
      }
      if (count === 0) return;
      const raw = new Uint8Array(count * element.size);
      await source.readInto(array.dataOffset + first * element.size, raw);
      const view = new DataView(raw.buffer);
      for (let i = 0; i < count; i++) {
        const at = i * element.size;
        const le = element.little;
        let v: number | bigint;
        if (element.size === 1) v = element.kind === "i" ? view.getInt8(at) : view.getUint8(at);
        else if (element.size === 2) v = element.kind === "i" ? view.getInt16(at, le) : view.getUint16(at, le);
        else if (element.size === 4) v = element.kind === "i" ? view.getInt32(at, le) : view.getUint32(at, le);
        else v = element.kind === "i" ? view.getBigInt64(at, le) : view.getBigUint64(at, le);
        if (v > 2147483647 || v < -2147483648) throw fail("BAD_OPTION", `label ${formatCount(first + i)} is ${v}, not a class index (it does not fit in 32 bits).`);
        into[i] = Number(v);
      }
    },
  };
}

/** Labels from text: one integer a line; a first line that is not a number is a header; blank lines are skipped. */
export function textLabels(text: string, file: string): LabelSource {
  const values: number[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim().replace(/^"(.*)"$/, "$1");
    if (line === "") return;
    if (/^[+-]?\d+$/.test(line)) {
      const v = Number(line);
      if (v > 2147483647 || v < -2147483648) throw new CntError("BAD_OPTION", `Labels '${file}' line ${i + 1}: ${JSON.stringify(line.slice(0, 40))} is not a class index (it does not fit in 32 bits).`, { file });
      values.push(v);
      return;
    }
    if (values.length === 0 && i === lines.findIndex((l) => l.trim() !== "") && !line.includes(",")) return; // a header
    throw new CntError("BAD_OPTION", `Labels '${file}' line ${i + 1} is ${JSON.stringify(line.slice(0, 40))}; a labels text file holds one integer class index a line (a header line first at most).`, { file });
  });
  if (values.length === 0) throw new CntError("BAD_OPTION", `Labels '${file}' hold no class indices.`, { file });
  const list = Int32Array.from(values);
  return {
    count: list.length,
    async read(first, count, into) {
      if (first < 0 || count < 0 || first + count > list.length) throw new CntError("BAD_OPTION", `Labels '${file}': labels ${first} to ${first + count} were asked for, but the file holds ${formatCount(list.length)}.`, { file });
      into.set(list.subarray(first, first + count));
    },
  };
}
