/**
 * Writer of the `.cnt` format (layout: schemas/model.fbs). encodeCntHeader builds the prefix,
 * FlatBuffer and padding and assigns every tensor a 64-aligned offset; writeCnt streams the file
 * chunk by chunk. The input is checked with the same rules the reader enforces, so the writer
 * cannot produce a file that openCnt refuses (limits aside: those belong to the reader).
 */
import { Builder } from "flatbuffers";
import { CntError, formatCount, quoteName } from "../errors.js";
import { checkedProduct } from "../model/numbers.js";
import { DTYPE_BYTES, type DType, type LayerInfo } from "../model/types.js";
import { ACTIVATION_CODES, DTYPE_CODES, LAYER_KIND_CODES, WEIGHT_LAYOUT_CODES, codeOf } from "./enums.js";
// The writer is the one other importer of generated code (STYLE habit 3 names only cnt.ts): the
// builders are the only correct way to lay out a FlatBuffer, and Arrow's writer does the same.
import {
  Attribute as _Attribute,
  KeyValue as _KeyValue,
  Layer as _Layer,
  Model as _Model,
  Tensor as _Tensor,
} from "./generated/model_generated.js";
import { CNT_VERSION, PREFIX_BYTES, alignUp, dataStartFor, encodePrefix } from "./layout.js";
import { checkLayers, checkStats } from "./semantics.js";

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
  _Model.startModel(b);
  _Model.addFormatVersion(b, CNT_VERSION);
  _Model.addProducer(b, producer);
  _Model.addName(b, name);
  if (inputShape !== 0) _Model.addInputShape(b, inputShape);
  _Model.addLayers(b, layers);
  _Model.addTensors(b, tensors);
  _Model.addMetadata(b, metadata);
  if (dataFormat !== 0) _Model.addDataFormat(b, dataFormat);
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
      throw new CntError("BAD_DTYPE", `Tensor ${quoteName(t.name)} (${t.dtype}, shape [${t.shape.join(", ")}]) declares ${String(t.byteLength)} bytes, but its elements take ${formatCount(expected)}.`, { ...details, expected, actual: t.byteLength });
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
  }
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
  return _Layer.endLayer(b);
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
