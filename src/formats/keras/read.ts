/**
 * Keras: the Keras 3 `.keras` archive, and HDF5 files Keras writes on their own.
 *
 * `.keras` is a zip of `metadata.json` (Keras version, date), `config.json` (the model: a
 * Sequential or Functional config, the graph) and `model.weights.h5` (an HDF5 file of each layer's
 * variables, src/formats/shared/hdf5.ts). Keras stores the entries uncompressed, so a tensor is a
 * plain byte range of the archive; a deflated model.weights.h5 up to 1 GiB (or an eighth of a lower
 * limits.maxInflatedBytes) is inflated once into
 * memory (src/source/inflated-store.ts) and its metadata and tensors are read from there; a larger
 * one is read through its inflated stream (metadata from a forward stream restarted when a read
 * goes back; each tensor inflates the entry from its start: correct for any size, slow, and said
 * so in a note; a 185 MB deflated .keras took 3 minutes to analyze that way on a loaded 2-core
 * machine, against 0.2 s stored).
 * Variables are named from the config by Keras 3's paths (config.ts), then layers and the graph
 * come from the config through the TF.js layers reader (src/formats/tfjs/layers.ts). A subclassed
 * model's config holds its constructor's arguments, not a graph: its variables are distributions.
 *
 * HDF5 files (`\x89HDF\r\n\x1a\n` at byte 0):
 *   legacy Keras `.h5` (model.save("x.h5")): the config is the root attribute `model_config`,
 *     each layer's weights under `model_weights/<layer>/.../<weight>` (`:0` suffixes dropped);
 *   Keras 3 `.weights.h5` (save_weights) and Keras 2 weights `.h5` (root attribute layer_names):
 *     variables without a config, every one reported as a distribution with a note;
 *   any other HDF5 file: UNSUPPORTED_FORMAT.
 * Integer and other non-float variables (optimizer counters, seed states) are listed as skipped;
 * `optimizer/...` (legacy .h5: `optimizer_weights/...`) variables are one skipped entry, "optimizer"
 * (its state, not weights); batch-norm
 * running statistics likewise. Chunked or filtered (compressed) datasets are refused, naming the
 * dataset. Nothing from the file is ever run (Lambda layers stay opaque, see layers.ts).
 */
import { CntError, formatCount, quoteName } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import type { ModelInfo, SkippedTensor } from "../../model/types.js";
import { INFLATED_STORE_BYTES, inflatedCopy, keepInflated } from "../../source/inflated-store.js";
import { inflateChunks, type StoredTensorInfo } from "../../source/tensor-bytes.js";
import type { ByteSource } from "../../source/types.js";
import { readHdf5, type Hdf5Dataset, type Hdf5Tree } from "../shared/hdf5.js";
import { readZipDirectory, type ZipEntry } from "../shared/zip.js";
import { topologyOverTensors } from "../tfjs/topology-over-tensors.js";
import { weightNames } from "./config.js";

type Code = ConstructorParameters<typeof CntError>[0];
type Fail = (code: Code, message: string, extra?: object) => CntError;

export { detectKeras as detect, detectH5 } from "../detect.js";


// -------------------------------------------------------------------------------------- .keras

export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail = failFor("keras", file);
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  const entries = await readZipDirectory(source, limits, "keras");
  const byName = new Map(entries.map((e) => [e.name, e]));
  const configEntry = byName.get("config.json");
  const weightsEntry = byName.get("model.weights.h5");
  if (!configEntry) throw fail("BAD_HEADER", "the archive has no config.json (is it a Keras 3 .keras file?).");
  if (!weightsEntry) {
    if (byName.has("model.weights.json")) throw fail("UNSUPPORTED_FORMAT", "the weights are sharded (model.weights.json and its shard files); cntscope reads a .keras with one model.weights.h5.");
    if (byName.has("model.weights.npz")) throw fail("UNSUPPORTED_FORMAT", "the weights are model.weights.npz (saved with weights_format=\"npz\"), whose arrays are pickled Python dicts; cntscope never unpickles. Save with Keras's default (h5) weights format.");
    throw fail("BAD_HEADER", "the archive has no model.weights.h5.");
  }
  for (const e of [configEntry, weightsEntry, byName.get("metadata.json")]) {
    if (e && e.method !== 0 && e.method !== 8) throw fail("UNSUPPORTED_FORMAT", `entry ${quoteName(e.name)} uses zip compression method ${e.method}; cntscope reads stored and deflated entries.`, { tensor: e.name });
    if (e && e.method === 8) checkLimit(limits, "maxInflatedBytes", e.size, `keras '${file}': the inflated size of entry ${quoteName(e.name)}`, { format: "keras", file });
  }
  const config = await readJsonEntry(source, configEntry, limits, fail);
  const metadata: Record<string, string> = Object.create(null);
  const meta = byName.get("metadata.json");
  if (meta) {
    const m = await readJsonEntry(source, meta, limits, fail);
    for (const key of ["keras_version", "date_saved"]) if (typeof m[key] === "string") metadata[key === "keras_version" ? "kerasVersion" : "dateSaved"] = (m[key] as string).slice(0, 200);
  }
  const h5fail = failFor("keras", file, "model.weights.h5");
  const tree = await readHdf5(h5Reader(source, weightsEntry, limits), weightsEntry.size, limits, h5fail);
  const place = (d: Hdf5Dataset): Partial<StoredTensorInfo> =>
    weightsEntry.method === 0
      ? { offset: weightsEntry.dataOffset + d.offset }
      : { offset: weightsEntry.dataOffset, decode: { parts: [{ offset: d.offset, length: d.byteLength, container: { kind: "deflate-raw", start: weightsEntry.dataOffset, length: weightsEntry.compressedSize, size: weightsEntry.size, crc32: weightsEntry.crc32 } }] } };
  let model: ModelInfo;
  if (typeof config.class_name === "string" && !["Sequential", "Functional", "Model"].includes(config.class_name)) {
    // A subclassed model: its config is its constructor's arguments, not a graph. Never refused: its variables are distributions.
    model = await assemble({ format: "keras", file, bytes: source.size, tree, config: undefined, names: () => undefined, place, metadata, limits, fail });
    model.notes = [`The model is a subclass (${quoteName(typeof config.registered_name === "string" ? config.registered_name : config.class_name)}): its config does not say how its layers connect, so every variable is reported as a distribution, named by its path in model.weights.h5.`];
  } else {
    const { names, statistics } = weightNames(config, (p) => datasetPaths(tree).has(p), fail, limits);
    model = await assemble({ format: "keras", file, bytes: source.size, tree, config, names: (d) => names.get(d.path), statistics, place, metadata, limits, fail });
  }
  if (weightsEntry.method === 8) {
    const region = { start: weightsEntry.dataOffset, length: weightsEntry.compressedSize, size: weightsEntry.size, crc32: weightsEntry.crc32 };
    model.notes = [
      ...(model.notes ?? []),
      inflatedCopy(source, region)
        ? `model.weights.h5 is deflated in this archive (Keras stores it uncompressed): it was inflated once into memory (${formatCount(weightsEntry.size)} bytes) and every tensor read from there.`
        : `model.weights.h5 is deflated in this archive (Keras stores it uncompressed) and inflates to ${formatCount(weightsEntry.size)} bytes, more than the ${formatCount(storeBound(limits))} kept in memory: every tensor is read by inflating the entry from its start, which is slow; re-save it with Keras for speed.`,
    ];
  }
  return model;
}

// ---------------------------------------------------------------------------------------- .h5

export async function openH5(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail = failFor("keras-h5", file);
  if (source.size === undefined || !source.randomAccess) {
    throw new CntError("BAD_OPTION", `keras-h5 '${file}' is an HDF5 file, whose directory is spread through it: give a file, Blob or buffer, not a one-shot stream.`, { format: "keras-h5", file });
  }
  const tree = await readHdf5((o, d) => source.readInto(o, d), source.size, limits, fail);
  const place = (d: Hdf5Dataset): Partial<StoredTensorInfo> => ({ offset: d.offset });
  const metadata: Record<string, string> = Object.create(null);
  const text = tree.groups.includes("model_weights") ? await tree.stringAttribute("", "model_config") : undefined;
  if (text !== undefined) {
    // Legacy Keras .h5: model_weights/<layer>/<scope>/<weight>:0; the name after the layer's own name.
    for (const key of ["keras_version", "backend"]) {
      const v = await tree.stringAttribute("", key);
      if (v !== undefined) metadata[key === "keras_version" ? "kerasVersion" : key] = v.slice(0, 200);
    }
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(text);
    } catch (error) {
      throw fail("BAD_HEADER", `the model_config attribute is not valid JSON (${quoteName((error as Error).message)}).`, { cause: error });
    }
    const names = (d: Hdf5Dataset) => {
      const parts = d.path.split("/");
      if (parts[0] !== "model_weights" || parts.length < 3) return undefined;
      const layer = parts[1];
      const rest = parts.slice(2);
      const own = rest.slice(0, -1).lastIndexOf(layer);
      return `${layer}/${rest.slice(own + 1).join("/").replace(/:\d+$/, "")}`;
    };
    return assemble({ format: "keras-h5", file, bytes: source.size, tree, config, names, place, metadata, limits, fail });
  }
  const rootAttributes = await tree.attributeNames("");
  if (rootAttributes.includes("layer_names")) {
    // Keras 2 save_weights: <layer>/<scope>/<weight>:0 per layer, no config.
    const names = (d: Hdf5Dataset) => {
      const parts = d.path.split("/");
      const own = parts.slice(1, -1).lastIndexOf(parts[0]);
      return `${parts[0]}/${parts.slice(own + 2).join("/").replace(/:\d+$/, "")}`;
    };
    const model = await assemble({ format: "keras-h5", file, bytes: source.size, tree, config: undefined, names, place, metadata, limits, fail });
    model.notes = ["A Keras 2 weights file (save_weights to .h5) holds no config, so it says nothing of how the layers connect: every weight is reported as a distribution."];
    return model;
  }
  if (tree.groups.includes("layers") || tree.groups.includes("vars")) {
    const model = await assemble({ format: "keras-h5", file, bytes: source.size, tree, config: undefined, names: () => undefined, place, metadata, limits, fail });
    model.notes = ["A Keras weights file (.weights.h5) holds no config, so it says nothing of how the layers connect: every variable is reported as a distribution. Open the .keras file for the graph."];
    return model;
  }
  throw fail("UNSUPPORTED_FORMAT", "this HDF5 file is not a Keras model (no model_config attribute, no layers group); cntscope reads Keras .keras, legacy Keras .h5 and Keras .weights.h5 files.");
}

// ----------------------------------------------------------------------------------- assembly

interface Parts {
  format: string;
  file: string;
  bytes: number | undefined;
  tree: Hdf5Tree;
  /** The model config (a Keras Sequential / Functional), absent for a bare weights file. */
  config: Record<string, unknown> | undefined;
  /** The weight name layers.ts reads for a dataset, when the config accounts for it. */
  names: (d: Hdf5Dataset) => string | undefined;
  /** Weight names that are statistics of the data (a Normalization's mean and variance), listed as skipped. */
  statistics?: Set<string>;
  /** Where a dataset's bytes are in the source. */
  place: (d: Hdf5Dataset) => Partial<StoredTensorInfo>;
  metadata: Record<string, string>;
  limits: Limits;
  fail: Fail;
}

async function assemble(p: Parts): Promise<ModelInfo> {
  const { tree, limits, fail } = p;
  const tensors: StoredTensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  const taken = new Set<string>();
  const optimizer: Hdf5Dataset[] = [];
  for (const d of tree.datasets) {
    const name = p.names(d) ?? d.path;
    if (taken.has(name)) throw fail("BAD_HEADER", `two variables are named ${quoteName(name)}.`, { tensor: name });
    taken.add(name);
    if (d.path.startsWith("optimizer/") || d.path.startsWith("optimizer_weights/")) {
      optimizer.push(d);
    } else if (p.statistics?.has(name)) {
      skipped.push({ name, dtype: d.type, shape: d.shape, reason: "a preprocessing statistic (Normalization), not a link weight" });
    } else if (d.empty) {
      skipped.push({ name, dtype: d.type, shape: d.shape, reason: d.empty });
    } else if (!d.dtype) {
      skipped.push({ name, dtype: d.type, shape: d.shape, reason: `dtype ${d.type} is not supported for metrics` });
    } else {
      const t: StoredTensorInfo = { name, dtype: d.dtype, shape: d.shape, offset: 0, byteLength: d.byteLength, ...p.place(d) };
      if (d.bigEndian) t.decode = { ...t.decode, values: { kind: "byteswap" } };
      tensors.push(t);
    }
  }
  // The optimizer's state (step counts, moments: often twice the weights' count) is one line, not one per variable.
  if (optimizer.length > 0) {
    const types = [...new Set(optimizer.map((d) => d.type))].join(", ");
    skipped.push({ name: "optimizer", dtype: types, shape: [optimizer.length], reason: `the optimizer's state (${optimizer.length} variables), not weights` });
  }
  checkLimit(limits, "maxTensors", tensors.length + skipped.length + optimizer.length, `${p.format} '${p.file}': the variable count`, { format: p.format, file: p.file });
  const model: ModelInfo = { format: p.format, name: p.file, bytes: p.bytes, tensors, layers: [], skipped, metadata: p.metadata, dataFormat: "channels_last" };
  if (!p.config) {
    model.layers = tensors.map((t) => ({ name: t.name, kind: "other", weight: t.name }));
    model.tensors = sortByOffset(tensors);
    return model;
  }
  const { layers, tensors: measured, statistics, mapped } = topologyOverTensors(p.config, tensors, fail, limits, { format: p.format, file: p.file });
  skipped.push(...statistics);
  model.tensors = sortByOffset(measured);
  model.layers = layers;
  if (mapped.dataFormat) model.dataFormat = mapped.dataFormat;
  if (mapped.graph) model.graph = mapped.graph;
  if (mapped.inputShape) {
    if (mapped.inputShape.every((d) => typeof d === "number")) model.inputShape = mapped.inputShape as number[];
    else p.metadata.inputShape = `[${mapped.inputShape.map((d) => d ?? "null").join(", ")}]`;
  }
  return model;
}

/** Tensors in file order (the stored offset of a deflated one: its place in the inflated entry). */
function sortByOffset(tensors: StoredTensorInfo[]): StoredTensorInfo[] {
  const at = (t: StoredTensorInfo) => t.decode?.parts?.[0]?.offset ?? t.offset;
  return [...tensors].sort((a, b) => at(a) - at(b));
}

// ------------------------------------------------------------------------------------- helpers

function failFor(format: string, file: string, entry?: string): Fail {
  const at = entry === undefined ? "" : `${entry}: `;
  return (code, message, extra = {}) => new CntError(code, `${format} '${file}': ${at}${message}`, { format, file, ...extra });
}

const pathSets = new WeakMap<Hdf5Tree, Set<string>>();
function datasetPaths(tree: Hdf5Tree): Set<string> {
  let set = pathSets.get(tree);
  if (!set) pathSets.set(tree, (set = new Set(tree.datasets.map((d) => d.path))));
  return set;
}

/** Reads of an entry's (inflated) bytes from its start; stored entries are read in place. */
function entryReader(source: ByteSource, entry: ZipEntry): (offset: number, dest: Uint8Array) => Promise<void> {
  if (entry.method === 0) return (offset, dest) => source.readInto(entry.dataOffset + offset, dest);
  return async (offset, dest) => {
    let at = 0;
    for await (const chunk of inflateChunks(source, { start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 }, offset, dest.byteLength, entry.name)) {
      dest.set(chunk, at);
      at += chunk.byteLength;
    }
    if (at !== dest.byteLength) throw new CntError("TRUNCATED", `Entry ${quoteName(entry.name)} inflates to fewer bytes than it declares (${formatCount(entry.size)}).`, { tensor: entry.name });
  };
}

/**
 * Reads of model.weights.h5's bytes for its metadata. Stored: in place. Deflated: the whole entry
 * inflated once when it fits in maxHeaderBytes or in the inflated store (INFLATED_STORE_BYTES, 1 GiB),
 * where it is kept so that every tensor is a slice of that one inflation (src/source/inflated-store.ts);
 * else one inflating stream read forward, restarted
 * from the entry's start only when a read goes back (h5py's files put most metadata before the
 * data it describes, so a walk restarts a few times, not once per block).
 */
function h5Reader(source: ByteSource, entry: ZipEntry, limits: Limits): (offset: number, dest: Uint8Array) => Promise<void> {
  if (entry.method === 0) return entryReader(source, entry);
  if (canInflateTo(entry) && (entry.size <= limits.maxHeaderBytes || entry.size <= storeBound(limits))) {
    let whole: Promise<Uint8Array> | undefined;
    return async (offset, dest) => {
      whole ??= (async () => {
        const all = new Uint8Array(entry.size);
        await entryReader(source, entry)(0, all);
        keepInflated(source, { start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 }, all);
        return all;
      })();
      dest.set((await whole).subarray(offset, offset + dest.byteLength));
    };
  }
  const region = { start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 };
  let stream: AsyncGenerator<Uint8Array> | undefined;
  let pos = 0;
  let pending: Uint8Array = new Uint8Array(0);
  return async (offset, dest) => {
    if (!stream || offset < pos) {
      await stream?.return(undefined);
      stream = inflateChunks(source, region, offset, entry.size - offset, entry.name);
      pos = offset;
      pending = new Uint8Array(0);
    }
    for (let at = 0; at < dest.byteLength; ) {
      if (pending.byteLength === 0) {
        const next = await stream.next();
        if (next.done) throw new CntError("TRUNCATED", `Entry ${quoteName(entry.name)} inflates to fewer bytes than it declares (${formatCount(entry.size)}).`, { tensor: entry.name });
        pending = next.value;
      }
      const skip = Math.min(Math.max(0, offset - pos), pending.byteLength);
      const take = Math.min(dest.byteLength - at, pending.byteLength - skip);
      dest.set(pending.subarray(skip, skip + take), at);
      at += take;
      pending = pending.subarray(skip + take);
      pos += skip + take;
    }
  };
}

/** The largest deflated weights entry inflated once and kept: INFLATED_STORE_BYTES (1 GiB), or an eighth of a lower maxInflatedBytes. */
function storeBound(limits: Limits): number {
  return Math.min(INFLATED_STORE_BYTES, Math.floor(limits.maxInflatedBytes / 8));
}

/** Deflate packs at most 1032 bytes into one (zlib's bound): a declared size past that cannot be true, so nothing is allocated for it. */
function canInflateTo(entry: ZipEntry): boolean {
  return entry.size <= entry.compressedSize * 1032 + 1024;
}

async function readJsonEntry(source: ByteSource, entry: ZipEntry, limits: Limits, fail: Fail): Promise<Record<string, unknown>> {
  checkLimit(limits, "maxHeaderBytes", entry.size, `keras '${source.name}': the size of ${quoteName(entry.name)}`, { format: "keras", file: source.name });
  const raw = new Uint8Array(entry.size);
  await entryReader(source, entry)(0, raw);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (error) {
    throw fail("BAD_HEADER", `${quoteName(entry.name)} is not valid UTF-8 JSON (${quoteName((error as Error).message)}).`, { tensor: entry.name, cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail("BAD_HEADER", `${quoteName(entry.name)} is not a JSON object.`, { tensor: entry.name });
  return value as Record<string, unknown>;
}
