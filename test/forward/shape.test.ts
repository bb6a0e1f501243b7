// Selections and shape ops of the forward pass (src/forward/ops/shape.ts) against numpy float64
// references (test/fixtures/forward/make_merge.py: np.split, slicing, np.take, reshape,
// np.transpose, np.broadcast_to, np.tile, reductions, np.trunc); host-int shape arithmetic as
// PyTorch's ONNX exports compute a flatten's target (Shape -> Gather -> Unsqueeze -> Concat -> Reshape).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinearMemory } from "../../src/forward/memory.js";
import { runnerOf } from "../../src/forward/ops/registry.js";
import { ForwardUnsupported, type Tensor } from "../../src/forward/types.js";
import { context, graphOp, loadCases, put, read, runCase, type Case } from "./_merge-case.js";

const memory = await LinearMemory.create();

for (const c of loadCases("shape")) test(c.name, () => runCase(memory, c).then(() => undefined));

async function run(op: string, attributes: Case["op"]["attributes"], inputs: Tensor[], outputs = ["y"], values: Case["values"] = {}): Promise<(Tensor | undefined)[]> {
  const c: Case = { name: op, op: { op, attributes, inputs: inputs.map((_, i) => `i${i}`), outputs }, inputs: [], expected: [], values };
  const g = graphOp(c);
  const prepared = await runnerOf(op)!(g, context(memory, c, g));
  return prepared.run(inputs).outputs;
}

test("a flatten's target computed at run time: Shape, Gather, Unsqueeze, Concat, Reshape", async () => {
  const data = Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 0.5 - 3);
  const x = put(memory, { shape: [2, 3, 4], data });
  const [shape] = await run("shape", {}, [x]);
  assert.equal(shape, { ptr: -1, shape: [3], ints: [2, 3, 4] });
  const [batch] = await run("gather", { axis: 0 }, [shape!, { ptr: -1, shape: [], ints: [0] }]);
  assert.equal(batch, { ptr: -1, shape: [], ints: [2] });
  const [dim] = await run("unsqueeze", { axes: [0] }, [batch!]);
  assert.equal(dim, { ptr: -1, shape: [1], ints: [2] });
  const [target] = await run("concat", { axis: 0 }, [dim!, { ptr: -1, shape: [1], ints: [-1] }]);
  assert.equal(target!.ints, [2, -1]);
  const [y] = await run("reshape", {}, [x, target!]);
  assert.equal(y!.shape, [2, 12]);
  assert.equal(read(memory, y!), Array.from(Float32Array.from(data)));
  assert.is.not(y!.ptr, x.ptr, "a reshape is a copy");
  memory.free(x.ptr);
  memory.free(y!.ptr);
});

test("size, a host slice of a shape, a cast of host ints, range", async () => {
  const x = put(memory, { shape: [2, 5, 3], data: new Array(30).fill(1) });
  assert.equal((await run("size", {}, [x]))[0], { ptr: -1, shape: [], ints: [30] });
  const [s] = await run("shape", {}, [x]);
  const [tail] = await run("slice", { starts: [-2], ends: [2 ** 53], axes: [0] }, [s!]);
  assert.equal(tail, { ptr: -1, shape: [2], ints: [5, 3] });
  assert.equal((await run("cast", {}, [tail!]))[0]!.ints, [5, 3]);
  const [r] = await run("range", {}, [{ ptr: -1, shape: [], ints: [1] }, { ptr: -1, shape: [], ints: [8] }, { ptr: -1, shape: [], ints: [3] }]);
  assert.equal(r, { ptr: -1, shape: [3], ints: [1, 4, 7] });
  const [p] = await run("reduce", { onnx: "ReduceProd", keepdims: 0 }, [tail!]);
  assert.equal(p, { ptr: -1, shape: [], ints: [15] });
  memory.free(x.ptr);
});

test("a graph constant folded at analysis time is the op's output; a ConstantOfShape's fold (zeros, its value unknown) is not", async () => {
  const [y] = await run("range", {}, [{ ptr: -1, shape: [], ints: [0] }, { ptr: -1, shape: [], ints: [9] }, { ptr: -1, shape: [], ints: [1] }], ["y"], { y: { kind: "constant", shape: [3], values: [5, 6, 7] } });
  assert.equal(y, { ptr: -1, shape: [3], ints: [5, 6, 7] });
  try {
    await run("constant_of_shape", {}, [{ ptr: -1, shape: [1], ints: [3] }], ["y"], { y: { kind: "constant", shape: [3], values: [0, 0, 0] } });
    assert.unreachable("ran");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
  }
  const [ones] = await run("constant_of_shape", { value: 1 }, [{ ptr: -1, shape: [1], ints: [2] }]);
  assert.equal(ones, { ptr: -1, shape: [2], ints: [1, 1] });
});

test("what the description does not keep stops the op: Cast's target, ConstantOfShape's value, Squeeze without axes or shapes", async () => {
  const x = put(memory, { shape: [1, 2], data: [1.5, -2.5] });
  for (const [op, inputs] of [["cast", [x]], ["constant_of_shape", [{ ptr: -1, shape: [1], ints: [2] }]], ["squeeze", [x]]] as const) {
    try {
      await run(op, {}, [...inputs]);
      assert.unreachable(`${op} ran`);
    } catch (e) {
      assert.instance(e, ForwardUnsupported, op);
    }
  }
  memory.free(x.ptr);
});

test("a squeeze of a batch of one sample keeps the batch axis (static shape [null, 1, 4])", async () => {
  const x = put(memory, { shape: [1, 1, 4], data: [1, 2, 3, 4] });
  const [y] = await run("squeeze", {}, [x], ["y"], { i0: { kind: "data", shape: [null, 1, 4] } });
  assert.equal(y!.shape, [1, 4]);
  memory.free(x.ptr);
  memory.free(y!.ptr);
});

test("gather with indices from data stops the op", async () => {
  const x = put(memory, { shape: [1, 3], data: [1, 2, 3] });
  const i = put(memory, { shape: [1], data: [0] });
  try {
    await run("gather", { axis: 1 }, [x, i]);
    assert.unreachable("ran");
  } catch (e) {
    assert.instance(e, ForwardUnsupported);
  }
  memory.free(x.ptr);
  memory.free(i.ptr);
});


test("a torch 1.13 ONNX export (opset 17, dynamic batch) through the ONNX reader, the graph and these runners", async () => {
  const { readFileSync } = await import("node:fs");
  const { runModel } = await import("./_onnx-net.js");
  const { assertClose } = await import("./_merge-case.js");
  const dir = new URL("../fixtures/forward/", import.meta.url);
  const expected = JSON.parse(readFileSync(new URL("merge-net.expected.json", dir), "utf8"));
  const outputs = await runModel(memory, readFileSync(new URL("merge-net.onnx", dir)), expected.input);
  for (const [name, want] of Object.entries(expected.outputs)) {
    const got = outputs.get(name)!;
    assertClose(read(memory, got), got.shape, want as never, name);
  }
});

test("a TF.js graph model: Transpose, StridedSlice, Reshape, Mean, SquaredDifference, ConcatV2, Greater, SelectV2, Sum", async () => {
  const { readFileSync } = await import("node:fs");
  const { runModel } = await import("./_onnx-net.js");
  const { assertClose } = await import("./_merge-case.js");
  const b = await import("../helpers/tfjs-graph-builder.js");
  const ref = JSON.parse(readFileSync(new URL("../fixtures/forward/tfjs-net.json", import.meta.url), "utf8"));
  const model = b.graphModel([
    b.placeholder("x", [-1, 4, 6]),
    b.floatConst("c", [4], ref.c.data),
    b.floatConst("tenth", [], [0.1]),
    b.floatConst("zero", [], [0]),
    b.intConst("perm", [0, 2, 1]),
    b.intConst("begin", [0, 1, 0]), b.intConst("end", [0, 5, 0]), b.intConst("strides", [1, 2, 1]),
    b.intConst("target", [-1, 8]),
    b.intConst("axis2", [2], [1]), b.intConst("axis1", [1], [1]), b.intConst("last", [-1], []),
    b.op("t", "Transpose", ["x", "perm"]),
    b.op("s", "StridedSlice", ["t", "begin", "end", "strides"], { begin_mask: { i: "5" }, end_mask: { i: "5" } }),
    b.op("r", "Reshape", ["s", "target"]),
    b.op("m", "Mean", ["x", "axis2"], { keep_dims: { b: false } }),
    b.op("d", "SquaredDifference", ["m", "c"]),
    b.op("cat", "ConcatV2", ["d", "r", "last"]),
    b.op("g", "Greater", ["cat", "zero"]),
    b.op("small", "Mul", ["cat", "tenth"]),
    b.op("sel", "SelectV2", ["g", "cat", "small"]),
    b.op("sum", "Sum", ["sel", "axis1"], { keep_dims: { b: true } }),
  ]);
  const outputs = await runModel(memory, model, ref.x, ["cat", "sel", "sum"]);
  for (const [name, key] of [["cat", "concat"], ["sel", "select"], ["sum", "sum"]]) {
    const got = outputs.get(name)!;
    assertClose(read(memory, got), got.shape, ref[key], name);
  }
});

test.run();
