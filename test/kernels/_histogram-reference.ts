// Plain-JS reference for the histogram kernels: numpy.histogram's bin rule written literally, the
// adversarial values around every edge, and a runner that feeds a kernel in uneven calls.
import * as assert from "uvu/assert";
import { Kernels, layout, mulberry32, nextUpF32, nextDownF32, nextUpF64, nextDownF64 } from "./_support.js";

/**
 * numpy.histogram's rule: bin i holds edges[i] <= x < edges[i+1]; the last bin also holds
 * x == edges[bins]; x outside [edges[0], edges[bins]] and NaN go nowhere (-1).
 */
export function numpyBin(x: number, edges: ArrayLike<number>): number {
  const bins = edges.length - 1;
  for (let i = 0; i < bins; i++) {
    const last = i === bins - 1;
    if (edges[i] <= x && (x < edges[i + 1] || (last && x === edges[bins]))) return i;
  }
  return -1;
}

export function referenceCounts(values: ArrayLike<number>, edges: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = numpyBin(values[i], edges);
    if (b >= 0) counts[b]++;
  }
  return counts;
}

/** f32 values on and next to every edge (the edge rounded to f32, and its f32 neighbours), plus specials and random fill. */
export function adversarialF32(edges: ArrayLike<number>, seed: number, randomCount: number): Float32Array {
  const out: number[] = [NaN, Infinity, -Infinity, 0, -0];
  for (let i = 0; i < edges.length; i++) {
    const v = Math.fround(edges[i]);
    if (!Number.isFinite(v)) continue;
    out.push(v, nextUpF32(v), nextDownF32(v), nextUpF32(nextUpF32(v)), nextDownF32(nextDownF32(v)));
  }
  const lo = edges[0], hi = edges[edges.length - 1];
  const rand = mulberry32(seed);
  const span = hi - lo;
  for (let i = 0; i < randomCount; i++) out.push(lo - 0.05 * span + 1.1 * span * rand());
  shuffle(out, rand);
  return Float32Array.from(out);
}

/** f64 values exactly on every edge and at its f64 neighbours, plus specials and random fill. */
export function adversarialF64(edges: ArrayLike<number>, seed: number, randomCount: number): Float64Array {
  const out: number[] = [NaN, Infinity, -Infinity, 0, -0];
  for (let i = 0; i < edges.length; i++) {
    const v = edges[i];
    out.push(v, nextUpF64(v), nextDownF64(v), Math.fround(v), nextUpF64(nextUpF64(v)), nextDownF64(nextDownF64(v)));
  }
  const lo = edges[0], hi = edges[edges.length - 1];
  const rand = mulberry32(seed);
  const span = hi - lo;
  for (let i = 0; i < randomCount; i++) out.push(lo - 0.05 * span + 1.1 * span * rand());
  shuffle(out, rand);
  return Float64Array.from(out);
}

function shuffle(a: number[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}

type HistKernel = (src: number, n: number, bins: number, edges: number, counts: number) => void;

/**
 * Runs a histogram kernel over `values` in calls of random length 1..maxLen (several calls so
 * tails of every length occur), into counts pre-seeded with known values (the kernel adds into
 * them), and returns the counts minus the seed.
 */
export function runHistogram(k: Kernels, kernel: HistKernel, values: Float32Array | Float64Array, edges: ArrayLike<number>, seed: number, maxLen = 23): number[] {
  const bins = edges.length - 1;
  const width = values.BYTES_PER_ELEMENT;
  // counts sit between two 64-byte guards: a write to counts[-1] or counts[bins] shows up there.
  const [src, edgesPtr, region] = layout(k, [values.byteLength + 16, (bins + 1) * 8, bins * 8 + 128]);
  const countsPtr = region + 64;
  new Uint8Array(k.memory.buffer, src, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  k.f64(edgesPtr, bins + 1).set(Array.from(edges));
  new Uint8Array(k.memory.buffer, region, bins * 8 + 128).fill(0xa5);
  const counts = new BigInt64Array(k.memory.buffer, countsPtr, bins);
  for (let i = 0; i < bins; i++) counts[i] = BigInt(i * 1000 + 3);
  const rand = mulberry32(seed);
  for (let start = 0; start < values.length; ) {
    const len = Math.min(values.length - start, 1 + Math.floor(rand() * maxLen));
    kernel(src + start * width, len, bins, edgesPtr, countsPtr);
    start += len;
  }
  const after = new BigInt64Array(k.memory.buffer, countsPtr, bins);
  const guards = [...new Uint8Array(k.memory.buffer, region, 64), ...new Uint8Array(k.memory.buffer, countsPtr + bins * 8, 64)];
  assert.ok(guards.every((b) => b === 0xa5), "nothing written outside counts[0 .. bins)");
  assert.equal(Array.from(k.f64(edgesPtr, bins + 1)), Array.from(edges), "edges untouched");
  return Array.from(after, (c, i) => Number(c - BigInt(i * 1000 + 3)));
}

/** Exact comparison, reporting the first differing bin and the values that belong in it. */
export function assertCounts(actual: number[], expected: number[], edges: ArrayLike<number>, values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      const members = Array.from(values).filter((x) => numpyBin(x, edges) === i).slice(0, 5);
      assert.unreachable(`${what}: bin ${i} [${edges[i]}, ${edges[i + 1]}] has ${actual[i]}, expected ${expected[i]} (e.g. ${members.join(", ")})`);
    }
  }
  assert.is(actual.reduce((a, b) => a + b, 0), expected.reduce((a, b) => a + b, 0), `${what}: total`);
}
