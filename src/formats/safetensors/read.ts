/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * `{"<name>": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, then the
 * data region, which the tensors must cover exactly (no gaps, no overlaps, no trailing bytes),
 * as the format's reference reader requires.
 */
import { CntError, formatCount, quoteName, formatShape } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { checkedProduct, toSafeInteger } from "../../model/numbers.js";
import { DTYPE_BYTES, type DType, type ModelInfo, type SkippedTensor, type TensorInfo } from "../../model/types.js";
import { readBytes } from "../../source/read.js";
import type { ByteSource } from "../../source/types.js";
import { stateDictGraph } from "../shared/state-dict.js";
import { topLevelKeys } from "../shared/json-keys.js";

const FORMAT = "safetensors";

// Null prototypes: a dtype string from the file ("__proto__", "constructor") must not find
// Object.prototype's members here.
const METRIC_DTYPES: Record<string, DType> = Object.assign(Object.create(null), { F32: "f32", F16: "f16", BF16: "bf16", F64: "f64" });
/** Known dtypes the metrics do not read, with their widths (the data region still counts them). */
const OTHER_DTYPES: Record<string, number> = Object.assign(Object.create(null), {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8, C64: 8,
});

export { detectSafetensors as detect } from "../detect.js";

export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra: object = {}) =>
    new CntError(code, `safetensors '${file}': ${message}`, { format: FORMAT, file, ...extra });

  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  if (source.size !== undefined && source.size < 8) {
    throw fail("TRUNCATED", `the file has ${source.size} bytes, fewer than the 8-byte header length.`, { expected: 8, actual: source.size });
  }
  const prefix = new Uint8Array(8);
  await source.readInto(0, prefix);
  const declared = new DataView(prefix.buffer).getBigUint64(0, true);
  if (declared > BigInt(limits.maxHeaderBytes)) {
    if (source.size !== undefined && declared > BigInt(source.size - 8)) {
      throw fail("TRUNCATED", `the header length is ${declared} bytes but only ${formatCount(source.size - 8)} follow.`, { offset: 0, expected: String(declared), actual: source.size - 8 });
    }
    checkLimit(limits, "maxHeaderBytes", Number(declared), `safetensors '${file}': header length`, { format: FORMAT, file });
  }
  const headerBytes = Number(declared);
  if (source.size !== undefined && 8 + headerBytes > source.size) {
    throw fail("TRUNCATED", `the header length is ${formatCount(headerBytes)} bytes but only ${formatCount(source.size - 8)} follow.`, { offset: 0, expected: headerBytes, actual: source.size - 8 });
  }
  const raw = await readBytes(source, 8, headerBytes);

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch (error) {
    throw fail("BAD_HEADER", "the header is not valid UTF-8.", { offset: 8, cause: error });
  }
  if (!text.startsWith("{")) throw fail("BAD_HEADER", `the header must be a JSON object starting with '{'; it starts with ${quoteName(text.slice(0, 16))}.`, { offset: 8 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw fail("BAD_HEADER", `the header is not valid JSON (${quoteName((error as Error).message)}).`, { offset: 8, cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw fail("BAD_HEADER", "the header is not a JSON object.", { offset: 8 });

  const keys = topLevelKeys(text);
  checkLimit(limits, "maxTensors", keys.length, `safetensors '${file}': tensor count`, { format: FORMAT, file });
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw fail("BAD_HEADER", `the header names tensor ${quoteName(key)} twice.`, { tensor: key });
    seen.add(key);
  }

  const dataStart = 8 + headerBytes;
  const dataSize = source.size === undefined ? undefined : source.size - dataStart;
  const entries: { name: string; begin: number; end: number; width: number; dtype: string; shape: number[] }[] = [];
  let metadata: Record<string, string> | undefined;
  for (const name of keys) {
    const value = (parsed as Record<string, unknown>)[name];
    if (name === "__metadata__") {
      metadata = readMetadata(value, fail);
      continue;
    }
    if (new TextEncoder().encode(name).byteLength > limits.maxNameBytes) {
      checkLimit(limits, "maxNameBytes", new TextEncoder().encode(name).byteLength, `safetensors '${file}': a tensor name's length`, { format: FORMAT, file });
    }
    entries.push(readEntry(name, value, limits, fail));
  }

  // Exact coverage of the data region, in offset order.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: string | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw fail("OVERLAP", `tensors ${quoteName(previous!)} and ${quoteName(e.name)} share bytes (${quoteName(e.name)} begins at ${formatCount(e.begin)}, before ${formatCount(cursor)}).`, { tensor: e.name, offset: dataStart + e.begin });
    }
    if (e.begin > cursor) {
      throw fail("BAD_HEADER", `there is a gap of ${formatCount(e.begin - cursor)} bytes before tensor ${quoteName(e.name)} at data offset ${formatCount(cursor)}; the format requires tensors to cover the data exactly.`, { tensor: e.name, offset: dataStart + cursor });
    }
    cursor = e.end;
    previous = e.name;
  }
  if (dataSize !== undefined) {
    if (cursor > dataSize) {
      throw fail("OUT_OF_BOUNDS", `tensor ${quoteName(previous!)} ends at data offset ${formatCount(cursor)}, but the data region has ${formatCount(dataSize)} bytes.`, { tensor: previous, offset: dataStart + cursor, expected: cursor, actual: dataSize });
    }
    if (cursor < dataSize) {
      throw fail("BAD_HEADER", `${formatCount(dataSize - cursor)} bytes follow the last tensor; the format requires tensors to cover the data exactly.`, { offset: dataStart + cursor });
    }
  }

  if (entries.length === 0) throw fail("BAD_HEADER", `the header lists no tensors${metadata ? " (only __metadata__)" : ""}.`, { offset: 8 });
  const tensors: TensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    const dtype = METRIC_DTYPES[e.dtype];
    if (dtype) {
      tensors.push({ name: e.name, dtype, shape: e.shape, offset: dataStart + e.begin, byteLength: e.end - e.begin });
      continue;
    }
    // A layer's weight (or the bias beside one) cannot be skipped: the layer would silently drop
    // out of the inferred chain. Tensors no layer uses (counters, masks) are listed as skipped.
    const layer = e.name.endsWith(".weight") ? e.name.slice(0, -7) : e.name.endsWith(".bias") && names.has(`${e.name.slice(0, -5)}.weight`) ? e.name.slice(0, -5) : undefined;
    if (layer !== undefined) {
      throw fail("BAD_DTYPE", `tensor ${quoteName(e.name)} of layer ${quoteName(layer)} is ${e.dtype}, which is not supported for metrics (${Object.keys(METRIC_DTYPES).join(", ")}).`, { tensor: e.name, offset: dataStart + e.begin });
    }
    skipped.push({ name: e.name, dtype: e.dtype, shape: e.shape, reason: `dtype ${e.dtype} is not supported for metrics` });
  }
  if (tensors.length === 0) {
    const found = skipped.slice(0, 3).map((t) => `${quoteName(t.name)} (${t.dtype})`).join(", ");
    throw fail("BAD_HEADER", `the header lists no tensors in a dtype the metrics read (${Object.keys(METRIC_DTYPES).join(", ")}); found ${found}${skipped.length > 3 ? ` and ${skipped.length - 3} more` : ""}.`, { offset: 8 });
  }
  const { layers, graph, notes } = await stateDictGraph(source, tensors);
  return {
    format: FORMAT,
    name: file,
    bytes: source.size,
    tensors,
    layers,
    ...(graph ? { graph } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    skipped,
    metadata,
  };
}

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

function readEntry(name: string, value: unknown, limits: Limits, fail: Fail) {
  const where = { tensor: name };
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail("BAD_HEADER", `tensor ${quoteName(name)} is not described by an object.`, where);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string") throw fail("BAD_DTYPE", `tensor ${quoteName(name)} has no dtype string.`, where);
  const width = DTYPE_BYTES[METRIC_DTYPES[dtype]] ?? OTHER_DTYPES[dtype];
  if (width === undefined) {
    throw fail("BAD_DTYPE", `tensor ${quoteName(name)} has dtype ${quoteName(dtype.slice(0, 40))}; known dtypes are ${[...Object.keys(METRIC_DTYPES), ...Object.keys(OTHER_DTYPES)].join(", ")}.`, where);
  }
  if (!Array.isArray(shape)) throw fail("BAD_SHAPE", `tensor ${quoteName(name)} has no shape array.`, where);
  checkLimit(limits, "maxRank", shape.length, `safetensors: the rank of tensor ${quoteName(name)}`);
  // Non-numbers are printed here, escaped, before the numeric checks below quote them raw.
  const odd = shape.findIndex((d) => typeof d !== "number");
  if (odd >= 0) throw fail("BAD_SHAPE", `tensor ${quoteName(name)}: dim ${odd} is ${shown(shape[odd])}, not a non-negative integer.`, where);
  const count = checkedProduct(shape, `safetensors: tensor ${quoteName(name)}`, { format: FORMAT, tensor: name });
  if (!Array.isArray(offsets) || offsets.length !== 2) throw fail("BAD_HEADER", `tensor ${quoteName(name)} needs data_offsets [begin, end].`, where);
  for (const k of [0, 1]) {
    if (typeof offsets[k] !== "number") throw fail("OUT_OF_BOUNDS", `data_offsets[${k}] of tensor ${quoteName(name)} is ${shown(offsets[k])}, not an integer in [0, 2^53).`, where);
  }
  const begin = toSafeInteger(offsets[0] as number, `safetensors: data_offsets[0] of tensor ${quoteName(name)}`, "OUT_OF_BOUNDS", { format: FORMAT, tensor: name });
  const end = toSafeInteger(offsets[1] as number, `safetensors: data_offsets[1] of tensor ${quoteName(name)}`, "OUT_OF_BOUNDS", { format: FORMAT, tensor: name });
  if (end < begin) throw fail("OUT_OF_BOUNDS", `tensor ${quoteName(name)} has data_offsets [${begin}, ${end}]: the end is before the begin.`, where);
  const expected = count * width;
  if (!Number.isSafeInteger(expected) || end - begin !== expected) {
    throw fail("BAD_DTYPE", `tensor ${quoteName(name)} is ${dtype} of shape ${formatShape(shape)}, which takes ${formatCount(expected)} bytes, but its data_offsets span ${formatCount(end - begin)}.`, { ...where, expected, actual: end - begin });
  }
  return { name, begin, end, width, dtype, shape: shape as number[] };
}

/** A JSON value from the header, for a message: as JSON text, escaped and cut like a name. */
function shown(value: unknown): string {
  return quoteName((JSON.stringify(value) ?? String(value)).slice(0, 60));
}

function readMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail("BAD_HEADER", "__metadata__ must be an object of strings.");
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw fail("BAD_HEADER", `__metadata__ entry ${quoteName(k)} is not a string.`);
    out[k] = v;
  }
  return out;
}
