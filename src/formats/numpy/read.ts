/**
 * NumPy: a `.npy` file is one array (see header.ts for the header); a `.npz` is a zip of
 * `.npy` entries (np.savez stores them, np.savez_compressed deflates them), named `arr_0.npy`
 * or after the keys given, for example a PyTorch state_dict (`fc1.weight.npy`) or Keras weights
 * (`dense/kernel.npy`).
 *
 * Graph from names: PyTorch keys (`<layer>.weight`, `<layer>.bias`) go through
 * inferLayersFromNames (dense stored [out, in]: layout "out_in"); Keras keys (`<layer>/kernel`,
 * `/bias`, `/recurrent_kernel`, `/depthwise_kernel`, `/gamma`, ...) give Keras layouts (dense
 * "in_out", conv "hwio"). A lone array (a `.npy`, or a `.npz` of one entry) is one layer: a 2-D
 * array is read as the spec's dense W [n_in, n_out] ("in_out"), so its row sums are the inputs'
 * s_out. Any other names give every array as a distribution with a note naming the arrays:
 * cntscope does not guess how `arr_0`, `arr_1` pair into layers. The hook for an explicit layout
 * is `openNpzWithLayout`.
 *
 * Dtypes: '<f2' '<f4' '<f8' are read; '>' (big-endian) ones are byte-swapped on the way in;
 * integer, bool, complex and string arrays are skipped ("not supported for metrics"); object
 * arrays ('|O', pickled Python objects) are refused with BAD_DTYPE, nothing is unpickled.
 * fortran_order True: a 2-D array is the C-order transpose, so its stored shape is reversed and
 * its dense layout flips to "out_in"; 1-D is unchanged; 3-D and up are refused.
 */
import { CntError, formatCount, quoteName, formatShape } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { checkedProduct } from "../../model/numbers.js";
import type { DType, LayerInfo, ModelInfo, SkippedTensor, WeightLayout } from "../../model/types.js";
import type { ByteSource } from "../../source/types.js";
import { stateDictGraph } from "../shared/state-dict.js";

/** layersFromNames' answer for PyTorch names: the caller makes the graph (src/formats/shared/state-dict.ts). */
const PYTORCH_NAMES: LayerInfo[] = [];
import { parseNpyDict, readNpyPrefix, type NpyHeader } from "./header.js";
import { inflateChunks, sliceTensor, type StoredTensorInfo } from "../../source/tensor-bytes.js";
import { depthwiseAsGrouped } from "../shared/depthwise.js";
import { readZipDirectory, type ZipEntry } from "../shared/zip.js";

/** Largest inflated .npz entry when options.limits.maxInflatedBytes is not given (8 GiB). */
export const DEFAULT_MAX_INFLATED_BYTES = 8 * 1024 ** 3;

const FLOATS: Record<string, DType> = { f2: "f16", f4: "f32", f8: "f64" };
const OTHER_KINDS: Record<string, string> = { b: "bool", i: "int", u: "uint", c: "complex", M: "datetime", m: "timedelta", S: "bytes", a: "bytes", U: "str", V: "void" };

export { detectNpy, detectNpz } from "../detect.js";


// ----------------------------------------------------------------------------------------- .npy

export async function openNpy(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail = failFor("npy", file);
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  const header = await readHeader((offset, dest) => source.readInto(offset, dest), source.size, fail);
  const array = describeArray(stem(file), header, limits, fail);
  if (array.skip) {
    throw fail("BAD_DTYPE", `the array has dtype ${quoteName(header.descr)} (${array.skip}), which is not supported for metrics; cntscope measures float16, float32 and float64 weights.`, { tensor: array.name });
  }
  if (source.size !== undefined) checkDataLength(source.size - header.dataOffset, array.byteLength, array.name, header, fail);
  const tensor: StoredTensorInfo = { name: array.name, dtype: array.dtype!, shape: array.shape, offset: header.dataOffset, byteLength: array.byteLength };
  if (array.byteswap) tensor.decode = { values: { kind: "byteswap" } };
  return {
    format: "npy",
    name: file,
    bytes: source.size,
    tensors: [tensor],
    layers: [loneLayer(tensor, array.fortranLayout)],
    metadata: npyMetadata(header),
  };
}

// ----------------------------------------------------------------------------------------- .npz

/** Layers given by the caller instead of inferred from names (the hook for a layout file or CLI flags). */
export interface NumpyLayout {
  /** Layers in graph order; tensor names are the entry names without ".npy". */
  layers: LayerInfo[];
}

export async function openNpz(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  return openNpzWithLayout(source, limits);
}

/** Open a .npz with an explicit layout (layers naming its arrays) instead of inferring one from names. */
export async function openNpzWithLayout(source: ByteSource, limits: Limits, layout?: NumpyLayout): Promise<ModelInfo> {
  const file = source.name;
  const fail = failFor("npz", file);
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  const entries = await readZipDirectory(source, limits, "npz");
  const pickles = entries.filter((e) => e.name.endsWith(".pkl") || /(^|\/)data\.pkl$/.test(e.name));
  if (pickles.length > 0) {
    throw new CntError("UNSUPPORTED_FORMAT", `'${file}' is a zip holding the pickle ${quoteName(pickles[0].name)} (a PyTorch .pt/.pth checkpoint?); cntscope never runs code from a model file. Convert it to safetensors or ONNX first.`, { format: "npz", file });
  }
  const maxInflated = (limits as Limits & { maxInflatedBytes?: number }).maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;

  const tensors: StoredTensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  const fortranLayouts = new Map<string, WeightLayout>();
  for (const entry of [...entries].sort((a, b) => a.localOffset - b.localOffset)) {
    const where = { tensor: entry.name, offset: entry.localOffset };
    if (!entry.name.endsWith(".npy")) throw fail("BAD_HEADER", `entry ${quoteName(entry.name)} is not a .npy array; a .npz holds .npy entries only.`, where);
    if (entry.name === ".npy") throw fail("BAD_HEADER", "entry '.npy' gives its array no name; every array of a .npz needs one.", where);
    if (entry.method !== 0 && entry.method !== 8) {
      throw fail("UNSUPPORTED_FORMAT", `entry ${quoteName(entry.name)} uses zip compression method ${entry.method}; cntscope reads stored (np.savez) and deflated (np.savez_compressed) entries.`, where);
    }
    if (entry.method === 8 && entry.size > maxInflated) {
      throw new CntError("TOO_LARGE", `npz '${file}': entry ${quoteName(entry.name)} declares ${formatCount(entry.size)} inflated bytes, above the limit maxInflatedBytes = ${formatCount(maxInflated)}; raise it in options.limits if the file is trusted.`, { format: "npz", file, tensor: entry.name, expected: maxInflated, actual: entry.size });
    }
    const read = entryReader(source, entry);
    const header = await readHeader(read, entry.size, failFor("npz", file, entry.name));
    const array = describeArray(entry.name.slice(0, -4), header, limits, failFor("npz", file, entry.name));
    checkDataLength(entry.size - header.dataOffset, array.byteLength, array.name, header, failFor("npz", file, entry.name));
    if (array.skip) {
      skipped.push({ name: array.name, dtype: header.descr, shape: array.shape, reason: `dtype ${header.descr} (${array.skip}) is not supported for metrics` });
      continue;
    }
    const tensor: StoredTensorInfo = { name: array.name, dtype: array.dtype!, shape: array.shape, offset: entry.dataOffset + header.dataOffset, byteLength: array.byteLength };
    if (entry.method === 8) {
      tensor.offset = entry.dataOffset;
      tensor.decode = { parts: [{ offset: header.dataOffset, length: array.byteLength, container: { kind: "deflate-raw", start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 } }] };
    }
    if (array.byteswap) tensor.decode = { ...tensor.decode, values: { kind: "byteswap" } };
    if (array.fortranLayout) fortranLayouts.set(array.name, array.fortranLayout);
    tensors.push(tensor);
  }
  checkLimit(limits, "maxTensors", tensors.length + skipped.length, `npz '${file}': the array count`, { format: "npz", file });

  const model: ModelInfo = { format: "npz", name: file, bytes: source.size, tensors, layers: [], skipped };
  if (layout) {
    const names = new Set(tensors.map((t) => t.name));
    for (const layer of layout.layers) {
      for (const t of [layer.weight, layer.bias, layer.recurrentWeight, layer.recurrentBias]) {
        if (t !== undefined && !names.has(t)) throw fail("BAD_OPTION", `the layout names the array ${quoteName(t)}, which the file does not hold.`, { tensor: t });
      }
    }
    model.layers = layout.layers;
  } else {
    model.layers = layersFromNames(model, fortranLayouts);
    // A PyTorch state_dict saved as .npz: its graph as for safetensors (template or order by shape).
    if (model.layers === PYTORCH_NAMES) {
      const { layers, graph, notes } = await stateDictGraph(source, tensors);
      Object.assign(model, { layers, ...(graph ? { graph } : {}), ...(notes.length > 0 ? { notes } : {}) });
    }
  }
  checkLimit(limits, "maxLayers", model.layers.length, `npz '${file}': the layer count`, { format: "npz", file });
  if (entries.length === 0) model.notes = [...(model.notes ?? []), `${quoteName(file)} is a zip archive with no entries: it holds no arrays, so there is nothing to measure.`];
  return model;
}

/** Reads of an entry's (inflated) bytes from its start; stored entries are read in place. */
function entryReader(source: ByteSource, entry: ZipEntry): (offset: number, dest: Uint8Array) => Promise<void> {
  if (entry.method === 0) return (offset, dest) => source.readInto(entry.dataOffset + offset, dest);
  return async (offset, dest) => {
    let at = 0;
    for await (const chunk of inflateChunks(source, { start: entry.dataOffset, length: entry.compressedSize, size: entry.size }, offset, dest.byteLength, entry.name)) {
      dest.set(chunk, at);
      at += chunk.byteLength;
    }
  };
}

// ------------------------------------------------------------------------------------- helpers

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

function failFor(format: "npy" | "npz", file: string, entry?: string): Fail {
  const at = entry === undefined ? "" : `entry ${quoteName(entry)}: `;
  return (code, message, extra = {}) => new CntError(code, `${format} '${file}': ${at}${message}`, { format, file, ...(entry === undefined ? {} : { tensor: entry }), ...extra });
}

/** The header of a .npy (a file or a .npz entry) through forward reads only; also used by the forward pass's sample files (src/forward/inputs/npy.ts). */
export async function readHeader(read: (offset: number, dest: Uint8Array) => Promise<void>, size: number | undefined, fail: Fail): Promise<NpyHeader> {
  // Forward reads only (a stream source cannot go back): magic and version, then the length field.
  const head = new Uint8Array(size === undefined ? 8 : Math.min(8, size));
  await read(0, head);
  const lengthBytes = head.byteLength === 8 && head[6] >= 2 ? 4 : 2;
  const prefix = new Uint8Array(8 + lengthBytes);
  prefix.set(head);
  const available = size === undefined ? lengthBytes : Math.max(0, Math.min(lengthBytes, size - 8));
  if (head.byteLength === 8 && available > 0) await read(8, prefix.subarray(8, 8 + available));
  const { major, minor, headerLength, prefixLength } = readNpyPrefix(prefix.subarray(0, head.byteLength + available), fail);
  if (size !== undefined && prefixLength + headerLength > size) {
    throw fail("TRUNCATED", `the .npy header is ${formatCount(headerLength)} bytes but only ${formatCount(size - prefixLength)} follow the prefix.`, { offset: prefixLength - 4, expected: headerLength, actual: size - prefixLength });
  }
  const raw = new Uint8Array(headerLength);
  await read(prefixLength, raw);
  return parseNpyDict(raw, major, minor, prefixLength, fail);
}

interface ArrayFacts {
  name: string;
  dtype?: DType;
  /** Why the array is not measured (its kind), when it is not. */
  skip?: string;
  /** Shape as the bytes are laid out in C order. */
  shape: number[];
  byteLength: number;
  byteswap: boolean;
  /** Layout of a 2-D Fortran-order array read as a dense layer. */
  fortranLayout?: WeightLayout;
}

function describeArray(name: string, header: NpyHeader, limits: Limits, fail: Fail): ArrayFacts {
  const m = /^([<>|=])([a-zA-Z])(\d*)$/.exec(header.descr);
  if (header.descr.includes("O")) {
    throw fail("BAD_DTYPE", `array ${quoteName(name)} has the object dtype ${quoteName(header.descr)}: its data is pickled Python objects, which cntscope never unpickles. Save plain float arrays (or convert to safetensors).`, { tensor: name });
  }
  if (!m) throw fail("BAD_DTYPE", `array ${quoteName(name)} has the dtype ${quoteName(header.descr)}, which cntscope does not know; it reads '<f2', '<f4', '<f8' (and '>' byte order).`, { tensor: name });
  const [, order, kind, digits] = m;
  const itemsize = Number(digits || "0");
  checkLimit(limits, "maxRank", header.shape.length, `the rank of array ${quoteName(name)}`);
  const count = checkedProduct(header.shape, `array ${quoteName(name)}`, { tensor: name });
  const byteLength = count * itemsize;
  if (!Number.isSafeInteger(byteLength)) throw fail("BAD_SHAPE", `array ${quoteName(name)} of shape ${formatShape(header.shape)} takes more than 2^53 bytes.`, { tensor: name });
  let shape = header.shape;
  let fortranLayout: WeightLayout | undefined;
  const dtype = kind === "f" ? FLOATS[`f${digits}`] : undefined;
  if (header.fortranOrder && shape.length > 1) {
    if (shape.length > 2 && dtype) {
      throw fail("UNSUPPORTED_FORMAT", `array ${quoteName(name)} of rank ${shape.length} is stored in Fortran order; cntscope reads Fortran order for rank 1 and 2 only. Save it with np.ascontiguousarray.`, { tensor: name });
    }
    shape = [...shape].reverse();
    fortranLayout = "out_in";
  }
  if (!dtype) {
    const what = kind === "f" ? `float${itemsize * 8}` : `${OTHER_KINDS[kind] ?? `kind '${kind}'`}${itemsize ? itemsize * (kind === "U" ? 32 : 8) : ""}`;
    return { name, skip: what, shape, byteLength, byteswap: false };
  }
  if (order === "=" && itemsize > 1) throw fail("BAD_DTYPE", `array ${quoteName(name)} has the native byte order '=', which does not say little or big endian.`, { tensor: name });
  return { name, dtype, shape, byteLength, byteswap: order === ">", fortranLayout };
}

function checkDataLength(have: number, need: number, name: string, header: NpyHeader, fail: Fail): void {
  const what = `array ${quoteName(name)} is ${quoteName(header.descr)} of shape ${formatShape(header.shape)}, which takes ${formatCount(need)} bytes`;
  if (have < need) throw fail("TRUNCATED", `${what}, but only ${formatCount(have)} follow its header.`, { tensor: name, offset: header.dataOffset, expected: need, actual: have });
  if (have > need) throw fail("BAD_SHAPE", `${what}, but ${formatCount(have)} follow its header (the shape and the data disagree).`, { tensor: name, offset: header.dataOffset, expected: need, actual: have });
}

function loneLayer(tensor: StoredTensorInfo, fortranLayout: WeightLayout | undefined): LayerInfo {
  if (tensor.shape.length === 2) return { name: tensor.name, kind: "dense", weight: tensor.name, weightLayout: fortranLayout ?? "in_out" };
  return { name: tensor.name, kind: "other", weight: tensor.name };
}

function npyMetadata(header: NpyHeader): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  out.npyVersion = `${header.major}.${header.minor}`;
  out.descr = header.descr;
  out.fortranOrder = header.fortranOrder ? "True" : "False";
  out.layout = "a 2-D array is read as the spec's dense W [n_in, n_out] (\"in_out\"; Fortran order: the transpose)";
  return out;
}

function stem(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  if (base.startsWith("<")) return "array";
  return base.endsWith(".npy") ? base.slice(0, -4) : base;
}

// ----------------------------------------------------------------------------- layers from names

const KERAS_SUFFIXES = new Set(["kernel", "bias", "recurrent_kernel", "depthwise_kernel", "pointwise_kernel", "gamma", "beta", "moving_mean", "moving_variance", "embeddings", "alpha"]);

function layersFromNames(model: ModelInfo, fortran: Map<string, WeightLayout>): LayerInfo[] {
  const tensors = model.tensors;
  if (tensors.length === 0) return [];
  const pytorch = tensors.some((t) => /\.(weight|bias)$/.test(t.name));
  const keras = tensors.some((t) => KERAS_SUFFIXES.has(kerasParts(t.name)?.suffix ?? ""));
  if (pytorch && !keras) {
    if (fortran.size > 0) {
      const names = [...fortran.keys()];
      return distributionsOnly(model, `The arrays ${names.map(quoteName).join(", ")} are stored in Fortran order, so their PyTorch [out, in] layout is transposed; their distributions are reported, and node layers need the layout (a layout option) or the arrays saved in C order.`);
    }
    return PYTORCH_NAMES;
  }
  if (keras && !pytorch) return kerasLayersFromNames(model, fortran);
  if (tensors.length === 1 && model.skipped!.length === 0) return [loneLayer(tensors[0], fortran.get(tensors[0].name))];
  const listed = tensors.slice(0, 8).map((t) => `${quoteName(t.name)} ${formatShape(t.shape)}`).join(", ");
  return distributionsOnly(
    model,
    `The array names (${listed}${tensors.length > 8 ? ", ..." : ""}) say neither how the arrays form layers nor how matrices are stored ([in, out] or [out, in]): their distributions are reported, and node layers need the arrays named PyTorch-style ('fc1.weight', 'fc1.bias') or Keras-style ('dense/kernel', 'dense/bias'), or a layout.`,
  );
}

/** Every array as a distribution of its own, and a note that says why there are no node layers (a readable file always gets a report). */
function distributionsOnly(model: ModelInfo, note: string): LayerInfo[] {
  model.notes = [...(model.notes ?? []), note];
  return model.tensors.map((t) => ({ name: t.name, kind: "other", weight: t.name }));
}

/** `<layer>/<suffix>` with an optional TensorFlow ':0' output index. */
export function kerasParts(name: string): { layer: string; suffix: string } | undefined {
  const clean = name.replace(/:\d+$/, "");
  const slash = clean.lastIndexOf("/");
  if (slash <= 0) return undefined;
  return { layer: clean.slice(0, slash), suffix: clean.slice(slash + 1) };
}

/**
 * Keras weight names without a topology: kernel rank 2 → dense "in_out" (with a
 * recurrent_kernel: rnn/gru/lstm by its width, gates "ifco"/"zrh"), rank 3/4 → conv1d/conv2d
 * "hwio" ("hwoi" when the layer name says transpose), depthwise_kernel → grouped conv2d,
 * gamma/beta → norm, embeddings → embedding; BatchNorm running statistics are skipped (kept
 * among the tensors, named by the norm's attributes mean and variance for the forward pass);
 * anything else is an "other" layer (a distribution only). Layers keep the order of the file.
 */
function kerasLayersFromNames(model: ModelInfo, fortran: Map<string, WeightLayout>): LayerInfo[] {
  const groups = new Map<string, Map<string, StoredTensorInfo>>();
  const loose: StoredTensorInfo[] = [];
  for (const t of model.tensors) {
    const parts = kerasParts(t.name);
    if (!parts || !KERAS_SUFFIXES.has(parts.suffix)) {
      loose.push(t);
      continue;
    }
    let group = groups.get(parts.layer);
    if (!group) groups.set(parts.layer, (group = new Map()));
    group.set(parts.suffix, t);
  }
  const layers: LayerInfo[] = [];
  const dropped = new Set<string>();
  for (const [name, g] of groups) {
    const kernel = g.get("kernel");
    const bias = g.get("bias")?.name;
    const recurrent = g.get("recurrent_kernel");
    if (recurrent && kernel) {
      const units = recurrent.shape[0];
      const gates = units > 0 ? recurrent.shape[1] / units : 0;
      const kind = gates === 4 ? "lstm" : gates === 3 ? "gru" : "rnn";
      const attributes: LayerInfo["attributes"] = { hidden: units, direction: "forward" };
      if (kind === "lstm") attributes.gateOrder = "ifco";
      if (kind === "gru") attributes.gateOrder = "zrh";
      const b = g.get("bias");
      let biases: Pick<LayerInfo, "bias" | "recurrentBias"> = { bias };
      if (kind === "gru" && b && b.shape.length === 2 && b.shape[0] === 2) {
        // Keras GRU reset_after: [input bias; recurrent bias], split into two byte ranges.
        const n = b.shape[1];
        const halves = [sliceTensor(b, `${b.name}[input]`, [n], 0, n), sliceTensor(b, `${b.name}[recurrent]`, [n], n, n)];
        model.tensors.splice(model.tensors.indexOf(b), 1, ...halves);
        g.delete("bias");
        attributes.resetAfter = 1;
        biases = { bias: halves[0].name, recurrentBias: halves[1].name };
      }
      layers.push({ name, kind, weight: kernel.name, weightLayout: "in_out", recurrentWeight: recurrent.name, ...biases, attributes });
    } else if (kernel) {
      const rank = kernel.shape.length;
      if (rank === 2) layers.push({ name, kind: "dense", weight: kernel.name, weightLayout: fortran.get(kernel.name) ?? "in_out", bias });
      else if (rank === 3) layers.push({ name, kind: "conv1d", weight: kernel.name, weightLayout: "hwio", bias, attributes: { groups: 1 } });
      else if (rank === 4 && /transpose/i.test(name)) layers.push({ name, kind: "conv2d_transpose", weight: kernel.name, weightLayout: "hwoi", bias, attributes: { groups: 1 } });
      else if (rank === 4) layers.push({ name, kind: "conv2d", weight: kernel.name, weightLayout: "hwio", bias, attributes: { groups: 1 } });
      else layers.push({ name, kind: "other", weight: kernel.name, bias });
    } else if (g.has("depthwise_kernel")) {
      const dw = g.get("depthwise_kernel")!;
      const pw = g.get("pointwise_kernel");
      const attributes = dw.shape.length === 4 ? { groups: dw.shape[2], depthMultiplier: dw.shape[3], storedShape: dw.shape } : undefined;
      if (dw.shape.length === 4) dw.shape = depthwiseAsGrouped(dw.shape); // same bytes, grouped-conv view (src/formats/shared/depthwise.ts)
      layers.push({ name: pw ? `${name}/depthwise` : name, kind: dw.shape.length === 4 ? "conv2d" : "other", weight: dw.name, weightLayout: "hwio", bias: pw ? undefined : bias, attributes });
      if (pw) layers.push({ name, kind: "conv2d", weight: pw.name, weightLayout: "hwio", bias, attributes: { groups: 1 } });
    } else if (g.has("gamma") || g.has("beta")) {
      // With running statistics it is a batch norm: named for the forward pass (Keras's defaults
      // assumed, as the arrays do not say otherwise: the last axis, epsilon 1e-3).
      const mean = g.get("moving_mean"), variance = g.get("moving_variance");
      const attributes: LayerInfo["attributes"] = mean && variance ? { op: "batch_norm", mean: mean.name, variance: variance.name, axis: -1, epsilon: 1e-3 } : undefined;
      layers.push({ name, kind: "norm", weight: g.get("gamma")?.name, bias: g.get("beta")?.name, ...(attributes ? { attributes } : {}) });
    } else if (g.has("embeddings")) {
      layers.push({ name, kind: "embedding", weight: g.get("embeddings")!.name });
    } else if (g.has("alpha")) {
      layers.push({ name, kind: "other", weight: g.get("alpha")!.name, attributes: { op: "activation" } });
    }
    for (const [suffix, t] of g) {
      if (suffix === "moving_mean" || suffix === "moving_variance") dropped.add(t.name);
      else if (!layers.some((l) => l.weight === t.name || l.bias === t.name || l.recurrentWeight === t.name)) loose.push(t);
    }
  }
  for (const t of loose) layers.push({ name: t.name, kind: "other", weight: t.name });
  // Running statistics are not link weights: listed as skipped, and kept among the tensors for the
  // forward pass (the batch norm's attributes name them; no layer's weight or bias).
  for (const t of model.tensors.filter((t) => dropped.has(t.name))) {
    model.skipped!.push({ name: t.name, dtype: t.dtype, shape: t.shape, reason: "batch-norm running statistic, not a link weight" });
  }
  return layers;
}

