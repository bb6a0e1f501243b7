/**
 * Linear memory for the forward pass: packed weights for the whole run and each batch's values,
 * freed after their last reader, so memory holds the weights plus the live values of one batch.
 * A first-fit free list over 64-byte-aligned blocks; freed neighbours coalesce.
 */
import { CntError, formatCount } from "../errors.js";
import { Kernels } from "../kernels/kernels.js";
import { ALIGN, align } from "../kernels/layout.js";
import type { ForwardMemory, Tensor } from "./types.js";
import { elementsOf } from "./types.js";

/** wasm32 addresses end at 4 GiB. */
const ADDRESSABLE = 2 ** 32;

export class LinearMemory implements ForwardMemory {
  /** Free blocks by start, sorted: [start, bytes]. */
  private free_: [number, number][] = [];
  private readonly sizes = new Map<number, number>();
  private top: number;
  /** Largest bytes in use at once (weights and values). */
  peak = 0;
  private inUse = 0;

  private constructor(readonly kernels: Kernels) {
    this.top = align(kernels.base, ALIGN);
  }

  static async create(): Promise<LinearMemory> {
    return new LinearMemory(await Kernels.create());
  }

  get exports(): ForwardMemory["exports"] {
    return this.kernels.exports as ForwardMemory["exports"];
  }

  alloc(elements: number): number {
    const bytes = align(Math.max(elements, 1) * 4, ALIGN);
    let ptr = -1;
    for (let i = 0; i < this.free_.length; i++) {
      const [start, size] = this.free_[i];
      if (size < bytes) continue;
      ptr = start;
      if (size === bytes) this.free_.splice(i, 1);
      else this.free_[i] = [start + bytes, size - bytes];
      break;
    }
    if (ptr < 0) {
      if (this.top + bytes > ADDRESSABLE) {
        throw new CntError("TOO_LARGE", `The forward pass needs more than 4 GiB of memory (${formatCount(this.inUse + bytes)} bytes at once); use a smaller batch (--batch).`);
      }
      ptr = this.top;
      this.top += bytes;
      this.kernels.reserve(this.top);
    }
    this.sizes.set(ptr, bytes);
    this.inUse += bytes;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return ptr;
  }

  free(ptr: number): void {
    const bytes = this.sizes.get(ptr);
    if (bytes === undefined) return;
    this.sizes.delete(ptr);
    this.inUse -= bytes;
    // Insert in order, then merge with the neighbours.
    let i = 0;
    while (i < this.free_.length && this.free_[i][0] < ptr) i++;
    this.free_.splice(i, 0, [ptr, bytes]);
    if (i + 1 < this.free_.length && ptr + bytes === this.free_[i + 1][0]) {
      this.free_[i][1] += this.free_[i + 1][1];
      this.free_.splice(i + 1, 1);
    }
    if (i > 0 && this.free_[i - 1][0] + this.free_[i - 1][1] === ptr) {
      this.free_[i - 1][1] += this.free_[i][1];
      this.free_.splice(i, 1);
    }
  }

  f32(ptr: number, elements: number): Float32Array {
    return this.kernels.f32(ptr, elements);
  }

  f64(ptr: number, elements: number): Float64Array {
    return this.kernels.f64(ptr, elements);
  }

  tensor(shape: number[]): Tensor {
    return { ptr: this.alloc(elementsOf(shape)), shape: [...shape] };
  }

  /** Bytes allocated now. */
  get used(): number {
    return this.inUse;
  }
}
