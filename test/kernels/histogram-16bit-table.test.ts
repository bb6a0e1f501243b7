// histogramUniformF16 / histogramUniformBF16's table path (assembly/histogram.ts HALF_LUT): a call
// of at least 131,072 values builds a table of the bin of every 16-bit pattern for the call's
// dtype and edges, and later calls with the same dtype and edges reuse it. Every expected count
// comes from numpy.histogram (python3) over the same patterns decoded by numpy (float16, or
// bfloat16 as the top half of a float32, -> float64) with the same edges passed as the bin array.
// Inputs hold every pattern (every subnormal, -0, NaN payloads, +-Inf, and so every value on and
// beside every edge that the dtype can hold); the calls check that the table is rebuilt when any
// edge changes (one interior edge moved past one value) and never used for other edges or for
// the other dtype. Last, histogramUniform (f32) on coarse values (f32 holding bf16 values, many
// exactly on an edge), whose blocks take the per-value slow path, against the same reference.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { Kernels, layout, mulberry32, nextUpF64 } from "./_support.js";
import { uniformEdges } from "../../src/measure/histogram.js";

const k = await Kernels.create();

/** Every pattern twice, shuffled, then `extra` more, so a call of all of them has a tail. */
function patterns(seed: number, extra: number): Uint16Array {
  const rand = mulberry32(seed);
  const out = new Uint16Array(2 * 65536 + extra);
  for (let i = 0; i < out.length; i++) out[i] = i & 0xffff;
  for (let i = 2 * 65536 - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  for (let i = 2 * 65536; i < out.length; i++) out[i] = Math.floor(rand() * 65536);
  return out;
}

type Kind = "f16" | "bf16";

interface Call {
  what: string;
  kind: Kind;
  edges: number[];
  /** The call reads values [0, n) of the patterns. */
  n: number;
  got: number[];
}

/** numpy.histogram of the first n patterns (as the call's dtype) for each call, in one python3 run. */
function numpyCounts(data: Uint16Array, calls: Call[]): number[][] {
  const script = [
    "import sys, json, base64, numpy as np",
    "req = json.load(sys.stdin)",
    "u = np.frombuffer(base64.b64decode(req['data']), dtype='<u2')",
    "v = {'f16': u.view(np.float16).astype(np.float64), 'bf16': (u.astype(np.uint32) << 16).view(np.float32).astype(np.float64)}",
    "out = [np.histogram(v[c['kind']][:c['n']], bins=np.array(c['edges'], dtype=np.float64))[0].tolist() for c in req['calls']]",
    "json.dump(out, sys.stdout)",
  ].join("\n");
  const input = JSON.stringify({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"), calls: calls.map((c) => ({ kind: c.kind, edges: c.edges, n: c.n })) });
  const r = spawnSync("python3", ["-c", script], { input, encoding: "utf8", maxBuffer: 1 << 26 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[][];
}

/** A pattern's value, to pick a value inside a bin: IEEE binary16 fields, or bfloat16 as an f32's top half. */
function patternValue(kind: Kind, h: number): number {
  if (kind === "bf16") return new Float32Array(new Uint32Array([h << 16]).buffer)[0];
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const RANGES: [string, number, number][] = [
  ["[-1, 1]", -1, 1],
  ["[0.1, 0.7] as f32", Math.fround(0.1), Math.fround(0.7)],
  ["f16 subnormals [2^-24, 2^-14]", 2 ** -24, 2 ** -14],
  ["the whole f16 range", -65504, 65504],
  ["[-3e-3, 7.5]", Math.fround(-3e-3), 7.5],
  ["narrow [1000, 1000.5]", 1000, 1000.5],
];

test("histogramUniformF16 / BF16 table path: every pattern, table built, reused, rebuilt when one edge moves, never used for other edges or the other dtype (numpy.histogram)", () => {
  const data = patterns(7, 13);
  const bytes = data.byteLength;
  const calls: Call[] = [];
  for (const [name, min, max] of RANGES) for (const kind of ["f16", "bf16"] as Kind[]) {
    const other16: Kind = kind === "f16" ? "bf16" : "f16";
    for (const bins of [1, 3, 17, 64]) {
      const a = Array.from(uniformEdges(min, max, bins));
      // The first value inside bin j (j = bins / 2), and edges with edge j moved just above it.
      const moved = a.slice();
      const j = bins >> 1;
      if (bins >= 2) {
        // The smallest f16 value above edge j: the edges stay uniform to within a tiny move.
        let v = Infinity;
        for (let h = 0; h < 65536; h++) if (patternValue(kind, h) > a[j] && patternValue(kind, h) < v) v = patternValue(kind, h);
        if (nextUpF64(v) < a[j + 1]) moved[j] = nextUpF64(v);
      }
      const other = Array.from(uniformEdges(min + (max - min) / 7, max + (max - min) / 5, bins));
      const what = `${kind} ${name} bins ${bins}`;
      calls.push({ what: `${what}: long call (builds)`, kind, edges: a, n: data.length, got: [] });
      calls.push({ what: `${what}: short ${other16} call, same edges (not its table)`, kind: other16, edges: a, n: 3000, got: [] });
      calls.push({ what: `${what}: short call (reuses)`, kind, edges: a, n: 1000, got: [] });
      calls.push({ what: `${what}: long call, edge ${j} moved (rebuilds)`, kind, edges: moved, n: data.length, got: [] });
      calls.push({ what: `${what}: short call, other edges (no table)`, kind, edges: other, n: 1000, got: [] });
      calls.push({ what: `${what}: short call back on the first edges (its table is gone)`, kind, edges: a, n: 4000, got: [] });
    }
  }
  const maxBins = 64;
  const [src, edgesPtr, counts] = layout(k, [bytes, (maxBins + 1) * 8, maxBins * 8]);
  new Uint16Array(k.memory.buffer, src, data.length).set(data);
  for (const c of calls) {
    const bins = c.edges.length - 1;
    k.f64(edgesPtr, bins + 1).set(c.edges);
    new BigInt64Array(k.memory.buffer, counts, bins).fill(0n);
    (c.kind === "f16" ? k.exports.histogramUniformF16 : k.exports.histogramUniformBF16)(src, c.n, bins, edgesPtr, counts);
    c.got = Array.from(new BigInt64Array(k.memory.buffer, counts, bins), Number);
  }
  const expected = numpyCounts(data, calls);
  let moved = 0;
  calls.forEach((c, i) => {
    assert.equal(c.got, expected[i], c.what);
    // The moved edge must change numpy's answer, or that call would not tell a stale table apart.
    if (c.what.includes("moved") && expected[i].join() !== expected[i - 3].join()) moved++;
  });
  assert.ok(moved >= 30, `${moved} cases where moving one edge changes the counts`);
});

test("histogramUniform on f32 holding bfloat16 values (many exactly on an edge), long calls: numpy.histogram's counts", () => {
  const rand = mulberry32(11);
  const n = 200_000;
  const bits = new Uint16Array(n);
  const u32 = new Uint32Array(1), f32 = new Float32Array(u32.buffer);
  for (let i = 0; i < n; i++) {
    f32[0] = (rand() - 0.5) * 0.2;
    bits[i] = (u32[0] + 0x8000) >>> 16;
  }
  const wide = Float32Array.from(bits, (b) => ((u32[0] = b << 16), f32[0]));
  let min = Infinity, max = -Infinity;
  for (const x of wide) (min = Math.min(min, x)), (max = Math.max(max, x));
  const calls: Call[] = [3, 17, 64].map((bins) => ({ what: `bins ${bins}`, kind: "bf16", edges: Array.from(uniformEdges(min, max, bins)), n, got: [] }));
  const [src, edgesPtr, counts] = layout(k, [n * 4, 65 * 8, 64 * 8]);
  k.f32(src, n).set(wide);
  let onEdge = 0;
  for (const c of calls) {
    const bins = c.edges.length - 1;
    k.f64(edgesPtr, bins + 1).set(c.edges);
    new BigInt64Array(k.memory.buffer, counts, bins).fill(0n);
    for (let done = 0; done < n; done += 131072) k.exports.histogramUniform(src + 4 * done, Math.min(131072, n - done), bins, edgesPtr, counts);
    c.got = Array.from(new BigInt64Array(k.memory.buffer, counts, bins), Number);
    const edgeSet = new Set(c.edges);
    for (const x of wide) if (edgeSet.has(x)) onEdge++;
  }
  const expected = numpyCounts(bits, calls);
  calls.forEach((c, i) => assert.equal(c.got, expected[i], c.what));
  assert.ok(onEdge > 1000, `${onEdge} values exactly on an edge`);
});

test.run();
