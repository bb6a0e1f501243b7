// A ReduceMean that is a head is not a norm: the walk's norm rule (src/strengths/walk.ts) takes a
// reduction's result as a norm statistic only by the full pattern (the Sub of the mean from the same
// value and a Div/Mul by its spread, or a Div/Mul by a spread), never when it reaches a graph output
// or ends nowhere. PyTorch ONNX exports with references worked in float64 numpy from their
// initializers (test/fixtures/graph/reduce-mean/make_reduce_mean_heads.py).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { assertAllClose } from "../helpers/close.js";

const dir = "test/fixtures/graph/reduce-mean";
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, "utf8")) as Record<string, Record<string, { sIn: number[]; sOut: number[] }>>;

for (const [name, layers] of Object.entries(expected)) {
  test(`${name}.onnx: every node layer, the ReduceMean's included, matches the float64 reference (1e-9)`, async () => {
    const report = await analyzeFile(`${dir}/${name}.onnx`, { perNode: true });
    assert.is(report.coverage.inStrengths, report.coverage.weightedLayers, report.notes.join(" | "));
    assert.is(report.nodeLayers.length, Object.keys(layers).length, report.nodeLayers.map((l) => l.values.join(",")).join(" | "));
    for (const [value, e] of Object.entries(layers)) {
      const layer = report.nodeLayers.find((l) => l.values.includes(value));
      assert.ok(layer, `no node layer holds ${value}: ${report.nodeLayers.map((l) => l.values.join(",")).join(" | ")}`);
      assertAllClose(layer!.perNode!.sIn, e.sIn, 1e-9, `${value} s_in`);
      assertAllClose(layer!.perNode!.sOut, e.sOut, 1e-9, `${value} s_out`);
    }
  });
}

test.run();
