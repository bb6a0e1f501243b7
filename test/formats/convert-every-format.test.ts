// `cntscope convert` for every format: the .cnt file analyzes to the original's report.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, convertToCnt, inspect } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import { firstDifference } from "../helpers/diff.js";

const files = [
  "models/digits-mlp.safetensors",
  "test/fixtures/onnx/cnn.onnx",
  "test/fixtures/onnx/lstm.onnx",
  "test/fixtures/onnx/external/mlp.onnx",
  "test/fixtures/numpy/mlp-f32-deflated.npz",
  "test/fixtures/tfjs/dense-uint16/model.json",
  "test/fixtures/tfjs/graph-model/small/model.json",
  "test/fixtures/keras/cnn.keras",
  "test/fixtures/keras/mlp-legacy.h5",
  "test/fixtures/pytorch/views.pt",
  // Quantized tensors are stored dequantized (f32): the .cnt measures the same values.
  "test/fixtures/gguf/tiny-llama.gguf",
];

/**
 * The measured content, without the source description: a layer's stored quantization (GGUF) and
 * the reader's notes on the source file's structure (`readerNotes`) stay with the original.
 */
function content(report: Awaited<ReturnType<typeof analyze>>, readerNotes: string[] = []) {
  return JSON.parse(JSON.stringify({ layers: report.layers.map((l) => ({ ...l, tensors: undefined, quant: undefined })), nodeLayers: report.nodeLayers, notes: report.notes.filter((n) => !readerNotes.includes(n)) }, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v)));
}

for (const file of files) {
  test(`${file} -> .cnt: the same report`, async () => {
    const original = await analyze(await fileSource(file), { perNode: true });
    const chunks: Uint8Array[] = [];
    for await (const chunk of convertToCnt(await fileSource(file))) chunks.push(chunk);
    const converted = await analyze(new Blob(chunks), { perNode: true });
    assert.is(converted.source.format, "cnt");
    const readerNotes = file.endsWith(".gguf") ? ((await inspect(await fileSource(file))).notes ?? []) : [];
    assert.is(firstDifference(content(converted), content(original, readerNotes)), null);
  });
}

test.run();
