import { ALIGN, align, PAGE_BYTES, WARM_UP_BYTES, WARM_UP_SLACK, WARM_UP_VALUES } from "./layout.js";
import { init } from "./load.js";

/** The exports of assembly/index.ts, as the host calls them. Pointers are byte offsets (layout: ./layout.ts). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  statsOnly(src: number, n: number, state: number): void;
  statsRowsCols(src: number, n: number, row: number, col: number, cols: number, rowSums: number, colSums: number, state: number): void;
  /** statsOnly / statsRowsCols over n f16 or bf16 values (2 bytes each) at src, widened in registers: the same state as widening first. */
  statsOnlyF16(src: number, n: number, state: number): void;
  statsOnlyBF16(src: number, n: number, state: number): void;
  statsRowsColsF16(src: number, n: number, row: number, col: number, cols: number, rowSums: number, colSums: number, state: number): void;
  statsRowsColsBF16(src: number, n: number, row: number, col: number, cols: number, rowSums: number, colSums: number, state: number): void;
  statsOnlyF64(src: number, n: number, state: number): void;
  statsRowsColsF64(src: number, n: number, row: number, col: number, cols: number, rowSums: number, colSums: number, state: number): void;
  histogramUniform(src: number, n: number, bins: number, edges: number, counts: number): void;
  /** histogramUniform over n f16 or bf16 values (2 bytes each) at src: the counts of widening first. */
  histogramUniformF16(src: number, n: number, bins: number, edges: number, counts: number): void;
  histogramUniformBF16(src: number, n: number, bins: number, edges: number, counts: number): void;
  histogramUniformF64(src: number, n: number, bins: number, edges: number, counts: number): void;
  histogramEdges(src: number, n: number, bins: number, edges: number, counts: number): void;
  histogramEdgesF64(src: number, n: number, bins: number, edges: number, counts: number): void;
  histogramFine(src: number, n: number, counts: number): void;
  convTapSums(src: number, n: number, first: number, tapMajor: number, A: number, B: number, K: number, groups: number, sumOverB: number, sumOverA: number): void;
  convTapSumsF64(src: number, n: number, first: number, tapMajor: number, A: number, B: number, K: number, groups: number, sumOverB: number, sumOverA: number): void;
  separableMaps(taps: number, channels: number, kh: number, kw: number, rowTaps: number, H: number, colTapsT: number, W: number, scratch: number, out: number): void;
  widenF16(src: number, dst: number, n: number): void;
  widenBF16(src: number, dst: number, n: number): void;
  narrowF64(src: number, dst: number, n: number): void;
  /** GGUF blocks to f32 (assembly/dequant.ts): `blocks` whole blocks at src, blocks x 32 (K types: x 256) values at dst. */
  dequantQ8_0(src: number, dst: number, blocks: number): void;
  dequantQ4_0(src: number, dst: number, blocks: number): void;
  dequantQ4_1(src: number, dst: number, blocks: number): void;
  dequantQ5_0(src: number, dst: number, blocks: number): void;
  dequantQ5_1(src: number, dst: number, blocks: number): void;
  dequantQ4_K(src: number, dst: number, blocks: number): void;
  dequantQ5_K(src: number, dst: number, blocks: number): void;
  dequantQ6_K(src: number, dst: number, blocks: number): void;
  dequantQ2_K(src: number, dst: number, blocks: number): void;
  dequantQ3_K(src: number, dst: number, blocks: number): void;
  setScratch(ptr: number): void;
  scratchBytes(): number;
}

/** The dequantizing kernel of each GGUF quantization (src/model/types.ts GGUF_BLOCKS). */
export const DEQUANT_KERNEL = { Q8_0: "dequantQ8_0", Q4_0: "dequantQ4_0", Q4_1: "dequantQ4_1", Q5_0: "dequantQ5_0", Q5_1: "dequantQ5_1", Q4_K: "dequantQ4_K", Q5_K: "dequantQ5_K", Q6_K: "dequantQ6_K", Q2_K: "dequantQ2_K", Q3_K: "dequantQ3_K" } as const;
const DEQUANT_KERNELS = Object.values(DEQUANT_KERNEL);

/**
 * Whether this process's Module has been warmed up (warmUp): V8 compiles wasm functions first in
 * its baseline tier and one long call never moves to the optimised code, so the first call with
 * at least WARM_AT elements warms every hot kernel up first. A small model never pays for it
 * (about 8 ms of CPU, an eighth of a CLI run on the bundled model); tier-up is per Module, so
 * one warm-up serves every instance.
 */
let warmed = false;
/** An instance made beside the first one, for the warm-up to write into: a pass's arena is never touched by it. */
let spare: WebAssembly.Instance | undefined;
/** Elements (GGUF: blocks) of a call from which the Module is warmed up first. */
const WARM_AT = 1 << 14;
/** The kernels whose calls can be long, with the index of their element (or block) count argument. */
const SIZED: [keyof KernelExports, number][] = [
  ["statsOnly", 1], ["statsRowsCols", 1], ["statsOnlyF64", 1], ["statsRowsColsF64", 1],
  ["statsOnlyF16", 1], ["statsOnlyBF16", 1], ["statsRowsColsF16", 1], ["statsRowsColsBF16", 1],
  ["histogramUniform", 1], ["histogramUniformF16", 1], ["histogramUniformBF16", 1], ["histogramUniformF64", 1], ["histogramEdges", 1], ["histogramEdgesF64", 1], ["histogramFine", 1],
  ["widenF16", 2], ["widenBF16", 2], ["narrowF64", 2], ["convTapSums", 1], ["convTapSumsF64", 1],
  ...DEQUANT_KERNELS.map((q): [keyof KernelExports, number] => [q, 2]),
];

function warmModule(): void {
  warmed = true;
  if (spare) {
    const kernels = Kernels.fromInstance(spare);
    kernels.warmUp(kernels.base);
  }
  spare = undefined;
}

/** `raw` with each SIZED kernel wrapped to warm the Module up before the first long call. */
function warmingOnLongCall(raw: KernelExports): KernelExports {
  const wrapped: Record<string, unknown> = { ...raw };
  for (const [name, at] of SIZED) {
    const kernel = raw[name] as (...args: number[]) => void;
    wrapped[name] = (...args: number[]) => {
      if (!warmed && args[at] >= WARM_AT) warmModule();
      kernel(...args);
    };
  }
  return wrapped as unknown as KernelExports;
}

/**
 * One kernel instance with its own linear memory. Each analysis takes its own instance, so
 * concurrent analyses never share an arena; instantiating from the cached Module takes well
 * under a millisecond.
 */
export class Kernels {
  readonly exports: KernelExports;
  readonly base: number;

  private constructor(instance: WebAssembly.Instance, warmOnLongCall = false) {
    const raw = instance.exports as unknown as KernelExports;
    this.exports = warmOnLongCall ? warmingOnLongCall(raw) : raw;
    this.base = align(this.exports.heapBase(), ALIGN);
  }

  static async create(): Promise<Kernels> {
    const module = await init();
    const instance = await WebAssembly.instantiate(module, {});
    if (warmed) return new Kernels(instance);
    spare ??= await WebAssembly.instantiate(module, {});
    return new Kernels(instance, true);
  }

  /**
   * Kernels over an instance made elsewhere: a worker's instance of the threads build, on the
   * pool's shared memory (src/node/band-pool.ts). Such an instance needs its own scratch area
   * (setScratch) and its own warm-up area before its first call (it is not warmed up lazily).
   */
  static fromInstance(instance: WebAssembly.Instance): Kernels {
    return new Kernels(instance);
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /** Grow linear memory so that [0, bytes) is addressable. Every typed view must be rebuilt after. */
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
  }

  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  /**
   * V8 runs a wasm function's first calls in its baseline tier, and one long call never moves to
   * the optimised code: call each hot kernel on a small block once so real work runs optimised.
   * Writes WARM_UP_BYTES from `at` (./layout.ts).
   */
  warmUp(at: number): void {
    const n = WARM_UP_VALUES;
    const src = at + WARM_UP_SLACK;
    const out = src + n * 8;
    this.reserve(at + WARM_UP_BYTES);
    this.f32(src, n).fill(0.5);
    for (let round = 0; round < 8; round++) {
      this.exports.statsOnly(src, n, at);
      this.exports.statsRowsCols(src, n, 0, 0, 64, out, out + 64 * 8, at);
      this.exports.statsRowsColsF64(src, n / 2, 0, 0, 64, out, out + 64 * 8, at);
      this.exports.statsOnlyF16(src, n, at);
      this.exports.statsRowsColsF16(src, n, 0, 0, 64, out, out + 64 * 8, at);
      this.exports.statsOnlyBF16(src, n, at);
      this.exports.statsRowsColsBF16(src, n, 0, 0, 64, out, out + 64 * 8, at);
      this.f64(out, 65).set([0, 1]);
      this.exports.histogramUniform(src, n, 1, out, out + 16);
      this.exports.histogramUniformF16(src, n, 1, out, out + 16);
      this.exports.histogramUniformBF16(src, n, 1, out, out + 16);
      this.exports.histogramUniformF64(src, n / 2, 1, out, out + 16);
      this.exports.histogramFine(src, n, out);
      this.exports.widenF16(src, out, n);
      this.exports.widenBF16(src, out, n);
      this.exports.narrowF64(src, out, n / 2);
      for (const q of DEQUANT_KERNELS) this.exports[q](src, out, 4);
      this.exports.convTapSums(src, 576, 0, round & 1, 8, 8, 9, 1, out, out + 8 * 9 * 8);
      this.exports.convTapSumsF64(src, 288, 0, round & 1, 4, 8, 9, 1, out, out + 8 * 9 * 8);
      this.exports.separableMaps(out, 4, 3, 3, out, 16, out, 16, src, src + 4096);
    }
  }
}
