import { ALIGN, align, PAGE_BYTES, WARM_UP_BYTES, WARM_UP_SLACK, WARM_UP_VALUES } from "./layout.js";
import { init } from "./load.js";

/** The exports of assembly/index.ts, as the host calls them. Pointers are byte offsets (layout: ./layout.ts). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  statsOnly(src: number, n: number, state: number): void;
  statsRowsCols(src: number, n: number, row: number, col: number, cols: number, rowSums: number, colSums: number, state: number): void;
  statsOnlyF64(src: number, n: number, state: number): void;
  statsRowsColsF64(src: number, n: number, row: number, col: number, cols: number, rowSums: number, colSums: number, state: number): void;
  histogramUniform(src: number, n: number, bins: number, edges: number, counts: number): void;
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

let warmed = false;

/**
 * One kernel instance with its own linear memory. Each analysis takes its own instance, so
 * concurrent analyses never share an arena; instantiating from the cached Module takes well
 * under a millisecond.
 */
export class Kernels {
  readonly exports: KernelExports;
  readonly base: number;

  private constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as KernelExports;
    this.base = align(this.exports.heapBase(), ALIGN);
  }

  static async create(): Promise<Kernels> {
    const module = await init();
    const kernels = new Kernels(await WebAssembly.instantiate(module, {}));
    if (!warmed) {
      kernels.warmUp(kernels.base);
      warmed = true;
    }
    return kernels;
  }

  /**
   * Kernels over an instance made elsewhere: a worker's instance of the threads build, on the
   * pool's shared memory (src/node/band-pool.ts). Such an instance needs its own scratch area
   * (setScratch) and its own warm-up area before its first call.
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
      this.f64(out, 65).set([0, 1]);
      this.exports.histogramUniform(src, n, 1, out, out + 16);
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
