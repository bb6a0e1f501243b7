// The fused f16 / bf16 kernels are SIMD too: in the release .wat, each export's own body, or a
// function it calls, has a loop that loads v128 values and runs f32x4/f64x2 lane instructions on
// them (the kernels are generic in assembly/; the compiler may inline their span loops into the
// export or keep them as separate functions).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bodyOf, exportsOf, loopsOf } from "../helpers/wat.js";

const wat = readFileSync("dist/cntscope.wat", "utf8");
const exported = exportsOf(wat);
const FLOAT_LANES = /^(f32x4|f64x2)\./;

/** The function and every function it calls, to `depth` levels. */
function reachable(func: string, depth: number): string[] {
  const seen = new Set([func]);
  let frontier = [func];
  for (let d = 0; d < depth; d++) {
    const next: string[] = [];
    for (const f of frontier) {
      for (const line of bodyOf(wat, f)) {
        const m = /^\s*call (\$\S+)/.exec(line);
        if (m && !seen.has(m[1])) {
          seen.add(m[1]);
          next.push(m[1]);
        }
      }
    }
    frontier = next;
  }
  return [...seen];
}

for (const name of ["statsOnlyF16", "statsOnlyBF16", "statsRowsColsF16", "statsRowsColsBF16", "histogramUniformF16", "histogramUniformBF16"]) {
  test(`${name}: a loop with v128.load and f32x4./f64x2. lane instructions in its body or a function it calls`, () => {
    const func = exported.get(name);
    assert.ok(func?.startsWith("$assembly/"), `${name} is exported from assembly/ (${func})`);
    const simd = reachable(func!, 2).some((f) => loopsOf(bodyOf(wat, f)).some((l) => l.some((i) => /^v128\.load/.test(i)) && l.some((i) => FLOAT_LANES.test(i))));
    assert.ok(simd, `${name}: no SIMD loop`);
  });
}

test("the f16 kernels widen with the SIMD half-to-single conversion (f32x4.mul by 2^112), not a scalar loop", () => {
  for (const name of ["statsRowsColsF16", "histogramUniformF16"]) {
    const funcs = reachable(exported.get(name)!, 3);
    const widening = funcs.some((f) => loopsOf(bodyOf(wat, f)).some((l) => l.some((i) => i.startsWith("f32x4.mul")) && l.some((i) => /^v128\.load/.test(i)) && l.some((i) => i.startsWith("i32x4.shl"))));
    assert.ok(widening, `${name}: no SIMD widening loop among ${funcs.length} functions`);
  }
});

test.run();
