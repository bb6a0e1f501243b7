// Detector post-processing in TF.js graph models (@vladmandic/human's centernet, MoveNet and
// handtrack), each rule on a small GraphDef with strengths worked by hand from spec metrics.md 1b:
// a 1x1 conv over 2 channels into 3 with K[0, 0, c, k] = 1 + 3c + k gives s_in of its output
// nodes 5 + 2k ([5, 7, 9] at every position) and s_out of its input nodes 6 + 9c ([6, 15]).
//   - an integer image (uint8 / int32 graph input) cast to floats: the graph input's nodes (s_in 1)
//   - a gather by indices from data (TopK picks, then FloorMod of them): a break, so the conv's
//     output, read only by breaks, gets the boundary s_out 1
//   - a Slice that takes an axis whole and cuts another: a selection along the cut axis only
//   - one data operand that constants broadcast to more nodes (a keypoint against a grid of
//     positions): a repeat, a break; its nodes then join the map it divides (s_in + 1)
// Each case left the conv's node layers out before (a note), so these fail on the old walk.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import type { Report } from "../../src/report/types.js";
import { assertAllClose } from "../helpers/close.js";
import { floatConst, graphModel, intConst, ints, op, placeholder, str } from "../helpers/tfjs-graph-builder.js";

const k = floatConst("k", [1, 1, 2, 3], Array.from({ length: 6 }, (_, i) => 1 + i));
const conv = (x: string) => op("conv", "Conv2D", [x, "k"], { T: { type: "DT_FLOAT" }, strides: ints([1, 1, 1, 1]), padding: str("VALID"), data_format: str("NHWC") });
const tile = (per: number[], positions: number) => Array.from({ length: per.length * positions }, (_, i) => per[Math.floor(i / positions)]);
const layer = (r: Report, value: string) => {
  const n = r.nodeLayers.find((l) => l.values.includes(value));
  assert.ok(n, `no node layer holds ${value}: ${r.notes.join(" | ")}`);
  return n!;
};
const placed = (r: Report) => assert.equal(r.notes.filter((n) => n.includes("left out") || n.includes("cannot be placed")), [], r.notes.join(" | "));
const intInput = (name: string, dtype: string) => ({ name, op: "Placeholder", attr: { dtype: { type: dtype }, shape: { shape: { dim: [1, 2, 2, 2].map((d) => ({ size: String(d) })) } } } });

test("an int32 or uint8 image cast to floats is the graph input's nodes: s_in the boundary, s_out the conv's", async () => {
  for (const dtype of ["DT_INT32", "DT_UINT8"]) {
    const nodes = [intInput("image", dtype), op("x", "Cast", ["image"], { SrcT: { type: dtype }, DstT: { type: "DT_FLOAT" } }), k, conv("x")];
    const r = await analyze(graphModel(nodes), { perNode: true });
    placed(r);
    assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [1, 1], dtype);
    assertAllClose(layer(r, "x").perNode!.sIn, tile([1, 1], 4), 1e-12, `${dtype}: s_in of an input`);
    assertAllClose(layer(r, "x").perNode!.sOut, tile([6, 15], 4), 1e-12, `${dtype}: s_out`);
    assertAllClose(layer(r, "conv").perNode!.sIn, tile([5, 7, 9], 4), 1e-12);
  }
});

test("a gather by data indices (TopKV2 picks through FloorMod) is a break: the conv's output nodes get s_out 1", async () => {
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), k, conv("x"), intConst("flat", [1, 12]), op("r", "Reshape", ["conv", "flat"]), intConst("two", [2], []),
    op("topk", "TopKV2", ["r", "two"]), intConst("three", [3], []), op("mod", "FloorMod", ["topk:1", "three"]), intConst("axis", [1], []),
    op("picked", "GatherV2", ["r", "mod", "axis"], { batch_dims: { i: "1" } }), op("out", "Identity", ["picked"]),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  assert.equal(r.notes, [], r.notes.join(" | "));
  assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [1, 1]);
  assertAllClose(layer(r, "conv").perNode!.sIn, tile([5, 7, 9], 4), 1e-12);
  assertAllClose(layer(r, "conv").perNode!.sOut, tile([1, 1, 1], 4), 1e-12, "read only by breaks (TopK, the gather by data)");
});

test("a Slice that takes the positions whole and channels 1..2: the selected channels carry the graph output's boundary, channel 0 none", async () => {
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), k, conv("x"), intConst("begin", [0, 0, 0, 1]), intConst("size", [-1, 2, 2, -1]),
    op("sliced", "Slice", ["conv", "begin", "size"]), op("out", "Identity", ["sliced"]),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [1, 1]);
  assertAllClose(layer(r, "conv").perNode!.sOut, tile([0, 1, 1], 4), 1e-12);
  assertAllClose(layer(r, "conv").perNode!.sIn, tile([5, 7, 9], 4), 1e-12);
});

test("a keypoint broadcast against a grid of positions (Sub of a [2, 2, 1] constant and a [1, 3] value) is a repeat: a break whose nodes join the heatmap it divides", async () => {
  // heat = Sigmoid(conv), kp = Max over the map (a break), d = grid - kp [2, 2, 3], out = heat / d (a graph output).
  // heat and d are read only by the division: they join. s_in = conv's [5, 7, 9] + 1 (d's nodes come out of a break);
  // s_out = 1 (out is a graph output). conv's own value is also read by the Max, a break, but not only by breaks.
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), k, conv("x"), op("heat", "Sigmoid", ["conv"]), intConst("hw", [1, 2]),
    op("kp", "Max", ["conv", "hw"], { keep_dims: { b: false } }), floatConst("grid", [2, 2, 1], [0, 1, 2, 3]),
    op("d", "Sub", ["grid", "kp"]), op("out", "RealDiv", ["heat", "d"]),
  ];
  const r = await analyze(graphModel(nodes), { perNode: true });
  placed(r);
  assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [1, 1]);
  const heat = layer(r, "heat");
  assert.ok(heat.values.includes("out") && heat.values.includes("d"), heat.values.join(", "));
  assertAllClose(heat.perNode!.sIn, tile([6, 8, 10], 4), 1e-12);
  assertAllClose(heat.perNode!.sOut, tile([1, 1, 1], 4), 1e-12);
});

test.run();
