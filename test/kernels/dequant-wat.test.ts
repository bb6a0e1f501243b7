// The dequantizing kernels are SIMD in the release build: in dist/cntscope.wat each dequant*
// export's own body has a loop that loads v128 values and converts and scales them in f32x4 lanes
// (the same check test/kernels/wat-simd.test.ts makes for the other hot kernels).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEQUANT_KERNEL } from "../../src/kernels/kernels.js";

const wat = readFileSync("dist/cntscope.wat", "utf8");
const exported = new Map([...wat.matchAll(/^\s*\(export "([^"]+)" \(func (\$[^\s()]+)\)\)/gm)].map((m) => [m[1], m[2]]));

function bodyOf(func: string): string[] {
  const lines = wat.split("\n");
  const start = lines.findIndex((l) => l.startsWith(` (func ${func} `) || l === ` (func ${func}`);
  assert.ok(start >= 0, `no (func ${func}`);
  let end = start + 1;
  while (end < lines.length && !/^ \(|^\)/.test(lines[end])) end++;
  return lines.slice(start, end);
}

function loopsOf(body: string[]): string[][] {
  const loops: string[][] = [];
  body.forEach((line, i) => {
    const trimmed = line.trimStart();
    if (!/^loop\b/.test(trimmed)) return;
    const indent = line.length - trimmed.length;
    const inner: string[] = [];
    for (let j = i + 1; j < body.length; j++) {
      const t = body[j].trimStart();
      if (body[j].length - t.length === indent && t === "end") break;
      inner.push(t);
    }
    loops.push(inner);
  });
  return loops;
}

for (const name of Object.values(DEQUANT_KERNEL)) {
  test(`${name}: a loop in its own body does v128.load, f32x4.convert_i32x4_s and f32x4.mul`, () => {
    const func = exported.get(name);
    assert.ok(func?.startsWith("$assembly/dequant/"), `${name} is exported from assembly/dequant.ts (${func})`);
    const loops = loopsOf(bodyOf(func!));
    const simd = loops.find((l) => l.some((i) => /^v128\.load\b/.test(i)) && l.some((i) => /^f32x4\.convert_i32x4_s\b/.test(i)) && l.some((i) => /^f32x4\.mul\b/.test(i)));
    assert.ok(simd, `${name}: no SIMD loop among ${loops.length}`);
  });
}

test.run();
