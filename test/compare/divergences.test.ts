// Divergences on known histograms against numpy/scipy (test/fixtures/compare/make_divergence_vectors.py).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { divergences, EPSILON } from "../../src/compare/divergences.js";
import { binValues } from "../../src/compare/binning.js";
import { matchItems } from "../../src/compare/match.js";

interface Case { name: string; edges: number[]; a: number[]; b: number[]; expected: Record<string, number> }
const vectors = JSON.parse(readFileSync("test/fixtures/compare/divergence-vectors.json", "utf8")) as { epsilon: number; cases: Case[] };

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 + 1e-9 * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

test("the epsilon is the one the reference used", () => {
  assert.is(EPSILON, vectors.epsilon);
});

for (const c of vectors.cases) {
  test(`divergences equal scipy's: ${c.name}`, () => {
    const d = divergences(c.edges, c.a, c.b)!;
    for (const key of ["klAB", "klBA", "jeffreys", "jensenShannon", "wasserstein"] as const) close(d[key], c.expected[key], `${c.name} ${key}`);
    assert.ok(d.jensenShannon >= 0 && d.jensenShannon <= 1, "JS in bits is bounded by 1");
  });
}

test("empty histograms give null; mismatched lengths are BAD_OPTION", () => {
  assert.is(divergences([0, 1, 2], [0, 0], [1, 2]), null);
  try {
    divergences([0, 1, 2], [1], [1, 2]);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, "BAD_OPTION");
  }
});

test("disjoint supports: JS is 1 bit, KL large but finite", () => {
  const d = divergences([0, 1, 2], [5, 0], [0, 5])!;
  close(d.jensenShannon, 1, "JS");
  assert.ok(Number.isFinite(d.klAB) && d.klAB > 20);
  close(d.wasserstein, 1, "W1: all mass moves one bin width");
});

test("binValues follows numpy.histogram's rule", () => {
  assert.equal(binValues([0, 0.5, 1, 1.5, 2, -1, 3, NaN], [0, 1, 2]), [2, 3]);
});

test("matching: by name, else by position and size", () => {
  const r = matchItems([
    [{ name: "a", size: "2x3" }, { name: "b", size: "3x4" }, { name: "c", size: "4x1" }],
    [{ name: "x", size: "2x3" }, { name: "b", size: "3x4" }, { name: "z", size: "4x2" }],
  ]);
  assert.equal(r.matches, [{ indices: [0, 0], matchedBy: "position" }, { indices: [1, 1], matchedBy: "name" }]);
  assert.equal(r.unmatched, [[0, 2], [1, 2]]);
});

test.run();
