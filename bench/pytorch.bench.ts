// PyTorch .pt end to end: a ~300 MB state_dict written by torch.save (Debian's /usr/bin/python3
// with torch), analyzed by analyzeFile, against the same weights as safetensors and against a
// plain fs.read of the .pt into one buffer, all in this run and from the page cache. The target:
// the .pt costs the same multiple of fs.read as the safetensors file (its tensors are plain
// ranges of stored zip entries; only data.pkl is parsed, by our own unpickler).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeFile } from "../src/node/index.js";
import { readAll } from "./read-all.js";

export interface PytorchResult {
  bytes: number;
  readGBs: number;
  ptGBs: number;
  safetensorsGBs: number;
  /** .pt time over fs.read time, safetensors time over fs.read time (lower is better), and .pt over safetensors. */
  ptOfRead: number;
  safetensorsOfRead: number;
  ptOfSafetensors: number;
  /** The same ratio of the fastest runs (less sensitive to a busy machine). */
  ptOfSafetensorsMin: number;
  tensors: number;
}

const LAYERS = 8;
const N = 3072;

/** torch.save of LAYERS dense layers N x N f32 (+ biases), and the same tensors as safetensors, written once and kept in tmp. */
const SCRIPT = `
import json, os, struct, sys
import torch
pt, st, layers, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(7)
sd = {}
for l in range(layers):
    sd["layers.%d.weight" % l] = torch.randn(n, n) * 0.02
    sd["layers.%d.bias" % l] = torch.randn(n) * 0.01
torch.save(sd, pt)
header, offset = {}, 0
for k, v in sd.items():
    header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + v.numel() * 4]}
    offset += v.numel() * 4
text = json.dumps(header).encode()
text += b" " * ((-(8 + len(text))) % 8)
with open(st, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    for v in sd.values():
        f.write(v.contiguous().numpy().tobytes())
print(torch.__version__)
`;

function files(): { pt: string; st: string } | string {
  const pt = join(tmpdir(), `cntscope-bench-${LAYERS}x${N}.pt`);
  const st = join(tmpdir(), `cntscope-bench-${LAYERS}x${N}.safetensors`);
  if (existsSync(pt) && existsSync(st)) return { pt, st };
  const run = spawnSync("/usr/bin/python3", ["-c", SCRIPT, pt, st, String(LAYERS), String(N)], { encoding: "utf8" });
  if (run.status !== 0) return `pytorch bench skipped: torch.save needs /usr/bin/python3 with torch (${run.error?.message ?? run.stderr.trim().split("\n").pop()})`;
  return { pt, st };
}

/** fs.read of the whole file into one buffer (allocated once, outside the timing: a fresh 300 MB buffer would tax whatever runs next). */
async function timeAnalyze(path: string): Promise<{ ms: number; tensors: number }> {
  const t = performance.now();
  const report = await analyzeFile(path);
  return { ms: performance.now() - t, tensors: report.layers.length };
}

/** Median of the runs, the three measurements interleaved (every order in turn) so drift hits them alike. */
export async function benchPytorch(runs = 12): Promise<PytorchResult | string> {
  const made = files();
  if (typeof made === "string") return made;
  const { pt, st } = made;
  readAll(pt);
  readAll(st); // into the page cache
  const read: number[] = [];
  const ptMs: number[] = [];
  const stMs: number[] = [];
  let tensors = 0;
  await timeAnalyze(pt); // warm-up: the kernels compiled once
  // Every order of the three in turn (a rotation alone would keep one file always right after the read).
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]];
  for (let i = 0; i < runs; i++) {
    const steps = [
      () => void read.push(readAll(pt)),
      async () => {
        const a = await timeAnalyze(pt);
        ptMs.push(a.ms);
        tensors = a.tensors;
      },
      async () => void stMs.push((await timeAnalyze(st)).ms),
    ];
    for (const k of orders[i % orders.length]!) await steps[k]!();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const bytes = statSync(pt).size;
  const [r, p, s] = [median(read), median(ptMs), median(stMs)];
  return {
    bytes,
    readGBs: bytes / r / 1e6,
    ptGBs: bytes / p / 1e6,
    safetensorsGBs: statSync(st).size / s / 1e6,
    ptOfRead: p / r,
    safetensorsOfRead: s / r,
    ptOfSafetensors: p / s,
    ptOfSafetensorsMin: Math.min(...ptMs) / Math.min(...stMs),
    tensors,
  };
}

export function formatPytorch(r: PytorchResult | string): string {
  if (typeof r === "string") return r;
  const f = (x: number) => x.toFixed(2);
  return [
    `pytorch .pt ${(r.bytes / 1e6).toFixed(0)} MB (${LAYERS} dense ${N}x${N} f32, torch.save), analyzeFile from the page cache, medians:`,
    `  fs.read of the .pt ${f(r.readGBs)} GB/s | analyzeFile .pt ${f(r.ptGBs)} GB/s (${f(r.ptOfRead)}x the read time) | same weights as safetensors ${f(r.safetensorsGBs)} GB/s (${f(r.safetensorsOfRead)}x) | .pt / safetensors ${f(r.ptOfSafetensors)} (fastest runs ${f(r.ptOfSafetensorsMin)})`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatPytorch(await benchPytorch()));
