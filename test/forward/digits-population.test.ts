// The 24 tanh MLPs of test/fixtures/population, run on the digits test set they were scored on
// (make_population.py measured each accuracy from the written f32 files): the forward pass's
// predictions give the recorded accuracy exactly, for every network.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/analyze-file.js";

const dir = "test/fixtures/population";
const rows = readFileSync(`${dir}/labels.csv`, "utf8").trim().split("\n").slice(1).map((line) => line.split(","));
const layout = { layers: { "0": { activation: "tanh" }, "2": { activation: "tanh" }, "4": { activation: "linear" } } };

test("each network's accuracy on the 450 test digits is the one its generator recorded", async () => {
  assert.is(rows.length, 24);
  const spread = new Set<string>();
  for (const [file, accuracy] of rows) {
    const report = await analyzeFile(`${dir}/${file}`, { layout, inputs: "models/digits-test-inputs.npy", labels: "models/digits-test-labels.npy", batch: 100 });
    const data = report.data!;
    assert.is(data.labelled, 450, file);
    assert.is(data.accuracy!.toFixed(4), Number(accuracy).toFixed(4), `${file}: ${data.correct}/450`);
    spread.add(accuracy);
    // Both hidden layers measured; the tanh bounds a.
    const hidden = report.nodeLayers.filter((n) => n.neuronActivation && n.size !== 10);
    assert.is(hidden.length, 2, file);
    for (const n of hidden) assert.ok(n.neuronActivation!.min! >= -1 && n.neuronActivation!.max! <= 1);
  }
  assert.ok(spread.size >= 10, "accuracies from chance to 0.98");
});

test.run();
