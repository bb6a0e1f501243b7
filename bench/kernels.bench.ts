// Each dense kernel alone against a copy of the same bytes, in the same run and the same linear
// memory (the machine is shared: read the ratios, not the absolute rates). The copy
// (Uint8Array.prototype.set inside the wasm memory's buffer: a memmove, as memory.copy is) moves
// the bytes a kernel reads to another place in wasm memory, so both sides read the
// same bytes from the same cache level; "of copy" is the kernel's read rate over the copy's read
// rate. f16/bf16 kernels read 2 bytes a value: their line is also given in values per second over
// the f32 kernel's (the fused widening against reading an f32 copy).
//
// Run alone: node --import tsx bench/kernels.bench.ts [--quick]
import { Bench } from "tinybench";
import "../src/entry/node-core.js";
import { uniformEdges } from "../src/measure/histogram.js";
import { Kernels } from "../src/kernels/kernels.js";
import { FINE_BUCKETS, STATE, STATE_BYTES } from "../src/kernels/layout.js";

export interface KernelLine {
  name: string;
  /** Bytes one call reads. */
  bytes: number;
  gbs: number;
  /** Read rate over memory.copy's read rate of the same bytes. */
  ofCopy: number;
  /** Values per second over the f32 twin's (16-bit kernels only). */
  valuesOfF32?: number;
}

export interface KernelsResult {
  case: string;
  copyGBs: number;
  lines: KernelLine[];
}

const median = (task: { result?: unknown }): number => {
  const r = task.result as { latency?: { p50?: number } } | undefined;
  return (r?.latency?.p50 ?? NaN) / 1000; // ms -> s
};

/** f32 bits to the nearest-even IEEE half bits (finite, normal range: the bench data). */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0];
  const sign = (b >>> 16) & 0x8000;
  const e = ((b >>> 23) & 0xff) - 127 + 15;
  if (e <= 0) return sign;
  let m = (b >>> 13) & 0x3ff;
  const rest = b & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) m++;
  return (sign | (e << 10)) + m;
}

export async function benchKernels(rows: number, cols: number, time: number): Promise<KernelsResult> {
  const n = rows * cols;
  const kernels = await Kernels.create();
  const k = kernels.exports;
  const align = (x: number) => Math.ceil(x / 64) * 64;
  const state = kernels.base;
  const edges = align(state + STATE_BYTES);
  const counts = align(edges + 65 * 8);
  const fine = align(counts + 64 * 8);
  const rowSums = align(fine + FINE_BUCKETS * 4);
  const colSums = align(rowSums + rows * 8);
  const f32 = align(colSums + cols * 8);
  const f16 = align(f32 + n * 4);
  const bf16 = align(f16 + n * 2);
  const copyTo = align(bf16 + n * 2);
  kernels.reserve(copyTo + n * 4 + 64);
  const values = kernels.f32(f32, n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = (seed / 2 ** 32 - 0.5) * 0.2;
  }
  const halves = new Uint16Array(kernels.memory.buffer, f16, n);
  const brains = new Uint16Array(kernels.memory.buffer, bf16, n);
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) {
    halves[i] = toHalf(values[i]);
    brains[i] = bits[i] >>> 16;
  }
  kernels.f64(edges, 65).set(uniformEdges(-0.1, 0.1, 64));
  const resetState = () => {
    kernels.bytes(state, STATE_BYTES).fill(0);
    kernels.f32(state + STATE.MIN, 2).set([Infinity, -Infinity]);
  };
  // A memmove of the same block inside the same memory: what reading (and writing) the bytes costs.
  const copy = (src: number, bytes: number) => kernels.bytes(copyTo, bytes).set(kernels.bytes(src, bytes));

  const bench = new Bench({ time, warmup: true });
  const cases: [string, number, () => void, string?][] = [
    ["moments (statsOnly)", n * 4, () => (resetState(), k.statsOnly(f32, n, state))],
    ["moments + rows + cols (statsRowsCols)", n * 4, () => (resetState(), k.statsRowsCols(f32, n, 0, 0, cols, rowSums, colSums, state))],
    ["histogramUniform (64 bins)", n * 4, () => k.histogramUniform(f32, n, 64, edges, counts)],
    ["histogramFine", n * 4, () => k.histogramFine(f32, n, fine)],
    ["f16 moments + rows + cols (fused)", n * 2, () => (resetState(), k.statsRowsColsF16(f16, n, 0, 0, cols, rowSums, colSums, state)), "moments + rows + cols (statsRowsCols)"],
    ["bf16 moments + rows + cols (fused)", n * 2, () => (resetState(), k.statsRowsColsBF16(bf16, n, 0, 0, cols, rowSums, colSums, state)), "moments + rows + cols (statsRowsCols)"],
    ["f16 histogramUniform (fused)", n * 2, () => k.histogramUniformF16(f16, n, 64, edges, counts), "histogramUniform (64 bins)"],
    ["bf16 histogramUniform (fused)", n * 2, () => k.histogramUniformBF16(bf16, n, 64, edges, counts), "histogramUniform (64 bins)"],
    ["f16 widen, then statsRowsCols (unfused)", n * 2, () => (resetState(), k.widenF16(f16, copyTo, n), k.statsRowsCols(copyTo, n, 0, 0, cols, rowSums, colSums, state)), "moments + rows + cols (statsRowsCols)"],
  ];
  // Each kernel's copy baseline runs right before it, so drifts of the machine's speed hit both.
  for (const [name, bytes, run] of cases) {
    bench.add(`copy for ${name}`, () => copy(f32, bytes));
    bench.add(name, run);
  }
  await bench.run();
  const byName = new Map(bench.tasks.map((t) => [t.name, median(t)]));
  const lines: KernelLine[] = cases.map(([name, bytes, , twin]) => {
    const s = byName.get(name)!;
    const copyS = byName.get(`copy for ${name}`)!;
    const line: KernelLine = { name, bytes, gbs: bytes / s / 1e9, ofCopy: copyS / s };
    if (twin) line.valuesOfF32 = byName.get(twin)! / s;
    return line;
  });
  const copyAll = byName.get(`copy for ${cases[0][0]}`)!;
  return { case: `${rows}x${cols}`, copyGBs: (n * 4) / copyAll / 1e9, lines };
}

export function formatKernels(r: KernelsResult): string {
  const f = (x: number) => x.toFixed(2);
  return [
    `kernels alone on ${r.case} (copy: a memmove of the same bytes inside wasm memory, ${f(r.copyGBs)} GB/s for the f32 block):`,
    ...r.lines.map((l) => `  ${l.name.padEnd(42)} ${f(l.gbs).padStart(6)} GB/s  ${f(l.ofCopy)} of copy${l.valuesOfF32 === undefined ? "" : `  ${f(l.valuesOfF32)}x the f32 kernel's values/s`}`),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  const r = await benchKernels(quick ? 1024 : 4096, quick ? 1024 : 4096, quick ? 300 : 1000);
  console.log(formatKernels(r));
}
