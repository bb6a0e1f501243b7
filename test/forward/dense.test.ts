// gemm / gemmPacked / packB (assembly/forward/gemm.ts) and the dense, matmul and einsum runners
// (src/forward/ops/dense.ts) against numpy float64 references (test/fixtures/forward/make_dense.py).
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { GraphOp } from "../../src/graph/types.js";
import type { LayerInfo } from "../../src/model/types.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { OPS } from "../../src/forward/ops/dense.js";
import type { PrepareContext, Tensor } from "../../src/forward/types.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import { bodyOf, loopsOf } from "../helpers/wat.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/forward/dense.json", import.meta.url), "utf8"));
const memory = await LinearMemory.create();
const ex = memory.exports;

/** The fixture's inputs: make_dense.py value(seed, count), the same float32 values. */
function valuesOf(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.fround((((i + 1) * 2654435761 + seed * 97) % 4093) / 2046.5 - 1);
  return out;
}

function put(values: Float32Array): number {
  const ptr = memory.alloc(values.length);
  memory.f32(ptr, values.length).set(values);
  return ptr;
}

function tensor(shape: number[], seed: number, constant = false): Tensor {
  const n = shape.reduce((a, d) => a * d, 1);
  return { ptr: put(valuesOf(seed, n)), shape, ...(constant ? { constant: true } : {}) };
}

/** |got - want| <= 1e-5 |want| + 1e-6 * magnitude (the sum of |a||b| a dot product's rounding scales with). */
function close(got: ArrayLike<number>, want: number[], what: string, magnitude?: number[]): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 * Math.abs(want[i]) + 1e-6 * Math.max(1, magnitude ? magnitude[i] : 1);
    if (!(Math.abs(got[i] - want[i]) <= tol)) assert.unreachable(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

function op(name: string, layer: Partial<LayerInfo>, inputs: string[]): GraphOp {
  return { index: 0, name, op: name, layer: { name, kind: "none", ...layer } as LayerInfo, inputs, outputs: [`${name}:0`] };
}

function context(weights: Record<string, { shape: number[]; seed: number }>): PrepareContext {
  return {
    memory,
    weight: async (name) => valuesOf(weights[name].seed, weights[name].shape.reduce((a, d) => a * d, 1)),
    tensorShape: (name) => weights[name]?.shape,
    graph: { values: new Map(), ops: [], inputs: [], outputs: [], chain: false, batched: true, notes: [] },
    channelsLast: false,
  };
}

test("gemm and gemmPacked match float64 products on odd sizes, strides, accumulate and both bias modes", () => {
  for (const c of fixture.gemm) {
    const bRows = c.transposed ? c.n : c.k;
    const a = put(valuesOf(c.seed, c.m * c.lda));
    const b = put(valuesOf(c.seed + 1, bRows * c.ldb));
    const out = put(valuesOf(c.seed + 2, c.m * c.ldc));
    const bias = put(valuesOf(c.seed + 3, Math.max(c.m, c.n)));
    const what = `gemm ${c.m}x${c.n}x${c.k} ld ${c.lda}/${c.ldb}/${c.ldc} acc ${c.accumulate} bias ${c.biasMode} packed ${c.packed} transposed ${c.transposed}`;
    let panel = -1;
    if (c.packed) {
      panel = memory.alloc(ex.packedSize(c.k, c.n));
      ex.packB(b, c.ldb, c.k, c.n, c.transposed, panel);
      ex.gemmPacked(a, panel, out, c.m, c.n, c.k, c.lda, c.ldc, bias, c.biasMode, c.accumulate);
    } else ex.gemm(a, b, out, c.m, c.n, c.k, c.lda, c.ldb, c.ldc, bias, c.biasMode, c.accumulate);
    // Columns past n (the stride's padding) must be left as they were: the expected values keep them.
    const magnitude = new Array<number>(c.m * c.ldc).fill(1);
    for (let i = 0; i < c.m; i++) for (let j = 0; j < c.n; j++) magnitude[i * c.ldc + j] = c.magnitude[i * c.n + j];
    close(memory.f32(out, c.m * c.ldc), c.expected, what, magnitude);
    for (const p of [a, b, out, bias, panel]) memory.free(p);
  }
});

test("packB lays B out in panels of 8 columns, zero-padded past n", () => {
  const b = put(Float32Array.from({ length: 3 * 10 }, (_, i) => i + 1)); // B[p, j] = 10 p + j + 1
  const panel = memory.alloc(ex.packedSize(3, 10));
  assert.is(ex.packedSize(3, 10), 3 * 16);
  ex.packB(b, 10, 3, 10, 0, panel);
  const got = Array.from(memory.f32(panel, 48));
  const want: number[] = [];
  for (let jp = 0; jp < 2; jp++) for (let p = 0; p < 3; p++) for (let q = 0; q < 8; q++) want.push(8 * jp + q < 10 ? 10 * p + 8 * jp + q + 1 : 0);
  assert.equal(got, want);
  memory.free(b);
  memory.free(panel);
});

test("fmaPeak runs its multiply-add chains and returns their finite sum", () => {
  const s = ex.fmaPeak(1000);
  assert.ok(Number.isFinite(s) && s > 1000, `fmaPeak(1000) = ${s}`);
});

test("dense: in_out and out_in weights, bias, rank-3 input, Gemm alpha/beta, a flattened feature map", async () => {
  for (const c of fixture.dense) {
    const weights: Record<string, { shape: number[]; seed: number }> = { w: { shape: c.w, seed: c.wSeed } };
    if (c.bias) weights.b = { shape: [c.bias], seed: c.bSeed };
    const layer: Partial<LayerInfo> = { kind: "dense", weight: "w", weightLayout: c.layout, ...(c.bias ? { bias: "b" } : {}), ...(c.attributes ? { attributes: c.attributes } : {}) };
    const prepared = await OPS.dense(op("dense", layer, ["x", "w"]), context(weights));
    const x = tensor(c.x, c.xSeed);
    const [y] = prepared.run([x, undefined]).outputs;
    assert.equal(y!.shape, c.shape, c.name);
    close(memory.f32(y!.ptr, c.expected.length), c.expected, c.name);
    memory.free(x.ptr);
    memory.free(y!.ptr);
    prepared.dispose?.();
  }
});

test("dense refuses an input whose last axis does not fit the weight", async () => {
  const prepared = await OPS.dense(op("dense", { kind: "dense", weight: "w", weightLayout: "in_out" }, ["x"]), context({ w: { shape: [5, 4], seed: 1 } }));
  const x = tensor([2, 3, 7], 2);
  assert.throws(() => prepared.run([x]), (e: unknown) => e instanceof ForwardUnsupported && /takes 5 values/.test((e as Error).message));
  memory.free(x.ptr);
  prepared.dispose?.();
});

test("matmul: batch broadcasting, 1-D operands, transA/transB, ONNX Gemm with data B and C", async () => {
  for (const c of fixture.matmul) {
    const prepared = await OPS.matmul(op("matmul", { attributes: { op: "matmul", ...c.attributes } }, ["a", "b", ...(c.c ? ["c"] : [])]), context({}));
    const a = tensor(c.a, c.seed), b = tensor(c.b, c.seed + 1);
    const cc = c.c ? tensor(c.c, c.seed + 2, true) : undefined;
    const [y] = prepared.run(cc ? [a, b, cc] : [a, b]).outputs;
    assert.equal(y!.shape, c.shape, c.name);
    close(memory.f32(y!.ptr, c.expected.length), c.expected, c.name);
    for (const t of [a, b, cc, y]) if (t) memory.free(t.ptr);
  }
});

test("einsum: attention forms, ellipsis, a permuted output and an outer product", async () => {
  for (const c of fixture.einsum) {
    const prepared = await OPS.einsum(op("einsum", { attributes: { op: "einsum", equation: c.equation } }, ["a", "b"]), context({}));
    const a = tensor(c.a, c.seed), b = tensor(c.b, c.seed + 1);
    const [y] = prepared.run([a, b]).outputs;
    assert.equal(y!.shape, c.shape, c.equation);
    close(memory.f32(y!.ptr, c.expected.length), c.expected, c.equation);
    for (const t of [a, b, y]) memory.free(t!.ptr);
  }
});

test("einsum refuses what it cannot run and says which equation", async () => {
  const none = await OPS.einsum(op("einsum", { attributes: { op: "einsum" } }, ["a", "b"]), context({})).catch((e: unknown) => e);
  assert.ok(none instanceof ForwardUnsupported);
  for (const equation of ["ii,ij->ij", "ij,jk->k", "ij,jk"]) {
    const prepared = await OPS.einsum(op("einsum", { attributes: { op: "einsum", equation } }, ["a", "b"]), context({}));
    const a = tensor([3, 3], 1), b = tensor([3, 4], 2);
    assert.throws(() => prepared.run([a, b]), (e: unknown) => e instanceof ForwardUnsupported && (e as Error).message.includes(JSON.stringify(equation)), equation);
    memory.free(a.ptr);
    memory.free(b.ptr);
  }
});

test("the release build's gemm inner loop is SIMD: a splat of A times two f32x4 of the B panel, added", () => {
  const wat = readFileSync("dist/cntscope.wat", "utf8");
  const loops = loopsOf(bodyOf(wat, "$assembly/forward/gemm/gemmCore"));
  const simd = loops.filter((l) => l.some((i) => i.startsWith("v128.load32_splat")) && l.filter((i) => i === "f32x4.mul").length >= 8 && l.filter((i) => i === "f32x4.add").length >= 8);
  assert.ok(simd.length >= 1, "no loop with a 4 x 8 tile of f32x4.mul/f32x4.add over splats in gemmCore");
});

test.run();
