/**
 * The forward pass end to end on real torch exports (test/fixtures/forward/make_models.py): every
 * node layer's neuron strength z and activation a (spec metrics.md section 3) against the exported
 * ONNX run in float64 by onnx's reference evaluator (itself checked against torch's float64 run).
 */
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import type { NodeLayerReport, Report } from "../../src/report/types.js";
import { assertDist, loadReference, readNpyF32, type NeuronDist, type ReferenceModel } from "../helpers/forward-reference.js";

const dir = "test/fixtures/forward/models";
/** torch exports (ONNX), and tfjs_cnn: a channels-last TF.js layers model with a numpy reference. */
const MODELS = ["mlp_tanh", "mlp_relu_b1", "mlp_gelu", "cnn_bn", "resnet", "dwnet", "lstm2", "lstm2_b1", "gru_bi", "encoder", "autoencoder", "tfjs_cnn"];
/** Files that fix the batch at 1: the forward pass runs them one sample at a time. */
const FIXED_BATCH = new Set(["mlp_relu_b1", "lstm2_b1"]);

type DataReport = Report & { data?: { samples: number; batch: number; inputs: string[]; accuracy?: number; correct?: number; labelled?: number } };
type NodeLayerWithData = NodeLayerReport & { neuronStrength?: NeuronDist; neuronActivation?: NeuronDist };

const reports = new Map<string, Promise<DataReport>>();

/** Labels: the reference's classes with the first one moved, so `correct` must be exactly N - 1. */
function labelsOf(ref: ReferenceModel): number[] | undefined {
  if (!ref.predicted) return undefined;
  const labels = ref.predicted.slice();
  labels[0] = (labels[0] + 1) % 4;
  return labels;
}

function run(name: string, batch: number): Promise<DataReport> {
  const key = `${name}@${batch}`;
  let r = reports.get(key);
  if (!r) {
    const ref = loadReference(dir, name);
    const { data, shape } = readNpyF32(`${dir}/${ref.input.file}`);
    const options = { perNode: true, batch, inputs: { data, shape }, labels: labelsOf(ref) } as Parameters<typeof analyze>[1];
    const path = `${dir}/${ref.model}`;
    // model.json: its weights shard is read beside it
    r = (path.endsWith(".json") ? fileSource(path).then((src) => analyze(src, options)) : analyze(readFileSync(path), options)) as Promise<DataReport>;
    reports.set(key, r);
  }
  return r;
}

/** The node layer that `after` (or any of the producers) writes into. */
function nodeLayerOf(report: Report, producers: string[]): NodeLayerWithData | undefined {
  return report.nodeLayers.find((n) => producers.includes(n.after) || n.producers.some((p) => producers.includes(p))) as NodeLayerWithData | undefined;
}

/** Runs every check, then fails once with all the messages (one wrong layer does not hide the next). */
function collect(checks: [string, () => void][], report?: Report): void {
  const failures: string[] = [];
  for (const [what, check] of checks) {
    try {
      check();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
    }
  }
  const tail = failures.length && report ? `\n  notes: ${report.notes.join("\n         ") || "none"}` : "";
  assert.ok(failures.length === 0, `${failures.length} of ${checks.length} failed:\n  ${failures.join("\n  ")}${tail}\n`);
}

/** Every reference layer: present, measured, and both distributions equal to the value the report names. */
function checkNumbers(name: string, report: DataReport, batchLabel: string): void {
  const ref = loadReference(dir, name);
  collect(ref.layers.map((layer) => [`${name} ${batchLabel} after ${layer.after}`, () => {
    const nl = nodeLayerOf(report, layer.producers);
    assert.ok(nl, `no node layer after ${layer.producers.join(" / ")}; node layers: ${report.nodeLayers.map((n) => n.after).join(", ")}`);
    if (layer.break && !nl!.neuronStrength && !nl!.neuronActivation) return; // a pool's output: no links in
    for (const [key, got] of [["neuronStrength (z)", nl!.neuronStrength], ["neuronActivation (a)", nl!.neuronActivation]] as const) {
      assert.ok(got, `${key} missing on node layer ${nl!.index}`);
      const want = ref.values[got!.value];
      assert.ok(want, `${key} measures '${got!.value}', a value the reference did not walk from ${layer.after} (expected '${key.endsWith("(z)") ? layer.z : layer.a}')`);
      assertDist(got!, want, `${key} '${got!.value}'`);
    }
  }]), report);
}

for (const name of MODELS) {
  test(`${name}: each node layer's z and a are the values the reference expects`, async () => {
    const ref = loadReference(dir, name);
    const report = await run(name, 4);
    collect(ref.layers.map((layer) => [`after ${layer.after}`, () => {
      const nl = nodeLayerOf(report, layer.producers);
      assert.ok(nl, `no node layer after ${layer.producers.join(" / ")}`);
      if (layer.break && !nl!.neuronStrength) return;
      const z = nl!.neuronStrength?.value, a = nl!.neuronActivation?.value;
      assert.ok(z === layer.z && a === layer.a, `z '${z}', a '${a}'; expected z '${layer.z}', a '${layer.a}'`);
    }]), report);
  });

  test(`${name}: z and a equal the float64 reference (batch 4)`, async () => {
    const report = await run(name, 4);
    checkNumbers(name, report, "batch 4");
  });

  const ref = loadReference(dir, name);
  if (ref.predicted) {
    test(`${name}: the classes (argmax of the output) are the reference's`, async () => {
      const report = await run(name, 4);
      const n = ref.input.shape[0];
      assert.ok(report.data, `report.data missing; notes: ${report.notes.join(" | ")}`);
      assert.is(report.data!.samples, n, "samples");
      assert.is(report.data!.labelled, n, `labelled; notes: ${report.notes.join(" | ")}`);
      assert.is(report.data!.correct, n - 1, "correct: every class but the first (whose label was moved) is the reference's");
      assert.ok(Math.abs(report.data!.accuracy! - (n - 1) / n) < 1e-12, `accuracy ${report.data!.accuracy}`);
    });
  }
}

// The batch splits the samples (odd counts: a short last batch); nothing may depend on it.
for (const name of ["cnn_bn", "lstm2", "mlp_relu_b1", "tfjs_cnn"]) {
  for (const batch of [1, 64]) {
    test(`${name}: batch ${batch} gives the reference too`, async () => {
      const report = await run(name, batch);
      assert.is(report.data?.batch, FIXED_BATCH.has(name) ? 1 : batch, "report.data.batch");
      checkNumbers(name, report, `batch ${batch}`);
    });
  }
}

test("the fixtures' references are consistent (one class per layer, every named value measured)", () => {
  for (const name of MODELS) {
    const ref = loadReference(dir, name);
    for (const l of ref.layers) {
      assert.ok(ref.values[l.z] && ref.values[l.a], `${name}: ${l.after} has the reference of z and a`);
      assert.is(ref.values[l.z].count, ref.values[l.a].count, `${name}: ${l.after} z and a have one count`);
    }
  }
});

test.run();
