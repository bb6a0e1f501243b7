// GGUF reader: the tiny Llama of test/fixtures/gguf/make_gguf_fixtures.py (every type cntscope
// reads, written by llama.cpp's gguf-py) against its float64 reference of the dequantized values
// and the Llama template's node strengths; every source kind and block size; convert to .cnt;
// and the hostile inputs of hostile-inputs.md that GGUF's fields allow.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, convertToCnt, inspect } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import type { Report } from "../../src/report/types.js";
import { checkReport, type Expected } from "../helpers/graph-expected.js";
import { rejects } from "../helpers/rejects.js";
import { chunkedStream } from "../helpers/sources.js";
import { firstDifference } from "../helpers/diff.js";
import { cat, GGML, GGUF_VALUE, ggufString, u32, u64, writeGguf, type GgufKv, type GgufTensorSpec } from "../fixtures/gguf/writer.js";

const PATH = "test/fixtures/gguf/tiny-llama.gguf";
const BYTES = new Uint8Array(readFileSync(PATH));
const EXPECTED = JSON.parse(readFileSync("test/fixtures/gguf/tiny-llama.expected.json", "utf8")) as Expected & { types: Record<string, string> };

/** The measured content of a report (layers without tensor names, node layers, notes). */
function content(report: Report, dropQuant = false) {
  return JSON.parse(JSON.stringify({ layers: report.layers.map((l) => ({ ...l, tensors: undefined, quant: dropQuant ? undefined : l.quant })), nodeLayers: report.nodeLayers, notes: report.notes }, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v)));
}

/** Same structure, every number within 1e-12 relative (1e-15 absolute). */
function assertNumbersClose(a: unknown, b: unknown, path: string): void {
  if (typeof a === "number" && typeof b === "number") {
    assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) + 1e-15, `${path}: ${a} vs ${b}`);
  } else if (a && b && typeof a === "object" && typeof b === "object") {
    assert.equal(Object.keys(a), Object.keys(b), path);
    for (const k of Object.keys(a)) assertNumbersClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  } else assert.is(a, b, path);
}

test("tiny Llama: every tensor's dequantized distribution and every node layer match the float64 reference", async () => {
  const report = await analyze(await fileSource(PATH), { perNode: true });
  assert.is(report.source.format, "gguf");
  checkReport(report, EXPECTED, "tiny-llama.gguf");
});

test("tiny Llama: each layer names its stored quantization; dtype is what the values are measured in", async () => {
  const report = await analyze(BYTES);
  let quantized = 0;
  for (const [tensor, type] of Object.entries(EXPECTED.types)) {
    const layer = report.layers.find((l) => l.tensors.weight === tensor)!;
    assert.ok(layer, tensor);
    if (["F32", "F16", "BF16"].includes(type)) {
      assert.is(layer.quant, undefined, tensor);
      assert.is(layer.dtype, type.toLowerCase(), tensor);
    } else {
      assert.is(layer.quant, type, tensor);
      assert.is(layer.dtype, "f32", tensor);
      quantized++;
    }
  }
  assert.is(quantized, 19);
});

test("inspect: shapes are ne reversed ([out, in]), metadata kept, arrays summarised, the Llama template picked", async () => {
  const info = await inspect(BYTES, { name: "tiny-llama.gguf" });
  const byName = new Map(info.tensors.map((t) => [t.name, t]));
  assert.equal(byName.get("blk.0.ffn_down.weight")!.shape, [64, 256]);
  assert.equal(byName.get("blk.1.attn_k.weight")!.shape, [32, 64]);
  assert.equal(byName.get("token_embd.weight")!.shape, [96, 64]);
  assert.equal(byName.get("blk.2.ffn_down.weight")!.decode, { values: { kind: "gguf", type: "Q6_K" } });
  assert.is(info.metadata!["general.architecture"], "llama");
  assert.is(info.metadata!["llama.block_count"], "3");
  assert.is(info.metadata!["tokenizer.ggml.tokens"], "[96 x STRING]");
  assert.ok(info.notes!.some((n) => n.includes("llama-gguf block template")), info.notes!.join(" | "));
  assert.ok(info.notes!.some((n) => n.includes("permuted within each head")));
  const offsets = info.tensors.map((t) => t.offset);
  assert.equal(offsets, [...offsets].sort((a, b) => a - b), "tensors in file order");
});

test("every source kind and block size gives the same report (blocks never split across reads or bands)", async () => {
  const reference = content(await analyze(BYTES));
  // Reads of at least KERNEL_ELEMENTS values give the same sums bit for bit; smaller reads move the
  // kernels' f64 sums onto another grid (as for every dtype), so they agree to rounding.
  assert.is(firstDifference(content(await analyze(BYTES, { blockBytes: 4 << 20 })), reference), null, "blockBytes 4 MiB");
  for (const blockBytes of [64, 200, 1000, 4096]) {
    assertNumbersClose(content(await analyze(BYTES, { blockBytes })), reference, `blockBytes ${blockBytes}`);
  }
  assert.is(firstDifference(content(await analyze(new Blob([BYTES]))), reference), null, "Blob");
  assert.is(firstDifference(content(await analyze(BYTES.buffer.slice(0))), reference), null, "ArrayBuffer");
  // A one-shot stream bins its histograms from a fine histogram: compare the moments only.
  const streamed = await analyze(chunkedStream(BYTES, () => 777), { name: "s.gguf" });
  const plain = await analyze(BYTES);
  for (let i = 0; i < plain.layers.length; i++) {
    const a = streamed.layers[i].linkWeights, b = plain.layers[i].linkWeights;
    assert.equal(a && { ...a, histogram: undefined }, b && { ...b, histogram: undefined }, plain.layers[i].name);
  }
  assert.is(firstDifference(content(streamed).nodeLayers, reference.nodeLayers), null, "stream node layers");
  // A stream of declared size: the header is read only as far as it goes (the tensors follow it).
  const sized = await analyze(chunkedStream(BYTES, () => 999), { name: "s.gguf", size: BYTES.byteLength });
  assert.is(firstDifference(content(sized).nodeLayers, reference.nodeLayers), null, "stream of known size");
});

test("on worker threads (cntscope/node, workers: 3) the report is the same", async () => {
  const { analyzeFile } = await import("../../src/node/index.js");
  const reference = content(await analyze(BYTES));
  const threaded = await analyzeFile(PATH, { workers: 3 });
  assert.is(firstDifference(content(threaded), reference), null);
});

test("convert: quantized tensors are stored dequantized as f32 and the .cnt measures the same (quant names aside)", async () => {
  const chunks: Uint8Array[] = [];
  for await (const c of convertToCnt(BYTES, { name: "tiny-llama.gguf" })) chunks.push(c);
  const converted = await analyze(new Blob(chunks as BlobPart[]));
  assert.is(converted.source.format, "cnt");
  const original = await analyze(BYTES);
  // The .cnt holds the graph itself: the GGUF reader's notes (template, rotary permutation) are not repeated.
  assert.is(firstDifference({ ...content(converted, true), notes: [] }, { ...content(original, true), notes: [] }), null);
  const info = await inspect(new Blob(chunks as BlobPart[]));
  assert.is(info.tensors.find((t) => t.name === "blk.0.ffn_down.weight")!.dtype, "f32");
});

// ---------------------------------------------------------------------------------------------
// hostile inputs

const f32s = (n: number) => new Uint8Array(new Float32Array(n).fill(0.25).buffer);
const q8 = (blocks: number) => {
  const b = new Uint8Array(blocks * 34);
  for (let i = 0; i < blocks; i++) b.set([0x00, 0x3c], i * 34); // d = 1.0
  return b;
};
const dense = (name: string, extra: Partial<GgufTensorSpec> = {}): GgufTensorSpec => ({ name, ne: [32, 4], type: GGML.Q8_0, data: q8(4), ...extra });
const arch = { key: "general.architecture", type: GGUF_VALUE.STRING, value: ggufString("llama") };

test("a small handmade file reads (the writer the hostile cases mutate is right)", async () => {
  const report = await analyze(writeGguf({ kv: [arch], tensors: [dense("a.weight"), { name: "b.weight", ne: [4, 2], type: GGML.F32, data: f32s(8) }] }));
  assert.is(report.layers.find((l) => l.tensors.weight === "a.weight")!.linkWeights!.mean, 0);
  assert.is(report.layers.find((l) => l.tensors.weight === "a.weight")!.quant, "Q8_0");
});

const cases: [string, () => Uint8Array, string, string][] = [
  ["empty file", () => new Uint8Array(0), "TRUNCATED", "empty"],
  ["magic only", () => BYTES.slice(0, 10), "TRUNCATED", "fewer than the 24-byte header"],
  ["version 1", () => writeGguf({ version: 1, tensors: [dense("a.weight")] }), "BAD_HEADER", "version 1"],
  ["big-endian", () => writeGguf({ version: 0x03000000, tensors: [dense("a.weight")] }), "BAD_HEADER", "big-endian"],
  ["tensor count past the file", () => writeGguf({ tensorCount: 1n << 40n, tensors: [dense("a.weight")] }), "TRUNCATED", "tensor count"],
  ["tensor count 2^64 - 1", () => writeGguf({ tensorCount: (1n << 64n) - 1n, tensors: [dense("a.weight")] }), "TRUNCATED", "tensor count"],
  ["kv count past the file", () => writeGguf({ kvCount: 1n << 33n, kv: [arch], tensors: [dense("a.weight")] }), "TRUNCATED", "key/value count"],
  ["key string length past the file", () => writeGguf({ kv: [{ key: "x", type: GGUF_VALUE.U32, value: u32(1) }, { key: "y", type: GGUF_VALUE.STRING, value: ggufString("abc", 1n << 50n) }], tensors: [dense("a.weight")] }), "TRUNCATED", "declared 1125899906842624 bytes"],
  ["string value 2^64 - 1 long", () => writeGguf({ kv: [{ key: "y", type: GGUF_VALUE.STRING, value: ggufString("abc", (1n << 64n) - 1n) }], tensors: [dense("a.weight")] }), "TRUNCATED", "bytes remain"],
  ["array count past the file", () => writeGguf({ kv: [{ key: "a", type: GGUF_VALUE.ARRAY, value: cat(u32(GGUF_VALUE.U32), u64(1n << 40n)) }], tensors: [dense("a.weight")] }), "TRUNCATED", "item count"],
  ["array of strings count past the file", () => writeGguf({ kv: [{ key: "a", type: GGUF_VALUE.ARRAY, value: cat(u32(GGUF_VALUE.STRING), u64(1n << 30n)) }], tensors: [dense("a.weight")] }), "TRUNCATED", "item count"],
  ["nested arrays too deep", () => writeGguf({ kv: [{ key: "a", type: GGUF_VALUE.ARRAY, value: cat(...Array.from({ length: 6 }, () => cat(u32(GGUF_VALUE.ARRAY), u64(1))), u32(GGUF_VALUE.U8), u64(0)) }], tensors: [dense("a.weight")] }), "BAD_HEADER", "nests arrays"],
  ["unknown value type", () => writeGguf({ kv: [{ key: "a", type: 13, value: u32(0) }], tensors: [dense("a.weight")] }), "BAD_HEADER", "value type 13"],
  ["bool not 0 or 1", () => writeGguf({ kv: [{ key: "a", type: GGUF_VALUE.BOOL, value: new Uint8Array([7]) }], tensors: [dense("a.weight")] }), "BAD_HEADER", "bool"],
  ["key not UTF-8", () => writeGguf({ kv: [{ key: new Uint8Array([0x6b, 0xff]), type: GGUF_VALUE.U8, value: new Uint8Array([1]) }], tensors: [dense("a.weight")] }), "BAD_HEADER", "UTF-8"],
  ["duplicate key", () => writeGguf({ kv: [arch, arch], tensors: [dense("a.weight")] }), "BAD_HEADER", "appears twice"],
  ["alignment not a power of two", () => writeGguf({ kv: [{ key: "general.alignment", type: GGUF_VALUE.U32, value: u32(24) }], alignment: 24, tensors: [dense("a.weight")] }), "BAD_HEADER", "power of two"],
  ["alignment 0", () => writeGguf({ kv: [{ key: "general.alignment", type: GGUF_VALUE.U32, value: u32(0) }], tensors: [dense("a.weight")] }), "BAD_HEADER", "power of two"],
  ["alignment as a string", () => writeGguf({ kv: [{ key: "general.alignment", type: GGUF_VALUE.STRING, value: ggufString("32") }], tensors: [dense("a.weight")] }), "BAD_HEADER", "power of two"],
  ["duplicate tensor names", () => writeGguf({ tensors: [dense("a.weight"), dense("a.weight")] }), "BAD_HEADER", "described twice"],
  ["n_dims 5", () => writeGguf({ tensors: [dense("a.weight", { ne: [32, 1, 1, 1, 4] })] }), "BAD_SHAPE", "5 dims"],
  ["n_dims 0", () => writeGguf({ tensors: [dense("a.weight", { ne: [] })] }), "BAD_SHAPE", "0 dims"],
  ["n_dims 2^32 - 1", () => writeGguf({ tensors: [dense("a.weight", { nDims: 0xffffffff })] }), "BAD_SHAPE", "4294967295 dims"],
  ["dims overflowing 2^53", () => writeGguf({ tensors: [dense("a.weight", { ne: [1n << 30n, 1n << 30n] })] }), "BAD_SHAPE", "exceeds 2^53"],
  ["f32 size of a quantized tensor past 2^53", () => writeGguf({ tensors: [dense("a.weight", { ne: [1n << 26n, 1n << 26n] })] }), "BAD_SHAPE", "byte size exceeds 2^53"],
  ["a dim of 2^64 - 1", () => writeGguf({ tensors: [dense("a.weight", { ne: [32, (1n << 64n) - 1n] })] }), "BAD_SHAPE", "above 2^53"],
  ["huge tensor in a tiny file", () => writeGguf({ tensors: [dense("a.weight", { ne: [1n << 20n, 1n << 20n] })] }), "OUT_OF_BOUNDS", "ends at data offset"],
  ["ne[0] not whole blocks", () => writeGguf({ tensors: [dense("a.weight", { ne: [48, 4], data: q8(6) })] }), "BAD_SHAPE", "not a whole number of 32-value blocks"],
  ["unknown ggml type", () => writeGguf({ tensors: [dense("a.weight", { type: 250 })] }), "BAD_DTYPE", "ggml type 250"],
  ["IQ2_XXS, a quantization not dequantized", () => writeGguf({ tensors: [{ name: "a.weight", ne: [256, 1], type: 16, data: new Uint8Array(66) }] }), "BAD_DTYPE", "'a.weight' is IQ2_XXS"],
  ["misaligned data offset", () => writeGguf({ tensors: [dense("a.weight", { offset: 4n })] }), "BAD_HEADER", "not a multiple of the alignment 32"],
  ["offset outside the file", () => writeGguf({ tensors: [dense("a.weight", { offset: 1n << 20n })] }), "OUT_OF_BOUNDS", "ends at data offset"],
  ["offset 2^64 - 32", () => writeGguf({ tensors: [dense("a.weight", { offset: (1n << 64n) - 32n })] }), "OUT_OF_BOUNDS", "above 2^53"],
  ["overlapping tensors", () => writeGguf({ tensors: [dense("a.weight"), dense("b.weight", { offset: 64n })] }), "OVERLAP", "share bytes"],
  ["one byte short", () => BYTES.slice(0, BYTES.byteLength - 1), "OUT_OF_BOUNDS", "ends at data offset"],
  ["cut inside the tensor infos", () => BYTES.slice(0, 2000), "TRUNCATED", "bytes remain"],
  ["only integer tensors", () => writeGguf({ tensors: [{ name: "pos", ne: [4], type: GGML.I32, data: new Uint8Array(16) }] }), "BAD_HEADER", "no tensors in a type"],
];

for (const [name, make, code, phrase] of cases) {
  test(`hostile: ${name} -> ${code}`, async () => {
    const bytes = make();
    const e = await rejects(() => analyze(bytes, { name: "h.gguf" }), code, phrase);
    if (bytes.byteLength > 0) assert.ok(e.message.startsWith("GGUF 'h.gguf'") || code === "TRUNCATED", e.message);
  });
}

test("hostile: the header above maxHeaderBytes is TOO_LARGE naming the limit", async () => {
  await rejects(() => analyze(BYTES, { limits: { maxHeaderBytes: 1024 } }), "TOO_LARGE", "maxHeaderBytes");
  await rejects(() => analyze(BYTES, { limits: { maxTensors: 10 } }), "TOO_LARGE", "maxTensors");
  await rejects(() => analyze(writeGguf({ tensors: [dense("x".repeat(100))] }), { limits: { maxNameBytes: 50 } }), "TOO_LARGE", "maxNameBytes");
});

test("hostile: a forged count in a stream of unknown size costs only the bytes that arrive", async () => {
  const bytes = writeGguf({ kv: [{ key: "a", type: GGUF_VALUE.STRING, value: ggufString("abc", 10_000_000n) }], tensors: [dense("a.weight")] });
  await rejects(() => analyze(chunkedStream(bytes, () => 7), { name: "s.gguf" }), "TRUNCATED", "");
});

test("hostile: names are escaped in messages", async () => {
  const e = await rejects(() => analyze(writeGguf({ tensors: [dense("evil\u001b[31m"), dense("evil\u001b[31m")] })), "BAD_HEADER", "twice");
  assert.not.match(e.message, /\u001b/);
});

test("detect: a GGUF whose tensor count puts '{' at byte 8 is still GGUF, not safetensors", async () => {
  const tensors = Array.from({ length: 0x7b }, (_, i) => ({ name: `t${i}`, ne: [4], type: GGML.F32, data: f32s(4) }));
  const info = await inspect(writeGguf({ tensors }));
  assert.is(info.format, "gguf");
  assert.is(info.tensors.length, 0x7b);
});

// ---------------------------------------------------------------------------------------------
// architectures

/** A one-block Llama in F32 with GGUF names (weights 0.25), `extra` tensors added, `drop` left out. */
function llamaBlock(archName: string, extra: GgufTensorSpec[] = [], drop: string[] = []): Uint8Array {
  return llamaBlockWith([{ key: "general.architecture", type: GGUF_VALUE.STRING, value: ggufString(archName) }], extra, drop);
}

function llamaBlockWith(kv: GgufKv[], extra: GgufTensorSpec[] = [], drop: string[] = []): Uint8Array {
  const D = 32, FF = 64, V = 40;
  const t = (name: string, ne: number[]): GgufTensorSpec => ({ name, ne, type: GGML.F32, data: f32s(ne.reduce((a, b) => a * b, 1)) });
  const tensors = [
    t("token_embd.weight", [D, V]), t("blk.0.attn_norm.weight", [D]), t("blk.0.attn_q.weight", [D, D]), t("blk.0.attn_k.weight", [D, 16]),
    t("blk.0.attn_v.weight", [D, 16]), t("blk.0.attn_output.weight", [D, D]), t("blk.0.ffn_norm.weight", [D]), t("blk.0.ffn_gate.weight", [D, FF]),
    t("blk.0.ffn_up.weight", [D, FF]), t("blk.0.ffn_down.weight", [FF, D]), t("output_norm.weight", [D]), t("output.weight", [D, V]), ...extra,
  ].filter((x) => !drop.includes(x.name));
  return writeGguf({ kv, tensors });
}

test("metadata that disagrees with the shapes gets a note; the fixture's agrees", async () => {
  const u32kv = (key: string, v: number) => ({ key, type: GGUF_VALUE.U32, value: u32(v) });
  const info = await inspect(BYTES);
  assert.not.ok(info.notes!.some((n) => n.includes(" but ") || n.includes("do not match")), info.notes!.join(" | "));
  const kv = [{ key: "general.architecture", type: GGUF_VALUE.STRING, value: ggufString("llama") }, u32kv("llama.block_count", 2), u32kv("llama.embedding_length", 48), u32kv("llama.feed_forward_length", 100), u32kv("llama.attention.head_count", 4), u32kv("llama.attention.head_count_kv", 4)];
  const notes = (await inspect(llamaBlockWith(kv))).notes!.join(" | ");
  for (const phrase of ["block_count is 2", "embedding_length is 48", "feed_forward_length is 100", "head_count_kv 4 do not match"]) assert.ok(notes.includes(phrase), `${phrase}: ${notes}`);
});

test("no output.weight: the output projection is token_embd.weight, as llama.cpp ties it", async () => {
  const report = await analyze(llamaBlock("llama", [], ["output.weight"]));
  const output = report.layers.find((l) => l.name === "output")!;
  assert.is(output.tensors.weight, "token_embd.weight");
  assert.is(report.coverage.weightedLayers, 8);
  assert.is(report.nodeLayers.at(-1)!.size, 40);
});

test("qwen2: attn_q/k/v biases are the dense layers' biases", async () => {
  const bias = (name: string, n: number): GgufTensorSpec => ({ name, ne: [n], type: GGML.F32, data: f32s(n) });
  const report = await analyze(llamaBlock("qwen2", [bias("blk.0.attn_q.bias", 32), bias("blk.0.attn_k.bias", 16), bias("blk.0.attn_v.bias", 16)]));
  const q = report.layers.find((l) => l.name === "blk.0.attn_q")!;
  assert.is(q.tensors.bias, "blk.0.attn_q.bias");
  assert.is(q.bias!.count, 32);
  assert.not.ok(report.layers.some((l) => l.kind === "other"), "every tensor placed");
});

test("an architecture without Llama's names is chained by shape, with a note", async () => {
  const report = await analyze(writeGguf({ kv: [{ key: "general.architecture", type: GGUF_VALUE.STRING, value: ggufString("mamba") }], tensors: [dense("a.weight"), { name: "b.weight", ne: [4, 2], type: GGML.F32, data: f32s(8) }] }));
  assert.ok(report.notes.some((n) => n.includes("'mamba'") && n.includes("chained by shape")), report.notes.join(" | "));
});

test("sliceTensor of GGUF blocks: whole blocks keep the coding; a cut inside a block is BAD_SHAPE", async () => {
  const { sliceTensor } = await import("../../src/source/tensor-bytes.js");
  const t = { name: "w", dtype: "f32" as const, shape: [2, 64], offset: 1000, byteLength: 512, decode: { values: { kind: "gguf" as const, type: "Q8_0" as const } } };
  const part = sliceTensor(t, "w[1]", [64], 64, 64);
  assert.equal(part, { name: "w[1]", dtype: "f32", shape: [64], offset: 1000 + 2 * 34, byteLength: 256, decode: { values: { kind: "gguf", type: "Q8_0" } } });
  await rejects(async () => sliceTensor(t, "x", [16], 16, 16), "BAD_SHAPE", "block");
});

test.run();
