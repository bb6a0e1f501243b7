/**
 * Helpers of the ONNX tests: compact expected distributions (no edges), a float64 measurement of
 * tensor bytes independent of the kernels (numpy's histogram rule), and error assertions.
 */
import * as assert from "uvu/assert";
import { assertClose } from "../helpers/close.js";
import type { DType, TensorInfo } from "../../src/model/types.js";
import type { Distribution } from "../../src/report/types.js";
import { TensorSources } from "../../src/source/tensor-sources.js";
import type { ByteSource } from "../../src/source/types.js";

export interface LiteDist {
  count: number;
  nan: number;
  posInf: number;
  negInf: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  histogram?: { edges?: number[] | null; counts: number[] };
}

/** Compare a distribution with a reference: counts exactly, reals to `rel`, histogram counts when given. */
export function assertLite(actual: Distribution | LiteDist | null | undefined, expected: LiteDist, rel: number, what: string): void {
  assert.ok(actual, `${what}: missing`);
  for (const k of ["count", "nan", "posInf", "negInf"] as const) assert.is(actual![k], expected[k], `${what}: ${k}`);
  for (const k of ["mean", "std", "min", "max"] as const) assertClose(actual![k], expected[k], rel, `${what}: ${k}`);
  if (expected.histogram) assert.equal(actual!.histogram!.counts, expected.histogram.counts, `${what}: histogram counts`);
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decode a tensor's bytes to float64 numbers, every dtype widened to f32 first (f64 kept). */
export function decode(bytes: Uint8Array, dtype: DType): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = { f32: 4, f16: 2, bf16: 2, f64: 8 }[dtype];
  const out = new Float64Array(bytes.byteLength / width);
  for (let i = 0; i < out.length; i++) {
    if (dtype === "f32") out[i] = view.getFloat32(i * 4, true);
    else if (dtype === "f64") out[i] = view.getFloat64(i * 8, true);
    else if (dtype === "f16") out[i] = f16ToF32(view.getUint16(i * 2, true));
    else {
      const b = new DataView(new ArrayBuffer(4));
      b.setUint32(0, view.getUint16(i * 2, true) << 16, false);
      out[i] = b.getFloat32(0, false);
    }
  }
  return out;
}

/** Read a tensor's values through TensorSources (the model's file, a sibling, or decoded bytes). */
export async function readValues(sources: TensorSources, tensor: TensorInfo): Promise<Float64Array> {
  const source: ByteSource = await sources.for(tensor);
  const bytes = new Uint8Array(tensor.byteLength);
  await source.readInto(tensor.offset, bytes);
  return decode(bytes, tensor.dtype);
}

/** Distribution of values in float64: plain loops and numpy's histogram rule (64 bins over [min, max]). */
export function distOf(values: Float64Array, bins = 64): LiteDist {
  const finite = Array.from(values).filter(Number.isFinite);
  const d: LiteDist = {
    count: finite.length,
    nan: values.filter(Number.isNaN).length,
    posInf: values.filter((v) => v === Infinity).length,
    negInf: values.filter((v) => v === -Infinity).length,
    mean: null, std: null, min: null, max: null,
  };
  if (finite.length === 0) return d;
  let sum = 0;
  for (const v of finite) sum += v;
  const mean = sum / finite.length;
  let sq = 0;
  for (const v of finite) sq += (v - mean) ** 2;
  let lo = Math.min(...finite), hi = Math.max(...finite);
  d.mean = mean;
  d.std = Math.sqrt(sq / finite.length);
  d.min = lo;
  d.max = hi;
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * step + lo);
  edges[bins] = hi;
  const norm = bins / (hi - lo);
  const counts = new Array<number>(bins).fill(0);
  for (const x of finite) {
    let i = Math.floor((x - lo) * norm);
    if (i === bins) i--;
    if (x < edges[i]) i--;
    else if (x >= edges[i + 1] && i !== bins - 1) i++;
    counts[i]++;
  }
  d.histogram = { counts };
  return d;
}

/** Await `promise`, expect a CntError with `code` whose message contains every phrase. */
export async function rejects(promise: Promise<unknown>, code: string, ...phrases: (string | RegExp)[]): Promise<Error & { code: string; offset?: number; tensor?: string }> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${code}, but it resolved`);
  const e = error as Error & { code: string };
  assert.is(e.name, "CntError", `not a CntError: ${String(error)}`);
  assert.is(e.code, code, `code of: ${e.message}`);
  for (const p of phrases) {
    if (typeof p === "string") assert.ok(e.message.includes(p), `message lacks ${JSON.stringify(p)}: ${e.message}`);
    else assert.match(e.message, p);
  }
  return e as Error & { code: string };
}
