// Pooling, resize, pad and depth_to_space in the forward pass against float64 references (torch
// 1.13 max_pool / avg_pool / interpolate / pad / pixel_shuffle; numpy from the ONNX and TF
// definitions where torch has no such mode): test/fixtures/forward/make_conv.py writes pool.json.
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { GraphOp, GraphValue, ModelGraph } from "../../src/graph/types.js";
import { LinearMemory } from "../../src/forward/memory.js";
import { OPS } from "../../src/forward/ops/pool.js";
import { ForwardUnsupported, type PrepareContext } from "../../src/forward/types.js";

interface Arr { shape: number[]; data: number[] }
interface Case {
  name: string; op: string; attributes: Record<string, number | number[] | string>; channelsLast: boolean; x: Arr; y?: Arr;
  inputs: string[]; values: Record<string, { values?: number[]; floats?: number[] }>; unsupported?: string;
}

const cases: Case[] = JSON.parse(readFileSync("test/fixtures/forward/pool.json", "utf8"));
const memory = await LinearMemory.create();

function setup(c: Case, outShape?: (number | null)[], inShape?: (number | null)[]): { op: GraphOp; ctx: PrepareContext } {
  const values = new Map<string, GraphValue>();
  if (inShape) values.set("x", { name: "x", kind: "data", shape: inShape, consumers: [] });
  for (const [name, v] of Object.entries(c.values)) values.set(name, { name, kind: "constant", ...v, consumers: [] });
  if (outShape) values.set("y", { name: "y", kind: "data", shape: outShape, consumers: [] });
  const graph: ModelGraph = { values, ops: [], inputs: ["x"], outputs: ["y"], chain: false, batched: true, notes: [] };
  const op: GraphOp = { index: 0, name: c.name, layer: { name: c.name, kind: "none", attributes: c.attributes }, op: c.op, inputs: c.inputs, outputs: ["y"] };
  const ctx: PrepareContext = { memory, weight: async () => new Float32Array(0), tensorShape: () => undefined, graph, channelsLast: c.channelsLast };
  return { op, ctx };
}

async function run(c: Case, outShape?: (number | null)[]): Promise<{ shape: number[]; data: Float32Array }> {
  const { op, ctx } = setup(c, outShape);
  const prepared = await OPS[c.op](op, ctx);
  const x = memory.tensor(c.x.shape);
  memory.f32(x.ptr, c.x.data.length).set(c.x.data);
  try {
    const first = prepared.run([x]).outputs[0]!;
    // A second batch reuses what the first built (index tables, resize maps).
    const again = prepared.run([x]).outputs[0]!;
    const n = first.shape.reduce((a, d) => a * d, 1);
    const data = memory.f32(first.ptr, n).slice();
    assert.equal(memory.f32(again.ptr, n).slice(), data, "the second batch gives the same");
    memory.free(first.ptr);
    memory.free(again.ptr);
    return { shape: first.shape, data };
  } finally {
    memory.free(x.ptr);
    prepared.dispose?.();
  }
}

function close(actual: Float32Array, expected: number[], what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!(Math.abs(a - e) <= Math.max(1e-5 * Math.abs(e), 1e-6))) assert.unreachable(`${what}: element ${i} is ${a}, expected ${e}`);
  }
}

async function rejects(f: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof ForwardUnsupported, `not ForwardUnsupported: ${e}`);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable("it ran");
}

for (const c of cases) {
  test(c.name, async () => {
    if (c.unsupported) return rejects(() => run(c), new RegExp(c.unsupported));
    const { shape, data } = await run(c);
    assert.equal(shape, c.y!.shape);
    close(data, c.y!.data, c.name);
  });
}

test("where the graph knows the input's shape, what cannot run stops at prepare time", async () => {
  for (const c of cases.filter((k) => k.unsupported)) {
    const { op, ctx } = setup(c, undefined, [null, ...c.x.shape.slice(1)]);
    await rejects(() => OPS[c.op](op, ctx), new RegExp(c.unsupported!));
  }
  // And a wrong output shape too.
  const c = cases.find((k) => k.op === "pool" && !k.unsupported)!;
  const { op, ctx } = setup(c, [null, 1, 1, 1], [null, ...c.x.shape.slice(1)]);
  await rejects(() => OPS[c.op](op, ctx), /graph's shapes say/);
});

test("an output shape other than the graph's stops the op", async () => {
  const c = cases.find((k) => k.op === "global_pool" && k.attributes.keepdims === 0)!;
  await rejects(() => run(c, [null, 3, 1, 1]), /graph's shapes say/);
  const { data } = await run(c, [null, 3]);
  close(data, c.y!.data, "graph shape");
});

test.run();
