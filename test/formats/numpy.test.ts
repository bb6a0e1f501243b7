// NumPy readers: real .npy files written by numpy (tfjs-npy@0.0.3 testdata, an exact
// devDependency), .npz/.npy fixtures from test/fixtures/numpy/make_numpy_fixtures.py (the MLP of
// mlp-f32.safetensors, whose report each .npz must reproduce), and hostile inputs.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rejects } from "../helpers/rejects.js";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { CntError } from "../../src/errors.js";
import { fileSource } from "../../src/node/file-source.js";
import { memorySource } from "../../src/source/memory.js";
import { parsePyLiteral, PyTuple } from "../../src/formats/numpy/header.js";
import type { AnalyzeOptions } from "../../src/options.js";
import type { Distribution, Report } from "../../src/report/types.js";
import { assertClose } from "../helpers/close.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";
import { chunkedStream } from "../helpers/sources.js";
import { storedZip } from "../helpers/zip-writer.js";

const dir = "test/fixtures/numpy";
const npyData = "node_modules/tfjs-npy/testdata";


/** A .npy file from a header text and data bytes (version 1.0 unless told). */
function npy(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const prefix = major === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + text.byteLength + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.byteLength, true);
  else view.setUint32(8, text.byteLength, true);
  out.set(text, prefix);
  out.set(data, prefix + text.byteLength);
  return out;
}

function assertSameDistribution(actual: Distribution | null, expected: Distribution | null, what: string): void {
  if (expected === null) return assert.is(actual, null, what);
  assert.ok(actual, `${what}: missing`);
  for (const k of ["count", "nan", "posInf", "negInf"] as const) assert.is(actual![k], expected[k], `${what}: ${k}`);
  for (const k of ["mean", "std", "min", "max"] as const) assertClose(actual![k], expected[k], 1e-12, `${what}: ${k}`);
  assert.equal(actual!.histogram.counts, expected.histogram.counts, `${what}: histogram counts`);
  assert.equal(actual!.histogram.edges, expected.histogram.edges, `${what}: histogram edges`);
}

/** Layers' distributions and node layers equal to 1e-12, histograms exact. */
function assertSameReport(actual: Report, expected: Report): void {
  assert.equal(actual.layers.map((l) => [l.name, l.kind, l.shape, l.params]), expected.layers.map((l) => [l.name, l.kind, l.shape, l.params]));
  actual.layers.forEach((l, i) => {
    assertSameDistribution(l.linkWeights, expected.layers[i].linkWeights, `${l.name} linkWeights`);
    assertSameDistribution(l.bias, expected.layers[i].bias, `${l.name} bias`);
  });
  assert.is(actual.nodeLayers.length, expected.nodeLayers.length, "node layers");
  actual.nodeLayers.forEach((n, i) => {
    const e = expected.nodeLayers[i];
    assert.is(n.size, e.size);
    for (const k of ["strength", "strengthIn", "strengthOut"] as const) assertSameDistribution(n[k], e[k], `node layer ${i} ${k}`);
    assertClose(n.fluctuation, e.fluctuation, 1e-12, `node layer ${i} fluctuation`);
  });
}

// ------------------------------------------------------------------ real .npy files (tfjs-npy)

test("tfjs-npy 1.npy (<f8, shape (2,)) is one array measured at f64 precision", async () => {
  const model = await inspect(await fileSource(`${npyData}/1.npy`));
  assert.is(model.format, "npy");
  assert.equal(model.tensors.map((t) => [t.name, t.dtype, t.shape, t.offset, t.byteLength]), [["1", "f64", [2], 80, 16]]);
  assert.equal(model.layers, [{ name: "1", kind: "other", weight: "1" }]);
  const report = await analyze(await fileSource(`${npyData}/1.npy`));
  const d = report.layers[0].linkWeights!;
  assert.equal([d.count, d.mean, d.std, d.min, d.max], [2, 2, 0.5, 1.5, 2.5]);
});

test("tfjs-npy 2.npy (<f8, (2, 2)) is one dense layer W [n_in, n_out] with node strengths", async () => {
  const report = await analyze(await fileSource(`${npyData}/2.npy`), { perNode: true });
  assert.is(report.layers[0].kind, "dense");
  assert.equal(report.layers[0].shape, [2, 2]);
  // [[1.5, 43], [13, 2.5]]: row sums leave the inputs, column sums enter the outputs.
  assert.equal(Array.from(report.nodeLayers[0].perNode!.sOut), [44.5, 15.5]);
  assert.equal(Array.from(report.nodeLayers[1].perNode!.sIn), [14.5, 45.5]);
});

test("tfjs-npy 4.npy (<f4) gives the f32 values", async () => {
  const report = await analyze(await fileSource(`${npyData}/4.npy`));
  const d = report.layers[0].linkWeights!;
  assert.equal([d.min, d.max], [Math.fround(0.1), Math.fround(0.2)]);
});

test("tfjs-npy 3.npy (<i8) and uint8.npy (|u1) are refused as not supported for metrics", async () => {
  const e = await rejects(async () => inspect(await fileSource(`${npyData}/3.npy`)), "BAD_DTYPE", "not supported for metrics");
  assert.ok(e.message.includes("'<i8' (int64)"), e.message);
  await rejects(async () => analyze(await fileSource(`${npyData}/uint8.npy`)), "BAD_DTYPE", "'|u1' (uint8)");
});

test("a .npy streams: the same report from a ReadableStream in 3-byte chunks", async () => {
  const bytes = readFileSync(`${npyData}/2.npy`);
  const whole = await analyze(bytes);
  const streamed = await analyze(chunkedStream(new Uint8Array(bytes), () => 3));
  assert.equal(streamed.layers[0].linkWeights!.mean, whole.layers[0].linkWeights!.mean);
  assert.equal(streamed.nodeLayers.map((n) => n.fluctuation), whole.nodeLayers.map((n) => n.fluctuation));
});

// ---------------------------------------------------------------- .npy fixtures (float64 refs)

for (const stem of ["w", "w-be", "w-fortran", "w-f8", "w-f2"]) {
  test(`${stem}.npy matches its float64 reference`, async () => {
    const expected = JSON.parse(readFileSync(`${dir}/${stem}.expected.json`, "utf8")) as ExpectedReport;
    const report = await analyze(await fileSource(`${dir}/${stem}.npy`), { perNode: true });
    assertMatchesExpected(report, expected, 1e-9);
  });
}

test("layouts: a C-order matrix is in_out; a Fortran-order one is its transpose, out_in", async () => {
  const c = await inspect(readFileSync(`${dir}/w.npy`), { name: "w.npy" });
  assert.equal([c.tensors[0].shape, c.layers[0].weightLayout], [[8, 16], "in_out"]);
  const f = await inspect(readFileSync(`${dir}/w-fortran.npy`), { name: "w-fortran.npy" });
  assert.equal([f.tensors[0].shape, f.layers[0].weightLayout], [[16, 8], "out_in"]);
  assert.is(f.metadata!.fortranOrder, "True");
  const be = await inspect(readFileSync(`${dir}/w-be.npy`));
  assert.equal((be.tensors[0] as { decode?: unknown }).decode, { values: { kind: "byteswap" } });
});

// ---------------------------------------------------------------------------------------- .npz

const safetensorsReport = () => analyze(readFileSync("test/fixtures/safetensors/mlp-f32.safetensors"));

for (const file of ["mlp-f32.npz", "mlp-f32-deflated.npz", "mlp-f32-zip64.npz", "mlp-keras.npz", "mlp-mixed.npz"]) {
  test(`${file} gives the report of mlp-f32.safetensors (1e-12, histograms exact)`, async () => {
    const report = await analyze(await fileSource(`${dir}/${file}`));
    assert.is(report.source.format, "npz");
    assertSameReport(report, await safetensorsReport());
  });
}

test("stored .npz entries are plain ranges: analyze() reads them with no decoding", async () => {
  const model = await inspect(readFileSync(`${dir}/mlp-f32.npz`));
  assert.ok(model.tensors.every((t) => !("decode" in t) && !("file" in t)));
  assertSameReport(await analyze(readFileSync(`${dir}/mlp-f32.npz`)), await safetensorsReport());
});

test("deflated .npz entries carry a deflate-raw part counted against the entry's size", async () => {
  const model = await inspect(readFileSync(`${dir}/mlp-f32-deflated.npz`));
  const t = model.tensors.find((t) => t.name === "fc2.weight") as unknown as { offset: number; decode: { parts: { offset: number; length: number; container: { kind: string; size: number } }[] } };
  assert.is(t.decode.parts.length, 1);
  assert.is(t.decode.parts[0].container.kind, "deflate-raw");
  assert.is(t.decode.parts[0].length, 12 * 16 * 4);
  assert.is(t.decode.parts[0].container.size, t.decode.parts[0].offset + 12 * 16 * 4);
});

test("PyTorch keys give out_in dense layers; Keras keys give in_out", async () => {
  const pt = await inspect(readFileSync(`${dir}/mlp-f32.npz`));
  assert.equal(pt.layers.map((l) => [l.name, l.kind, l.weightLayout, l.weight, l.bias]), [
    ["fc1", "dense", "out_in", "fc1.weight", "fc1.bias"],
    ["fc2", "dense", "out_in", "fc2.weight", "fc2.bias"],
    ["fc3", "dense", "out_in", "fc3.weight", "fc3.bias"],
  ]);
  const keras = await inspect(readFileSync(`${dir}/mlp-keras.npz`));
  assert.equal(keras.layers.map((l) => [l.name, l.kind, l.weightLayout, l.weight, l.bias]), [
    ["fc1", "dense", "in_out", "fc1/kernel", "fc1/bias"],
    ["fc2", "dense", "in_out", "fc2/kernel", "fc2/bias"],
    ["fc3", "dense", "in_out", "fc3/kernel", "fc3/bias"],
  ]);
});

test("an int64 array in a .npz is listed as skipped, not measured", async () => {
  const model = await inspect(readFileSync(`${dir}/mlp-mixed.npz`));
  assert.equal(model.skipped, [{ name: "num_batches_tracked", dtype: "<i8", shape: [], reason: "dtype <i8 (int64) is not supported for metrics" }]);
});

test("arr_0/arr_1 names say nothing: every array a distribution, a note naming the arrays (never refused); a lone arr_0 is one layer", async () => {
  const model = await inspect(readFileSync(`${dir}/arrays.npz`));
  assert.equal(model.layers.map((l) => [l.name, l.kind]), [["arr_0", "other"], ["arr_1", "other"]]);
  const report = await analyze(readFileSync(`${dir}/arrays.npz`));
  assert.equal(report.layers.map((l) => l.linkWeights!.count), [128, 16]);
  assert.is(report.nodeLayers.length, 0);
  assert.ok(report.notes.some((n) => n.includes("'arr_0' [8, 16], 'arr_1' [16]") && n.includes("PyTorch-style")), report.notes.join(" | "));
  const one = await inspect(readFileSync(`${dir}/one-array.npz`));
  assert.equal(one.layers, [{ name: "arr_0", kind: "dense", weight: "arr_0", weightLayout: "in_out" }]);
});

test("Keras-style names infer conv, depthwise, recurrent and norm layers and skip running statistics", async () => {
  // Built in memory with the zip writer below: the names and shapes are all that matter.
  const f32 = (n: number) => new Uint8Array(n * 4);
  const arrays: [string, string, number[]][] = [
    ["conv/kernel", "<f4", [3, 3, 2, 4]], ["conv/bias", "<f4", [4]],
    ["dw/depthwise_kernel", "<f4", [3, 3, 4, 2]],
    ["bn/gamma", "<f4", [8]], ["bn/beta", "<f4", [8]], ["bn/moving_mean", "<f4", [8]], ["bn/moving_variance", "<f4", [8]],
    ["lstm/kernel", "<f4", [8, 12]], ["lstm/recurrent_kernel", "<f4", [3, 12]], ["lstm/bias", "<f4", [12]],
    ["gru/kernel", "<f4", [3, 9]], ["gru/recurrent_kernel", "<f4", [3, 9]], ["gru/bias", "<f4", [2, 9]],
  ];
  const entries = arrays.map(([name, descr, shape]) => ({
    name: `${name}.npy`,
    data: npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }\n`, f32(shape.reduce((a, b) => a * b, 1))),
  }));
  const model = await inspect(storedZip(entries, 1));
  assert.equal(model.layers.map((l) => [l.name, l.kind, l.weightLayout ?? null]), [
    ["conv", "conv2d", "hwio"], ["dw", "conv2d", "hwio"], ["bn", "norm", null], ["lstm", "lstm", "in_out"], ["gru", "gru", "in_out"],
  ]);
  // Keras GRU reset_after bias [2, 9]: two byte ranges of the stored entry.
  const gru = model.layers[4];
  assert.equal([gru.bias, gru.recurrentBias, gru.attributes!.gateOrder, gru.attributes!.resetAfter], ["gru/bias[input]", "gru/bias[recurrent]", "zrh", 1]);
  const [bi, br] = ["gru/bias[input]", "gru/bias[recurrent]"].map((n) => model.tensors.find((t) => t.name === n)!);
  assert.equal([bi.shape, br.shape, br.offset - bi.offset, bi.byteLength], [[9], [9], 36, 36]);
  assert.equal(model.layers[1].attributes, { groups: 4, depthMultiplier: 2, storedShape: [3, 3, 4, 2] });
  assert.equal(model.tensors.find((t) => t.name === "dw/depthwise_kernel")!.shape, [3, 3, 1, 8]);
  assert.equal(model.layers[3].attributes, { hidden: 3, direction: "forward", gateOrder: "ifco" });
  assert.equal(model.skipped!.map((s) => s.name), ["bn/moving_mean", "bn/moving_variance"]);
});

// ------------------------------------------------------------------------------ the header grammar

test("the header literal grammar reads dicts, tuples, strings, ints, booleans and nothing else", () => {
  const v = parsePyLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") as Map<string, unknown>;
  assert.is(v.get("descr"), "<f4");
  assert.equal((v.get("shape") as PyTuple).items, [3n, 4n]);
  assert.equal((parsePyLiteral("(5,)") as PyTuple).items, [5n]);
  assert.equal((parsePyLiteral("()") as PyTuple).items, []);
  assert.is(parsePyLiteral("(7)"), 7n);
  assert.is(parsePyLiteral("10L"), 10n);
  for (const bad of ["__import__('os').system('x')", "{'a': 1.5}", "{1: 2}", "{'a': 1, 'a': 2}", "[" .repeat(40), "'x' + 'y'", "{'a': os}"]) {
    assert.throws(() => parsePyLiteral(bad), undefined, bad);
  }
});

// ------------------------------------------------------------------------------------ hostile

const header = (descr: string, shape: string, fortran = "False") => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

test("hostile .npy: object dtype is BAD_DTYPE and nothing is unpickled", async () => {
  await rejects(() => inspect(readFileSync(`${dir}/hostile/object.npy`)), "BAD_DTYPE", "never unpickles");
});

test("hostile .npy: a header length above 64 KiB is TOO_LARGE before anything is read", async () => {
  const bytes = npy("{}", new Uint8Array(0), 2);
  new DataView(bytes.buffer).setUint32(8, 0x7fffffff, true);
  await rejects(() => inspect(bytes), "TOO_LARGE", "header cap of 65,536");
});

test("hostile .npy: a header that is not a dict, or not a literal", async () => {
  await rejects(() => inspect(npy("[1, 2]\n")), "BAD_HEADER", "must be a dict");
  await rejects(() => inspect(npy("__import__('os').system('rm -rf /')\n")), "BAD_HEADER", "not a Python literal");
  await rejects(() => inspect(npy("{'descr': '<f4', 'fortran_order': False}\n")), "BAD_HEADER", "lacks shape");
  await rejects(() => inspect(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n")), "BAD_HEADER", "unexpected key 'x'");
  await rejects(() => inspect(npy(header("<f4", "(-2,)"))), "BAD_SHAPE", "dim 0");
  await rejects(() => inspect(npy(header("<f4", "[2]"))), "BAD_SHAPE", "must be a tuple");
  await rejects(() => inspect(npy(header("<f4", "(65536, 65536, 65536, 65536)"))), "BAD_SHAPE", "2^53");
});

test("hostile .npy: the data and the shape's product disagree", async () => {
  await rejects(() => inspect(npy(header("<f4", "(3,)"), new Uint8Array(16))), "BAD_SHAPE", "the shape and the data disagree");
  await rejects(() => inspect(npy(header("<f4", "(5,)"), new Uint8Array(16))), "TRUNCATED", "takes 20 bytes, but only 16");
  await rejects(() => inspect(new Uint8Array(0), { name: "empty.npy" }), "TRUNCATED", "empty");
});

test("hostile .npy: unknown, structured, native-order dtypes and rank-3 Fortran order", async () => {
  await rejects(() => inspect(npy(header("<f17", "(1,)"), new Uint8Array(17))), "BAD_DTYPE", "'<f17' (float136)");
  await rejects(() => inspect(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", new Uint8Array(4))), "BAD_DTYPE", "structured dtype");
  await rejects(() => inspect(npy(header("=f4", "(1,)"), new Uint8Array(4))), "BAD_DTYPE", "native byte order");
  await rejects(() => inspect(npy(header("<f4", "(2, 2, 2)", "True"), new Uint8Array(32))), "UNSUPPORTED_FORMAT", "Fortran order");
});

test("hostile .npz: a zip bomb (an entry inflating far past its declared size) stops at the declared size", async () => {
  const before = process.memoryUsage().arrayBuffers;
  await rejects(async () => analyze(await fileSource(`${dir}/hostile/bomb.npz`)), "BAD_HEADER", "inflates past its declared size of 1,128 bytes");
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, "the 64 MiB of zeros were not inflated");
});

test("hostile .npz: a declared size above maxInflatedBytes is TOO_LARGE before inflating", async () => {
  // Entries of 176 to 896 bytes: the first one over 500 is refused, naming the limit.
  const limits = { maxInflatedBytes: 500 } as AnalyzeOptions["limits"];
  await rejects(() => inspect(readFileSync(`${dir}/mlp-f32-deflated.npz`), { limits }), "TOO_LARGE", "inflated bytes, above the limit maxInflatedBytes = 500");
});

test("hostile .npz: entries whose declared size lies (too small, too large)", async () => {
  await rejects(() => inspect(readFileSync(`${dir}/hostile/lying-size.npz`)), "BAD_HEADER", "inflates past its declared size of 600 bytes");
  await rejects(async () => analyze(await fileSource(`${dir}/hostile/short.npz`)), "TRUNCATED", "inflates to 1,128 bytes, but it declares 2,000");
});

test("hostile .npz: a central directory pointing past the end", async () => {
  await rejects(() => inspect(readFileSync(`${dir}/hostile/cd-past-end.npz`)), "OUT_OF_BOUNDS", "central directory");
});

test("hostile .npz: overlapping entries", async () => {
  await rejects(() => inspect(readFileSync(`${dir}/hostile/overlap.npz`)), "OVERLAP", "share bytes");
});

test("hostile .npz: entry names with '../' or '/' are data (tensor names), never paths", async () => {
  const model = await inspect(readFileSync(`${dir}/hostile/dotdot.npz`));
  assert.equal(model.tensors.map((t) => t.name).sort(), ["../../etc/fc1.weight", "/abs/fc1.bias"]);
});

test("hostile .npz: a zip with data.pkl goes to the PyTorch reader (restricted unpickler), never read as arrays", async () => {
  // pickle.npz's data.pkl is an empty dict: the PyTorch reader finds no tensors.
  await rejects(() => inspect(readFileSync(`${dir}/hostile/pickle.npz`)), "BAD_HEADER", "no dict of tensors");
  // Also when the pickle is not the first entry.
  const zip = storedZip([{ name: "arr_0.npy", data: npy(header("<f4", "(1,)"), new Uint8Array(4)) }, { name: "archive/data.pkl", data: new Uint8Array([0x80, 2, 0x2e]) }], 1);
  const error = await inspect(zip).then(() => undefined, (e: { code?: string }) => e);
  assert.ok(error && error.code !== "INTERNAL", "a typed refusal, not an npz read");
});

test("hostile .npz: a one-shot stream is refused (the directory is at the end), a cut file is TRUNCATED", async () => {
  const bytes = new Uint8Array(readFileSync(`${dir}/mlp-f32.npz`));
  await rejects(() => inspect(chunkedStream(bytes, () => 4096)), "BAD_OPTION", "one-shot stream");
  await rejects(() => inspect(bytes.subarray(0, bytes.byteLength - 10)), "TRUNCATED", "end-of-central-directory");
});

test("deflated entries decode the same in every read pattern (chunk sweep, going back)", async () => {
  const model = await inspect(readFileSync(`${dir}/mlp-f32-deflated.npz`));
  const plain = await inspect(readFileSync(`${dir}/mlp-f32.npz`));
  const { openTensorBytes } = await import("../../src/source/tensor-bytes.js");
  const source = memorySource(readFileSync(`${dir}/mlp-f32-deflated.npz`));
  const plainBytes = readFileSync(`${dir}/mlp-f32.npz`);
  for (const t of model.tensors) {
    const p = plain.tensors.find((x) => x.name === t.name)!;
    const want = plainBytes.subarray(p.offset, p.offset + p.byteLength);
    const bytes = await openTensorBytes(source, t);
    for (const chunk of [1, 3, 7, 64, 1000]) {
      const got = new Uint8Array(t.byteLength);
      for (let at = 0; at < got.byteLength; at += chunk) await bytes.readInto(at, got.subarray(at, Math.min(got.byteLength, at + chunk)));
      assert.equal(Buffer.from(got).equals(Buffer.from(want)), true, `${t.name} in chunks of ${chunk}`);
    }
    await bytes.close();
  }
});

test.run();
