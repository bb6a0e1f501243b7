/**
 * GGUF (llama.cpp, version 2 and 3; docs/gguf.md of ggml): a header, metadata key/values, tensor
 * infos, then the data section, aligned to `general.alignment` (32 when absent):
 *
 *   "GGUF" | version u32 | tensor_count u64 | kv_count u64
 *   kv_count x   key string | type u32 | value       (string = u64 length + UTF-8 bytes;
 *                                                     array = item type u32 + count u64 + items)
 *   tensor_count x name string | n_dims u32 | ne u64[n_dims] (ne[0] varies fastest) | type u32 | offset u64
 *   padding to the alignment | data (each tensor at data start + offset, offset aligned)
 *
 * Tensors are described in PyTorch's row-major order: shape = ne reversed, so a matrix stored with
 * ne = [n_in, n_out] is [n_out, n_in] ("out_in", as nn.Linear). F32/F16/BF16/F64 tensors are plain;
 * the block quantizations the kernels dequantize (src/model/types.ts GGUF_BLOCKS) are described as
 * f32 tensors whose bytes are coded `{ kind: "gguf", type }`; the other quantizations (the IQ, ternary
 * and FP4 types, Q8_1, Q8_K) are refused by name (BAD_DTYPE), integer tensors are listed as skipped.
 *
 * Every count and length is compared with the bytes left in the file (and maxHeaderBytes for the
 * header, maxTensors, maxRank, maxNameBytes) before anything is allocated or looped over; the
 * header is read in growing chunks, never by a declared length. Tensor data must lie inside the
 * file, aligned, and without overlaps; duplicate tensor names and duplicate keys are BAD_HEADER.
 *
 * The graph: a Llama-style architecture (general.architecture llama, qwen2, mistral, ...) gets
 * the Llama block template on GGUF's tensor names (src/formats/shared/state-dict/templates/families.ts, "llama-gguf"),
 * other files a chain by shape. llama.cpp's converter permutes the rows of attn_q and attn_k
 * within each head (rotary pairs interleaved instead of split in halves). The rows are q's and k's
 * output nodes: the permutation reorders their in-strengths and leaves every row sum and column
 * sum's multiset as it was; those nodes feed attention only, a break of the chain (spec 1c), so
 * no downstream strength depends on their order. Node-layer distributions are therefore those of
 * the unpermuted model; per-node vectors of q and k list nodes in the file's (permuted) order.
 */
import { CntError, formatCount, formatShape, quoteName, type CntErrorCode } from "../../errors.js";
import { chainByShape } from "../shared/state-dict/chain-by-shape.js";
import { inferLayersFromNames } from "../shared/state-dict/infer-layers.js";
import { templateGraph } from "../shared/state-dict/templates/apply.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { GGUF_BLOCKS, type DType, type GgufQuant, type LayerInfo, type ModelInfo, type SkippedTensor, type TensorInfo } from "../../model/types.js";
import type { ByteSource } from "../../source/types.js";

const FORMAT = "gguf";

/** ggml_type ids (ggml.h) with their block elements and bytes, and what cntscope does with each. */
interface GgmlType {
  name: string;
  elements: number;
  bytes: number;
  /** Plain dtype, a quantization the kernels dequantize, integers (skipped), or refused. */
  use: DType | "quant" | "int" | "refuse";
}
const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map<number, GgmlType>([
  [0, { name: "F32", elements: 1, bytes: 4, use: "f32" }],
  [1, { name: "F16", elements: 1, bytes: 2, use: "f16" }],
  [2, { name: "Q4_0", elements: 32, bytes: 18, use: "quant" }],
  [3, { name: "Q4_1", elements: 32, bytes: 20, use: "quant" }],
  [6, { name: "Q5_0", elements: 32, bytes: 22, use: "quant" }],
  [7, { name: "Q5_1", elements: 32, bytes: 24, use: "quant" }],
  [8, { name: "Q8_0", elements: 32, bytes: 34, use: "quant" }],
  [9, { name: "Q8_1", elements: 32, bytes: 36, use: "refuse" }],
  [10, { name: "Q2_K", elements: 256, bytes: 84, use: "quant" }],
  [11, { name: "Q3_K", elements: 256, bytes: 110, use: "quant" }],
  [12, { name: "Q4_K", elements: 256, bytes: 144, use: "quant" }],
  [13, { name: "Q5_K", elements: 256, bytes: 176, use: "quant" }],
  [14, { name: "Q6_K", elements: 256, bytes: 210, use: "quant" }],
  [15, { name: "Q8_K", elements: 256, bytes: 292, use: "refuse" }],
  [16, { name: "IQ2_XXS", elements: 256, bytes: 66, use: "refuse" }],
  [17, { name: "IQ2_XS", elements: 256, bytes: 74, use: "refuse" }],
  [18, { name: "IQ3_XXS", elements: 256, bytes: 98, use: "refuse" }],
  [19, { name: "IQ1_S", elements: 256, bytes: 50, use: "refuse" }],
  [20, { name: "IQ4_NL", elements: 32, bytes: 18, use: "refuse" }],
  [21, { name: "IQ3_S", elements: 256, bytes: 110, use: "refuse" }],
  [22, { name: "IQ2_S", elements: 256, bytes: 82, use: "refuse" }],
  [23, { name: "IQ4_XS", elements: 256, bytes: 136, use: "refuse" }],
  [24, { name: "I8", elements: 1, bytes: 1, use: "int" }],
  [25, { name: "I16", elements: 1, bytes: 2, use: "int" }],
  [26, { name: "I32", elements: 1, bytes: 4, use: "int" }],
  [27, { name: "I64", elements: 1, bytes: 8, use: "int" }],
  [28, { name: "F64", elements: 1, bytes: 8, use: "f64" }],
  [29, { name: "IQ1_M", elements: 256, bytes: 56, use: "refuse" }],
  [30, { name: "BF16", elements: 1, bytes: 2, use: "bf16" }],
  [34, { name: "TQ1_0", elements: 256, bytes: 54, use: "refuse" }],
  [35, { name: "TQ2_0", elements: 256, bytes: 66, use: "refuse" }],
  [39, { name: "MXFP4", elements: 32, bytes: 17, use: "refuse" }],
]);
const READ_TYPES = [...GGML_TYPES.values()].filter((t) => t.use !== "refuse" && t.use !== "int").map((t) => t.name);

/** gguf_type ids of metadata values, with the width of fixed-size ones. */
const VALUE_WIDTH: ReadonlyMap<number, number> = new Map([[0, 1], [1, 1], [2, 2], [3, 2], [4, 4], [5, 4], [6, 4], [7, 1], [10, 8], [11, 8], [12, 8]]);
const VALUE_NAMES = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"];
const STRING = 8;
const ARRAY = 9;
/** Arrays nested deeper than this are refused (llama.cpp writes none nested at all). */
const MAX_ARRAY_DEPTH = 4;
/** Metadata strings longer than this are kept cut in ModelInfo.metadata (a chat template, a license). */
const MAX_METADATA_CHARS = 1024;
/** ggml's GGML_MAX_DIMS. */
const MAX_DIMS = 4;
/** Smallest tensor info: name length 8, n_dims 4, one dim 8, type 4, offset 8. */
const MIN_TENSOR_INFO = 32;
/** Smallest key/value: key length 8, type 4, a 1-byte value. */
const MIN_KV = 13;
/** Architectures whose tensors follow llama.cpp's Llama names (blk.N.attn_q ... ffn_down). */
const LLAMA_LIKE = new Set(["llama", "qwen2", "qwen3", "mistral", "mistral3", "granite", "olmo", "olmo2", "internlm2", "deepseek", "yi", "gemma", "gemma2", "gemma3", "starcoder2", "phi3", "exaone", "smollm3"]);

export { detectGguf as detect } from "../detect.js";

type Fail = (code: CntErrorCode, message: string, extra?: object) => CntError;

/** Metadata value as kept: numbers, booleans and strings as read; arrays by item type and count. */
type MetaValue = number | bigint | boolean | string | { array: string; count: number; values?: (number | bigint | string | boolean)[] };

export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail: Fail = (code, message, extra = {}) => new CntError(code, `GGUF '${file}': ${message}`, { format: FORMAT, file, ...extra });
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.", { expected: 24, actual: 0 });
  if (source.size !== undefined && source.size < 24) throw fail("TRUNCATED", `the file has ${source.size} bytes, fewer than the 24-byte header.`, { expected: 24, actual: source.size });

  const r = new HeaderReader(source, limits, fail);
  const magic = await r.u32();
  if (magic !== 0x46554747) throw fail("BAD_MAGIC", "the file does not start with \"GGUF\".", { offset: 0 });
  const version = await r.u32();
  if (version === 1) throw fail("BAD_HEADER", "GGUF version 1 (32-bit counts) is not read; convert the model again with a current llama.cpp (versions 2 and 3 are read).", { offset: 4, actual: 1 });
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24 | (version & 0xff00) << 8 | (version >>> 8) & 0xff00 | version >>> 24) >>> 0;
    const hint = swapped === 2 || swapped === 3 ? " (a big-endian file, which cntscope does not read)" : "";
    throw fail("BAD_HEADER", `the version is ${version}${hint}; versions 2 and 3 are read.`, { offset: 4, expected: [2, 3], actual: version });
  }
  const tensorCount = await r.count("tensor count", MIN_TENSOR_INFO);
  checkLimit(limits, "maxTensors", tensorCount, `GGUF '${file}': tensor count`, { format: FORMAT, file });
  const kvCount = await r.count("metadata key/value count", MIN_KV);

  // ---- metadata
  const meta = new Map<string, MetaValue>();
  for (let i = 0; i < kvCount; i++) {
    const at = r.pos;
    const key = await r.string(`metadata key ${i}`, limits.maxNameBytes);
    if (meta.has(key)) throw fail("BAD_HEADER", `the metadata key ${quoteName(key)} appears twice.`, { offset: at });
    const type = await r.u32();
    meta.set(key, await r.value(type, key, 0));
  }
  let alignment = 32;
  const declaredAlignment = meta.get("general.alignment");
  if (declaredAlignment !== undefined) {
    if (typeof declaredAlignment !== "number" || !Number.isInteger(declaredAlignment) || declaredAlignment <= 0 || (declaredAlignment & (declaredAlignment - 1)) !== 0) {
      throw fail("BAD_HEADER", `general.alignment is ${quoteName(shownValue(declaredAlignment))}, not a power of two.`, { actual: shownValue(declaredAlignment) });
    }
    alignment = declaredAlignment;
  }

  // ---- tensor infos
  interface Entry { name: string; ne: number[]; type: GgmlType; typeId: number; offset: number; bytes: number; elements: number }
  const entries: Entry[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = r.pos;
    const name = await r.string(`the name of tensor ${i}`, limits.maxNameBytes);
    if (names.has(name)) throw fail("BAD_HEADER", `tensor ${quoteName(name)} is described twice.`, { tensor: name, offset: at });
    names.add(name);
    const nDims = await r.u32();
    if (nDims < 1 || nDims > MAX_DIMS) throw fail("BAD_SHAPE", `tensor ${quoteName(name)} has ${nDims} dims; GGUF tensors have 1 to ${MAX_DIMS}.`, { tensor: name, expected: MAX_DIMS, actual: nDims });
    checkLimit(limits, "maxRank", nDims, `GGUF '${file}': the rank of tensor ${quoteName(name)}`, { format: FORMAT, file });
    const ne: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = await r.u64();
      if (dim > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("BAD_SHAPE", `tensor ${quoteName(name)}: ne[${d}] is ${dim}, above 2^53.`, { tensor: name, actual: String(dim) });
      ne.push(Number(dim));
      elements *= Number(dim);
      if (!Number.isSafeInteger(elements)) throw fail("BAD_SHAPE", `tensor ${quoteName(name)}: the element count of ne [${ne.join(", ")}, ...] exceeds 2^53.`, { tensor: name });
    }
    const typeId = await r.u32();
    const type = GGML_TYPES.get(typeId);
    if (!type) throw fail("BAD_DTYPE", `tensor ${quoteName(name)} has ggml type ${typeId}, which cntscope does not know; it reads ${READ_TYPES.join(", ")}.`, { tensor: name, actual: typeId });
    if (ne[0] % type.elements !== 0) {
      throw fail("BAD_SHAPE", `tensor ${quoteName(name)} is ${type.name} with ne[0] = ${ne[0]}, not a whole number of ${type.elements}-value blocks.`, { tensor: name, expected: type.elements, actual: ne[0] });
    }
    const bytes = (elements / type.elements) * type.bytes;
    // Quantized tensors are described by their f32 size (4 bytes a value), which must be exact too.
    if (!Number.isSafeInteger(bytes) || !Number.isSafeInteger(elements * 4)) throw fail("BAD_SHAPE", `tensor ${quoteName(name)}: its byte size exceeds 2^53.`, { tensor: name });
    const offset = await r.u64();
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("OUT_OF_BOUNDS", `tensor ${quoteName(name)} has data offset ${offset}, above 2^53.`, { tensor: name, actual: String(offset) });
    if (Number(offset) % alignment !== 0) {
      throw fail("BAD_HEADER", `tensor ${quoteName(name)} has data offset ${formatCount(Number(offset))}, not a multiple of the alignment ${alignment}.`, { tensor: name, expected: alignment, actual: Number(offset) });
    }
    entries.push({ name, ne, type, typeId, offset: Number(offset), bytes, elements });
  }
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  const dataSize = source.size === undefined ? undefined : source.size - dataStart;
  if (dataSize !== undefined && dataSize < 0 && entries.some((e) => e.bytes > 0)) {
    throw fail("TRUNCATED", `the data section would start at byte ${formatCount(dataStart)}, past the end of the file (${formatCount(source.size!)} bytes).`, { offset: dataStart, expected: dataStart, actual: source.size });
  }

  // ---- data placement: inside the file, in offset order, no overlaps (gaps are alignment padding)
  const byOffset = [...entries].sort((a, b) => a.offset - b.offset || a.bytes - b.bytes);
  let previous: Entry | undefined;
  for (const e of byOffset) {
    const end = e.offset + e.bytes;
    if (dataSize !== undefined && end > dataSize) {
      throw fail("OUT_OF_BOUNDS", `tensor ${quoteName(e.name)} (${e.type.name}, ne [${e.ne.join(", ")}]) ends at data offset ${formatCount(end)}, but the data section has ${formatCount(Math.max(0, dataSize))} bytes.`, { tensor: e.name, offset: dataStart + e.offset, expected: end, actual: dataSize });
    }
    if (previous && e.bytes > 0 && e.offset < previous.offset + previous.bytes) {
      throw fail("OVERLAP", `tensors ${quoteName(previous.name)} and ${quoteName(e.name)} share bytes (${quoteName(e.name)} begins at data offset ${formatCount(e.offset)}, before ${formatCount(previous.offset + previous.bytes)}).`, { tensor: e.name, offset: dataStart + e.offset });
    }
    if (e.bytes > 0) previous = e;
  }

  // ---- tensors, in file order
  const tensors: TensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  for (const e of byOffset) {
    const shape = [...e.ne].reverse();
    const offset = dataStart + e.offset;
    if (e.type.use === "refuse") {
      throw fail("BAD_DTYPE", `tensor ${quoteName(e.name)} is ${e.type.name}, a quantization cntscope does not dequantize; it reads ${READ_TYPES.join(", ")}.`, { tensor: e.name, offset, actual: e.type.name });
    }
    if (e.type.use === "int") {
      skipped.push({ name: e.name, dtype: e.type.name, shape, reason: `ggml type ${e.type.name} is not supported for metrics` });
    } else if (e.type.use === "quant") {
      const type = e.type.name as GgufQuant;
      if (GGUF_BLOCKS[type].bytes !== e.type.bytes) throw new CntError("INTERNAL", `GGUF block table disagrees for ${type}.`);
      tensors.push({ name: e.name, dtype: "f32", shape, offset, byteLength: e.elements * 4, decode: { values: { kind: "gguf", type } } });
    } else {
      tensors.push({ name: e.name, dtype: e.type.use, shape, offset, byteLength: e.bytes });
    }
  }
  if (tensors.length === 0) throw fail("BAD_HEADER", `the file holds no tensors in a type the metrics read (${READ_TYPES.join(", ")}).`, { offset: 0 });

  const metadata = metadataText(meta);
  const { layers, graph, notes } = ggufGraph(tensors, meta);
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

/** The graph: the Llama template for Llama-like architectures (by names), else a chain by shape. */
function ggufGraph(tensors: TensorInfo[], meta: Map<string, MetaValue>): { layers: LayerInfo[]; graph?: ModelInfo["graph"]; notes: string[] } {
  const arch = typeof meta.get("general.architecture") === "string" ? (meta.get("general.architecture") as string) : undefined;
  const notes: string[] = [];
  // llama.cpp reads token_embd.weight as the output projection when the file has no output.weight.
  const template = templateGraph(tensors, { tie_word_embeddings: true });
  if (template && template.family === "llama-gguf") {
    if (arch !== undefined && !LLAMA_LIKE.has(arch)) notes.push(`general.architecture is ${quoteName(arch)}; its tensors have Llama's names, so the Llama block template was used.`);
    const blocks = new Set(tensors.map((t) => /^blk\.(\d+)\./.exec(t.name)?.[1]).filter((b) => b !== undefined)).size;
    const declared = arch ? meta.get(`${arch}.block_count`) : undefined;
    if (typeof declared === "number" && declared !== blocks) notes.push(`${arch}.block_count is ${declared}, but the file holds tensors of ${blocks} blocks; the template follows the tensors.`);
    const width = arch ? meta.get(`${arch}.embedding_length`) : undefined;
    const embd = tensors.find((t) => t.name === "token_embd.weight");
    if (typeof width === "number" && embd && embd.shape.at(-1) !== width) notes.push(`${arch}.embedding_length is ${width}, but token_embd.weight has shape ${formatShape(embd.shape)}.`);
    const shapeOf = (name: string) => tensors.find((t) => t.name === name)?.shape;
    const ff = arch ? meta.get(`${arch}.feed_forward_length`) : undefined;
    const gate = shapeOf("blk.0.ffn_gate.weight");
    if (typeof ff === "number" && gate && gate[0] !== ff) notes.push(`${arch}.feed_forward_length is ${ff}, but blk.0.ffn_gate.weight has shape ${formatShape(gate)}.`);
    // GQA: k has head_count_kv / head_count of q's rows (a note only: the strengths follow the shapes).
    const heads = arch ? meta.get(`${arch}.attention.head_count`) : undefined;
    const kvHeads = arch ? meta.get(`${arch}.attention.head_count_kv`) ?? heads : undefined;
    const q = shapeOf("blk.0.attn_q.weight"), k = shapeOf("blk.0.attn_k.weight");
    if (typeof heads === "number" && typeof kvHeads === "number" && heads > 0 && q && k && k[0] * heads !== q[0] * kvHeads) {
      notes.push(`${arch}.attention.head_count ${heads} and head_count_kv ${kvHeads} do not match attn_q ${formatShape(q)} and attn_k ${formatShape(k)}; the strengths follow the shapes.`);
    }
    if (tensors.some((t) => /^blk\.\d+\.attn_[qk]\.weight$/.test(t.name))) {
      notes.push("llama.cpp stores attn_q and attn_k with their rows permuted within each head (rotary pairs); those nodes feed attention only, so the node-layer distributions are the unpermuted model's and per-node values of q and k are in the file's row order.");
    }
    const used = new Set(template.layers.flatMap((l) => [l.weight, l.bias].filter((t): t is string => t !== undefined)));
    const rest = tensors.filter((t) => !used.has(t.name)).map((t): LayerInfo => ({ name: t.name, kind: "other", weight: t.name }));
    return { layers: [...template.layers, ...rest], graph: template.graph, notes: [...notes, ...template.notes] };
  }
  const chained = chainByShape(inferLayersFromNames(tensors), tensors);
  notes.push(`general.architecture is ${arch === undefined ? "absent" : quoteName(arch)}; no block template fits its tensor names, so layers are chained by shape.`);
  return { layers: chained.layers, notes: [...notes, ...chained.notes] };
}

/** Metadata as text for ModelInfo.metadata: scalars as written, long strings cut, arrays summarised. */
function metadataText(meta: Map<string, MetaValue>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of meta) out[key] = shownValue(value);
  return out;
}

function shownValue(value: MetaValue): string {
  if (typeof value === "string") return value.length > MAX_METADATA_CHARS ? `${value.slice(0, MAX_METADATA_CHARS)}...` : value;
  if (typeof value === "object") return value.values ? `[${value.values.map(String).join(", ")}]` : `[${value.count.toLocaleString("en-US")} x ${value.array}]`;
  return String(value);
}

/** Arrays of at most this many numbers are kept whole in the metadata (per-layer head counts); longer ones are summarised. */
const KEEP_ARRAY = 64;

/**
 * Reads the header front to back in growing chunks from the source: never more than the header's
 * real bytes (bounded by maxHeaderBytes) and never by a declared length before it is checked
 * against the bytes that remain.
 */
class HeaderReader {
  pos = 0;
  /** Bytes [0, filled) of the file, in a buffer of growing capacity (doubling: the copies stay linear). */
  private buffer = new Uint8Array(0);
  private filled = 0;
  private view = new DataView(this.buffer.buffer);
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(private readonly source: ByteSource, private readonly limits: Limits, private readonly fail: Fail) {}

  /** Bytes of the file after `pos` (Infinity for a stream of unknown size). */
  private left(): number {
    return this.source.size === undefined ? Infinity : this.source.size - this.pos;
  }

  /** Make [pos, pos + n) readable. */
  private async need(n: number, what: string): Promise<void> {
    const end = this.pos + n;
    if (end <= this.filled) return;
    if (n > this.left()) {
      throw this.fail("TRUNCATED", `${what} needs ${formatCount(n)} bytes at offset ${formatCount(this.pos)}, but the file ends after ${formatCount(this.left())}.`, { offset: this.pos, expected: end, actual: this.source.size });
    }
    checkLimit(this.limits, "maxHeaderBytes", end, `GGUF '${this.source.name}': the header (metadata and tensor infos) up to ${what}`, { format: FORMAT, file: this.source.name });
    if (end > this.buffer.byteLength) {
      const capacity = Math.min(Math.max(end, this.buffer.byteLength * 2, 64 * 1024), this.limits.maxHeaderBytes, this.source.size ?? Infinity);
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(0, this.filled));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    // A file is read ahead to the buffer's end; a stream only as far as asked, since the tensor
    // data that follows the header must still be ahead of it.
    const to = this.source.randomAccess && this.source.size !== undefined ? this.buffer.byteLength : end;
    await this.source.readInto(this.filled, this.buffer.subarray(this.filled, to));
    this.filled = to;
  }

  async u32(): Promise<number> {
    await this.need(4, "a 32-bit field");
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  async u64(): Promise<bigint> {
    await this.need(8, "a 64-bit field");
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 count of items of at least `minBytes` each, checked against the bytes that remain. */
  async count(what: string, minBytes: number): Promise<number> {
    const at = this.pos;
    const n = await this.u64();
    const left = this.left();
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || Number(n) * minBytes > left) {
      throw this.fail("TRUNCATED", `the ${what} is ${n}, but ${formatCount(left)} bytes remain, room for at most ${formatCount(Math.floor(left / minBytes))}.`, { offset: at, actual: String(n) });
    }
    return Number(n);
  }

  /** A string: u64 length, then UTF-8 bytes (at most maxBytes when given). */
  async string(what: string, maxBytes?: number): Promise<string> {
    const at = this.pos;
    const n = await this.u64();
    if (Number(n) > this.left()) {
      throw this.fail("TRUNCATED", `${what} is declared ${n} bytes long at offset ${formatCount(at)}, but ${formatCount(this.left())} bytes remain.`, { offset: at, actual: String(n) });
    }
    const length = Number(n);
    if (maxBytes !== undefined) checkLimit(this.limits, "maxNameBytes", length, `GGUF '${this.source.name}': the length of ${what}`, { format: FORMAT, file: this.source.name });
    await this.need(length, what);
    try {
      return this.utf8.decode(this.buffer.subarray(this.pos, this.pos + length));
    } catch (error) {
      throw this.fail("BAD_HEADER", `${what} at offset ${formatCount(at)} is not valid UTF-8.`, { offset: at, cause: error });
    } finally {
      this.pos += length;
    }
  }

  /** Skip a string (array items: tokenizer vocabularies are not kept). */
  private async skipString(what: string): Promise<void> {
    const at = this.pos;
    const n = await this.u64();
    if (Number(n) > this.left()) {
      throw this.fail("TRUNCATED", `${what} is declared ${n} bytes long at offset ${formatCount(at)}, but ${formatCount(this.left())} bytes remain.`, { offset: at, actual: String(n) });
    }
    await this.need(Number(n), what);
    this.pos += Number(n);
  }

  /** A metadata value of gguf_type `type`. */
  async value(type: number, key: string, depth: number): Promise<MetaValue> {
    const width = VALUE_WIDTH.get(type);
    const where = `the value of ${quoteName(key)}`;
    if (width !== undefined) {
      await this.need(width, where);
      const p = this.pos;
      this.pos += width;
      switch (type) {
        case 0: return this.view.getUint8(p);
        case 1: return this.view.getInt8(p);
        case 2: return this.view.getUint16(p, true);
        case 3: return this.view.getInt16(p, true);
        case 4: return this.view.getUint32(p, true);
        case 5: return this.view.getInt32(p, true);
        case 6: return this.view.getFloat32(p, true);
        case 7: {
          const b = this.view.getUint8(p);
          if (b > 1) throw this.fail("BAD_HEADER", `${where} is a bool stored as ${b}, not 0 or 1.`, { offset: p });
          return b === 1;
        }
        case 10: return small(this.view.getBigUint64(p, true));
        case 11: return small(this.view.getBigInt64(p, true));
        default: return this.view.getFloat64(p, true);
      }
    }
    if (type === STRING) return this.string(where);
    if (type !== ARRAY) throw this.fail("BAD_HEADER", `${quoteName(key)} has value type ${type}; GGUF value types are 0 to 12.`, { offset: this.pos - 4, actual: type });
    if (depth >= MAX_ARRAY_DEPTH) throw this.fail("BAD_HEADER", `${quoteName(key)} nests arrays more than ${MAX_ARRAY_DEPTH} deep.`, { offset: this.pos });
    const itemType = await this.u32();
    const itemWidth = VALUE_WIDTH.get(itemType);
    if (itemWidth === undefined && itemType !== STRING && itemType !== ARRAY) throw this.fail("BAD_HEADER", `the array ${quoteName(key)} has item type ${itemType}; GGUF value types are 0 to 12.`, { offset: this.pos - 4, actual: itemType });
    // Strings take at least their 8-byte length; nested arrays their 12-byte type and count.
    const count = await this.count(`item count of the array ${quoteName(key)}`, itemWidth ?? (itemType === STRING ? 8 : 12));
    const label = VALUE_NAMES[itemType];
    if (itemWidth !== undefined) {
      const keep = count <= KEEP_ARRAY;
      const values: (number | bigint | string | boolean)[] = [];
      if (keep) {
        for (let i = 0; i < count; i++) values.push((await this.value(itemType, key, depth + 1)) as number);
      } else {
        // Skip in steps of at most 1 MiB so need() stays within maxHeaderBytes, one step at a time.
        for (let left = count * itemWidth; left > 0; ) {
          const n = Math.min(left, 1 << 20);
          await this.need(n, where);
          this.pos += n;
          left -= n;
        }
      }
      return keep ? { array: label, count, values } : { array: label, count };
    }
    for (let i = 0; i < count; i++) {
      if (itemType === STRING) await this.skipString(`item ${i} of the array ${quoteName(key)}`);
      else await this.value(ARRAY, key, depth + 1);
    }
    return { array: label, count };
  }
}

function small(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
