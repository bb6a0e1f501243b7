// Files as large as users have: offsets past 4 GiB and memory that does not grow with the file.
// Both use sparse files (holes read as zeros), so nothing near 4 GiB is written to disk.
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodeCntHeader } from "../../src/formats/cnt/write.js";
import { Kernels } from "../../src/kernels/kernels.js";
import { runTensorPass } from "../../src/measure/tensor-pass.js";
import { analyzeFile, fileSource, inspectFile } from "../../src/node/index.js";
import { f32Bytes } from "../helpers/safetensors-writer.js";

const dir = mkdtempSync(join(tmpdir(), "cntscope-large-"));
const GiB = 1024 ** 3;

test("a .cnt file over 4 GiB: offsets past 2^32 are exact and positioned reads land there", async () => {
  const padElements = (4.5 * GiB) / 4;
  const w = [1, -2, 3, 0.5, 0.25, -1, 4, 8, -16, 2, 1, 0];
  const { head, offsets, dataBytes } = encodeCntHeader({
    name: "huge",
    layers: [{ name: "fc", kind: "dense", weight: "fc.weight", weightLayout: "out_in" }],
    tensors: [
      { name: "padding", dtype: "f32", shape: [padElements], byteLength: padElements * 4 },
      { name: "fc.weight", dtype: "f32", shape: [3, 4], byteLength: 48 },
    ],
  });
  const path = join(dir, "huge.cnt");
  const fd = openSync(path, "w");
  writeSync(fd, head, 0, head.byteLength, 0);
  writeSync(fd, f32Bytes(w), 0, 48, head.byteLength + offsets[1]);
  ftruncateSync(fd, head.byteLength + dataBytes);
  closeSync(fd);

  const model = await inspectFile(path);
  const fc = model.tensors.find((t) => t.name === "fc.weight")!;
  assert.ok(fc.offset > 2 ** 32, `offset ${fc.offset}`);
  assert.is(fc.offset, head.byteLength + offsets[1]);
  assert.is(model.bytes, head.byteLength + dataBytes);

  const source = await fileSource(path);
  const pass = await runTensorPass({ kernels: await Kernels.create(), source, blockBytes: 64 }, { tensor: fc, matrix: { rows: 3, cols: 4 } });
  await source.close();
  const rowSums = [0, 1, 2].map((r) => w.slice(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0));
  const colSums = [0, 1, 2, 3].map((c) => w[c] + w[4 + c] + w[8 + c]);
  assert.equal(Array.from(pass.rowSums!), rowSums);
  assert.equal(Array.from(pass.colSums!), colSums);
  assert.is(pass.moments.min, -16);
  assert.is(pass.moments.max, 8);
});

test("a 256 MiB model streams with memory bounded by the block, not the file", async () => {
  const n = 8192;
  const tensors = [
    { name: "big.weight", dtype: "F32", shape: [n, n] },
    { name: "big.bias", dtype: "F32", shape: [n] },
    { name: "out.weight", dtype: "F32", shape: [10, n] },
  ];
  // The header, then holes for the data (zeros).
  const sizes = [n * n * 4, n * 4, 10 * n * 4];
  const json: Record<string, unknown> = {};
  let offset = 0;
  tensors.forEach((t, i) => {
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + sizes[i]] };
    offset += sizes[i];
  });
  let text = JSON.stringify(json);
  while ((8 + text.length) % 8) text += " ";
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(text.length), true);
  const path = join(dir, "big.safetensors");
  const fd = openSync(path, "w");
  writeSync(fd, prefix, 0, 8, 0);
  writeSync(fd, new TextEncoder().encode(text), 0, text.length, 8);
  ftruncateSync(fd, 8 + text.length + offset);
  closeSync(fd);

  // arrayBuffers counts JS buffers (not wasm memory); rss counts everything, wasm memory included.
  const before = process.memoryUsage();
  let peak = before.arrayBuffers;
  let peakRss = before.rss;
  let calls = 0;
  const report = await analyzeFile(path, {
    blockBytes: 1 << 20,
    onProgress: () => {
      calls++;
      const now = process.memoryUsage();
      peak = Math.max(peak, now.arrayBuffers);
      peakRss = Math.max(peakRss, now.rss);
    },
  });
  assert.is(report.layers[0].linkWeights!.count, n * n);
  assert.is(report.layers[0].linkWeights!.std, 0);
  assert.is(report.nodeLayers.length, 3);
  assert.ok(calls > 256, `progress reported ${calls} times`);
  const grown = peak - before.arrayBuffers;
  const grownRss = peakRss - before.rss;
  console.log(`  256 MiB model: array buffers grew by ${(grown / 2 ** 20).toFixed(1)} MiB, resident memory by ${(grownRss / 2 ** 20).toFixed(1)} MiB at most`);
  assert.ok(grown < 16 * 2 ** 20, `array buffers grew by ${grown} bytes`);
  assert.ok(grownRss < 64 * 2 ** 20, `resident memory grew by ${grownRss} bytes for a 256 MiB file`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
