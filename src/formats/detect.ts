/**
 * Recognising every format from a file's first bytes (DETECT_BYTES of them), apart from the
 * readers: the registry runs these on every file, and importing a reader only once its format is
 * recognised keeps a run from loading (parsing, compiling) the other ten readers. An analysis of
 * a small safetensors file loaded 46 reader modules (600 KB of JavaScript) before this split.
 * Each reader re-exports its own function from here, so its tests and callers see no change.
 * Only leaf helpers (magic numbers, wire types: ./shared/magic.ts) are imported here, never a reader.
 */
import { CNT_MAGIC } from "./cnt/layout.js";
import { firstEntryName, isBundle, isHdf5, isNpy, isZip, WIRE_LEN, WIRE_VARINT } from "./shared/magic.js";

// ------------------------------------------------------------------------------------------ .cnt

/**
 * True when the bytes start with the `.cnt` magic "CNTS" (the version is checked by openCnt, so
 * a newer file is still recognised and refused with a clear message).
 * @example detectCnt(new Uint8Array(await blob.slice(0, 16).arrayBuffer()))
 */
export function detectCnt(firstBytes: Uint8Array): boolean {
  return firstBytes.length >= CNT_MAGIC.length && CNT_MAGIC.every((b, i) => firstBytes[i] === b);
}

// ------------------------------------------------------------------------------------------ GGUF

/** "GGUF" at byte 0. */
export function detectGguf(first: Uint8Array): boolean {
  return first.byteLength >= 4 && first[0] === 0x47 && first[1] === 0x47 && first[2] === 0x55 && first[3] === 0x46;
}

// ----------------------------------------------------------------------------------- safetensors

/**
 * A safetensors file starts with a u64 length whose JSON header opens with '{'. A '[' header and
 * a length with the top bit set (2^64 - 1, a negative i64) are recognised too, so open() refuses
 * them by name (BAD_HEADER, TRUNCATED) instead of calling the file unknown; lengths from 2^40 to
 * 2^63 stay unrecognised, which keeps text files (JSON configs) out.
 */
export function detectSafetensors(first: Uint8Array): boolean {
  if (first.byteLength < 9) return false;
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const n = view.getBigUint64(0, true);
  return n >= 2n && (n < 1n << 40n || n >= 1n << 63n) && (first[8] === 0x7b || first[8] === 0x5b);
}

/** A sharded checkpoint's index: a JSON object whose first bytes name "weight_map" or the index's "total_size". */
export function detectSafetensorsIndex(first: Uint8Array): boolean {
  const text = new TextDecoder("latin1").decode(first);
  return /^\s*\{/.test(text) && (text.includes('"weight_map"') || text.includes('"total_size"'));
}

// ----------------------------------------------------------------------------------------- numpy

/** `.npy`: the magic bytes \x93NUMPY. */
export function detectNpy(first: Uint8Array): boolean {
  return isNpy(first);
}

/** `.npz`: a zip whose first entry is (as far as the first bytes show) not a pickle. */
export function detectNpz(first: Uint8Array): boolean {
  if (!isZip(first)) return false;
  const { name, complete } = firstEntryName(first);
  if (/(^|\/)data\.pkl$/.test(name) || name.endsWith(".pkl")) return false;
  return !complete || name.endsWith(".npy");
}

// --------------------------------------------------------------------------------------- PyTorch

/** pickle protocol 2 of the LONG1 magic number 0x1950a86a20f9469cfc6c that opens a legacy (pre-1.6) torch.save file. */
export const LEGACY_MAGIC = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);

/** A legacy (pre-1.6) torch.save file: it opens with LEGACY_MAGIC. */
export function isLegacyTorch(first: Uint8Array): boolean {
  if (first.byteLength < LEGACY_MAGIC.byteLength) return false;
  for (let i = 0; i < LEGACY_MAGIC.byteLength; i++) if (first[i] !== LEGACY_MAGIC[i]) return false;
  return true;
}

/**
 * A zip whose first entry is `<archive>/data.pkl` (torch writes it first), or another entry of
 * torch's layout. A first name cut off by the detection window is claimed too: open() hands a zip
 * without data.pkl to the .npz reader.
 */
export function detectPytorch(first: Uint8Array): boolean {
  if (isLegacyTorch(first)) return true;
  if (!isZip(first)) return false;
  const { name, complete } = firstEntryName(first);
  if (!complete) return true;
  return /(^|\/)data\.pkl$/.test(name) || /^[^/]+\/(byteorder|version|\.format_version|data\/\d+)$/.test(name);
}

// ----------------------------------------------------------------------------------------- Keras

/** The entries Keras 3 writes into a .keras archive (metadata.json first). */
const KERAS_ENTRIES = new Set(["metadata.json", "config.json", "model.weights.h5"]);

/** `.keras`: a zip whose first entry is one of Keras's own names. */
export function detectKeras(first: Uint8Array): boolean {
  if (!isZip(first)) return false;
  const { name, complete } = firstEntryName(first);
  return complete && KERAS_ENTRIES.has(name);
}

/** An HDF5 file (legacy Keras `.h5`, Keras 3 `.weights.h5`). */
export function detectH5(first: Uint8Array): boolean {
  return isHdf5(first);
}

// ----------------------------------------------------------------------------------------- TF.js

/** Top-level keys of a TF.js model.json (tf.io.ModelJSON); the first one must be among them. */
const TFJS_MODEL_KEYS = new Set(["modelTopology", "format", "generatedBy", "convertedBy", "weightsManifest", "signature", "userDefinedMetadata", "modelInitializer", "trainingConfig", "initializerSignature"]);

/** A JSON object whose first key is a TF.js model.json key, or a browserify bundle of one. */
export function detectTfjs(first: Uint8Array): boolean {
  if (isBundle(first)) return true;
  const text = new TextDecoder("latin1").decode(first);
  const m = /^\uFEFF?\s*\{\s*"([A-Za-z]+)"\s*:/.exec(text);
  return m !== null && TFJS_MODEL_KEYS.has(m[1]);
}

// ------------------------------------------------------------------------------------------ ONNX

/** ModelProto fields (number -> wire type) that may follow ir_version at the top level. */
const MODEL_FIELDS: Record<number, number> = { 2: WIRE_LEN, 3: WIRE_LEN, 4: WIRE_LEN, 5: WIRE_VARINT, 6: WIRE_LEN, 7: WIRE_LEN, 8: WIRE_LEN, 14: WIRE_LEN, 20: WIRE_LEN, 25: WIRE_LEN };

/**
 * An ONNX ModelProto starts with ir_version (tag 0x08, a small varint: IR versions are 1-11 so
 * far), followed by more ModelProto fields with their proper wire types. Every field that starts
 * within the first bytes is checked; at least one must follow ir_version.
 */
export function detectOnnx(first: Uint8Array): boolean {
  if (first.byteLength < 3 || first[0] !== 0x08 || first[1] < 1 || first[1] > 64) return false;
  let p = 2;
  let fields = 0;
  while (p < first.byteLength) {
    const tag = smallVarint(first, p);
    if (!tag) return fields > 0;
    const field = tag.value >>> 3;
    const wire = tag.value & 7;
    if (MODEL_FIELDS[field] !== wire) return false;
    p = tag.next;
    const value = smallVarint(first, p);
    if (!value) return true;
    fields++;
    p = value.next + (wire === WIRE_LEN ? value.value : 0);
  }
  return fields > 0;
}

/** A varint of at most 4 bytes from `bytes` at `p`, or undefined when it does not end in the buffer. */
function smallVarint(bytes: Uint8Array, p: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 4 && p + i < bytes.byteLength; i++) {
    const b = bytes[p + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, next: p + i + 1 };
  }
  return undefined;
}
