// TF.js graph models: the sizes of ResizeBilinear / ResizeNearestNeighbor (size from a constant or
// from folded shape arithmetic) and DepthToSpace / SpaceToDepth (block size from attrs, NHWC)
// outputs, so the node layers after them are placed (src/graph/shapes.ts). Strengths worked by
// hand: a 1x1 conv with filter K[0, 0, c, k] = 1 + 3c + k over 2 channels into 3 gives s_in of its
// output nodes 5 + 2k ([5, 7, 9] at every position) and s_out of its input nodes 6 + 9c ([6, 15]);
// a resize or DepthToSpace is a break (spec 1b), so the nodes before it get the boundary (1).
// Real models: @vladmandic/human 3.3.6's detectors. Placed weighted layers: centernet 73 -> 88 (resize
// sizes) -> 89 of 89 (FloorMod, a gather by top-k indices as a break); MoveNet 64 -> 72 -> 74 of 74 (the
// int32 image cast to floats, a keypoint broadcast against the position grid as a repeat); handtrack
// 0 of 0 (a TF1 while loop stopped the whole graph) -> 123 of 123 (the loop read as a map, NMS a break).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { readFileSync } from "node:fs";
import { analyzeFile } from "../../src/node/index.js";
import type { Report } from "../../src/report/types.js";
import { assertAllClose, assertClose } from "../helpers/close.js";
import { floatConst, graphModel, intConst, ints, op, placeholder, str } from "../helpers/tfjs-graph-builder.js";

const filter = floatConst("k", [1, 1, 2, 3], Array.from({ length: 6 }, (_, i) => 1 + i));
const conv = (x: string) => op("conv", "Conv2D", [x, "k"], { T: { type: "DT_FLOAT" }, strides: ints([1, 1, 1, 1]), padding: str("VALID"), data_format: str("NHWC") });
const layer = (r: Report, value: string) => {
  const n = r.nodeLayers.find((l) => l.values.includes(value));
  assert.ok(n, `no node layer holds ${value}: ${r.notes.join(" | ")}`);
  return n!;
};
const tile = (per: number[], positions: number) => Array.from({ length: per.length * positions }, (_, i) => per[Math.floor(i / positions)]);

function check(r: Report, middle: string, hw: number) {
  assert.equal(r.notes.filter((n) => n.includes("left out") || n.includes("cannot be placed")), [], r.notes.join(" | "));
  assert.is(r.coverage.inStrengths, 1);
  const mid = layer(r, middle), out = layer(r, "conv");
  assert.is(mid.size, 2 * hw * hw);
  assert.is(out.size, 3 * hw * hw);
  // Channel-major node order (c, y, x).
  assertAllClose(mid.perNode!.sOut, tile([6, 15], hw * hw), 1e-12, "s_out before the conv: its filter's sums over k");
  assertAllClose(mid.perNode!.sIn, tile([1, 1], hw * hw), 1e-12, "s_in after a break: the boundary");
  assertAllClose(out.perNode!.sIn, tile([5, 7, 9], hw * hw), 1e-12, "s_in of the conv's output: the filter's sums over c");
}

test("ResizeBilinear with a constant size [4, 4]: [1, 2, 2, 2] -> [1, 4, 4, 2], the conv after it placed", async () => {
  const nodes = [placeholder("x", [1, 2, 2, 2]), intConst("size", [4, 4]), op("resize", "ResizeBilinear", ["x", "size"]), filter, conv("resize")];
  check(await analyze(graphModel(nodes), { perNode: true }), "resize", 4);
});

test("ResizeNearestNeighbor with its size folded from the input's shape (Shape -> StridedSlice [1:3] -> Mul 2)", async () => {
  const nodes = [
    placeholder("x", [1, 2, 2, 2]), op("shape", "Shape", ["x"]), intConst("b", [1]), intConst("e", [3]), intConst("s", [1]),
    op("hw", "StridedSlice", ["shape", "b", "e", "s"]), intConst("two", [2], []), op("size", "Mul", ["hw", "two"]),
    op("resize", "ResizeNearestNeighbor", ["x", "size"]), filter, conv("resize"),
  ];
  check(await analyze(graphModel(nodes), { perNode: true }), "resize", 4);
});

test("DepthToSpace block 2 (NHWC): [1, 2, 2, 8] -> [1, 4, 4, 2]; SpaceToDepth back: [1, 4, 4, 2] -> [1, 2, 2, 8]", async () => {
  const d2s = [placeholder("x", [1, 2, 2, 8]), op("d2s", "DepthToSpace", ["x"], { block_size: { i: "2" }, data_format: str("NHWC") }), filter, conv("d2s")];
  check(await analyze(graphModel(d2s), { perNode: true }), "d2s", 4);
  const k8 = floatConst("k", [1, 1, 8, 1], Array.from({ length: 8 }, (_, c) => c + 1));
  const s2d = [placeholder("x", [1, 4, 4, 2]), op("s2d", "SpaceToDepth", ["x"], { block_size: { i: "2" } }), k8, conv("s2d")];
  const r = await analyze(graphModel(s2d), { perNode: true });
  assert.is(layer(r, "s2d").size, 8 * 2 * 2);
  assertAllClose(layer(r, "conv").perNode!.sIn, tile([36], 4), 1e-12, "1 + 2 + ... + 8 into each position");
  assertAllClose(layer(r, "s2d").perNode!.sOut, tile([1, 2, 3, 4, 5, 6, 7, 8], 4), 1e-12);
});

const human = "node_modules/@vladmandic/human/models";
/** test/fixtures/tfjs/graph-model/make_human_detectors.py: numpy over the shards, structure asserted on the GraphDef. */
const reference = JSON.parse(readFileSync("test/fixtures/tfjs/graph-model/human-detectors.reference.json", "utf8")) as Record<string, {
  weightedLayers: number;
  layers: { value: string; size: number; sIn?: Stats; sOut: Stats; sInPerChannel?: number[]; positions?: number; sOutPerNode?: number[] }[];
}>;
interface Stats { mean: number; std: number; min: number; max: number }

for (const name of ["handtrack", "centernet", "movenet-lightning"]) {
  test(`@vladmandic/human ${name}: every weighted layer placed; the node layers left out before match the float64 reference`, async () => {
    const ref = reference[name];
    const r = await analyzeFile(`${human}/${name}.json`, { perNode: true });
    assert.equal([r.coverage.inStrengths, r.coverage.weightedLayers], [ref.weightedLayers, ref.weightedLayers], r.notes.join(" | "));
    assert.equal(r.notes.filter((n) => n.includes("cycle") || n.includes("could not place")), [], r.notes.join(" | "));
    for (const e of ref.layers) {
      const n = r.nodeLayers.find((l) => l.values.includes(e.value));
      assert.ok(n, `${name}: no node layer holds ${e.value}`);
      assert.is(n!.size, e.size, `${name} ${e.value}: size`);
      const stats = (d: { mean: number | null; std: number | null; min: number | null; max: number | null }, x: Stats, what: string) => {
        for (const k of ["mean", "std", "min", "max"] as const) assertClose(d[k], x[k], 1e-9, `${name} ${e.value} ${what} ${k}`);
      };
      if (e.sIn) stats(n!.strengthIn, e.sIn, "sIn");
      stats(n!.strengthOut, e.sOut, "sOut");
      // Maps list their nodes channel-major: a channel's value at each of its positions.
      if (e.sInPerChannel) assertAllClose(n!.perNode!.sIn, tile(e.sInPerChannel, e.positions!), 1e-9, `${name} ${e.value} sIn per node`);
      if (e.sOutPerNode) assertAllClose(n!.perNode!.sOut.slice(0, e.sOutPerNode.length), e.sOutPerNode, 1e-9, `${name} ${e.value} sOut per node`);
    }
  });
}

test.run();
