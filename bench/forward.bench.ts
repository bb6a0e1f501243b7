// The forward pass (spec metrics.md section 3) against onnxruntime on the same ONNX files, the
// same batches and the same run, and the kernels against the machine's f32 SIMD peak.
//
//   models    samples/s of analyze(bytes, { inputs, batch }) (the weights' metrics included; its
//             weight-only time, measured in the same rounds, is subtracted for "forward only"),
//             of onnxruntime-node (CPU provider, 1 thread) and of onnxruntime-web's wasm backend
//             (1 thread, SIMD); ratios ours/ort. Rounds interleave the runtimes (one pass over the
//             samples each per round); each line is the best round by the process's CPU time
//             (see interleaved()), so load from other processes hits all sides alike: read the
//             ratios, not the absolute rates.
//   kernels   GFLOP/s of the f32x4 multiply-add peak (a bare loop: bench's own module, and the
//             kernels' fmaPeak export when it exists), of the gemm export at 256x512x512 and of
//             the dense and conv op runners (512 -> 512 at batch 256; 64 -> 64 3x3 pad 1 on
//             56x56), each as a fraction of the peak, interleaved the same way.
//
// The models are made by bench/fixtures/make_forward_bench.py (torch 1.13) into bench/.cache/forward;
// onnxruntime is not a dependency (294 MB + 145 MB, and onnxruntime-node's install script fetches
// from nuget): it is imported from bench/.cache/ort (or node_modules) when there. A missing piece
// skips its lines and says how to get it.
//
// Run alone: node --import tsx bench/forward.bench.ts [--quick] [--only kernels|models]
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { analyze } from "../src/entry/node-core.js";
import { open as openOnnx } from "../src/formats/onnx/read.js";
import { Executor } from "../src/forward/execute.js";
import { LinearMemory } from "../src/forward/memory.js";
import { runnerOf } from "../src/forward/ops/registry.js";
import type { Tensor } from "../src/forward/types.js";
import { WeightReader } from "../src/forward/weights.js";
import { buildGraph } from "../src/graph/build.js";
import { normalizeModel } from "../src/graph/normalize.js";
import { inferShapes } from "../src/graph/shapes.js";
import { DEFAULT_LIMITS } from "../src/model/limits.js";
import { memorySource } from "../src/source/memory.js";

const ROOT = resolve(import.meta.dirname, "..");
const MODELS = join(ROOT, "bench", ".cache", "forward");
const ORT_DIR = join(ROOT, "bench", ".cache", "ort");
const MAKE_MODELS = "/usr/bin/python3 bench/fixtures/make_forward_bench.py";
const INSTALL_ORT = "npm install --prefix bench/.cache/ort --ignore-scripts --no-save onnxruntime-node@1.31.1 onnxruntime-web@1.31.1";

interface ModelCase {
  name: string;
  /** One sample's shape (the input is [N, ...sample]). */
  sample: number[];
  batch: number;
  /** Samples per pass (a multiple of batch), full and --quick. */
  samples: number;
  quickSamples: number;
}

const CASES: ModelCase[] = [
  { name: "digits-mlp", sample: [64], batch: 64, samples: 8192, quickSamples: 2048 },
  { name: "digits-cnn", sample: [1, 8, 8], batch: 64, samples: 2048, quickSamples: 512 },
  { name: "mlp-784", sample: [784], batch: 256, samples: 2048, quickSamples: 512 },
  { name: "resnet18-64", sample: [3, 64, 64], batch: 16, samples: 64, quickSamples: 16 },
  { name: "lstm-2x256", sample: [64, 32], batch: 16, samples: 64, quickSamples: 16 },
  // The same LSTM with its zero states given, without ConstantOfShape (bench/fixtures/make_forward_bench.py).
  { name: "lstm-2x256-states", sample: [64, 32], batch: 16, samples: 64, quickSamples: 16 },
];

export interface RuntimeLine {
  /** Samples per second (best of the rounds); undefined when this runtime could not run the model. */
  samplesPerSecond?: number;
  /** Why not, when it could not. */
  skipped?: string;
  /** max |y - torch| / max |torch| on the model's check batch (3 samples), when compared. */
  checkError?: number;
}

export interface ModelLine {
  name: string;
  batch: number;
  samples: number;
  rounds: number;
  ours: RuntimeLine & {
    /** analyze(bytes) without inputs (the weights' metrics alone), seconds, best round. */
    weightsSeconds?: number;
    /** Samples/s of the forward part: samples over (with inputs - without). */
    forwardSamplesPerSecond?: number;
    /** Samples/s of the Executor alone (src/forward/execute.ts: the ops, nothing measured), and why not. */
    executorSamplesPerSecond?: number;
    executorSkipped?: string;
  };
  ortNode: RuntimeLine;
  ortWeb: RuntimeLine;
}

export interface KernelLine {
  name: string;
  flops: number;
  gflops?: number;
  ofPeak?: number;
  skipped?: string;
}

export interface ForwardBenchResult {
  /** GFLOP/s of the bare multiply-add loop (the best of the bench's variants and fmaPeak). */
  peakGflops: number;
  kernels: KernelLine[];
  models: ModelLine[];
  notes: string[];
}

// ------------------------------------------------------------------------------ helpers

/** Uniform [0, 1) from a fixed LCG: the same inputs for every runtime. */
function randomInputs(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32;
  }
  return v;
}

const product = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);

function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / (m || 1);
}

/**
 * Time each runner once per round, the runners interleaved, after one untimed warm-up call each.
 * Rounds: as many as fit `budgetSeconds` after the warm-up (at least `min`, at most `max`).
 *
 * The time is this process's CPU time (user + system, all threads: process.cpuUsage), not the
 * wall clock: the machine is shared with other sessions (load 10-20 on 2 cores while this was
 * written), and a call's wall time then mostly measures how long it waited for a core (gemm
 * 256x512x512: 2-43 GFLOP/s by the wall clock, 38-42 by CPU time in the same calls). Every
 * runtime here computes on one thread, so CPU time is its compute time. Each runner's time is
 * its best round: the work is the same every round, and interference only adds.
 */
async function interleaved(runners: (() => unknown)[], min: number, max: number, budgetSeconds: number): Promise<{ seconds: number[]; rounds: number }> {
  const cpuSeconds = (from: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(from);
    return (d.user + d.system) / 1e6;
  };
  let warm = 0;
  for (const run of runners) {
    const t0 = process.cpuUsage();
    await run();
    warm += cpuSeconds(t0);
  }
  const rounds = Math.max(min, Math.min(max, Math.floor(budgetSeconds / Math.max(warm, 1e-6))));
  const best = runners.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < runners.length; i++) {
      const t0 = process.cpuUsage();
      await runners[i]();
      best[i] = Math.min(best[i], cpuSeconds(t0));
    }
  }
  return { seconds: best, rounds };
}

// ------------------------------------------------------------------------------ peak

/**
 * A wasm module of bare f32x4 multiply-add loops, written out byte by byte (no compiler needed).
 * FLOPs = n x K accumulators x 4 lanes x 2.
 *   peak<K>(n)      acc[k] = acc[k] * x + y for k < K: the multiply and the add on each
 *                   accumulator's chain (latency mul + add per step), the K chains independent.
 *   peakFree<K>(n)  acc[k] = acc[k] + x[k] * y, then y = y + d: the multiply off the chain (as in a
 *                   gemm tile, C += A * B); the one add to y per iteration is not counted.
 * Both return a lane of the accumulators' sum, so nothing is dead. V8 keeps ~14 v128 values in
 * registers: beyond that the loops spill and slow down.
 */
export const PEAK_LOOPS: { name: string; accumulators: number; free: boolean }[] = [
  { name: "peak8", accumulators: 8, free: false },
  { name: "peak10", accumulators: 10, free: false },
  { name: "peak12", accumulators: 12, free: false },
  { name: "peakFree4", accumulators: 4, free: true },
  { name: "peakFree6", accumulators: 6, free: true },
];

function peakModule(): Uint8Array<ArrayBuffer> {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
  const str = (s: string) => [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
  const splat = (x: number) => [0xfd, 0x0c, ...new Uint8Array(new Float32Array([x, x, x, x]).buffer)]; // v128.const
  const ADD = [0xfd, 0xe4, 0x01], MUL = [0xfd, 0xe6, 0x01]; // f32x4.add, f32x4.mul
  const get = (i: number) => [0x20, i], set = (i: number) => [0x21, i];
  const bodies = PEAK_LOOPS.map(({ accumulators: K, free }) => {
    // Locals: 0 = n (param), 1..K accumulators, then x (or x[0..K-1]), y, d.
    const X = K + 1, Y = free ? 2 * K + 1 : K + 2, D = Y + 1;
    const locals = free ? 2 * K + 2 : K + 2;
    const code: number[] = [];
    for (let k = 1; k <= K; k++) code.push(...splat(1 + k / 64), ...set(k));
    if (free) {
      for (let k = 0; k < K; k++) code.push(...splat(1e-3 * (k + 1)), ...set(X + k));
      code.push(...splat(1e-3), ...set(Y), ...splat(1e-7), ...set(D));
    } else code.push(...splat(0.999), ...set(X), ...splat(0.001), ...set(Y));
    code.push(0x02, 0x40, 0x03, 0x40); // block, loop
    for (let k = 1; k <= K; k++) {
      if (free) code.push(...get(k), ...get(X + k - 1), ...get(Y), ...MUL, ...ADD, ...set(k));
      else code.push(...get(k), ...get(X), ...MUL, ...get(Y), ...ADD, ...set(k));
    }
    if (free) code.push(...get(Y), ...get(D), ...ADD, ...set(Y));
    // n -= 1; br_if (n > 0); end loop; end block
    code.push(...get(0), 0x41, 1, 0x6b, 0x22, 0, 0x41, 0, 0x4a, 0x0d, 0, 0x0b, 0x0b);
    code.push(...get(1));
    for (let k = 2; k <= K; k++) code.push(...get(k), ...ADD);
    code.push(0xfd, 0x1f, 0, 0x0b); // f32x4.extract_lane 0, end
    const body = [...vec([[...leb(locals), 0x7b]]), ...code];
    return [...leb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0x01, 0x7f, 0x01, 0x7d]])), // type (i32) -> f32
    ...section(3, vec(PEAK_LOOPS.map(() => [0]))),
    ...section(7, vec(PEAK_LOOPS.map((l, i) => [...str(l.name), 0x00, i]))),
    ...section(10, vec(bodies)),
  ]);
}

// ------------------------------------------------------------------------------ onnxruntime

type Ort = {
  InferenceSession: { create(bytes: Uint8Array, options?: object): Promise<{ run(feeds: object): Promise<Record<string, { data: ArrayLike<number> }>>; inputNames: readonly string[]; outputNames: readonly string[]; release?(): Promise<void> }> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => object;
  env: { wasm: { numThreads?: number; simd?: boolean } };
};

/**
 * An onnxruntime package from bench/.cache/ort, else from the project's node_modules (where
 * onnxruntime-web may be an older version some devDependency brought); a sentence when absent.
 */
async function importOrt(name: string, found: string[]): Promise<Ort | string> {
  for (const from of [join(ORT_DIR, "package.json"), join(ROOT, "package.json")]) {
    if (!existsSync(from)) continue;
    try {
      const require = createRequire(from);
      const path = require.resolve(name); // the CommonJS entry: the package's Node build
      const mod = await import(pathToFileURL(path).href);
      const dir = path.slice(0, path.lastIndexOf(join("node_modules", name)) + join("node_modules", name).length);
      const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
      found.push(`${name} ${version} from ${from === join(ORT_DIR, "package.json") ? "bench/.cache/ort" : "node_modules"}`);
      return (mod.default ?? mod) as Ort;
    } catch {
      // not here
    }
  }
  return `${name} is not installed (${INSTALL_ORT})`;
}

// ------------------------------------------------------------------------------ bench

/** `only`: one half alone (direct runs: --only kernels, --only models). */
export async function benchForward(quick: boolean, only?: "kernels" | "models"): Promise<ForwardBenchResult> {
  const notes: string[] = [];
  const memory = await LinearMemory.create();
  const k = memory.exports;

  const found: string[] = [];
  const ortNode = await importOrt("onnxruntime-node", found);
  const ortWeb = await importOrt("onnxruntime-web", found);
  if (found.length) notes.push(`onnxruntime: ${found.join(", ")}`);
  if (typeof ortWeb !== "string") {
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.wasm.simd = true;
  }

  // Peak and kernels, interleaved.
  const peak = new WebAssembly.Instance(new WebAssembly.Module(peakModule())).exports as Record<string, (n: number) => number>;
  const peakIterations = 1_000_000;
  const kernelRunners: { name: string; flops: number; run: () => unknown }[] = [];
  for (const l of PEAK_LOOPS) {
    kernelRunners.push({ name: `peak loop, ${l.accumulators} accumulators${l.free ? ", multiply off the chain" : ""}`, flops: peakIterations * l.accumulators * 8, run: () => peak[l.name](peakIterations) });
  }
  if (typeof k.fmaPeak === "function") {
    const perIteration = fmaPeakFlopsPerIteration();
    if (perIteration) kernelRunners.push({ name: `fmaPeak export (${perIteration} FLOPs an iteration)`, flops: peakIterations * perIteration, run: () => k.fmaPeak(peakIterations) });
    else notes.push("fmaPeak is exported but its loop was not found in assembly/forward/gemm.ts to count its FLOPs: not timed");
  } else notes.push("the kernels export no fmaPeak yet: the peak is the bench's own loop");
  const peakCount = kernelRunners.length;
  const skippedKernels: KernelLine[] = [];
  {
    const [m, n, kk] = [256, 512, 512];
    const a = memory.alloc(m * kk), b = memory.alloc(kk * n), c = memory.alloc(m * n);
    memory.f32(a, m * kk).set(randomInputs(m * kk, 11));
    memory.f32(b, kk * n).set(randomInputs(kk * n, 12));
    kernelRunners.push({ name: `gemm export ${m}x${n}x${kk}`, flops: 2 * m * n * kk, run: () => k.gemm(a, b, c, m, n, kk, kk, n, n, 0, 0, 0) });
  }
  const singleOps = [
    { file: "dense-512", batch: 256, sample: [512], what: "dense 512->512, batch 256" },
    { file: "conv-64x56", batch: 1, sample: [64, 56, 56], what: "conv 64->64 3x3 pad 1, 56x56, batch 1" },
  ] as const;
  for (const { file, batch, sample, what } of only === "models" ? [] : singleOps) {
    if (!existsSync(join(MODELS, `${file}.onnx`))) {
      skippedKernels.push({ name: what, flops: 0, skipped: `no ${join(MODELS, `${file}.onnx`)} (${MAKE_MODELS})` });
      continue;
    }
    const op = await singleOp(memory, file, batch);
    if (typeof op === "string") skippedKernels.push({ name: `${what}, op runner`, flops: 0, skipped: op });
    else kernelRunners.push({ name: `${what}, op runner`, flops: op.flops, run: op.run });
    // The same file through onnxruntime, for scale (its FLOPs counted as ours).
    const flops = typeof op === "string" ? singleOpFlops(file, batch) : op.flops;
    for (const [label, ort] of [["ort-node", ortNode], ["ort-web wasm", ortWeb]] as const) {
      if (typeof ort === "string") continue;
      const run = await ortRunner(ort, label === "ort-node", readFileSync(join(MODELS, `${file}.onnx`)), batch, sample);
      kernelRunners.push({ name: `${what}, ${label}`, flops, run });
    }
  }
  if (only === "models") kernelRunners.length = peakCount;
  const { seconds: kernelSeconds } = await interleaved(kernelRunners.map((r) => r.run), quick ? 5 : 10, quick ? 10 : 30, quick ? 2 : 6);
  const gflops = kernelRunners.map((r, i) => r.flops / kernelSeconds[i] / 1e9);
  const peakGflops = Math.max(...gflops.slice(0, peakCount));
  const kernels: KernelLine[] = kernelRunners.map((r, i) => ({ name: r.name, flops: r.flops, gflops: gflops[i], ofPeak: gflops[i] / peakGflops }));
  kernels.push(...skippedKernels);

  // Models.
  const models: ModelLine[] = [];
  for (const c of only === "kernels" ? [] : CASES) models.push(await benchModel(c, quick, ortNode, ortWeb));
  return { peakGflops, kernels, models, notes };
}

/**
 * FLOPs per iteration of fmaPeak, counted in its source (assembly/forward/gemm.ts): 4 per
 * f32x4.mul/add/sub in its loop body (the brief's iterations x accumulators x 4 lanes x 2 when each
 * accumulator takes one multiply and one add). Undefined when the loop cannot be found.
 */
function fmaPeakFlopsPerIteration(): number | undefined {
  const path = join(ROOT, "assembly", "forward", "gemm.ts");
  if (!existsSync(path)) return undefined;
  const src = readFileSync(path, "utf8");
  const at = src.indexOf("export function fmaPeak");
  const loop = at < 0 ? -1 : src.indexOf("for (", at);
  const open = loop < 0 ? -1 : src.indexOf("{", src.indexOf(")", src.indexOf(";", src.indexOf(";", loop) + 1)));
  if (open < 0) return undefined;
  let depth = 0, end = open;
  for (; end < src.length; end++) {
    if (src[end] === "{") depth++;
    else if (src[end] === "}" && --depth === 0) break;
  }
  const body = src.slice(open, end);
  const ops = (body.match(/f32x4\.(mul|add|sub)\(/g) ?? []).length;
  return ops > 0 ? ops * 4 : undefined;
}

/** FLOPs of the single-op files at `batch` (2 per multiply-add). */
function singleOpFlops(file: string, batch: number): number {
  return file === "dense-512" ? 2 * batch * 512 * 512 : 2 * batch * 64 * 64 * 9 * 56 * 56;
}

const ORT_OPTIONS = {
  node: { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 },
  web: { executionProviders: ["wasm"] },
};

/** One session.run over a random batch of [batch, ...sample] of a single-input model. */
async function ortRunner(ort: Ort, node: boolean, bytes: Uint8Array, batch: number, sample: readonly number[]): Promise<() => Promise<unknown>> {
  const session = await ort.InferenceSession.create(bytes, node ? ORT_OPTIONS.node : ORT_OPTIONS.web);
  const shape = [batch, ...sample];
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", randomInputs(product(shape), 21), shape) };
  return () => session.run(feeds);
}

/** The one op of a bench/.cache/forward file prepared by its runner, with inputs for `batch` samples. */
async function singleOp(memory: LinearMemory, file: string, batch: number): Promise<{ flops: number; run: () => unknown } | string> {
  const path = join(MODELS, `${file}.onnx`);
  if (!existsSync(path)) return `no ${path} (${MAKE_MODELS})`;
  const bytes = readFileSync(path);
  const model = normalizeModel(await openOnnx(memorySource(bytes, file), { ...DEFAULT_LIMITS }));
  const graph = buildGraph(model);
  inferShapes(graph, model);
  const op = graph.ops[0];
  const prepare = runnerOf(op.op);
  if (!prepare) return `no runner for op ${op.op} yet`;
  const weights = new WeightReader(memorySource(bytes, file), model.tensors);
  try {
    const prepared = await prepare(op, { memory, weight: (name) => weights.read(name), tensorShape: (name) => weights.shape(name), graph, channelsLast: false, batchAxis: () => 0 });
    const inputs: (Tensor | undefined)[] = [];
    let flops = 0;
    for (const name of op.inputs) {
      if (!name) {
        inputs.push(undefined);
        continue;
      }
      const value = graph.values.get(name);
      if (value?.kind === "data") {
        const shape = [batch, ...(value.shape ?? []).slice(1).map((d) => d ?? 1)];
        const t = memory.tensor(shape);
        memory.f32(t.ptr, product(shape)).set(randomInputs(product(shape), 21));
        inputs.push(t);
      } else {
        const values = await weights.read(name);
        const ptr = memory.alloc(values.length);
        memory.f32(ptr, values.length).set(values);
        inputs.push({ ptr, shape: weights.shape(name) ?? [values.length], constant: true });
      }
    }
    // FLOPs: 2 per weight per output position (dense: per sample; conv: per output pixel).
    const w = weights.shape(op.layer.weight ?? "") ?? [];
    if (op.op === "dense") flops = 2 * batch * product(w);
    else if (op.op === "conv2d") {
      const x = inputs[0]!.shape;
      const pads = (op.layer.attributes?.pads as number[]) ?? [0, 0, 0, 0];
      const ho = x[2] + pads[0] + pads[2] - w[2] + 1, wo = x[3] + pads[1] + pads[3] - w[3] + 1;
      flops = 2 * batch * product(w) * ho * wo;
    }
    const run = () => {
      const { outputs } = prepared.run(inputs);
      for (const o of outputs) if (o) memory.free(o.ptr);
    };
    run(); // a runner that cannot run this op throws here, before the timing
    return { flops, run };
  } catch (e) {
    return `${op.op} runner: ${(e as Error).message}`;
  } finally {
    await weights.close();
  }
}

/**
 * The forward pass alone: the Executor prepared for the graph's output, run batch by batch with a
 * sink that keeps nothing; its output on the check batch against torch's.
 */
async function executorRunner(bytes: Uint8Array, c: ModelCase, data: Float32Array, samples: number, check: { input: number[]; output: number[] }): Promise<{ run: () => void; checkError: number } | string> {
  // The model as analyze() reads it (src/analyze.ts measureModel: normalizeModel splits an ONNX
  // recurrent op's stacked per-direction weights, among others).
  const model = normalizeModel(await openOnnx(memorySource(bytes, c.name), { ...DEFAULT_LIMITS }));
  const graph = buildGraph(model);
  inferShapes(graph, model);
  const input = graph.inputs.find((n) => graph.values.get(n)?.kind === "data");
  const output = graph.outputs[0];
  if (!input || !output) return "the graph has no data input or no output";
  const memory = await LinearMemory.create();
  const weights = new WeightReader(memorySource(bytes, c.name), model.tensors);
  let executor: Executor;
  try {
    // Samples on axis 0: every model here takes them so (the LSTM is batch_first, transposed inside the graph).
    executor = await Executor.prepare(memory, graph, model, weights, new Map([[input, 0]]), new Set([output]));
  } finally {
    await weights.close();
  }
  const stopped = executor.unavailable.get(output);
  if (stopped) return `the forward pass cannot reach the output: ${stopped}${executor.notes.length ? ` (${executor.notes[0]})` : ""}`;
  const per = product(c.sample);
  const pass = (x: Float32Array, n: number, out?: Float32Array) => {
    let done = 0;
    for (let first = 0; first < n; first += c.batch) {
      const b = Math.min(c.batch, n - first);
      const t = memory.tensor([b, ...c.sample]);
      memory.f32(t.ptr, b * per).set(x.subarray(first * per, (first + b) * per));
      executor.run(new Map([[input, t]]), (name, y) => {
        if (!out || name !== output) return;
        const size = product(y.shape);
        out.set(memory.f32(y.ptr, size), done);
        done += size;
      });
    }
  };
  const got = new Float32Array(check.output.length);
  pass(Float32Array.from(check.input), check.input.length / per, got);
  return { run: () => pass(data, samples), checkError: maxRelativeError(got, check.output) };
}

async function benchModel(c: ModelCase, quick: boolean, ortNode: Ort | string, ortWeb: Ort | string): Promise<ModelLine> {
  const samples = quick ? c.quickSamples : c.samples;
  const line: ModelLine = { name: c.name, batch: c.batch, samples, rounds: 0, ours: {}, ortNode: {}, ortWeb: {} };
  const path = join(MODELS, `${c.name}.onnx`);
  if (!existsSync(path)) {
    const why = `no ${path} (${MAKE_MODELS})`;
    line.ours.skipped = line.ortNode.skipped = line.ortWeb.skipped = why;
    return line;
  }
  const bytes = new Uint8Array(readFileSync(path));
  const check = JSON.parse(readFileSync(join(MODELS, `${c.name}.check.json`), "utf8")) as { inputShape: number[]; input: number[]; outputShape: number[]; output: number[] };
  const data = randomInputs(samples * product(c.sample), 31);
  const runners: (() => unknown)[] = [];
  const slots: ((s: number) => void)[] = [];

  // Ours: analyze with inputs, and without (its weights' metrics alone).
  const options = { inputs: { data, shape: [samples, ...c.sample] }, batch: c.batch };
  try {
    const report = (await analyze(bytes, options as Parameters<typeof analyze>[1])) as unknown as { nodeLayers: { neuronStrength?: unknown }[]; data?: { samples?: number }; notes?: string[] };
    const measured = report.nodeLayers.filter((l) => l.neuronStrength).length;
    if (!report.data || measured === 0) {
      const note = (report.notes ?? []).find((n) => /forward|input|data/i.test(n));
      line.ours.skipped = `no data metrics${note ? `: ${note}` : " (the forward pass is not on this branch yet)"}`;
    } else {
      runners.push(() => analyze(bytes, options as Parameters<typeof analyze>[1]), () => analyze(bytes));
      slots.push((s) => (line.ours.samplesPerSecond = samples / s), (s) => (line.ours.weightsSeconds = s));
    }
  } catch (e) {
    line.ours.skipped = (e as Error).message;
  }

  // The executor alone: the forward pass without the measuring.
  try {
    const ex = await executorRunner(bytes, c, data, samples, check);
    if (typeof ex === "string") line.ours.executorSkipped = ex;
    else {
      line.ours.checkError = ex.checkError;
      runners.push(ex.run);
      slots.push((s) => (line.ours.executorSamplesPerSecond = samples / s));
    }
  } catch (e) {
    line.ours.executorSkipped = (e as Error).message;
  }

  // onnxruntime: the same file, batch by batch over the same samples.
  for (const [key, ort] of [["ortNode", ortNode], ["ortWeb", ortWeb]] as const) {
    if (typeof ort === "string") {
      line[key].skipped = ort;
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(bytes, key === "ortNode" ? ORT_OPTIONS.node : ORT_OPTIONS.web);
      const [input] = session.inputNames, [output] = session.outputNames;
      const got = await session.run({ [input]: new ort.Tensor("float32", Float32Array.from(check.input), check.inputShape) });
      line[key].checkError = maxRelativeError(got[output].data, check.output);
      const per = product(c.sample);
      const batches = Array.from({ length: samples / c.batch }, (_, i) => new ort.Tensor("float32", data.subarray(i * c.batch * per, (i + 1) * c.batch * per), [c.batch, ...c.sample]));
      runners.push(async () => {
        for (const t of batches) await session.run({ [input]: t });
      });
      slots.push((s) => (line[key].samplesPerSecond = samples / s));
    } catch (e) {
      line[key].skipped = (e as Error).message;
    }
  }
  if (runners.length) {
    const { seconds, rounds } = await interleaved(runners, quick ? 2 : 3, quick ? 10 : 20, quick ? 3 : 12);
    seconds.forEach((s, i) => slots[i](s));
    line.rounds = rounds;
    if (line.ours.samplesPerSecond && line.ours.weightsSeconds !== undefined) {
      const forward = samples / line.ours.samplesPerSecond - line.ours.weightsSeconds;
      if (forward > 0) line.ours.forwardSamplesPerSecond = samples / forward;
    }
  }
  return line;
}

// ------------------------------------------------------------------------------ output

export function formatForward(r: ForwardBenchResult): string {
  const f = (x: number | undefined, d = 2) => (x === undefined ? "-" : x.toFixed(d));
  const rate = (x: number | undefined) => (x === undefined ? "-" : x >= 100 ? x.toFixed(0) : x.toPrecision(3));
  const lines = [`forward kernels (same run, best round by CPU time; GFLOP/s and fraction of the f32x4 multiply-add peak, ${f(r.peakGflops, 1)} GFLOP/s):`];
  for (const k of r.kernels) {
    lines.push(k.skipped ? `  ${k.name.padEnd(52)} skipped: ${k.skipped}` : `  ${k.name.padEnd(52)} ${f(k.gflops, 1).padStart(6)} GFLOP/s  ${f(k.ofPeak)} of peak`);
  }
  lines.push("forward pass vs onnxruntime (same ONNX file, batch and samples; samples/s, best of interleaved rounds by CPU time; ort-node: CPU provider 1 thread, ort-web: wasm 1 thread SIMD):");
  for (const m of r.models) {
    const o = m.ours, n = m.ortNode, w = m.ortWeb;
    const ratio = (a?: number, b?: number) => (a && b ? `${f(a / b)}x` : "-");
    lines.push(`  ${m.name} (batch ${m.batch}, ${m.samples} samples, ${m.rounds} rounds): ort-node ${rate(n.samplesPerSecond)}, ort-web wasm ${rate(w.samplesPerSecond)} samples/s`);
    lines.push(`    ours analyze ${rate(o.samplesPerSecond)} (forward part ${rate(o.forwardSamplesPerSecond)}): of ort-web ${ratio(o.samplesPerSecond, w.samplesPerSecond)} (forward part ${ratio(o.forwardSamplesPerSecond, w.samplesPerSecond)}), of ort-node ${ratio(o.samplesPerSecond, n.samplesPerSecond)}`);
    lines.push(`    ours executor ${rate(o.executorSamplesPerSecond)}: of ort-web ${ratio(o.executorSamplesPerSecond, w.samplesPerSecond)}, of ort-node ${ratio(o.executorSamplesPerSecond, n.samplesPerSecond)}`);
    const checks = [["ours", o], ["ort-node", n], ["ort-web", w]].filter(([, x]) => (x as RuntimeLine).checkError !== undefined).map(([name, x]) => `${name} ${(x as RuntimeLine).checkError!.toExponential(1)}`);
    if (checks.length) lines.push(`    max |y - torch| / max |torch| on 3 samples: ${checks.join(", ")}`);
    for (const [name, why] of [["ours analyze", o.skipped], ["ours executor", o.executorSkipped], ["ort-node", n.skipped], ["ort-web", w.skipped]] as const) if (why) lines.push(`    ${name} skipped: ${why}`);
  }
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const only = process.argv[process.argv.indexOf("--only") + 1];
  console.log(formatForward(await benchForward(process.argv.includes("--quick"), only === "kernels" || only === "models" ? only : undefined)));
}
