/**
 * Builders for `.cnt` test files: a small valid model through our writer, a raw builder that
 * writes any field value (the writer refuses bad ones, the reader must too), and helpers that
 * find a field's byte in a header so a test can forge exactly one thing.
 */
import { Builder } from "flatbuffers";
import * as assert from "uvu/assert";
import { CntError } from "../../../src/errors.js";
import { writeCnt, type CntModelInput } from "../../../src/formats/cnt/write.js";
import { Constant, Graph, GraphInput, Layer, Model, Tensor, ValueShape } from "../../../src/formats/cnt/generated/model_generated.js";
import { PREFIX_BYTES, dataStartFor, encodePrefix } from "../../../src/formats/cnt/layout.js";
import { DEFAULT_LIMITS, type Limits } from "../../../src/model/limits.js";

export const SAMPLE: CntModelInput = {
  name: "tiny-mlp",
  producer: "cntscope test",
  inputShape: [4],
  metadata: { source: "unit test", ["__proto__"]: "a plain key" },
  tensors: [
    { name: "fc1.weight", dtype: "f32", shape: [3, 4], byteLength: 48, stats: { min: -1.5, max: 2.25, nan: 1, posInf: 2, negInf: 0 } },
    { name: "fc1.bias", dtype: "f32", shape: [3], byteLength: 12 },
    { name: "fc2.weight", dtype: "f16", shape: [2, 3], byteLength: 12, stats: { min: null, max: null, nan: 6, posInf: 0, negInf: 0 } },
    { name: "fc2.bias", dtype: "bf16", shape: [2], byteLength: 4 },
    { name: "scale", dtype: "f64", shape: [], byteLength: 8 },
    { name: "empty", dtype: "f32", shape: [0, 5], byteLength: 0 },
  ],
  layers: [
    {
      name: "fc1", kind: "dense", weight: "fc1.weight", bias: "fc1.bias", weightLayout: "out_in", activation: "relu",
      attributes: { units: 3, alpha: 0.25, strides: [1, 2], scales: [0.5, 1.5], none: [], padding: "same", ["__proto__"]: 7 },
    },
    // InOut and Linear are wire code 0: they must survive the round trip as set values.
    { name: "fc2", kind: "dense", weight: "fc2.weight", bias: "fc2.bias", weightLayout: "in_out", activation: "linear" },
    { name: "flatten", kind: "none" },
  ],
};

/** Record with a null prototype, as readers build them from file keys ("__proto__" stays a plain key). */
export function record<T>(entries: [string, T][]): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/**
 * A small graph file: wiring with an absent optional input (""), a layer that reads nothing and
 * one that writes nothing (present, empty lists), a subgraph op, a layer with no wiring at all,
 * and a graph section with symbolic dims, a scalar and an unknown input shape, integer and float
 * constants (float flag true, false and unsaid) and declared value shapes.
 */
export const GRAPH_SAMPLE: CntModelInput = {
  name: "tiny-graph",
  producer: "cntscope test",
  dataFormat: "channels_first",
  tensors: [
    { name: "conv.w", dtype: "f32", shape: [2, 1, 3, 3], byteLength: 72 },
    { name: "conv.b", dtype: "f32", shape: [2], byteLength: 8 },
    { name: "fc.w", dtype: "f32", shape: [3, 16], byteLength: 192 },
    { name: "stray", dtype: "f32", shape: [4], byteLength: 16 },
  ],
  layers: [
    { name: "/conv/Conv", kind: "conv2d", weight: "conv.w", bias: "conv.b", weightLayout: "oihw", attributes: { stride: [1, 1], pads: [1, 1, 1, 1] }, inputs: ["input", "conv.w", "conv.b"], outputs: ["/conv/Conv_output_0"] },
    { name: "/Reshape", kind: "none", attributes: { op: "reshape" }, inputs: ["/conv/Conv_output_0", "target"], outputs: ["/Reshape_output_0"] },
    { name: "/fc/Gemm", kind: "dense", weight: "fc.w", weightLayout: "out_in", inputs: ["/Reshape_output_0", "fc.w", ""], outputs: ["logits"] },
    { name: "/If", kind: "none", attributes: { op: "If", subgraphs: 1 }, inputs: ["cond"], outputs: [] },
    { name: "/If/then/Constant", kind: "none", attributes: { op: "constant", subgraph: "/If" }, inputs: [], outputs: ["then_out"] },
    { name: "stray", kind: "other", weight: "stray" },
  ],
  graph: {
    inputs: [{ name: "input", shape: [null, 1, 2, 4], dtype: "float32" }, { name: "cond", shape: [], dtype: "bool" }, { name: "mystery" }],
    outputs: ["logits", "then_out"],
    constants: record([
      ["target", { shape: [2], values: [-1, 16] }],
      ["scales", { shape: [4], values: [1, 1, 2.5, 2.5], float: true }],
      ["axis", { shape: [], values: [0], float: false }],
      ["nothing", { shape: [0, 3], values: [] }],
      ["__proto__", { shape: [1], values: [-9007199254740991] }],
    ]),
    shapes: record([["/conv/Conv_output_0", [null, 2, 2, 4]], ["logits", [null, 3]], ["scalar", []]]),
  },
};

/** Deterministic bytes for tensor `i` of `model`, in two chunks to exercise streaming. */
export async function* sampleBytes(model: CntModelInput, i: number): AsyncIterable<Uint8Array> {
  const bytes = new Uint8Array(model.tensors[i]!.byteLength).map((_, k) => (i * 31 + k) & 0xff);
  yield bytes.subarray(0, bytes.length >> 1);
  yield bytes.subarray(bytes.length >> 1);
}

/** A whole `.cnt` file in memory. */
export async function cntFile(model: CntModelInput = SAMPLE): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeCnt(model, (i) => sampleBytes(model, i))) chunks.push(chunk.slice());
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

export interface RawTensor {
  name?: string | null;
  dtype?: number;
  shape?: Array<number | bigint>;
  offset?: number | bigint;
  length?: number | bigint;
  stats?: { min: number; max: number; nan?: bigint; posInf?: bigint; negInf?: bigint };
}

export interface RawLayer {
  name: string;
  kind?: number;
  weight?: string;
}

/**
 * A `.cnt` head (prefix + header + padding) with every field written as given, defaults forced
 * so each field has a vtable slot a test can forge. `tensorTimes` repeats the first tensor table.
 */
export function rawCnt(opts: { tensors?: RawTensor[]; layers?: RawLayer[]; formatVersion?: number; tensorTimes?: number }): Uint8Array {
  const b = new Builder(256);
  b.forceDefaults(true);
  const tensors = (opts.tensors ?? []).map((t) => {
    const name = t.name === null ? 0 : b.createString(t.name ?? "t");
    const shape = Tensor.createShapeVector(b, (t.shape ?? [16]).map((d) => BigInt(d)));
    Tensor.startTensor(b);
    if (name !== 0) Tensor.addName(b, name);
    Tensor.addDtype(b, t.dtype ?? 0);
    Tensor.addShape(b, shape);
    Tensor.addOffset(b, BigInt(t.offset ?? 0));
    Tensor.addLength(b, BigInt(t.length ?? 64));
    Tensor.addHasStats(b, t.stats !== undefined);
    Tensor.addMin(b, t.stats?.min ?? 0);
    Tensor.addMax(b, t.stats?.max ?? 0);
    Tensor.addNan(b, t.stats?.nan ?? 0n);
    Tensor.addPosInf(b, t.stats?.posInf ?? 0n);
    Tensor.addNegInf(b, t.stats?.negInf ?? 0n);
    const end = b.endObject(); // not endTensor: that would refuse a missing name before we can test it
    return end;
  });
  const layers = (opts.layers ?? []).map((l) => {
    const name = b.createString(l.name);
    const weight = l.weight === undefined ? 0 : b.createString(l.weight);
    Layer.startLayer(b);
    Layer.addName(b, name);
    Layer.addKind(b, l.kind ?? 0);
    if (weight) Layer.addWeight(b, weight);
    return Layer.endLayer(b);
  });
  const tensorList = opts.tensorTimes ? new Array<number>(opts.tensorTimes).fill(tensors[0]!) : tensors;
  const tv = Model.createTensorsVector(b, tensorList);
  const lv = Model.createLayersVector(b, layers);
  Model.startModel(b);
  Model.addFormatVersion(b, opts.formatVersion ?? 1);
  Model.addLayers(b, lv);
  Model.addTensors(b, tv);
  Model.finishModelBuffer(b, Model.endModel(b));
  return headFor(b.asUint8Array());
}

export interface RawGraph {
  inputs?: { name: string; shape?: bigint[] }[];
  constants?: { name: string; shape: bigint[]; values: number[]; isFloat?: boolean }[];
  shapes?: { name: string; dims: bigint[] }[];
}

/**
 * A `.cnt` head with no tensors or layers and a graph section written as given (the writer
 * refuses repeated names and oversized constants; the reader must too). Lists given get their
 * has_ flags set.
 */
export function rawGraphCnt(graph: RawGraph): Uint8Array {
  const b = new Builder(256);
  const inputs = (graph.inputs ?? []).map((i) => {
    const name = b.createString(i.name);
    const shape = i.shape === undefined ? 0 : GraphInput.createShapeVector(b, i.shape);
    GraphInput.startGraphInput(b);
    GraphInput.addName(b, name);
    if (shape) { GraphInput.addShape(b, shape); GraphInput.addHasShape(b, true); }
    return GraphInput.endGraphInput(b);
  });
  const constants = (graph.constants ?? []).map((c) => {
    const name = b.createString(c.name);
    const shape = Constant.createShapeVector(b, c.shape);
    const values = Constant.createValuesVector(b, c.values);
    Constant.startConstant(b);
    Constant.addName(b, name);
    Constant.addShape(b, shape);
    Constant.addValues(b, values);
    if (c.isFloat) Constant.addIsFloat(b, true);
    return Constant.endConstant(b);
  });
  const shapes = (graph.shapes ?? []).map((v) => {
    const name = b.createString(v.name);
    const dims = ValueShape.createDimsVector(b, v.dims);
    ValueShape.startValueShape(b);
    ValueShape.addName(b, name);
    ValueShape.addDims(b, dims);
    return ValueShape.endValueShape(b);
  });
  const iv = Graph.createInputsVector(b, inputs);
  const cv = graph.constants ? Graph.createConstantsVector(b, constants) : 0;
  const sv = graph.shapes ? Graph.createShapesVector(b, shapes) : 0;
  Graph.startGraph(b);
  Graph.addInputs(b, iv);
  if (cv) { Graph.addConstants(b, cv); Graph.addHasConstants(b, true); }
  if (sv) { Graph.addShapes(b, sv); Graph.addHasShapes(b, true); }
  const g = Graph.endGraph(b);
  const lv = Model.createLayersVector(b, []);
  const tv = Model.createTensorsVector(b, []);
  Model.startModel(b);
  Model.addFormatVersion(b, 1);
  Model.addLayers(b, lv);
  Model.addTensors(b, tv);
  Model.addGraph(b, g);
  Model.finishModelBuffer(b, Model.endModel(b));
  return headFor(b.asUint8Array());
}

/**
 * A small `.cnt` head whose references share bytes, as FlatBuffers allows and our writer never
 * does: "inputs" gives one layer `times` inputs that all point at one 4,000-byte string;
 * "values" gives the graph `times` constants that all point at one 65,536-value vector.
 */
export function sharedCnt(what: "inputs" | "values", times: number): Uint8Array {
  const b = new Builder(1024);
  let layers: number[] = [];
  let graph = 0;
  if (what === "inputs") {
    const name = b.createString("layer");
    const shared = b.createString("x".repeat(4000));
    const inputs = Layer.createInputsVector(b, new Array<number>(times).fill(shared));
    Layer.startLayer(b);
    Layer.addName(b, name);
    Layer.addInputs(b, inputs);
    Layer.addHasInputs(b, true);
    layers = [Layer.endLayer(b)];
  } else {
    const values = Constant.createValuesVector(b, new Array<number>(65_536).fill(0));
    const shape = Constant.createShapeVector(b, [65_536n]);
    const constants = Array.from({ length: times }, (_, i) => {
      const name = b.createString(`c${i}`);
      Constant.startConstant(b);
      Constant.addName(b, name);
      Constant.addShape(b, shape);
      Constant.addValues(b, values);
      return Constant.endConstant(b);
    });
    const cv = Graph.createConstantsVector(b, constants);
    Graph.startGraph(b);
    Graph.addConstants(b, cv);
    Graph.addHasConstants(b, true);
    graph = Graph.endGraph(b);
  }
  const lv = Model.createLayersVector(b, layers);
  Model.startModel(b);
  Model.addLayers(b, lv);
  if (graph) Model.addGraph(b, graph);
  Model.finishModelBuffer(b, Model.endModel(b));
  return headFor(b.asUint8Array());
}

/** Prefix + the given FlatBuffer + zero padding to the data region. */
export function headFor(header: Uint8Array): Uint8Array {
  const head = new Uint8Array(dataStartFor(header.length));
  head.set(encodePrefix(header.length), 0);
  head.set(header, PREFIX_BYTES);
  return head;
}

/**
 * Byte positions inside a file's header, as file offsets, for forging one field. Reads the same
 * way the runtime does, so only use it on bytes that were valid before the forgery.
 */
export class HeaderMap {
  private readonly view: DataView;
  constructor(readonly file: Uint8Array) {
    this.view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  }
  u32(at: number): number { return this.view.getUint32(at, true); }
  setU32(at: number, v: number): void { this.view.setUint32(at, v, true); }
  u16(at: number): number { return this.view.getUint16(at, true); }
  setU16(at: number, v: number): void { this.view.setUint16(at, v, true); }
  setU64(at: number, v: bigint): void { this.view.setBigUint64(at, v, true); }
  /** File offset of the root table. */
  root(): number { return PREFIX_BYTES + this.u32(PREFIX_BYTES); }
  /** File offset of the vtable of the table at `table`. */
  vtable(table: number): number { return table - this.view.getInt32(table, true); }
  /** File offset of field `slot` of the table at `table`; throws when absent. */
  field(table: number, slot: number): number {
    const vt = this.vtable(table);
    const fo = 4 + 2 * slot < this.u16(vt) ? this.u16(vt + 4 + 2 * slot) : 0;
    if (fo === 0) throw new Error(`field ${slot} absent`);
    return table + fo;
  }
  /** File offset of the thing the uoffset at `at` points to. */
  deref(at: number): number { return at + this.u32(at); }
  /** The table in field `slot` of `table`: its file offset. */
  child(table: number, slot: number): number {
    return this.deref(this.field(table, slot));
  }
  /** File offset of element i's bytes in the scalar vector of field `slot` (8-byte elements unless told). */
  scalar(table: number, slot: number, i: number, width = 8): number {
    return this.deref(this.field(table, slot)) + 4 + width * i;
  }
  /** Element i of the table vector in field `slot` of `table`: the table's file offset. */
  element(table: number, slot: number, i: number): number {
    const vec = this.deref(this.field(table, slot));
    return this.deref(vec + 4 + 4 * i);
  }
}

/** Field slots, as in schemas/model.fbs. */
export const MODEL_SLOT = { layers: 4, tensors: 5, graph: 8 } as const;
export const TENSOR_SLOT = { name: 0, dtype: 1, shape: 2, offset: 3, length: 4, hasStats: 5 } as const;
export const LAYER_SLOT = { name: 0, kind: 1, activation: 5, attributes: 6, inputs: 9, outputs: 10, hasInputs: 11, hasOutputs: 12 } as const;
export const GRAPH_SLOT = { inputs: 0, outputs: 1, constants: 2, shapes: 3, hasConstants: 4, hasShapes: 5 } as const;
export const GRAPH_INPUT_SLOT = { name: 0, shape: 1, hasShape: 2, dtype: 3 } as const;
export const CONSTANT_SLOT = { name: 0, shape: 1, values: 2, isFloat: 3 } as const;
export const VALUE_SHAPE_SLOT = { name: 0, dims: 1 } as const;

export function limits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

/** Assert the promise rejects with a CntError of `code` whose message contains every phrase. */
export async function rejects(promise: Promise<unknown>, code: string, ...phrases: string[]): Promise<CntError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, CntError, `expected CntError, got ${String(error)}`);
    const e = error as CntError;
    assert.is(e.code, code, `code of: ${e.message}`);
    for (const phrase of phrases) assert.ok(e.message.includes(phrase), `message ${JSON.stringify(e.message)} should contain ${JSON.stringify(phrase)}`);
    return e;
  }
  assert.unreachable(`expected a ${code} rejection`);
  throw new Error("unreachable");
}

/** Same for synchronous code. */
export function throws(fn: () => unknown, code: string, ...phrases: string[]): CntError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, CntError, `expected CntError, got ${String(error)}`);
    const e = error as CntError;
    assert.is(e.code, code, `code of: ${e.message}`);
    for (const phrase of phrases) assert.ok(e.message.includes(phrase), `message ${JSON.stringify(e.message)} should contain ${JSON.stringify(phrase)}`);
    return e;
  }
  assert.unreachable(`expected a ${code} error`);
  throw new Error("unreachable");
}
