/**
 * Tensor bytes that are not a plain little-endian range of the main source, and how to read them
 * as if they were. Used by the TF.js reader (weight shards beside model.json, shards split across
 * files, base64 text shards, uint8/uint16-quantized weights) and the NumPy reader (deflated .npz
 * entries, big-endian .npy). Nothing here depends on a reader.
 *
 * A tensor's STORED bytes are either `decode.parts` concatenated, or else the range
 * [offset, offset + stored length) of `file` (a sibling of the main source) or of the main source.
 * A part may sit inside a coded container (a deflate-raw stream, a base64 text region); its offset
 * then counts bytes of the decoded container. `decode.values` says how stored elements become
 * `dtype` values: dequantize (w = q * scale + min, rounded to f32 as TF.js does) or byteswap
 * (big-endian storage). `byteLength` is always the DECODED size (shape product x dtype width).
 *
 *   TensorInfo.file ─┐                      ┌─ container: deflate-raw / base64 ─┐
 *   decode.parts[i] ─┴─> file range ───────┴────────────────────────────────────┴─> stored bytes
 *                                                          decode.values ──> dtype bytes (LE)
 */
import { CntError, formatCount, quoteName } from "../errors.js";
import type { ByteSource } from "./types.js";
import { crc32Final, crc32Update, CRC32_START } from "./crc32.js";
import { inflatedCopy } from "./inflated-store.js";
import { DTYPE_BYTES, GGUF_BLOCKS, type GgufQuant, type StoredContainer, type StoredPart, type TensorDecode, type TensorInfo, type ValueCoding } from "../model/types.js";
import { DEQUANT_KERNEL, Kernels } from "../kernels/kernels.js";
export type { StoredContainer, StoredPart, TensorDecode, ValueCoding };

/** A tensor description with its placement fields (kept as a name for the readers that use it). */
export type StoredTensorInfo = TensorInfo;

/** True when the tensor can be read straight from the main source at `offset`. */
export function isPlainTensor(tensor: StoredTensorInfo): boolean {
  return tensor.file === undefined && tensor.decode === undefined;
}

/** Bytes per stored element (GGUF blocks: a fraction, block bytes / block elements). */
export function storedWidth(tensor: StoredTensorInfo): number {
  const values = tensor.decode?.values;
  if (values?.kind === "dequantize") return values.from === "uint8" ? 1 : 2;
  if (values?.kind === "gguf") return GGUF_BLOCKS[values.type].bytes / GGUF_BLOCKS[values.type].elements;
  return DTYPE_BYTES[tensor.dtype];
}

/** Stored byte count of a tensor (elements x stored width; GGUF: blocks x block bytes). */
export function storedLength(tensor: StoredTensorInfo): number {
  return storedBytes(tensor, tensor.byteLength / DTYPE_BYTES[tensor.dtype]);
}

/** Stored bytes of the first `elements` elements (GGUF: a whole number of blocks). */
export function storedBytes(tensor: StoredTensorInfo, elements: number): number {
  const values = tensor.decode?.values;
  if (values?.kind === "gguf") return (elements / GGUF_BLOCKS[values.type].elements) * GGUF_BLOCKS[values.type].bytes;
  return elements * storedWidth(tensor);
}

/**
 * The GGUF quantization of a tensor whose blocks the tensor passes read straight from the model's
 * own source and dequantize in the kernels (src/measure/bands.ts), or undefined. Other readers of
 * the values (convert, per-gate passes) get them decoded by openTensorBytes.
 */
export function kernelQuant(tensor: StoredTensorInfo): GgufQuant | undefined {
  const values = tensor.decode?.values;
  return values?.kind === "gguf" && tensor.file === undefined && tensor.data === undefined && tensor.decode?.parts === undefined ? values.type : undefined;
}

/**
 * A tensor made of `count` elements of `tensor` from element `first` on (a byte range of it, as
 * the GRU bias rows below): same file, coding and decoding, with the stored range cut to match.
 */
export function sliceTensor(tensor: StoredTensorInfo, name: string, shape: number[], first: number, count: number): StoredTensorInfo {
  const values = tensor.decode?.values;
  if (values?.kind === "gguf") {
    // Whole blocks only (a slice along the first axis of a GGUF tensor always is: ne[0] is whole blocks).
    const qk = GGUF_BLOCKS[values.type].elements;
    if (first % qk !== 0 || count % qk !== 0 || tensor.file !== undefined || tensor.decode?.parts !== undefined) {
      throw new CntError("BAD_SHAPE", `Tensor ${quoteName(tensor.name)} is stored in ${values.type} blocks of ${qk} values; values ${first} to ${first + count} do not start and end on a block.`, { tensor: tensor.name });
    }
    return { name, dtype: tensor.dtype, shape, offset: tensor.offset + storedBytes(tensor, first), byteLength: count * DTYPE_BYTES[tensor.dtype], decode: { values } };
  }
  const width = DTYPE_BYTES[tensor.dtype];
  const sw = storedWidth(tensor);
  const out: StoredTensorInfo = { name, dtype: tensor.dtype, shape, offset: tensor.offset + first * sw, byteLength: count * width };
  if (tensor.file !== undefined) out.file = tensor.file;
  const parts = tensor.decode?.parts;
  if (tensor.decode) out.decode = tensor.decode.values ? { values: tensor.decode.values } : {};
  if (parts) {
    const from = first * sw;
    const to = from + count * sw;
    const cut: StoredPart[] = [];
    let at = 0;
    for (const p of parts) {
      const a = Math.max(from, at);
      const b = Math.min(to, at + p.length);
      if (b > a) cut.push({ ...p, offset: p.offset + (a - at), length: b - a });
      at += p.length;
    }
    out.decode!.parts = cut;
    out.offset = cut[0]?.offset ?? tensor.offset;
  }
  return out;
}

const CHUNK = 64 * 1024;

/**
 * A ByteSource of one tensor's decoded bytes: `size` = `tensor.byteLength`, offset 0 = its first
 * element, little-endian `tensor.dtype` values. Reads are streamed (one chunk of stored bytes at a
 * time); plain ranges in sibling files are read in place with no copy. Reading backwards restarts
 * the decoding from the tensor's start (a second histogram pass), which needs a source that can be
 * read again. Close it when done (it closes the sibling files it opened).
 * @example
 *   const bytes = await openTensorBytes(source, tensor);
 *   try { await bytes.readInto(0, block); } finally { await bytes.close(); }
 */
export async function openTensorBytes(source: ByteSource, tensor: StoredTensorInfo): Promise<ByteSource> {
  const width = DTYPE_BYTES[tensor.dtype];
  const values = tensor.decode?.values;
  if ((values?.kind === "dequantize" || values?.kind === "gguf") && tensor.dtype !== "f32") {
    throw new CntError("INTERNAL", `Tensor ${quoteName(tensor.name)}: dequantized tensors must be f32, not ${tensor.dtype}.`, { tensor: tensor.name });
  }
  const stored = storedLength(tensor);
  const parts: StoredPart[] = tensor.decode?.parts ?? [{ file: tensor.file, offset: tensor.offset, length: stored }];
  const partsTotal = parts.reduce((sum, p) => sum + p.length, 0);
  if (partsTotal !== stored) {
    throw new CntError("BAD_HEADER", `Tensor ${quoteName(tensor.name)} needs ${formatCount(stored)} stored bytes, but its parts hold ${formatCount(partsTotal)}.`, { tensor: tensor.name, expected: stored, actual: partsTotal });
  }

  // Sibling files are opened once per tensor and closed with it.
  const files = new Map<string, ByteSource>();
  const fileOf = async (name: string | undefined): Promise<ByteSource> => {
    if (name === undefined) return source;
    let file = files.get(name);
    if (!file) {
      if (!source.sibling) {
        throw new CntError("BAD_OPTION", `Tensor ${quoteName(tensor.name)} is stored in the file ${quoteName(name)} beside ${quoteName(source.name)}; open the model from a path (cntscope/node) or with filesSource() so that file can be read.`, { file: source.name, tensor: tensor.name });
      }
      file = await source.sibling(name);
      files.set(name, file);
    }
    return file;
  };
  const closeFiles = async () => {
    for (const file of files.values()) await file.close();
    files.clear();
  };

  try {
    const opened: ByteSource[] = [];
    for (const part of parts) opened.push(await fileOf(part.file));
    const randomAccess = opened.every((f) => f.randomAccess);
    const name = parts[0].file ?? source.name;

    if (!values && parts.every((p) => p.container === undefined)) {
      return windowSource(name, tensor.byteLength, randomAccess, parts, opened, closeFiles);
    }

    const chunks = () => decodeValues(storedChunks(tensor, parts, opened), values, width, tensor);
    return sequentialSource(name, tensor.byteLength, randomAccess, chunks, closeFiles);
  } catch (error) {
    await closeFiles();
    throw error;
  }
}

/**
 * openTensorBytes addressed like the model's own source: byte `tensor.offset + k` is decoded byte
 * k, so a tensor pass that reads `source.readInto(tensor.offset + done, ...)` needs no change (the
 * shape of src/source/tensor-sources.ts `TensorSources.for`). Close it when the pass is done.
 * @example
 *   const source = await openTensorSource(main, tensor); await source.readInto(tensor.offset, block);
 */
export async function openTensorSource(main: ByteSource, tensor: StoredTensorInfo): Promise<ByteSource> {
  const bytes = await openTensorBytes(main, tensor);
  const base = tensor.offset;
  return {
    name: bytes.name,
    size: base + tensor.byteLength,
    randomAccess: bytes.randomAccess,
    async readInto(offset, dest) {
      if (offset < base) throw new CntError("INTERNAL", `Tensor ${quoteName(tensor.name)} starts at byte ${formatCount(base)}; byte ${formatCount(offset)} was asked for.`, { tensor: tensor.name, offset });
      await bytes.readInto(offset - base, dest);
    },
    close: () => bytes.close(),
  };
}

/** Plain pieces read in place: offset o of the tensor maps to part i at o - (bytes before i). */
function windowSource(name: string, size: number, randomAccess: boolean, parts: StoredPart[], files: ByteSource[], close: () => Promise<void>): ByteSource {
  return {
    name,
    size,
    randomAccess,
    async readInto(offset, dest) {
      if (offset + dest.byteLength > size) throw pastEnd(name, offset, dest.byteLength, size);
      let at = 0; // start of part i in tensor bytes
      let filled = 0;
      // The pieces of a read that spans parts (a block across two shard files) are read at once,
      // not one after the other; every piece has settled before the read does (none is left
      // writing into `dest` after a failure).
      const reads: Promise<void>[] = [];
      for (let i = 0; i < parts.length && filled < dest.byteLength; i++) {
        const part = parts[i];
        const from = offset + filled;
        if (from < at + part.length) {
          const n = Math.min(at + part.length - from, dest.byteLength - filled);
          reads.push(files[i].readInto(part.offset + (from - at), dest.subarray(filled, filled + n)));
          filled += n;
        }
        at += part.length;
      }
      if (reads.length === 1) return reads[0];
      const failed = (await Promise.allSettled(reads)).find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    },
    close,
  };
}

/** A forward-only decoder exposed as a ByteSource; going back restarts it (random-access files only). */
function sequentialSource(name: string, size: number, randomAccess: boolean, start: () => AsyncGenerator<Uint8Array>, close: () => Promise<void>): ByteSource {
  let chunks: AsyncGenerator<Uint8Array> | undefined;
  let pending: Uint8Array = new Uint8Array(0); // decoded bytes at [position, position + pending.length)
  let position = 0;
  return {
    name,
    size,
    randomAccess,
    async readInto(offset, dest) {
      if (offset + dest.byteLength > size) throw pastEnd(name, offset, dest.byteLength, size);
      if (!chunks || offset < position) {
        if (chunks && !randomAccess) throw new CntError("INTERNAL", `'${name}' cannot be read again from byte ${formatCount(offset)}.`, { file: name, offset });
        await chunks?.return(undefined);
        chunks = start();
        pending = new Uint8Array(0);
        position = 0;
      }
      let filled = 0;
      while (filled < dest.byteLength) {
        if (pending.byteLength === 0) {
          const next = await chunks.next();
          if (next.done) throw pastEnd(name, offset + filled, dest.byteLength - filled, position);
          pending = next.value;
          continue;
        }
        const want = offset + filled;
        if (want > position) {
          // Skip forward to the requested offset.
          const skip = Math.min(want - position, pending.byteLength);
          pending = pending.subarray(skip);
          position += skip;
          continue;
        }
        const n = Math.min(pending.byteLength, dest.byteLength - filled);
        dest.set(pending.subarray(0, n), filled);
        pending = pending.subarray(n);
        position += n;
        filled += n;
      }
    },
    async close() {
      await chunks?.return(undefined);
      chunks = undefined;
      await close();
    },
  };
}

function pastEnd(name: string, offset: number, length: number, size: number): CntError {
  return new CntError("TRUNCATED", `'${name}' holds ${formatCount(size)} decoded bytes, but bytes ${formatCount(offset)} to ${formatCount(offset + length)} were needed.`, { file: name, offset, expected: offset + length, actual: size });
}

/** The stored bytes of every part in order, each cut out of its file or decoded container. */
async function* storedChunks(tensor: StoredTensorInfo, parts: StoredPart[], files: ByteSource[]): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const file = files[i];
    if (!part.container) {
      yield* rawChunks(file, part.offset, part.length);
    } else if (part.container.kind === "base64") {
      yield* base64Chunks(file, part.container, part.offset, part.length, tensor.name);
    } else {
      yield* inflateChunks(file, part.container, part.offset, part.length, tensor.name);
    }
  }
}

/** [offset, offset + length) of a file in chunks (fresh buffers: consumers may keep them). */
export async function* rawChunks(file: ByteSource, offset: number, length: number, chunk = CHUNK): AsyncGenerator<Uint8Array> {
  for (let done = 0; done < length; ) {
    const n = Math.min(chunk, length - done);
    const buffer = new Uint8Array(n);
    await file.readInto(offset + done, buffer);
    done += n;
    yield buffer;
  }
}

// ---------------------------------------------------------------------------------------- base64

const BASE64_VALUE = (() => {
  const table = new Int16Array(256).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/** Decoded size of a base64 text region whose last two characters are `tail` ('=' padding). */
export function base64DecodedSize(length: number, tail: Uint8Array): number {
  if (length % 4 !== 0) return -1;
  let pad = 0;
  if (tail[tail.length - 1] === 0x3d) pad++;
  if (tail[tail.length - 2] === 0x3d) pad++;
  return (length / 4) * 3 - pad;
}

/** Decoded bytes [offset, offset + length) of a base64 region, decoding only the quads that hold them. */
async function* base64Chunks(file: ByteSource, region: { start: number; length: number }, offset: number, length: number, tensor: string): AsyncGenerator<Uint8Array> {
  if (length === 0) return;
  const firstQuad = Math.floor(offset / 3);
  const lastQuad = Math.floor((offset + length - 1) / 3);
  if ((lastQuad + 1) * 4 > region.length) {
    throw new CntError("OUT_OF_BOUNDS", `Tensor ${quoteName(tensor)} needs decoded bytes up to ${formatCount(offset + length)} of the base64 text in '${file.name}', which decodes to fewer.`, { file: file.name, tensor, offset: region.start });
  }
  let skip = offset - firstQuad * 3;
  let left = length;
  const quadsPerChunk = CHUNK / 4;
  for (let quad = firstQuad; quad <= lastQuad && left > 0; quad += quadsPerChunk) {
    const quads = Math.min(quadsPerChunk, lastQuad + 1 - quad);
    const text = new Uint8Array(quads * 4);
    const textAt = region.start + quad * 4;
    await file.readInto(textAt, text);
    const out = new Uint8Array(quads * 3);
    let n = 0;
    for (let q = 0; q < quads; q++) {
      const i = q * 4;
      const a = BASE64_VALUE[text[i]], b = BASE64_VALUE[text[i + 1]];
      let c = BASE64_VALUE[text[i + 2]], d = BASE64_VALUE[text[i + 3]];
      const last = quad + q === region.length / 4 - 1;
      let bytes = 3;
      if (last && text[i + 3] === 0x3d) {
        d = 0;
        bytes = 2;
        if (text[i + 2] === 0x3d) {
          c = 0;
          bytes = 1;
        }
      }
      if (a < 0 || b < 0 || c < 0 || d < 0) {
        const bad = [a, b, c, d].findIndex((v) => v < 0);
        throw new CntError("BAD_HEADER", `The base64 text in '${file.name}' has the byte 0x${text[i + bad].toString(16).padStart(2, "0")} at offset ${formatCount(textAt + i + bad)}, which is not base64.`, { file: file.name, tensor, offset: textAt + i + bad });
      }
      const v = (a << 18) | (b << 12) | (c << 6) | d;
      out[n++] = v >>> 16;
      if (bytes > 1) out[n++] = (v >>> 8) & 0xff;
      if (bytes > 2) out[n++] = v & 0xff;
    }
    let piece = out.subarray(skip, n);
    skip = 0;
    if (piece.byteLength > left) piece = piece.subarray(0, left);
    left -= piece.byteLength;
    yield piece;
  }
  if (left > 0) {
    throw new CntError("OUT_OF_BOUNDS", `Tensor ${quoteName(tensor)} needs ${formatCount(length)} bytes of the base64 text in '${file.name}', which ends ${formatCount(left)} bytes short.`, { file: file.name, tensor });
  }
}

// --------------------------------------------------------------------------------------- deflate

/**
 * Inflated bytes [offset, offset + length) of a raw deflate stream, counted against its declared
 * size: more bytes than declared is BAD_HEADER (a zip bomb or a lying entry), fewer is TRUNCATED.
 * When the slice reaches the declared end, the stream must end there too, and the inflated bytes
 * must have the entry's CRC-32 (when given): a flipped bit in a deflate stream can inflate to the
 * declared size and give wrong weights, so it is BAD_CHECKSUM, checked as the bytes go by.
 */
export async function* inflateChunks(file: ByteSource, region: { start: number; length: number; size: number; crc32?: number }, offset: number, length: number, tensor?: string): AsyncGenerator<Uint8Array> {
  if (offset + length > region.size) {
    throw new CntError("OUT_OF_BOUNDS", `${tensor ? `Tensor ${quoteName(tensor)}` : "A read"} needs inflated bytes up to ${formatCount(offset + length)}, but the entry at byte ${formatCount(region.start)} of '${file.name}' declares ${formatCount(region.size)}.`, { file: file.name, tensor, offset: region.start });
  }
  // An entry a reader has inflated whole and checked (inflated-store.ts): copies of its slices (a consumer may keep or transfer a chunk).
  const whole = inflatedCopy(file, region);
  if (whole) {
    for (let at = offset; at < offset + length; at += CHUNK) yield whole.slice(at, Math.min(offset + length, at + CHUNK));
    return;
  }
  const where = `The deflated entry at byte ${formatCount(region.start)} of '${file.name}'`;
  const raw = rawChunks(file, region.start, region.length);
  const input = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await raw.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await raw.return(undefined);
    },
  });
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    // DOM typings declare the writable side as BufferSource; Uint8Array chunks are what it takes.
    reader = input.pipeThrough(new DecompressionStream("deflate-raw") as unknown as TransformStream<Uint8Array, Uint8Array>).getReader();
  } catch (error) {
    throw new CntError("INTERNAL", `This runtime has no DecompressionStream("deflate-raw"), needed for deflated .npz entries.`, { file: file.name, cause: error });
  }
  const end = offset + length;
  let produced = 0;
  let crc = CRC32_START;
  const read = async () => {
    try {
      return await reader.read();
    } catch (error) {
      if (error instanceof CntError) throw error;
      throw new CntError("BAD_HEADER", `${where} is not valid deflate data after ${formatCount(produced)} inflated bytes (${(error as Error).message}).`, { file: file.name, tensor, offset: region.start, cause: error });
    }
  };
  /** The slice reached the declared end: the stream must end here too, with the entry's checksum. */
  const verifyEnd = async () => {
    for (;;) {
      const next = await read();
      if (next.done) break;
      if (next.value.byteLength > 0) {
        throw new CntError("BAD_HEADER", `${where} inflates past its declared size of ${formatCount(region.size)} bytes (a zip bomb or a corrupt entry).`, { file: file.name, tensor, offset: region.start, expected: region.size, actual: produced + next.value.byteLength });
      }
    }
    if (region.crc32 !== undefined && crc32Final(crc) !== region.crc32 >>> 0) {
      const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
      throw new CntError("BAD_CHECKSUM", `${where} inflates to bytes whose CRC-32 is ${hex(crc32Final(crc))}, but the archive says ${hex(region.crc32)}: the entry is corrupt${tensor ? `, so tensor ${quoteName(tensor)} would be wrong` : ""}.`, { file: file.name, tensor, offset: region.start, expected: region.crc32 >>> 0, actual: crc32Final(crc) });
    }
  };
  try {
    while (produced < end) {
      const next = await read();
      if (next.done) {
        throw new CntError("TRUNCATED", `${where} inflates to ${formatCount(produced)} bytes, but it declares ${formatCount(region.size)}.`, { file: file.name, tensor, offset: region.start, expected: region.size, actual: produced });
      }
      const chunk = next.value;
      const before = produced;
      produced += chunk.byteLength;
      if (region.crc32 !== undefined && produced <= region.size) crc = crc32Update(crc, chunk);
      if (produced > region.size) {
        throw new CntError("BAD_HEADER", `${where} inflates past its declared size of ${formatCount(region.size)} bytes (a zip bomb or a corrupt entry).`, { file: file.name, tensor, offset: region.start, expected: region.size, actual: produced });
      }
      const from = Math.max(offset, before) - before;
      const to = Math.min(end, produced) - before;
      // The end is checked before the last piece is handed out: a consumer that has all it asked
      // for stops pulling, and a check after the last yield would never run.
      if (produced >= end && end === region.size) await verifyEnd();
      if (to > from) yield chunk.subarray(from, to);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

// -------------------------------------------------------------------------------- value coding

/** Apply the value coding to a stream of stored bytes (elements may straddle chunk borders). */
async function* decodeValues(chunks: AsyncGenerator<Uint8Array>, values: ValueCoding | undefined, width: number, tensor: StoredTensorInfo): AsyncGenerator<Uint8Array> {
  if (!values) {
    yield* chunks;
    return;
  }
  if (values.kind === "gguf") {
    yield* dequantChunks(chunks, values.type, tensor);
    return;
  }
  const inWidth = values.kind === "dequantize" ? (values.from === "uint8" ? 1 : 2) : width;
  let carry = new Uint8Array(0);
  for await (const chunk of chunks) {
    let bytes = chunk;
    if (carry.byteLength > 0) {
      bytes = new Uint8Array(carry.byteLength + chunk.byteLength);
      bytes.set(carry);
      bytes.set(chunk, carry.byteLength);
    }
    const whole = bytes.byteLength - (bytes.byteLength % inWidth);
    carry = bytes.slice(whole);
    const n = whole / inWidth;
    if (n === 0) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    if (values.kind === "dequantize") {
      const out = new Float32Array(n);
      const { scale, min } = values;
      if (inWidth === 1) for (let i = 0; i < n; i++) out[i] = bytes[i] * scale + min;
      else for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, true) * scale + min;
      yield new Uint8Array(out.buffer);
    } else if (values.kind === "byteswap") {
      const out = new Uint8Array(whole);
      for (let i = 0; i < whole; i += width) for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
      yield out;
    }
  }
  if (carry.byteLength > 0) {
    throw new CntError("BAD_HEADER", `Tensor ${quoteName(tensor.name)}: its stored bytes end inside an element.`, { tensor: tensor.name });
  }
}

/** One kernel instance for decoding GGUF blocks outside a tensor pass (created on first use). */
let decoder: Promise<Kernels> | undefined;

/** Blocks per kernel call when decoding outside a pass: 64 KiB of K blocks, 256 KiB of f32 out. */
const DEQUANT_BLOCKS = 256;

/**
 * GGUF blocks to f32 bytes, DEQUANT_BLOCKS blocks at a time through the wasm kernels (blocks may
 * straddle chunk borders). For the readers of decoded bytes (convert, per-gate passes); the tensor
 * passes dequantize in their own windows instead.
 */
async function* dequantChunks(chunks: AsyncGenerator<Uint8Array>, type: GgufQuant, tensor: StoredTensorInfo): AsyncGenerator<Uint8Array> {
  const kernels = await (decoder ??= Kernels.create());
  const { elements, bytes } = GGUF_BLOCKS[type];
  const src = kernels.base + 4096; // above the warm-up's state and slack
  const dst = src + Math.ceil((DEQUANT_BLOCKS * bytes) / 64) * 64;
  kernels.reserve(dst + DEQUANT_BLOCKS * elements * 4);
  let carry = new Uint8Array(0);
  for await (const chunk of chunks) {
    let stored = chunk;
    if (carry.byteLength > 0) {
      stored = new Uint8Array(carry.byteLength + chunk.byteLength);
      stored.set(carry);
      stored.set(chunk, carry.byteLength);
    }
    const whole = Math.floor(stored.byteLength / bytes);
    for (let b = 0; b < whole; b += DEQUANT_BLOCKS) {
      const n = Math.min(DEQUANT_BLOCKS, whole - b);
      kernels.bytes(src, n * bytes).set(stored.subarray(b * bytes, (b + n) * bytes));
      kernels.exports[DEQUANT_KERNEL[type]](src, dst, n);
      yield kernels.bytes(dst, n * elements * 4).slice();
    }
    carry = stored.slice(whole * bytes);
  }
  if (carry.byteLength > 0) {
    throw new CntError("BAD_HEADER", `Tensor ${quoteName(tensor.name)}: its stored bytes end inside a ${type} block.`, { tensor: tensor.name });
  }
}
