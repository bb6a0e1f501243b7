// Binary ops whose constant operand comes first (`1 - x`, `c / x`, `2 * x`, `max(0, x)`): the data
// operand is found on whichever side it is (src/graph/roles.ts: the batch axis is linked through the op), so the walk places the same nodes
// on both sides of the op. Weights worked by hand: Wa[i][j] = 1 + 3i + j ([4, 3], in_out), Wb[j][k] =
// 1 + 2j + k ([3, 2]). Wa's column sums are 22, 26, 30 (s_in of ya); Wb's row sums are 3, 7, 11
// (s_out of z = ya's nodes, one to one); Wb's column sums 9, 12 (s_in of the output).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { encodeCntHeader } from "../../src/formats/cnt/write.js";
import type { GraphInfo, LayerInfo } from "../../src/model/types.js";
import type { Report } from "../../src/report/types.js";
import { assertAllClose } from "../helpers/close.js";
import { analyzeCntGraph } from "../helpers/cnt-graph.js";

const run = analyzeCntGraph;

const dense = (name: string, weight: string, input: string, output: string): LayerInfo => ({ name, kind: "dense", weight, weightLayout: "in_out", inputs: [input, weight], outputs: [output] });
const Wa = { name: "wa", shape: [4, 3], values: Array.from({ length: 12 }, (_, i) => 1 + i) };
const Wb = { name: "wb", shape: [3, 2], values: Array.from({ length: 6 }, (_, i) => 1 + i) };
const layer = (report: Report, value: string) => {
  const n = report.nodeLayers.find((l) => l.values.includes(value));
  assert.ok(n, `no node layer holds ${value}: ${report.notes.join(" | ")}`);
  return n!;
};

for (const op of ["sub", "div", "mul", "add", "max", "min"]) {
  for (const constant of [{ shape: [], values: [1] }, { shape: [1, 3], values: [1, 2, 3] }]) {
    test(`${op}(constant of shape [${constant.shape}], ya): ya and the result are one node layer, placed on both sides`, async () => {
      const r = await run(
        [dense("a", "wa", "x", "ya"), { name: "op", kind: "none", attributes: { op }, inputs: ["c", "ya"], outputs: ["z"] }, dense("b", "wb", "z", "y")],
        [Wa, Wb],
        { inputs: [{ name: "x", shape: [null, 4], dtype: "FLOAT" }], outputs: ["y"], constants: { c: constant } },
      );
      const mid = layer(r, "ya");
      assert.ok(mid.values.includes("z"), `z is ya's nodes: ${mid.values} | ${r.notes.join(" | ")}`);
      assertAllClose(mid.perNode!.sIn, [22, 26, 30], 1e-12, "s_in: Wa's column sums");
      assertAllClose(mid.perNode!.sOut, [3, 7, 11], 1e-12, "s_out: Wb's row sums, read through the op");
      assertAllClose(layer(r, "x").perNode!.sOut, [6, 15, 24, 33], 1e-12, "x s_out: Wa's row sums");
      assertAllClose(layer(r, "y").perNode!.sIn, [9, 12], 1e-12, "y s_in: Wb's column sums");
      assert.not.ok(r.notes.some((n) => n.includes("left out")), r.notes.join(" | "));
    });
  }
}

for (const op of ["sub", "div"]) {
  test(`${op}(constant, ya) as the graph output: its nodes are ya's, and the output's boundary (s_out = 1) reaches them`, async () => {
    const r = await run(
      [dense("a", "wa", "x", "ya"), { name: "op", kind: "none", attributes: { op }, inputs: ["c", "ya"], outputs: ["z"] }],
      [Wa],
      { inputs: [{ name: "x", shape: [null, 4], dtype: "FLOAT" }], outputs: ["z"], constants: { c: { shape: [], values: [1] } } },
    );
    const mid = layer(r, "z");
    assert.ok(mid.values.includes("ya"), `z is ya's nodes: ${mid.values}`);
    assertAllClose(mid.perNode!.sIn, [22, 26, 30], 1e-12, "s_in: Wa's column sums");
    assertAllClose(mid.perNode!.sOut, [1, 1, 1], 1e-12, "s_out: the graph output's boundary");
    assert.not.ok(r.notes.some((n) => n.includes("left out") || n.includes("cannot be placed")), r.notes.join(" | "));
  });
}

for (const op of ["sub", "div", "mul", "max"]) {
  test(`${op}(constant, ya) over positions ([1, 5, 4] in): the positions stay replicas through the op, so its output has ya's 3 nodes`, async () => {
    const r = await run(
      [dense("a", "wa", "x", "ya"), { name: "op", kind: "none", attributes: { op }, inputs: ["c", "ya"], outputs: ["z"] }],
      [Wa],
      { inputs: [{ name: "x", shape: [1, 5, 4], dtype: "FLOAT" }], outputs: ["z"], constants: { c: { shape: [1], values: [1] } } },
    );
    const mid = layer(r, "z");
    assert.ok(mid.values.includes("ya"), `z is ya's nodes: ${mid.values}`);
    assertAllClose(mid.perNode!.sIn, [22, 26, 30], 1e-12, "s_in: Wa's column sums (positions are replicas)");
    assertAllClose(mid.perNode!.sOut, [1, 1, 1], 1e-12, "s_out: the graph output's boundary");
    assertAllClose(layer(r, "x").perNode!.sOut, [6, 15, 24, 33], 1e-12, "x s_out: Wa's row sums");
    assert.not.ok(r.notes.some((n) => n.includes("left out") || n.includes("cannot be placed")), r.notes.join(" | "));
  });
}

test.run();
