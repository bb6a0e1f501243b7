// widenBF16 (assembly/widen.ts): bfloat16 to f32, the 16 bits become the top half of the f32
// pattern; random patterns and every class of value, in calls of odd lengths.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernels, layout, mulberry32 } from "./_support.js";

const k = await Kernels.create();

test("widenBF16: random patterns and every NaN/Inf/zero/subnormal class give bits bf16 << 16", () => {
  const rand = mulberry32(111);
  const list = [0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1, 0x7f81, 0x0001, 0x807f, 0x3f80, 0x7f7f];
  for (let i = 0; i < 30001; i++) list.push(Math.floor(rand() * 65536));
  const pats = Uint16Array.from(list);
  const [src, dst] = layout(k, [pats.byteLength + 16, pats.length * 4 + 16]);
  new Uint16Array(k.memory.buffer, src, pats.length).set(pats);
  let start = 0;
  while (start < pats.length) {
    const n = Math.min(pats.length - start, 1 + Math.floor(rand() * 77));
    k.exports.widenBF16(src + start * 2, dst + start * 4, n);
    start += n;
  }
  const out = new Uint32Array(k.memory.buffer, dst, pats.length);
  for (let i = 0; i < pats.length; i++) {
    if (out[i] !== ((pats[i] << 16) >>> 0)) assert.unreachable(`bf16 0x${pats[i].toString(16)} gave 0x${out[i].toString(16)}`);
  }
});

test.run();
