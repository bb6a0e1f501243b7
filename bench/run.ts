// npm run bench: every benchmark, one line per case with rates and same-run ratios, and the
// same as JSON in bench/results/latest.json with the machine it ran on.
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { benchDense } from "./dense.bench.js";

const quick = process.argv.includes("--quick");
const cases: [number, number][] = quick ? [[1024, 1024]] : [[1024, 1024], [4096, 4096], [4096, 11008]];
const results = [];
console.log(`cntscope bench on ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, Node ${process.version}`);
for (const [rows, cols] of cases) {
  const r = await benchDense(rows, cols, quick ? 300 : 1500);
  results.push(r);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `dense ${r.case.padEnd(16)} copy read ${f(r.copyReadGBs)} GB/s | stats+rows+cols ${f(r.statsGBs)} GB/s (${f(r.statsGBs / r.copyReadGBs)} of copy)` +
      ` | histogram pass ${f(r.histogramGBs)} GB/s | both ${f(r.bothGBs)} GB/s (${f(r.bothGBs / r.copyReadGBs)} of copy, ${f(r.bothGBs / r.plainJsGBs)}x plain JS ${f(r.plainJsGBs)} GB/s)` +
      ` | f16 ${f(r.f16ElementsRatio)}, bf16 ${f(r.bf16ElementsRatio)} of the f32 element rate`,
  );
}
writeFileSync("bench/results/latest.json", JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, results }, null, 2));
