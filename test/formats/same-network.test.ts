// One network, three files written by three independent writers (torch.onnx.export, our test's
// safetensors writer, numpy.savez; test/fixtures/make_onnx_fixtures.py): the same report.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { firstDifference } from "../helpers/diff.js";

const dir = "test/fixtures/onnx";

/** What must agree across formats: every distribution and node layer, not names or sources. */
function comparable(report: Awaited<ReturnType<typeof analyze>>) {
  return {
    layers: report.layers.filter((l) => l.kind === "dense").map((l) => ({ shape: l.shape, params: l.params, linkWeights: l.linkWeights, bias: l.bias })),
    // Names of ops and values differ by format (ONNX node names, state_dict modules): numbers must not.
    nodeLayers: report.nodeLayers.map((n) => ({ ...n, after: undefined, producers: undefined, values: undefined, perNode: n.perNode && Array.from(n.perNode.s) })),
  };
}

test("the MLP from ONNX, safetensors and .npz gives one report", async () => {
  const [onnx, st, npz] = await Promise.all(["mlp.onnx", "mlp.safetensors", "mlp.npz"].map((f) => analyze(readFileSync(`${dir}/${f}`), { perNode: true })));
  assert.equal([onnx.source.format, st.source.format, npz.source.format], ["onnx", "safetensors", "npz"]);
  assert.ok(st.nodeLayers.length === 3, `${st.nodeLayers.length} node layers`);
  assert.is(firstDifference(comparable(onnx), comparable(st)), null);
  assert.is(firstDifference(comparable(npz), comparable(st)), null);
});

test.run();
