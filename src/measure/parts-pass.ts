import { asCntError, CntError, quoteName, throwIfAborted } from "../errors.js";
import { DTYPE_BYTES, type TensorInfo } from "../model/types.js";
import { ALIGN, align, STATE, STATE_BYTES, STATE_F64, STATE_F64_LENGTH } from "../kernels/layout.js";
import type { Histogram } from "./histogram.js";
import { isUniformSpan, uniformEdges } from "./histogram.js";
import type { Moments } from "./moments.js";
import type { PassContext } from "./tensor-pass.js";

/**
 * A tensor split into interleaved parts: consecutive runs of `period` elements, run r belonging
 * to part r % count. Gate blocks of a recurrent matrix are such parts: [G*H, n] ("out_in") has
 * runs of H*n, [n, G*H] ("in_out") runs of H, both with count G.
 */
export interface Parts {
  period: number;
  count: number;
}


/**
 * Moments and histogram of every part, in two passes over the tensor (the source must be
 * readable again): counts, sums and extrema; then the squared deviations around each part's
 * mean (so M2 is a two-pass sum) together with the histogram over each part's [min, max].
 */
export async function measureParts(ctx: PassContext, tensor: TensorInfo, parts: Parts, bins: number): Promise<{ moments: Moments; histogram: Histogram }[]> {
  if (!ctx.source.randomAccess) {
    throw new CntError("BAD_OPTION", `Per-gate distributions of ${quoteName(tensor.name)} need a source that can be read twice (a file, Blob or buffer), not a one-shot stream.`, { tensor: tensor.name });
  }
  const first = await partsPass(ctx, tensor, parts, bins, new Float64Array(parts.count), null);
  const means = first.map((m) => (m.count > 0 ? m.sum / m.count : 0));
  const edges = first.map((m) => (m.count > 0 ? uniformEdges(m.min, m.max, bins) : null));
  const second = await partsPass(ctx, tensor, parts, bins, Float64Array.from(means), edges);
  return first.map((m, p) => ({
    moments: {
      count: m.count,
      mean: means[p],
      m2: m.count > 0 ? Math.max(0, second[p].sq) : 0,
      min: m.count > 0 ? m.min : null,
      max: m.count > 0 ? m.max : null,
      nan: m.nan,
      posInf: m.posInf,
      negInf: m.negInf,
    },
    histogram: edges[p] ? { edges: Array.from(edges[p]!), counts: second[p].counts! } : { edges: null, counts: new Array<number>(bins).fill(0) },
  }));
}

interface PartState { count: number; sum: number; sq: number; min: number; max: number; nan: number; posInf: number; negInf: number; counts?: number[] }

/**
 *   base ─ states [count][STATE_BYTES] ─ edges f64[count][bins+1] ─ counts i64[count][bins] ─ raw block ─ f32 block
 *   (every region ALIGN-aligned; the whole map of memory: src/kernels/layout.ts)
 */
async function partsPass(ctx: PassContext, tensor: TensorInfo, parts: Parts, bins: number, shifts: Float64Array, edges: (Float64Array | null)[] | null): Promise<PartState[]> {
  const { kernels } = ctx;
  const k = kernels.exports;
  const width = DTYPE_BYTES[tensor.dtype];
  const wide = tensor.dtype === "f64";
  const total = tensor.byteLength / width;
  const blockElements = Math.max(8, Math.floor(ctx.blockBytes / width / 8) * 8);
  const states = kernels.base;
  const edgesPtr = align(states + parts.count * STATE_BYTES, ALIGN);
  const countsPtr = align(edgesPtr + parts.count * (bins + 1) * 8, ALIGN);
  const rawPtr = align(countsPtr + parts.count * bins * 8, ALIGN);
  const valuesPtr = tensor.dtype === "f32" || wide ? rawPtr : align(rawPtr + blockElements * width, ALIGN);
  const end = valuesPtr + blockElements * (wide ? 8 : 4);
  kernels.reserve(end);
  kernels.bytes(states, rawPtr - states).fill(0);
  for (let p = 0; p < parts.count; p++) {
    const s = kernels.f64(states + p * STATE_BYTES, STATE_F64_LENGTH);
    s[STATE_F64.SHIFT] = shifts[p];
    s[STATE_F64.MIN64] = Infinity;
    s[STATE_F64.MAX64] = -Infinity;
    new Float32Array(kernels.memory.buffer, states + p * STATE_BYTES + STATE.MIN, 2).set([Infinity, -Infinity]);
    if (edges?.[p]) kernels.f64(edgesPtr + p * (bins + 1) * 8, bins + 1).set(edges[p]!);
  }
  const valueBytes = wide ? 8 : 4;
  for (let done = 0; done < total; ) {
    throwIfAborted(ctx.signal, `Reading tensor ${quoteName(tensor.name)}`, { tensor: tensor.name });
    const n = Math.min(blockElements, total - done);
    await ctx.source.readInto(tensor.offset + done * width, kernels.bytes(rawPtr, n * width));
    try {
      if (tensor.dtype === "f16") k.widenF16(rawPtr, valuesPtr, n);
      else if (tensor.dtype === "bf16") k.widenBF16(rawPtr, valuesPtr, n);
      for (let pos = done; pos < done + n; ) {
        const run = Math.floor(pos / parts.period);
        const p = run % parts.count;
        const segEnd = Math.min(done + n, (run + 1) * parts.period);
        const ptr = valuesPtr + (pos - done) * valueBytes;
        const len = segEnd - pos;
        const state = states + p * STATE_BYTES;
        (wide ? k.statsOnlyF64 : k.statsOnly)(ptr, len, state);
        const e = edges?.[p];
        if (e) (wide ? (isUniformSpan(e) ? k.histogramUniformF64 : k.histogramEdgesF64) : isUniformSpan(e) ? k.histogramUniform : k.histogramEdges)(ptr, len, bins, edgesPtr + p * (bins + 1) * 8, countsPtr + p * bins * 8);
        pos = segEnd;
      }
    } catch (error) {
      throw asCntError(error, { tensor: tensor.name });
    }
    done += n;
  }
  const out: PartState[] = [];
  for (let p = 0; p < parts.count; p++) {
    const s = kernels.f64(states + p * STATE_BYTES, STATE_F64_LENGTH);
    const minmax = wide ? [s[STATE_F64.MIN64], s[STATE_F64.MAX64]] : Array.from(new Float32Array(kernels.memory.buffer, states + p * STATE_BYTES + STATE.MIN, 2));
    const count = partLength(total, parts, p) - s[STATE_F64.NAN_COUNT] - s[STATE_F64.POS_INF] - s[STATE_F64.NEG_INF];
    out.push({
      count,
      sum: s[STATE_F64.SUM],
      // SQ is summed around the shift; with the part's mean as the shift it is M2 itself.
      sq: s[STATE_F64.SQ],
      min: minmax[0],
      max: minmax[1],
      nan: s[STATE_F64.NAN_COUNT],
      posInf: s[STATE_F64.POS_INF],
      negInf: s[STATE_F64.NEG_INF],
      counts: edges?.[p] ? Array.from(new BigInt64Array(kernels.memory.buffer, countsPtr + p * bins * 8, bins), Number) : undefined,
    });
  }
  return out;
}

/** Elements of part p in a tensor of `total` elements. */
function partLength(total: number, parts: Parts, p: number): number {
  const runs = Math.floor(total / parts.period);
  const full = Math.floor(runs / parts.count) * parts.period + (runs % parts.count > p ? parts.period : 0);
  const tail = runs % parts.count === p ? total - runs * parts.period : 0;
  return full + tail;
}
