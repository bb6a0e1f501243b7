// The 16-byte prefix and the header length: checked before anything is allocated from them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openCnt } from "../../../src/formats/cnt/read.js";
import { PREFIX_BYTES, encodePrefix } from "../../../src/formats/cnt/layout.js";
import { memorySource, sparseSource } from "../../helpers/memory-source.js";
import { cntFile, limits, rejects } from "./fixtures.js";

const MB = 1024 * 1024;

function prefixWith(headerBytes: bigint, version = 1): Uint8Array {
  const prefix = encodePrefix(0);
  const view = new DataView(prefix.buffer);
  view.setUint16(4, version, true);
  view.setBigUint64(8, headerBytes, true);
  return prefix;
}

test("an empty file is TRUNCATED and says so", async () => {
  const e = await rejects(openCnt(memorySource(new Uint8Array(0), { name: "empty.cnt" }), limits()), "TRUNCATED", "'empty.cnt'", "is empty", "16");
  assert.is(e.format, "cnt");
});

test("3 bytes of a .cnt file is TRUNCATED with expected vs got", async () => {
  const file = (await cntFile()).subarray(0, 3);
  const e = await rejects(openCnt(memorySource(file), limits()), "TRUNCATED", "has 3 bytes", "needs 16");
  assert.is(e.expected, 16);
  assert.is(e.actual, 3);
});

test("a stream that ends inside the prefix is TRUNCATED with the source's error as cause", async () => {
  const e = await rejects(openCnt(memorySource(new TextEncoder().encode("CNTS"), { size: null }), limits()), "TRUNCATED", "16-byte prefix");
  assert.ok(e.cause);
});

test("bad magic is BAD_MAGIC showing the bytes found", async () => {
  const bytes = new Uint8Array(64);
  bytes.set([0x50, 0x4b, 0x03, 0x04]);
  await rejects(openCnt(memorySource(bytes, { name: "model.zip" }), limits()), "BAD_MAGIC", "'model.zip'", "CNTS", "50 4b 03 04");
});

test("version 9 is refused naming the highest version we read", async () => {
  const file = await cntFile();
  file.set(prefixWith(new DataView(file.buffer).getBigUint64(8, true), 9));
  const e = await rejects(openCnt(memorySource(file), limits()), "BAD_MAGIC", "version 9", "version 1 at most");
  assert.is(e.actual, 9);
});

test("non-zero reserved bytes are refused", async () => {
  const file = await cntFile();
  file[6] = 1;
  await rejects(openCnt(memorySource(file), limits()), "BAD_HEADER", "reserved bytes 6-7");
});

test("a header length past the end of the file is TRUNCATED", async () => {
  const file = await cntFile();
  new DataView(file.buffer).setBigUint64(8, BigInt(file.length), true);
  await rejects(openCnt(memorySource(file), limits()), "TRUNCATED", "declares a", `only ${(file.length - 16).toLocaleString("en-US")} bytes follow`);
});

test("header length 2^64 - 1 is refused without reading past the prefix", async () => {
  const source = sparseSource(prefixWith(2n ** 64n - 1n), 1024);
  await rejects(openCnt(source, limits()), "TRUNCATED", "18,446,744,073,709,551,615-byte header");
  assert.equal(source.reads, [[0, PREFIX_BYTES]]);
});

test("header length 2^64 - 1 in a stream of unknown size is TOO_LARGE naming maxHeaderBytes", async () => {
  const source = sparseSource(prefixWith(2n ** 64n - 1n), undefined);
  await rejects(openCnt(source, limits()), "TOO_LARGE", "maxHeaderBytes");
  assert.equal(source.reads, [[0, PREFIX_BYTES]]);
});

test("header of 200 MB in a 300 MB source is TOO_LARGE before any allocation", async () => {
  const source = sparseSource(prefixWith(200n * BigInt(MB)), 300 * MB, "big.cnt");
  const before = process.memoryUsage().arrayBuffers;
  await rejects(openCnt(source, limits()), "TOO_LARGE", "maxHeaderBytes", "'big.cnt'");
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 * MB, "no header-sized buffer was allocated");
  assert.equal(source.reads, [[0, PREFIX_BYTES]]);
});

test("a header above the FlatBuffers 2 GiB maximum is TOO_LARGE even when maxHeaderBytes allows it", async () => {
  const source = sparseSource(prefixWith(3n * 1024n * BigInt(MB)), 5 * 1024 * MB);
  await rejects(openCnt(source, limits({ maxHeaderBytes: 2 ** 32 })), "TOO_LARGE", "FlatBuffers maximum");
  assert.equal(source.reads, [[0, PREFIX_BYTES]]);
});

test("a header length below 12 is BAD_HEADER", async () => {
  const bytes = new Uint8Array(64);
  bytes.set(prefixWith(8n));
  await rejects(openCnt(memorySource(bytes), limits()), "BAD_HEADER", "at least 12");
});

test("a stream that ends inside the header is TRUNCATED naming the header", async () => {
  const file = (await cntFile()).subarray(0, 40);
  await rejects(openCnt(memorySource(file, { size: null }), limits()), "TRUNCATED", "inside its", "header");
});

test("the header is read into a buffer of exactly its own length", async () => {
  const file = await cntFile();
  const source = memorySource(file);
  await openCnt(source, limits());
  const headerBytes = Number(new DataView(file.buffer).getBigUint64(8, true));
  assert.equal(source.reads, [[0, PREFIX_BYTES], [PREFIX_BYTES, headerBytes]]);
});

test.run();
