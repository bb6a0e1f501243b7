// The dequantizing kernels are SIMD in the release build: in dist/cntscope.wat each dequant*
// export's own body has a loop that loads v128 values and converts and scales them in f32x4 lanes
// (the same check test/kernels/wat-simd.test.ts makes for the other hot kernels).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEQUANT_KERNEL } from "../../src/kernels/kernels.js";
import { bodyOf, exportsOf, loopsOf } from "../helpers/wat.js";

const wat = readFileSync("dist/cntscope.wat", "utf8");
const exported = exportsOf(wat);

for (const name of Object.values(DEQUANT_KERNEL)) {
  test(`${name}: a loop in its own body does v128.load, f32x4.convert_i32x4_s and f32x4.mul`, () => {
    const func = exported.get(name);
    assert.ok(func?.startsWith("$assembly/dequant/"), `${name} is exported from assembly/dequant.ts (${func})`);
    const loops = loopsOf(bodyOf(wat, func!));
    const simd = loops.find((l) => l.some((i) => /^v128\.load\b/.test(i)) && l.some((i) => /^f32x4\.convert_i32x4_s\b/.test(i)) && l.some((i) => /^f32x4\.mul\b/.test(i)));
    assert.ok(simd, `${name}: no SIMD loop among ${loops.length}`);
  });
}

test.run();
