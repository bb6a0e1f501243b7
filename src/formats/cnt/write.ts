/**
 * Writer of the `.cnt` format (layout: schemas/model.fbs). encodeCntHeader builds the prefix,
 * FlatBuffer and padding and assigns every tensor a 64-aligned offset; writeCnt streams the file
 * chunk by chunk. The input is checked with the same rules the reader enforces, so the writer
 * cannot produce a file that openCnt refuses (limits aside: those belong to the reader).
 */
import { Builder } from "flatbuffers";
import { CntError, formatCount, quoteName, formatShape } from "../../errors.js";
import { checkedProduct } from "../../model/numbers.js";
import { DTYPE_BYTES, type DType, type GraphInfo, type LayerInfo } from "../../model/types.js";
import { ACTIVATION_CODES, DTYPE_CODES, LAYER_KIND_CODES, WEIGHT_LAYOUT_CODES, codeOf } from "./enums.js";
// The writer is the one other importer of generated code (STYLE habit 3 names only the reader, read.ts): the
// builders are the only correct way to lay out a FlatBuffer, and Arrow's writer does the same.
import {
  Attribute as _Attribute,
  Constant as _Constant,
  Graph as _Graph,
  GraphInput as _GraphInput,
  KeyValue as _KeyValue,
  Layer as _Layer,
  Model as _Model,
  Tensor as _Tensor,
  ValueShape as _ValueShape,
} from "./generated/model_generated.js";
import { CNT_VERSION, PREFIX_BYTES, alignUp, dataStartFor, encodePrefix } from "./layout.js";
import { checkGraph, checkLayers, checkStats } from "./semantics.js";

/** One tensor to write: its bytes come later, from writeCnt's `tensorBytes`. */
export interface CntTensorInput {
  name: string;
  dtype: DType;
  shape: readonly number[];
  byteLength: number;
  /** Of the values widened to f32; min/max over finite values only, null when there is none. */
  stats?: { min: number | null; max: number | null; nan: number; posInf: number; negInf: number };
}

export interface CntModelInput {
  name: string;
  /** Tool that wrote the file; defaults to "cntscope". */
  producer?: string;
  inputShape?: readonly number[];
  dataFormat?: "channels_first" | "channels_last";
  layers: readonly LayerInfo[];
  /** Written in this order; each gets the next 64-aligned offset. */
  tensors: readonly CntTensorInput[];
  metadata?: Readonly<Record<string, string>>;
  /** Graph files: inputs, outputs, constants and value shapes (the layers then carry inputs and outputs). */
  graph?: GraphInfo;
}

export interface CntHead {
  /** Prefix + FlatBuffer header + zero padding up to the data region. */
  head: Uint8Array;
  /** Offset of each tensor relative to the data region, in input order; multiples of 64. */
  offsets: number[];
  /** Size of the data region, each tensor padded to 64 bytes. */
  dataBytes: number;
}

/**
 * Encode everything before the data region and place the tensors.
 * @example const { head, offsets } = encodeCntHeader({ name: "mlp", layers, tensors })
 */
export function encodeCntHeader(model: CntModelInput): CntHead {
  const offsets = placeTensors(model.tensors);
  checkLayerInputs(model);
  if (model.graph !== undefined) checkGraphInput(model.graph, model.name);
  const b = new Builder(1024);

  const tensorTables = model.tensors.map((t, i) => writeTensor(b, t, offsets[i]!));
  const layerTables = model.layers.map((layer) => writeLayer(b, layer));
  const metadataTables = Object.entries(model.metadata ?? {}).map(([key, value]) =>
    _KeyValue.createKeyValue(b, b.createString(key), b.createString(value)));

  const producer = b.createString(model.producer ?? "cntscope");
  const name = b.createString(model.name);
  const inputShape = model.inputShape === undefined ? 0 : _Model.createInputShapeVector(b, u64s(model.inputShape, "input shape"));
  const dataFormat = model.dataFormat === undefined ? 0 : b.createString(model.dataFormat);
  const layers = _Model.createLayersVector(b, layerTables);
  const tensors = _Model.createTensorsVector(b, tensorTables);
  const metadata = _Model.createMetadataVector(b, metadataTables);
  const graph = model.graph === undefined ? 0 : writeGraph(b, model.graph);
  _Model.startModel(b);
  _Model.addFormatVersion(b, CNT_VERSION);
  _Model.addProducer(b, producer);
  _Model.addName(b, name);
  if (inputShape !== 0) _Model.addInputShape(b, inputShape);
  _Model.addLayers(b, layers);
  _Model.addTensors(b, tensors);
  _Model.addMetadata(b, metadata);
  if (dataFormat !== 0) _Model.addDataFormat(b, dataFormat);
  if (graph !== 0) _Model.addGraph(b, graph);
  _Model.finishModelBuffer(b, _Model.endModel(b));

  const header = b.asUint8Array();
  const dataStart = dataStartFor(header.length);
  const head = new Uint8Array(dataStart);
  head.set(encodePrefix(header.length), 0);
  head.set(header, PREFIX_BYTES);
  const last = model.tensors.length - 1;
  const dataBytes = last < 0 ? 0 : alignUp(offsets[last]! + model.tensors[last]!.byteLength);
  if (!Number.isSafeInteger(dataStart + dataBytes)) {
    throw new CntError("TOO_LARGE", `The .cnt file would be ${formatCount(dataStart + dataBytes)} bytes, above 2^53.`, { format: "cnt" });
  }
  return { head, offsets, dataBytes };
}

/**
 * Stream a whole `.cnt` file: the head, then each tensor's chunks and zero padding to 64 bytes.
 * Holds one chunk at a time; `tensorBytes(i)` must yield exactly tensors[i].byteLength bytes.
 * @example for await (const chunk of writeCnt(model, (i) => chunksOf(i))) await file.write(chunk)
 */
export async function* writeCnt(model: CntModelInput, tensorBytes: (index: number) => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const { head } = encodeCntHeader(model);
  yield head;
  for (let i = 0; i < model.tensors.length; i++) {
    const { name, byteLength } = model.tensors[i]!;
    let written = 0;
    for await (const chunk of tensorBytes(i)) {
      written += chunk.length;
      if (written > byteLength) {
        throw new CntError("BAD_SHAPE", `Tensor ${quoteName(name)} gave more than its declared ${formatCount(byteLength)} bytes.`, { format: "cnt", tensor: name, expected: byteLength });
      }
      if (chunk.length > 0) yield chunk;
    }
    if (written < byteLength) {
      throw new CntError("TRUNCATED", `Tensor ${quoteName(name)} gave ${formatCount(written)} bytes, but declares ${formatCount(byteLength)}.`, { format: "cnt", tensor: name, expected: byteLength, actual: written });
    }
    const padding = alignUp(written) - written;
    if (padding > 0) yield new Uint8Array(padding);
  }
}

// ---------------------------------------------------------------------------------------------
// validation: the reader's rules, applied to the caller's model

/** Check names, dtypes and byte lengths; return the relative offsets (each 64-aligned, in order). */
function placeTensors(tensors: readonly CntTensorInput[]): number[] {
  const seen = new Set<string>();
  const offsets: number[] = [];
  let next = 0;
  for (const t of tensors) {
    const details = { format: "cnt", tensor: t.name };
    if (seen.has(t.name)) throw new CntError("BAD_HEADER", `Tensor name ${quoteName(t.name)} appears twice; tensor names must be unique.`, details);
    seen.add(t.name);
    if (codeOf(DTYPE_CODES, t.dtype) < 0) {
      throw new CntError("BAD_DTYPE", `Tensor ${quoteName(t.name)} has dtype ${JSON.stringify(t.dtype)}; .cnt stores ${DTYPE_CODES.join(", ")}.`, details);
    }
    const count = checkedProduct(t.shape, `The shape of tensor ${quoteName(t.name)}`, details);
    const expected = count * DTYPE_BYTES[t.dtype];
    if (!Number.isSafeInteger(expected) || t.byteLength !== expected) {
      throw new CntError("BAD_DTYPE", `Tensor ${quoteName(t.name)} (${t.dtype}, shape ${formatShape(t.shape)}) declares ${String(t.byteLength)} bytes, but its elements take ${formatCount(expected)}.`, { ...details, expected, actual: t.byteLength });
    }
    if (t.stats) {
      for (const key of ["nan", "posInf", "negInf"] as const) {
        if (!Number.isSafeInteger(t.stats[key]) || t.stats[key] < 0) {
          throw new CntError("BAD_HEADER", `Tensor ${quoteName(t.name)} has stats.${key} = ${String(t.stats[key])}, not a count.`, details);
        }
      }
      checkStats(t.stats, count, `tensor ${quoteName(t.name)}`, details);
    }
    offsets.push(next);
    next = alignUp(next + t.byteLength);
  }
  return offsets;
}

function checkLayerInputs(model: CntModelInput): void {
  checkLayers(model.layers, new Set(model.tensors.map((t) => t.name)), model.name);
  for (const layer of model.layers) {
    const fail = (what: string) => new CntError("BAD_HEADER", `Layer ${quoteName(layer.name)} has ${what}, which .cnt cannot store.`, { format: "cnt" });
    if (codeOf(LAYER_KIND_CODES, layer.kind) < 0) throw fail(`kind ${JSON.stringify(layer.kind)}`);
    if (layer.weightLayout !== undefined && codeOf(WEIGHT_LAYOUT_CODES, layer.weightLayout) < 0) throw fail(`weight layout ${JSON.stringify(layer.weightLayout)}`);
    if (layer.activation !== undefined && codeOf(ACTIVATION_CODES, layer.activation) < 0) throw fail(`activation ${JSON.stringify(layer.activation)}`);
    for (const [key, value] of Object.entries(layer.attributes ?? {})) {
      const ok = typeof value === "string" || typeof value === "number" || (Array.isArray(value) && value.every((v) => typeof v === "number"));
      if (!ok) throw fail(`attribute ${quoteName(key)} of type ${typeof value}`);
    }
    for (const key of ["inputs", "outputs"] as const) {
      const names = layer[key];
      if (names !== undefined && !isStringList(names)) throw fail(`${key} that are not a list of strings`);
    }
  }
}

/** Plain-JS callers can hand in anything: the types first, then the reader's own rules (checkGraph). */
function checkGraphInput(graph: GraphInfo, file: string): void {
  const fail = (what: string) => new CntError("BAD_HEADER", `The graph of ${quoteName(file)} has ${what}, which .cnt cannot store.`, { format: "cnt" });
  if (!Array.isArray(graph.inputs) || !isStringList(graph.outputs)) throw fail("inputs or outputs that are not lists");
  for (const input of graph.inputs) {
    if (typeof input?.name !== "string") throw fail("an input without a name");
    if (input.shape !== undefined && !isDimList(input.shape)) throw fail(`input ${quoteName(input.name)} with a shape that is not a list of numbers and nulls`);
    if (input.dtype !== undefined && typeof input.dtype !== "string") throw fail(`input ${quoteName(input.name)} with a dtype that is not a string`);
  }
  for (const [name, c] of Object.entries(graph.constants ?? {})) {
    const ok = Array.isArray(c?.shape) && Array.isArray(c.values) && c.values.every((v) => typeof v === "number") && (c.float === undefined || typeof c.float === "boolean");
    if (!ok) throw fail(`constant ${quoteName(name)} that is not { shape, values, float? }`);
  }
  for (const [name, dims] of Object.entries(graph.shapes ?? {})) if (!isDimList(dims)) throw fail(`value shape ${quoteName(name)} that is not a list of numbers and nulls`);
  checkGraph(graph, file);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function isDimList(value: unknown): value is (number | null)[] {
  return Array.isArray(value) && value.every((v) => v === null || typeof v === "number");
}

// ---------------------------------------------------------------------------------------------
// FlatBuffer tables, children before parents as the builder requires

function writeTensor(b: Builder, t: CntTensorInput, offset: number): number {
  const name = b.createString(t.name);
  const shape = _Tensor.createShapeVector(b, u64s(t.shape, `shape of ${quoteName(t.name)}`));
  _Tensor.startTensor(b);
  _Tensor.addName(b, name);
  _Tensor.addDtype(b, codeOf(DTYPE_CODES, t.dtype));
  _Tensor.addShape(b, shape);
  _Tensor.addOffset(b, BigInt(offset));
  _Tensor.addLength(b, BigInt(t.byteLength));
  if (t.stats) {
    _Tensor.addHasStats(b, true);
    // NaN says "no finite value" (null in our types); NaN is never a min/max otherwise.
    _Tensor.addMin(b, t.stats.min ?? Number.NaN);
    _Tensor.addMax(b, t.stats.max ?? Number.NaN);
    _Tensor.addNan(b, BigInt(t.stats.nan));
    _Tensor.addPosInf(b, BigInt(t.stats.posInf));
    _Tensor.addNegInf(b, BigInt(t.stats.negInf));
  }
  return _Tensor.endTensor(b);
}

function writeLayer(b: Builder, layer: LayerInfo): number {
  const name = b.createString(layer.name);
  const weight = layer.weight === undefined ? 0 : b.createString(layer.weight);
  const bias = layer.bias === undefined ? 0 : b.createString(layer.bias);
  const recurrentWeight = layer.recurrentWeight === undefined ? 0 : b.createString(layer.recurrentWeight);
  const recurrentBias = layer.recurrentBias === undefined ? 0 : b.createString(layer.recurrentBias);
  const attributes = layer.attributes === undefined
    ? 0
    : _Layer.createAttributesVector(b, Object.entries(layer.attributes).map(([key, value]) => writeAttribute(b, key, value)));
  const inputs = layer.inputs === undefined ? 0 : _Layer.createInputsVector(b, layer.inputs.map((n) => b.createString(n)));
  const outputs = layer.outputs === undefined ? 0 : _Layer.createOutputsVector(b, layer.outputs.map((n) => b.createString(n)));
  _Layer.startLayer(b);
  _Layer.addName(b, name);
  _Layer.addKind(b, codeOf(LAYER_KIND_CODES, layer.kind));
  if (weight !== 0) _Layer.addWeight(b, weight);
  if (bias !== 0) _Layer.addBias(b, bias);
  if (recurrentWeight !== 0) _Layer.addRecurrentWeight(b, recurrentWeight);
  if (recurrentBias !== 0) _Layer.addRecurrentBias(b, recurrentBias);
  // flatc 2.0.8 emits optional-scalar adders with default 0 instead of null, so InOut (0) and
  // Linear (0) would be dropped and read back as "absent"; forcing defaults writes them.
  b.forceDefaults(true);
  if (layer.weightLayout !== undefined) _Layer.addWeightLayout(b, codeOf(WEIGHT_LAYOUT_CODES, layer.weightLayout));
  if (layer.activation !== undefined) _Layer.addActivation(b, codeOf(ACTIVATION_CODES, layer.activation));
  b.forceDefaults(false);
  if (attributes !== 0) _Layer.addAttributes(b, attributes);
  // The has_ flags say "present" (schemas/model.fbs): an empty list stays an empty list.
  if (inputs !== 0) {
    _Layer.addInputs(b, inputs);
    _Layer.addHasInputs(b, true);
  }
  if (outputs !== 0) {
    _Layer.addOutputs(b, outputs);
    _Layer.addHasOutputs(b, true);
  }
  return _Layer.endLayer(b);
}

function writeGraph(b: Builder, graph: GraphInfo): number {
  const inputTables = graph.inputs.map((input) => {
    const name = b.createString(input.name);
    const shape = input.shape === undefined ? 0 : _GraphInput.createShapeVector(b, symbolicDims(input.shape));
    const dtype = input.dtype === undefined ? 0 : b.createString(input.dtype);
    _GraphInput.startGraphInput(b);
    _GraphInput.addName(b, name);
    if (shape !== 0) {
      _GraphInput.addShape(b, shape);
      _GraphInput.addHasShape(b, true);
    }
    if (dtype !== 0) _GraphInput.addDtype(b, dtype);
    return _GraphInput.endGraphInput(b);
  });
  const constantTables = graph.constants === undefined ? undefined : Object.entries(graph.constants).map(([key, c]) => {
    const name = b.createString(key);
    const shape = _Constant.createShapeVector(b, c.shape.map((d) => BigInt(d)));
    const values = _Constant.createValuesVector(b, c.values);
    _Constant.startConstant(b);
    _Constant.addName(b, name);
    _Constant.addShape(b, shape);
    _Constant.addValues(b, values);
    // Optional bool: false is the adder's default and would be dropped (see writeLayer).
    b.forceDefaults(true);
    if (c.float !== undefined) _Constant.addIsFloat(b, c.float);
    b.forceDefaults(false);
    return _Constant.endConstant(b);
  });
  const shapeTables = graph.shapes === undefined ? undefined : Object.entries(graph.shapes).map(([key, dims]) => {
    const name = b.createString(key);
    const vector = _ValueShape.createDimsVector(b, symbolicDims(dims));
    _ValueShape.startValueShape(b);
    _ValueShape.addName(b, name);
    _ValueShape.addDims(b, vector);
    return _ValueShape.endValueShape(b);
  });
  const inputs = _Graph.createInputsVector(b, inputTables);
  const outputs = _Graph.createOutputsVector(b, graph.outputs.map((o) => b.createString(o)));
  const constants = constantTables === undefined ? 0 : _Graph.createConstantsVector(b, constantTables);
  const shapes = shapeTables === undefined ? 0 : _Graph.createShapesVector(b, shapeTables);
  _Graph.startGraph(b);
  _Graph.addInputs(b, inputs);
  _Graph.addOutputs(b, outputs);
  if (constants !== 0) {
    _Graph.addConstants(b, constants);
    _Graph.addHasConstants(b, true);
  }
  if (shapes !== 0) {
    _Graph.addShapes(b, shapes);
    _Graph.addHasShapes(b, true);
  }
  return _Graph.endGraph(b);
}

/** Graph-section shapes: null (a symbolic dim) is -1; checkGraph has made every other dim a non-negative safe integer. */
function symbolicDims(dims: readonly (number | null)[]): bigint[] {
  return dims.map((d) => (d === null ? -1n : BigInt(d)));
}

/** Scalars are one-element vectors with `list` false; all-integer numbers go to ints, others to floats. */
function writeAttribute(b: Builder, key: string, value: number | number[] | string): number {
  const keyOffset = b.createString(key);
  if (typeof value === "string") {
    const text = b.createString(value);
    _Attribute.startAttribute(b);
    _Attribute.addKey(b, keyOffset);
    _Attribute.addText(b, text);
    return _Attribute.endAttribute(b);
  }
  const values = typeof value === "number" ? [value] : value;
  const integers = values.every((v) => Number.isSafeInteger(v));
  const vector = values.length === 0
    ? 0
    : integers
      ? _Attribute.createIntsVector(b, values.map((v) => BigInt(v)))
      : _Attribute.createFloatsVector(b, values);
  _Attribute.startAttribute(b);
  _Attribute.addKey(b, keyOffset);
  if (vector !== 0) (integers ? _Attribute.addInts : _Attribute.addFloats)(b, vector);
  _Attribute.addList(b, Array.isArray(value));
  return _Attribute.endAttribute(b);
}

function u64s(dims: readonly number[], what: string): bigint[] {
  return dims.map((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) throw new CntError("BAD_SHAPE", `Dim ${i} of the ${what} is ${String(d)}, not a non-negative integer.`, { format: "cnt" });
    return BigInt(d);
  });
}
