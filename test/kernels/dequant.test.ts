// Dequantizing kernels (assembly/dequant.ts) against gguf-py's dequantize (and, for the K types,
// the fixture script's own element-by-element decoder): test/fixtures/gguf/dequant-vectors.json
// holds random blocks of every quantization (every quant bit pattern, finite scales, a subnormal
// d, -0) and the f32 bit patterns the reference gives. Every call size (odd block counts), every
// source alignment, and whole tensors of odd lengths through the reader and the tensor pass.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { DEQUANT_KERNEL } from "../../src/kernels/kernels.js";
import { Kernels, layout, mulberry32 } from "./_support.js";
import { GGML, writeGguf } from "../fixtures/gguf/writer.js";

type Quant = keyof typeof DEQUANT_KERNEL;
interface Vectors { blocks: number; blockBytes: number; blockElements: number; stored: string; f32: string }
const VECTORS = JSON.parse(readFileSync("test/fixtures/gguf/dequant-vectors.json", "utf8")) as Record<Quant, Vectors>;
const k = await Kernels.create();

const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

function run(quant: Quant, stored: Uint8Array, calls: number[], misalign: number): Uint32Array {
  const v = VECTORS[quant];
  const total = calls.reduce((a, b) => a + b, 0);
  const [src, dst] = layout(k, [stored.byteLength + 64, total * v.blockElements * 4 + 64]);
  k.bytes(src + misalign, stored.byteLength).set(stored);
  let at = 0;
  for (const n of calls) {
    k.exports[DEQUANT_KERNEL[quant]](src + misalign + at * v.blockBytes, dst + at * v.blockElements * 4, n);
    at += n;
  }
  return new Uint32Array(k.memory.buffer, dst, total * v.blockElements).slice();
}

function check(quant: Quant, got: Uint32Array, what: string): void {
  const want = new Uint32Array(fromBase64(VECTORS[quant].f32).buffer);
  assert.is(got.length, want.length, `${quant} ${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) assert.unreachable(`${quant} ${what}: value ${i} (block ${Math.floor(i / VECTORS[quant].blockElements)}) is 0x${got[i].toString(16)}, expected 0x${want[i].toString(16)}`);
  }
}

for (const quant of Object.keys(DEQUANT_KERNEL) as Quant[]) {
  test(`${quant}: every block in one call equals the reference bit for bit`, () => {
    const v = VECTORS[quant];
    assert.ok(v, `${quant} has vectors`);
    check(quant, run(quant, fromBase64(v.stored), [v.blocks], 0), "one call");
  });

  test(`${quant}: odd call sizes at every source alignment give the same bits`, () => {
    const v = VECTORS[quant];
    const rand = mulberry32(quant.length * 97 + v.blockBytes);
    for (const misalign of [1, 2, 3, 5, 15]) {
      const calls: number[] = [];
      for (let left = v.blocks; left > 0; ) {
        const n = Math.min(left, 1 + 2 * Math.floor(rand() * 3)); // 1, 3 or 5 blocks
        calls.push(n);
        left -= n;
      }
      check(quant, run(quant, fromBase64(v.stored), calls, misalign), `calls ${calls.join("+")}, source + ${misalign}`);
    }
  });

  test(`${quant}: a tensor of an odd number of blocks, read and measured, has the reference's moments`, async () => {
    const v = VECTORS[quant];
    const values = new Float32Array(fromBase64(v.f32).buffer);
    let sum = 0, min = Infinity, max = -Infinity;
    for (const x of values) {
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    const mean = sum / values.length;
    let m2 = 0;
    for (const x of values) m2 += (x - mean) * (x - mean);
    // Rows of one block: blocks rows (an odd count) of blockElements values.
    const bytes = writeGguf({ tensors: [{ name: "w.weight", ne: [v.blockElements, v.blocks], type: GGML[quant], data: fromBase64(v.stored) }] });
    for (const blockBytes of [64, 100, 3 * v.blockBytes + 64, 1 << 20]) {
      const report = await analyze(bytes, { blockBytes, name: `${quant}.gguf` });
      const d = report.layers.find((l) => l.tensors.weight === "w.weight")!.linkWeights!;
      assert.is(d.count, values.length);
      assert.is(d.min, min);
      assert.is(d.max, max);
      assert.ok(Math.abs(d.mean! - mean) <= 1e-12 * Math.max(1, Math.abs(mean)), `${quant} mean ${d.mean} vs ${mean}`);
      assert.ok(Math.abs(d.std! - Math.sqrt(m2 / values.length)) <= 1e-12 * Math.sqrt(m2 / values.length), `${quant} std`);
      assert.is(d.histogram.counts.reduce((a, b) => a + b, 0), values.length);
    }
  });
}

test("NaN and Inf scales: the pass counts the non-finite values a block's d makes, excluded from the moments", async () => {
  const block = new Uint8Array(34);
  block.set([0x00, 0x7c]); // d = +Inf
  for (let i = 2; i < 34; i++) block[i] = i - 18; // q from -16 to 15: one 0 (Inf * 0 = NaN)
  const good = new Uint8Array(34);
  good.set([0x00, 0x3c]); // d = 1
  for (let i = 2; i < 34; i++) good[i] = 1;
  const data = new Uint8Array(68);
  data.set(block);
  data.set(good, 34);
  const report = await analyze(writeGguf({ tensors: [{ name: "w.weight", ne: [32, 2], type: GGML.Q8_0, data }] }));
  const d = report.layers.find((l) => l.tensors.weight === "w.weight")!.linkWeights!;
  assert.equal([d.count, d.nan, d.posInf, d.negInf, d.mean, d.std], [32, 1, 15, 16, 1, 0]);
});

test.run();
