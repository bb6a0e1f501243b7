// Norms of the forward pass (src/forward/ops/norm.ts) against torch 1.13 float64 (F.batch_norm,
// F.layer_norm, F.instance_norm, F.group_norm) and numpy (test/fixtures/forward/make_merge.py);
// what a reader drops stops the op with ForwardUnsupported naming it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import { context, graphOp, loadCases, runCase, type Case } from "./_merge-case.js";

const memory = await LinearMemory.create();

for (const c of loadCases("norm")) test(c.name, () => runCase(memory, c).then(() => undefined));

async function refused(c: Case, pattern: RegExp): Promise<void> {
  const g = graphOp(c);
  try {
    await runnerOf(g.op)!(g, context(memory, c, g));
    assert.unreachable("prepared");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
    assert.match((e as Error).message, pattern);
  }
}

const vec = (n: number) => ({ shape: [n], data: new Array(n).fill(1) });

test("Keras BatchNormalization whose moving statistics the reader lists as skipped: named in the refusal", async () => {
  await refused({
    name: "bn", op: { op: "norm", name: "bn", attributes: {}, inputs: ["x", "bn/gamma", "bn/beta"], outputs: ["bn"], weight: "bn/gamma", bias: "bn/beta" },
    inputs: [], expected: [], weights: { "bn/gamma": vec(4), "bn/beta": vec(4) },
    values: { "bn/moving_mean": { kind: "constant", shape: [4] }, "bn/moving_variance": { kind: "constant", shape: [4] } },
  }, /'bn\/moving_mean', 'bn\/moving_variance' as skipped/);
});

test("a norm with only a scale and shift (which norm it is unknown) is refused", async () => {
  await refused({ name: "ln", op: { op: "norm", name: "ln", attributes: {}, inputs: ["x", "ln.weight", "ln.bias"], outputs: ["y"], weight: "ln.weight", bias: "ln.bias" }, inputs: [], expected: [], weights: { "ln.weight": vec(4), "ln.bias": vec(4) } }, /which norm/);
});

test("GroupNormalization without num_groups and Rescaling without scale are refused", async () => {
  await refused({ name: "gn", op: { op: "norm", attributes: { op: "group_norm" }, inputs: ["x", "g", "b"], outputs: ["y"], weight: "g", bias: "b" }, inputs: [], expected: [], weights: { g: vec(4), b: vec(4) } }, /num_groups/);
  await refused({ name: "rs", op: { op: "rescale", attributes: {}, inputs: ["x"], outputs: ["y"] }, inputs: [], expected: [] }, /scale and offset/);
});

test("a batch norm whose channels do not match its input stops at run", async () => {
  const c: Case = { name: "bn", op: { op: "norm", attributes: { op: "batch_norm" }, inputs: ["x", "g", "b", "m", "v"], outputs: ["y"], weight: "g", bias: "b" }, inputs: [], expected: [], weights: { g: vec(3), b: vec(3), m: vec(3), v: vec(3) } };
  const g = graphOp(c);
  const prepared = await runnerOf("norm")!(g, context(memory, c, g));
  const x = memory.tensor([2, 4]);
  assert.throws(() => prepared.run([x]), (e: unknown) => e instanceof ForwardUnsupported);
  memory.free(x.ptr);
  prepared.dispose?.();
});

test.run();
