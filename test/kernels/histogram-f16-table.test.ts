// histogramUniformF16's table path (assembly/histogram.ts HALF_LUT): a call of at least 131,072
// values builds a table of the bin of every f16 pattern for the call's edges, and later calls
// with the same edges reuse it. Every expected count comes from numpy.histogram (python3) over the
// same patterns decoded by numpy (float16 -> float64) with the same edges passed as the bin array.
// Inputs hold all 65,536 patterns (every subnormal, -0, NaN payloads, +-Inf, and so every value on
// and beside every edge that f16 can hold); the calls check that the table is rebuilt when any
// edge changes (one interior edge moved past one value) and never used for other edges.
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

interface Call {
  what: string;
  edges: number[];
  /** The call reads values [0, n) of the patterns. */
  n: number;
  got: number[];
}

/** numpy.histogram of the first n patterns (as float16) for each call, in one python3 run. */
function numpyCounts(data: Uint16Array, calls: Call[]): number[][] {
  const script = [
    "import sys, json, base64, numpy as np",
    "req = json.load(sys.stdin)",
    "v = np.frombuffer(base64.b64decode(req['data']), dtype='<u2').view(np.float16).astype(np.float64)",
    "out = [np.histogram(v[:c['n']], bins=np.array(c['edges'], dtype=np.float64))[0].tolist() for c in req['calls']]",
    "json.dump(out, sys.stdout)",
  ].join("\n");
  const input = JSON.stringify({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"), calls: calls.map((c) => ({ edges: c.edges, n: c.n })) });
  const r = spawnSync("python3", ["-c", script], { input, encoding: "utf8", maxBuffer: 1 << 26 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[][];
}

/** f16 pattern to its value (IEEE binary16 fields), to pick a value strictly inside a bin. */
function halfValue(h: number): number {
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

test("histogramUniformF16 table path: every pattern, table built, reused, rebuilt when one edge moves, never used for other edges (numpy.histogram)", () => {
  const data = patterns(7, 13);
  const bytes = data.byteLength;
  const calls: Call[] = [];
  for (const [name, min, max] of RANGES) {
    for (const bins of [1, 3, 17, 64]) {
      const a = Array.from(uniformEdges(min, max, bins));
      // The first value inside bin j (j = bins / 2), and edges with edge j moved just above it.
      const moved = a.slice();
      const j = bins >> 1;
      if (bins >= 2) {
        // The smallest f16 value above edge j: the edges stay uniform to within a tiny move.
        let v = Infinity;
        for (let h = 0; h < 65536; h++) if (halfValue(h) > a[j] && halfValue(h) < v) v = halfValue(h);
        if (nextUpF64(v) < a[j + 1]) moved[j] = nextUpF64(v);
      }
      const other = Array.from(uniformEdges(min + (max - min) / 7, max + (max - min) / 5, bins));
      const what = `${name} bins ${bins}`;
      calls.push({ what: `${what}: long call (builds)`, edges: a, n: data.length, got: [] });
      calls.push({ what: `${what}: short call (reuses)`, edges: a, n: 1000, got: [] });
      calls.push({ what: `${what}: long call, edge ${j} moved (rebuilds)`, edges: moved, n: data.length, got: [] });
      calls.push({ what: `${what}: short call, other edges (no table)`, edges: other, n: 1000, got: [] });
      calls.push({ what: `${what}: short call back on the first edges (its table is gone)`, edges: a, n: 4000, got: [] });
    }
  }
  const maxBins = 64;
  const [src, edgesPtr, counts] = layout(k, [bytes, (maxBins + 1) * 8, maxBins * 8]);
  new Uint16Array(k.memory.buffer, src, data.length).set(data);
  for (const c of calls) {
    const bins = c.edges.length - 1;
    k.f64(edgesPtr, bins + 1).set(c.edges);
    new BigInt64Array(k.memory.buffer, counts, bins).fill(0n);
    k.exports.histogramUniformF16(src, c.n, bins, edgesPtr, counts);
    c.got = Array.from(new BigInt64Array(k.memory.buffer, counts, bins), Number);
  }
  const expected = numpyCounts(data, calls);
  let moved = 0;
  calls.forEach((c, i) => {
    assert.equal(c.got, expected[i], c.what);
    // The moved edge must change numpy's answer, or that call would not tell a stale table apart.
    if (c.what.includes("moved") && expected[i].join() !== expected[i - 2].join()) moved++;
  });
  assert.ok(moved >= 15, `${moved} cases where moving one edge changes the counts`);
});

test.run();
