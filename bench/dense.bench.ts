// Dense one-pass kernels against a memory copy of the same bytes and a plain-JS pass, measured
// in the same run (the machine is shared: read the ratios, not the absolute rates). Besides the
// single-thread kernel calls, the whole tensor pass on a BandPool (worker threads sharing one
// wasm memory), as the engine runs it: one pass when the range is known, else two.
import { Bench } from "tinybench";
import "../src/entry/node-core.js";
import { isUniformSpan, uniformEdges } from "../src/measure/histogram.js";
import type { DType, TensorInfo } from "../src/model/types.js";
import { BandPool } from "../src/node/band-pool.js";
import { Kernels } from "../src/kernels/kernels.js";
import { STATE_BYTES } from "../src/kernels/layout.js";
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
  /** runPass with known edges (stats, rows, cols and histogram in one read) on a pool of 1 and 2 threads. */
  onePass1GBs: number;
  onePass2GBs: number;
  /** runPass without edges, then histogramOnly over its [min, max] (the engine's path when the range is unknown), 2 threads. */
  twoPass2GBs: number;
  /** The one pass on 2 threads over f16 / bf16 data: elements per second over the f32 one's. */
  f16OnePass2ElementsRatio: number;
  bf16OnePass2ElementsRatio: number;
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
  const edges = state + STATE_BYTES;
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

  // One pool per thread count, created once; the same f32 values (and on the 2-thread pool the same
  // f16 bits, and the f32 values truncated to bf16) placed once in its shared memory, so the tasks
  // time the passes and nothing else. The block size is the engine's default.
  const pools = await Promise.all([1, 2].map((threads) => BandPool.create({ threads, blockBytes: 4 << 20 })));
  const place = (pool: BandPool, src: Uint8Array) => {
    const at = pool.allocate(src.byteLength);
    pool.kernels.bytes(at, src.byteLength).set(src);
    return at;
  };
  const f32Bytes = new Uint8Array(values.buffer, values.byteOffset, bytes);
  const [at1, at2] = pools.map((pool) => place(pool, f32Bytes));
  const atHalf = place(pools[1], new Uint8Array(halves.buffer, halves.byteOffset, n * 2));
  // Not the f16 bits read as bf16: those are ~5e-11, all in one bin, and the histogram kernel runs
  // markedly slower when every value hits the same counter. The top halves of the f32 values are
  // what a bf16 copy of these weights holds, over the same 64 bins.
  const atBF16 = place(pools[1], new Uint8Array(Uint16Array.from(new Uint32Array(values.buffer, values.byteOffset, n), (x) => x >>> 16).buffer));
  const tensorOf = (dtype: DType): TensorInfo => ({ name: "w", dtype, shape: [rows, cols], offset: 0, byteLength: dtype === "f32" ? bytes : n * 2 });
  const matrix = { rows, cols };
  const known = { values: uniformEdges(-0.1, 0.1, 64), uniform: true };
  // `async` functions, not arrows that return the promise: tinybench tells a plain function's
  // kind by calling it once without waiting, and a pass started that way would queue on the pool
  // (runPass runs one pass at a time) and be timed into the next sample.
  const onePass = async (pool: BandPool, at: number, dtype: DType = "f32") => {
    await pool.runPass({ at }, { tensor: tensorOf(dtype), matrix, edges: known });
  };
  const twoPasses = async () => {
    // As src/measure/measure.ts does: the stats pass finds [min, max], the second bins over it.
    const { moments: m } = await pools[1].runPass({ at: at2 }, { tensor: tensorOf("f32"), matrix });
    const found = uniformEdges(m.min!, m.max!, 64);
    await pools[1].runPass({ at: at2 }, { tensor: tensorOf("f32"), edges: { values: found, uniform: isUniformSpan(found) }, histogramOnly: true });
  };

  const bench = new Bench({ time, warmupTime: Math.min(200, time) });
  const rowsCols = (src = data) => {
    kernels.bytes(state, STATE_BYTES).fill(0);
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
    .add("plain JS", () => plainDenseStats(jsCopy, rows, cols, -0.1, 0.1, 64))
    .add("one pass, 1 thread", async () => onePass(pools[0], at1))
    .add("one pass, 2 threads", async () => onePass(pools[1], at2))
    .add("two passes, 2 threads", twoPasses)
    .add("f16 one pass, 2 threads", async () => onePass(pools[1], atHalf, "f16"))
    .add("bf16 one pass, 2 threads", async () => onePass(pools[1], atBF16, "bf16"));
  try {
    await bench.run();
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
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
    onePass1GBs: gbs(t["one pass, 1 thread"]),
    onePass2GBs: gbs(t["one pass, 2 threads"]),
    twoPass2GBs: gbs(t["two passes, 2 threads"]),
    f16OnePass2ElementsRatio: t["one pass, 2 threads"] / t["f16 one pass, 2 threads"],
    bf16OnePass2ElementsRatio: t["one pass, 2 threads"] / t["bf16 one pass, 2 threads"],
  };
}
