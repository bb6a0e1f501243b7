// The release build really is SIMD: in dist/cntscope.wat (written by `asc --target release` next to
// dist/cntscope.wasm), each hot exported function's own body has a loop that loads v128 values
// and runs lane-wise float (or, for bf16, integer) instructions on them, so a scalar fallback
// cannot hide behind the export's name.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bodyOf, exportsOf, loopsOf } from "../helpers/wat.js";

const WAT = "dist/cntscope.wat";
const WASM = "dist/cntscope.wasm";
const wat = readFileSync(WAT, "utf8");

const exported = exportsOf(wat);

test("the .wat is the text of the .wasm next to it, built after the last kernel change", async () => {
  const module = await WebAssembly.compile(readFileSync(WASM));
  const wasmFuncs = WebAssembly.Module.exports(module).filter((e) => e.kind === "function").map((e) => e.name).sort();
  assert.equal([...exported.keys()].sort(), wasmFuncs);
  const built = Math.min(statSync(WAT).mtimeMs, statSync(WASM).mtimeMs);
  for (const f of readdirSync("assembly")) {
    assert.ok(statSync(`assembly/${f}`).mtimeMs <= built, `assembly/${f} is newer than the build: run npx asc assembly/index.ts --target release`);
  }
});

test("the .wat parser finds exports, bodies and loops (sanity check on a known function)", () => {
  assert.is(exported.get("statsOnly"), "$assembly/moments/statsOnly");
  const body = bodyOf(wat, exported.get("statsOnly")!);
  assert.ok(body.length > 20);
  assert.ok(loopsOf(body).length >= 2, "statsOnly has a SIMD loop and a tail loop");
  assert.not.ok(body.slice(1).some((l) => l.startsWith(" (func ")), "body stops at the next function");
});

const FLOAT_LANES = /^(f32x4|f64x2)\./;
const HOT: [string, RegExp, string][] = [
  ["statsOnly", FLOAT_LANES, "f32x4./f64x2."],
  ["statsRowsCols", FLOAT_LANES, "f32x4./f64x2."],
  ["statsRowsColsF64", FLOAT_LANES, "f32x4./f64x2."],
  ["histogramUniform", FLOAT_LANES, "f32x4./f64x2."],
  ["histogramUniformF64", FLOAT_LANES, "f32x4./f64x2."],
  ["widenF16", FLOAT_LANES, "f32x4./f64x2."],
  ["narrowF64", FLOAT_LANES, "f32x4./f64x2."],
  // bf16 -> f32 is a pure bit move: integer lanes (extend 16 -> 32 bits, shift by 16), no float op.
  ["widenBF16", /^i32x4\.(extend_(low|high)_i16x8_u|shl)\b/, "i32x4.extend/shl"],
];

for (const [name, lanes, label] of HOT) {
  test(`${name}: a loop in its own body does v128.load and ${label} lane instructions`, () => {
    const func = exported.get(name);
    assert.ok(func, `${name} is exported`);
    assert.ok(func!.startsWith("$assembly/"), `${name} names an assembly/ function (${func})`);
    const loops = loopsOf(bodyOf(wat, func!));
    const simdLoop = loops.find((l) => l.some((i) => /^v128\.load\b/.test(i)) && l.some((i) => lanes.test(i)));
    assert.ok(simdLoop, `${name}: no loop with v128.load and ${label} among ${loops.length} loops`);
  });
}

test("statsOnlyF64 forwards to statsRowsColsF64, whose body is SIMD (checked above)", () => {
  const body = bodyOf(wat, exported.get("statsOnlyF64")!);
  const simd = body.some((l) => /^\s*v128\.load\b/.test(l));
  const forwards = body.some((l) => l.trim() === `call ${exported.get("statsRowsColsF64")}`);
  assert.ok(simd || forwards, "statsOnlyF64 is SIMD itself or calls statsRowsColsF64");
});

test.run();
