// GGUF dequantization (assembly/dequant.ts) feeding the moments kernels, against the f32 moments
// kernel over the same number of values, in the same run: elements per second as a ratio.
//  - kernels: a [rows, cols] matrix in linear memory; f32 is one statsRowsCols call over it; a
//    quantized copy is dequantized KERNEL_ELEMENTS values at a time into an f32 window (in L2) and
//    each window goes through statsRowsCols, as src/measure/bands.ts runs it.
//  - tensor pass: runTensorPass (read from a memory source into the raw window, dequantize, stats,
//    row and column sums, and the histogram over a known range) on the quantized bytes against
//    the same pass over the f32 matrix.
import { Bench } from "tinybench";
import "../src/entry/node-core.js";
import { DEQUANT_KERNEL, Kernels } from "../src/kernels/kernels.js";
import { STATE_BYTES } from "../src/kernels/layout.js";
import { KERNEL_ELEMENTS } from "../src/measure/bands.js";
import { uniformEdges } from "../src/measure/histogram.js";
import { runTensorPass } from "../src/measure/tensor-pass.js";
import { GGUF_BLOCKS, type GgufQuant, type TensorInfo } from "../src/model/types.js";
import { memorySource } from "../src/source/memory.js";

export interface GgufResult {
  case: string;
  quant: GgufQuant;
  /** Elements per second of dequant + stats+rows+cols over the f32 kernel's (one call over the f32 matrix). */
  kernelRatio: number;
  /** The whole tensor pass (read, dequantize, stats, rows, cols, histogram): elements per second over the f32 pass's. */
  passRatio: number;
  f32GElementsPerSecond: number;
  quantGElementsPerSecond: number;
}

const median = (task: { result?: unknown }): number => ((task.result as { latency?: { p50?: number } } | undefined)?.latency?.p50 ?? NaN) / 1000;

/** Random blocks of `quant` with small finite scales (every quant pattern is a valid block). */
function randomBlocks(quant: GgufQuant, blocks: number): Uint8Array {
  const { bytes } = GGUF_BLOCKS[quant];
  const out = new Uint8Array(blocks * bytes);
  let seed = 7;
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = seed >>> 24;
  }
  // Where d (and dmin or m) sit: random halves there could be Inf or NaN, which the stats kernel
  // takes through its slow non-finite path.
  const scales: Record<GgufQuant, number[]> = { Q8_0: [0], Q4_0: [0], Q5_0: [0], Q4_1: [0, 2], Q5_1: [0, 2], Q4_K: [0, 2], Q5_K: [0, 2], Q6_K: [208], Q2_K: [80, 82], Q3_K: [108] };
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) for (const at of scales[quant]) view.setUint16(b * bytes + at, 0x1400, true); // ~0.001
  return out;
}

export async function benchGguf(rows: number, cols: number, time: number, quants: GgufQuant[] = ["Q8_0", "Q4_K"]): Promise<GgufResult[]> {
  const n = rows * cols;
  const kernels = await Kernels.create();
  const k = kernels.exports;
  const state = kernels.base;
  const rowSums = state + STATE_BYTES + 64;
  const colSums = Math.ceil((rowSums + rows * 8) / 64) * 64;
  const data = Math.ceil((colSums + cols * 8) / 64) * 64;
  const window = data + n * 4;
  const quantAt = window + KERNEL_ELEMENTS * 4;
  const maxQuantBytes = Math.max(...quants.map((q) => (n / GGUF_BLOCKS[q].elements) * GGUF_BLOCKS[q].bytes));
  kernels.reserve(quantAt + maxQuantBytes + 64);
  const values = kernels.f32(data, n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = (seed / 2 ** 32 - 0.5) * 0.2;
  }
  const f32Bytes = kernels.bytes(data, n * 4).slice();
  const stats = (src: number, count: number, row: number, col: number) => k.statsRowsCols(src, count, row, col, cols, rowSums, colSums, state);
  const reset = () => kernels.bytes(state, STATE_BYTES).fill(0);

  // The tensor passes: a separate instance, so its layout does not disturb the kernel cases'.
  const passKernels = await Kernels.create();
  const edges = uniformEdges(-4, 4, 64);
  const tensor = (dtype: "f32", byteLength: number, quant?: GgufQuant): TensorInfo => ({ name: "w", dtype, shape: [rows, cols], offset: 0, byteLength, ...(quant ? { decode: { values: { kind: "gguf" as const, type: quant } } } : {}) });
  const pass = async (bytes: Uint8Array, quant?: GgufQuant) =>
    runTensorPass({ kernels: passKernels, source: memorySource(bytes, "w"), blockBytes: 4 << 20, blocks: quant !== undefined }, { tensor: tensor("f32", n * 4, quant), matrix: { rows, cols }, edges: { values: edges, uniform: true } });

  const bench = new Bench({ time, warmupTime: Math.min(200, time) });
  bench.add("f32 stats+rows+cols", () => {
    reset();
    stats(data, n, 0, 0);
  });
  bench.add("f32 tensor pass", async () => {
    await pass(f32Bytes);
  });
  const quantBytes = new Map<GgufQuant, Uint8Array>();
  for (const quant of quants) {
    const blocks = randomBlocks(quant, n / GGUF_BLOCKS[quant].elements);
    quantBytes.set(quant, blocks);
    const { elements, bytes } = GGUF_BLOCKS[quant];
    const kernel = k[DEQUANT_KERNEL[quant]];
    bench.add(`${quant} dequant+stats+rows+cols`, () => {
      kernels.bytes(quantAt, blocks.byteLength).set(blocks);
      reset();
      for (let done = 0; done < n; done += KERNEL_ELEMENTS) {
        const count = Math.min(KERNEL_ELEMENTS, n - done);
        kernel(quantAt + (done / elements) * bytes, window, count / elements);
        stats(window, count, Math.floor(done / cols), done % cols);
      }
    });
    bench.add(`${quant} tensor pass`, async () => {
      await pass(blocks, quant);
    });
  }
  await bench.run();
  const t = Object.fromEntries(bench.tasks.map((task) => [task.name, median(task)]));
  return quants.map((quant) => ({
    case: `${rows}x${cols}`,
    quant,
    // The dequant case also copies the blocks into memory each time (a small share: 1/4 to 1/7 of f32's bytes).
    kernelRatio: t["f32 stats+rows+cols"] / t[`${quant} dequant+stats+rows+cols`],
    passRatio: t["f32 tensor pass"] / t[`${quant} tensor pass`],
    f32GElementsPerSecond: n / t["f32 stats+rows+cols"] / 1e9,
    quantGElementsPerSecond: n / t[`${quant} dequant+stats+rows+cols`] / 1e9,
  }));
}

export function formatGguf(r: GgufResult): string {
  const f = (x: number) => x.toFixed(2);
  return `gguf ${r.case} ${r.quant}: dequant+stats ${f(r.quantGElementsPerSecond)} G values/s, ${f(r.kernelRatio)} of the f32 kernel's rate (${f(r.f32GElementsPerSecond)} G/s); whole tensor pass ${f(r.passRatio)} of the f32 pass's`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchGguf(4096, 4096, 1000)) console.log(formatGguf(r));
}
