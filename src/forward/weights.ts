/**
 * Weights for the forward pass: a tensor of the file read whole and widened to f32 (the kernels'
 * type; spec metrics.md section 5). Read once per run, before the first batch.
 */
import { CntError, formatCount, quoteName } from "../errors.js";
import type { TensorInfo } from "../model/types.js";
import type { ByteSource } from "../source/types.js";
import { TensorSources } from "../source/tensor-sources.js";

/** Largest tensor read whole (f32 elements): 1 GiB. */
export const MAX_WEIGHT_ELEMENTS = 2 ** 28;

export class WeightReader {
  private readonly sources: TensorSources;
  private readonly byName: Map<string, TensorInfo>;

  constructor(source: ByteSource, tensors: TensorInfo[]) {
    this.sources = new TensorSources(source);
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  shape(name: string): number[] | undefined {
    return this.byName.get(name)?.shape;
  }

  async read(name: string): Promise<Float32Array> {
    const tensor = this.byName.get(name);
    if (!tensor) throw new CntError("UNSUPPORTED_LAYER", `The forward pass needs tensor ${quoteName(name)}, which the file does not hold as float values.`, { tensor: name });
    const elements = tensor.shape.reduce((a, d) => a * d, 1);
    if (elements > MAX_WEIGHT_ELEMENTS) throw new CntError("TOO_LARGE", `Tensor ${quoteName(name)} has ${formatCount(elements)} values; the forward pass reads weights of at most ${formatCount(MAX_WEIGHT_ELEMENTS)} values.`, { tensor: name });
    const bytes = new Uint8Array(tensor.byteLength);
    if (bytes.byteLength > 0) await (await this.sources.for(tensor)).readInto(tensor.offset, bytes);
    return widen(bytes, tensor, elements);
  }

  close(): Promise<void> {
    return this.sources.close();
  }
}

/** Little-endian values of the tensor's dtype to f32. */
function widen(bytes: Uint8Array, tensor: TensorInfo, elements: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(elements);
  switch (tensor.dtype) {
    case "f32":
      if (LITTLE_ENDIAN) out.set(new Float32Array(bytes.slice().buffer, 0, elements));
      else for (let i = 0; i < elements; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case "f64":
      for (let i = 0; i < elements; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case "bf16":
      for (let i = 0; i < elements; i++) out[i] = bf16(view.getUint16(i * 2, true));
      break;
    case "f16":
      for (let i = 0; i < elements; i++) out[i] = f16(view.getUint16(i * 2, true));
      break;
  }
  return out;
}

/** Typed arrays use the platform's byte order: little-endian on every engine we run on, checked once. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const word = new DataView(new ArrayBuffer(4));
function bf16(bits: number): number {
  word.setUint32(0, bits << 16);
  return word.getFloat32(0);
}

function f16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
