// Dense one-pass kernels against a memory copy of the same bytes and a plain-JS pass, measured
// in the same run (the machine is shared: read the ratios, not the absolute rates).
import { Bench } from "tinybench";
import "../src/entry/node-core.js";
import { uniformEdges } from "../src/metrics/histogram.js";
import { Kernels } from "../src/wasm/kernels.js";
import { plainDenseStats } from "./plain-js.js";

export interface DenseResult {
  case: string;
  bytes: number;
  copyReadGBs: number;
  statsGBs: number;
  histogramGBs: number;
  bothGBs: number;
  plainJsGBs: number;
  f16ElementsRatio: number;
  bf16ElementsRatio: number;
}

const median = (task: { result?: unknown }): number => {
  const r = task.result as { latency?: { p50?: number } } | undefined;
  return (r?.latency?.p50 ?? NaN) / 1000; // ms -> s
};

export async function benchDense(rows: number, cols: number, time: number): Promise<DenseResult> {
  const n = rows * cols;
  const bytes = n * 4;
  const kernels = await Kernels.create();
  const k = kernels.exports;
  const state = kernels.base;
  const edges = state + 128;
  const counts = edges + 65 * 8;
  const rowSums = counts + 64 * 8 + 64;
  const colSums = rowSums + rows * 8;
  const data = Math.ceil((colSums + cols * 8) / 64) * 64;
  const half = data + bytes; // f16/bf16 input: n * 2 bytes
  // The f16/bf16 cases widen into their own f32 block (as the host does), so the f32 data the
  // other cases read stays the same whatever ran before (tinybench warms every task up first).
  const wide = Math.ceil((half + n * 2) / 64) * 64;
  kernels.reserve(wide + bytes + 64);
  const values = kernels.f32(data, n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = (seed / 2 ** 32 - 0.5) * 0.2;
  }
  const halves = new Uint16Array(kernels.memory.buffer, half, n);
  for (let i = 0; i < n; i++) halves[i] = 0x2e66 ^ (i & 0x3ff); // small f16 values
  kernels.f64(edges, 65).set(uniformEdges(-0.1, 0.1, 64));
  const copyTarget = new Float32Array(n);
  const jsCopy = Float32Array.from(values);

  const bench = new Bench({ time, warmupTime: Math.min(200, time) });
  const rowsCols = (src = data) => {
    kernels.bytes(state, 128).fill(0);
    k.statsRowsCols(src, n, 0, 0, cols, rowSums, colSums, state);
  };
  bench
    .add("copy", () => copyTarget.set(values))
    .add("stats+rows+cols", () => rowsCols())
    .add("histogram", () => k.histogramUniform(data, n, 64, edges, counts))
    .add("stats+rows+cols+histogram", () => {
      rowsCols();
      k.histogramUniform(data, n, 64, edges, counts);
    })
    .add("f16 widen+stats+rows+cols", () => {
      k.widenF16(half, wide, n);
      rowsCols(wide);
    })
    .add("bf16 widen+stats+rows+cols", () => {
      k.widenBF16(half, wide, n);
      rowsCols(wide);
    })
    .add("plain JS", () => plainDenseStats(jsCopy, rows, cols, -0.1, 0.1, 64));
  await bench.run();
  const t = Object.fromEntries(bench.tasks.map((task) => [task.name, median(task)]));
  const gbs = (s: number, b = bytes) => b / s / 1e9;
  return {
    case: `${rows}x${cols} f32`,
    bytes,
    copyReadGBs: gbs(t["copy"]),
    statsGBs: gbs(t["stats+rows+cols"]),
    histogramGBs: gbs(t["histogram"]),
    bothGBs: gbs(t["stats+rows+cols+histogram"]),
    plainJsGBs: gbs(t["plain JS"]),
    f16ElementsRatio: t["stats+rows+cols"] / t["f16 widen+stats+rows+cols"],
    bf16ElementsRatio: t["stats+rows+cols"] / t["bf16 widen+stats+rows+cols"],
  };
}
