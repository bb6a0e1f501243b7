// Option bias "ignore" (spec section 3): z leaves out b_j, a is the network's own f(z). On the
// bundled MLP, each node's mean z moves by exactly its bias (read from the file here), its std
// and every a stay as they are.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/analyze-file.js";

const model = "models/digits-mlp.safetensors";
const layout = JSON.parse(readFileSync("models/digits-mlp.layout.json", "utf8"));

/** A safetensors tensor as float64 numbers, read independently of the library. */
function tensor(name: string): number[] {
  const bytes = readFileSync(model);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const [a, b] = header[name].data_offsets as number[];
  const out: number[] = [];
  for (let at = 8 + n + a; at < 8 + n + b; at += 4) out.push(bytes.readFloatLE(at));
  return out;
}

test("z without the bias: means shift by b_j, stds and activations unchanged", async () => {
  const options = { layout, inputs: "models/digits-test-inputs.npy", perNode: true, batch: 100 };
  const kept = await analyzeFile(model, options);
  const dropped = await analyzeFile(model, { ...options, bias: "ignore" });
  const biases = ["0.bias", "2.bias", "4.bias"].map(tensor);
  for (let i = 1; i <= 3; i++) {
    const [k, d] = [kept.nodeLayers[i], dropped.nodeLayers[i]];
    const b = biases[i - 1];
    assert.is(b.length, k.size);
    for (let j = 0; j < k.size; j++) {
      const want = k.neuronStrength!.perNode!.mean[j] - b[j];
      assert.ok(Math.abs(d.neuronStrength!.perNode!.mean[j] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `layer ${i} node ${j}`);
      assert.ok(Math.abs(d.neuronStrength!.perNode!.std[j] - k.neuronStrength!.perNode!.std[j]) <= 1e-5 * Math.max(1, k.neuronStrength!.perNode!.std[j]));
    }
    // The output layer is linear: its a is its z, with the bias (the network's output).
    assert.equal(d.neuronActivation!.perNode!.mean, k.neuronActivation!.perNode!.mean);
  }
});

test.run();
