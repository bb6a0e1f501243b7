// Runs one known-answer case of test/fixtures/forward/{merge,shape,norm}.json (make_merge.py)
// through the op's runner: data and constants in linear memory, host ints as they are.
import * as assert from "uvu/assert";
import "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import type { PrepareContext, Tensor } from "../../src/forward/types.js";
import type { GraphOp, GraphValue, ModelGraph } from "../../src/graph/types.js";

export interface CaseTensor {
  shape: number[];
  data?: number[];
  ints?: number[];
  constant?: boolean;
}

export interface Case {
  name: string;
  op: { op: string; attributes: Record<string, number | number[] | string>; inputs: string[]; outputs: string[]; weight?: string; bias?: string; name?: string };
  inputs: (CaseTensor | null)[];
  expected: CaseTensor[];
  weights?: Record<string, CaseTensor>;
  values?: Record<string, { kind: GraphValue["kind"]; shape?: (number | null)[]; values?: number[] }>;
}

export function loadCases(name: string): Case[] {
  return JSON.parse(readFileSync(new URL(`../fixtures/forward/${name}.json`, import.meta.url), "utf8")).cases;
}

export function graphOp(c: Case): GraphOp {
  const { op, attributes, inputs, outputs, weight, bias, name } = c.op;
  const attrs = op === "norm" ? { ...attributes } : { ...attributes, op };
  return { index: 0, name: name ?? c.name, op, inputs, outputs, layer: { name: name ?? c.name, kind: op === "norm" ? "norm" : "none", weight, bias, attributes: attrs, inputs, outputs } };
}

export function context(memory: LinearMemory, c: Case, graphOpOf: GraphOp, extra: Partial<PrepareContext> = {}): PrepareContext {
  const values = new Map<string, GraphValue>();
  for (const [name, v] of Object.entries(c.values ?? {})) values.set(name, { name, consumers: [], ...v });
  for (const [name, w] of Object.entries(c.weights ?? {})) if (!values.has(name)) values.set(name, { name, kind: "constant", shape: w.shape, consumers: [] });
  const graph: ModelGraph = { values, ops: [graphOpOf], inputs: [], outputs: [], chain: false, batched: true, notes: [] };
  return {
    memory,
    graph,
    channelsLast: false,
    batchAxis: () => 0,
    weight: async (name) => {
      const w = c.weights?.[name];
      if (!w) throw new Error(`no weight ${name}`);
      return Float32Array.from(w.data!);
    },
    tensorShape: (name) => c.weights?.[name]?.shape,
    ...extra,
  };
}

export function put(memory: LinearMemory, t: CaseTensor): Tensor {
  if (t.ints) return { ptr: -1, shape: t.shape, ints: t.ints };
  const out = memory.tensor(t.shape);
  memory.f32(out.ptr, t.data!.length).set(t.data!);
  if (t.constant) out.constant = true;
  return out;
}

export function read(memory: LinearMemory, t: Tensor): number[] {
  if (t.ints) return t.ints;
  return Array.from(memory.f32(t.ptr, t.shape.reduce((a, d) => a * d, 1)));
}

/** |got - want| <= 1e-5 |want| (1e-6 absolute near 0), shape equal. */
export function assertClose(got: number[], gotShape: number[], want: CaseTensor, what: string): void {
  assert.equal(gotShape, want.shape, `${what}: shape`);
  const data = want.data ?? want.ints!;
  assert.is(got.length, data.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    const err = Math.abs(got[i] - data[i]);
    const bound = Math.max(1e-5 * Math.abs(data[i]), 1e-6);
    if (!(err <= bound)) assert.unreachable(`${what}: element ${i} is ${got[i]}, expected ${data[i]}`);
    worst = Math.max(worst, err / Math.max(Math.abs(data[i]), 0.1));
  }
}

/** Prepare and run a case; its outputs compared with the expected values; memory back to where it was. */
export async function runCase(memory: LinearMemory, c: Case): Promise<Tensor[]> {
  const op = graphOp(c);
  const runner = runnerOf(op.op);
  assert.ok(runner, `no runner for ${op.op}`);
  const before = memory.used;
  const prepared = await runner!(op, context(memory, c, op));
  const inputs = c.inputs.map((t) => (t ? put(memory, t) : undefined));
  const { outputs } = prepared.run(inputs);
  assert.is(outputs.length >= c.expected.length, true, `${c.name}: output count`);
  c.expected.forEach((want, i) => {
    const got = outputs[i]!;
    assertClose(read(memory, got), got.shape, want, `${c.name} output ${i}`);
  });
  for (const t of inputs) if (t && t.ptr >= 0) memory.free(t.ptr);
  for (const t of outputs) if (t && t.ptr >= 0) memory.free(t.ptr);
  prepared.dispose?.();
  assert.is(memory.used, before, `${c.name}: memory freed`);
  return outputs.filter((t): t is Tensor => t !== undefined);
}
