// The lazy protobuf wire reader under the ONNX reader, and ONNX detection by content.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "../../src/entry/node-core.js";
import { detect } from "../../src/formats/onnx/read.js";
import { ProtoReader, WIRE_I32, WIRE_LEN, WIRE_VARINT } from "../../src/formats/shared/protobuf.js";
import { memorySource as plainMemory } from "../../src/source/memory.js";
import { memorySource } from "../helpers/memory-source.js";
import { cat, fBytes, fFloat, fString, fVarint, gemmModel, graph, model, node, tensor } from "./onnx-wire.js";
import { rejects } from "./onnx-support.js";

const reader = (bytes: Uint8Array, options: Partial<ConstructorParameters<typeof ProtoReader>[1]> = {}) =>
  new ProtoReader(plainMemory(bytes, "t.pb"), { format: "ONNX", maxHeaderBytes: 1 << 20, maxDepth: 8, ...options });

test("varints: 1 to 10 bytes, unsigned up to 2^53 - 1, int64 negatives as two's complement", async () => {
  const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1];
  const r = reader(cat(...values.map((v) => fVarint(1, v)), fVarint(2, -1n), fVarint(2, -(2n ** 40n)), fVarint(3, 2n ** 53n)));
  const m = r.root();
  const got: number[] = [];
  while (await m.next()) {
    assert.is(m.wire, WIRE_VARINT);
    if (m.field === 1) got.push(m.uint("u"));
    else if (m.field === 2) got.push(m.int("i"));
    else assert.throws(() => m.uint("big"), /not an integer in \[0, 2\^53\)/);
  }
  assert.equal(got, [...values, -1, -(2 ** 40)]);
  assert.is(r.decoded, r.size, "every byte of a message of scalars is decoded and counted");
});

test("length-delimited fields are located, not read; strings are read on request; fixed32 floats", async () => {
  const payload = new Uint8Array(5000).fill(7);
  const bytes = cat(fString(1, "héllo"), fBytes(2, payload), fFloat(3, 1.5));
  const source = memorySource(bytes);
  const r = new ProtoReader(source, { format: "ONNX", maxHeaderBytes: 100, maxDepth: 4, minChunk: 16, maxChunk: 64 });
  const m = r.root();
  assert.ok(await m.next());
  assert.is(await m.string(100, "s"), "héllo");
  assert.ok(await m.next());
  assert.equal([m.field, m.wire, m.offset, m.length], [2, WIRE_LEN, 11, 5000]);
  assert.ok(await m.next());
  assert.equal([m.field, m.wire, await m.float()], [3, WIRE_I32, 1.5]);
  assert.ok(!(await m.next()));
  const read = source.reads.reduce((n, [, len]) => n + len, 0);
  assert.ok(read < 200, `read ${read} bytes of ${bytes.length}: the 5,000-byte payload was skipped`);
  assert.ok(r.decoded < 100, "skipped payloads are not counted against maxHeaderBytes");
});

test("a model with a 4 MiB weight is described after reading a few KiB (raw_data is never read)", async () => {
  const n = 1 << 20;
  const w = tensor({ name: "big", dims: [n / 4, 4], raw: new Uint8Array(n * 4) });
  const file = model(graph([node("Gemm", ["x", "big"], ["y"], "fc", [])], [w]));
  const source = memorySource(file);
  const m = await inspect(source);
  assert.is(m.tensors[0].byteLength, n * 4);
  const read = source.reads.reduce((sum, [, len]) => sum + len, 0);
  assert.ok(read < 64 * 1024, `read ${read} of ${file.length} bytes`);
});

test("window sizes from 1 byte up give the same walk", async () => {
  const bytes = new Uint8Array(readFileSync("test/fixtures/onnx/typed.onnx"));
  const walk = async (minChunk: number, maxChunk: number) => {
    const out: unknown[] = [];
    const visit = async (m: ReturnType<ProtoReader["root"]>, depth: number): Promise<void> => {
      while (await m.next()) {
        out.push([depth, m.field, m.wire, m.at, m.lo, m.hi, m.length]);
        // Descend into what looks like a message: graph (7), nodes (1 in graph), initializers (5).
        if (m.wire === WIRE_LEN && depth < 2 && ((depth === 0 && m.field === 7) || (depth === 1 && (m.field === 1 || m.field === 5)))) await visit(m.child("x"), depth + 1);
      }
    };
    await visit(new ProtoReader(plainMemory(bytes), { format: "ONNX", maxHeaderBytes: 1 << 20, maxDepth: 8, minChunk, maxChunk }).root(), 0);
    return out;
  };
  const reference = await walk(4096, 1 << 20);
  for (const [a, b] of [[1, 1], [1, 7], [3, 64], [64, 64]]) assert.equal(await walk(a, b), reference, `chunks ${a}..${b}`);
});

test("maxHeaderBytes counts structure bytes: TOO_LARGE naming the limit", async () => {
  const r = reader(cat(...Array.from({ length: 50 }, (_, i) => fVarint(1, i))), { maxHeaderBytes: 40 });
  const m = r.root();
  await rejects((async () => { while (await m.next()); })(), "TOO_LARGE", "maxHeaderBytes = 40", "ONNX 't.pb'");
});

test("detect: ONNX by content; not safetensors, JSON, HTML, other protobufs or too few bytes", async () => {
  for (const f of ["mlp.onnx", "cnn.onnx", "typed.onnx", "external/mlp.onnx"]) assert.ok(detect(new Uint8Array(readFileSync(`test/fixtures/onnx/${f}`)).subarray(0, 64)), f);
  assert.ok(detect(new Uint8Array(readFileSync("node_modules/openwakeword-js/models/hello_deepa.onnx")).subarray(0, 64)));
  assert.ok(detect(gemmModel([[1]], [0]).subarray(0, 64)));
  const no = [
    new Uint8Array(readFileSync("test/fixtures/onnx/mlp.safetensors")).subarray(0, 64),
    new TextEncoder().encode('{"format": "layers-model"}'),
    new TextEncoder().encode("<!doctype html><html>"),
    new Uint8Array([0x08, 0x07]),
    new Uint8Array([0x08, 0x00, 0x12, 0x01, 0x41]), // ir_version 0
    cat(fString(1, "node"), fString(2, "x")), // a TF GraphDef-like message starting 0x0a
    cat(fVarint(1, 7), fVarint(9, 1)), // field 9 is not a ModelProto field
    cat(fVarint(1, 7), fVarint(2, 1)), // producer_name with the wrong wire type
  ];
  no.forEach((bytes, i) => assert.not.ok(detect(bytes), `case ${i}`));
  // A safetensors file named .onnx is read as safetensors, by content.
  const m = await inspect(readFileSync("test/fixtures/onnx/mlp.safetensors"), { name: "mlp.onnx" });
  assert.is(m.format, "safetensors");
  // Random bytes are not ONNX: BAD_MAGIC listing the formats.
  await rejects(inspect(new Uint8Array([0x08, 0x07, 0x7f, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), { name: "x.onnx" }), "BAD_MAGIC", "onnx");
});

test.run();
