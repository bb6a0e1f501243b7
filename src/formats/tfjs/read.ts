/**
 * TensorFlow.js layers models: `model.json` = { modelTopology: <Keras model JSON>,
 * weightsManifest: [{ paths: [shard files], weights: [{ name, shape, dtype, quantization? }] }] }.
 * Each group's weights lie one after another across the concatenation of its shard files, in
 * manifest order; a weight may straddle two shards. Quantized weights ({ dtype: "uint8" |
 * "uint16", scale, min }) are dequantized as TF.js does (w = q * scale + min, rounded to f32);
 * "float16" quantization is read as f16. int32/bool/complex weights are listed as skipped.
 *
 * Also read: the same model bundled as JavaScript (nsfwjs's `model.min.js` with base64 shards
 * `group1-shard1of1.min.js`, see literal.ts). Nothing in either form is ever run.
 *
 * The shard files are opened through ByteSource.sibling (cntscope/node's fileSource, or
 * filesSource in browsers); their names are checked first (no absolute paths, no '..', no URLs:
 * UNSAFE_PATH). Tensor bytes stay in the shards: each TensorInfo names its file (or its parts and
 * their decoding, see src/source/tensor-bytes.ts). Layers come from the Keras config (layers.ts);
 * depthwise kernels are described in their grouped-conv form [kh, kw, 1, c_in·mult].
 * TF.js graph models (converted from a SavedModel: `format: "graph-model"`) share the manifest and
 * the shards; their GraphDef is read by graph-model.ts.
 */
import { CntError, formatCount, quoteName } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { checkedProduct } from "../../model/numbers.js";
import type { DType, ModelInfo, SkippedTensor } from "../../model/types.js";
import { checkRelativePath } from "../../source/paths.js";
import type { ByteSource } from "../../source/types.js";
import { base64DecodedSize, type StoredContainer, type StoredPart, type StoredTensorInfo } from "../../source/tensor-bytes.js";
import { openGraphModel } from "./graph-model.js";
import { topologyOverTensors } from "./topology-over-tensors.js";
import { BUNDLE_CLOSING, bundleLiteralStart, isBundle, LiteralError, parseLiteral } from "./literal.js";

const FORMAT = "tfjs";

/** Bytes per element of the manifest dtypes (string weights have no fixed size). */
const DTYPE_WIDTH: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_WIDTH: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

export { detectTfjs as detect } from "../detect.js";

export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra: object = {}) =>
    new CntError(code, `tfjs '${file}': ${message}`, { format: FORMAT, file, ...extra });

  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  if (source.size === undefined) throw new CntError("BAD_OPTION", `tfjs '${file}': a model.json read from a stream needs its size (options.size).`, { format: FORMAT, file });
  checkLimit(limits, "maxHeaderBytes", source.size, `tfjs '${file}': the model file's size`, { format: FORMAT, file });
  const raw = new Uint8Array(source.size);
  await source.readInto(0, raw);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch (error) {
    throw fail("BAD_HEADER", "the file is not valid UTF-8.", { cause: error });
  }
  const bundled = isBundle(raw);
  const root = bundled ? readBundle(text, fail) : readJson(text, fail);

  // What kind of TF.js model this is.
  if (root.format === "graph-model" || (isObject(root.modelTopology) && Array.isArray(root.modelTopology.node))) {
    if (!Array.isArray(root.weightsManifest)) throw fail("BAD_HEADER", "the file has no weightsManifest array.");
    const weights = readManifest(root.weightsManifest, limits, fail);
    const shards = await readShards(source, weights.groups, bundled, fail);
    const model = await openGraphModel(root, source, limits, fail, { weights, shards, locate: (w, s) => locate(w, s, fail) });
    if (bundled) model.metadata!.container = "browserify bundle (model.min.js) with base64 shards";
    return model;
  }
  if (!isObject(root.modelTopology)) throw fail("BAD_HEADER", "the file has no modelTopology object (is it a TF.js layers model.json?).");
  if (!Array.isArray(root.weightsManifest)) throw fail("BAD_HEADER", "the file has no weightsManifest array.");
  const topology = root.modelTopology;
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;

  // The manifest: every weight's place in its group's byte space.
  const weights = readManifest(root.weightsManifest, limits, fail);
  const shards = await readShards(source, weights.groups, bundled, fail);

  const tensors: StoredTensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  for (const w of weights.list) {
    if (w.skip) {
      skipped.push({ name: w.name, dtype: w.dtype, shape: w.shape, reason: w.skip });
      continue;
    }
    tensors.push(locate(w, shards[w.group], fail));
  }

  const { layers, tensors: measured, statistics, mapped } = topologyOverTensors(modelConfig, tensors, fail, limits, { format: FORMAT, file });
  skipped.push(...statistics);

  const metadata: Record<string, string> = Object.create(null);
  for (const [key, value] of [["format", root.format], ["generatedBy", root.generatedBy], ["convertedBy", root.convertedBy], ["kerasVersion", topology.keras_version], ["backend", topology.backend]] as const) {
    if (typeof value === "string") metadata[key] = value.slice(0, 200);
  }
  if (bundled) metadata.container = "browserify bundle (model.min.js) with base64 shards";
  const model: ModelInfo = {
    format: FORMAT,
    name: file,
    bytes: source.size,
    tensors: measured,
    layers,
    dataFormat: mapped.dataFormat ?? "channels_last",
    skipped,
    metadata,
  };
  // A Functional config is a graph: its layers carry inputs and outputs (layers.ts).
  if (mapped.graph) model.graph = mapped.graph;
  if (mapped.inputShape) {
    if (mapped.inputShape.every((d) => typeof d === "number")) model.inputShape = mapped.inputShape as number[];
    else metadata.inputShape = `[${mapped.inputShape.map((d) => d ?? "null").join(", ")}]`;
  }
  return model;
}

// -------------------------------------------------------------------------------- model text

type Json = Record<string, unknown>;
type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJson(text: string, fail: Fail): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw fail("BAD_HEADER", `the file is not valid JSON (${quoteName((error as Error).message)}).`, { cause: error });
  }
  if (!isObject(parsed)) throw fail("BAD_HEADER", "the file is not a JSON object.");
  return parsed;
}

function readBundle(text: string, fail: Fail): Json {
  const start = bundleLiteralStart(text.slice(0, 8192));
  if (start < 0) throw fail("BAD_HEADER", "the file is a JavaScript bundle without the one `exports=` module that TF.js model bundles have.");
  let parsed: { value: unknown; end: number };
  try {
    parsed = parseLiteral(text, start);
  } catch (error) {
    if (error instanceof LiteralError) throw fail("BAD_HEADER", `the bundled model is not a plain data literal: ${error.message}.`, { offset: error.position, cause: error });
    throw error;
  }
  if (!BUNDLE_CLOSING.test(text.slice(parsed.end))) {
    throw fail("BAD_HEADER", `the bundle goes on after the model literal at character ${formatCount(parsed.end)} with something other than the wrapper's closing.`, { offset: parsed.end });
  }
  if (!isObject(parsed.value)) throw fail("BAD_HEADER", "the bundled value is not an object.");
  return parsed.value;
}

// ------------------------------------------------------------------------------- the manifest

interface Weight {
  name: string;
  group: number;
  /** Start in the group's concatenated shards. */
  offset: number;
  stored: number;
  shape: number[];
  /** The manifest dtype ("float32", ...). */
  dtype: string;
  target?: DType;
  dequantize?: { from: "uint8" | "uint16"; scale: number; min: number };
  skip?: string;
}

function readManifest(manifest: unknown[], limits: Limits, fail: Fail): { list: Weight[]; groups: { paths: string[]; bytes: number }[] } {
  const list: Weight[] = [];
  const groups: { paths: string[]; bytes: number }[] = [];
  const names = new Set<string>();
  manifest.forEach((g, gi) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw fail("BAD_HEADER", `weightsManifest[${gi}] needs a paths array and a weights array.`);
    if (g.paths.length === 0 && g.weights.length > 0) throw fail("BAD_HEADER", `weightsManifest[${gi}] lists weights but no shard files.`);
    const paths = g.paths.map((p, pi) => {
      if (typeof p !== "string") throw fail("BAD_HEADER", `weightsManifest[${gi}].paths[${pi}] is not a string.`);
      return p;
    });
    let offset = 0;
    for (const [wi, w] of g.weights.entries()) {
      const where = `weightsManifest[${gi}].weights[${wi}]`;
      if (!isObject(w) || typeof w.name !== "string") throw fail("BAD_HEADER", `${where} has no name.`);
      const name = w.name;
      const nameBytes = new TextEncoder().encode(name).byteLength;
      if (nameBytes > limits.maxNameBytes) checkLimit(limits, "maxNameBytes", nameBytes, `tfjs: the length of the name of ${where}`);
      if (names.has(name)) throw fail("BAD_HEADER", `the weights manifest names ${quoteName(name)} twice.`, { tensor: name });
      names.add(name);
      checkLimit(limits, "maxTensors", names.size, "tfjs: the weight count");
      if (!Array.isArray(w.shape)) throw fail("BAD_SHAPE", `weight ${quoteName(name)} has no shape array.`, { tensor: name });
      checkLimit(limits, "maxRank", w.shape.length, `tfjs: the rank of weight ${quoteName(name)}`);
      const count = checkedProduct(w.shape, `tfjs: weight ${quoteName(name)}`, { format: FORMAT, tensor: name });
      const dtype = w.dtype;
      if (typeof dtype !== "string") throw fail("BAD_DTYPE", `weight ${quoteName(name)} has no dtype.`, { tensor: name });
      const weight: Weight = { name, group: gi, offset, stored: 0, shape: w.shape as number[], dtype };
      let width: number;
      const q = w.quantization;
      if (q !== undefined && q !== null) {
        if (!isObject(q) || typeof q.dtype !== "string" || !Object.hasOwn(QUANT_WIDTH, q.dtype)) {
          throw fail("BAD_DTYPE", `weight ${quoteName(name)} has the quantization ${JSON.stringify(q)?.slice(0, 60)}; known quantized dtypes are uint8, uint16 and float16.`, { tensor: name });
        }
        width = QUANT_WIDTH[q.dtype];
        if (dtype !== "float32") weight.skip = `dtype ${dtype} (quantized as ${q.dtype}) is not supported for metrics`;
        else if (q.dtype === "float16") weight.target = "f16";
        else {
          const { scale, min } = q;
          if (typeof scale !== "number" || typeof min !== "number" || !Number.isFinite(scale) || !Number.isFinite(min)) {
            throw fail("BAD_HEADER", `weight ${quoteName(name)} is ${q.dtype}-quantized without a finite scale and min.`, { tensor: name });
          }
          weight.target = "f32";
          weight.dequantize = { from: q.dtype as "uint8" | "uint16", scale, min };
        }
      } else if (Object.hasOwn(DTYPE_WIDTH, dtype)) {
        width = DTYPE_WIDTH[dtype];
        if (dtype === "float32") weight.target = "f32";
        else weight.skip = `dtype ${dtype} is not supported for metrics`;
      } else {
        throw fail("BAD_DTYPE", `weight ${quoteName(name)} has the dtype ${JSON.stringify(dtype).slice(0, 40)}; the byte layout of the shards is known for float32, int32, bool and complex64 only.`, { tensor: name });
      }
      weight.stored = count * width;
      offset += weight.stored;
      if (!Number.isSafeInteger(offset)) throw fail("BAD_SHAPE", `the weights of group ${gi} take more than 2^53 bytes.`, { tensor: name });
      list.push(weight);
    }
    groups.push({ paths, bytes: offset });
  });
  return { list, groups };
}

// ---------------------------------------------------------------------------------- the shards

interface Shard {
  file: string;
  /** Start of this shard in its group's byte space, and its (decoded) size. */
  start: number;
  size: number;
  container?: StoredContainer;
}

/**
 * Shards opened at once for their sizes. A sibling() may wait (a Blob's slice, a caller's
 * ByteSource that fetches; in cntscope/node a name that is a link, resolved on the thread pool):
 * one after another, 33 shards waited in turn; overlapped, they wait once. Bounded, so a model of
 * thousands of shards holds few leases at a time.
 */
const SHARDS_AT_ONCE = 16;

/** Check every path, then open each shard once for its size (and its base64 region in a bundle), several at once. */
async function readShards(source: ByteSource, groups: { paths: string[]; bytes: number }[], bundled: boolean, fail: Fail): Promise<Shard[][]> {
  const files = groups.map((g) => g.paths.map((p) => (bundled && !p.endsWith(".js") ? `${p}.min.js` : p)));
  for (const f of files.flat()) checkRelativePath(f, source.name);
  if (files.flat().length > 0 && !source.sibling) {
    throw new CntError("BAD_OPTION", `tfjs '${source.name}': its weights are in ${files.flat().map(quoteName).join(", ")}; open the model from a path (cntscope/node) or with filesSource() so those files can be read.`, { format: FORMAT, file: source.name });
  }
  const result: Shard[][] = [];
  for (const [gi, group] of groups.entries()) {
    const shards = await inOrder(files[gi], SHARDS_AT_ONCE, (file) => shardInfo(source, file, bundled, fail));
    let start = 0;
    for (const shard of shards) {
      shard.start = start;
      start += shard.size;
    }
    if (group.bytes > start) {
      throw fail("TRUNCATED", `the weights of group ${gi} need ${formatCount(group.bytes)} bytes, but its shards (${files[gi].map(quoteName).join(", ")}) hold ${formatCount(start)}.`, { expected: group.bytes, actual: start });
    }
    // The shards are read as one run of bytes, weight after weight: a shard longer than the manifest
    // says, or a weight dropped from the manifest, shifts every later weight without any other sign.
    if (group.bytes < start) {
      throw fail("BAD_HEADER", `the weights of group ${gi} take ${formatCount(group.bytes)} bytes, but its shards (${files[gi].map(quoteName).join(", ")}) hold ${formatCount(start)}: a shard is longer than written or the manifest lost a weight, and every later weight would be read shifted.`, { expected: group.bytes, actual: start });
    }
    result.push(shards);
  }
  return result;
}

/** One shard opened for its (decoded) size; its place in the group (`start`) is set by the caller. */
async function shardInfo(source: ByteSource, file: string, bundled: boolean, fail: Fail): Promise<Shard> {
  const shard = await source.sibling!(file);
  try {
    if (shard.size === undefined) throw fail("BAD_OPTION", `the shard ${quoteName(file)} has no known size.`);
    const info: Shard = { file, start: 0, size: shard.size };
    if (bundled) {
      info.container = await base64Region(shard, fail);
      info.size = base64DecodedSize(info.container.length, await lastTwo(shard, info.container));
      if (info.size < 0) throw fail("BAD_HEADER", `the base64 text of the shard ${quoteName(file)} has ${formatCount(info.container.length)} characters, not a multiple of 4.`);
    }
    return info;
  } finally {
    await shard.close();
  }
}

/**
 * `work` on every item, at most `limit` at a time, started in order; the results in order. After
 * a failure nothing more is started, the work in flight is waited for, and the failure of the
 * earliest item is thrown (every item before it was started, so it is the first that fails, as
 * one after another would report).
 */
async function inOrder<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const failures: { index: number; error: unknown }[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.index < a.index ? b : a)).error;
  return results;
}

/** The base64 string literal of a bundled shard: after `exports="`, up to the quote before the wrapper's closing. */
async function base64Region(shard: ByteSource, fail: Fail): Promise<{ kind: "base64"; start: number; length: number }> {
  const size = shard.size!;
  const head = new Uint8Array(Math.min(size, 8192));
  await shard.readInto(0, head);
  const headText = new TextDecoder("latin1").decode(head);
  const literal = isBundle(head) ? bundleLiteralStart(headText) : -1;
  if (literal < 0 || headText[literal] !== '"') throw fail("BAD_HEADER", `the shard ${quoteName(shard.name)} is not a bundle of one base64 string (as nsfwjs ships its weights).`);
  const tailLength = Math.min(size - literal - 1, 256);
  if (tailLength <= 0) throw fail("BAD_HEADER", `the shard ${quoteName(shard.name)} ends right after its opening.`);
  const tail = new Uint8Array(tailLength);
  await shard.readInto(size - tailLength, tail);
  const tailText = new TextDecoder("latin1").decode(tail);
  const quote = tailText.lastIndexOf('"');
  if (quote < 0 || !BUNDLE_CLOSING.test(tailText.slice(quote + 1))) throw fail("BAD_HEADER", `the shard ${quoteName(shard.name)} does not end with the closing of a one-string bundle.`);
  const start = literal + 1;
  return { kind: "base64", start, length: size - tailLength + quote - start };
}

async function lastTwo(shard: ByteSource, region: { start: number; length: number }): Promise<Uint8Array> {
  const n = Math.min(2, region.length);
  const bytes = new Uint8Array(2);
  if (n > 0) await shard.readInto(region.start + region.length - n, bytes.subarray(2 - n));
  return bytes;
}

/** The TensorInfo of a weight: its file and offset, or its parts across shards and their decoding. */
function locate(w: Weight, shards: Shard[], fail: Fail): StoredTensorInfo {
  const parts: StoredPart[] = [];
  const end = w.offset + w.stored;
  for (const s of shards) {
    const from = Math.max(w.offset, s.start);
    const to = Math.min(end, s.start + s.size);
    if (to > from || (w.stored === 0 && from === w.offset && parts.length === 0 && w.offset <= s.start + s.size)) {
      const part: StoredPart = { file: s.file, offset: from - s.start, length: Math.max(0, to - from) };
      if (s.container) part.container = s.container;
      parts.push(part);
    }
  }
  if (parts.length === 0) throw fail("OUT_OF_BOUNDS", `weight ${quoteName(w.name)} lies past the end of its shards.`, { tensor: w.name });
  const dtype = w.target!;
  const count = w.shape.reduce((a, d) => a * d, 1);
  const tensor: StoredTensorInfo = { name: w.name, dtype, shape: w.shape, offset: parts[0].offset, byteLength: count * (dtype === "f16" ? 2 : 4) };
  if (parts.length === 1 && !parts[0].container && !w.dequantize) {
    tensor.file = parts[0].file;
  } else {
    tensor.decode = { parts };
    if (w.dequantize) tensor.decode.values = { kind: "dequantize", ...w.dequantize };
  }
  return tensor;
}
