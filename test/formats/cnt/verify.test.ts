// One failing case per verifier rule (hostile-inputs.md section 4, rules 3-8), each forging a
// single field of an otherwise valid file, then a byte-flip sweep that only CntErrors escape.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CntError } from "../../../src/errors.js";
import { openCnt } from "../../../src/formats/cnt/read.js";
import { PREFIX_BYTES } from "../../../src/formats/cnt/layout.js";
import { memorySource, sparseSource } from "../../helpers/memory-source.js";
import {
  CONSTANT_SLOT, GRAPH_INPUT_SLOT, GRAPH_SAMPLE, GRAPH_SLOT, HeaderMap, LAYER_SLOT, MODEL_SLOT, TENSOR_SLOT, VALUE_SHAPE_SLOT,
  cntFile, headFor, limits, rawCnt, rawGraphCnt, rejects, sharedCnt,
} from "./fixtures.js";

async function sample(): Promise<{ file: Uint8Array; m: HeaderMap; headerBytes: number }> {
  const file = await cntFile();
  const m = new HeaderMap(file);
  return { file, m, headerBytes: Number(new DataView(file.buffer).getBigUint64(8, true)) };
}

const open = (file: Uint8Array, overrides = {}) => openCnt(memorySource(file, { name: "forged.cnt" }), limits(overrides));

// --- root offset and identifier -------------------------------------------------------------

test("root offset 0 is refused", async () => {
  const { file, m } = await sample();
  m.setU32(PREFIX_BYTES, 0);
  const e = await rejects(open(file), "BAD_HEADER", "'forged.cnt'", "root offset", "zero offset");
  assert.is(e.offset, PREFIX_BYTES);
  assert.is(e.file, "forged.cnt");
});

test("root offset past the end of the header is refused", async () => {
  const { file, m, headerBytes } = await sample();
  m.setU32(PREFIX_BYTES, headerBytes);
  await rejects(open(file), "BAD_HEADER", "root offset", "past the end");
});

test("root offset pointing backward (0xFFFFFFFC, -4 in 32-bit) is refused as past the end", async () => {
  const { file, m } = await sample();
  m.setU32(PREFIX_BYTES, 0xfffffffc);
  await rejects(open(file), "BAD_HEADER", "root offset", "past the end");
});

test("misaligned root offset is refused", async () => {
  const { file, m } = await sample();
  m.setU32(PREFIX_BYTES, m.u32(PREFIX_BYTES) + 2);
  await rejects(open(file), "BAD_HEADER", "root offset", "not 4-byte aligned");
});

test("wrong FlatBuffers file identifier is BAD_MAGIC", async () => {
  const { file } = await sample();
  file.set(new TextEncoder().encode("XXXX"), PREFIX_BYTES + 4);
  await rejects(open(file), "BAD_MAGIC", "file identifier", "CNT1");
});

test("a header shorter than 12 bytes is refused", async () => {
  await rejects(open(headFor(new Uint8Array(8))), "BAD_HEADER", "at least 12");
});

// --- tables and vtables ---------------------------------------------------------------------

test("vtable of odd size is refused", async () => {
  const { file, m } = await sample();
  const vt = m.vtable(m.root());
  m.setU16(vt, m.u16(vt) + 1);
  await rejects(open(file), "BAD_HEADER", "Model vtable", "has size");
});

test("vtable smaller than 4 bytes is refused", async () => {
  const { file, m } = await sample();
  m.setU16(m.vtable(m.root()), 2);
  await rejects(open(file), "BAD_HEADER", "Model vtable", "has size 2");
});

test("vtable outside the header is refused", async () => {
  const { file, m } = await sample();
  new DataView(file.buffer).setInt32(m.root(), -(1 << 20), true);
  await rejects(open(file), "BAD_HEADER", "Model vtable", "outside the header");
});

test("field beyond the table's inline size is refused", async () => {
  const { file, m } = await sample();
  m.setU16(m.vtable(m.root()) + 2, 4); // table inline size 4: every field now lies past it
  await rejects(open(file), "BAD_HEADER", "outside the table's 4 inline bytes");
});

test("table inline size past the end of the header is refused", async () => {
  const { file, m } = await sample();
  m.setU16(m.vtable(m.root()) + 2, 0xfffc);
  await rejects(open(file), "BAD_HEADER", "Model", "does not fit in the header");
});

test("zero uoffset in a string field is refused", async () => {
  const { file, m } = await sample();
  const t0 = m.element(m.root(), MODEL_SLOT.tensors, 0);
  m.setU32(m.field(t0, TENSOR_SLOT.name), 0);
  await rejects(open(file), "BAD_HEADER", "tensors[0].name", "zero offset");
});

// --- vectors and strings --------------------------------------------------------------------

test("forged layers vector length 2^31 - 1 is OUT_OF_BOUNDS before any loop", async () => {
  const { file, m } = await sample();
  m.setU32(m.deref(m.field(m.root(), MODEL_SLOT.layers)), 0x7fffffff);
  await rejects(open(file), "OUT_OF_BOUNDS", "Model.layers", "2,147,483,647 elements");
});

test("forged layers vector length -1 (0xFFFFFFFF) is OUT_OF_BOUNDS", async () => {
  const { file, m } = await sample();
  m.setU32(m.deref(m.field(m.root(), MODEL_SLOT.layers)), 0xffffffff);
  await rejects(open(file), "OUT_OF_BOUNDS", "4,294,967,295 elements");
});

test("forged shape vector length is OUT_OF_BOUNDS", async () => {
  const { file, m } = await sample();
  const t0 = m.element(m.root(), MODEL_SLOT.tensors, 0);
  m.setU32(m.deref(m.field(t0, TENSOR_SLOT.shape)), 1_000_000);
  await rejects(open(file), "OUT_OF_BOUNDS", "tensors[0].shape", "1,000,000 elements of 8 bytes");
});

test("string without NUL terminator is refused", async () => {
  const { file, m } = await sample();
  const s = m.deref(m.field(m.element(m.root(), MODEL_SLOT.tensors, 0), TENSOR_SLOT.name));
  file[s + 4 + m.u32(s)] = 0x41;
  await rejects(open(file), "BAD_HEADER", "tensors[0].name", "not NUL-terminated");
});

test("string length past the end of the header is OUT_OF_BOUNDS", async () => {
  const { file, m } = await sample();
  const s = m.deref(m.field(m.element(m.root(), MODEL_SLOT.tensors, 0), TENSOR_SLOT.name));
  m.setU32(s, 1_000_000);
  await rejects(open(file), "OUT_OF_BOUNDS", "tensors[0].name", "declares 1,000,000 bytes");
});

test("invalid UTF-8 in a name is refused by the fatal decoder", async () => {
  const { file, m } = await sample();
  const s = m.deref(m.field(m.element(m.root(), MODEL_SLOT.tensors, 1), TENSOR_SLOT.name));
  file[s + 4] = 0xff;
  const e = await rejects(open(file), "BAD_HEADER", "tensors[1].name", "not valid UTF-8");
  assert.instance(e.cause, TypeError);
});

test("a name longer than maxNameBytes is TOO_LARGE naming the limit", async () => {
  const { file } = await sample();
  await rejects(open(file, { maxNameBytes: 4 }), "TOO_LARGE", "maxNameBytes");
});

// --- enums, bools, required fields ----------------------------------------------------------

test("unknown dtype enum value 250 is BAD_DTYPE listing the known ones", async () => {
  const file = rawCnt({ tensors: [{ name: "w" }] });
  const m = new HeaderMap(file);
  file[m.field(m.element(m.root(), MODEL_SLOT.tensors, 0), TENSOR_SLOT.dtype)] = 250;
  await rejects(open(file), "BAD_DTYPE", "tensors[0].dtype", "is 250", "0 (f32)", "3 (f64)");
});

test("unknown layer kind is refused", async () => {
  const file = rawCnt({ layers: [{ name: "l", kind: 0 }] });
  const m = new HeaderMap(file);
  file[m.field(m.element(m.root(), MODEL_SLOT.layers, 0), LAYER_SLOT.kind)] = 99;
  await rejects(open(file), "BAD_HEADER", "layers[0].kind", "is 99");
});

test("unknown activation is refused", async () => {
  const { file, m } = await sample();
  file[m.field(m.element(m.root(), MODEL_SLOT.layers, 0), LAYER_SLOT.activation)] = 200;
  await rejects(open(file), "BAD_HEADER", "layers[0].activation", "is 200");
});

test("a bool that is neither 0 nor 1 is refused", async () => {
  const { file, m } = await sample();
  file[m.field(m.element(m.root(), MODEL_SLOT.tensors, 0), TENSOR_SLOT.hasStats)] = 2;
  await rejects(open(file), "BAD_HEADER", "tensors[0].has_stats", "not a boolean");
});

test("missing required tensor name is refused", async () => {
  await rejects(open(rawCnt({ tensors: [{ name: null }] })), "BAD_HEADER", "tensors[0].name", "required but missing");
});

test("missing required layer name (vtable entry zeroed) is refused", async () => {
  const { file, m } = await sample();
  const vt = m.vtable(m.element(m.root(), MODEL_SLOT.layers, 0));
  m.setU16(vt + 4 + 2 * LAYER_SLOT.name, 0);
  await rejects(open(file), "BAD_HEADER", "layers[0].name", "required but missing");
});

// --- cycles, depth, table count, vector limits ----------------------------------------------

test("a child offset that would point back to its parent (32-bit wrap) is refused", async () => {
  const { file, m } = await sample();
  const root = m.root();
  const slot = m.deref(m.field(root, MODEL_SLOT.tensors)) + 4; // uoffset of tensors[0]
  m.setU32(slot, 2 ** 32 - (slot - root)); // slot + this = root, modulo 2^32
  await rejects(open(file), "BAD_HEADER", "tensors[0]", "past the end");
});

test("nesting deeper than maxDepth is TOO_LARGE naming maxDepth", async () => {
  const { file } = await sample();
  await rejects(open(file, { maxDepth: 2 }), "TOO_LARGE", "maxDepth", "layers[0].attributes[0]");
});

test("one table referenced 1,000 times counts 1,000 times against maxTables", async () => {
  const file = rawCnt({ tensors: [{ name: "w" }], tensorTimes: 1000 });
  await rejects(open(file, { maxTables: 100 }), "TOO_LARGE", "maxTables");
  // Within the limit the walk ends and the semantic checks catch the repeated name.
  await rejects(openCnt(sparseSource(file, file.length + 64), limits()), "BAD_HEADER", "'w'", "twice");
});

test("more tensors than maxTensors is TOO_LARGE", async () => {
  const { file } = await sample();
  await rejects(open(file, { maxTensors: 2 }), "TOO_LARGE", "maxTensors", "Model.tensors");
});

test("more layers than maxLayers is TOO_LARGE", async () => {
  const { file } = await sample();
  await rejects(open(file, { maxLayers: 1 }), "TOO_LARGE", "maxLayers");
});

test("rank above maxRank is TOO_LARGE", async () => {
  const file = rawCnt({ tensors: [{ name: "w", shape: [1, 1, 1, 1, 1, 1, 1, 1, 16], length: 64 }] });
  await rejects(open(file), "TOO_LARGE", "maxRank", "tensors[0].shape");
});

// --- the graph section and each layer's wiring ---------------------------------------------

async function graphSample(): Promise<{ file: Uint8Array; m: HeaderMap; graph: number; headerBytes: number }> {
  const file = await cntFile(GRAPH_SAMPLE);
  const m = new HeaderMap(file);
  return { file, m, graph: m.child(m.root(), MODEL_SLOT.graph), headerBytes: Number(new DataView(file.buffer).getBigUint64(8, true)) };
}

test("a zero offset to the graph table is refused naming Model.graph", async () => {
  const { file, m } = await graphSample();
  m.setU32(m.field(m.root(), MODEL_SLOT.graph), 0);
  await rejects(open(file), "BAD_HEADER", "Model.graph", "zero offset");
});

test("a layer's inputs listed while has_inputs says absent are refused", async () => {
  const { file, m } = await graphSample();
  file[m.field(m.element(m.root(), MODEL_SLOT.layers, 0), LAYER_SLOT.hasInputs)] = 0;
  await rejects(open(file), "BAD_HEADER", "'/conv/Conv' (Layer.inputs)", "3 names", "has_ flag");
});

test("graph constants listed while has_constants says absent are refused", async () => {
  const { file, m, graph } = await graphSample();
  file[m.field(graph, GRAPH_SLOT.hasConstants)] = 0;
  await rejects(open(file), "BAD_HEADER", "Graph.constants", "has_ flag");
});

test("a has_shape byte that is neither 0 nor 1 is refused", async () => {
  const { file, m, graph } = await graphSample();
  file[m.field(m.element(graph, GRAPH_SLOT.inputs, 0), GRAPH_INPUT_SLOT.hasShape)] = 2;
  await rejects(open(file), "BAD_HEADER", "Model.graph.inputs[0].has_shape", "not a boolean");
});

test("invalid UTF-8 in a layer's input name is refused naming the list element", async () => {
  const { file, m } = await graphSample();
  const layer = m.element(m.root(), MODEL_SLOT.layers, 0);
  file[m.deref(m.scalar(layer, LAYER_SLOT.inputs, 0, 4)) + 4] = 0xff;
  await rejects(open(file), "BAD_HEADER", "Model.layers[0].inputs[0]", "not valid UTF-8");
});

test("a graph input dim below -1 is refused naming the field", async () => {
  const { file, m, graph } = await graphSample();
  m.setU64(m.scalar(m.element(graph, GRAPH_SLOT.inputs, 0), GRAPH_INPUT_SLOT.shape, 1), BigInt.asUintN(64, -2n));
  await rejects(open(file), "BAD_HEADER", "Dim 1", "Graph.inputs[0].shape", "is -2", "-1 for a symbolic dim");
});

test("a value shape dim of 2^60 is refused", async () => {
  const { file, m, graph } = await graphSample();
  m.setU64(m.scalar(m.element(graph, GRAPH_SLOT.shapes, 0), VALUE_SHAPE_SLOT.dims, 1), 2n ** 60n);
  await rejects(open(file), "BAD_HEADER", "Graph.shapes[0].dims", "1152921504606846976");
});

test("a constant dim of 2^63 is refused", async () => {
  const { file, m, graph } = await graphSample();
  m.setU64(m.scalar(m.element(graph, GRAPH_SLOT.constants, 0), CONSTANT_SLOT.shape, 0), 2n ** 63n);
  await rejects(open(file), "BAD_HEADER", "Graph.constants[0].shape", "not an integer in [0, 2^53)");
});

test("a constant whose values do not fill its shape is refused", async () => {
  const { file, m, graph } = await graphSample();
  m.setU64(m.scalar(m.element(graph, GRAPH_SLOT.constants, 0), CONSTANT_SLOT.shape, 0), 3n);
  await rejects(open(file), "BAD_HEADER", "Graph.constants", "'target'", "2 values", "[3] has 3 elements");
});

test("an integer constant holding 0.5 is refused; the same bits in a float constant are a value", async () => {
  const { file, m, graph } = await graphSample();
  const at = m.scalar(m.element(graph, GRAPH_SLOT.constants, 0), CONSTANT_SLOT.values, 0);
  new DataView(file.buffer).setFloat64(at, 0.5, true);
  await rejects(open(file), "BAD_HEADER", "'target'", "0.5 at index 0", "integer constant");
  const fresh = await graphSample();
  const scales = fresh.m.element(fresh.graph, GRAPH_SLOT.constants, 1);
  new DataView(fresh.file.buffer).setFloat64(fresh.m.scalar(scales, CONSTANT_SLOT.values, 0), Number.NaN, true);
  const read = await open(fresh.file);
  assert.ok(Number.isNaN(read.graph!.constants!.scales!.values[0]));
});

test("a constant of 65,537 values is refused by the verifier, before any value is read", async () => {
  const file = rawGraphCnt({ constants: [{ name: "big", shape: [65_537n], values: new Array<number>(65_537).fill(0) }] });
  await rejects(open(file), "BAD_HEADER", "Model.graph.constants[0].values", "65,537 elements", "at most 65,536");
});

test("a constant or value shape named twice is refused", async () => {
  await rejects(open(rawGraphCnt({ constants: [{ name: "c", shape: [], values: [1] }, { name: "c", shape: [], values: [2] }] })), "BAD_HEADER", "constant", "'c' twice");
  await rejects(open(rawGraphCnt({ shapes: [{ name: "v", dims: [1n] }, { name: "v", dims: [] }] })), "BAD_HEADER", "value shape", "'v' twice");
});

test("graph lists and a layer's wiring are bounded by maxTensors, shapes by maxRank", async () => {
  const inputs = [{ name: "a" }, { name: "b" }, { name: "c" }];
  await rejects(open(rawGraphCnt({ inputs }), { maxTensors: 2 }), "TOO_LARGE", "maxTensors", "Model.graph.inputs");
  const wide = await cntFile({ name: "w", tensors: [], layers: [{ name: "concat", kind: "none", inputs: ["a", "b", "c", "d", "e"], outputs: ["y"] }] });
  await rejects(open(wide, { maxTensors: 4 }), "TOO_LARGE", "maxTensors", "Model.layers[0].inputs");
  await rejects(open(rawGraphCnt({ shapes: [{ name: "v", dims: new Array<bigint>(9).fill(1n) }] })), "TOO_LARGE", "maxRank", "Model.graph.shapes[0].dims");
  await rejects(open(rawGraphCnt({ inputs: [{ name: "x", shape: new Array<bigint>(9).fill(-1n) }] })), "TOO_LARGE", "maxRank", "Model.graph.inputs[0].shape");
});

test("references that share one string or vector count once each against maxHeaderBytes", async () => {
  // 5,000 inputs naming one 4,000-byte string: a 24 KB header the reader would decode to 20 MB.
  const inputs = sharedCnt("inputs", 5000);
  assert.ok(inputs.length < 32_000);
  await rejects(open(inputs), "TOO_LARGE", "maxHeaderBytes", "each reference counted");
  // 40 constants sharing one 65,536-value vector: 512 KB of header, 21 MB of values.
  await rejects(open(sharedCnt("values", 40)), "TOO_LARGE", "maxHeaderBytes");
  // Under the budget, sharing is valid FlatBuffers and reads.
  const read = await open(sharedCnt("inputs", 10));
  assert.is(read.layers[0]!.inputs!.length, 10);
});

test("every single-byte corruption of a graph header ends in a report or a CntError", async () => {
  const { file, headerBytes } = await graphSample();
  for (const value of [0x00, 0xff, 0x80]) {
    for (let i = PREFIX_BYTES; i < PREFIX_BYTES + headerBytes; i++) {
      const forged = file.slice();
      if (forged[i] === value) continue;
      forged[i] = value;
      try {
        await open(forged);
      } catch (error) {
        if (!(error instanceof CntError) || error.code === "INTERNAL") assert.unreachable(`byte ${i} = ${value}: ${String(error)}`);
      }
    }
  }
});

// --- sweep ----------------------------------------------------------------------------------

test("every single-byte corruption of the header ends in a report or a CntError", async () => {
  const { file, headerBytes } = await sample();
  for (const value of [0x00, 0xff, 0x80]) {
    for (let i = PREFIX_BYTES; i < PREFIX_BYTES + headerBytes; i++) {
      const forged = file.slice();
      if (forged[i] === value) continue;
      forged[i] = value;
      try {
        await open(forged);
      } catch (error) {
        if (!(error instanceof CntError) || error.code === "INTERNAL") {
          assert.unreachable(`byte ${i} = ${value}: ${String(error)}`);
        }
      }
    }
  }
});

/** mulberry32: a tiny seeded PRNG so a failure replays. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("random headers and random multi-byte corruptions end in a report or a CntError (seed 1)", async () => {
  const random = prng(1);
  const { file, headerBytes } = await sample();
  for (let round = 0; round < 3000; round++) {
    let forged: Uint8Array;
    if (round % 2 === 0) {
      const length = 12 + Math.floor(random() * 600);
      const header = new Uint8Array(length).map(() => Math.floor(random() * 256));
      new DataView(header.buffer).setUint32(0, 4 * (2 + Math.floor(random() * ((length - 8) / 4))), true);
      header.set(new TextEncoder().encode("CNT1"), 4);
      forged = headFor(header);
    } else {
      forged = file.slice();
      for (let k = 0; k < 4; k++) forged[PREFIX_BYTES + Math.floor(random() * headerBytes)] = Math.floor(random() * 256);
    }
    try {
      await open(forged);
    } catch (error) {
      if (!(error instanceof CntError) || error.code === "INTERNAL") assert.unreachable(`round ${round}: ${String(error)}`);
    }
  }
});

test.run();
