// PyTorch exports with a dynamic batch axis, analyzed without inputShape: shape arithmetic over
// the symbolic batch (x.view(x.size(0), -1), Slices cut by Shape -> Gather -> Div -> Mul, head
// splits to [B, T, heads, C / heads] and nn.MultiheadAttention's [T, B * heads, d], a Reshape by
// [0, 0, -1], a Pad of zeros before AveragePool) must not leave node layers out. References: float64
// numpy from the exported files, every link listed (test/fixtures/graph/make_symbolic_exports.py;
// rules test/fixtures/graph/CONVENTIONS.md), never by this code.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { checkReport, expectedFixtures } from "../helpers/graph-expected.js";

const fixtures = expectedFixtures(join("test/fixtures/graph", "symbolic"));

test("every pattern has its fixture", () => {
  assert.equal(fixtures.map((f) => f.name).sort(), ["avgpool-pad", "gru-bi", "mha", "slice-heads", "view-batch", "view-origin"]);
});

for (const { name, path, expected } of fixtures) {
  test(`symbolic ${name}: every node layer placed without inputShape, strengths as the link lists give`, async () => {
    const report = await analyzeFile(path, { perNode: true, ...expected.options });
    const left = report.notes.filter((n) => /left out|cannot be placed|could not place|not known/.test(n));
    assert.equal(left, [], `${name}: notes`);
    checkReport(report, expected, name);
  });
}

test.run();
