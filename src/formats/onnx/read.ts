/**
 * ONNX: a protobuf ModelProto (onnx/onnx.proto, IR 3-11). The structure is walked lazily from
 * the source with our own wire reader (../shared/protobuf.ts); tensor payloads are never read here,
 * only located:
 *
 *   ModelProto  1 ir_version, 2 producer_name, 3 producer_version, 4 domain, 5 model_version,
 *               7 graph, 8 opset_import, 14 metadata_props
 *   GraphProto  1 node, 2 name, 5 initializer, 15 sparse_initializer, 11 input
 *   NodeProto   1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain
 *   AttributeProto 1 name, 2 f, 3 i, 4 s, 5 t, 6 g, 8 ints, 11 graphs
 *   TensorProto 1 dims, 2 data_type, 3 segment, 4 float_data, 5 int32_data, 8 name, 9 raw_data,
 *               10 double_data, 13 external_data, 14 data_location
 *
 * Tensors: graph initializers, Constant nodes' `value` tensors (named by the node's output) and
 * the initializers of subgraphs (If/Loop/Scan bodies), all in one namespace (ONNX names are
 * unique across nested graphs; a repeated name is BAD_HEADER). FLOAT, FLOAT16, BFLOAT16 and
 * DOUBLE are measured; other data types go to `skipped`. Where the bytes are: see src/source/tensor-sources.ts.
 *
 * Layers: nodes in graph order (a control-flow node, then the nodes of its subgraphs), with the
 * conventions of model/types.ts. Tensors that no layer takes as weight or bias become `other`
 * layers placed before their first consumer, so they are reported, never dropped. What the forward
 * pass needs is kept in attributes: norms' op, epsilon, GroupNormalization's num_groups and
 * LayerNormalization's axis (default -1); Cast's `to`; ConstantOfShape's `value` (its one-element
 * tensor attribute, read here: a few bytes; absent: 0).
 *
 * Not supported (reported, never guessed): sparse initializers and Constant sparse_value /
 * value_floats (to `skipped`); segmented tensors (to `skipped`); Gemm with transA = 1
 * (UNSUPPORTED_LAYER); one-shot streams (the graph's inputs follow the weights in the file).
 */
import { CntError, formatCount, quoteName, type CntErrorCode, formatShape } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { checkedProduct } from "../../model/numbers.js";
import { DTYPE_BYTES, type Activation, type DType, type GraphInfo, type LayerInfo, type ModelInfo, type SkippedTensor, type TensorInfo } from "../../model/types.js";
import { checkRelativePath } from "../../source/paths.js";
import type { ByteSource } from "../../source/types.js";
import { attachData, type PlacedTensorInfo } from "../../source/tensor-sources.js";
import { Message, ProtoReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from "../shared/protobuf.js";
import type { AttrValue, GraphRec, NodeRec, Part, TensorRec, ValueInfoRec } from "./records.js";
import { einsumAsDense } from "./einsum.js";
import { bodyNote, takenBranch } from "./control-flow.js";

const FORMAT = "onnx";
const NAME = "ONNX";

// ---------------------------------------------------------------------------------- detect

export { detectOnnx as detect } from "../detect.js";

// ---------------------------------------------------------------------------------- data types

/** ONNX TensorProto.DataType: name and bits per element (0: variable, STRING). */
const DATA_TYPES: Record<number, [string, number]> = {
  1: ["FLOAT", 32], 2: ["UINT8", 8], 3: ["INT8", 8], 4: ["UINT16", 16], 5: ["INT16", 16], 6: ["INT32", 32], 7: ["INT64", 64],
  8: ["STRING", 0], 9: ["BOOL", 8], 10: ["FLOAT16", 16], 11: ["DOUBLE", 64], 12: ["UINT32", 32], 13: ["UINT64", 64],
  14: ["COMPLEX64", 64], 15: ["COMPLEX128", 128], 16: ["BFLOAT16", 16], 17: ["FLOAT8E4M3FN", 8], 18: ["FLOAT8E4M3FNUZ", 8],
  19: ["FLOAT8E5M2", 8], 20: ["FLOAT8E5M2FNUZ", 8], 21: ["UINT4", 4], 22: ["INT4", 4], 23: ["FLOAT4E2M1", 4], 24: ["FLOAT8E8M0", 8],
  25: ["UINT2", 2], 26: ["INT2", 2],
};
const METRIC: Record<number, DType> = { 1: "f32", 10: "f16", 11: "f64", 16: "bf16" };

// ---------------------------------------------------------------------------------- parsed records (records.ts)

/** Integer tensors up to this many values are read as constants (shape arithmetic); larger ones are only listed. */
const MAX_CONSTANT_VALUES = 65536;

interface Ctx {
  reader: ProtoReader;
  limits: Limits;
  file: string;
  /** Tensors met so far (initializers and Constant values), for maxTensors. */
  tensorCount: number;
  /** Nodes met so far over all graphs, for maxLayers: checked as each is met, before it is decoded. */
  nodeCount: number;
}

// ---------------------------------------------------------------------------------- open

/** Read an ONNX model's structure and locate its tensors; tensor bytes are not read. */
export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  if (source.size === 0) throw new CntError("TRUNCATED", `${NAME} '${file}': the file is empty.`, { format: FORMAT, file, expected: 1, actual: 0 });
  if (!source.randomAccess || source.size === undefined) {
    throw new CntError("BAD_OPTION", `${NAME} '${file}': reading ONNX needs a source that can be read at any offset (a file, Blob or buffer), because the graph's inputs and outputs follow the weights in the file; a one-shot stream cannot go back to the weights.`, { format: FORMAT, file });
  }
  const reader = new ProtoReader(source, { format: NAME, maxHeaderBytes: limits.maxHeaderBytes, maxDepth: limits.maxDepth });
  const ctx: Ctx = { reader, limits, file, tensorCount: 0, nodeCount: 0 };

  // ModelProto
  const model = reader.root();
  let irVersion: number | undefined;
  let graph: GraphRec | undefined;
  const metadata: Record<string, string> = Object.create(null);
  const opsets: string[] = [];
  const props: [string, string][] = [];
  while (await model.next()) {
    switch (model.field) {
      case 1:
        expectWire(model, WIRE_VARINT, "ir_version");
        irVersion = model.uint("ir_version");
        break;
      case 2:
        if (model.wire === WIRE_LEN) metadata.producer = await text(ctx, model, "producer_name");
        break;
      case 3:
        if (model.wire === WIRE_LEN) metadata.producerVersion = await text(ctx, model, "producer_version");
        break;
      case 4:
        if (model.wire === WIRE_LEN) metadata.domain = await text(ctx, model, "domain");
        break;
      case 5:
        if (model.wire === WIRE_VARINT) metadata.modelVersion = String(model.int("model_version"));
        break;
      case 7:
        expectWire(model, WIRE_LEN, "graph");
        if (graph) throw reader.error("BAD_HEADER", `the model has a second graph at byte ${formatCount(model.at)}.`, model.at);
        graph = await readGraph(ctx, model.child("the graph"));
        break;
      case 8: {
        expectWire(model, WIRE_LEN, "opset_import");
        const opset = model.child("an opset_import");
        let domain = "";
        let version = 0;
        while (await opset.next()) {
          if (opset.field === 1 && opset.wire === WIRE_LEN) domain = await text(ctx, opset, "an opset domain");
          else if (opset.field === 2 && opset.wire === WIRE_VARINT) version = opset.int("an opset version");
        }
        opsets.push(`${domain || "ai.onnx"} ${version}`);
        break;
      }
      case 14: {
        expectWire(model, WIRE_LEN, "metadata_props");
        props.push(await stringPair(ctx, model.child("a metadata_props entry"), "metadata_props"));
        break;
      }
      default:
        break;
    }
  }
  if (irVersion === undefined) throw reader.error("BAD_HEADER", "the model has no ir_version.", 0);
  if (!graph) throw reader.error("TRUNCATED", `the file ends at byte ${formatCount(reader.size)} without a graph; it is truncated or not a model.`, reader.size);
  if (opsets.length === 0) {
    throw reader.error("TRUNCATED", `the model has no opset_import, which every ONNX model stores after its graph; the file looks truncated at byte ${formatCount(reader.size)}.`, reader.size);
  }
  metadata.irVersion = String(irVersion);
  metadata.opsets = opsets.join(", ");
  if (graph.name) metadata.graph = graph.name;
  for (const [k, v] of props) metadata[k in metadata ? `metadata_props.${k}` : k] = v;

  const { tensors, skipped, byName } = await buildTensors(ctx, source, graph);
  const floats = await smallFloats(source, tensors);
  const notes: string[] = [];
  const layers = buildLayers(ctx, graph, byName, notes, await fillValues(ctx, source, graph));
  checkLimit(limits, "maxLayers", layers.length, `${NAME} '${file}': layer count`, { format: FORMAT, file });
  const info: ModelInfo = {
    format: FORMAT,
    name: file,
    bytes: source.size,
    tensors,
    layers,
    dataFormat: "channels_first",
    skipped,
    metadata,
  };
  const inputShape = graphInputShape(graph, byName);
  if (inputShape) info.inputShape = inputShape;
  info.graph = graphInfo(graph, byName);
  for (const [name, c] of floats) info.graph.constants![name] ??= { ...c, float: true };
  if (notes.length > 0) info.notes = notes;
  return info;
}

/**
 * ConstantOfShape's `value` (a one-element tensor attribute: float 1 where torch exports expand and
 * repeat, an int64 elsewhere), by node, for the forward pass; absent: ONNX's default 0. A value in
 * a type or field not read here is left out (the forward pass then stops on the op).
 */
async function fillValues(ctx: Ctx, source: ByteSource, graph: GraphRec): Promise<Map<NodeRec, number>> {
  const out = new Map<NodeRec, number>();
  const visit = async (g: GraphRec): Promise<void> => {
    for (const node of g.nodes) {
      if (node.opType === "ConstantOfShape" && node.domain === "") {
        const a = node.attrs.get("value");
        const v = !a ? 0 : a.kind === "t" ? await scalarOf(ctx, source, a.value) : undefined;
        if (v !== undefined) out.set(node, v);
      }
      for (const sub of node.subgraphs) await visit(sub);
    }
  };
  await visit(graph);
  return out;
}

/** The one value of a one-element tensor record: raw_data of a fixed-width number type, or its typed field. */
async function scalarOf(ctx: Ctx, source: ByteSource, t: TensorRec): Promise<number | undefined> {
  if (t.dims.reduce((a, d) => a * d, 1) !== 1 || t.dataType === undefined) return undefined;
  if (t.raw) {
    const read: Record<number, [number, (v: DataView) => number]> = {
      1: [4, (v) => v.getFloat32(0, true)], 2: [1, (v) => v.getUint8(0)], 3: [1, (v) => v.getInt8(0)], 4: [2, (v) => v.getUint16(0, true)],
      5: [2, (v) => v.getInt16(0, true)], 6: [4, (v) => v.getInt32(0, true)], 7: [8, (v) => Number(v.getBigInt64(0, true))], 9: [1, (v) => (v.getUint8(0) ? 1 : 0)],
      11: [8, (v) => v.getFloat64(0, true)], 12: [4, (v) => v.getUint32(0, true)], 13: [8, (v) => Number(v.getBigUint64(0, true))],
    };
    const how = read[t.dataType];
    if (!how || t.raw.length !== how[0]) return undefined;
    ctx.reader.count(t.raw.length, t.raw.offset);
    const bytes = new Uint8Array(how[0]);
    await source.readInto(t.raw.offset, bytes);
    return how[1](new DataView(bytes.buffer));
  }
  const typed = t.dataType === 1 ? t.floatParts : t.dataType === 11 ? t.doubleParts : undefined;
  if (typed) {
    const p = typed.length === 1 ? typed[0] : undefined;
    if (p && "inline" in p && p.inline.length === 1) return p.inline[0];
    const width = t.dataType === 1 ? 4 : 8;
    if (!p || "inline" in p || p.length !== width) return undefined;
    ctx.reader.count(p.length, p.offset);
    const bytes = new Uint8Array(width);
    await source.readInto(p.offset, bytes);
    const view = new DataView(bytes.buffer);
    return width === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
  }
  if (t.dataType === 7 && t.int64?.length === 1) return t.int64[0];
  if ([2, 3, 4, 5, 6, 9].includes(t.dataType) && t.int32?.length === 1) return t.int32[0];
  return undefined;
}

/** Small float tensors (Resize scales, a Pad's fill value) fix shapes and ops too: their values are read, a few bytes each. */
async function smallFloats(source: ByteSource, tensors: TensorInfo[]): Promise<Map<string, { shape: number[]; values: number[] }>> {
  const out = new Map<string, { shape: number[]; values: number[] }>();
  for (const t of tensors) {
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (t.dtype !== "f32" || count === 0 || count > 16 || t.file !== undefined) continue;
    const bytes = t.data ? t.data.subarray(t.offset, t.offset + t.byteLength).slice() : new Uint8Array(t.byteLength);
    if (!t.data) await source.readInto(t.offset, bytes);
    const view = new DataView(bytes.buffer);
    out.set(t.name, { shape: [...t.shape], values: Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)) });
  }
  return out;
}

/** The graph's data inputs (initializers listed as inputs are weights), outputs, integer constants and declared shapes. */
function graphInfo(graph: GraphRec, byName: Map<string, Built>): GraphInfo {
  const dims = (v: ValueInfoRec) => v.dims?.map((d) => d ?? null);
  const constants: Record<string, { shape: number[]; values: number[] }> = Object.create(null);
  for (const [name, built] of byName) if ("constant" in built && built.constant) constants[name] = built.constant;
  const shapes: Record<string, (number | null)[]> = Object.create(null);
  for (const v of [...graph.valueInfo, ...graph.outputs]) if (v.dims) shapes[v.name] = dims(v)!;
  return {
    inputs: graph.inputs.filter((i) => !byName.has(i.name)).map((i) => ({ name: i.name, ...(i.dims ? { shape: dims(i) } : {}), ...(i.elemType !== undefined ? { dtype: DATA_TYPES[i.elemType]?.[0] ?? String(i.elemType) } : {}) })),
    outputs: graph.outputs.map((o) => o.name),
    constants,
    shapes,
  };
}

// ---------------------------------------------------------------------------------- protobuf walk

function expectWire(m: Message, wire: number, what: string): void {
  if (m.wire !== wire) throw m.wrongWire(`${what} (wire type ${wire})`);
}

async function text(ctx: Ctx, m: Message, what: string): Promise<string> {
  expectWire(m, WIRE_LEN, what);
  return m.string(ctx.limits.maxNameBytes, what, () =>
    ctx.reader.error("TOO_LARGE", `${what} at byte ${formatCount(m.offset)} is ${formatCount(m.length)} bytes, above the limit maxNameBytes = ${formatCount(ctx.limits.maxNameBytes)}; raise it in options.limits if the file is trusted.`, m.offset, { expected: ctx.limits.maxNameBytes, actual: m.length }),
  );
}

async function stringPair(ctx: Ctx, m: Message, what: string): Promise<[string, string]> {
  let key = "";
  let value = "";
  while (await m.next()) {
    if (m.field === 1) key = await text(ctx, m, `a ${what} key`);
    else if (m.field === 2) {
      expectWire(m, WIRE_LEN, `a ${what} value`);
      value = await m.string(ctx.limits.maxHeaderBytes, `the ${what} value ${quoteName(key)}`);
    }
  }
  return [key, value];
}

async function readGraph(ctx: Ctx, m: Message): Promise<GraphRec> {
  const graph: GraphRec = { name: "", nodes: [], initializers: [], sparse: [], inputs: [], outputs: [], valueInfo: [] };
  // The node count is checked before any node is decoded: a million nodes would otherwise be
  // decoded into objects (about a GB) before the count is known.
  const room = ctx.limits.maxLayers - ctx.nodeCount;
  const nodes = await m.countField(1, room);
  if (nodes > room) checkLimit(ctx.limits, "maxLayers", ctx.nodeCount + nodes, `${NAME} '${ctx.file}': the node count (counted before decoding, at least)`, { format: FORMAT, file: ctx.file });
  while (await m.next()) {
    switch (m.field) {
      case 1:
        expectWire(m, WIRE_LEN, "a node");
        if (++ctx.nodeCount > ctx.limits.maxLayers) {
          checkLimit(ctx.limits, "maxLayers", ctx.nodeCount, `${NAME} '${ctx.file}': the node count (at byte ${formatCount(m.offset)}, counted before decoding)`, { format: FORMAT, file: ctx.file });
        }
        graph.nodes.push(await readNode(ctx, m.child("a node"), m.offset));
        break;
      case 2:
        if (m.wire === WIRE_LEN) graph.name = await text(ctx, m, "the graph name");
        break;
      case 5:
        expectWire(m, WIRE_LEN, "an initializer");
        countTensor(ctx, m.offset);
        graph.initializers.push(await readTensor(ctx, m.child("an initializer"), m.offset));
        break;
      case 15: {
        expectWire(m, WIRE_LEN, "a sparse initializer");
        countTensor(ctx, m.offset);
        graph.sparse.push({ name: await sparseName(ctx, m.child("a sparse initializer")), at: m.offset });
        break;
      }
      case 11:
        expectWire(m, WIRE_LEN, "a graph input");
        graph.inputs.push(await readValueInfo(ctx, m.child("a graph input")));
        break;
      case 12:
        expectWire(m, WIRE_LEN, "a graph output");
        graph.outputs.push(await readValueInfo(ctx, m.child("a graph output")));
        break;
      case 13:
        expectWire(m, WIRE_LEN, "a value_info");
        graph.valueInfo.push(await readValueInfo(ctx, m.child("a value_info")));
        break;
      default:
        break;
    }
  }
  return graph;
}

function countTensor(ctx: Ctx, at: number): void {
  ctx.tensorCount++;
  if (ctx.tensorCount > ctx.limits.maxTensors) {
    checkLimit(ctx.limits, "maxTensors", ctx.tensorCount, `${NAME} '${ctx.file}': the tensor count (at byte ${formatCount(at)})`, { format: FORMAT, file: ctx.file });
  }
}

async function readNode(ctx: Ctx, m: Message, at: number): Promise<NodeRec> {
  const node: NodeRec = { name: "", opType: "", domain: "", inputs: [], outputs: [], attrs: new Map(), at, subgraphs: [] };
  try {
    await readNodeFields(ctx, m, node);
  } catch (error) {
    throw within(error, `node ${node.name ? `${quoteName(node.name)} ` : ""}at byte ${formatCount(at)}`);
  }
  return node;
}

async function readNodeFields(ctx: Ctx, m: Message, node: NodeRec): Promise<void> {
  while (await m.next()) {
    switch (m.field) {
      case 1:
        node.inputs.push(await text(ctx, m, "a node input"));
        break;
      case 2:
        node.outputs.push(await text(ctx, m, "a node output"));
        break;
      case 3:
        node.name = await text(ctx, m, "a node name");
        break;
      case 4:
        node.opType = await text(ctx, m, "an op_type");
        break;
      case 7:
        node.domain = await text(ctx, m, "a node domain");
        break;
      case 5: {
        expectWire(m, WIRE_LEN, "an attribute");
        const [name, value] = await readAttribute(ctx, m.child("an attribute"), node);
        node.attrs.set(name, value);
        break;
      }
      default:
        break;
    }
  }
}

async function readAttribute(ctx: Ctx, m: Message, node: NodeRec): Promise<[string, AttrValue]> {
  let name = "";
  let value: AttrValue = { kind: "other" };
  while (await m.next()) {
    switch (m.field) {
      case 1:
        name = await text(ctx, m, "an attribute name");
        break;
      case 2:
        if (m.wire === WIRE_I32) value = { kind: "f", value: await m.float() };
        break;
      case 3:
        if (m.wire === WIRE_VARINT) value = { kind: "i", value: m.int("an int attribute") };
        break;
      case 4:
        // Only short strings matter here (auto_pad, direction); long ones are skipped unread.
        if (m.wire === WIRE_LEN) value = { kind: "s", value: m.length <= 256 ? await m.string(256, "a string attribute") : undefined };
        break;
      case 5:
        expectWire(m, WIRE_LEN, "a tensor attribute");
        value = { kind: "t", value: await readTensor(ctx, m.child("a tensor attribute"), m.offset) };
        break;
      case 6:
        expectWire(m, WIRE_LEN, "a graph attribute");
        node.subgraphs.push(await readGraph(ctx, m.child("a subgraph")));
        value = { kind: "graph", index: node.subgraphs.length - 1 };
        break;
      case 11:
        expectWire(m, WIRE_LEN, "a graphs attribute");
        node.subgraphs.push(await readGraph(ctx, m.child("a subgraph")));
        value = { kind: "graph" };
        break;
      case 7:
        value = { kind: "floats" };
        break;
      case 9: {
        // Recurrent ops' activations ("Tanh", "Sigmoid", ...): short strings, at most 16 read.
        const list: (string | undefined)[] = value.kind === "strings" ? value.value : [];
        if (m.wire === WIRE_LEN && list.length < 16) list.push(m.length <= 64 ? await m.string(64, "a strings attribute") : undefined);
        value = { kind: "strings", value: list };
        break;
      }
      case 8: {
        const list: number[] = value.kind === "ints" ? value.value : [];
        await m.varints((lo, hi, at) => list.push(int64Of(ctx, lo, hi, at, "an ints attribute")));
        value = { kind: "ints", value: list };
        break;
      }
      case 22:
        value = { kind: "sparse" };
        break;
      default:
        break;
    }
  }
  return [name, value];
}

/**
 * An int64 value of an attribute or an int64_data field. Exporters write INT64_MAX and INT64_MIN
 * as "to the end" (Slice ends, opset < 10 attributes), so values beyond ±(2^53 - 1) are clamped
 * to it, which keeps that meaning for every size a file can have.
 */
function int64Of(_ctx: Ctx, lo: number, hi: number, _at: number, _what: string): number {
  if (hi >= 0x80000000) {
    const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    return v < -BigInt(Number.MAX_SAFE_INTEGER) ? -Number.MAX_SAFE_INTEGER : Number(v);
  }
  if (hi >= 0x200000) return Number.MAX_SAFE_INTEGER;
  return hi * 4294967296 + lo;
}

async function readTensor(ctx: Ctx, m: Message, at: number): Promise<TensorRec> {
  const t: TensorRec = { name: "", at, dims: [], floatParts: [], doubleParts: [], int32: undefined, otherTyped: undefined, external: [], location: 0, segment: false };
  // Problems found before the name (field 8 usually comes after dims and data) are raised after the walk, with the name.
  const problem = (code: CntErrorCode, message: (name: string) => string, offset: number, actual?: unknown) => {
    t.problem ??= { code, message, offset, actual };
  };
  try {
    while (await m.next()) {
      switch (m.field) {
        case 1:
          await m.varints((lo, hi, p) => {
            if (t.problem) return;
            if (hi >= 0x200000) {
              const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
              const index = t.dims.length;
              problem("BAD_SHAPE", (name) => `tensor ${name} (at byte ${formatCount(at)}): dim ${index} at byte ${formatCount(p)} is ${v}, not a non-negative integer below 2^53.`, p, String(v));
              return;
            }
            t.dims.push(hi * 4294967296 + lo);
            if (t.dims.length > ctx.limits.maxRank) {
              problem("TOO_LARGE", (name) => `the rank of tensor ${name} (at byte ${formatCount(at)}) is more than ${ctx.limits.maxRank}, above the limit maxRank = ${ctx.limits.maxRank}; raise it in options.limits if the file is trusted.`, p);
            }
          });
          break;
        case 2:
          expectWire(m, WIRE_VARINT, "data_type");
          t.dataType = m.int32();
          break;
        case 3:
          t.segment = true;
          break;
        case 4:
          await typedPart(m, t, t.floatParts, 4, "float_data", problem);
          break;
        case 10:
          await typedPart(m, t, t.doubleParts, 8, "double_data", problem);
          break;
        case 5: {
          const values = (t.int32 ??= []);
          await m.varints((lo) => values.push(lo | 0));
          break;
        }
        case 6:
          t.otherTyped = "string_data";
          break;
        case 7: {
          // Shape constants (Reshape targets, axes) are small; larger int64 tensors are only listed.
          t.otherTyped = "int64_data";
          const values = (t.int64 ??= []);
          await m.varints((lo, hi, p) => {
            if (values.length <= MAX_CONSTANT_VALUES) values.push(int64Of(ctx, lo, hi, p, "an int64_data value"));
          });
          break;
        }
        case 11:
          t.otherTyped = "uint64_data";
          break;
        case 8:
          t.name = await text(ctx, m, "a tensor name");
          break;
        case 9:
          expectWire(m, WIRE_LEN, "raw_data");
          if (t.raw) problem("BAD_HEADER", (name) => `tensor ${name} (at byte ${formatCount(at)}) has a second raw_data field at byte ${formatCount(m.at)}.`, m.at);
          t.raw = { offset: m.offset, length: m.length };
          break;
        case 13: {
          expectWire(m, WIRE_LEN, "external_data");
          t.external.push(await stringPair(ctx, m.child("an external_data entry"), "external_data"));
          break;
        }
        case 14:
          expectWire(m, WIRE_VARINT, "data_location");
          t.location = m.int32();
          break;
        default:
          break;
      }
    }
  } catch (error) {
    throw within(error, `tensor ${t.name ? `${quoteName(t.name)} ` : ""}at byte ${formatCount(at)}`, t.name || undefined);
  }
  if (t.problem) {
    const p = t.problem;
    throw ctx.reader.error(p.code, p.message(quoteName(t.name || "(unnamed)")), p.offset, { tensor: t.name, actual: p.actual });
  }
  return t;
}

/** Add where a wire-level error happened (a tensor, a node) to its message, keeping its code. */
function within(error: unknown, where: string, tensor?: string): unknown {
  if (!(error instanceof CntError) || error.message.includes(" (in ")) return error;
  return new CntError(error.code, `${error.message.replace(/\.$/, "")} (in ${where}).`, { format: error.format, file: error.file, tensor: error.tensor ?? tensor, offset: error.offset, expected: error.expected, actual: error.actual, cause: error });
}

/** float_data / double_data: a packed run is located; unpacked values are decoded as they come. */
async function typedPart(m: Message, t: TensorRec, parts: Part[], width: number, what: string, problem: (code: CntErrorCode, message: (name: string) => string, offset: number, actual?: unknown) => void): Promise<void> {
  if (m.wire === WIRE_LEN) {
    if (m.length % width !== 0) {
      const { offset, length } = m;
      problem("BAD_HEADER", (name) => `tensor ${name} (at byte ${formatCount(t.at)}): packed ${what} at byte ${formatCount(offset)} is ${formatCount(length)} bytes, not a multiple of ${width}.`, offset, length);
      return;
    }
    if (m.length > 0) parts.push({ offset: m.offset, length: m.length });
    return;
  }
  if ((width === 4 && m.wire !== WIRE_I32) || (width === 8 && m.wire !== WIRE_I64)) throw m.wrongWire(`${what} values`);
  const bytes = await fixedBytes(m, width);
  const value = width === 4 ? new DataView(bytes.buffer).getFloat32(0, true) : new DataView(bytes.buffer).getFloat64(0, true);
  const last = parts[parts.length - 1];
  if (last && "inline" in last) last.inline.push(value);
  else parts.push({ inline: [value] });
}

async function fixedBytes(m: Message, width: number): Promise<Uint8Array> {
  const r = m.reader;
  await r.load(m.offset, width, m.offset + width);
  return r.view(m.offset, width).slice();
}

async function sparseName(ctx: Ctx, m: Message): Promise<string> {
  // SparseTensorProto: 1 values (TensorProto), 2 indices, 3 dims. The name is the values' name.
  let name = "";
  while (await m.next()) {
    if (m.field === 1 && m.wire === WIRE_LEN) {
      const values = m.child("sparse values");
      while (await values.next()) if (values.field === 8) name = await text(ctx, values, "a tensor name");
    }
  }
  return name;
}

async function readValueInfo(ctx: Ctx, m: Message): Promise<ValueInfoRec> {
  // ValueInfoProto 1 name, 2 type; TypeProto 1 tensor_type; Tensor 1 elem_type, 2 shape; Shape 1 dim; Dimension 1 dim_value.
  let name = "";
  let dims: (number | undefined)[] | undefined;
  let elemType: number | undefined;
  while (await m.next()) {
    if (m.field === 1) name = await text(ctx, m, "a graph input name");
    else if (m.field === 2 && m.wire === WIRE_LEN) {
      const type = m.child("a type");
      while (await type.next()) {
        if (type.field !== 1 || type.wire !== WIRE_LEN) continue;
        const tensor = type.child("a tensor type");
        while (await tensor.next()) {
          if (tensor.field === 1 && tensor.wire === WIRE_VARINT) elemType = tensor.int("an elem_type");
          if (tensor.field !== 2 || tensor.wire !== WIRE_LEN) continue;
          const shape = tensor.child("a shape");
          dims = [];
          while (await shape.next()) {
            if (shape.field !== 1 || shape.wire !== WIRE_LEN) continue;
            const dim = shape.child("a dimension");
            let value: number | undefined;
            while (await dim.next()) if (dim.field === 1 && dim.wire === WIRE_VARINT) value = dim.int("a dim_value");
            dims.push(value !== undefined && value >= 0 ? value : undefined);
            if (dims.length > ctx.limits.maxRank) checkLimit(ctx.limits, "maxRank", dims.length, `${NAME} '${ctx.file}': the rank of graph value ${quoteName(name)}`, { format: FORMAT, file: ctx.file });
          }
        }
      }
    }
  }
  return { name, dims, elemType };
}

// ---------------------------------------------------------------------------------- tensors

type Built = { info: PlacedTensorInfo } | { skipped: SkippedTensor; constant?: IntConstant };

/** An integer tensor's values (shape arithmetic: Reshape targets, axes, indices). */
interface IntConstant {
  shape: number[];
  values: number[];
}

async function buildTensors(ctx: Ctx, source: ByteSource, graph: GraphRec): Promise<{ tensors: TensorInfo[]; skipped: SkippedTensor[]; byName: Map<string, Built> }> {
  const byName = new Map<string, Built>();
  const where = new Map<string, number>();
  const tensors: PlacedTensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  const siblings = new Map<string, ByteSource>();
  const add = (name: string, at: number, built: Built) => {
    const before = where.get(name);
    if (before !== undefined) {
      throw ctx.reader.error("BAD_HEADER", `tensor ${quoteName(name)} is defined twice, at byte ${formatCount(before)} and at byte ${formatCount(at)}; ONNX names are unique across the graph and its subgraphs.`, at, { tensor: name });
    }
    where.set(name, at);
    byName.set(name, built);
    if ("info" in built) tensors.push(built.info);
    else skipped.push(built.skipped);
  };
  try {
    const visit = async (g: GraphRec): Promise<void> => {
      for (const t of g.initializers) {
        if (!t.name) throw ctx.reader.error("BAD_HEADER", `the initializer at byte ${formatCount(t.at)} has no name.`, t.at);
        add(t.name, t.at, await buildTensor(ctx, source, t, t.name, siblings));
      }
      for (const s of g.sparse) add(s.name || `sparse@${s.at}`, s.at, { skipped: { name: s.name, dtype: "sparse", shape: [], reason: "sparse initializers are not supported" } });
      for (const node of g.nodes) {
        if (node.opType === "Constant" && node.domain === "" && node.outputs.length > 0) {
          const output = node.outputs[0];
          const value = node.attrs.get("value");
          const ints = node.attrs.get("value_ints") ?? node.attrs.get("value_int");
          if (value?.kind === "t") add(output, value.value.at, await buildTensor(ctx, source, value.value, output, siblings));
          else if ((ints?.kind === "ints" && ints.value.length <= MAX_CONSTANT_VALUES) || ints?.kind === "i") {
            const values = ints.kind === "ints" ? ints.value : [ints.value];
            add(output, node.at, { skipped: { name: output, dtype: "INT64", shape: ints.kind === "ints" ? [values.length] : [], reason: "an integer constant" }, constant: { shape: ints.kind === "ints" ? [values.length] : [], values } });
          } else if (node.attrs.get("sparse_value")) add(output, node.at, { skipped: { name: output, dtype: "sparse", shape: [], reason: "Constant sparse_value tensors are not supported" } });
          else if (node.attrs.has("value_floats")) add(output, node.at, { skipped: { name: output, dtype: "FLOAT", shape: [], reason: "Constant value_floats lists are not supported; store weights as tensors" } });
        }
        for (const sub of node.subgraphs) await visit(sub);
      }
    };
    await visit(graph);
  } finally {
    for (const s of siblings.values()) await s.close();
  }
  // File order for the model's own bytes; decoded tensors after them; external files last, by file and offset.
  const rank = (t: PlacedTensorInfo) => (t.file !== undefined ? 2 : t.data ? 1 : 0);
  tensors.sort((a, b) => rank(a) - rank(b) || (a.file ?? "").localeCompare(b.file ?? "") || a.offset - b.offset);
  return { tensors, skipped, byName };
}

async function buildTensor(ctx: Ctx, source: ByteSource, t: TensorRec, name: string, siblings: Map<string, ByteSource>): Promise<Built> {
  const r = ctx.reader;
  const here = `tensor ${quoteName(name)} (at byte ${formatCount(t.at)})`;
  const fail = (code: CntErrorCode, message: string, offset = t.at, extra: { expected?: unknown; actual?: unknown; cause?: unknown } = {}) => r.error(code, `${here} ${message}`, offset, { tensor: name, ...extra });
  if (t.dataType === undefined || t.dataType === 0) throw fail("BAD_DTYPE", "has no data_type.");
  const known = DATA_TYPES[t.dataType];
  if (!known) {
    throw fail("BAD_DTYPE", `has data_type ${t.dataType}, which is not an ONNX data type (known: 1-26; measured: FLOAT, FLOAT16, BFLOAT16, DOUBLE).`, t.at, { actual: t.dataType });
  }
  const [typeName, bits] = known;
  const count = checkedProduct(t.dims, `${NAME} '${ctx.file}': ${here}`, { format: FORMAT, file: ctx.file, tensor: name, offset: t.at });
  const shape = [...t.dims];
  const skip = (reason: string): Built => ({ skipped: { name, dtype: typeName, shape, reason } });
  if (t.segment) return skip("segmented tensors are not supported");
  const expectedBytes = bits === 0 ? undefined : Math.ceil((count * bits) / 8);
  const typed = t.floatParts.length > 0 || t.doubleParts.length > 0 || t.int32 !== undefined || t.otherTyped !== undefined;
  const external = t.location === 1;
  if (t.location !== 0 && t.location !== 1) throw fail("BAD_HEADER", `has data_location ${t.location}; ONNX knows 0 (DEFAULT) and 1 (EXTERNAL).`);
  if ([t.raw !== undefined, typed, external].filter(Boolean).length > 1) {
    throw fail("BAD_HEADER", `stores its data in more than one way (${[t.raw && "raw_data", typed && "typed fields", external && "external data"].filter(Boolean).join(", ")}).`);
  }

  // raw_data: checked for every fixed-width type, measured or not.
  if (t.raw) {
    if (expectedBytes !== undefined && t.raw.length !== expectedBytes) {
      throw fail("BAD_DTYPE", `is ${typeName} of shape ${formatShape(shape)}, which takes ${formatCount(expectedBytes)} bytes, but its raw_data at byte ${formatCount(t.raw.offset)} holds ${formatCount(t.raw.length)}.`, t.raw.offset, { expected: expectedBytes, actual: t.raw.length });
    }
    const dtype = METRIC[t.dataType];
    if (!dtype) return { ...skip(`data type ${typeName} is not supported for metrics`), ...(await rawConstant(ctx, source, t, shape, count)) };
    return { info: { name, dtype, shape, offset: t.raw.offset, byteLength: t.raw.length } };
  }

  if (external) {
    const entries = new Map<string, string>();
    for (const [k, v] of t.external) {
      if (entries.has(k)) throw fail("BAD_HEADER", `names external_data key ${quoteName(k)} twice.`);
      entries.set(k, v);
    }
    const location = entries.get("location");
    if (location === undefined) throw fail("BAD_HEADER", "has external data without a location.");
    try {
      checkRelativePath(location, ctx.file);
    } catch (error) {
      if (error instanceof CntError) throw fail(error.code, `has external data in ${quoteName(location)}: ${error.message}`, t.at, { cause: error });
      throw error;
    }
    const dtype = METRIC[t.dataType];
    const offset = decimal(entries.get("offset") ?? "0", "offset", fail);
    const declared = entries.has("length") ? decimal(entries.get("length")!, "length", fail) : undefined;
    if (expectedBytes !== undefined && declared !== undefined && declared !== expectedBytes) {
      throw fail("BAD_DTYPE", `is ${typeName} of shape ${formatShape(shape)}, which takes ${formatCount(expectedBytes)} bytes, but its external_data length is ${formatCount(declared)}.`, t.at, { expected: expectedBytes, actual: declared });
    }
    const length = declared ?? expectedBytes;
    if (!dtype) return skip(`data type ${typeName} is not supported for metrics (stored in ${quoteName(location)})`);
    if (!source.sibling) {
      throw fail("TRUNCATED", `is stored in the file ${quoteName(location)} beside the model, but this input cannot open other files; pass a file path (cntscope/node) or filesSource() with both files.`);
    }
    let sibling = siblings.get(location);
    if (!sibling) {
      try {
        sibling = await source.sibling(location);
      } catch (error) {
        if (error instanceof CntError) throw fail(error.code, `has external data in ${quoteName(location)}: ${error.message}`, t.at, { cause: error });
        throw error;
      }
      siblings.set(location, sibling);
    }
    if (sibling.size === undefined || offset + length! > sibling.size) {
      throw fail("OUT_OF_BOUNDS", `has external data at bytes ${formatCount(offset)} to ${formatCount(offset + length!)} of ${quoteName(location)}, which has ${sibling.size === undefined ? "an unknown number of" : formatCount(sibling.size)} bytes.`, t.at, { expected: offset + length!, actual: sibling.size });
    }
    return { info: { name, dtype, shape, offset, byteLength: length!, file: location } };
  }

  const dtype = METRIC[t.dataType];
  if (!dtype) {
    const typedValues = t.dataType === 7 ? t.int64 : t.dataType === 6 || t.dataType === 9 ? t.int32 : undefined;
    const constant = typedValues && typedValues.length === count && count <= MAX_CONSTANT_VALUES ? { constant: { shape, values: typedValues } } : {};
    return { ...skip(`data type ${typeName} is not supported for metrics`), ...constant };
  }
  const width = DTYPE_BYTES[dtype];
  const bytes = count * width;
  if (dtype === "f32" || dtype === "f64") {
    const parts = dtype === "f32" ? t.floatParts : t.doubleParts;
    const wrong = dtype === "f32" ? (t.doubleParts.length > 0 || t.int32 ? "double_data or int32_data" : t.otherTyped) : t.floatParts.length > 0 || t.int32 ? "float_data or int32_data" : t.otherTyped;
    if (wrong) throw fail("BAD_DTYPE", `is ${typeName} but stores its values in ${wrong}.`);
    const got = parts.reduce((sum, p) => sum + ("inline" in p ? p.inline.length * width : p.length), 0);
    if (got !== bytes) {
      if (got === 0) throw fail("BAD_HEADER", `is ${typeName} of shape ${formatShape(shape)} but holds no data.`);
      throw fail("BAD_DTYPE", `is ${typeName} of shape ${formatShape(shape)}, which takes ${formatCount(count)} values, but its ${dtype === "f32" ? "float_data" : "double_data"} holds ${formatCount(got / width)}.`, t.at, { expected: count, actual: got / width });
    }
    if (bytes === 0) return { info: { name, dtype, shape, offset: t.at, byteLength: 0 } };
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only && !("inline" in only)) return { info: { name, dtype, shape, offset: only.offset, byteLength: only.length } };
    // Several runs or unpacked values: decode into memory (counted against maxHeaderBytes).
    const data = new Uint8Array(bytes);
    const view = new DataView(data.buffer);
    let at = 0;
    for (const p of parts) {
      if ("inline" in p) {
        for (const v of p.inline) {
          if (width === 4) view.setFloat32(at, v, true);
          else view.setFloat64(at, v, true);
          at += width;
        }
      } else {
        r.count(p.length, p.offset);
        await source.readInto(p.offset, data.subarray(at, at + p.length));
        at += p.length;
      }
    }
    return { info: attachData({ name, dtype, shape, offset: 0, byteLength: bytes }, data) };
  }
  // FLOAT16 / BFLOAT16: 16-bit patterns in int32_data.
  if (t.floatParts.length > 0 || t.doubleParts.length > 0 || t.otherTyped) throw fail("BAD_DTYPE", `is ${typeName} but stores its values in a field other than int32_data or raw_data.`);
  const values = t.int32 ?? [];
  if (values.length !== count) {
    if (values.length === 0) throw fail("BAD_HEADER", `is ${typeName} of shape ${formatShape(shape)} but holds no data.`);
    throw fail("BAD_DTYPE", `is ${typeName} of shape ${formatShape(shape)}, which takes ${formatCount(count)} values, but its int32_data holds ${formatCount(values.length)}.`, t.at, { expected: count, actual: values.length });
  }
  if (bytes === 0) return { info: { name, dtype, shape, offset: t.at, byteLength: 0 } };
  const data = new Uint8Array(bytes);
  const view = new DataView(data.buffer);
  values.forEach((v, i) => {
    if (v < 0 || v > 0xffff) throw fail("BAD_DTYPE", `is ${typeName}, but int32_data value ${i} is ${v}, which is not a 16-bit pattern.`, t.at, { actual: v });
    view.setUint16(i * 2, v, true);
  });
  return { info: attachData({ name, dtype, shape, offset: 0, byteLength: bytes }, data) };
}

/** INT64 / INT32 raw_data of a small tensor, read as numbers (shape constants). */
async function rawConstant(ctx: Ctx, source: ByteSource, t: TensorRec, shape: number[], count: number): Promise<{ constant?: IntConstant }> {
  // BOOL too: an If's constant condition.
  const width = t.dataType === 7 ? 8 : t.dataType === 6 ? 4 : t.dataType === 9 ? 1 : 0;
  if (width === 0 || count > MAX_CONSTANT_VALUES || !t.raw) return {};
  ctx.reader.count(t.raw.length, t.raw.offset);
  const bytes = new Uint8Array(t.raw.length);
  if (bytes.byteLength > 0) await source.readInto(t.raw.offset, bytes);
  const view = new DataView(bytes.buffer);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = width === 8 ? view.getBigInt64(i * 8, true) : width === 4 ? BigInt(view.getInt32(i * 4, true)) : BigInt(view.getUint8(i));
    // Shape arithmetic uses INT64_MAX / INT64_MIN as "to the end" in Slice; clamp into safe range.
    values.push(v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : v < -BigInt(Number.MAX_SAFE_INTEGER) ? -Number.MAX_SAFE_INTEGER : Number(v));
  }
  return { constant: { shape, values } };
}

function decimal(text: string, key: string, fail: (code: CntErrorCode, message: string) => CntError): number {
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw fail("OUT_OF_BOUNDS", `has external_data ${key} ${JSON.stringify(text.slice(0, 40))}, not a decimal integer in [0, 2^53).`);
  return n;
}

// ---------------------------------------------------------------------------------- layers

const ACTIVATIONS: Record<string, Activation> = {
  Relu: "relu", Tanh: "tanh", Sigmoid: "sigmoid", Softmax: "softmax", Gelu: "gelu", Elu: "elu", LeakyRelu: "leaky_relu", Softplus: "softplus",
};
/** ONNX op types by the graph walk's op names (src/graph/ops.ts); attributes the walk reads are copied as they are. */
const SIMPLE_OPS: Record<string, string> = {
  Flatten: "flatten", Reshape: "reshape", Dropout: "dropout", Identity: "identity", Add: "add", Concat: "concat", Pad: "pad", Upsample: "upsample", Resize: "upsample",
  Sub: "sub", Mul: "mul", Div: "div", Max: "max", Min: "min", Sum: "sum", Mean: "mean", Pow: "pow",
  Transpose: "transpose", Squeeze: "squeeze", Unsqueeze: "unsqueeze", Cast: "cast", CastLike: "cast",
  Split: "split", Slice: "slice", Gather: "gather", Shape: "shape", Size: "size", ConstantOfShape: "constant_of_shape",
  Range: "range", Expand: "expand", Tile: "tile", Equal: "compare", Less: "compare", Greater: "compare", LessOrEqual: "compare",
  GreaterOrEqual: "compare", Where: "where", Not: "activation", And: "compare", Or: "compare", NonZero: "nonzero",
  ReduceMean: "reduce", ReduceSum: "reduce", ReduceMax: "reduce", ReduceMin: "reduce", ReduceProd: "reduce", ReduceL1: "reduce",
  ReduceL2: "reduce", ReduceLogSumExp: "reduce", ReduceSumSquare: "reduce", MatMul: "matmul", Gemm: "matmul", Einsum: "einsum",
  Clip: "activation", HardSigmoid: "activation", HardSwish: "activation", Erf: "activation", Neg: "activation", Abs: "activation",
  Sqrt: "activation", Reciprocal: "activation", Exp: "activation", Log: "activation", Softsign: "activation", Selu: "activation",
  Celu: "activation", Mish: "activation", PRelu: "activation", LogSoftmax: "activation", Floor: "activation", Ceil: "activation",
  Round: "activation", Sign: "activation", Sin: "activation", Cos: "activation", ThresholdedRelu: "activation", Shrink: "activation",
  Trilu: "activation", DepthToSpace: "depth_to_space", SpaceToDepth: "space_to_depth", TopK: "topk", ArgMax: "argmax", ArgMin: "argmax",
};
/** Attributes the walk reads (shape inference and selections), copied as ints or an int. */
const WALK_ATTRIBUTES = ["perm", "axes", "axis", "keepdims", "split", "starts", "ends", "steps", "allowzero", "noop_with_empty_axes", "pads", "blocksize"];
const NORMS: Record<string, string> = { BatchNormalization: "batch_norm", LayerNormalization: "layer_norm", InstanceNormalization: "instance_norm", GroupNormalization: "group_norm" };

interface Placed {
  node: NodeRec;
  layers: LayerInfo[];
}

function buildLayers(ctx: Ctx, graph: GraphRec, byName: Map<string, Built>, notes: string[], fills: Map<NodeRec, number>): LayerInfo[] {
  const r = ctx.reader;
  const lookups = {
    ints: (name: string) => {
      const built = byName.get(name);
      return built && "constant" in built ? built.constant?.values : undefined;
    },
  };
  // Every node of every graph in order: a node, then its subgraphs' nodes.
  const flat: NodeRec[] = [];
  // Nodes of subgraphs (If/Loop/Scan bodies) run inside their parent op: the walk sees the parent only.
  const inSubgraph = new Map<NodeRec, string>();
  const flatten = (g: GraphRec, parent?: NodeRec) => {
    for (const node of g.nodes) {
      const branch = node.domain === "" && node.opType === "If" ? takenBranch(node, lookups) : undefined;
      if (branch) {
        // A constant condition: the branch taken is part of the graph, its outputs the If's (spec 1b: constants folded).
        flatten(branch.graph, parent);
        notes.push(`If ${quoteName(node.name || node.opType)} has a constant condition: its ${branch.which} branch is walked as part of the graph.`);
        branch.graph.outputs.forEach((o, i) => {
          if (node.outputs[i]) flat.push({ name: `${node.name || "If"}/${branch.which}:${i}`, opType: "Identity", domain: "", inputs: [o.name], outputs: [node.outputs[i]], attrs: new Map(), at: node.at, subgraphs: [] });
        });
        // The branch not taken: its weights still have their distributions.
        for (const sub of node.subgraphs) if (sub !== branch.graph) flatten(sub, node);
        continue;
      }
      flat.push(node);
      if (parent) inSubgraph.set(node, inSubgraph.get(parent) ?? (parent.name || parent.opType));
      for (const sub of node.subgraphs) flatten(sub, node);
    }
  };
  flatten(graph);
  const consumers = new Map<string, NodeRec[]>();
  for (const node of flat) {
    for (const input of node.inputs) {
      if (!input) continue;
      let list = consumers.get(input);
      if (!list) consumers.set(input, (list = []));
      list.push(node);
    }
  }

  const tensorOf = (name: string | undefined): PlacedTensorInfo | undefined => {
    if (!name) return undefined;
    const built = byName.get(name);
    return built && "info" in built ? built.info : undefined;
  };
  const names = new Set<string>();
  const layerName = (node: NodeRec, index: number) => {
    let base = node.name || `${node.opType || "node"}_${index}`;
    let name = base;
    for (let k = 2; names.has(name); k++) name = `${base}#${k}`;
    names.add(name);
    return name;
  };
  const nodeError = (node: NodeRec, code: CntErrorCode, message: string, tensor?: string) =>
    r.error(code, `node ${quoteName(node.name || node.opType)} (${node.opType}, at byte ${formatCount(node.at)}) ${message}`, node.at, tensor ? { tensor } : {});
  const attrInts = (node: NodeRec, key: string) => {
    const a = node.attrs.get(key);
    return a?.kind === "ints" ? [...a.value] : undefined;
  };
  const attrInt = (node: NodeRec, key: string, fallback: number) => {
    const a = node.attrs.get(key);
    return a?.kind === "i" ? a.value : fallback;
  };
  const attrFloat = (node: NodeRec, key: string) => {
    const a = node.attrs.get(key);
    return a?.kind === "f" ? a.value : undefined;
  };
  const attrString = (node: NodeRec, key: string, fallback: string) => {
    const a = node.attrs.get(key);
    return a?.kind === "s" && a.value !== undefined ? a.value : fallback;
  };
  const fill = (n: number, v: number) => new Array<number>(n).fill(v);

  const fused = new Set<NodeRec>();
  /** Output name -> the weighted layer it comes out of (for activations that follow). */
  const producer = new Map<string, LayerInfo>();
  const placed: Placed[] = [];
  /** Reads of a value as data (Shape and Size read only its shape). */
  const dataReaders = (value: string) => (consumers.get(value) ?? []).filter((n) => !(n.domain === "" && (n.opType === "Shape" || n.opType === "Size")));
  /**
   * A constant Add right after a weighted op that nothing else reads, one value per output node
   * (`fits` says which shapes are that), is the op's bias (spec 1b, settled cases).
   */
  const biasAdd = (node: NodeRec, nOut: number, fits: (shape: number[]) => boolean): { add: NodeRec; bias: string } | undefined => {
    const out = node.outputs[0];
    const next = dataReaders(out);
    const add = next.length === 1 && next[0].opType === "Add" && next[0].domain === "" && next[0].inputs.length === 2 ? next[0] : undefined;
    if (!add || fused.has(add)) return undefined;
    const other = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
    const b = tensorOf(other);
    if (!b || other === out || elements(b) !== nOut || !fits(b.shape)) return undefined;
    return { add, bias: b.name };
  };
  /** One value per feature of a dense output: [n], [1, n], [1, 1, n]. */
  const perFeature = (shape: number[]) => shape.length >= 1 && shape.slice(0, -1).every((d) => d === 1);


  flat.forEach((node, index) => {
    if (fused.has(node)) return;
    const here: Placed = { node, layers: [] };
    placed.push(here);
    const op = node.domain === "" || node.domain === "ai.onnx" ? node.opType : "";
    if (op === "Constant") return; // its tensor is placed where it is used
    const name = layerName(node, index);
    const none = (attributes: Record<string, number | number[] | string>) => {
      here.layers.push({ name, kind: "none", attributes, inputs: [...node.inputs], outputs: [...node.outputs] });
    };
    const weighted = (layer: LayerInfo, output = node.outputs[0], inputs = node.inputs, outputs?: string[]) => {
      layer.inputs = [...inputs];
      layer.outputs = outputs ?? (output === node.outputs[0] ? [...node.outputs] : [output]);
      here.layers.push(layer);
      if (output) producer.set(output, layer);
    };
    /** A dense layer, with the constant Add after it as its bias where it is one (biasAdd). */
    const denseWithBias = (layer: LayerInfo, nOut: number, inputs = node.inputs) => {
      const add = biasAdd(node, nOut, perFeature);
      if (!add) return weighted(layer, node.outputs[0], inputs);
      layer.bias = add.bias;
      fused.add(add.add);
      const output = add.add.outputs[0];
      // The product before the bias stays a value where its shape is read (the same shape).
      if ((consumers.get(node.outputs[0]) ?? []).length > 1) return weighted(layer, output, [...inputs, add.bias], [output, node.outputs[0]]);
      return weighted(layer, output, [...inputs, add.bias]);
    };

    switch (op) {
      case "Gemm": {
        const w = tensorOf(node.inputs[1]);
        // transA = 1 transposes the data: a layout the walk does not place (reported with a note).
        if (attrInt(node, "transA", 0) !== 0) return none({ op: "Gemm", transA: 1 });
        // B is data: a product the forward pass runs as it is (src/forward/ops/dense.ts), with Gemm's attributes.
        if (!w) return none({ op: "matmul", onnx: "Gemm", transB: attrInt(node, "transB", 0), alpha: attrFloat(node, "alpha") ?? 1, beta: attrFloat(node, "beta") ?? 1 });
        if (w.shape.length !== 2) throw nodeError(node, "BAD_SHAPE", `has weight ${quoteName(w.name)} of shape ${formatShape(w.shape)}, not a matrix.`, w.name);
        const transB = attrInt(node, "transB", 0) !== 0;
        const nOut = transB ? w.shape[0] : w.shape[1];
        const layer: LayerInfo = { name, kind: "dense", weight: w.name, weightLayout: transB ? "out_in" : "in_out" };
        const c = tensorOf(node.inputs[2]);
        if (c && c.shape.length >= 1 && c.shape.length <= 2 && elements(c) === nOut && c.shape.slice(0, -1).every((d) => d === 1)) layer.bias = c.name;
        const attributes: Record<string, number> = {};
        const alpha = attrFloat(node, "alpha"), beta = attrFloat(node, "beta");
        if (alpha !== undefined && alpha !== 1) attributes.alpha = alpha;
        if (beta !== undefined && beta !== 1) attributes.beta = beta;
        if (Object.keys(attributes).length > 0) layer.attributes = attributes;
        if (node.inputs[2]) return weighted(layer);
        return denseWithBias(layer, nOut);
      }
      case "MatMul": {
        const w = tensorOf(node.inputs[1]);
        if (!w || w.shape.length !== 2 || tensorOf(node.inputs[0])) return none({ op: "matmul" });
        return denseWithBias({ name, kind: "dense", weight: w.name, weightLayout: "in_out" }, w.shape[1]);
      }
      case "Einsum": {
        const equation = attrString(node, "equation", "");
        const weightAt = node.inputs.length === 2 ? node.inputs.findIndex((n) => tensorOf(n) !== undefined) : -1;
        const w = weightAt >= 0 ? tensorOf(node.inputs[weightAt]) : undefined;
        // Two data operands (attention): data-dependent mixing, a break (spec 1b).
        if (!w || tensorOf(node.inputs[1 - weightAt])) return none({ op: "einsum", equation });
        const dense = w.shape.length === 2 ? einsumAsDense(equation, weightAt) : { why: `its constant operand has shape ${formatShape(w.shape)}, not a matrix` };
        if ("why" in dense) {
          notes.push(`Einsum ${quoteName(name)} (${JSON.stringify(equation.slice(0, 80))}) has the constant operand ${quoteName(w.name)} but is not read as a dense layer: ${dense.why}. It is a break; the weight has its distribution.`);
          return none({ op: "einsum", equation });
        }
        const nOut = dense.layout === "in_out" ? w.shape[1] : w.shape[0];
        return denseWithBias({ name, kind: "dense", weight: w.name, weightLayout: dense.layout }, nOut, [node.inputs[1 - weightAt], w.name]);
      }
      case "Conv":
      case "ConvTranspose": {
        const transpose = op === "ConvTranspose";
        const w = tensorOf(node.inputs[1]);
        const kernel = attrInts(node, "kernel_shape");
        const rank = w ? w.shape.length : kernel ? kernel.length + 2 : undefined;
        if (rank === undefined) return none({ op });
        const spatial = Math.max(rank - 2, 0);
        const attributes: Record<string, number | number[] | string> = {
          stride: attrInts(node, "strides") ?? fill(spatial, 1),
          dilation: attrInts(node, "dilations") ?? fill(spatial, 1),
          pads: attrInts(node, "pads") ?? fill(2 * spatial, 0),
          autoPad: attrString(node, "auto_pad", "NOTSET").toLowerCase(),
          groups: attrInt(node, "group", 1),
        };
        if (!Number.isSafeInteger(attributes.groups) || (attributes.groups as number) < 1) throw nodeError(node, "BAD_HEADER", `has group = ${attributes.groups}; it must be a positive integer.`);
        if (transpose) {
          attributes.outputPadding = attrInts(node, "output_padding") ?? fill(spatial, 0);
          const outputShape = attrInts(node, "output_shape");
          if (outputShape) attributes.outputShape = outputShape;
        }
        const kind = transpose ? (rank === 4 ? "conv2d_transpose" : "other") : rank === 4 ? "conv2d" : rank === 3 ? "conv1d" : "other";
        if (kind === "other") attributes.op = `${transpose ? "conv_transpose" : "conv"}${spatial}d`;
        const inputs = node.inputs;
        const layer: LayerInfo = { name, kind, attributes };
        if (w) {
          layer.weight = w.name;
          if (kind !== "other") layer.weightLayout = transpose ? "iohw" : "oihw";
          const b = tensorOf(node.inputs[2]);
          if (b && b.shape.length === 1) layer.bias = b.name;
          // A constant Add of one value per output channel ([C, 1, 1], [1, C, 1, 1]) right after a conv without bias is its bias.
          const cOut = transpose ? w.shape[1] * (attributes.groups as number) : w.shape[0];
          const add = !node.inputs[2] && kind !== "other" && (consumers.get(node.outputs[0]) ?? []).length === 1
            ? biasAdd(node, cOut, (shape) => shape.length >= spatial + 1 && shape[shape.length - spatial - 1] === cOut && shape.every((d, i) => d === 1 || i === shape.length - spatial - 1))
            : undefined;
          if (add) {
            layer.bias = add.bias;
            fused.add(add.add);
            return weighted(layer, add.add.outputs[0], [...inputs, add.bias]);
          }
        }
        return weighted(layer, node.outputs[0], inputs);
      }
      case "RNN":
      case "LSTM":
      case "GRU": {
        const w = tensorOf(node.inputs[1]);
        const rw = tensorOf(node.inputs[2]);
        if (!w) return none({ op });
        if (w.shape.length !== 3) throw nodeError(node, "BAD_SHAPE", `has input weight ${quoteName(w.name)} of shape ${formatShape(w.shape)}; ONNX ${op} weights are [num_directions, gates × hidden, input].`, w.name);
        const kind = op === "RNN" ? "rnn" : op === "LSTM" ? "lstm" : "gru";
        const attributes: Record<string, number | number[] | string> = {
          hidden: attrInt(node, "hidden_size", rw && rw.shape.length === 3 ? rw.shape[2] : 0),
          direction: attrString(node, "direction", "forward"),
        };
        if (op === "LSTM") attributes.gateOrder = "iofc";
        if (op === "GRU") {
          attributes.gateOrder = "zrh";
          attributes.linearBeforeReset = attrInt(node, "linear_before_reset", 0);
        }
        // What the forward pass needs beyond the defaults: batch-major data, clipping, coupled gates, other activations.
        if (attrInt(node, "layout", 0) !== 0) attributes.layout = attrInt(node, "layout", 0);
        const clip = attrFloat(node, "clip");
        if (clip !== undefined) attributes.clip = clip;
        if (attrInt(node, "input_forget", 0) !== 0) attributes.inputForget = 1;
        const acts = node.attrs.get("activations");
        if (acts) attributes.activations = acts.kind === "strings" ? acts.value.map((a) => a ?? "?").join(",") : "?";
        const layer: LayerInfo = { name, kind, weight: w.name, weightLayout: "out_in", attributes };
        if (rw) layer.recurrentWeight = rw.name;
        const b = tensorOf(node.inputs[3]);
        if (b) layer.bias = b.name;
        return weighted(layer);
      }
      default:
        break;
    }
    if (op in NORMS) {
      const scale = tensorOf(node.inputs[1]);
      const layer: LayerInfo = { name, kind: "norm", attributes: { op: NORMS[op] } };
      const epsilon = attrFloat(node, "epsilon");
      if (epsilon !== undefined) layer.attributes!.epsilon = epsilon;
      // What the forward pass needs beyond the defaults: the groups, and where a layer norm starts.
      if (op === "GroupNormalization" && node.attrs.get("num_groups")?.kind === "i") layer.attributes!.num_groups = attrInt(node, "num_groups", 0);
      if (op === "LayerNormalization") layer.attributes!.axis = attrInt(node, "axis", -1);
      if (scale) layer.weight = scale.name;
      const b = tensorOf(node.inputs[2]);
      if (b) layer.bias = b.name;
      return weighted(layer);
    }
    if (op in ACTIVATIONS) {
      const activation = ACTIVATIONS[op];
      const before = producer.get(node.inputs[0]);
      if (before && before.activation === undefined) before.activation = activation;
      const attributes: Record<string, number | string> = { op: "activation" };
      const alpha = attrFloat(node, "alpha");
      if (alpha !== undefined) attributes.alpha = alpha;
      const approximate = node.attrs.get("approximate");
      if (approximate?.kind === "s" && approximate.value !== undefined) attributes.approximate = approximate.value;
      const axis = node.attrs.get("axis");
      if (axis?.kind === "i") attributes.axis = axis.value;
      here.layers.push({ name, kind: "none", activation, attributes, inputs: [...node.inputs], outputs: [...node.outputs] });
      return;
    }
    if (op === "MaxPool" || op === "AveragePool" || op === "LpPool") {
      const kernel = attrInts(node, "kernel_shape") ?? [];
      const attributes: Record<string, number | number[] | string> = {
        op: "pool",
        pool: op === "MaxPool" ? "max" : op === "AveragePool" ? "average" : "lp",
        kernel,
        stride: attrInts(node, "strides") ?? fill(kernel.length, 1),
        pads: attrInts(node, "pads") ?? fill(2 * kernel.length, 0),
        autoPad: attrString(node, "auto_pad", "NOTSET").toLowerCase(),
      };
      const dilations = attrInts(node, "dilations");
      if (dilations) attributes.dilation = dilations;
      if (attrInt(node, "ceil_mode", 0) !== 0) attributes.ceilMode = 1;
      // The forward pass divides an average by the taps on the image unless padding counts.
      if (op === "AveragePool" && attrInt(node, "count_include_pad", 0) !== 0) attributes.countIncludePad = 1;
      return none(attributes);
    }
    if (op === "GlobalAveragePool" || op === "GlobalMaxPool") return none({ op: "global_pool", pool: op === "GlobalMaxPool" ? "max" : "average" });
    if (Object.hasOwn(SIMPLE_OPS, op)) {
      const attributes: Record<string, number | number[] | string> = { op: SIMPLE_OPS[op] };
      if (SIMPLE_OPS[op] !== op.toLowerCase()) attributes.onnx = op;
      for (const key of WALK_ATTRIBUTES) {
        const a = node.attrs.get(key);
        if (a?.kind === "i") attributes[key] = a.value;
        else if (a?.kind === "ints") attributes[key] = [...a.value];
      }
      // Float parameters of activations (HardSigmoid alpha/beta, Selu gamma, Shrink lambd, Clip min/max before opset 11).
      if (SIMPLE_OPS[op] === "activation") for (const key of ["alpha", "beta", "gamma", "lambd", "bias", "min", "max"]) {
        const f = attrFloat(node, key);
        if (f !== undefined) attributes[key] = f;
      }
      const mode = node.attrs.get("mode");
      if (mode?.kind === "s" && mode.value !== undefined) attributes.mode = mode.value;
      // Resize: how output coordinates map to input ones (the forward pass reads them).
      for (const key of ["coordinate_transformation_mode", "nearest_mode", "keep_aspect_ratio_policy"]) {
        const a = node.attrs.get(key);
        if (op === "Resize" && a?.kind === "s" && a.value !== undefined) attributes[key] = a.value;
      }
      const antialias = node.attrs.get("antialias");
      if (op === "Resize" && antialias?.kind === "i" && antialias.value !== 0) attributes.antialias = antialias.value;
      // Pad before opset 11: the fill value is an attribute (a zero Pad read by a conv is its padding, src/graph/ops/pad.ts).
      const value = node.attrs.get("value");
      if (op === "Pad" && value?.kind === "f") attributes.value = value.value;
      // The forward pass: ConstantOfShape's fill (read before, fillValues), Cast's target type.
      if (op === "ConstantOfShape" && fills.has(node)) attributes.value = fills.get(node)!;
      if (op === "Cast" && node.attrs.get("to")?.kind === "i") attributes.to = attrInt(node, "to", 0);
      return none(attributes);
    }
    if (node.opType === "If" || node.opType === "Loop" || node.opType === "Scan") {
      const weights: string[] = [];
      const collect = (g: GraphRec) => {
        for (const t of g.initializers) if (tensorOf(t.name)) weights.push(t.name);
        for (const n of g.nodes) for (const sub of n.subgraphs) collect(sub);
      };
      node.subgraphs.forEach(collect);
      notes.push(node.opType === "If" ? `If ${quoteName(node.name || "If")}: its condition is not a constant in the file, so neither branch is walked; the node layers it reads and writes are left out${weights.length > 0 ? `, and the ${weights.length} weight tensor(s) of its branches are reported as distributions` : ""}.` : bodyNote(node, weights));
      return none({ op: node.opType, subgraphs: node.subgraphs.length });
    }
    none(node.domain && node.domain !== "ai.onnx" ? { op: node.opType, domain: node.domain } : { op: node.opType });
  });

  // Tensors no layer takes: `other` layers, before the first node that reads them.
  const used = new Set<string>();
  for (const p of placed) for (const l of p.layers) for (const t of [l.weight, l.bias, l.recurrentWeight, l.recurrentBias]) if (t) used.add(t);
  const layers: LayerInfo[] = [];
  const placedOther = new Set<string>();
  const other = (tensor: string) => {
    if (used.has(tensor) || placedOther.has(tensor) || !tensorOf(tensor)) return;
    placedOther.add(tensor);
    let name = tensor;
    for (let k = 2; names.has(name); k++) name = `${tensor}#${k}`;
    names.add(name);
    layers.push({ name, kind: "other", weight: tensor });
  };
  for (const p of placed) {
    for (const input of p.node.inputs) other(input);
    const parent = inSubgraph.get(p.node);
    if (parent !== undefined) for (const l of p.layers) (l.attributes ??= {}).subgraph = parent;
    layers.push(...p.layers);
  }
  for (const [tensor] of byName) other(tensor);
  return layers;
}

function elements(t: TensorInfo): number {
  return t.shape.reduce((a, d) => a * d, 1);
}

/** The first real input's shape without its first axis, when static; a Transpose right after it (NHWC -> NCHW) is applied. */
function graphInputShape(graph: GraphRec, byName: Map<string, Built>): number[] | undefined {
  const input = graph.inputs.find((i) => !byName.has(i.name));
  if (!input?.dims || input.dims.length < 2) return undefined;
  let dims = input.dims;
  const readers = graph.nodes.filter((n) => n.inputs.includes(input.name));
  if (readers.length === 1 && readers[0].opType === "Transpose") {
    const perm = readers[0].attrs.get("perm");
    if (perm?.kind === "ints" && perm.value.length === dims.length && perm.value[0] === 0 && [...perm.value].sort((a, b) => a - b).every((v, i) => v === i)) {
      dims = perm.value.map((p) => input.dims![p]);
    }
  }
  const rest = dims.slice(1);
  return rest.every((d): d is number => d !== undefined) ? rest : undefined;
}
