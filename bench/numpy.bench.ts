// What a user would otherwise run: numpy on the same matrix shape, in a child process
// (informational; skipped with a message when numpy is missing).
import { spawnSync } from "node:child_process";

export interface NumpyResult {
  case: string;
  sumsGBs: number;
  momentsGBs: number;
  histogramGBs: number;
  allGBs: number;
}

const SCRIPT = `
import json, sys, time
import numpy as np
rows, cols = int(sys.argv[1]), int(sys.argv[2])
a = (np.random.default_rng(7).random((rows, cols), dtype=np.float32) - 0.5) * np.float32(0.1)
def best(f, k=5):
    t = []
    for _ in range(k):
        s = time.perf_counter(); f(); t.append(time.perf_counter() - s)
    return min(t)
b = a.nbytes
sums = best(lambda: (a.sum(0, dtype=np.float64), a.sum(1, dtype=np.float64)))
moments = best(lambda: (a.mean(dtype=np.float64), a.std(dtype=np.float64), a.min(), a.max(), np.isnan(a).sum()))
hist = best(lambda: np.histogram(a, 64, (float(a.min()), float(a.max()))))
print(json.dumps({"sums": b / sums / 1e9, "moments": b / moments / 1e9, "hist": b / hist / 1e9, "all": b / (sums + moments + hist) / 1e9, "numpy": np.__version__}))
`;

export function benchNumpy(rows: number, cols: number): NumpyResult | string {
  const run = spawnSync("python3", ["-c", SCRIPT, String(rows), String(cols)], { encoding: "utf8" });
  if (run.status !== 0) return `numpy comparison skipped: ${run.error?.message ?? run.stderr.trim().split("\n").pop()}`;
  const r = JSON.parse(run.stdout.trim());
  return { case: `${rows}x${cols} f32 (numpy ${r.numpy}, f64 accumulators)`, sumsGBs: r.sums, momentsGBs: r.moments, histogramGBs: r.hist, allGBs: r.all };
}

export function formatNumpy(r: NumpyResult | string): string {
  if (typeof r === "string") return r;
  const f = (x: number) => x.toFixed(2);
  return `numpy ${r.case}: a.sum(0)+a.sum(1) ${f(r.sumsGBs)} GB/s | mean, std, min, max, isnan ${f(r.momentsGBs)} GB/s | np.histogram(64) ${f(r.histogramGBs)} GB/s | all of it ${f(r.allGBs)} GB/s`;
}
