// Merges of the forward pass (src/forward/ops/merge.ts) against numpy float64 references
// (test/fixtures/forward/make_merge.py): broadcasting binary ops on every kernel path, n-ary
// merges, compare, where, concat; and shape arithmetic on host ints.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import { ForwardUnsupported } from "../../src/forward/types.js";
import { context, graphOp, loadCases, put, read, runCase, type Case } from "./_merge-case.js";

const memory = await LinearMemory.create();

for (const c of loadCases("merge")) test(c.name, () => runCase(memory, c).then(() => undefined));

const hostCase = (op: string, attributes: Case["op"]["attributes"], inputs: Case["inputs"]): Case => ({ name: op, op: { op, attributes, inputs: inputs.map((_, i) => `i${i}`), outputs: ["y"] }, inputs, expected: [] });

async function runHost(op: string, attributes: Case["op"]["attributes"], inputs: Case["inputs"]) {
  const c = hostCase(op, attributes, inputs);
  const g = graphOp(c);
  const prepared = await runnerOf(op)!(g, context(memory, c, g));
  return prepared.run(c.inputs.map((t) => (t ? put(memory, t) : undefined))).outputs[0]!;
}

test("shape arithmetic stays on the host: Mul, Div (truncating), Concat of host ints", async () => {
  const mul = await runHost("mul", {}, [{ shape: [2], ints: [4, 6] }, { shape: [], ints: [3] }]);
  assert.equal(mul, { ptr: -1, shape: [2], ints: [12, 18] });
  const div = await runHost("div", {}, [{ shape: [2], ints: [7, -7] }, { shape: [], ints: [2] }]);
  assert.equal(div.ints, [3, -3]);
  const cat = await runHost("concat", { axis: 0 }, [{ shape: [1], ints: [-1] }, { shape: [2], ints: [8, 64] }]);
  assert.equal(cat, { ptr: -1, shape: [3], ints: [-1, 8, 64] });
  const packed = await runHost("concat", { axis: 0 }, [{ shape: [], ints: [2] }, { shape: [], ints: [-1] }]);
  assert.equal(packed, { ptr: -1, shape: [2], ints: [2, -1] }, "scalars (TF Pack)");
});

test("a host int operand meets data: it is copied into memory for the kernel", async () => {
  const c: Case = { name: "mixed", op: { op: "mul", attributes: {}, inputs: ["x", "k"], outputs: ["y"] }, inputs: [{ shape: [1, 3], data: [1, 2, 3] }, { shape: [], ints: [2] }], expected: [{ shape: [1, 3], data: [2, 4, 6] }] };
  await runCase(memory, c);
});

test("a compare the description does not name stops the forward pass", async () => {
  const c = hostCase("compare", {}, [{ shape: [1], ints: [1] }, { shape: [1], ints: [2] }]);
  const g = graphOp(c);
  try {
    await runnerOf("compare")!(g, context(memory, c, g));
    assert.unreachable("prepared");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
    assert.match((e as Error).message, /which comparison/);
  }
});

test("operands that do not broadcast stop the op with ForwardUnsupported", async () => {
  const c: Case = { name: "bad", op: { op: "add", attributes: {}, inputs: ["x", "y"], outputs: ["y"] }, inputs: [{ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, { shape: [2], data: [1, 2], constant: true }], expected: [] };
  const g = graphOp(c);
  const prepared = await runnerOf("add")!(g, context(memory, c, g));
  const ins = c.inputs.map((t) => put(memory, t!));
  assert.throws(() => prepared.run(ins), (e: unknown) => e instanceof ForwardUnsupported);
  for (const t of ins) memory.free(t.ptr);
});

test("where over host ints picks per element", async () => {
  const y = await runHost("where", {}, [{ shape: [3], ints: [1, 0, 1] }, { shape: [3], ints: [1, 2, 3] }, { shape: [], ints: [-1] }]);
  assert.equal(read(memory, y), [1, -1, 3]);
});

test("TF Select (v1) with a vector condition picks whole rows", async () => {
  await runCase(memory, {
    name: "select", op: { op: "where", attributes: { tf: "Select" }, inputs: ["c", "x", "y"], outputs: ["z"] },
    inputs: [{ shape: [2], data: [0, 1] }, { shape: [2, 2], data: [1, 2, 3, 4] }, { shape: [2, 2], data: [5, 6, 7, 8] }],
    expected: [{ shape: [2, 2], data: [5, 6, 3, 4] }],
  });
});

test.run();
