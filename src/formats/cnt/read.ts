/**
 * Reader of cntscope's own `.cnt` format (layout: schemas/model.fbs). Same shape as every reader:
 * detect by magic bytes, open to a verified ModelInfo. The order is the safety argument: prefix,
 * header length against the file size and maxHeaderBytes, then one allocation of exactly the
 * header, the verifier, and only then the generated accessors, whose output is converted to our
 * plain types at once and checked for meaning (semantics.ts).
 */
import { ByteBuffer } from "flatbuffers";
import { CntError, asCntError, formatCount, quoteName } from "../../errors.js";
import type { Limits } from "../../model/limits.js";
import { toSafeInteger } from "../../model/numbers.js";
import type { GraphInfo, LayerInfo, ModelInfo } from "../../model/types.js";
import { readBytes } from "../../source/read.js";
import type { ByteSource } from "../../source/types.js";
import { ACTIVATION_CODES, DTYPE_CODES, LAYER_KIND_CODES, WEIGHT_LAYOUT_CODES } from "./enums.js";
import {
  Attribute as _Attribute,
  Graph as _Graph,
  Layer as _Layer,
  Model as _Model,
  Tensor as _Tensor,
} from "./generated/model_generated.js";
import { CNT_VERSION, MAX_FLATBUFFER_BYTES, PREFIX_BYTES, dataStartFor } from "./layout.js";
import { checkGraph, checkLayers, placeTensors, type CntTensorStats, type DeclaredTensor } from "./semantics.js";
import { verifyCntHeader } from "./verify.js";
import { detectCnt } from "../detect.js";

const FORMAT = "cnt";

// ---------------------------------------------------------------------------------------------
// detect

export { detectCnt };

// ---------------------------------------------------------------------------------------------
// open

/** Everything a `.cnt` header says; `model` is what the analysis uses. */
export interface CntHeader {
  model: ModelInfo;
  /** Model name and producer as written in the header (the report names the file). */
  modelName: string | undefined;
  producer: string | undefined;
  /** Free-form key/value pairs; a Map so no key can touch an object prototype. */
  metadata: Map<string, string>;
  headerBytes: number;
  /** Absolute byte where the data region starts; TensorInfo offsets already include it. */
  dataStart: number;
}

/**
 * Read and verify a `.cnt` header; the tensors' bytes are not read.
 * @example const model = await openCnt(source, DEFAULT_LIMITS)
 */
export async function openCnt(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  return (await readCntHeader(source, limits)).model;
}

/**
 * Like openCnt, but also returns the header's name, producer, metadata and data-region start.
 * @example const { metadata } = await readCntHeader(source, DEFAULT_LIMITS)
 */
export async function readCntHeader(source: ByteSource, limits: Limits): Promise<CntHeader> {
  try {
    return await readVerifiedHeader(source, limits);
  } catch (error) {
    // Hostile input is refused by a check with its own code; an engine error (RangeError,
    // TypeError) reaching here is our bug and leaves as INTERNAL. A caller's abort passes through.
    if (error instanceof Error && error.name === "AbortError") throw error;
    throw asCntError(error, { format: FORMAT, file: source.name });
  }
}

async function readVerifiedHeader(source: ByteSource, limits: Limits): Promise<CntHeader> {
  const file = source.name;
  const headerBytes = await readPrefix(source, limits);
  // Its own ArrayBuffer (accessors cannot see past it), grown as a stream's bytes arrive.
  const header = await readOrTruncated(source, PREFIX_BYTES, headerBytes, `inside its ${formatCount(headerBytes)}-byte header`);
  verifyCntHeader(header, { file, limits });
  const dataStart = dataStartFor(headerBytes);
  const dataBytes = source.size === undefined ? undefined : source.size - dataStart;
  return convert(header, { file, bytes: source.size, dataStart, dataBytes, headerBytes });
}

/** Check the 16-byte prefix and return the header length H, bounded before anything is allocated from it. */
async function readPrefix(source: ByteSource, limits: Limits): Promise<number> {
  const file = source.name;
  const details = { format: FORMAT, file };
  if (source.size !== undefined && source.size < PREFIX_BYTES) {
    const text = source.size === 0 ? "is empty" : `has ${formatCount(source.size)} bytes`;
    throw new CntError("TRUNCATED", `The .cnt file ${quoteName(file)} ${text}, but the prefix alone needs ${PREFIX_BYTES}.`, { ...details, expected: PREFIX_BYTES, actual: source.size });
  }
  const prefix = await readOrTruncated(source, 0, PREFIX_BYTES, `before the end of its ${PREFIX_BYTES}-byte prefix`);
  if (!detectCnt(prefix)) {
    const got = Array.from(prefix.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new CntError("BAD_MAGIC", `The file ${quoteName(file)} does not start with the .cnt magic "CNTS" (43 4e 54 53); got bytes ${got}.`, { ...details, offset: 0 });
  }
  const view = new DataView(prefix.buffer);
  const version = view.getUint16(4, true);
  if (version !== CNT_VERSION) {
    throw new CntError("BAD_MAGIC", `The .cnt file ${quoteName(file)} has format version ${version}, but this reader reads version ${CNT_VERSION} at most.`, { ...details, offset: 4, expected: CNT_VERSION, actual: version });
  }
  if (view.getUint16(6, true) !== 0) {
    throw new CntError("BAD_HEADER", `The .cnt file ${quoteName(file)} has non-zero reserved bytes 6-7 in its prefix.`, { ...details, offset: 6 });
  }
  const declared = view.getBigUint64(8, true);
  if (source.size !== undefined && declared > BigInt(source.size - PREFIX_BYTES)) {
    throw new CntError(
      "TRUNCATED",
      `The .cnt file ${quoteName(file)} declares a ${formatCount(declared)}-byte header, but only ${formatCount(source.size - PREFIX_BYTES)} bytes follow the prefix.`,
      { ...details, offset: 8, expected: String(declared), actual: source.size - PREFIX_BYTES },
    );
  }
  // Compared as BigInt: a u64 above 2^53 must not be rounded into a plausible number first.
  const cap = Math.min(limits.maxHeaderBytes, MAX_FLATBUFFER_BYTES);
  if (declared > BigInt(cap)) {
    const key = cap === limits.maxHeaderBytes ? `the limit maxHeaderBytes = ${formatCount(cap)}; raise it in options.limits if the file is trusted` : `the FlatBuffers maximum of ${formatCount(cap)} bytes`;
    throw new CntError("TOO_LARGE", `The .cnt file ${quoteName(file)} declares a ${formatCount(declared)}-byte header, above ${key}.`, { ...details, offset: 8, expected: cap, actual: String(declared) });
  }
  return Number(declared);
}

/** Read from the source; a stream that ends early becomes TRUNCATED naming where in the file. */
async function readOrTruncated(source: ByteSource, offset: number, length: number, where: string): Promise<Uint8Array> {
  try {
    return await readBytes(source, offset, length);
  } catch (error) {
    if (error instanceof CntError && error.code === "TRUNCATED") {
      throw new CntError("TRUNCATED", `The .cnt file ${quoteName(source.name)} ends ${where}.`, { format: FORMAT, file: source.name, offset, cause: error });
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// convert: generated accessors (verified bytes only) -> plain types

interface Where {
  file: string;
  bytes: number | undefined;
  dataStart: number;
  dataBytes: number | undefined;
  headerBytes: number;
}

function convert(header: Uint8Array, where: Where): CntHeader {
  const { file } = where;
  const root = _Model.getRootAsModel(new ByteBuffer(header));
  if (root.formatVersion() !== CNT_VERSION) {
    throw new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} says format_version ${root.formatVersion()}, but its prefix says ${CNT_VERSION}.`, { format: FORMAT, file });
  }

  const declared: DeclaredTensor[] = [];
  for (let i = 0; i < root.tensorsLength(); i++) declared.push(readTensor(root.tensors(i)!, file));
  const tensors = placeTensors(declared, where);

  const layers: LayerInfo[] = [];
  for (let i = 0; i < root.layersLength(); i++) layers.push(readLayer(root.layers(i)!, file));
  checkLayers(layers, new Set(tensors.map((t) => t.name)), file);

  const metadata = new Map<string, string>();
  for (let i = 0; i < root.metadataLength(); i++) {
    const entry = root.metadata(i)!;
    const key = entry.key()!;
    if (metadata.has(key)) throw new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} has the metadata key ${quoteName(key)} twice.`, { format: FORMAT, file });
    metadata.set(key, entry.value() ?? "");
  }

  const model: ModelInfo = { format: FORMAT, name: file, bytes: where.bytes, tensors, layers };
  const dataFormat = root.dataFormat();
  if (dataFormat !== null) {
    if (dataFormat !== "channels_first" && dataFormat !== "channels_last") {
      throw new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} gives the data format ${quoteName(dataFormat)}; expected 'channels_first' or 'channels_last'.`, { format: FORMAT, file });
    }
    model.dataFormat = dataFormat;
  }
  if (root.inputShapeLength() > 0) {
    model.inputShape = [];
    for (let i = 0; i < root.inputShapeLength(); i++) {
      model.inputShape.push(toSafeInteger(root.inputShape(i)!, `Dim ${i} of the input shape of ${quoteName(file)}`, "BAD_SHAPE", { format: FORMAT, file }));
    }
  }
  const graph = root.graph();
  if (graph !== null) {
    model.graph = readGraph(graph, file);
    checkGraph(model.graph, file);
  }
  return { model, modelName: root.name() ?? undefined, producer: root.producer() ?? undefined, metadata, headerBytes: where.headerBytes, dataStart: where.dataStart };
}

function readTensor(t: _Tensor, file: string): DeclaredTensor {
  const name = t.name()!;
  const label = `tensor ${quoteName(name)} of the .cnt file ${quoteName(file)}`;
  const details = { format: FORMAT, file, tensor: name };
  const shape: number[] = [];
  for (let d = 0; d < t.shapeLength(); d++) shape.push(toSafeInteger(t.shape(d)!, `Dim ${d} of ${label}`, "BAD_SHAPE", details));
  const tensor: DeclaredTensor = {
    name,
    dtype: DTYPE_CODES[t.dtype()]!,
    shape,
    offset: toSafeInteger(t.offset(), `The data offset of ${label}`, "OUT_OF_BOUNDS", details),
    length: toSafeInteger(t.length(), `The byte length of ${label}`, "OUT_OF_BOUNDS", details),
  };
  if (t.hasStats()) {
    const stats: CntTensorStats = {
      // NaN in the file means "no finite value"; the plain type says that with null.
      min: Number.isNaN(t.min()) ? null : t.min(),
      max: Number.isNaN(t.max()) ? null : t.max(),
      nan: toSafeInteger(t.nan(), `The NaN count of ${label}`, "BAD_HEADER", details),
      posInf: toSafeInteger(t.posInf(), `The +Inf count of ${label}`, "BAD_HEADER", details),
      negInf: toSafeInteger(t.negInf(), `The -Inf count of ${label}`, "BAD_HEADER", details),
    };
    tensor.stats = stats;
  }
  return tensor;
}

function readLayer(l: _Layer, file: string): LayerInfo {
  const name = l.name()!;
  const layer: LayerInfo = { name, kind: LAYER_KIND_CODES[l.kind()]! };
  const weight = l.weight();
  if (weight !== null) layer.weight = weight;
  const layout = l.weightLayout();
  if (layout !== null) layer.weightLayout = WEIGHT_LAYOUT_CODES[layout]!;
  const bias = l.bias();
  if (bias !== null) layer.bias = bias;
  const recurrentWeight = l.recurrentWeight();
  if (recurrentWeight !== null) layer.recurrentWeight = recurrentWeight;
  const recurrentBias = l.recurrentBias();
  if (recurrentBias !== null) layer.recurrentBias = recurrentBias;
  const activation = l.activation();
  if (activation !== null) layer.activation = ACTIVATION_CODES[activation]!;
  if (l.attributesLength() > 0) {
    // Null prototype: keys come from the file ("__proto__" must stay a plain key).
    const attributes: Record<string, number | number[] | string> = Object.create(null);
    for (let i = 0; i < l.attributesLength(); i++) {
      const a = l.attributes(i)!;
      const key = a.key()!;
      if (Object.prototype.hasOwnProperty.call(attributes, key)) {
        throw new CntError("BAD_HEADER", `The .cnt header gives layer ${quoteName(name)} in ${quoteName(file)} the attribute ${quoteName(key)} twice.`, { format: FORMAT, file });
      }
      attributes[key] = readAttribute(a, `attribute ${quoteName(key)} of layer ${quoteName(name)} in ${quoteName(file)}`, file);
    }
    layer.attributes = attributes;
  }
  const inputs = readNames(l.hasInputs(), l.inputsLength(), (i) => l.inputs(i), `the layer ${quoteName(name)} (Layer.inputs)`, file);
  if (inputs !== undefined) layer.inputs = inputs;
  const outputs = readNames(l.hasOutputs(), l.outputsLength(), (i) => l.outputs(i), `the layer ${quoteName(name)} (Layer.outputs)`, file);
  if (outputs !== undefined) layer.outputs = outputs;
  return layer;
}

/** A list behind a has_ flag (schemas/model.fbs): undefined when the flag is off, and then it must be empty. */
function readNames(present: boolean, length: number, at: (i: number) => string, label: string, file: string): string[] | undefined {
  if (!present) {
    if (length > 0) throw new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} gives ${label} ${formatCount(length)} names, but its has_ flag says the list is absent.`, { format: FORMAT, file });
    return undefined;
  }
  return Array.from({ length }, (_, i) => at(i));
}

/** The graph section to GraphInfo; -1 dims become null, records get a null prototype (names come from the file). */
function readGraph(g: _Graph, file: string): GraphInfo {
  const details = { format: FORMAT, file };
  const duplicate = (field: string, name: string) =>
    new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} has ${field} ${quoteName(name)} twice.`, details);
  const flagOff = (field: string, length: number) =>
    new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} gives ${formatCount(length)} entries in ${field}, but its has_ flag says the list is absent.`, details);
  const dims = (length: number, at: (i: number) => bigint, label: string): (number | null)[] =>
    Array.from({ length }, (_, i) => {
      const d = at(i);
      if (d === -1n) return null;
      if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new CntError("BAD_HEADER", `Dim ${i} of ${label} in the .cnt header of ${quoteName(file)} is ${String(d)}; expected a non-negative integer below 2^53, or -1 for a symbolic dim.`, details);
      }
      return Number(d);
    });

  const graph: GraphInfo = { inputs: [], outputs: [] };
  for (let i = 0; i < g.inputsLength(); i++) {
    const input = g.inputs(i)!;
    const name = input.name()!;
    const entry: GraphInfo["inputs"][number] = { name };
    const label = `the graph input ${quoteName(name)} (Graph.inputs[${i}].shape)`;
    if (input.hasShape()) entry.shape = dims(input.shapeLength(), (d) => input.shape(d)!, label);
    else if (input.shapeLength() > 0) throw flagOff(label, input.shapeLength());
    const dtype = input.dtype();
    if (dtype !== null) entry.dtype = dtype;
    graph.inputs.push(entry);
  }
  graph.outputs = Array.from({ length: g.outputsLength() }, (_, i) => g.outputs(i));

  if (g.hasConstants()) {
    const constants: NonNullable<GraphInfo["constants"]> = Object.create(null);
    for (let i = 0; i < g.constantsLength(); i++) {
      const c = g.constants(i)!;
      const name = c.name()!;
      if (Object.prototype.hasOwnProperty.call(constants, name)) throw duplicate("the graph constant (Graph.constants)", name);
      const shape = Array.from({ length: c.shapeLength() }, (_, d) =>
        toSafeInteger(c.shape(d)!, `Dim ${d} of the graph constant ${quoteName(name)} (Graph.constants[${i}].shape) in ${quoteName(file)}`, "BAD_HEADER", details));
      const constant: NonNullable<GraphInfo["constants"]>[string] = { shape, values: Array.from({ length: c.valuesLength() }, (_, k) => c.values(k)!) };
      const isFloat = c.isFloat();
      if (isFloat !== null) constant.float = isFloat;
      constants[name] = constant;
    }
    graph.constants = constants;
  } else if (g.constantsLength() > 0) throw flagOff("Graph.constants", g.constantsLength());

  if (g.hasShapes()) {
    const shapes: NonNullable<GraphInfo["shapes"]> = Object.create(null);
    for (let i = 0; i < g.shapesLength(); i++) {
      const v = g.shapes(i)!;
      const name = v.name()!;
      if (Object.prototype.hasOwnProperty.call(shapes, name)) throw duplicate("the value shape (Graph.shapes)", name);
      shapes[name] = dims(v.dimsLength(), (d) => v.dims(d)!, `the value shape ${quoteName(name)} (Graph.shapes[${i}].dims)`);
    }
    graph.shapes = shapes;
  } else if (g.shapesLength() > 0) throw flagOff("Graph.shapes", g.shapesLength());
  return graph;
}

/**
 * At most one of ints, floats, text is non-empty; `list` false means a scalar (exactly one value).
 * An empty list is `list` true with no values (the TS accessors cannot tell an empty vector from none).
 */
function readAttribute(a: _Attribute, label: string, file: string): number | number[] | string {
  const details = { format: FORMAT, file };
  const text = a.text();
  const filled = [text !== null, a.intsLength() > 0, a.floatsLength() > 0].filter(Boolean).length;
  if (filled > 1) {
    throw new CntError("BAD_HEADER", `The .cnt ${label} fills ${filled} of ints, floats and text; expected one.`, details);
  }
  if (text !== null) return text;
  const values: number[] = [];
  for (let i = 0; i < a.intsLength(); i++) values.push(signedSafe(a.ints(i)!, `Element ${i} of the ${label}`, details));
  for (let i = 0; i < a.floatsLength(); i++) values.push(a.floats(i)!);
  if (a.list()) return values;
  if (values.length !== 1) {
    throw new CntError("BAD_HEADER", `The .cnt ${label} is a scalar but holds ${values.length} values.`, details);
  }
  return values[0]!;
}

function signedSafe(value: bigint, what: string, details: { format: string; file: string }): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CntError("BAD_HEADER", `${what} is ${String(value)}, outside the safe integer range (-2^53, 2^53).`, details);
  }
  return Number(value);
}
