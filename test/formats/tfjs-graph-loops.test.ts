// TF.js graph models with TF1-style while loops (Enter, Merge, Switch, NextIteration, Exit,
// LoopCond and TensorList ops; src/formats/tfjs/graph-loops.ts). Strengths worked by hand, as in
// tfjs-graph-sizes.test.ts: a 1x1 conv with filter K[0, 0, c, k] = 1 + 3c + k over 2 channels into
// 3 gives s_in of its output nodes 5 + 2k ([5, 7, 9] at every position) and s_out of its input
// nodes 6 + 9c ([6, 15]). A tf.map_fn over the batch whose body only scales its row by a constant is
// one to one: the conv after the loop reads the graph input's nodes (s_in the boundary, 1).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import type { Report } from "../../src/report/types.js";
import { assertAllClose } from "../helpers/close.js";
import { floatConst, graphModel, intConst, ints, op, placeholder, str } from "../helpers/tfjs-graph-builder.js";

const filter = floatConst("k", [1, 1, 2, 3], Array.from({ length: 6 }, (_, i) => 1 + i));
const conv = (name: string, x: string, k = "k") => op(name, "Conv2D", [x, k], { T: { type: "DT_FLOAT" }, strides: ints([1, 1, 1, 1]), padding: str("VALID"), data_format: str("NHWC") });
const tile = (per: number[], positions: number) => Array.from({ length: per.length * positions }, (_, i) => per[Math.floor(i / positions)]);
const frame = { frame_name: str("map/while"), is_constant: { b: false }, parallel_iterations: { i: "32" } };
const layer = (r: Report, value: string) => {
  const n = r.nodeLayers.find((l) => l.values.includes(value));
  assert.ok(n, `no node layer holds ${value}: ${r.notes.join(" | ")}`);
  return n!;
};

/**
 * tf.map_fn(body, x) as tfjs-converter writes it: the rows of x in a tensor list, a counter i and
 * a limit n, an accumulator list filled at i, stacked after the loop; `body(item)` gives the nodes
 * that compute the row written (reading the value "item") and the name of that row.
 */
function mapLoop(body: (item: string) => { nodes: Record<string, unknown>[]; row: string }, extra: { enterData?: boolean } = {}) {
  const b = body("item");
  return [
    placeholder("x", [1, 2, 2, 2]), intConst("rowShape", [2, 2, 2]), intConst("n", [1], []), intConst("zero", [0], []), intConst("one", [1], []),
    op("rows", "TensorListFromTensor", ["x", "rowShape"]), op("reserve", "TensorListReserve", ["rowShape", "n"]),
    op("enter_i", "Enter", ["zero"], frame), op("enter_rows", "Enter", ["rows"], frame), op("enter_acc", "Enter", ["reserve"], frame), op("enter_n", "Enter", ["n"], frame),
    ...(extra.enterData ? [op("enter_x", "Enter", ["x"], frame), op("merge_x", "Merge", ["enter_x", "next_x"]), op("switch_x", "Switch", ["merge_x", "cond"]), op("next_x", "NextIteration", ["switch_x:1"])] : []),
    op("merge_i", "Merge", ["enter_i", "next_i"]), op("merge_rows", "Merge", ["enter_rows", "next_rows"]), op("merge_acc", "Merge", ["enter_acc", "next_acc"]), op("merge_n", "Merge", ["enter_n", "next_n"]),
    op("less", "Less", ["merge_i", "merge_n"]), op("cond", "LoopCond", ["less"]),
    op("switch_i", "Switch", ["merge_i", "cond"]), op("switch_rows", "Switch", ["merge_rows", "cond"]), op("switch_acc", "Switch", ["merge_acc", "cond"]), op("switch_n", "Switch", ["merge_n", "cond"]),
    op("item", "TensorListGetItem", ["switch_rows:1", "switch_i:1", "rowShape"]), ...b.nodes,
    op("set", "TensorListSetItem", ["switch_acc:1", "switch_i:1", b.row]), op("inc", "AddV2", ["switch_i:1", "one"]),
    op("next_i", "NextIteration", ["inc"]), op("next_rows", "NextIteration", ["switch_rows:1"]), op("next_acc", "NextIteration", ["set"]), op("next_n", "NextIteration", ["switch_n:1"]),
    op("exit_acc", "Exit", ["switch_acc"]), op("exit_i", "Exit", ["switch_i"]),
    op("stack", "TensorListStack", ["exit_acc", "rowShape"], { num_elements: { i: "1" } }),
    filter, conv("conv", "stack"),
  ];
}

test("a tf.map_fn loop without weights (row times 2): the conv after it is placed on the input's nodes, values through the loop join them", async () => {
  const nodes = mapLoop((item) => ({ nodes: [floatConst("two", [], [2]), op("scaled", "Mul", ["two", item])], row: "scaled" }));
  const r = await analyze(graphModel(nodes), { perNode: true });
  assert.equal(r.notes, []);
  assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [1, 1]);
  const input = layer(r, "x");
  for (const v of ["rows", "item", "scaled", "set", "exit_acc", "stack"]) assert.ok(input.values.includes(v), `${v} is one of the input's values: ${input.values.join(", ")}`);
  assert.is(input.size, 8);
  assertAllClose(input.perNode!.sOut, tile([6, 15], 4), 1e-12, "s_out of the input: the conv's filter sums over k");
  assertAllClose(input.perNode!.sIn, tile([1, 1], 4), 1e-12, "s_in of a graph input: the boundary");
  assertAllClose(layer(r, "conv").perNode!.sIn, tile([5, 7, 9], 4), 1e-12);
});

test("a map loop whose body holds a weighted op is not walked: a note names it and the weight, which is a distribution; the ops after it are still read", async () => {
  const inner = floatConst("inner", [1, 1, 2, 2], [1, 0, 0, 1]);
  const nodes = mapLoop((item) => ({ nodes: [op("row4", "ExpandDims", [item, "zero"]), inner, conv("innerConv", "row4", "inner"), op("row", "Squeeze", ["innerConv"], { squeeze_dims: ints([0]) })], row: "row" }));
  const r = await analyze(graphModel(nodes), { perNode: true });
  assert.ok(r.notes.some((n) => n.includes("'map/while'") && n.includes("is not walked") && n.includes("weighted op (Conv2D)") && n.includes("'inner'")), r.notes.join(" | "));
  assert.not.ok(r.notes.some((n) => n.includes("cycle")), r.notes.join(" | "));
  const inside = r.layers.find((l) => l.name === "inner");
  assert.ok(inside?.linkWeights, "the loop's weight is a distribution");
  // The conv after the loop is a weighted layer of the graph, whose input the walk cannot place.
  assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [0, 1]);
});

test("a loop that reads a data value whole (not as rows of a tensor list) is not walked", async () => {
  const nodes = mapLoop((item) => ({ nodes: [floatConst("two", [], [2]), op("scaled", "Mul", ["two", item]), op("plus", "AddV2", ["scaled", "switch_x:1"])], row: "plus" }), { enterData: true });
  const r = await analyze(graphModel(nodes), { perNode: true });
  assert.ok(r.notes.some((n) => n.includes("'map/while'") && n.includes("is not walked") && n.includes("enters it whole")), r.notes.join(" | "));
  assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [0, 1]);
});

test("StridedSlice that only adds an axis (x[tf.newaxis]) is an unsqueeze: one to one", async () => {
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), intConst("zero", [0], []), op("row", "Squeeze", ["x"], { squeeze_dims: ints([0]) }),
    intConst("b", [0, 0, 0, 0]), intConst("e", [0, 0, 0, 0]), intConst("s", [1, 1, 1, 1]),
    op("batch", "StridedSlice", ["row", "b", "e", "s"], { new_axis_mask: { i: "1" }, begin_mask: { i: "14" }, end_mask: { i: "14" }, shrink_axis_mask: { i: "0" }, ellipsis_mask: { i: "0" } }),
    filter, conv("conv", "batch"),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  assert.equal(r.notes, []);
  assert.ok(layer(r, "x").values.includes("batch"));
  assertAllClose(layer(r, "x").perNode!.sOut, tile([6, 15], 4), 1e-12);
});

test("malformed loops give reports, never a refusal: 100 nested frames, a Merge fed back without Enter (a cycle, left out with a note)", async () => {
  const nested = [placeholder("x", [1, 2, 2, 2])];
  for (let i = 0; i < 100; i++) nested.push(op(`enter${i}`, "Enter", [i === 0 ? "x" : `enter${i - 1}`], { frame_name: str(`f${i}`) }));
  nested.push(op("exit", "Exit", ["enter99"]), filter, conv("conv", "exit"));
  const deep = await analyze(graphModel(nested), { perNode: true });
  assert.ok(deep.notes.some((n) => n.includes("is not walked")), deep.notes.join(" | "));
  const cyclic = [placeholder("x", [1, 2, 2, 2]), op("merge", "Merge", ["x", "next"]), op("next", "NextIteration", ["merge"]), op("exit", "Exit", ["merge"]), filter, conv("conv", "exit")];
  const r = await analyze(graphModel(cyclic), { perNode: true });
  assert.ok(r.notes.some((n) => n.includes("cycle")), r.notes.join(" | "));
});

test.run();
