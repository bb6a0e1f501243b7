// TF.js graph models end to end: analyzeFile on a model.json + weight shards, against a plain
// fs.read of the same bytes (model.json and every shard) and against the same weights as one
// safetensors file, all in this run and from the page cache, medians of interleaved runs.
//   - a graph model written here: LAYERS _FusedMatMul layers N x N f32 (+ BiasAdd), in 4 MB shards as
//     tfjs-converter writes them (weights straddle shard files), and the same tensors as safetensors;
//   - nsfwjs's mobilenet_v2_mid (uint8-quantized, base64 shards inside JavaScript bundles) and
//     @vladmandic/human's blazeface (float32), real files from the devDependencies (fs.read only).
// The target: the graph model costs the same multiple of fs.read as the safetensors file (the
// GraphDef is small; the shards are plain ranges, read once).
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { analyzeFile, inspectFile } from "../src/node/index.js";
import { writeSafetensors } from "../test/helpers/safetensors-writer.js";
import { readAll } from "./read-all.js";

export interface TfjsGraphCase {
  name: string;
  bytes: number;
  readGBs: number;
  analyzeGBs: number;
  /** analyze time over fs.read time of the same files (lower is better). */
  ofRead: number;
  safetensorsGBs?: number;
  safetensorsOfRead?: number;
  /** graph model time over safetensors time. */
  ofSafetensors?: number;
  weightedLayers: number;
  /** Medians in ms: fs.read of the files, inspectFile (the reader alone: model.json, GraphDef, manifest, shard sizes), analyzeFile. */
  readMs: number;
  inspectMs: number;
  analyzeMs: number;
}

const LAYERS = 8;
const N = 2048;
const SHARD = 4 * 1024 * 1024;

/** The dense graph model (model.json + shards) and the same tensors as safetensors, written once into tmp. */
function synthetic(): { model: string; files: string[]; st: string } {
  const folder = join(tmpdir(), `cntscope-bench-tfjs-graph-${LAYERS}x${N}`);
  const model = join(folder, "model.json");
  const st = join(folder, "same.safetensors");
  const total = LAYERS * (N * N + N) * 4;
  const count = Math.ceil(total / SHARD);
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  const files = [model, ...paths.map((p) => join(folder, p))];
  if (files.every(existsSync) && existsSync(st)) return { model, files, st };
  mkdirSync(folder, { recursive: true });
  // A fixed pseudo-random fill (xorshift), the same for both files.
  let s = 0x9e3779b9;
  const fill = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      a[i] = ((s >>> 0) / 4294967296 - 0.5) * scale;
    }
    return a;
  };
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  const nodes: unknown[] = [{ name: "x", op: "Placeholder", attr: { shape: { shape: { dim: [{ size: "-1" }, { size: String(N) }] } }, dtype: { type: "DT_FLOAT" } } }];
  let last = "x";
  const b64 = (t: string) => Buffer.from(t).toString("base64");
  for (let l = 0; l < LAYERS; l++) {
    const w = `dense_${l}/kernel`, b = `dense_${l}/bias`;
    tensors.push({ name: w, shape: [N, N], data: fill(N * N, 0.05) }, { name: b, shape: [N], data: fill(N, 0.02) });
    for (const [name, shape] of [[w, [N, N]], [b, [N]]] as const) {
      nodes.push({ name, op: "Const", attr: { value: { tensor: { dtype: "DT_FLOAT", tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: "DT_FLOAT" } } });
    }
    const out = `dense_${l}/Relu`;
    nodes.push({ name: out, op: "_FusedMatMul", input: [last, w, b], attr: { transpose_a: { b: false }, transpose_b: { b: false }, fused_ops: { list: { s: [b64("BiasAdd"), b64("Relu")] } }, num_args: { i: "1" } } });
    last = out;
  }
  nodes.push({ name: "Identity", op: "Identity", input: [last] });
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const t of tensors) {
    bytes.set(new Uint8Array(t.data.buffer), at);
    at += t.data.byteLength;
  }
  paths.forEach((p, i) => writeFileSync(join(folder, p), bytes.subarray(i * SHARD, Math.min(total, (i + 1) * SHARD))));
  const manifest = [{ paths, weights: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: "float32" })) }];
  writeFileSync(model, JSON.stringify({ format: "graph-model", generatedBy: "bench", convertedBy: "bench/tfjs-graph.bench.ts", modelTopology: { node: nodes, versions: {} }, weightsManifest: manifest }));
  writeFileSync(st, writeSafetensors(tensors.map((t) => ({ name: t.name, dtype: "F32", shape: t.shape, data: new Uint8Array(t.data.buffer) }))));
  return { model, files, st };
}

async function timeAnalyze(path: string): Promise<{ ms: number; weighted: number }> {
  const t = performance.now();
  const report = await analyzeFile(path);
  return { ms: performance.now() - t, weighted: report.coverage.weightedLayers };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const sizeOf = (paths: string[]) => paths.reduce((a, p) => a + statSync(p).size, 0);

/** One model: fs.read of its files, analyzeFile, and (when given) the same weights as safetensors, interleaved in turning order. */
async function benchCase(name: string, model: string, files: string[], st: string | undefined, runs: number): Promise<TfjsGraphCase> {
  readAll(...files);
  if (st) readAll(st);
  await timeAnalyze(model); // warm-up: the kernels compiled once
  const read: number[] = [], graph: number[] = [], safe: number[] = [], inspect: number[] = [];
  let weightedLayers = 0;
  for (let i = 0; i < runs; i++) {
    const steps = [
      async () => void read.push(readAll(...files)),
      async () => {
        const a = await timeAnalyze(model);
        graph.push(a.ms);
        weightedLayers = a.weighted;
      },
      async () => {
        const t = performance.now();
        await inspectFile(model);
        inspect.push(performance.now() - t);
      },
      ...(st ? [async () => void safe.push((await timeAnalyze(st)).ms)] : []),
    ];
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  }
  const bytes = sizeOf(files);
  const [r, g] = [median(read), median(graph)];
  const out: TfjsGraphCase = { name, bytes, readGBs: bytes / r / 1e6, analyzeGBs: bytes / g / 1e6, ofRead: g / r, weightedLayers, readMs: r, inspectMs: median(inspect), analyzeMs: g };
  if (st) {
    const s = median(safe);
    // The safetensors file's own read time, measured the same way (median of 5 reads).
    const stRead = median(Array.from({ length: 5 }, () => readAll(st)));
    Object.assign(out, { safetensorsGBs: statSync(st).size / s / 1e6, safetensorsOfRead: s / stRead, ofSafetensors: g / s });
  }
  return out;
}

export async function benchTfjsGraph(quick = false): Promise<TfjsGraphCase[]> {
  const out: TfjsGraphCase[] = [];
  const runs = quick ? 3 : 7;
  if (!quick) {
    const made = synthetic();
    out.push(await benchCase(`dense ${LAYERS}x${N}x${N} f32 graph model, ${made.files.length - 1} shards`, made.model, made.files, made.st, runs));
  }
  // --quick: the small hand-built fixture only (the real models' conv maps take seconds).
  const real: [string, string, string[]][] = quick
    ? [["test fixture graph-model/small", "test/fixtures/tfjs/graph-model/small/model.json", ["group1-shard1of2.bin", "group1-shard2of2.bin"]]]
    : [
        ["nsfwjs mobilenet_v2_mid (uint8, base64 bundles)", "node_modules/nsfwjs/dist/models/mobilenet_v2_mid/model.min.js", ["group1-shard1of2.min.js", "group1-shard2of2.min.js"]],
        ["human blazeface (f32)", "node_modules/@vladmandic/human/models/blazeface.json", ["blazeface.bin"]],
      ];
  for (const [name, model, shards] of real) {
    if (!existsSync(model)) continue;
    out.push(await benchCase(name, model, [model, ...shards.map((s) => join(dirname(model), s))], undefined, runs));
  }
  return out;
}

export function formatTfjsGraph(cases: TfjsGraphCase[]): string {
  const f = (x: number) => x.toFixed(2);
  return [
    "tfjs graph models, analyzeFile from the page cache, medians (same run; the real models' time is the conv strength maps of 224x224 and 256x256 inputs, inspectFile is the reader alone):",
    ...cases.map((c) =>
      `  ${c.name}, ${(c.bytes / 1e6).toFixed(1)} MB: fs.read ${f(c.readGBs)} GB/s | analyzeFile ${f(c.analyzeGBs)} GB/s (${f(c.ofRead)}x the read time)` +
      (c.safetensorsGBs !== undefined ? ` | same weights as safetensors ${f(c.safetensorsGBs)} GB/s (${f(c.safetensorsOfRead!)}x its read) | graph model / safetensors ${f(c.ofSafetensors!)}` : "") +
      ` | ${c.weightedLayers} weighted layers; ms: read ${c.readMs.toFixed(1)}, inspectFile ${c.inspectMs.toFixed(1)}, analyzeFile ${c.analyzeMs.toFixed(0)}`),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatTfjsGraph(await benchTfjsGraph(process.argv.includes("--quick"))));
