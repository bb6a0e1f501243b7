// What a well-formed header must also mean (hostile-inputs.md section 4, rule 9), and files
// above 4 GiB described without a 4 GiB allocation or a 32-bit wrap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openCnt } from "../../../src/formats/cnt/read.js";
import { encodeCntHeader } from "../../../src/formats/cnt/write.js";
import { sparseSource } from "../../helpers/memory-source.js";
import { limits, rawCnt, rejects, type RawLayer, type RawTensor } from "./fixtures.js";

const GiB = 1024 ** 3;

/** Open a raw head followed by `dataBytes` zero bytes of data region. */
function openRaw(tensors: RawTensor[], dataBytes = 4096, extra: { layers?: RawLayer[]; formatVersion?: number } = {}) {
  const head = rawCnt({ tensors, ...extra });
  return openCnt(sparseSource(head, head.length + dataBytes, "sem.cnt"), limits());
}

test("a raw header with valid fields opens (the baseline for the cases below)", async () => {
  const model = await openRaw([{ name: "a", offset: 0, length: 64 }, { name: "b", offset: 64, length: 64 }]);
  assert.equal(model.tensors.map((t) => t.name), ["a", "b"]);
});

test("a tensor offset that is not a multiple of 64 is BAD_HEADER", async () => {
  await rejects(openRaw([{ name: "w", offset: 32 }]), "BAD_HEADER", "'w'", "data offset 32", "not a multiple of 64");
});

test("overlapping tensors are OVERLAP naming both", async () => {
  const e = await rejects(openRaw([{ name: "first", offset: 0, shape: [32], length: 128 }, { name: "second", offset: 64 }]), "OVERLAP", "'second'", "'first'", "overlaps");
  assert.is(e.tensor, "second");
});

test("tensors out of order are OVERLAP naming both", async () => {
  await rejects(openRaw([{ name: "late", offset: 128 }, { name: "early", offset: 0 }]), "OVERLAP", "'early'", "starts before", "'late'");
});

test("offset u64 0xFFFFFFFFFFFFFFFF is OUT_OF_BOUNDS, never rounded", async () => {
  await rejects(openRaw([{ name: "w", offset: 2n ** 64n - 1n }]), "OUT_OF_BOUNDS", "'w'", "18446744073709551615");
});

test("offset 2^53 is OUT_OF_BOUNDS", async () => {
  await rejects(openRaw([{ name: "w", offset: 2n ** 53n }]), "OUT_OF_BOUNDS", "9007199254740992");
});

test("length not equal to element count times dtype width is BAD_DTYPE with expected vs got", async () => {
  const e = await rejects(openRaw([{ name: "w", shape: [4, 4], length: 32 }]), "BAD_DTYPE", "'w'", "length of 32 bytes", "take 64");
  assert.is(e.expected, 64);
  assert.is(e.actual, 32);
});

test("f16 width is used: [4, 4] f16 over 64 bytes is refused", async () => {
  await rejects(openRaw([{ name: "h", dtype: 1, shape: [4, 4], length: 64 }]), "BAD_DTYPE", "f16", "take 32");
});

test("duplicate tensor names are BAD_HEADER, not last-wins", async () => {
  await rejects(openRaw([{ name: "w", offset: 0 }, { name: "w", offset: 64 }]), "BAD_HEADER", "'w'", "twice");
});

test("a tensor ending past the data region is OUT_OF_BOUNDS", async () => {
  await rejects(openRaw([{ name: "w", offset: 64, shape: [16], length: 64 }], 100), "OUT_OF_BOUNDS", "'w'", "ends at data byte 128", "has 100 bytes");
});

test("a 16 GiB tensor declared in a tiny file is OUT_OF_BOUNDS", async () => {
  await rejects(openRaw([{ name: "huge", shape: [4 * GiB], length: 16 * GiB }], 1024), "OUT_OF_BOUNDS", "'huge'", "17,179,869,184");
});

test("a dim of 2^64 - 1 is BAD_SHAPE naming the dim", async () => {
  await rejects(openRaw([{ name: "w", shape: [2n ** 64n - 1n, 1] }]), "BAD_SHAPE", "Dim 0", "'w'");
});

test("a dim product above 2^53 is BAD_SHAPE", async () => {
  await rejects(openRaw([{ name: "w", shape: [2 ** 27, 2 ** 27, 2 ** 27] }]), "BAD_SHAPE", "exceeds 2^53");
});

test("stats with min above max are BAD_HEADER", async () => {
  await rejects(openRaw([{ name: "w", stats: { min: 2, max: 1 } }]), "BAD_HEADER", "min 2 and max 1");
});

test("stats counting more NaN than elements are BAD_HEADER", async () => {
  await rejects(openRaw([{ name: "w", stats: { min: 0, max: 1, nan: 17n } }]), "BAD_HEADER", "17 NaN", "16 elements");
});

test("a layer naming a weight that is not in the file is BAD_HEADER", async () => {
  await rejects(openRaw([{ name: "w" }], 4096, { layers: [{ name: "fc", weight: "missing" }] }), "BAD_HEADER", "'fc'", "'missing'");
});

test("duplicate layer names are BAD_HEADER", async () => {
  await rejects(openRaw([], 0, { layers: [{ name: "fc" }, { name: "fc" }] }), "BAD_HEADER", "layer 'fc'", "twice");
});

test("format_version in the header must match the prefix", async () => {
  await rejects(openRaw([], 0, { formatVersion: 2 }), "BAD_HEADER", "format_version 2");
});

test("a 5 GiB file with a 4.5 GiB tensor and one after it opens with exact absolute offsets", async () => {
  const big = 4.5 * GiB; // > 2^32: any 32-bit wrap or Uint8Array of this size would fail
  const { head, offsets } = encodeCntHeader({
    name: "big",
    layers: [],
    tensors: [
      { name: "huge", dtype: "f32", shape: [1179648, 1024], byteLength: big },
      { name: "after", dtype: "f32", shape: [16], byteLength: 64 },
    ],
  });
  assert.equal(offsets, [0, big]);
  const source = sparseSource(head, 5 * GiB, "big.cnt");
  const before = process.memoryUsage().arrayBuffers;
  const model = await openCnt(source, limits());
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, "no big allocation");
  assert.is(model.bytes, 5 * GiB);
  assert.is(model.tensors[0]!.byteLength, big);
  assert.is(model.tensors[1]!.offset, head.length + big);
  assert.ok(model.tensors[1]!.offset > 2 ** 32);
  assert.ok(source.reads.every(([, length]) => length <= head.length), "only the prefix and header were read");
});

test("a stream of unknown size still refuses what it can check (alignment, overlap, 2^53)", async () => {
  const head = rawCnt({ tensors: [{ name: "w", offset: 32 }] });
  await rejects(openCnt(sparseSource(head, undefined), limits()), "BAD_HEADER", "not a multiple of 64");
  const far = rawCnt({ tensors: [{ name: "w", offset: 2n ** 53n - 64n }] });
  await rejects(openCnt(sparseSource(far, undefined), limits()), "OUT_OF_BOUNDS", "beyond byte 2^53");
});

test.run();
