/**
 * PyTorch `.pt` / `.pth` / `.bin` checkpoints as `torch.save` writes them since 1.6: a zip (every
 * entry stored, data aligned to 64 bytes) holding
 *
 *   <archive>/data.pkl      the pickled object (a state_dict, or a dict holding one)
 *   <archive>/data/<key>    the raw bytes of each storage, little-endian unless <archive>/byteorder says "big"
 *   <archive>/version       the format version
 *
 * data.pkl is read by our own restricted unpickler (pickle.ts): nothing from the file is imported
 * or run. Each tensor is a view of a storage: (storage, element offset, size, stride). A
 * contiguous view is a plain byte range of its storage's entry, so several tensors viewing one
 * storage each get their own range. A permuted view of a dense block (a transposed matrix saved
 * as is) holds the block's bytes in another order: a dense layer's weight reads them with its
 * layout flipped, a tensor measured as a distribution reads the block as it is (order does not
 * change a distribution); other strided views become a list of contiguous runs (at most
 * MAX_PARTS a tensor, MAX_TOTAL_PARTS a file), and a view that fits none of these is refused,
 * naming the tensor. Entries re-zipped with deflate are read too (inflated on the fly), but a
 * strided view of one is refused: each run would inflate the entry from its start.
 *
 * The legacy format (torch.save before 1.6, or _use_new_zipfile_serialization=False) is five
 * pickles in a row and then the storages' records; it is read the same way (openLegacy).
 *
 * The model's tensors: the pickled dict itself when it holds tensors, else the dict of tensors
 * found nearest the top (preferring keys such as "state_dict" and "model"); what else the
 * checkpoint holds (optimizer state, epoch) is named in a note. Integer and bool tensors
 * (BatchNorm's num_batches_tracked) are listed as skipped. The graph comes from the names and
 * shapes, as for safetensors (src/formats/shared/state-dict.ts).
 */
import { CntError, type CntErrorCode, formatCount, quoteName } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { checkedProduct } from "../../model/numbers.js";
import type { LayerInfo, ModelInfo, SkippedTensor, StoredPart, TensorInfo } from "../../model/types.js";
import { inflateChunks } from "../../source/tensor-bytes.js";
import type { ByteSource } from "../../source/types.js";
import { openNpz } from "../numpy/read.js";
import { stateDictGraph } from "../shared/state-dict.js";
import { readZipDirectory, type ZipEntry } from "../shared/zip.js";
import { describe, PyDict, PyStorage, PyTensor, PyTuple, storageDtype, unpickle, type PyValue } from "./pickle.js";

const FORMAT = "pytorch";

/** Contiguous runs a strided view may be read as (each run is one read), per tensor and in all (a part is a small object). */
export const MAX_PARTS = 65_536;
export const MAX_TOTAL_PARTS = 262_144;

/** Keys under which checkpoints keep the model's state_dict, most likely first. */
const MODEL_KEYS = ["state_dict", "model_state_dict", "model", "module", "net", "network", "model_state", "weights", "params", "ema", "model_ema", "state_dict_ema"];

/** Depth of nested containers searched for the model's tensors. */
const SEARCH_DEPTH = 4;

import { isLegacyTorch as isLegacy, LEGACY_MAGIC } from "../detect.js";

export { detectPytorch as detect } from "../detect.js";

type Fail = (code: CntErrorCode, message: string, extra?: object) => CntError;

export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail: Fail = (code, message, extra = {}) => new CntError(code, `${FORMAT} '${file}': ${message}`, { format: FORMAT, file, ...extra });
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  const first = new Uint8Array(Math.min(source.size ?? LEGACY_MAGIC.byteLength, LEGACY_MAGIC.byteLength));
  await source.readInto(0, first);
  if (isLegacy(first)) return openLegacy(source, limits, fail);
  const entries = await readZipDirectory(source, limits, FORMAT);
  const pickles = entries.filter((e) => /(^|\/)data\.pkl$/.test(e.name));
  // A zip without data.pkl whose first name was too long to see: a .npz.
  if (pickles.length === 0) {
    if (entries.some((e) => e.name.endsWith(".npy"))) return openNpz(source, limits);
    throw fail("BAD_HEADER", `the zip holds no data.pkl entry (a PyTorch checkpoint) and no .npy entry (a .npz); its entries are ${entries.slice(0, 4).map((e) => quoteName(e.name)).join(", ")}${entries.length > 4 ? ", ..." : ""}.`);
  }
  if (pickles.length > 1) throw fail("BAD_HEADER", `the zip holds ${pickles.length} data.pkl entries (${pickles.slice(0, 3).map((e) => quoteName(e.name)).join(", ")}); a checkpoint has one.`);
  const pkl = pickles[0];
  const prefix = pkl.name.slice(0, -"data.pkl".length);
  const byName = new Map(entries.map((e) => [e.name, e]));

  const byteorder = byName.get(`${prefix}byteorder`);
  let bigEndian = false;
  if (byteorder) {
    if (byteorder.size > 16) throw fail("BAD_HEADER", `entry ${quoteName(byteorder.name)} has ${formatCount(byteorder.size)} bytes; it should say "little" or "big".`);
    const text = new TextDecoder("latin1").decode(await entryBytes(source, byteorder, fail));
    if (text !== "little" && text !== "big") throw fail("BAD_HEADER", `entry ${quoteName(byteorder.name)} says ${quoteName(text)}; it should say "little" or "big".`);
    bigEndian = text === "big";
  }

  checkLimit(limits, "maxHeaderBytes", pkl.size, `${FORMAT} '${file}': the size of ${quoteName(pkl.name)}`, { format: FORMAT, file });
  const program = await entryBytes(source, pkl, fail);
  const storages = new Map<string, PyStorage>();
  // Offsets in messages count bytes of data.pkl; the details carry the file offset when it is stored.
  const pickleFail: Fail = (code, message, extra: { offset?: number } = {}) =>
    fail(code, `${quoteName(pkl.name)}: ${message}`, { ...extra, offset: extra.offset !== undefined && pkl.method === 0 ? pkl.dataOffset + extra.offset : undefined });
  const { value: root } = unpickle(program, 0, {
    maxValues: maxValues(limits),
    fail: pickleFail,
    storage: (id) => storageOf(id, storages, pickleFail),
  });
  const records: Records = {
    get: (key) => byName.get(`${prefix}data/${key}`),
    missing: (key) => `the zip has no entry ${quoteName(`${prefix}data/${key}`)}`,
  };
  return fromPickle(source, limits, fail, root, records, bigEndian, { archive: prefix.slice(0, -1), ...(bigEndian ? { byteorder: "big" } : {}) });
}

/** Values a pickle may build: 32 per tensor allowed (a tensor takes about 20 in torch's layout), at least 2^20. */
function maxValues(limits: Limits): number {
  return Math.max(1 << 20, 32 * limits.maxTensors);
}

/** Where each storage's bytes are: a zip entry, or a record of the legacy file. */
interface Records {
  get(key: string): ZipEntry | undefined;
  missing(key: string): string;
}

/** The model from the unpickled object: the state_dict's tensors placed in their storages, the graph from their names. */
async function fromPickle(source: ByteSource, limits: Limits, fail: Fail, root: PyValue, records: Records, bigEndian: boolean, metadata: Record<string, string>): Promise<ModelInfo> {
  const file = source.name;
  const { tensors: found, note } = findStateDict(root, fail);
  checkLimit(limits, "maxTensors", found.length, `${FORMAT} '${file}': the tensor count`, { format: FORMAT, file });
  const notes: string[] = note ? [note] : [];
  const placed: Placed[] = [];
  const skipped: SkippedTensor[] = [];
  for (const [name, t] of found) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most names need no encoding to be checked.
    if (name.length * 3 > limits.maxNameBytes && new TextEncoder().encode(name).byteLength > limits.maxNameBytes) {
      checkLimit(limits, "maxNameBytes", new TextEncoder().encode(name).byteLength, `${FORMAT} '${file}': a tensor name's length`, { format: FORMAT, file });
    }
    const p = place(name, t, records, limits, fail);
    const dtype = t.storage.dtype.float;
    if (!dtype) {
      skipped.push({ name, dtype: t.storage.dtype.name, shape: t.shape, reason: `dtype ${t.storage.dtype.name} is not supported for metrics` });
      continue;
    }
    if (bigEndian) p.info.decode = { ...p.info.decode, values: { kind: "byteswap" } };
    placed.push(p);
  }
  if (skipped.length > 0) {
    notes.push(`${skipped.length === 1 ? "The tensor" : `${skipped.length} tensors`} ${skipped.slice(0, 4).map((s) => `${quoteName(s.name)} (${s.dtype})`).join(", ")}${skipped.length > 4 ? ", ..." : ""} ${skipped.length === 1 ? "is" : "are"} not floating point (counters such as BatchNorm's num_batches_tracked) and ${skipped.length === 1 ? "was" : "were"} skipped.`);
  }
  if (placed.length === 0) {
    throw fail("BAD_HEADER", `the checkpoint holds no floating-point tensors (float32, float16, bfloat16, float64)${skipped.length > 0 ? `; it holds ${skipped.slice(0, 3).map((s) => `${quoteName(s.name)} (${s.dtype})`).join(", ")}` : ""}.`);
  }

  const tensors = placed.map((p) => p.info);
  const graph = await stateDictGraph(source, tensors);
  resolveViews(placed, graph.layers, fail);
  tensors.sort((a, b) => a.offset - b.offset);
  return {
    format: FORMAT,
    name: file,
    bytes: source.size,
    tensors,
    layers: graph.layers,
    ...(graph.graph ? { graph: graph.graph } : {}),
    ...(notes.length + graph.notes.length > 0 ? { notes: [...notes, ...graph.notes] } : {}),
    skipped,
    metadata,
  };
}

// ------------------------------------------------------------------------------- legacy format

/**
 * The legacy format (torch.save before 1.6, or _use_new_zipfile_serialization=False): five pickles
 * in a row (magic number, protocol version 1001, system info, the object, the sorted storage keys),
 * then each storage in key order as an 8-byte little-endian element count and its bytes.
 */
async function openLegacy(source: ByteSource, limits: Limits, fail: Fail): Promise<ModelInfo> {
  const size = source.size;
  if (size === undefined || !source.randomAccess) {
    throw fail("BAD_OPTION", "a legacy (pre-1.6) PyTorch checkpoint is read by random access: give a file, Blob or buffer, not a one-shot stream.");
  }
  // The pickles are read from a head of the file that grows until they fit (bounded by maxHeaderBytes).
  let headLength = Math.min(size, 1 << 16);
  for (;;) {
    const head = new Uint8Array(headLength);
    await source.readInto(0, head);
    const storages = new Map<string, PyStorage>();
    const pickleFail: Fail = (code, message, extra = {}) => fail(code, `the legacy pickle: ${message}`, extra);
    try {
      const options = { maxValues: maxValues(limits), fail: pickleFail };
      let at = unpickle(head, 0, options).end; // the magic number, checked by detect
      const protocol = unpickle(head, at, options);
      if (protocol.value !== 1001) throw pickleFail("UNSUPPORTED_FORMAT", `the legacy checkpoint has protocol version ${describe(protocol.value)}; cntscope reads 1001.`);
      const info = unpickle(head, protocol.end, options);
      const little = info.value instanceof PyDict ? info.value.map.get("little_endian") : undefined;
      if (typeof little !== "boolean") throw pickleFail("BAD_HEADER", "the legacy checkpoint's system info does not say little_endian True or False.");
      const object = unpickle(head, info.end, { ...options, storage: (id) => storageOf(id, storages, pickleFail) });
      const keys = unpickle(head, object.end, options);
      at = keys.end;
      if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== "string")) throw pickleFail("BAD_HEADER", `the legacy checkpoint's storage keys are ${describe(keys.value)}, not a list of strings.`);
      checkLimit(limits, "maxTensors", keys.value.length, `${FORMAT} '${source.name}': the storage count`, { format: FORMAT, file: source.name });
      // The records, in key order: [numel u64][numel x width bytes].
      const records = new Map<string, ZipEntry>();
      const count = new Uint8Array(8);
      for (const key of keys.value as string[]) {
        const storage = storages.get(key);
        if (!storage) throw fail("BAD_HEADER", `the legacy checkpoint lists storage ${quoteName(key)}, which no tensor names.`);
        if (records.has(key)) throw fail("BAD_HEADER", `the legacy checkpoint lists storage ${quoteName(key)} twice.`);
        if (at + 8 > size) throw fail("TRUNCATED", `storage ${quoteName(key)}'s record would start at byte ${formatCount(at)}, past the end of the file (${formatCount(size)} bytes).`, { offset: at });
        await source.readInto(at, count);
        const numel = new DataView(count.buffer).getBigUint64(0, little);
        if (numel !== BigInt(storage.numel)) throw fail("BAD_HEADER", `storage ${quoteName(key)}'s record at byte ${formatCount(at)} holds ${numel} elements, but the pickle declares ${formatCount(storage.numel)}.`, { offset: at });
        const bytes = storage.numel * storage.dtype.width;
        if (!Number.isSafeInteger(bytes) || at + 8 + bytes > size) throw fail("TRUNCATED", `storage ${quoteName(key)} of ${formatCount(storage.numel)} ${storage.dtype.name} elements at byte ${formatCount(at + 8)} runs past the end of the file (${formatCount(size)} bytes).`, { offset: at, expected: at + 8 + bytes, actual: size });
        records.set(key, { name: `storage ${key}`, method: 0, dataOffset: at + 8, compressedSize: bytes, size: bytes, crc32: 0, localOffset: at });
        at += 8 + bytes;
      }
      const lookup: Records = { get: (key) => records.get(key), missing: (key) => `the legacy checkpoint holds no record of storage ${quoteName(key)}` };
      return fromPickle(source, limits, fail, object.value, lookup, !little, { legacy: "true", ...(!little ? { byteorder: "big" } : {}) });
    } catch (error) {
      // A pickle cut by the end of the head: read a longer head, up to maxHeaderBytes.
      if (!(error instanceof CntError) || error.code !== "TRUNCATED" || !error.message.includes("the legacy pickle") || headLength >= size) throw error;
      if (headLength >= limits.maxHeaderBytes) checkLimit(limits, "maxHeaderBytes", headLength + 1, `${FORMAT} '${source.name}': the legacy checkpoint's pickles`, { format: FORMAT, file: source.name });
      headLength = Math.min(size, limits.maxHeaderBytes, headLength * 4);
    }
  }
}

// ------------------------------------------------------------------------------------ storages

/** The bytes of a small entry (data.pkl, byteorder): stored entries read in place, deflated ones inflated up to their declared size. */
async function entryBytes(source: ByteSource, entry: ZipEntry, fail: Fail): Promise<Uint8Array> {
  const out = new Uint8Array(entry.size);
  if (entry.method === 0) {
    await source.readInto(entry.dataOffset, out);
    return out;
  }
  if (entry.method !== 8) throw fail("UNSUPPORTED_FORMAT", `entry ${quoteName(entry.name)} uses zip compression method ${entry.method}; torch.save stores entries (method 0), and deflated ones (8) are read too.`);
  let at = 0;
  for await (const chunk of inflateChunks(source, { start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 }, 0, entry.size, entry.name)) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** A persistent id ('storage', <StorageType>, key, location, numel[, view metadata]) as a storage, one per key. */
function storageOf(id: PyTuple, storages: Map<string, PyStorage>, fail: Fail): PyStorage {
  const [, type, key, location, numel, view] = id.items;
  // Legacy files may name a view of a storage (view key, offset, size): torch stopped writing them with 1.0.
  if (view !== undefined && view !== null) throw fail("UNSUPPORTED_FORMAT", `storage ${describe(key)} is a legacy storage view (${describe(view)}), which cntscope does not read; re-save the checkpoint with a current torch.save.`);
  const dtype = storageDtype(type);
  if (id.items.length < 5 || id.items.length > 6 || !dtype || typeof key !== "string" || typeof location !== "string") {
    throw fail("BAD_HEADER", `a storage is named by a tuple of ${id.items.length} items (${id.items.map((v) => describe(v)).slice(0, 5).join(", ")}), not ('storage', <StorageType>, key, location, size).`);
  }
  if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) throw fail("BAD_SHAPE", `storage ${quoteName(key)} declares ${describe(numel)} elements, not a non-negative integer.`);
  const known = storages.get(key);
  if (known) {
    if (known.dtype !== dtype || known.numel !== numel) throw fail("BAD_HEADER", `storage ${quoteName(key)} is named twice with different types or sizes (${known.dtype.name} x ${formatCount(known.numel)}, ${dtype.name} x ${formatCount(numel)}).`);
    return known;
  }
  const storage = new PyStorage(key, dtype, location, numel);
  storages.set(key, storage);
  return storage;
}

// ------------------------------------------------------------------------------- the state_dict

/** The (name, tensor) pairs of the model and a note saying where they were found and what was left. */
function findStateDict(root: PyValue, fail: Fail): { tensors: [string, PyTensor][]; note?: string } {
  if (root instanceof PyTensor) throw fail("BAD_HEADER", "the checkpoint is one bare tensor, not a state_dict; save a dict of named tensors (model.state_dict()).");
  // Breadth first over dicts and lists, shallowest first; each container visited once (memo cycles).
  type Found = { path: (string | number)[]; dict: PyDict; count: number };
  const candidates: Found[] = [];
  const seen = new Set<object>();
  let level: { path: (string | number)[]; value: PyValue }[] = [{ path: [], value: root }];
  for (let depth = 0; depth <= SEARCH_DEPTH && level.length > 0 && candidates.length === 0; depth++) {
    const next: typeof level = [];
    for (const { path, value } of level) {
      if (value === null || typeof value !== "object" || seen.has(value)) continue;
      seen.add(value);
      if (value instanceof PyDict) {
        let count = 0;
        for (const [k, v] of value.map) {
          if (v instanceof PyTensor) count++;
          else next.push({ path: [...path, keyText(k)], value: v });
        }
        if (count > 0) candidates.push({ path, dict: value, count });
      } else if (Array.isArray(value) || value instanceof PyTuple) {
        (Array.isArray(value) ? value : value.items).forEach((v, i) => next.push({ path: [...path, i], value: v }));
      }
    }
    level = next;
  }
  if (candidates.length === 0) throw fail("BAD_HEADER", `the checkpoint holds no dict of tensors (it is ${describe(root)}); cntscope reads a state_dict, or a dict holding one.`);
  const rank = (c: Found) => {
    const last = c.path[c.path.length - 1];
    const i = typeof last === "string" ? MODEL_KEYS.indexOf(last) : -1;
    return i < 0 ? MODEL_KEYS.length : i;
  };
  candidates.sort((a, b) => rank(a) - rank(b) || b.count - a.count);
  const chosen = candidates[0];

  const tensors: [string, PyTensor][] = [];
  const names = new Set<string>();
  const others: string[] = [];
  for (const [k, v] of chosen.dict.map) {
    const name = keyText(k);
    if (!(v instanceof PyTensor)) {
      others.push(`${quoteName(name)} (${describe(v)})`);
      continue;
    }
    if (names.has(name)) throw fail("BAD_HEADER", `the state_dict names tensor ${quoteName(name)} twice.`, { tensor: name });
    names.add(name);
    tensors.push([name, v]);
  }
  const parts: string[] = [];
  if (chosen.path.length > 0) {
    const where = chosen.path.map((p) => (typeof p === "number" ? `[${p}]` : `[${quoteName(p)}]`)).join("");
    const siblings: string[] = [];
    // What the checkpoint holds beside the model: the top-level entries off the chosen path.
    if (root instanceof PyDict) {
      for (const [k, v] of root.map) if (keyText(k) !== chosen.path[0]) siblings.push(`${quoteName(keyText(k))} (${summary(v)})`);
    }
    parts.push(`The model's tensors were read from the checkpoint's ${where}${siblings.length > 0 ? `; also in the checkpoint and not read: ${siblings.slice(0, 8).join(", ")}${siblings.length > 8 ? ", ..." : ""}` : ""}.`);
    if (candidates.length > 1) parts.push(`Other dicts of tensors were not read: ${candidates.slice(1, 5).map((c) => c.path.map(String).map((p) => quoteName(p)).join("/") || "(top)").join(", ")}${candidates.length > 5 ? ", ..." : ""}.`);
  }
  if (others.length > 0) parts.push(`Entries of the state_dict that are not tensors were skipped: ${others.slice(0, 6).join(", ")}${others.length > 6 ? ", ..." : ""}.`);
  return { tensors, note: parts.length > 0 ? parts.join(" ") : undefined };
}

function keyText(k: unknown): string {
  if (typeof k === "string") return k;
  if (typeof k === "number" || typeof k === "bigint" || typeof k === "boolean") return String(k);
  return describe(k as PyValue);
}

/** A value in a few words, with its tensor count when it is a container. */
function summary(v: PyValue): string {
  if (v instanceof PyDict || Array.isArray(v) || v instanceof PyTuple) {
    const n = countTensors(v);
    return `${describe(v)}${n > 0 ? ` holding ${formatCount(n)} tensor${n === 1 ? "" : "s"}` : ""}`;
  }
  return describe(v);
}

/** Tensors inside a container, each container visited once, to a bounded depth. */
function countTensors(root: PyValue): number {
  const seen = new Set<object>();
  let n = 0;
  let level: PyValue[] = [root];
  for (let depth = 0; depth <= SEARCH_DEPTH + 2 && level.length > 0; depth++) {
    const next: PyValue[] = [];
    for (const v of level) {
      if (v instanceof PyTensor) n++;
      else if (v !== null && typeof v === "object" && !seen.has(v)) {
        seen.add(v);
        // Loops, not push(...items): a container of a million items would overflow the call's arguments.
        const items = v instanceof PyDict ? v.map.values() : Array.isArray(v) ? v : v instanceof PyTuple ? v.items : [];
        for (const item of items) next.push(item);
      }
    }
    level = next;
  }
  return n;
}

// -------------------------------------------------------------------------------------- views

interface Placed {
  info: TensorInfo;
  tensor: PyTensor;
  entry: ZipEntry;
  /** contiguous: a plain range; permuted: a dense block in another order; strided: anything else. */
  view: "contiguous" | "permuted" | "strided";
}

/** Check a tensor's view against its storage and its storage's entry; give it a byte range. */
function place(name: string, t: PyTensor, records: Records, limits: Limits, fail: Fail): Placed {
  const where = { tensor: name };
  const { storage, offset, shape, stride } = t;
  const width = storage.dtype.width;
  const entry = records.get(storage.key);
  if (!entry) throw fail("BAD_HEADER", `tensor ${quoteName(name)} views storage ${quoteName(storage.key)}, but ${records.missing(storage.key)}.`, where);
  const storageBytes = storage.numel * width;
  if (!Number.isSafeInteger(storageBytes)) throw fail("BAD_SHAPE", `storage ${quoteName(storage.key)} of tensor ${quoteName(name)} declares ${formatCount(storage.numel)} elements, more than 2^53 bytes.`, where);
  if (entry.size < storageBytes) {
    throw fail("TRUNCATED", `storage ${quoteName(storage.key)} of tensor ${quoteName(name)} declares ${formatCount(storage.numel)} ${storage.dtype.name} elements (${formatCount(storageBytes)} bytes), but its entry holds ${formatCount(entry.size)}.`, { ...where, expected: storageBytes, actual: entry.size });
  }
  if (entry.method !== 0 && entry.method !== 8) throw fail("UNSUPPORTED_FORMAT", `storage entry ${quoteName(entry.name)} of tensor ${quoteName(name)} uses zip compression method ${entry.method}; stored (0) and deflated (8) entries are read.`, where);
  // Messages are built only on failure: this runs once per tensor, up to maxTensors times.
  if (shape.length > limits.maxRank) checkLimit(limits, "maxRank", shape.length, `${FORMAT}: the rank of tensor ${quoteName(name)}`);
  if (stride.length !== shape.length) throw fail("BAD_SHAPE", `tensor ${quoteName(name)} has ${shape.length} dims [${shape.join(", ")}] but ${stride.length} strides [${stride.join(", ")}].`, where);
  let count = 1;
  for (const d of shape) count *= d; // dims are non-negative safe integers (pickle.ts)
  if (!Number.isSafeInteger(count)) checkedProduct(shape, `${FORMAT}: tensor ${quoteName(name)}`, { format: FORMAT, tensor: name });
  const byteLength = count * width;
  if (!Number.isSafeInteger(byteLength)) throw fail("BAD_SHAPE", `tensor ${quoteName(name)} of shape [${shape.join(", ")}] takes more than 2^53 bytes.`, where);
  // The last element the view reaches, in checked arithmetic: offset + sum((size - 1) * stride).
  let last = offset;
  if (count > 0) {
    for (let i = 0; i < shape.length; i++) {
      last += (shape[i] - 1) * stride[i];
      if (!Number.isSafeInteger(last)) throw fail("BAD_SHAPE", `tensor ${quoteName(name)}: strides [${stride.join(", ")}] over shape [${shape.join(", ")}] reach past 2^53 elements.`, where);
    }
  }
  if ((count > 0 && last >= storage.numel) || offset > storage.numel) {
    throw fail("OUT_OF_BOUNDS", `tensor ${quoteName(name)} of shape [${shape.join(", ")}], strides [${stride.join(", ")}], storage offset ${formatCount(offset)} reaches element ${formatCount(count > 0 ? last : offset)}, but storage ${quoteName(storage.key)} holds ${formatCount(storage.numel)}.`, { ...where, expected: storage.numel, actual: (count > 0 ? last : offset) + 1 });
  }
  const view = count <= 1 || isContiguous(shape, stride) ? "contiguous" : isPermutedBlock(shape, stride) ? "permuted" : "strided";
  const dtype = storage.dtype.float ?? "f32";
  const info: TensorInfo = { name, dtype, shape, offset: entry.dataOffset + offset * width, byteLength };
  if (entry.method === 8) {
    info.offset = entry.dataOffset;
    info.decode = { parts: [{ offset: offset * width, length: byteLength, container: { kind: "deflate-raw", start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 } }] };
  }
  return { info, tensor: t, entry, view };
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** The dims (those above 1), in some order, are a C-contiguous block: the view is a permutation of it. */
function isPermutedBlock(shape: number[], stride: number[]): boolean {
  const dims = shape.map((n, i) => ({ n, s: stride[i] })).filter((d) => d.n > 1).sort((a, b) => b.s - a.s);
  let expected = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    if (dims[i].s !== expected) return false;
    expected *= dims[i].n;
  }
  return true;
}

/**
 * Non-contiguous views, once the layers are known: a transposed dense weight flips its layer's
 * layout; a tensor measured as a distribution only reads its block as it is; anything else is
 * read as runs, or refused.
 */
const FLIP: Record<string, "in_out" | "out_in"> = { out_in: "in_out", in_out: "out_in" };

function resolveViews(placed: Placed[], layers: LayerInfo[], fail: Fail): void {
  const uses = new Map<string, { layer: LayerInfo; field: "weight" | "bias" | "recurrentWeight" | "recurrentBias" }[]>();
  for (const layer of layers) {
    for (const field of ["weight", "bias", "recurrentWeight", "recurrentBias"] as const) {
      const t = layer[field];
      if (t === undefined) continue;
      if (!uses.has(t)) uses.set(t, []);
      uses.get(t)!.push({ layer, field });
    }
  }
  let total = 0;
  for (const p of placed) {
    if (p.view === "contiguous") continue;
    const used = uses.get(p.info.name) ?? [];
    const { shape, stride } = p.tensor;
    if (p.view === "permuted" && used.every((u) => u.layer.kind === "other" || u.layer.kind === "norm")) continue;
    const single = used.length === 1 ? used[0] : undefined;
    if (p.view === "permuted" && shape.length === 2 && single?.field === "weight" && single.layer.kind === "dense" && (single.layer.weightLayout ?? "out_in") in FLIP) {
      // A transposed [a, b] view holds the [b, a] matrix in C order: the same matrix, the other layout.
      single.layer.weightLayout = FLIP[single.layer.weightLayout ?? "out_in"];
      p.info.shape = [shape[1], shape[0]];
      continue;
    }
    const what = `tensor ${quoteName(p.info.name)} is a non-contiguous view (shape [${shape.join(", ")}], strides [${stride.join(", ")}])`;
    if (p.entry.method !== 0) throw fail("UNSUPPORTED_FORMAT", `${what} of a deflated entry, which cntscope does not read; save tensor.contiguous() instead.`, { tensor: p.info.name });
    const parts = runs(p, Math.min(MAX_PARTS, MAX_TOTAL_PARTS - total), fail);
    total += parts.length;
    p.info.decode = { ...p.info.decode, parts };
    p.info.offset = parts[0]?.offset ?? p.info.offset;
  }
}

/** The view's elements in C order as contiguous runs of the storage entry (adjacent runs merged). */
function runs(p: Placed, max: number, fail: Fail): StoredPart[] {
  const { shape, stride, offset } = p.tensor;
  const width = p.tensor.storage.dtype.width;
  // The innermost dims that are contiguous form one run.
  let inner = shape.length;
  let run = 1;
  while (inner > 0 && (shape[inner - 1] === 1 || stride[inner - 1] === run)) {
    run *= shape[inner - 1];
    inner--;
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const n = count / run;
  if (n > max) {
    const bound = max < MAX_PARTS ? `the ${formatCount(max)} left of the ${formatCount(MAX_TOTAL_PARTS)} cntscope reads in one file` : `the ${formatCount(MAX_PARTS)} cntscope reads in one tensor`;
    throw fail("UNSUPPORTED_FORMAT", `tensor ${quoteName(p.info.name)} is a non-contiguous view (shape [${shape.join(", ")}], strides [${stride.join(", ")}]) of ${formatCount(n)} separate runs, above ${bound}; save tensor.contiguous() instead.`, { tensor: p.info.name });
  }
  const parts: StoredPart[] = [];
  const index = new Array<number>(inner).fill(0);
  for (let r = 0; r < n; r++) {
    let element = offset;
    for (let i = 0; i < inner; i++) element += index[i] * stride[i];
    const at = p.entry.dataOffset + element * width;
    const length = run * width;
    const prev = parts[parts.length - 1];
    if (prev && prev.offset + prev.length === at) prev.length += length;
    else parts.push({ offset: at, length });
    for (let i = inner - 1; i >= 0; i--) {
      if (++index[i] < shape[i]) break;
      index[i] = 0;
    }
  }
  return parts;
}
