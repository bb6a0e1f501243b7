// The graph survives a .cnt round trip: the fields conv and recurrent layers need, each op's
// inputs and outputs, and the graph section (inputs, outputs, constants, value shapes); files
// written before the wiring was appended still read, as chains.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openCnt, readCntHeader } from "../../../src/formats/cnt/read.js";
import { encodeCntHeader, type CntModelInput } from "../../../src/formats/cnt/write.js";
import type { LayerInfo, ModelInfo } from "../../../src/model/types.js";
import { memorySource } from "../../helpers/memory-source.js";
import { GRAPH_SAMPLE, cntFile, limits, record, throws } from "./fixtures.js";

const layers: LayerInfo[] = [
  { name: "conv", kind: "conv2d", weight: "conv.w", weightLayout: "hwio", attributes: { stride: [2, 1], pads: [1, 0, 1, 0], dilation: [1, 1], groups: 1, autoPad: "notset" } },
  { name: "up", kind: "conv2d_transpose", weight: "up.w", weightLayout: "iohw" },
  { name: "pool", kind: "none", attributes: { op: "pool", kernel: [2, 2], stride: [2, 2] } },
  { name: "lstm", kind: "lstm", weight: "lstm.wi", recurrentWeight: "lstm.wh", bias: "lstm.bi", recurrentBias: "lstm.bh", weightLayout: "out_in", attributes: { hidden: 2, gateOrder: "ifgo", direction: "bidirectional" } },
];
const tensor = (name: string, shape: number[]) => ({ name, dtype: "f32" as const, shape, byteLength: shape.reduce((a, b) => a * b, 1) * 4 });

test("recurrent tensors, conv layouts, attributes and the data format round-trip", async () => {
  const model = {
    name: "graph.cnt",
    inputShape: [8, 8, 3],
    dataFormat: "channels_last" as const,
    layers,
    tensors: [tensor("conv.w", [3, 3, 3, 4]), tensor("up.w", [4, 2, 2, 2]), tensor("lstm.wi", [16, 3]), tensor("lstm.wh", [16, 2]), tensor("lstm.bi", [16]), tensor("lstm.bh", [16])],
  };
  const { head, dataBytes } = encodeCntHeader(model);
  const file = new Uint8Array(head.byteLength + dataBytes);
  file.set(head);
  const read = await openCnt(memorySource(file), limits());
  assert.is(read.dataFormat, "channels_last");
  assert.equal(read.inputShape, [8, 8, 3]);
  assert.equal(read.layers.map((l) => ({ ...l, attributes: l.attributes ? { ...l.attributes } : undefined })), layers.map((l) => ({ ...l, attributes: l.attributes })));
});

test("a layer whose recurrent weight names no tensor is refused", () => {
  assert.throws(
    () => encodeCntHeader({ name: "bad", layers: [{ name: "rnn", kind: "rnn", weight: "a", recurrentWeight: "missing" }], tensors: [tensor("a", [2, 2])] }),
    (e: Error & { code?: string }) => e.code === "BAD_HEADER" && /recurrentWeight 'missing'/.test(e.message),
  );
});

// --- wiring and the graph section --------------------------------------------------------

/** Layers as the reader gives them, with attributes as plain objects (the reader's have a null prototype). */
const plainLayers = (model: ModelInfo) => model.layers.map((l) => (l.attributes ? { ...l, attributes: { ...l.attributes } } : l));

test("a graph round-trips exactly: each op's inputs and outputs, graph inputs, outputs, constants and shapes", async () => {
  const read = await openCnt(memorySource(await cntFile(GRAPH_SAMPLE)), limits());
  assert.equal(plainLayers(read), GRAPH_SAMPLE.layers);
  assert.equal(read.graph, GRAPH_SAMPLE.graph);
  assert.is(read.dataFormat, "channels_first");
});

test("an empty wiring list stays present and empty; an absent one stays absent", async () => {
  const read = await openCnt(memorySource(await cntFile(GRAPH_SAMPLE)), limits());
  const byName = new Map(read.layers.map((l) => [l.name, l]));
  assert.equal(byName.get("/If")!.outputs, []);
  assert.equal(byName.get("/If/then/Constant")!.inputs, []);
  assert.is(byName.get("/If/then/Constant")!.attributes!.subgraph, "/If");
  assert.is(byName.get("/fc/Gemm")!.inputs![2], "", "an absent optional input keeps its position");
  assert.not.ok("inputs" in byName.get("stray")! || "outputs" in byName.get("stray")!);
  const [input, cond, mystery] = read.graph!.inputs;
  assert.equal(input!.shape, [null, 1, 2, 4]);
  assert.equal(cond!.shape, [], "a scalar input keeps its empty shape");
  assert.not.ok("shape" in mystery! || "dtype" in mystery!, "an input of unknown shape and dtype has neither");
  assert.not.ok("float" in read.graph!.constants!.target!);
  assert.is(read.graph!.constants!.axis!.float, false);
  assert.is(Object.getPrototypeOf(read.graph!.constants), null, "constant names are plain keys");
  assert.equal(read.graph!.constants!["__proto__"], { shape: [1], values: [-9007199254740991] });
});

test("a graph with no constants or shapes keeps them absent; with empty ones, empty", async () => {
  const base = { name: "g", layers: [{ name: "id", kind: "none" as const, inputs: ["x"], outputs: ["y"] }], tensors: [] };
  const open = async (model: CntModelInput) => (await openCnt(memorySource(await cntFile(model)), limits())).graph;
  assert.equal(await open({ ...base, graph: { inputs: [], outputs: [] } }), { inputs: [], outputs: [] });
  assert.equal(await open({ ...base, graph: { inputs: [], outputs: [], constants: record([]), shapes: record([]) } }), { inputs: [], outputs: [], constants: record([]), shapes: record([]) });
  const chain = await openCnt(memorySource(await cntFile({ ...base, layers: [{ name: "id", kind: "none" }] })), limits());
  assert.not.ok("graph" in chain);
});

test("float constants keep every float64 bit pattern (NaN, -0, infinities, subnormals)", async () => {
  const values = [Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, 0.1, -Number.MAX_VALUE];
  const model: CntModelInput = { name: "f", layers: [], tensors: [], graph: { inputs: [], outputs: [], constants: record([["c", { shape: [7], values, float: true }]]) } };
  const read = await openCnt(memorySource(await cntFile(model)), limits());
  read.graph!.constants!.c!.values.forEach((v, i) => assert.ok(Object.is(v, values[i]), `value ${i}: ${v}`));
});

test("a chain file written before the graph fields existed reads as a chain, and today's writer writes the same bytes", async () => {
  // test/formats/cnt/files/chain-before-graph.cnt: cntFile(SAMPLE) written by the writer of commit
  // 29f7b9e, whose Layer had 9 fields and Model 8: no wiring, no graph section.
  const old = new Uint8Array(readFileSync(new URL("./files/chain-before-graph.cnt", import.meta.url)));
  const header = await readCntHeader(memorySource(old, { name: "old.cnt" }), limits());
  const { model } = header;
  assert.equal(model.layers.map((l) => l.name), ["fc1", "fc2", "flatten"]);
  assert.ok(model.layers.every((l) => !("inputs" in l) && !("outputs" in l)), "no layer has wiring");
  assert.not.ok("graph" in model);
  assert.equal(model.inputShape, [4]);
  assert.equal(model.layers[1], { name: "fc2", kind: "dense", weight: "fc2.weight", bias: "fc2.bias", weightLayout: "in_out", activation: "linear" });
  // Written again from what was read, the head is byte for byte the old one.
  const again = encodeCntHeader({
    name: header.modelName!,
    producer: header.producer,
    inputShape: model.inputShape,
    layers: model.layers,
    metadata: Object.fromEntries(header.metadata),
    tensors: model.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, byteLength: t.byteLength, ...(t.stats ? { stats: t.stats as never } : {}) })),
  });
  assert.equal(again.head, old.subarray(0, header.dataStart));
});

// --- what the writer refuses (the reader's rules, test/formats/cnt/verify.test.ts) ----------------

const graphModel = (graph: NonNullable<CntModelInput["graph"]>): CntModelInput => ({ name: "g", layers: [], tensors: [], graph });
const constant = (shape: number[], values: number[], float?: boolean) =>
  graphModel({ inputs: [], outputs: [], constants: record([["c", { shape, values, ...(float === undefined ? {} : { float }) }]]) });

test("the writer refuses a constant above 65,536 values, or with values that do not fill its shape", () => {
  throws(() => encodeCntHeader(constant([65_537], new Array<number>(65_537).fill(0))), "BAD_HEADER", "'c'", "at most 65,536");
  throws(() => encodeCntHeader(constant([2, 3], [1, 2, 3])), "BAD_HEADER", "'c'", "3 values", "[2, 3] has 6 elements");
  throws(() => encodeCntHeader(constant([1e6, 1e6], [1])), "BAD_HEADER", "more than 65,536 elements");
  throws(() => encodeCntHeader(constant([-1], [])), "BAD_HEADER", "dim 0 = -1");
});

test("the writer refuses an integer constant with a non-integer value, but not a float one", () => {
  throws(() => encodeCntHeader(constant([2], [1, 1.5])), "BAD_HEADER", "'c'", "1.5 at index 1");
  throws(() => encodeCntHeader(constant([1], [Number.NaN], false)), "BAD_HEADER", "NaN at index 0");
  encodeCntHeader(constant([2], [1, 1.5], true));
});

test("the writer refuses shape dims that are not null or non-negative integers", () => {
  throws(() => encodeCntHeader(graphModel({ inputs: [{ name: "x", shape: [null, -1] }], outputs: [] })), "BAD_HEADER", "graph input", "'x'", "dim 1 = -1");
  throws(() => encodeCntHeader(graphModel({ inputs: [], outputs: [], shapes: record([["v", [2.5]]]) })), "BAD_HEADER", "value shape", "'v'", "dim 0 = 2.5");
  throws(() => encodeCntHeader(graphModel({ inputs: [], outputs: [], shapes: record([["v", ["3" as never]]]) })), "BAD_HEADER", "'v'", "not a list of numbers and nulls");
});

test("the writer refuses wiring that is not a list of strings", () => {
  const layers = [{ name: "l", kind: "none", inputs: ["a", 3] } as unknown as LayerInfo];
  throws(() => encodeCntHeader({ name: "g", layers, tensors: [] }), "BAD_HEADER", "'l'", "inputs that are not a list of strings");
});

test.run();
