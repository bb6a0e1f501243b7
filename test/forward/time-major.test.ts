// A torch nn.LSTM exported without batch_first reads X as [T, B, I]: the samples go on axis 1, so a
// batch never cuts a sequence (expected values: torch 1.13 in float64, make_recurrent.py).
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";

const fixtures = JSON.parse(readFileSync("test/fixtures/forward/recurrent.json", "utf8"));
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

for (const name of ["lstm_l1_uni_tf", "gru_l1_uni_tf"]) {
  test(`${name}: samples [B, T, I] fed as [T, B, I], one a batch, give torch's y and z`, async () => {
    const c = fixtures.onnx.find((x: { name: string }) => x.name === name);
    const [T, B, I] = c.xShape as number[];
    // Sample-major copy of x [T, B, I].
    const data = new Float32Array(B * T * I);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) data[(b * T + t) * I + i] = c.x[(t * B + b) * I + i];
    for (const batch of [1, 2]) {
      const report = await analyze(readFileSync(`test/fixtures/forward/${c.file}`), { inputs: { data, shape: [B, T, I] }, batch, perNode: true });
      const layer = report.nodeLayers.find((n) => n.neuronActivation?.value.endsWith("output_0") || n.neuronStrength?.value.endsWith("#z"));
      assert.ok(layer, `a node layer with z and a (notes: ${report.notes.join(" | ")})`);
      const H = c.H as number;
      for (const [key, d] of [["y", layer!.neuronActivation!], ["z", layer!.neuronStrength!]] as const) {
        const values: number[] = c.perLayer[0][key];
        const mean = values.reduce((p, v) => p + v, 0) / values.length;
        assert.ok(close(d.mean!, mean), `${key} mean at batch ${batch}: ${d.mean} vs ${mean}`);
        assert.is(d.count, T * B * H);
        // Node k: every (t, b) of y[t, 0, b, k].
        for (let k = 0; k < H; k++) {
          let s = 0;
          for (let j = k; j < values.length; j += H) s += values[j];
          assert.ok(close(d.perNode!.mean[k], s / (T * B)), `${key} node ${k}`);
        }
      }
      assert.is(report.data!.samples, B);
    }
  });
}

test.run();
