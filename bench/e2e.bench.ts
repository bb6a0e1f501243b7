// End to end: safetensors files of dense layers, from the page cache, through the built Node entry
// (analyzeFile, the default exact report), against reading the same file in the same run:
//   - a read loop into one reused buffer of the block size (bench/read-all.ts readLoop): what Node can read,
//   - `cat file > /dev/null`: what the operating system can read,
//   - the whole file into one file-sized buffer (readAll): the old baseline, which pays a page
//     fault per 4 KiB and so flatters the ratio; printed only for comparison with older figures.
// Every repetition runs all of them back to back (paired), and the ratios are taken within a
// repetition; medians and ranges over repetitions, because the machine is shared. Peak RSS of
// each analysis is sampled in a child process of its own. A 4.3 GB file (made, used, deleted)
// shows the rate does not fall with size.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, statSync, statfsSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { catRate, median, range, READ_BLOCK, readAll, readLoop } from "./read-all.js";

/** One file's paired runs: milliseconds per repetition of each reader, and the analyses' peak RSS. */
export interface EndToEndCase {
  name: string;
  bytes: number;
  readLoopMs: number[];
  catMs: number[];
  readAllMs: number[];
  /** analyzeFile with workers 1 and 2 (default options), per repetition. */
  oneMs: number[];
  twoMs: number[];
  /** The same analyses with memoryBudget 0: every tensor read twice (the path before issue 19). */
  twoReadsMs: number[];
  /** CPU time (user + system, all threads) of the read loop and of the analyses: what a busy machine does not distort. */
  readLoopCpuMs: number[];
  oneCpuMs: number[];
  twoCpuMs: number[];
  twoReadsCpuMs: number[];
  peakRssMB: number;
  /** The largest tensor's bytes: what memoryBudget holds at most at once here. */
  largestBytes: number;
}

export interface EndToEndResult {
  cases: EndToEndCase[];
  /** Back-compatible summary of the f32 file (the first case): rates and ratios, medians. */
  bytes: number;
  readGBs: number;
  analyzeGBs: number;
  ratio: number;
  peakRssMB: number;
  twoWorkersGBs: number;
  speedup: number;
}

type Dtype = "F32" | "BF16";

/** `layers` dense layers of n x n (+ biases) in `dtype`, written once and kept in tmp (or made fresh when `keep` is false). */
export function denseModel(layers: number, n: number, dtype: Dtype, path: string): string {
  const width = dtype === "F32" ? 4 : 2;
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (let l = 0; l < layers; l++) {
    header[`layers.${l}.weight`] = { dtype, shape: [n, n], data_offsets: [offset, (offset += n * n * width)] };
    header[`layers.${l}.bias`] = { dtype, shape: [n], data_offsets: [offset, (offset += n * width)] };
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += " ";
  const total = 8 + json.length + offset;
  if (existsSync(path) && statSync(path).size === total) return path;
  const fd = openSync(path, "w");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, prefix);
  writeSync(fd, Buffer.from(json));
  // Real-looking weights: a 4 MiB block of small values, shifted per block so layers differ.
  const block = new Float32Array(1 << 20);
  let s = 7;
  for (let i = 0; i < block.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    block[i] = (s / 2 ** 32 - 0.5) * 0.05;
  }
  const half = new Uint16Array(block.length);
  const bits = new Uint32Array(block.buffer);
  for (let done = 0, k = 0; done < offset; k++) {
    let bytes: Buffer;
    if (width === 4) bytes = Buffer.from(block.buffer, 0, Math.min(block.byteLength, offset - done));
    else {
      for (let i = 0; i < half.length; i++) half[i] = bits[i] >>> 16;
      bytes = Buffer.from(half.buffer, 0, Math.min(half.byteLength, offset - done));
    }
    block[k % block.length] += 1e-3;
    writeSync(fd, bytes);
    done += bytes.byteLength;
  }
  closeSync(fd);
  return path;
}

/** 16 dense layers of 4096 x 4096 f32 (+ biases): 1.07 GB, written once and kept in tmp. */
export function bigModel(): string {
  return denseModel(16, 4096, "F32", join(tmpdir(), "cntscope-bench-1gb.safetensors"));
}

/** The analysis in a fresh process, its RSS sampled at every block. (Not getrusage's maxRSS: on Linux a child keeps its parent's high-water mark across fork and exec.) */
function analyzeInChild(path: string, options: Record<string, unknown>): { ms: number; cpuMs: number; maxRss: number } {
  // The built package (as users run it); `npm run build` first (or BENCH_DIST: another build of it).
  const entry = pathToFileURL(join(process.env.BENCH_DIST ?? "dist", "node/index.js")).href;
  const script = `import { analyzeFile } from ${JSON.stringify(entry)};
let peak = process.memoryUsage().rss;
const t = performance.now();
await analyzeFile(${JSON.stringify(path)}, { ...${JSON.stringify(options)}, onProgress: () => { peak = Math.max(peak, process.memoryUsage().rss); } });
const ms = performance.now() - t;
const cpu = process.cpuUsage();
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRss: Math.max(peak, process.memoryUsage().rss) / 1024 }));`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout.trim().split("\n").pop()!);
}

/** Paired repetitions over one file. `twoReads`: also run with memoryBudget 0 (every tensor read twice). */
export function benchFile(name: string, path: string, reps: number, twoReads: boolean, largestBytes: number): EndToEndCase {
  const bytes = statSync(path).size;
  readLoop(path); // into the page cache
  const c: EndToEndCase = { name, bytes, readLoopMs: [], catMs: [], readAllMs: [], oneMs: [], twoMs: [], twoReadsMs: [], readLoopCpuMs: [], oneCpuMs: [], twoCpuMs: [], twoReadsCpuMs: [], peakRssMB: 0, largestBytes };
  for (let rep = 0; rep < reps; rep++) {
    const cpu = process.cpuUsage();
    c.readLoopMs.push(readLoop(path));
    const used = process.cpuUsage(cpu);
    c.readLoopCpuMs.push((used.user + used.system) / 1000);
    c.catMs.push(catRate(path));
    if (bytes < 2e9) c.readAllMs.push(readAll(path));
    const one = analyzeInChild(path, { workers: 1 });
    const two = analyzeInChild(path, { workers: 2 });
    c.oneMs.push(one.ms);
    c.twoMs.push(two.ms);
    c.oneCpuMs.push(one.cpuMs);
    c.twoCpuMs.push(two.cpuMs);
    c.peakRssMB = Math.max(c.peakRssMB, one.maxRss / 1024, two.maxRss / 1024);
    if (twoReads) {
      const twice = analyzeInChild(path, { workers: 2, memoryBudget: 0 });
      c.twoReadsMs.push(twice.ms);
      c.twoReadsCpuMs.push(twice.cpuMs);
    }
  }
  return c;
}

/** Bytes free under `dir`. */
function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

export function benchEndToEnd(reps = 5): EndToEndResult {
  const cases: EndToEndCase[] = [];
  cases.push(benchFile("f32", bigModel(), reps, true, 4096 * 4096 * 4));
  cases.push(benchFile("bf16", denseModel(16, 4096, "BF16", join(tmpdir(), "cntscope-bench-bf16.safetensors")), reps, true, 4096 * 4096 * 2));
  // 64 layers of 4096 x 4096 f32: 4.3 GB, only with room to spare, deleted after.
  const huge = join(tmpdir(), "cntscope-bench-4gb.safetensors");
  if (freeBytes(tmpdir()) > 12e9) {
    try {
      cases.push(benchFile("f32, 4.3 GB", denseModel(64, 4096, "F32", huge), Math.max(2, reps >> 1), false, 4096 * 4096 * 4));
    } finally {
      if (existsSync(huge)) unlinkSync(huge);
    }
  }
  const f32 = cases[0];
  const ms = (xs: number[]) => median(xs);
  return {
    cases,
    bytes: f32.bytes,
    readGBs: f32.bytes / ms(f32.readLoopMs) / 1e6,
    analyzeGBs: f32.bytes / ms(f32.oneMs) / 1e6,
    ratio: median(f32.readLoopMs.map((r, i) => r / f32.oneMs[i])),
    peakRssMB: f32.peakRssMB,
    twoWorkersGBs: f32.bytes / ms(f32.twoMs) / 1e6,
    speedup: median(f32.oneMs.map((o, i) => o / f32.twoMs[i])),
  };
}

/** Per-repetition ratios a[i] / b[i] as "median (lo-hi)". */
function ratios(a: number[], b: number[]): string {
  const r = a.map((x, i) => x / b[i]);
  return `${median(r).toFixed(2)} (${range(r)})`;
}

/** The same-run goals for the whole default report on 2 workers, as a fraction of the read loop's rate, by dtype. */
const GOAL: Record<string, number> = { f32: 0.7, bf16: 0.5 };

export function formatEndToEnd(r: EndToEndResult): string {
  const lines: string[] = [];
  const block = `${READ_BLOCK / 2 ** 20} MiB`;
  for (const c of r.cases) {
    const gbs = (ms: number[]) => `${(c.bytes / median(ms) / 1e6).toFixed(2)} GB/s`;
    lines.push(`end to end ${(c.bytes / 1e9).toFixed(2)} GB ${c.name} safetensors (page cache), ${c.oneMs.length} paired runs, medians (range of the ratios):`);
    lines.push(`  read loop, one reused ${block} buffer (the block size) ${gbs(c.readLoopMs)} | cat > /dev/null ${gbs(c.catMs)}${c.readAllMs.length ? ` | (old baseline: whole file into one fresh buffer ${gbs(c.readAllMs)})` : ""}`);
    lines.push(`  analyzeFile, 1 worker  ${gbs(c.oneMs)} = ${ratios(c.readLoopMs, c.oneMs)} of the read loop, ${ratios(c.catMs, c.oneMs)} of cat`);
    lines.push(`  analyzeFile, 2 workers ${gbs(c.twoMs)} = ${ratios(c.readLoopMs, c.twoMs)} of the read loop, ${ratios(c.catMs, c.twoMs)} of cat; ${ratios(c.oneMs, c.twoMs)}x 1 worker`);
    if (c.twoReadsMs.length) lines.push(`  2 workers, every tensor read twice (memoryBudget 0): ${gbs(c.twoReadsMs)} = ${ratios(c.readLoopMs, c.twoReadsMs)} of the read loop; one read is ${ratios(c.twoReadsMs, c.twoMs)}x faster, ${ratios(c.twoReadsCpuMs, c.twoCpuMs)}x less CPU`);
    if (c.readAllMs.length) lines.push(`  (against the old baseline, 2 workers: ${ratios(c.readAllMs, c.twoMs)} of reading the whole file into one buffer)`);
    lines.push(`  CPU time (all threads, start-up included): read loop ${range(c.readLoopCpuMs, 0)} ms, 1 worker ${range(c.oneCpuMs, 0)} ms, 2 workers ${range(c.twoCpuMs, 0)} ms; read loop over 2 workers ${ratios(c.readLoopCpuMs, c.twoCpuMs)}; 2 workers over 1 ${ratios(c.twoCpuMs, c.oneCpuMs)}`);
    const goal = GOAL[c.name];
    if (goal !== undefined) lines.push(`  goal: 2 workers at >= ${goal} of the read loop's rate; this run ${ratios(c.readLoopMs, c.twoMs)} (${median(c.readLoopMs.map((x, i) => x / c.twoMs[i])) >= goal ? "met" : "not met"})`);
    lines.push(`  peak RSS ${c.peakRssMB.toFixed(0)} MB (memoryBudget holds at most 192 MiB, here the largest tensor: ${(c.largestBytes / 2 ** 20).toFixed(0)} MiB)`);
  }
  return lines.join("\n");
}

if (process.argv[1]?.endsWith("e2e.bench.ts")) console.log(formatEndToEnd(benchEndToEnd(Number(process.argv[2] ?? 5))));
