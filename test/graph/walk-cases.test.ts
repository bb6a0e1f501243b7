// Small graphs written as .cnt files, whose strengths are worked by hand from the spec's
// definitions (metrics.md 1b, 2): selections along positions, a broadcast over positions, an
// absent optional recurrent output, and hostile slices. Weights: W[i][j] = 1 + 3i + j (in_out).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { encodeCntHeader } from "../../src/formats/cnt/write.js";
import type { GraphInfo, LayerInfo } from "../../src/model/types.js";
import type { Report } from "../../src/report/types.js";
import { assertAllClose } from "../helpers/close.js";
import { analyzeCntGraph } from "../helpers/cnt-graph.js";

const run = analyzeCntGraph;

const seq = (n: number, f = (i: number) => i + 1) => Array.from({ length: n }, (_, i) => f(i));
const layer = (report: Report, value: string) => {
  const n = report.nodeLayers.find((l) => l.values.includes(value));
  assert.ok(n, `no node layer holds ${value}: ${report.notes.join(" | ")}`);
  return n!.perNode!;
};
const dense = (name: string, weight: string, input: string, output: string): LayerInfo => ({ name, kind: "dense", weight, weightLayout: "in_out", inputs: [input, weight], outputs: [output] });
// W [4, 3] = 1 + 3i + j: row sums 6 + 9i, column sums 22 + 4j.
const W = { name: "wa", shape: [4, 3], values: seq(12) };

test("x[:, -1, :] of a dense layer's output (symbolic batch): one to one on the features, so the graph output's boundary reaches them", async () => {
  const r = await run(
    [dense("a", "wa", "x", "ya"), { name: "g", kind: "none", attributes: { op: "gather", axis: 1 }, inputs: ["ya", "idx"], outputs: ["g"] }],
    [W],
    { inputs: [{ name: "x", shape: [null, 5, 4], dtype: "FLOAT" }], outputs: ["g"], constants: { idx: { shape: [], values: [-1] } } },
  );
  const ya = layer(r, "ya");
  assertAllClose(ya.sIn, [22, 26, 30], 1e-12, "ya s_in: W's column sums");
  assertAllClose(ya.sOut, [1, 1, 1], 1e-12, "ya s_out: the boundary of the graph output g, which is ya's nodes");
  assertAllClose(layer(r, "x").sOut, [6, 15, 24, 33], 1e-12, "x s_out: W's row sums (positions are replicas)");
});

test("an operand broadcast over positions ([1, 1, F] times [1, T, F]) scales: the result keeps the full operand's nodes, the broadcast one gets the boundary", async () => {
  const Wb = { name: "wb", shape: [4, 3], values: seq(12, (i) => 100 + i + 1) };
  const r = await run(
    [dense("a", "wa", "x", "ya"), dense("b", "wb", "c", "yb"), { name: "mul", kind: "none", attributes: { op: "mul" }, inputs: ["ya", "yb"], outputs: ["z"] }],
    [W, Wb],
    { inputs: [{ name: "x", shape: [1, 5, 4], dtype: "FLOAT" }, { name: "c", shape: [1, 1, 4], dtype: "FLOAT" }], outputs: ["z"] },
  );
  const ya = layer(r, "z"), yb = layer(r, "yb");
  assertAllClose(ya.sIn, [22, 26, 30], 1e-12, "z's nodes are ya's: W's column sums only");
  assertAllClose(ya.sOut, [1, 1, 1], 1e-12, "z is a graph output");
  assertAllClose(yb.sIn, [422, 426, 430], 1e-12, "yb s_in: its own column sums");
  assertAllClose(yb.sOut, [1, 1, 1], 1e-12, "yb: read only as a broadcast operand, the boundary");
  assert.is.not(r.nodeLayers.find((n) => n.values.includes("z")), r.nodeLayers.find((n) => n.values.includes("yb")));
});

test("an LSTM whose Y_h is absent (outputs Y, \"\", Y_c): Y is h, the cell state is not a node layer", async () => {
  const H = 2, I = 3;
  const r = await run(
    [{ name: "lstm", kind: "lstm", weight: "W", recurrentWeight: "R", weightLayout: "out_in", attributes: { hidden: H, direction: "forward" }, inputs: ["x", "W", "R"], outputs: ["Y", "", "Yc"] }],
    [{ name: "W", shape: [4 * H, I], values: seq(4 * H * I) }, { name: "R", shape: [4 * H, H], values: seq(4 * H * H, (i) => i / 10) }],
    { inputs: [{ name: "x", shape: [5, 1, I], dtype: "FLOAT" }], outputs: ["Yc"] },
  );
  // R[r][k] = (2r + k) / 10: the links leaving h_k to the next step sum to 5.6 + 0.8k; nothing else reads h.
  assertAllClose(layer(r, "Y").sOut, [5.6, 6.4], 1e-12, "h s_out");
  assert.not.ok(r.nodeLayers.some((n) => n.values.includes("Yc")), "the cell state is not a node layer");
});

test("a Slice with step 0 (forged) ends in a report, never a hang", async () => {
  const r = await run(
    [dense("a", "wa", "x", "ya"), { name: "sl", kind: "none", attributes: { op: "slice" }, inputs: ["ya", "st", "en", "ax", "sp"], outputs: ["z"] }],
    [W],
    { inputs: [{ name: "x", shape: [1, 4], dtype: "FLOAT" }], outputs: ["ya", "z"], constants: { st: { shape: [1], values: [2] }, en: { shape: [1], values: [0] }, ax: { shape: [1], values: [1] }, sp: { shape: [1], values: [0] } } },
  );
  assertAllClose(layer(r, "x").sOut, [6, 15, 24, 33], 1e-12, "x s_out");
  assert.ok(r.notes.some((n) => n.includes("'sl'")), r.notes.join(" | "));
});

test.run();
