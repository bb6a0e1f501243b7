import { test } from "uvu";
import * as assert from "uvu/assert";
import { detectCnt, openCnt, readCntHeader } from "../../../src/formats/cnt/read.js";
import { encodeCntHeader } from "../../../src/formats/cnt/write.js";
import { DATA_ALIGN, PREFIX_BYTES } from "../../../src/formats/cnt/layout.js";
import { memorySource } from "../../helpers/memory-source.js";
import { SAMPLE, cntFile, limits, sampleBytes } from "./fixtures.js";

test("write then open gives back every tensor with absolute, 64-aligned offsets", async () => {
  const file = await cntFile();
  const { offsets } = encodeCntHeader(SAMPLE);
  const header = await readCntHeader(memorySource(file, { name: "tiny.cnt" }), limits());
  const model = header.model;
  assert.is(model.format, "cnt");
  assert.is(model.name, "tiny.cnt");
  assert.is(model.bytes, file.length);
  assert.equal(model.inputShape, [4]);
  assert.is(header.dataStart % DATA_ALIGN, 0);
  assert.ok(header.dataStart >= PREFIX_BYTES + header.headerBytes);
  assert.equal(model.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength]), SAMPLE.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength]));
  model.tensors.forEach((t, i) => {
    assert.is(t.offset, header.dataStart + offsets[i]!);
    assert.is(t.offset % DATA_ALIGN, 0);
  });
});

test("tensor bytes sit at the offsets the header gives", async () => {
  const file = await cntFile();
  const model = await openCnt(memorySource(file), limits());
  for (const [i, t] of model.tensors.entries()) {
    const expected: number[] = [];
    for await (const chunk of sampleBytes(SAMPLE, i)) expected.push(...chunk);
    assert.equal(Array.from(file.subarray(t.offset, t.offset + t.byteLength)), expected, t.name);
  }
});

test("stats round-trip, including no finite value (null) and the NaN/Inf counts", async () => {
  const model = await openCnt(memorySource(await cntFile()), limits());
  assert.equal(model.tensors[0]!.stats, { min: -1.5, max: 2.25, nan: 1, posInf: 2, negInf: 0 });
  assert.equal(model.tensors[2]!.stats, { min: null, max: null, nan: 6, posInf: 0, negInf: 0 });
  assert.is(model.tensors[1]!.stats, undefined);
});

test("layers round-trip with kinds, layouts, activations and wire-code-0 values kept", async () => {
  const model = await openCnt(memorySource(await cntFile()), limits());
  const [fc1, fc2, flatten] = model.layers;
  assert.equal({ ...fc1, attributes: undefined }, { ...SAMPLE.layers[0], attributes: undefined });
  assert.equal(fc2, SAMPLE.layers[1]);
  assert.equal(flatten, { name: "flatten", kind: "none" });
});

test("attributes round-trip: int and float scalars, lists, empty list, text, a '__proto__' key", async () => {
  const model = await openCnt(memorySource(await cntFile()), limits());
  const attributes = model.layers[0]!.attributes!;
  assert.is(Object.getPrototypeOf(attributes), null);
  assert.equal({ ...attributes }, { ...SAMPLE.layers[0]!.attributes });
  assert.is(Object.getOwnPropertyDescriptor(attributes, "__proto__")?.value, 7);
  assert.equal(attributes.strides, [1, 2]);
  assert.is(attributes.units, 3);
  assert.is(attributes.alpha, 0.25);
  assert.equal(attributes.none, []);
});

test("header keeps the model name, producer and metadata in a Map", async () => {
  const header = await readCntHeader(memorySource(await cntFile()), limits());
  assert.is(header.modelName, "tiny-mlp");
  assert.is(header.producer, "cntscope test");
  assert.equal([...header.metadata], [["source", "unit test"], ["__proto__", "a plain key"]]);
});

test("a model without tensors or layers opens as an empty model", async () => {
  const file = await cntFile({ name: "nothing", layers: [], tensors: [] });
  const model = await openCnt(memorySource(file), limits());
  assert.equal(model.tensors, []);
  assert.equal(model.layers, []);
  assert.is(model.inputShape, undefined);
});

test("a stream of unknown size opens (data-region end is checked later, by the tensor reader)", async () => {
  const file = await cntFile();
  const model = await openCnt(memorySource(file, { size: null }), limits());
  assert.is(model.bytes, undefined);
  assert.is(model.tensors.length, SAMPLE.tensors.length);
});

test("detectCnt recognises the magic and nothing else", async () => {
  assert.ok(detectCnt(await cntFile()));
  assert.ok(detectCnt(new TextEncoder().encode("CNTS")));
  assert.not.ok(detectCnt(new TextEncoder().encode("CNT")));
  assert.not.ok(detectCnt(new TextEncoder().encode('{"__metadata__":{}}')));
  assert.not.ok(detectCnt(new Uint8Array(0)));
});

test.run();
