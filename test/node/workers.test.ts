// Both cores: the tensors of one model measured on worker threads give the one-thread report.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { firstDifference } from "../helpers/diff.js";

for (const file of ["models/digits-mlp.safetensors", "test/fixtures/onnx/external/mlp.onnx", "test/fixtures/onnx/cnn.onnx", "test/fixtures/tfjs/dense-f32/model.json"]) {
  test(`${file}: 2 and 3 workers give the report of one thread, bit for bit`, async () => {
    const one = await analyzeFile(file, { perNode: true });
    for (const workers of [2, 3]) {
      let last = 0;
      const many = await analyzeFile(file, { perNode: true, workers, onProgress: (p) => (last = p.bytesDone) });
      assert.is(firstDifference(JSON.parse(JSON.stringify(many, replacer)), JSON.parse(JSON.stringify(one, replacer))), null, `${workers} workers`);
      assert.ok(last > 0, "progress reported");
    }
  });
}

test("a bad workers option is BAD_OPTION", async () => {
  await analyzeFile("models/digits-mlp.safetensors", { workers: 0 }).then(() => assert.unreachable(), (e) => assert.is(e.code, "BAD_OPTION"));
});

function replacer(_key: string, value: unknown) {
  return value instanceof Float64Array ? Array.from(value) : value;
}

test.run();
