// Input samples and labels from .npy/.npz files (src/forward/inputs/npy.ts, npz.ts): every file
// written by numpy (test/fixtures/forward/make_inputs.py), every expected value from its
// expected.json (float64, as numpy holds them) or the rule the generator states.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileLabels, npySamples, textLabels } from "../../src/forward/inputs/npy.js";
import { npzSamples } from "../../src/forward/inputs/npz.js";
import type { SampleSource } from "../../src/forward/inputs/types.js";
import { memorySource } from "../../src/source/memory.js";
import type { ByteSource } from "../../src/source/types.js";
import { rejects } from "../helpers/rejects.js";

const dir = "test/fixtures/forward/inputs";
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, "utf8")) as Record<string, { shape: number[]; values: number[] }> & { "two.npz": { count: number; pixels_sum: number; ids_sum: number } };

/** A file in memory whose reads are recorded (offset, length). */
function recorded(name: string): { source: ByteSource; reads: [number, number][] } {
  const inner = memorySource(readFileSync(`${dir}/${name}`), name);
  const reads: [number, number][] = [];
  return {
    reads,
    source: {
      ...inner,
      async readInto(offset, dest) {
        reads.push([offset, dest.byteLength]);
        return inner.readInto(offset, dest);
      },
    },
  };
}

const open = (name: string) => memorySource(readFileSync(`${dir}/${name}`), name);

async function readAll(samples: SampleSource, name: string, batch: number): Promise<Float32Array> {
  const per = samples.inputs.find((i) => i.name === name)!.sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(samples.count * per);
  for (let first = 0; first < samples.count; first += batch) {
    const n = Math.min(batch, samples.count - first);
    await samples.read(name, first, n, out.subarray(first * per, (first + n) * per));
  }
  return out;
}

const DTYPE_FILES = Object.keys(expected).filter((k) => /^x_.*\.npy$/.test(k) && k !== "x_fortran.npy");

test("every dtype, both byte orders and header versions 1, 2, 3: values widened to f32 exactly as numpy holds them", async () => {
  assert.ok(DTYPE_FILES.length >= 20, `${DTYPE_FILES.length} files`);
  for (const name of DTYPE_FILES) {
    const samples = await npySamples(open(name));
    const want = expected[name];
    assert.is(samples.count, want.shape[0], name);
    assert.equal(samples.inputs[0].sampleShape, want.shape.slice(1), name);
    assert.is(samples.inputs[0].name, name.slice(0, -4));
    assert.is(samples.inputs[0].kind, /_f\d|x_v\d/.test(name) ? "float" : "int", name);
    const got = await readAll(samples, samples.inputs[0].name, 2);
    assert.equal(Array.from(got), want.values.map(Math.fround), name);
  }
});

test("a read of samples [first, first+count) reads only those samples' bytes, into the caller's array", async () => {
  const { source, reads } = recorded("x_be_f8.npy");
  const samples = await npySamples(source, "x");
  const headerReads = reads.length;
  const into = new Float32Array(2 * 6);
  await samples.read("x", 3, 2, into);
  const dataReads = reads.slice(headerReads);
  assert.is(dataReads.length, 1);
  const dataOffset = readFileSync(`${dir}/x_be_f8.npy`).byteLength - 5 * 6 * 8;
  assert.equal(dataReads[0], [dataOffset + 3 * 6 * 8, 2 * 6 * 8]);
  assert.equal(Array.from(into), expected["x_be_f8.npy"].values.slice(18, 30).map(Math.fround));
  await rejects(() => samples.read("x", 4, 2, into), "BAD_OPTION", "samples 4 to 6 of input 'x' were asked for, but it holds 5");
  await rejects(() => samples.read("y", 0, 1, into), "BAD_OPTION", "no input named 'y'");
});

test("integers: 2^24 reads exactly; above 2^24 in magnitude is BAD_OPTION naming the file, input and sample", async () => {
  const edge = await readAll(await npySamples(open("int_edge.npy")), "int_edge", 4);
  assert.equal(Array.from(edge), [1, 2 ** 24, -(2 ** 24), 7]);
  const i4 = await npySamples(open("int_big_i4.npy"));
  const e = await rejects(() => readAll(i4, "int_big_i4", 1), "BAD_OPTION", "input 'int_big_i4' holds the integer 16777217 (sample 1)");
  assert.ok(e.message.startsWith("Inputs 'int_big_i4.npy':"), e.message);
  await rejects(async () => readAll(await npySamples(open("int_big_i8.npy")), "int_big_i8", 2), "BAD_OPTION", "holds the integer -16777217 (sample 1)");
});

test("Fortran order, complex dtypes, truncated data and a scalar are refused with the file named", async () => {
  await rejects(() => npySamples(open("x_fortran.npy")), "UNSUPPORTED_FORMAT", "Inputs 'x_fortran.npy': input 'x_fortran' of shape [4, 3] is stored in Fortran order");
  await rejects(() => npySamples(open("x_complex.npy")), "BAD_DTYPE", "Inputs 'x_complex.npy': the array has dtype '<c8'");
  const whole = readFileSync(`${dir}/x_le_f4.npy`);
  await rejects(() => npySamples(memorySource(whole.subarray(0, whole.byteLength - 1), "cut.npy")), "TRUNCATED", "Inputs 'cut.npy': input 'cut' is '<f4' of shape [5, 2, 3], which takes 120 bytes, but only 119 follow its header");
  await rejects(() => npySamples(memorySource(new TextEncoder().encode("not numpy at all"), "t.npy")), "BAD_MAGIC", "Inputs 't.npy'");
  const scalar = new Uint8Array(whole.byteLength);
  scalar.set(whole);
  const text = new TextDecoder("latin1").decode(scalar.subarray(10, 10 + 118));
  const edited = new TextEncoder().encode(text.replace("(5, 2, 3)", "()       "));
  scalar.set(edited, 10);
  await rejects(() => npySamples(memorySource(scalar.subarray(0, scalar.byteLength - 116), "s.npy")), "BAD_SHAPE", "input 's' is a scalar");
});

for (const kind of ["stored", "deflated"]) {
  test(`.npz (${kind}): named inputs with the same N, read in batches, forward and back`, async () => {
    const { source, reads } = recorded(`two_${kind}.npz`);
    const samples = await npzSamples(source);
    const want = expected["two.npz"];
    assert.is(samples.count, want.count);
    assert.equal(samples.inputs, [
      { name: "pixels", sampleShape: [40], kind: "float" },
      { name: "ids", sampleShape: [3], kind: "int" },
    ]);
    const before = reads.length;
    const pixels = await readAll(samples, "pixels", 64);
    const ids = await readAll(samples, "ids", 64);
    let p = 0;
    let sum = 0;
    for (let r = 0; r < want.count; r++) for (let c = 0; c < 40; c++, p++) {
      assert.is(pixels[p], ((r * 40 + c) * 7) % 251, `pixels[${r}, ${c}]`);
      sum += pixels[p];
    }
    assert.is(sum, want.pixels_sum);
    assert.is(ids.reduce((a, b) => a + b, 0), want.ids_sum);
    assert.is(ids[3 * 599 + 2], (599 * 3 + 2) % 5000);
    // Memory bounded by the batch: no read of the file is larger than a batch of pixels (64 x 40 x 4) or the inflater's chunk.
    const largest = Math.max(...reads.slice(before).map(([, n]) => n));
    assert.ok(largest <= 64 * 1024, `largest read ${largest}`);
    if (kind === "stored") assert.ok(largest <= 64 * 40 * 4, `largest read ${largest}`);
    // Back to an earlier batch (a second pass) and a batch in the middle, interleaved with the other input.
    const again = new Float32Array(5 * 40);
    await samples.read("pixels", 100, 5, again);
    assert.equal(Array.from(again), Array.from(pixels.subarray(100 * 40, 105 * 40)));
    const mid = new Float32Array(2 * 3);
    await Promise.all([samples.read("ids", 10, 2, mid), samples.read("pixels", 0, 5, again)]);
    assert.equal(Array.from(mid), Array.from(ids.subarray(30, 36)));
    assert.equal(Array.from(again), Array.from(pixels.subarray(0, 200)));
  });
}

test(".npz: inputs with different N, a deflated entry whose bytes are corrupt", async () => {
  await rejects(() => npzSamples(open("mismatch.npz")), "BAD_SHAPE", "Inputs 'mismatch.npz' entry 'b.npy': input 'b' has 5 samples but input 'a' has 4");
  const bytes = new Uint8Array(readFileSync(`${dir}/two_deflated.npz`));
  // Flip a byte in the middle of the first entry's deflate stream (pixels: bytes 30 to 1,113, its header in the first few).
  bytes[600] ^= 0xff;
  const samples = await npzSamples(memorySource(bytes, "bad.npz")).catch((e) => e);
  if (samples instanceof Error) {
    assert.ok(/BAD_HEADER|BAD_CHECKSUM|TRUNCATED/.test((samples as { code: string }).code), String(samples));
    return;
  }
  let error: unknown;
  try {
    await readAll(samples as SampleSource, "pixels", 600);
  } catch (e) {
    error = e;
  }
  assert.ok(error && /BAD_HEADER|BAD_CHECKSUM|TRUNCATED/.test((error as { code: string }).code), `corrupt entry read without error: ${String(error)}`);
});

test("labels: int64 (N,), int32 (N, 1) and a text column give the same class indices; floats and 2-D are refused", async () => {
  const want = expected["y_i8.npy"].values;
  for (const name of ["y_i8.npy", "y_i4_col.npy", "y.csv"]) {
    const labels = await fileLabels(open(name));
    assert.is(labels.count, want.length, name);
    const into = new Int32Array(4);
    await labels.read(6, 4, into);
    assert.equal(Array.from(into), want.slice(6, 10), name);
  }
  await rejects(() => fileLabels(open("y_f4.npy")), "BAD_DTYPE", "Labels 'y_f4.npy': labels are class indices, so integers");
  await rejects(() => fileLabels(open("y_2d.npy")), "BAD_SHAPE", "Labels 'y_2d.npy': labels need shape (N,) or (N, 1)");
  assert.throws(() => textLabels("label\n1\n2.5\n", "t.csv"), (e: Error) => e.message.includes("Labels 't.csv' line 3 is \"2.5\""));
  assert.throws(() => textLabels("1,2\n3,4\n", "t.csv"), (e: Error) => e.message.includes("line 1"));
});

test.run();
