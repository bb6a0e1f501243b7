// The writer: 64-byte placement, the prefix, streaming, and refusing what the reader would refuse.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodeCntHeader, writeCnt, type CntModelInput, type CntTensorInput } from "../../../src/formats/cnt/write.js";
import { CNT_VERSION, DATA_ALIGN, PREFIX_BYTES } from "../../../src/formats/cnt/layout.js";
import { rejects, throws } from "./fixtures.js";

const tensor = (name: string, shape: number[], byteLength = shape.reduce((a, b) => a * b, 1) * 4): CntTensorInput => ({ name, dtype: "f32", shape, byteLength });
const model = (tensors: CntTensorInput[], layers: CntModelInput["layers"] = []): CntModelInput => ({ name: "m", layers, tensors });

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of gen) out.push(chunk);
  return out;
}

test("tensors get consecutive 64-aligned offsets; zero-size tensors take no room", () => {
  const { offsets, dataBytes } = encodeCntHeader(model([tensor("a", [12]), tensor("b", [3]), tensor("z", [0, 5]), tensor("c", [2])]));
  assert.equal(offsets, [0, 64, 128, 128]);
  assert.is(dataBytes, 192);
});

test("the head is prefix + header + padding to a multiple of 64", () => {
  const { head } = encodeCntHeader(model([tensor("a", [1])]));
  const view = new DataView(head.buffer, head.byteOffset);
  assert.is(new TextDecoder().decode(head.subarray(0, 4)), "CNTS");
  assert.is(view.getUint16(4, true), CNT_VERSION);
  assert.is(view.getUint16(6, true), 0);
  const headerBytes = Number(view.getBigUint64(8, true));
  assert.is(new TextDecoder().decode(head.subarray(PREFIX_BYTES + 4, PREFIX_BYTES + 8)), "CNT1");
  assert.is(head.length % DATA_ALIGN, 0);
  assert.ok(head.length >= PREFIX_BYTES + headerBytes && head.length < PREFIX_BYTES + headerBytes + DATA_ALIGN);
  assert.ok(head.subarray(PREFIX_BYTES + headerBytes).every((b) => b === 0));
});

test("writeCnt streams the head, passes each chunk through untouched, then pads to 64", async () => {
  const chunkA = new Uint8Array(40).fill(1);
  const chunkB = new Uint8Array(8).fill(2);
  const m = model([tensor("a", [12]), tensor("b", [1])]);
  const out = await collect(writeCnt(m, (i) => (async function* () {
    if (i === 0) { yield chunkA; yield chunkB; } else yield new Uint8Array(4).fill(3);
  })()));
  const { head, dataBytes } = encodeCntHeader(m);
  assert.equal(out[0], head);
  assert.is(out[1], chunkA); // the same object: nothing was buffered or copied
  assert.is(out[2], chunkB);
  assert.equal(out.map((c) => c.length), [head.length, 40, 8, 16, 4, 60]);
  assert.is(out.reduce((n, c) => n + c.length, 0), head.length + dataBytes);
});

test("a tensor source that ends early is TRUNCATED; one that gives too much is BAD_SHAPE", async () => {
  const m = model([tensor("a", [4])]);
  await rejects(collect(writeCnt(m, () => (async function* () { yield new Uint8Array(8); })())), "TRUNCATED", "'a'", "gave 8 bytes", "declares 16");
  await rejects(collect(writeCnt(m, () => (async function* () { yield new Uint8Array(17); })())), "BAD_SHAPE", "'a'", "more than its declared 16");
});

test("duplicate tensor names are refused", () => {
  throws(() => encodeCntHeader(model([tensor("w", [1]), tensor("w", [1])])), "BAD_HEADER", "'w'", "twice");
});

test("byteLength must equal element count times dtype width", () => {
  throws(() => encodeCntHeader(model([tensor("w", [4, 4], 32)])), "BAD_DTYPE", "'w'", "declares 32 bytes", "take 64");
  throws(() => encodeCntHeader(model([{ name: "h", dtype: "f16", shape: [4], byteLength: 16 }])), "BAD_DTYPE", "take 8");
});

test("unknown dtype, bad dims and bad stats are refused", () => {
  throws(() => encodeCntHeader(model([{ name: "q", dtype: "i8" as never, shape: [1], byteLength: 1 }])), "BAD_DTYPE", "\"i8\"");
  throws(() => encodeCntHeader(model([tensor("n", [-1], 4)])), "BAD_SHAPE", "dim 0");
  throws(() => encodeCntHeader(model([{ ...tensor("s", [2]), stats: { min: 3, max: 1, nan: 0, posInf: 0, negInf: 0 } }])), "BAD_HEADER", "min 3 and max 1");
  throws(() => encodeCntHeader(model([{ ...tensor("s", [2]), stats: { min: 0, max: 1, nan: -1, posInf: 0, negInf: 0 } }])), "BAD_HEADER", "stats.nan");
});

test("layers must name existing tensors and use known kinds", () => {
  throws(() => encodeCntHeader(model([tensor("w", [1])], [{ name: "fc", kind: "dense", weight: "nope" }])), "BAD_HEADER", "'fc'", "'nope'");
  throws(() => encodeCntHeader(model([], [{ name: "x", kind: "attention" as never }])), "BAD_HEADER", "kind \"attention\"");
  throws(() => encodeCntHeader(model([], [{ name: "x", kind: "dense", attributes: { bad: { a: 1 } as never } }])), "BAD_HEADER", "'bad'");
});

test.run();
