// The fused f16 / bf16 kernels (statsOnlyF16/BF16, statsRowsColsF16/BF16, histogramUniformF16/BF16
// in assembly/moments.ts and assembly/histogram.ts), which read 16-bit values and widen them
// inside the kernel:
//  - against an independent float64 reference: each pattern decoded from its sign, exponent and
//    mantissa with Math.pow (bf16 through a Float32Array view), then the plain-JS moments, row and
//    column sums (./_stats-reference.ts) and numpy's bin rule (./_histogram-reference.ts); inputs
//    hold every f16 subnormal, -0, NaN, +-Inf, and values on and one or two 16-bit steps beside
//    every bin edge;
//  - bit for bit against widening first (widenF16 / widenBF16) and calling the f32 kernel: the
//    fused kernels promise the same arithmetic in the same order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, layout, mulberry32, gauss, initState, readState, f32FromBits } from "./_support.js";
import { statsReference, firstFinite, checkMoments, checkLineSums, randomBlocks } from "./_stats-reference.js";
import { referenceCounts, runHistogram, assertCounts } from "./_histogram-reference.js";
import { STATE_BYTES } from "../../src/kernels/layout.js";
import { uniformEdges } from "../../src/measure/histogram.js";

const k = await Kernels.create();

type Kind = "f16" | "bf16";

/** IEEE binary16 from its fields (NaN for NaN patterns). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * Math.pow(2, -24);
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * Math.pow(2, exp - 15);
}

/** bfloat16: the top half of an f32 pattern. */
function bf16Value(b: number): number {
  return f32FromBits(b << 16);
}

const decode = (kind: Kind, bits: Uint16Array) => Array.from(bits, kind === "f16" ? halfValue : bf16Value);

/** The 16-bit pattern nearest to x (ties to even), found by bisection over the ordered positive patterns. */
function nearestBits(kind: Kind, x: number): number {
  if (Number.isNaN(x)) return kind === "f16" ? 0x7e00 : 0x7fc0;
  const value = kind === "f16" ? halfValue : bf16Value;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const top = kind === "f16" ? 0x7c00 : 0x7f80; // +Inf
  let lo = 0, hi = top;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (value(mid) <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - value(lo), dHi = value(hi) - a;
  return sign | (dLo < dHi || (dLo === dHi && (lo & 1) === 0) ? lo : hi);
}

/** Every pattern, shuffled: all subnormals, both zeros, NaNs with payloads, +-Inf, the largest finite values. */
function allPatterns(seed: number): Uint16Array {
  const out = new Uint16Array(65536).map((_, i) => i);
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Gaussian weights (std 0.05) as 16-bit patterns, with a few specials sprinkled in. */
function weights(kind: Kind, n: number, seed: number, specials: boolean): Uint16Array {
  const rand = mulberry32(seed);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = nearestBits(kind, 0.05 * gauss(rand));
  if (specials) {
    const special = kind === "f16" ? [0x7e00, 0x7c00, 0xfc00, 0x8000, 0x0001, 0x83ff, 0x7bff] : [0x7fc0, 0x7f80, 0xff80, 0x8000, 0x0001, 0x807f, 0x7f7f];
    special.forEach((s, j) => (out[Math.floor(rand() * n)] = s, out[(j * 977) % n] = s));
  }
  return out;
}

interface StatsRun {
  state: Uint8Array;
  rows: Float64Array;
  cols: Float64Array;
}

/**
 * Feed `bits` in the given blocks to the fused kernel (fused = true) or to widen + the f32 kernel,
 * as a matrix with `cols` columns (statsRowsCols*) or flat (cols = 0: statsOnly*).
 */
function runStats(kind: Kind, bits: Uint16Array, cols: number, blocks: [number, number][], fused: boolean, shift: number): StatsRun {
  const n = bits.length;
  const rows = cols ? Math.ceil(n / cols) : 1;
  const [state, src, f32, rowSums, colSums] = layout(k, [STATE_BYTES, n * 2 + 16, n * 4 + 16, rows * 8, Math.max(cols, 1) * 8]);
  new Uint16Array(k.memory.buffer, src, n).set(bits);
  initState(k, state, shift);
  const e = k.exports;
  for (const [start, len] of blocks) {
    const at = src + start * 2;
    const row = cols ? Math.floor(start / cols) : 0, col = cols ? start % cols : 0;
    if (fused) {
      if (!cols) (kind === "f16" ? e.statsOnlyF16 : e.statsOnlyBF16)(at, len, state);
      else (kind === "f16" ? e.statsRowsColsF16 : e.statsRowsColsBF16)(at, len, row, col, cols, rowSums, colSums, state);
    } else {
      (kind === "f16" ? e.widenF16 : e.widenBF16)(at, f32, len);
      if (!cols) e.statsOnly(f32, len, state);
      else e.statsRowsCols(f32, len, row, col, cols, rowSums, colSums, state);
    }
  }
  return {
    state: new Uint8Array(k.memory.buffer.slice(state, state + STATE_BYTES)),
    rows: new Float64Array(k.memory.buffer.slice(rowSums, rowSums + rows * 8)),
    cols: new Float64Array(k.memory.buffer.slice(colSums, colSums + Math.max(cols, 1) * 8)),
  };
}

function checkStats(kind: Kind, bits: Uint16Array, cols: number, seed: number, what: string): void {
  const values = decode(kind, bits);
  const shift = firstFinite(values);
  const rand = mulberry32(seed);
  // Blocks like the host's (any length, starting anywhere in a row), some longer than a span (2048).
  const blocks = randomBlocks(rand, bits.length, rand() < 0.5 ? 37 : 5000);
  const fused = runStats(kind, bits, cols, blocks, true, shift);
  const widened = runStats(kind, bits, cols, blocks, false, shift);
  assert.equal(Array.from(fused.state), Array.from(widened.state), `${what}: the state is bit-identical to widening first`);
  assert.ok(fused.rows.every((x, i) => Object.is(x, widened.rows[i])) && fused.cols.every((x, i) => Object.is(x, widened.cols[i])), `${what}: row and column sums bit-identical`);
  const view = (() => {
    const [at] = layout(k, [STATE_BYTES]);
    new Uint8Array(k.memory.buffer, at, STATE_BYTES).set(fused.state);
    return readState(k, at);
  })();
  const ref = statsReference(values, cols || values.length);
  checkMoments(view, ref, false, what);
  if (cols) checkLineSums(fused.rows, fused.cols, ref, what);
}

for (const kind of ["f16", "bf16"] as Kind[]) {
  test(`${kind} fused moments: every 16-bit pattern (subnormals, -0, NaN, +-Inf), flat and as a 256 x 256 matrix`, () => {
    const bits = allPatterns(kind === "f16" ? 1 : 2);
    checkStats(kind, bits, 0, 3, `${kind} all patterns flat`);
    checkStats(kind, bits, 256, 4, `${kind} all patterns 256 x 256`);
  });

  test(`${kind} fused moments: gaussian weights with and without specials, odd shapes and spans of every length`, () => {
    for (const [rows, cols, specials, seed] of [[37, 4099, false, 5], [300, 257, true, 6], [2, 9000, true, 7], [1001, 3, false, 8]] as [number, number, boolean, number][]) {
      const bits = weights(kind, rows * cols, seed, specials);
      checkStats(kind, bits, cols, seed + 10, `${kind} ${rows} x ${cols}${specials ? " with specials" : ""}`);
      checkStats(kind, bits, 0, seed + 20, `${kind} ${rows * cols} flat${specials ? " with specials" : ""}`);
    }
  });

  test(`${kind} fused histogramUniform: values on and one or two steps beside every edge, specials, bins 1/3/64/1000, numpy's rule exactly`, () => {
    const ranges: [number, number][] = [[-1, 1], [Math.fround(0.1), Math.fround(0.7)], [-0.0625, 0.03125], [halfValue(0x0001), halfValue(0x0400)], [-3e-3, 7.5]];
    for (const [min, max] of ranges) {
      for (const bins of [1, 3, 64, 1000]) {
        const edges = uniformEdges(min, max, bins);
        const list: number[] = [0x8000, 0x0000, kind === "f16" ? 0x7e00 : 0x7fc0, kind === "f16" ? 0x7c00 : 0x7f80, kind === "f16" ? 0xfc00 : 0xff80];
        for (const edge of edges) {
          const b = nearestBits(kind, edge);
          // The nearest pattern and its neighbours in value order (for negatives the pattern grows with |x|).
          for (const d of [-2, -1, 0, 1, 2]) {
            const p = b + d;
            if (p >= 0 && p <= 0xffff && (p & 0x7fff) <= (kind === "f16" ? 0x7bff : 0x7f7f)) list.push(p);
          }
        }
        const rand = mulberry32(bins);
        for (let i = 0; i < 3000; i++) list.push(nearestBits(kind, min - 0.05 * (max - min) + 1.1 * (max - min) * rand()));
        const bits = Uint16Array.from(list);
        const values = decode(kind, bits);
        const expected = referenceCounts(values, edges);
        // runHistogram copies the bytes and steps by BYTES_PER_ELEMENT: 2 for these patterns.
        const as16 = bits as unknown as Float32Array;
        const fusedKernel = kind === "f16" ? k.exports.histogramUniformF16 : k.exports.histogramUniformBF16;
        const what = `${kind} [${min}, ${max}] bins ${bins}`;
        assertCounts(runHistogram(k, fusedKernel, as16, edges, bins + 1), expected, edges, values, what);
        assertCounts(runHistogram(k, fusedKernel, as16, edges, bins + 2, 5000), expected, edges, values, `${what}, long calls`);
        const sorted = Uint16Array.from(bits).sort() as unknown as Float32Array; // whole quads at the same edge
        assertCounts(runHistogram(k, fusedKernel, sorted, edges, bins + 3, 4100), expected, edges, values, `${what}, sorted`);
      }
    }
  });
}

test.run();
