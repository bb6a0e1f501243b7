// npm run bench: every benchmark, a few lines per case with rates and same-run ratios, and the
// same as JSON in bench/results/latest.json with the machine it ran on.
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { benchConv, formatConv } from "./conv.bench.js";
import { benchDense } from "./dense.bench.js";
import { benchEndToEnd, formatEndToEnd } from "./e2e.bench.js";
import { benchForward, formatForward } from "./forward.bench.js";
import { benchGraph, formatGraph } from "./graph.bench.js";
import { benchGguf, formatGguf } from "./gguf.bench.js";
import { benchKeras, formatKeras } from "./keras.bench.js";
import { benchKernels, formatKernels } from "./kernels.bench.js";
import { benchNumpy, formatNumpy } from "./numpy.bench.js";
import { benchPytorch, formatPytorch } from "./pytorch.bench.js";
import { benchTfjsGraph, formatTfjsGraph } from "./tfjs-graph.bench.js";

const quick = process.argv.includes("--quick");
const cases: [number, number][] = quick ? [[1024, 1024]] : [[1024, 1024], [4096, 4096], [4096, 11008]];
const results = [];
console.log(`cntscope bench on ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, Node ${process.version}`);
for (const [rows, cols] of cases) {
  const r = await benchDense(rows, cols, quick ? 300 : 1500);
  results.push(r);
  const f = (x: number) => x.toFixed(2);
  // Every kernel line: its read rate, that rate over the copy's read rate, and over plain JS (which
  // does the whole one-pass set, so only the "both" ratio compares the same work).
  const line = (name: string, gbs: number) => `  ${name.padEnd(46)} ${f(gbs).padStart(6)} GB/s  ${f(gbs / r.copyReadGBs)} of copy  ${f(gbs / r.plainJsGBs).padStart(5)}x plain JS`;
  console.log(
    [
      `dense ${r.case}: copy read ${f(r.copyReadGBs)} GB/s, plain JS (stats+rows+cols+histogram) ${f(r.plainJsGBs)} GB/s`,
      line("stats+rows+cols", r.statsGBs),
      line("histogram (64 bins)", r.histogramGBs),
      line("both (one-pass set)", r.bothGBs),
      `  f16 widen+stats ${f(r.f16ElementsRatio)}, bf16 widen+stats ${f(r.bf16ElementsRatio)} of the f32 element rate`,
      // The whole tensor pass on a BandPool (bench/dense.bench.ts), against the same copy: the copy
      // uses one core, so a 2-thread line can pass 1.00 of copy without beating memory.
      `  (copy: Float32Array.prototype.set on 1 core, its read side; the 2-thread lines use ${Math.min(2, cpus().length)} of ${cpus().length} cores)`,
      line("one pass, range known, 1 thread", r.onePass1GBs),
      line("one pass, range known, 2 threads", r.onePass2GBs),
      line("two passes (stats, then histogram), 2 threads", r.twoPass2GBs),
      `  one pass, 2 threads: f16 ${f(r.f16OnePass2ElementsRatio)}, bf16 ${f(r.bf16OnePass2ElementsRatio)} of the f32 element rate`,
    ].join("\n"),
  );
}
// Each kernel alone (and the fused f16/bf16 ones) against a copy of the same bytes in wasm memory (bench/kernels.bench.ts).
const kernelLines = await benchKernels(quick ? 1024 : 4096, quick ? 1024 : 4096, quick ? 200 : 400, quick ? 3 : 5);
console.log(formatKernels(kernelLines));
// The same matrix through numpy, for comparison (informational).
const numpy = quick ? [] : [benchNumpy(4096, 11008)];
for (const r of numpy) console.log(formatNumpy(r));
// Conv and recurrent strengths against the definition enumerated directly (bench/conv.bench.ts).
const conv = quick ? [] : await benchConv();
for (const r of conv) console.log(formatConv(r));
// GGUF blocks dequantized into the moments kernels against the f32 kernel (bench/gguf.bench.ts).
const gguf = await benchGguf(quick ? 1024 : 4096, quick ? 1024 : 4096, quick ? 300 : 1000);
for (const r of gguf) console.log(formatGguf(r));
// The graph stage against the measuring of the same bytes (bench/graph.bench.ts).
const graph = await benchGraph();
for (const r of graph) console.log(formatGraph(r));
// A 1 GB file end to end through the Node entry, with its peak RSS.
const endToEnd = quick ? undefined : benchEndToEnd();
if (endToEnd) console.log(formatEndToEnd(endToEnd));
// A ~200 MB Keras .keras end to end against fs.read of the same bytes (bench/keras.bench.ts).
const keras = quick ? undefined : await benchKeras();
if (keras) console.log(formatKeras(keras));
// A ~300 MB torch.save state_dict against the same weights as safetensors and a plain fs.read (bench/pytorch.bench.ts).
const pytorch = quick ? undefined : await benchPytorch();
if (pytorch) console.log(formatPytorch(pytorch));
// TF.js graph models (a ~134 MB dense one in 4 MB shards, nsfwjs and BlazeFace) against fs.read and the same weights as safetensors (bench/tfjs-graph.bench.ts).
const tfjsGraph = await benchTfjsGraph(quick);
console.log(formatTfjsGraph(tfjsGraph));
// The forward pass against onnxruntime on the same ONNX files, and its kernels against the f32x4 peak (bench/forward.bench.ts).
const forward = await benchForward(quick);
console.log(formatForward(forward));
const summary = {
  kernels: kernelLines,
  forward,
  numpy,
  gguf,
  graph,
  conv,
  endToEnd,
  keras,
  pytorch,
  tfjsGraph,
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  results: results.map((r) => ({
    ...r,
    ofCopy: { stats: r.statsGBs / r.copyReadGBs, histogram: r.histogramGBs / r.copyReadGBs, both: r.bothGBs / r.copyReadGBs, onePass1: r.onePass1GBs / r.copyReadGBs, onePass2: r.onePass2GBs / r.copyReadGBs, twoPass2: r.twoPass2GBs / r.copyReadGBs },
    xPlainJs: { stats: r.statsGBs / r.plainJsGBs, histogram: r.histogramGBs / r.plainJsGBs, both: r.bothGBs / r.plainJsGBs, onePass1: r.onePass1GBs / r.plainJsGBs, onePass2: r.onePass2GBs / r.plainJsGBs, twoPass2: r.twoPass2GBs / r.plainJsGBs },
  })),
};
writeFileSync("bench/results/latest.json", JSON.stringify(summary, null, 2));
