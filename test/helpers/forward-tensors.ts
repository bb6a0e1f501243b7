import * as assert from "uvu/assert";
import type { LinearMemory } from "../../src/forward/memory.js";
import type { Tensor } from "../../src/forward/types.js";

/** Values against a float64 reference: 1e-5 relative, 1e-6 absolute near 0. */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!(Math.abs(a - e) <= Math.max(1e-5 * Math.abs(e), 1e-6))) assert.unreachable(`${what}[${i}]: ${a} vs ${e}`);
  }
}

/** A tensor of `shape` in linear memory holding `values`. */
export function put(memory: LinearMemory, shape: number[], values: ArrayLike<number>): Tensor {
  const t = memory.tensor(shape);
  memory.f32(t.ptr, values.length).set(Array.from(values));
  return t;
}
