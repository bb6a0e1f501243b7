// The dense cases of shared/vectors/vectors.json (float64 values computed from the spec's
// definitions by naive loops), stored as F64 safetensors so no rounding stands between the
// file and the reference: every value must match to 1e-9 relative.
import { existsSync, readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { assertVectorCase } from "../helpers/vector-case.js";
import { f64Bytes, transpose, writeSafetensors } from "../helpers/safetensors-writer.js";

interface VectorLayer { kind: string; shape: number[]; weights: number[]; bias: number[] }
interface Stats { count: number; mean: number; std: number; min: number; max: number }
interface VectorCase {
  name: string;
  layers: VectorLayer[];
  expected: { layers: Stats[]; nodeLayers: (Stats & { fluctuation: number; strength: number[] })[] };
}

const committed = readFileSync("test/fixtures/shared-vectors.json", "utf8");
const cases = (JSON.parse(committed) as { cases: VectorCase[] }).cases;
const dense = cases.filter((c) => c.layers.every((l) => l.kind === "dense"));

test("the committed copy of the vectors is shared/'s current one", () => {
  const shared = "../shared/vectors/vectors.json";
  if (existsSync(shared)) assert.is(committed, readFileSync(shared, "utf8"));
  assert.ok(dense.length >= 2, "dense cases present");
});

let worst = 0;
for (const c of dense) {
  test(`vectors: ${c.name} matches to 1e-9`, async () => {
    const bytes = writeSafetensors(
      c.layers.flatMap((l, i) => [
        { name: `layers.${i}.weight`, dtype: "F64" as const, shape: [l.shape[1], l.shape[0]], data: f64Bytes(transpose(l.weights, l.shape[0], l.shape[1])) },
        { name: `layers.${i}.bias`, dtype: "F64" as const, shape: [l.bias.length], data: f64Bytes(l.bias) },
      ]),
    );
    const report = await analyze(bytes, { perNode: true });
    worst = Math.max(worst, assertVectorCase(report, c.expected, c.name));
  });
}

test("achieved error on the vectors is stated", () => {
  console.log(`  shared vectors: worst relative error of a node strength ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-12);
});

test.run();
