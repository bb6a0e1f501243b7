// TF.js graph models end to end: analyzeFile on a model.json + weight shards, against a plain
// fs.read of the same bytes (model.json and every shard) and against the same weights as one
// safetensors file, all in this run and from the page cache, medians of interleaved runs.
//   - a graph model written here: LAYERS _FusedMatMul layers N x N f32 (+ BiasAdd), in 4 MB shards as
//     tfjs-converter writes them (weights straddle shard files), and its fair twin: the same layers
//     as a safetensors state_dict (`layers.N.weight` [out, in], `layers.N.bias`), so both analyses
//     place the same dense chain and do the same strength work (checked before the timing: the
//     same node layers and strengths). The two are timed in pairs, in turning order, and the
//     ratio is taken pair by pair: the machine's drift moves both halves of a pair alike;
//   - nsfwjs's mobilenet_v2_mid (uint8-quantized, base64 shards inside JavaScript bundles) and
//     @vladmandic/human's blazeface (float32), real files from the devDependencies (fs.read only).
// The target: the graph model costs the same multiple of fs.read as the safetensors file (the
// GraphDef is small; the shards are plain ranges, read once).
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { analyzeFile, inspectFile } from "../src/node/index.js";
import type { Report } from "../src/report/types.js";
import { writeSafetensors } from "../test/helpers/safetensors-writer.js";
import { median, readAll } from "./read-all.js";

export interface TfjsGraphCase {
  name: string;
  bytes: number;
  readGBs: number;
  analyzeGBs: number;
  /** analyze time over fs.read time of the same files (lower is better). */
  ofRead: number;
  safetensorsGBs?: number;
  safetensorsOfRead?: number;
  /** graph model time over safetensors time: the median of the pairs' ratios. */
  ofSafetensors?: number;
  /** The pairs' ratios, lowest and highest. */
  ofSafetensorsRange?: [number, number];
  /** The same ratio of CPU time (process.cpuUsage, all threads), median of the pairs and their range. */
  cpuOfSafetensors?: number;
  cpuOfSafetensorsRange?: [number, number];
  /** Medians in ms of the safetensors twin's analyzeFile, with the range of both. */
  safetensorsMs?: number;
  analyzeRange?: [number, number];
  safetensorsRange?: [number, number];
  weightedLayers: number;
  /** Medians in ms: fs.read of the files, inspectFile (the reader alone: model.json, GraphDef, manifest, shard sizes), analyzeFile. */
  readMs: number;
  inspectMs: number;
  analyzeMs: number;
}

const LAYERS = 8;
const N = 2048;
const SHARD = 4 * 1024 * 1024;

/**
 * The dense graph model (model.json + shards), the same model in one shard file (what the shard
 * files cost: their opens and the reads cut at their ends), and its fair safetensors twin, written
 * once into tmp.
 */
function synthetic(): { model: string; files: string[]; st: string; oneShard: { model: string; files: string[] } } {
  const folder = join(tmpdir(), `cntscope-bench-tfjs-graph-${LAYERS}x${N}`);
  const model = join(folder, "model.json");
  const st = join(folder, "fair-twin.safetensors");
  const total = LAYERS * (N * N + N) * 4;
  const count = Math.ceil(total / SHARD);
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  const files = [model, ...paths.map((p) => join(folder, p))];
  const one = join(folder, "one-shard");
  const oneShard = { model: join(one, "model.json"), files: [join(one, "model.json"), join(one, "group1-shard1of1.bin")] };
  if (files.every(existsSync) && existsSync(st) && oneShard.files.every(existsSync)) return { model, files, st, oneShard };
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
  const weights = tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: "float32" }));
  const modelJson = (shards: string[]) => JSON.stringify({ format: "graph-model", generatedBy: "bench", convertedBy: "bench/tfjs-graph.bench.ts", modelTopology: { node: nodes, versions: {} }, weightsManifest: [{ paths: shards, weights }] });
  writeFileSync(model, modelJson(paths));
  mkdirSync(one, { recursive: true });
  writeFileSync(oneShard.files[1], bytes);
  writeFileSync(oneShard.model, modelJson(["group1-shard1of1.bin"]));
  // The twin: a PyTorch-style state_dict, weights [out, in] (the kernels transposed), so its
  // layers and strengths are the graph model's, and every tensor is read the same number of times.
  const twin = tensors.map((t, i) => {
    const name = `layers.${i >> 1}.${t.shape.length === 2 ? "weight" : "bias"}`;
    return { name, dtype: "F32" as const, shape: t.shape, data: new Uint8Array((t.shape.length === 2 ? transpose(t.data, N) : t.data).buffer) };
  });
  writeFileSync(st, writeSafetensors(twin));
  return { model, files, st, oneShard };
}

function transpose(a: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j];
  return out;
}

/** Both reports place the same node layers with the same strengths (to f32 sums' rounding), or the twin is not fair. */
async function assertSameNodeLayers(model: string, st: string): Promise<void> {
  const [a, b] = [await analyzeFile(model), await analyzeFile(st)];
  const describe = (r: Report) => r.nodeLayers.map((n) => `${n.size}`).join(",");
  const close = (x: number | null, y: number | null) => x === y || (x !== null && y !== null && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y)));
  const same =
    describe(a) === describe(b) &&
    a.coverage.weightedLayers === b.coverage.weightedLayers &&
    a.nodeLayers.every((n, i) => close(n.strength.mean, b.nodeLayers[i]!.strength.mean) && close(n.fluctuation, b.nodeLayers[i]!.fluctuation));
  if (!same) throw new Error(`The safetensors twin is not fair: node layers ${describe(a)} (${a.coverage.weightedLayers} weighted) against ${describe(b)} (${b.coverage.weightedLayers} weighted), or other strengths.`);
}

/** Wall time and the process's CPU time (all threads: on a shared machine the wall time also counts waiting for a core). */
async function timeAnalyze(path: string): Promise<{ ms: number; cpuMs: number; weighted: number }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const report = await analyzeFile(path);
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, weighted: report.coverage.weightedLayers };
}

const span = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
const sizeOf = (paths: string[]) => paths.reduce((a, p) => a + statSync(p).size, 0);

/** One model: fs.read of its files, analyzeFile, and (when given) the same weights as safetensors, interleaved in turning order. */
async function benchCase(name: string, model: string, files: string[], st: string | undefined, runs: number): Promise<TfjsGraphCase> {
  readAll(...files);
  if (st) {
    readAll(st);
    await assertSameNodeLayers(model, st);
  }
  await timeAnalyze(model); // warm-up: the kernels compiled once
  const read: number[] = [], graph: number[] = [], safe: number[] = [], inspect: number[] = [], graphCpu: number[] = [], safeCpu: number[] = [];
  let weightedLayers = 0;
  for (let i = 0; i < runs; i++) {
    const steps = [
      async () => void read.push(readAll(...files)),
      async () => {
        const a = await timeAnalyze(model);
        graph.push(a.ms);
        graphCpu.push(a.cpuMs);
        weightedLayers = a.weighted;
      },
      async () => {
        const t = performance.now();
        await inspectFile(model);
        inspect.push(performance.now() - t);
      },
    ];
    // The twin runs right before or right after the graph model (turning with the round), so each pair shares the machine's state.
    if (st) {
      const twin = async () => {
        const b = await timeAnalyze(st);
        safe.push(b.ms);
        safeCpu.push(b.cpuMs);
      };
      const pair = steps[1]!;
      steps[1] = i % 2 ? async () => (await twin(), await pair()) : async () => (await pair(), await twin());
    }
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  }
  const bytes = sizeOf(files);
  const [r, g] = [median(read), median(graph)];
  const out: TfjsGraphCase = { name, bytes, readGBs: bytes / r / 1e6, analyzeGBs: bytes / g / 1e6, ofRead: g / r, weightedLayers, readMs: r, inspectMs: median(inspect), analyzeMs: g, analyzeRange: span(graph) };
  if (st) {
    const s = median(safe);
    const ratios = graph.map((x, k) => x / safe[k]!);
    const cpuRatios = graphCpu.map((x, k) => x / safeCpu[k]!);
    // The safetensors file's own read time, measured the same way (median of 5 reads).
    const stRead = median(Array.from({ length: 5 }, () => readAll(st)));
    Object.assign(out, { safetensorsGBs: statSync(st).size / s / 1e6, safetensorsOfRead: s / stRead, ofSafetensors: median(ratios), ofSafetensorsRange: span(ratios), cpuOfSafetensors: median(cpuRatios), cpuOfSafetensorsRange: span(cpuRatios), safetensorsMs: s, safetensorsRange: span(safe) });
  }
  return out;
}

/** `denseOnly`: the dense model and its twin alone, `runs` pairs (for working on the gap). */
export async function benchTfjsGraph(quick = false, denseOnly = false, denseRuns = 11): Promise<TfjsGraphCase[]> {
  const out: TfjsGraphCase[] = [];
  const runs = quick ? 3 : 7;
  if (!quick) {
    const made = synthetic();
    out.push(await benchCase(`dense ${LAYERS}x${N}x${N} f32 graph model, ${made.files.length - 1} shards`, made.model, made.files, made.st, denseRuns));
    out.push(await benchCase(`the same graph model in 1 shard`, made.oneShard.model, made.oneShard.files, made.st, denseRuns));
  }
  if (denseOnly) return out;
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
      (c.safetensorsGBs !== undefined
        ? ` | fair safetensors twin ${f(c.safetensorsGBs)} GB/s (${f(c.safetensorsOfRead!)}x its read) | graph model / twin ${f(c.ofSafetensors!)} (pairs ${f(c.ofSafetensorsRange![0])}-${f(c.ofSafetensorsRange![1])}), in CPU time ${f(c.cpuOfSafetensors!)} (${f(c.cpuOfSafetensorsRange![0])}-${f(c.cpuOfSafetensorsRange![1])}); ms: graph ${c.analyzeMs.toFixed(0)} (${c.analyzeRange!.map((x) => x.toFixed(0)).join("-")}), twin ${c.safetensorsMs!.toFixed(0)} (${c.safetensorsRange!.map((x) => x.toFixed(0)).join("-")})`
        : "") +
      ` | ${c.weightedLayers} weighted layers; ms: read ${c.readMs.toFixed(1)}, inspectFile ${c.inspectMs.toFixed(1)}, analyzeFile ${c.analyzeMs.toFixed(0)}`),
  ].join("\n");
}

// Alone: `node --import tsx bench/tfjs-graph.bench.ts [--quick | --dense [pairs]]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dense = process.argv.indexOf("--dense");
  const pairs = dense >= 0 && Number(process.argv[dense + 1]) > 0 ? Number(process.argv[dense + 1]) : 11;
  console.log(formatTfjsGraph(await benchTfjsGraph(process.argv.includes("--quick"), dense >= 0, pairs)));
}
