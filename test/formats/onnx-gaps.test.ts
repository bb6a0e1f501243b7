// ONNX ops that used to end the node layers (issue 15's gaps). Node strengths of pad-conv,
// einsum-dense, bias-add and if-const are checked against their float64 references by
// test/graph/graph-references.test.ts (fixtures in test/fixtures/graph/onnx/, made by
// make_onnx_exports.py gaps); this file checks what those references do not: the Einsum equations
// read as dense layers, and the notes and distributions of ops the walk does not enter.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { analyze } from "../../src/entry/node-core.js";
import { einsumAsDense } from "../../src/formats/onnx/einsum.js";
import { assertClose } from "../helpers/close.js";
import { attrInts, attrString, f32, graph, model, node, tensor, valueInfo } from "./onnx-wire.js";

/** x [1, 1, 3, 3] -> Pad(pads, mode) -> Conv(3x3 of ones, no pads) -> y: a tf2onnx-style Pad whose pads are an int64 initializer. */
function padConv(pads: number[], mode: string): Uint8Array {
  const int64 = new Uint8Array(BigInt64Array.from(pads.map(BigInt)).buffer);
  return model(graph(
    [node("Pad", ["x", "pads"], ["p"], "pad", [attrString("mode", mode)]), node("Conv", ["p", "K"], ["y"], "conv", [attrInts("kernel_shape", [3, 3])])],
    [tensor({ name: "pads", dataType: 7, dims: [8], raw: int64 }), tensor({ name: "K", dims: [1, 1, 3, 3], raw: f32(new Array(9).fill(1)) })],
    [valueInfo("x", [1, 1, 3, 3])],
  ));
}

test("Einsum with a constant matrix: the spellings of a dense layer, by which axis the weight contracts", () => {
  assert.equal(einsumAsDense("bij,jk->bik", 1), { layout: "in_out" });
  assert.equal(einsumAsDense("bsh,hd->bsd", 1), { layout: "in_out" });
  assert.equal(einsumAsDense("...i,oi->...o", 1), { layout: "out_in" });
  assert.equal(einsumAsDense("oi,...i->...o", 0), { layout: "out_in" });
  assert.equal(einsumAsDense(" ij , jk -> ik ", 1), { layout: "in_out" });
  for (const [equation, at] of [["bi,ij->jb", 1], ["bij,ij->b", 1], ["bsh,hd", 1], ["bsh,hd->bsd,x", 1], ["bh,hd,de->be", 1], ["b1,1d->bd", 1], ["bhi,hio->bho", 1]] as const) {
    const got = einsumAsDense(equation, at);
    assert.ok("why" in got, `${equation}: not a dense layer`);
  }
});

test("a Loop body's weights and an Einsum that is not a dense layer: every distribution, a note for each", async () => {
  const expected = JSON.parse(readFileSync("test/fixtures/graph/onnx/loop-notes.distributions.json", "utf8")) as { tensors: Record<string, { count: number; mean: number; std: number; min: number; max: number }> };
  const report = await analyzeFile("test/fixtures/graph/onnx/loop-notes.onnx", { perNode: true });
  for (const [tensor, e] of Object.entries(expected.tensors)) {
    const layer = report.layers.find((l) => l.tensors.weight === tensor);
    assert.ok(layer?.linkWeights, `${tensor}: a link-weight distribution`);
    assert.is(layer!.linkWeights!.count, e.count);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(layer!.linkWeights![k]!, e[k], 1e-9, `${tensor} ${k}`, 1e-3);
  }
  assert.ok(report.notes.some((n) => n.includes("'recur'") && n.includes("'loop_body'") && n.includes("'Wb'")), report.notes.join(" | "));
  assert.ok(report.notes.some((n) => n.includes("'mix'") && n.includes("bi,ij->jb") && n.includes("not read as a dense layer")), report.notes.join(" | "));
});

test("an If with a constant condition: a note says which branch is walked", async () => {
  const report = await analyzeFile("test/fixtures/graph/onnx/if-const.onnx");
  assert.ok(report.notes.some((n) => n.includes("'branch'") && n.includes("then branch")), report.notes.join(" | "));
  assert.ok(report.layers.find((l) => l.tensors.weight === "We")?.linkWeights, "the branch not taken keeps its distributions");
});

test("ONNX tensors stacked by direction: reported per direction and whole (an entry of kind other under the op's name)", async () => {
  const report = await analyzeFile("test/fixtures/graph/onnx/bilstm-clf.onnx");
  const whole = report.layers.find((l) => l.kind === "other" && l.recurrentWeights);
  assert.ok(whole, report.layers.map((l) => `${l.name}:${l.kind}`).join(", "));
  const directions = report.layers.filter((l) => l.kind === "lstm");
  assert.equal(directions.map((l) => l.name), [`${whole!.name}.forward`, `${whole!.name}.reverse`]);
  assert.equal(directions.map((l) => l.tensors.weight), [`${whole!.tensors.weight}[forward]`, `${whole!.tensors.weight}[reverse]`]);
  // The whole tensor's values are the two directions' together (the statistics themselves: graph-references.test.ts).
  assert.is(whole!.linkWeights!.count, directions[0].linkWeights!.count + directions[1].linkWeights!.count);
  assert.is(whole!.recurrentWeights!.count, directions[0].recurrentWeights!.count + directions[1].recurrentWeights!.count);
  assert.is(report.coverage.weightedLayers, 2, "the whole entry is no graph op");
});

test("a zero Pad by an initializer before a conv is its padding: worked by hand on a 3x3 map and a 3x3 kernel of ones", async () => {
  const report = await analyze(padConv([0, 0, 1, 1, 0, 0, 1, 1], "constant"), { name: "pad.onnx", perNode: true });
  // Each input node is read by the placements whose window holds it (corners 4, edges 6, centre 9); each output
  // node reads the taps that land on input nodes, not on the padded zeros (the same counts).
  const taps = [4, 6, 4, 6, 9, 6, 4, 6, 4];
  const [x, y] = report.nodeLayers;
  assert.equal(report.coverage, { weightedLayers: 1, inStrengths: 1 });
  assert.equal(Array.from(x.perNode!.sIn), new Array(9).fill(1));
  assert.equal(Array.from(x.perNode!.sOut), taps);
  assert.equal(Array.from(y.perNode!.sIn), taps);
  assert.equal(Array.from(y.perNode!.sOut), new Array(9).fill(0), "the graph declares no output: no boundary");
});

test("an edge Pad by a billion: no node layer past the limit is ever built, a note says what was left out", async () => {
  const report = await analyze(padConv([0, 0, 1e9, 1e9, 0, 0, 1e9, 1e9], "edge"), { name: "pad.onnx" });
  assert.is(report.coverage.inStrengths, 0);
  assert.ok(report.notes.some((n) => n.includes("maxLayerNodes") || n.includes("'pad'")), report.notes.join(" | "));
});

test.run();
