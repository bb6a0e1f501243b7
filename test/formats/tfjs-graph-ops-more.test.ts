// TF.js graph ops read since issue 16's first pass: PadV2 with a zero fill (as Pad), MirrorPad
// REFLECT/SYMMETRIC (the padded nodes are copies of input nodes: src/graph/ops/pad.ts, shared with
// ONNX's reflect Pad), Pack of data (a stack: nodes join), Unpack of data (a split into squeezed parts), GatherNd (a break with a known size), StridedSlice with shrink_axis_mask or
// ellipsis_mask on data (a selection), and while loops (their weights as distributions, the loop
// named in a note). Strengths worked by hand from spec metrics.md 1 and 1b:
//   conv 1x1 over 2 channels into 3, K[0, 0, c, k] = 1 + 3c + k: s_in of each output node 5 + 2k,
//   each input position's node (c) gets s_out 6 + 9c from every output position reading it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/entry/node-core.js";
import type { Report } from "../../src/report/types.js";
import { assertAllClose } from "../helpers/close.js";
import { floatConst, graphModel, intConst, ints, op, placeholder, str } from "../helpers/tfjs-graph-builder.js";

const k = floatConst("k", [1, 1, 2, 3], Array.from({ length: 6 }, (_, i) => 1 + i));
const conv = (x: string, padding = "VALID") => op("conv", "Conv2D", [x, "k"], { T: { type: "DT_FLOAT" }, strides: ints([1, 1, 1, 1]), padding: str(padding), data_format: str("NHWC") });
const layer = (r: Report, value: string) => {
  const n = r.nodeLayers.find((l) => l.values.includes(value));
  assert.ok(n, `no node layer holds ${value}: ${r.notes.join(" | ")}`);
  return n!;
};
const placed = (r: Report) => assert.equal(r.notes.filter((n) => n.includes("left out") || n.includes("cannot be placed")), [], r.notes.join(" | "));

test("PadV2 with a zero fill before a VALID conv is the conv's padding (as Pad): an input corner is read by 1 output position, the centre by 1", async () => {
  // x [1, 2, 2, 2], pads 1 on h and w: conv 1x1 VALID over the 4x4 padded map = 16 output positions; each input node read once.
  const nodes = [placeholder("x", [1, 2, 2, 2]), intConst("p", [0, 0, 1, 1, 1, 1, 0, 0], [4, 2]), floatConst("zero", [], [0]), op("pad", "PadV2", ["x", "p", "zero"]), k, conv("pad")];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  assert.is(layer(r, "conv").size, 3 * 4 * 4);
  // Output nodes on the padding read only zeros (links to nothing): s_in is the bias (none) there; inside, 5 + 2k.
  const inside = new Set([5, 6, 9, 10]);
  assertAllClose(layer(r, "conv").perNode!.sIn, Array.from({ length: 48 }, (_, i) => (inside.has(i % 16) ? 5 + 2 * Math.floor(i / 16) : 0)), 1e-12);
  assertAllClose(layer(r, "x").perNode!.sOut, [6, 6, 6, 6, 15, 15, 15, 15], 1e-12);
});

test("PadV2 with a nonzero fill is left out with a note naming the pad (never read as zeros)", async () => {
  const nodes = [placeholder("x", [1, 2, 2, 2]), intConst("p", [0, 0, 1, 1, 1, 1, 0, 0], [4, 2]), floatConst("one", [], [1]), op("pad", "PadV2", ["x", "p", "one"]), k, conv("pad")];
  const model = await inspect(graphModel(nodes));
  assert.equal(model.layers.find((l) => l.name === "pad")!.attributes!.value, 1);
  const r = await analyze(graphModel(nodes), { perNode: true });
  assert.ok(r.notes.some((n) => n.includes("'pad'")), r.notes.join(" | "));
});

for (const [mode, copies] of [["REFLECT", [1, 0, 1, 0]], ["SYMMETRIC", [0, 0, 1, 1]]] as const) {
  test(`MirrorPad ${mode} on the width (1 each side) of [1, 1, 2, 2]: the 4 padded columns copy input columns ${JSON.stringify(copies)}, whose conv row sums fold back into them`, async () => {
    const nodes = [placeholder("x", [1, 1, 2, 2]), intConst("p", [0, 0, 0, 0, 1, 1, 0, 0], [4, 2]), op("pad", "MirrorPad", ["x", "p"], { mode: str(mode) }), k, conv("pad")];
    const r = await analyze(graphModel(nodes), { perNode: true });
    placed(r);
    assert.is(layer(r, "conv").size, 3 * 4);
    // Each padded column j reads input column copies[j]; each read gives s_out 6 + 9c to that input node.
    const reads = [0, 1].map((col) => copies.filter((c) => c === col).length);
    assertAllClose(layer(r, "x").perNode!.sOut, [0, 1].flatMap((c) => reads.map((n) => n * (6 + 9 * c))), 1e-12);
    assert.ok(layer(r, "x").values.includes("pad"), "the padded value is the input's nodes, copied");
  });
}

test("Pack of two data values along a new axis 3: a stack whose channels are the two inputs' nodes joined", async () => {
  // a, b [1, 2, 2] -> stack [1, 2, 2, 2] (channel 0 from a, 1 from b) -> conv 1x1: a's nodes s_out 6, b's 15.
  const nodes = [placeholder("a", [1, 2, 2]), placeholder("b", [1, 2, 2]), op("stack", "Pack", ["a", "b"], { axis: { i: "3" }, N: { i: "2" } }), k, conv("stack")];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  // a and b join the stack's node layer (channel-major: channel 0 is a, 1 is b).
  assert.ok(["a", "b", "stack"].every((v) => layer(r, "a").values.includes(v)), layer(r, "a").values.join(", "));
  assertAllClose(layer(r, "a").perNode!.sOut, [6, 6, 6, 6, 15, 15, 15, 15], 1e-12);
  assertAllClose(layer(r, "conv").perNode!.sIn, [5, 5, 5, 5, 7, 7, 7, 7, 9, 9, 9, 9], 1e-12);
});

test("StridedSlice with shrink_axis_mask (x[:, :, :, 1]) and ellipsis_mask (x[..., 0:2]) on data: selections by constant indices", async () => {
  // x [1, 2, 2, 4] -> y = x[..., 0:2] [1, 2, 2, 2] -> conv: channels 0, 1 of x read (6, 15); 2, 3 not read by the conv.
  const ellipsis = [placeholder("x", [1, 2, 2, 4]), intConst("b", [0, 0]), intConst("e", [0, 2]), intConst("s", [1, 1]), op("y", "StridedSlice", ["x", "b", "e", "s"], { ellipsis_mask: { i: "1" } }), k, conv("y")];
  const r = await analyze(graphModel(ellipsis), { perNode: true });
  placed(r);
  // x's nodes channel-major: (c, y, x) -> 4 channels x 4 positions.
  assertAllClose(layer(r, "x").perNode!.sOut, [6, 6, 6, 6, 15, 15, 15, 15, 0, 0, 0, 0, 0, 0, 0, 0], 1e-12);
  // x[:, :, :, 1] of [1, 2, 2, 2] -> [1, 2, 2] -> ExpandDims(3) -> conv 1x1 with K[0, 0, 0, k] = 1 + k: channel 1 read (6), channel 0 not.
  const shrink = [
    placeholder("x", [1, 2, 2, 2]), intConst("b", [0, 0, 0, 1]), intConst("e", [0, 0, 0, 2]), intConst("s", [1, 1, 1, 1]),
    op("y", "StridedSlice", ["x", "b", "e", "s"], { begin_mask: { i: "7" }, end_mask: { i: "7" }, shrink_axis_mask: { i: "8" } }),
    intConst("three", [3], []), op("y4", "ExpandDims", ["y", "three"]), floatConst("k", [1, 1, 1, 3], [1, 2, 3]), conv("y4"),
  ];
  const model = await inspect(graphModel(shrink));
  assert.equal(model.layers.find((l) => l.name === "y/slice")!.attributes, { op: "slice", starts: [1], ends: [2], axes: [3], steps: [1], tf: "StridedSlice" });
  assert.equal(model.layers.find((l) => l.name === "y")!.attributes, { op: "squeeze", axes: [3], tf: "StridedSlice" });
  const r2 = await analyze(graphModel(shrink), { perNode: true });
  placed(r2);
  // x's channel axis is cut away, not a map's channel for the walk: its nodes stay in the file's (y, x, c) order.
  assertAllClose(layer(r2, "x").perNode!.sOut, [0, 6, 0, 6, 0, 6, 0, 6], 1e-12);
});

test("Unpack of data (axis 3, num 2): a split into one-index parts, each squeezed (a selection); part 1 read by a conv, part 0 a graph output", async () => {
  // x [1, 2, 2, 2] -> u, u:1 [1, 2, 2]; u:1 -> ExpandDims(3) -> conv 1x1 with K = [1, 2, 3]: channel 1 of x gets 6 per node; u is an output (boundary 1).
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), op("u", "Unpack", ["x"], { num: { i: "2" }, axis: { i: "3" } }), intConst("three", [3], []),
    op("u1", "ExpandDims", ["u:1", "three"]), floatConst("k", [1, 1, 1, 3], [1, 2, 3]), conv("u1"), op("out", "Identity", ["u"]),
  ];
  const model = await inspect(graphModel(nodes));
  assert.equal(model.layers.find((l) => l.name === "u/split")!.outputs, ["u/part_0", "u/part_1"]);
  assert.equal(model.layers.find((l) => l.name === "u/squeeze_1")!.outputs, ["u:1"]);
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  // x's channel axis is cut away, not a map's channel: its nodes in the file's (y, x, c) order.
  assertAllClose(layer(r, "x").perNode!.sOut, [1, 6, 1, 6, 1, 6, 1, 6], 1e-12);
});

test("Pack of every Unpack part of one value: the stack is the same 8 nodes as its input, not 8 plus a second copy of one part", async () => {
  // x [1, 2, 2, 2] -> Unpack axis 3 -> Pack axis 3 -> conv 1x1 (K[0, 0, c, k] = 1 + 3c + k): x's channel-c nodes get s_out 6 + 9c.
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), op("u", "Unpack", ["x"], { num: { i: "2" }, axis: { i: "3" } }),
    op("p", "Pack", ["u", "u:1"], { N: { i: "2" }, axis: { i: "3" } }), k, conv("p"),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  const x = layer(r, "x");
  assert.is(x.size, 8);
  assert.ok(x.values.includes("p"), "the stack joins x's node layer");
  assertAllClose(x.perNode!.sOut, [6, 15, 6, 15, 6, 15, 6, 15], 1e-12, "x's (y, x, c) order");
  assertAllClose(x.perNode!.sIn, new Array(8).fill(1), 1e-12, "a graph input: the boundary");
  assertAllClose(layer(r, "conv").perNode!.sIn, [5, 5, 5, 5, 7, 7, 7, 7, 9, 9, 9, 9], 1e-12, "channel-major, 5 + 2k");
});

test("Pack of the Unpack parts in swapped order: the node layer lists its nodes in the order of its first value x (spec 1b), not the stack's", async () => {
  // p's channel 0 is x's channel 1 and vice versa; the conv gives p's channel c the s_out 6 + 9c, so x's channel 0 gets 15 and
  // channel 1 gets 6. x's order is the file's (y, x, c) (NHWC, no conv reads x itself): [15, 6] at each of the 4 positions.
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), op("u", "Unpack", ["x"], { num: { i: "2" }, axis: { i: "3" } }),
    op("p", "Pack", ["u:1", "u"], { N: { i: "2" }, axis: { i: "3" } }), k, conv("p"),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  const x = layer(r, "x");
  assert.is(x.size, 8);
  assertAllClose(x.perNode!.sOut, [15, 6, 15, 6, 15, 6, 15, 6], 1e-12);
});

test("GatherNd (indices [1, 2, 2] into x [1, 4, 3]: output [1, 2, 3]) is a break with a known size, so the dense layer after it is placed", async () => {
  // MatMul W [3, 2] = [[1, 2], [3, 4], [5, 6]] (in_out): its input nodes get the row sums 3, 7, 11; its outputs the column sums 9, 12.
  const nodes = [
    placeholder("x", [1, 4, 3]), intConst("idx", [0, 1, 0, 3], [1, 2, 2]), op("g", "GatherNd", ["x", "idx"]),
    floatConst("w", [3, 2], [1, 2, 3, 4, 5, 6]), op("y", "MatMul", ["g", "w"]),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  assert.is(r.coverage.inStrengths, 1);
  assertAllClose(layer(r, "g").perNode!.sIn, [1, 1, 1], 1e-12, "a break's output: the boundary");
  assertAllClose(layer(r, "g").perNode!.sOut, [3, 7, 11], 1e-12);
  assertAllClose(layer(r, "y").perNode!.sIn, [9, 12], 1e-12);
  assertAllClose(layer(r, "x").perNode!.sOut, new Array(12).fill(1), 1e-12, "read only by a break: the boundary");
});

test("a While loop: every weight its body reads is a distribution, and a note names the loop and its body", async () => {
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), k, conv("x"), intConst("n", [3], []),
    op("loop", "StatelessWhile", ["n", "conv"], { body: { func: { name: "body_fn" } }, cond: { func: { name: "cond_fn" } }, T: { list: { type: ["DT_INT32", "DT_FLOAT"] } } }),
    floatConst("loop/body/w", [3], [1, 2, 3]),
  ];
  const library = { function: [{ signature: { name: "body_fn" }, nodeDef: [{ name: "loop/body/w", op: "Const" }, { name: "mul", op: "Mul", input: ["x", "loop/body/w"] }] }, { signature: { name: "cond_fn" }, nodeDef: [] }] };
  const r = await analyze(graphModel(nodes, { library }), { perNode: true });
  assert.ok(r.layers.some((l) => l.name === "loop/body/w"), r.layers.map((l) => l.name).join(", "));
  assert.ok(r.notes.some((n) => n.includes("'loop'") && n.includes("'body_fn'") && n.includes("loop/body/w")), r.notes.join(" | "));
});

test.run();
