// Each dense kernel alone against a copy of the same bytes, in the same run and the same linear
// memory (the machine is shared: read the ratios, not the absolute rates). The copy
// (Uint8Array.prototype.set inside the wasm memory's buffer: a memmove, as memory.copy is) moves
// the bytes a kernel reads to another place in wasm memory, so both sides read the
// same bytes from the same cache level; "of copy" is the kernel's read rate over the copy's read
// rate. f16/bf16 kernels read 2 bytes a value: their line is also given in values per second over
// the f32 kernel's (the fused widening against reading an f32 copy).
//
// The data is what trained weights look like: Gaussian (sigma 0.02), the histogram over the
// values' own [min, max] in 64 bins (analyze's default), the kernels called in blocks of
// KERNEL_ELEMENTS as the tensor pass calls them. Each line is the median of ROUNDS rounds (each a
// tinybench median) with the range over the rounds; the histogram / statsRowsCols line is the
// ratio of the two kernels' times in the same round.
//
// Run alone: node --import tsx bench/kernels.bench.ts [--quick]
import { Bench } from "tinybench";
import "../src/entry/node-core.js";
import { uniformEdges } from "../src/measure/histogram.js";
import { KERNEL_ELEMENTS } from "../src/measure/bands.js";
import { Kernels } from "../src/kernels/kernels.js";
import { FINE_BUCKETS, STATE, STATE_BYTES } from "../src/kernels/layout.js";

/** A median with the smallest and largest of the rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface KernelLine {
  name: string;
  /** Bytes one pass reads. */
  bytes: number;
  gbs: Spread;
  /** Read rate over the copy's read rate of the same bytes (same round). */
  ofCopy: Spread;
  /** Values per second over the f32 twin's (16-bit kernels only; same round). */
  valuesOfF32?: Spread;
}

export interface KernelsResult {
  case: string;
  rounds: number;
  copyGBs: Spread;
  lines: KernelLine[];
  /** histogramUniform's values per second over statsRowsCols' (f32, same round). */
  histogramOverStats: Spread;
}

const median = (task: { result?: unknown }): number => {
  const r = task.result as { latency?: { p50?: number } } | undefined;
  return (r?.latency?.p50 ?? NaN) / 1000; // ms -> s
};

function spread(xs: number[]): Spread {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: s[s.length >> 1], min: s[0], max: s[s.length - 1] };
}

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

/** IEEE half bits to their value (normal and zero: the bench data). */
function fromHalf(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const v = e === 0 ? (h & 0x3ff) * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

function range(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}

export async function benchKernels(rows: number, cols: number, time: number, rounds = 5): Promise<KernelsResult> {
  const n = rows * cols;
  const kernels = await Kernels.create();
  const k = kernels.exports;
  const align = (x: number) => Math.ceil(x / 64) * 64;
  const state = kernels.base;
  const edges32 = align(state + STATE_BYTES);
  const edges16 = align(edges32 + 65 * 8);
  const edgesB16 = align(edges16 + 65 * 8);
  const counts = align(edgesB16 + 65 * 8);
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
  const uniform = () => ((seed = (seed * 1103515245 + 12345) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i += 2) {
    const r = 0.02 * Math.sqrt(-2 * Math.log(uniform())), a = 2 * Math.PI * uniform();
    values[i] = r * Math.cos(a);
    if (i + 1 < n) values[i + 1] = r * Math.sin(a);
  }
  const halves = new Uint16Array(kernels.memory.buffer, f16, n);
  const brains = new Uint16Array(kernels.memory.buffer, bf16, n);
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) {
    halves[i] = toHalf(values[i]);
    brains[i] = bits[i] >>> 16;
  }
  // Each dtype's histogram spans its own values' [min, max], as analyze's does.
  const [lo32, hi32] = range(values);
  kernels.f64(edges32, 65).set(uniformEdges(lo32, hi32, 64));
  const [lo16, hi16] = range(Array.from(halves, fromHalf));
  kernels.f64(edges16, 65).set(uniformEdges(lo16, hi16, 64));
  const [loB, hiB] = range(Array.from(brains, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]));
  kernels.f64(edgesB16, 65).set(uniformEdges(loB, hiB, 64));
  const resetState = () => {
    kernels.bytes(state, STATE_BYTES).fill(0);
    kernels.f32(state + STATE.MIN, 2).set([Infinity, -Infinity]);
  };
  /** The kernel over the whole matrix in calls of KERNEL_ELEMENTS, as the tensor pass makes them. */
  const blocks = (width: number, base: number, call: (src: number, count: number, row: number, col: number) => void) => () => {
    for (let done = 0; done < n; done += KERNEL_ELEMENTS) {
      const row = Math.floor(done / cols);
      call(base + done * width, Math.min(KERNEL_ELEMENTS, n - done), row, done - row * cols);
    }
  };
  // A memmove of the same block inside the same memory: what reading (and writing) the bytes costs.
  const copy = (src: number, bytes: number) => kernels.bytes(copyTo, bytes).set(kernels.bytes(src, bytes));

  const STATS = "moments + rows + cols (statsRowsCols)";
  const HIST = "histogramUniform (64 bins)";
  const cases: [string, number, () => void, string?][] = [
    ["moments (statsOnly)", n * 4, blocks(4, f32, (p, m) => k.statsOnly(p, m, state))],
    [STATS, n * 4, () => (resetState(), blocks(4, f32, (p, m, row, col) => k.statsRowsCols(p, m, row, col, cols, rowSums, colSums, state))())],
    [HIST, n * 4, blocks(4, f32, (p, m) => k.histogramUniform(p, m, 64, edges32, counts))],
    ["histogramFine", n * 4, blocks(4, f32, (p, m) => k.histogramFine(p, m, fine))],
    ["f16 moments + rows + cols (fused)", n * 2, () => (resetState(), blocks(2, f16, (p, m, row, col) => k.statsRowsColsF16(p, m, row, col, cols, rowSums, colSums, state))()), STATS],
    ["bf16 moments + rows + cols (fused)", n * 2, () => (resetState(), blocks(2, bf16, (p, m, row, col) => k.statsRowsColsBF16(p, m, row, col, cols, rowSums, colSums, state))()), STATS],
    ["f16 widen, then statsRowsCols", n * 2, () => (resetState(), blocks(2, f16, (p, m, row, col) => (k.widenF16(p, copyTo, m), k.statsRowsCols(copyTo, m, row, col, cols, rowSums, colSums, state)))()), STATS],
    ["f16 histogramUniform (fused)", n * 2, blocks(2, f16, (p, m) => k.histogramUniformF16(p, m, 64, edges16, counts)), HIST],
    ["bf16 histogramUniform (fused)", n * 2, blocks(2, bf16, (p, m) => k.histogramUniformBF16(p, m, 64, edgesB16, counts)), HIST],
    ["f16 widen, then histogramUniform", n * 2, blocks(2, f16, (p, m) => (k.widenF16(p, copyTo, m), k.histogramUniform(copyTo, m, 64, edges16, counts))), HIST],
  ];
  const perRound: Map<string, number>[] = [];
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time, warmup: true });
    // Each kernel's copy baseline runs right before it, so drifts of the machine's speed hit both.
    for (const [name, bytes, run] of cases) {
      bench.add(`copy for ${name}`, () => copy(f32, bytes));
      bench.add(name, run);
    }
    await bench.run();
    perRound.push(new Map(bench.tasks.map((t) => [t.name, median(t)])));
  }
  const lines: KernelLine[] = cases.map(([name, bytes, , twin]) => {
    const line: KernelLine = {
      name,
      bytes,
      gbs: spread(perRound.map((r) => bytes / r.get(name)! / 1e9)),
      ofCopy: spread(perRound.map((r) => r.get(`copy for ${name}`)! / r.get(name)!)),
    };
    if (twin) line.valuesOfF32 = spread(perRound.map((r) => r.get(twin)! / r.get(name)!));
    return line;
  });
  return {
    case: `${rows}x${cols}`,
    rounds,
    copyGBs: spread(perRound.map((r) => (n * 4) / r.get(`copy for ${cases[0][0]}`)! / 1e9)),
    lines,
    histogramOverStats: spread(perRound.map((r) => r.get(STATS)! / r.get(HIST)!)),
  };
}

export function formatKernels(r: KernelsResult): string {
  const f = (x: number) => x.toFixed(2);
  const s = (x: Spread) => `${f(x.median)} (${f(x.min)}-${f(x.max)})`;
  return [
    `kernels alone on ${r.case}, Gaussian weights, calls of ${KERNEL_ELEMENTS} values, median (range) of ${r.rounds} rounds (copy: a memmove of the same bytes inside wasm memory, ${s(r.copyGBs)} GB/s for the f32 block):`,
    ...r.lines.map((l) => `  ${l.name.padEnd(38)} ${s(l.gbs).padStart(18)} GB/s  ${s(l.ofCopy)} of copy${l.valuesOfF32 === undefined ? "" : `  ${s(l.valuesOfF32)}x the f32 kernel's values/s`}`),
    `  histogramUniform / statsRowsCols (f32 values/s, same round): ${s(r.histogramOverStats)}`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  const r = await benchKernels(quick ? 1024 : 4096, quick ? 1024 : 4096, quick ? 200 : 600, quick ? 3 : 5);
  console.log(formatKernels(r));
}
