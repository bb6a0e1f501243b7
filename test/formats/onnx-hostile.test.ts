// Broken and hostile ONNX files (spec hostile-inputs.md, the protobuf cases and case 35): each
// ends in a CntError with the right code and a message naming ONNX, the tensor and the offset.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, filesSource, inspect } from "../../src/entry/node-core.js";
import type { PlacedTensorInfo } from "../../src/source/tensor-sources.js";
import { fileSource } from "../../src/node/index.js";
import { chunkedStream } from "../helpers/sources.js";
import { rejects } from "./onnx-support.js";
import { attrGraph, attrInt, cat, f32, fBytes, fFloat, fString, fVarint, gemmModel, graph, model, node, tag, tensor, valueInfo, varint } from "./onnx-wire.js";

const W = [[0.5, -1, 2], [0.25, 4, -8]];
const B = [1, -1];
const open = (bytes: Uint8Array, options: Parameters<typeof inspect>[1] = {}) => inspect(bytes, { name: "m.onnx", ...options });

test("the writer's model is valid: one dense layer, values where they belong", async () => {
  const m = await open(gemmModel(W, B));
  assert.equal(m.layers, [{ name: "fc", kind: "dense", weight: "W", weightLayout: "out_in", bias: "b", inputs: ["x", "W", "b"], outputs: ["y"] }]);
  assert.equal(m.inputShape, [3]);
  const report = await analyze(gemmModel(W, B));
  assert.is(report.layers[0].linkWeights!.max, 4);
  assert.is(report.layers[0].bias!.mean, 0);
});

test("varint longer than 10 bytes: BAD_HEADER", async () => {
  const bad = tensor({ name: "W", dims: [2, 3], raw: f32(W.flat()), extra: cat(tag(2, 0), new Array(10).fill(0xff), [0x01]) });
  const e = await rejects(open(model(graph([], [bad]))), "BAD_HEADER", "ONNX 'm.onnx'", "longer than 10 bytes", "tensor 'W' at byte", /at byte \d+/);
  assert.ok(typeof e.offset === "number" && e.offset > 0);
});

test("varint whose 10th byte overflows 64 bits: BAD_HEADER", async () => {
  const bad = tensor({ name: "W", dims: [2, 3], raw: f32(W.flat()), extra: cat(tag(2, 0), new Array(9).fill(0xff), [0x02]) });
  await rejects(open(model(graph([], [bad]))), "BAD_HEADER", "overflows 64 bits", "'W'");
});

test("field length past the end of its message: BAD_HEADER; past the end of the file: TRUNCATED", async () => {
  // raw_data claims 100 bytes inside a tensor message of fewer bytes (the file has room).
  const inner = cat(fVarint(1, 2), fVarint(2, 1), fString(8, "W"), tag(9, 2), varint(100), f32([1, 2]));
  const file = model(graph([], [inner]), { extra: fBytes(14, new Uint8Array(200)) });
  await rejects(open(file), "BAD_HEADER", "past the end of its enclosing message", "tensor 'W' at byte", "ONNX 'm.onnx'");
  // The graph claims more bytes than the file has.
  const whole = gemmModel(W, B);
  const cut = cat(whole.subarray(0, 30));
  await rejects(open(cut), "TRUNCATED", "truncated", "ONNX 'm.onnx'", "at byte");
});

test("nesting beyond maxDepth: TOO_LARGE naming the limit (If inside If inside ...)", async () => {
  let g = graph([], []);
  for (let i = 0; i < 30; i++) g = graph([node("If", ["c"], [`o${i}`], `if${i}`, [attrGraph("then_branch", g)])], []);
  await rejects(open(model(g)), "TOO_LARGE", "maxDepth = 64", "nested", "ONNX 'm.onnx'", "at byte");
  // With a raised limit it opens, and the layers are the 30 If nodes.
  const m = await open(model(g), { limits: { maxDepth: 200 } });
  assert.is(m.layers.length, 30);
  await rejects(open(gemmModel(W, B), { limits: { maxDepth: 2 } }), "TOO_LARGE", "maxDepth = 2");
});

test("packed float_data whose byte length is not a multiple of 4: BAD_HEADER naming the tensor", async () => {
  const bad = cat(fVarint(1, 2), fVarint(2, 1), fBytes(4, new Uint8Array(10)), fString(8, "W"));
  await rejects(open(model(graph([], [bad]))), "BAD_HEADER", "tensor 'W'", "float_data", "10 bytes, not a multiple of 4", "at byte");
});

test("raw_data size disagreeing with dims × dtype: BAD_DTYPE with expected and got bytes", async () => {
  const bad = tensor({ name: "W", dims: [4, 4], raw: f32(W.flat()) });
  const e = await rejects(open(model(graph([], [bad]))), "BAD_DTYPE", "tensor 'W'", "FLOAT of shape [4, 4]", "64 bytes", "holds 24", "at byte");
  assert.is(e.tensor, "W");
  // Also for data types that are not measured (INT64 [3] over 16 bytes).
  await rejects(open(model(graph([], [tensor({ name: "shape", dataType: 7, dims: [3], raw: new Uint8Array(16) })]))), "BAD_DTYPE", "INT64", "'shape'");
});

test("typed values disagreeing with dims, and 16-bit types with values above 16 bits", async () => {
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [2, 2], floats: [1, 2, 3] })]))), "BAD_DTYPE", "tensor 'W'", "takes 4 values", "holds 3");
  await rejects(open(model(graph([], [tensor({ name: "H", dataType: 10, dims: [2], int32: [15360, 70000] })]))), "BAD_DTYPE", "tensor 'H'", "70000", "16-bit");
  await rejects(open(model(graph([], [tensor({ name: "E", dims: [2] })]))), "BAD_HEADER", "tensor 'E'", "holds no data");
});

test("unknown data type, negative and overflowing dims, duplicate names, ranks above maxRank", async () => {
  await rejects(open(model(graph([], [tensor({ name: "W", dataType: 250, dims: [1], raw: new Uint8Array(4) })]))), "BAD_DTYPE", "data_type 250", "FLOAT, FLOAT16, BFLOAT16, DOUBLE", "'W'");
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [2, -3n], raw: new Uint8Array(4) })]))), "BAD_SHAPE", "tensor 'W'", "dim 1", "-3");
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [2 ** 27, 2 ** 27, 2 ** 27], raw: new Uint8Array(4) })]))), "BAD_SHAPE", "exceeds 2^53", "'W'");
  const t = tensor({ name: "W", dims: [1], raw: f32([1]) });
  await rejects(open(model(graph([], [t, t]))), "BAD_HEADER", "'W' is defined twice");
  await rejects(open(model(graph([], [tensor({ name: "R", dims: new Array(9).fill(1), raw: f32([1]) })]))), "TOO_LARGE", "maxRank = 8", "'R'");
});

test("external data named '../../etc/passwd' or an absolute path: UNSAFE_PATH, never opened", async () => {
  for (const location of ["../../etc/passwd", "/etc/passwd", "https://example.com/w.bin", "C:/w.bin"]) {
    const t = tensor({ name: "W", dims: [2, 3], external: [["location", location], ["offset", "0"], ["length", "24"]], location: 1 });
    const file = model(graph([], [t]));
    await rejects(open(file), "UNSAFE_PATH", "ONNX 'm.onnx'", "tensor 'W'", "at byte");
    // From a real folder too: the Node sibling check refuses it before any open.
    const dir = mkdtempSync(join(tmpdir(), "cntscope-onnx-"));
    writeFileSync(join(dir, "m.onnx"), file);
    const source = await fileSource(join(dir, "m.onnx"));
    await rejects(inspect(source), "UNSAFE_PATH", "tensor 'W'");
  }
});

test("external offset + length past the sibling's size: OUT_OF_BOUNDS; a missing sibling: TRUNCATED", async () => {
  const t = (offset: string, length: string) => tensor({ name: "W", dims: [2, 3], external: [["location", "w.bin"], ["offset", offset], ["length", length]], location: 1 });
  const files = (onnx: Uint8Array) => filesSource(new Map<string, Uint8Array>([["d/m.onnx", onnx], ["d/w.bin", new Uint8Array(30)]]), "d/m.onnx");
  const ok = await inspect(files(model(graph([], [t("6", "24")]))));
  assert.equal((ok.tensors[0] as PlacedTensorInfo).file, "w.bin");
  await rejects(inspect(files(model(graph([], [t("8", "24")])))), "OUT_OF_BOUNDS", "tensor 'W'", "bytes 8 to 32", "'w.bin'", "30 bytes");
  await rejects(inspect(files(model(graph([], [t("0", "20")])))), "BAD_DTYPE", "takes 24 bytes", "length is 20");
  await rejects(inspect(files(model(graph([], [t("-1", "24")])))), "OUT_OF_BOUNDS", "offset");
  const lone = filesSource(new Map([["d/m.onnx", model(graph([], [t("0", "24")]))]]), "d/m.onnx");
  await rejects(inspect(lone), "TRUNCATED", "'w.bin'", "tensor 'W'");
});

test("truncated at every kind of point: TRUNCATED (never a partial model)", async () => {
  const whole = new Uint8Array(readFileSync("test/fixtures/onnx/mlp.onnx"));
  const m = await open(whole);
  const raw = m.tensors[0];
  const graphEnd = whole.length - 8; // opset_import (ai.onnx 13) is the last field: 0x42 len 0x0a 0x00 0x08 0x0d + ...
  const cuts = [3, 4, 10, 40, raw.offset, raw.offset + 5, raw.offset + raw.byteLength - 1, graphEnd, whole.length - 1];
  for (const cut of cuts) {
    await rejects(open(whole.subarray(0, cut)), "TRUNCATED", "ONNX 'm.onnx'");
  }
  // Cut exactly after the graph (a valid protobuf without opset_import): still TRUNCATED.
  const g = graph([node("Relu", ["x"], ["y"], "r")], []);
  await rejects(open(cat(fVarint(1, 7), fBytes(7, g))), "TRUNCATED", "no opset_import");
});

test("Gemm with transA = 1: read (never refused), its weights a distribution, its node layers left out with a note naming the node", async () => {
  const file = model(graph([node("Gemm", ["x", "W"], ["y"], "fc", [attrInt("transA", 1)])], [tensor({ name: "W", dims: [2, 3], raw: f32(W.flat()) })]));
  const m = await open(file);
  assert.equal(m.layers.map((l) => [l.name, l.kind, l.attributes?.transA]), [["W", "other", undefined], ["fc", "none", 1]]);
  const report = await analyze(file, { name: "m.onnx" });
  assert.is(report.layers.find((l) => l.name === "W")!.linkWeights!.count, 6);
  assert.ok(report.notes.some((n) => n.includes("'fc'")), report.notes.join(" | "));
  assert.is(report.nodeLayers.length, 0);
});

test("limits: maxHeaderBytes (structure only, not raw_data), maxTensors, maxNameBytes", async () => {
  const big = tensor({ name: "W", dims: [1000], raw: new Uint8Array(4000) });
  const file = model(graph([], [big]));
  const m = await open(file, { limits: { maxHeaderBytes: 200 } });
  assert.is(m.tensors[0].byteLength, 4000, "raw_data does not count as header");
  await rejects(open(file, { limits: { maxHeaderBytes: 20 } }), "TOO_LARGE", "maxHeaderBytes = 20");
  const many = model(graph([], Array.from({ length: 5 }, (_, i) => tensor({ name: `t${i}`, dims: [1], raw: f32([i]) }))));
  await rejects(open(many, { limits: { maxTensors: 4 } }), "TOO_LARGE", "maxTensors = 4");
  await rejects(open(model(graph([], [tensor({ name: "x".repeat(100), dims: [1], raw: f32([1]) })])), { limits: { maxNameBytes: 50 } }), "TOO_LARGE", "maxNameBytes = 50");
});

test("bad wire types and field numbers: BAD_HEADER", async () => {
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [1], raw: f32([1]), extra: cat(tag(3, 3)) })]))), "BAD_HEADER", "group");
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [1], raw: f32([1]), extra: cat(tag(3, 7)) })]))), "BAD_HEADER", "not a protobuf wire type");
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [1], raw: f32([1]), extra: [0x00] })]))), "BAD_HEADER", "field number 0");
  await rejects(open(model(graph([], [tensor({ name: "W", dims: [1], raw: f32([1]), extra: cat(tag(4, 0), [1]) })]))), "BAD_HEADER", "wire type 0");
});

test("a one-shot stream: BAD_OPTION explaining why ONNX needs random access", async () => {
  const bytes = gemmModel(W, B);
  await rejects(analyze(chunkedStream(bytes, () => 7), { size: bytes.length, name: "m.onnx" }), "BAD_OPTION", "ONNX", "read at any offset");
});

test("unpacked float_data is decoded into memory; several packed runs too; an empty tensor is fine", async () => {
  const file = model(graph([node("Gemm", ["x", "W", "b"], ["y"], "fc", [attrInt("transB", 1)])], [
    tensor({ name: "W", dims: [2, 3], floatsUnpacked: W.flat() }),
    cat(fVarint(1, 2), fVarint(2, 1), fBytes(4, f32([1])), fBytes(4, f32([-1])), fString(8, "b")),
    tensor({ name: "Z", dims: [0, 5], floats: [] }),
  ], [valueInfo("x", [1, 3])]));
  const m = await open(file);
  const w = m.tensors.find((t) => t.name === "W") as PlacedTensorInfo;
  assert.equal(Array.from(new Float32Array(w.data!.slice().buffer)), W.flat());
  assert.equal(m.tensors.find((t) => t.name === "Z")!.byteLength, 0);
  assert.equal(m.layers.map((l) => l.kind), ["dense", "other"]);
});

test("property: mutated and truncated ONNX files end in a model or a CntError, never another exception", async () => {
  const base = new Uint8Array(readFileSync("test/fixtures/onnx/cnn.onnx"));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(base.length), async (flips, cut) => {
      const bytes = base.slice(0, Math.max(3, cut));
      for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
      try {
        await inspect(bytes, { name: "fuzz.onnx" });
      } catch (error) {
        const e = error as { name?: string; code?: string; message?: string };
        if (e.name !== "CntError" || e.code === "INTERNAL") throw error;
      }
    }),
    { numRuns: 300, seed: 20240611 },
  );
});

test("the same model from a file, a Blob and a buffer, with tiny and odd read chunks inside, gives one description", async () => {
  const bytes = new Uint8Array(readFileSync("test/fixtures/onnx/typed.onnx"));
  const a = await inspect(bytes);
  const b = await inspect(new Blob([bytes]));
  const dir = mkdtempSync(join(tmpdir(), "cntscope-onnx-"));
  mkdirSync(join(dir, "x"));
  writeFileSync(join(dir, "x", "typed.onnx"), bytes);
  const c = await inspect(await fileSource(join(dir, "x", "typed.onnx")));
  assert.equal(JSON.stringify({ ...b, name: a.name, bytes: a.bytes }), JSON.stringify(a));
  assert.equal(JSON.stringify({ ...c, name: a.name }), JSON.stringify(a));
  // A float stored right after a tag (fixed32) in a node attribute.
  const alpha = cat(fString(1, "alpha"), fFloat(2, 0.25), fVarint(20, 1));
  const m = await open(model(graph([node("LeakyRelu", ["x"], ["y"], "lr", [alpha])], [])));
  assert.equal(m.layers[0].attributes, { op: "activation", alpha: 0.25 });
});

test.run();
