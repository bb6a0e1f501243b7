import * as assert from "uvu/assert";

/** |actual - expected| <= rel * max(|expected|, tiny): relative closeness with a floor near 0. */
export function assertClose(actual: number | null | undefined, expected: number | null | undefined, rel: number, what: string, floor = 1e-12): void {
  if (expected === null || expected === undefined) {
    assert.ok(actual === null || actual === undefined, `${what}: expected null, got ${actual}`);
    return;
  }
  assert.ok(typeof actual === "number", `${what}: expected ${expected}, got ${actual}`);
  const err = Math.abs(actual - expected);
  assert.ok(err <= rel * Math.max(Math.abs(expected), floor), `${what}: got ${actual}, expected ${expected} (error ${err.toExponential(2)}, tolerance ${rel} relative)`);
}

export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], rel, `${what}[${i}]`);
}

/** The relative error reached, for tests that state it. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1e-300));
  }
  return worst;
}
