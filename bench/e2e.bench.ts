// End to end: a 1 GB safetensors file of dense layers, from the page cache, through the Node
// entry, against reading the same file with fs.read into one buffer and doing nothing; peak RSS
// of the analysis measured in a child process of its own.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAll } from "./read-all.js";

export interface EndToEndResult {
  bytes: number;
  readGBs: number;
  analyzeGBs: number;
  ratio: number;
  peakRssMB: number;
  /** The same file with analyzeFile(path, { workers: 2 }): each layer split over two threads. */
  twoWorkersGBs: number;
  speedup: number;
}

/** 16 dense layers of 4096 x 4096 f32 (+ biases): 1.07 GB, written once and kept in tmp. */
export function bigModel(): string {
  const path = join(tmpdir(), "cntscope-bench-1gb.safetensors");
  const n = 4096, layers = 16;
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (let l = 0; l < layers; l++) {
    header[`layers.${l}.weight`] = { dtype: "F32", shape: [n, n], data_offsets: [offset, (offset += n * n * 4)] };
    header[`layers.${l}.bias`] = { dtype: "F32", shape: [n], data_offsets: [offset, (offset += n * 4)] };
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
  for (let done = 0, k = 0; done < offset; k++) {
    const bytes = Buffer.from(block.buffer, 0, Math.min(block.byteLength, offset - done));
    block[k % block.length] += 1e-3;
    writeSync(fd, bytes);
    done += bytes.byteLength;
  }
  closeSync(fd);
  return path;
}

export function benchEndToEnd(): EndToEndResult {
  const path = bigModel();
  const bytes = statSync(path).size;
  readAll(path); // into the page cache
  const readMs = Math.min(readAll(path), readAll(path));
  // The analysis in a fresh process, its RSS sampled at every block. (Not getrusage's maxRSS:
  // on Linux a child keeps its parent's high-water mark across fork and exec, and this parent
  // has just held the whole file.)
  const run = (workers: number) => {
    // The built package (as users run it); `npm run build` first.
    const script = `import { analyzeFile } from "./dist/node/index.js";
let peak = process.memoryUsage().rss;
const t = performance.now();
await analyzeFile(${JSON.stringify(path)}, { workers: ${workers}, onProgress: () => { peak = Math.max(peak, process.memoryUsage().rss); } });
const ms = performance.now() - t;
console.log(JSON.stringify({ ms, maxRss: Math.max(peak, process.memoryUsage().rss) / 1024 }));`;
    let best = { ms: Infinity, maxRss: 0 };
    for (let rep = 0; rep < 2; rep++) {
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      if (child.status !== 0) throw new Error(child.stderr);
      const r = JSON.parse(child.stdout.trim().split("\n").pop()!);
      if (r.ms < best.ms) best = r;
    }
    return best;
  };
  const one = run(1), two = run(2);
  return { bytes, readGBs: bytes / readMs / 1e6, analyzeGBs: bytes / one.ms / 1e6, ratio: readMs / one.ms, peakRssMB: one.maxRss / 1024, twoWorkersGBs: bytes / two.ms / 1e6, speedup: one.ms / two.ms };
}

export function formatEndToEnd(r: EndToEndResult): string {
  return `end to end ${(r.bytes / 1e9).toFixed(2)} GB safetensors (page cache): fs.read into one buffer ${r.readGBs.toFixed(2)} GB/s | analyzeFile (two passes: stats, histograms) ${r.analyzeGBs.toFixed(2)} GB/s = ${r.ratio.toFixed(2)} of the read | peak RSS ${r.peakRssMB.toFixed(0)} MB | 2 workers ${r.twoWorkersGBs.toFixed(2)} GB/s = ${r.speedup.toFixed(2)}x one (one thread already keeps two cores busy: its kernels, and the next block's read)`;
}

if (process.argv[1]?.endsWith("e2e.bench.ts")) console.log(formatEndToEnd(benchEndToEnd()));
