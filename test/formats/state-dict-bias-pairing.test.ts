// A state_dict's `<layer>.bias` joins its weight only when it fits the layer's outputs; a bias of
// another length was silently taken as a norm's shift. Now both are distributions, with a note.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

const filled = (n: number, v: number) => f32Bytes(new Float32Array(n).fill(v));

test("a norm weight [128] with a bias [16]: two distributions and a note, no bias in any strength", async () => {
  const bytes = writeSafetensors([
    { name: "fc1.weight", dtype: "F32", shape: [8, 4], data: filled(32, 0.5) },
    { name: "fc1.bias", dtype: "F32", shape: [8], data: filled(8, 0.25) },
    { name: "ln.weight", dtype: "F32", shape: [128], data: filled(128, 1) },
    { name: "ln.bias", dtype: "F32", shape: [16], data: filled(16, 3) },
  ]);
  const report = await analyze(bytes, { name: "odd.safetensors" });
  const ln = report.layers.find((l) => l.name === "ln")!;
  assert.is(ln.kind, "norm");
  assert.is(ln.bias, null, "the [16] bias is not the [128] norm's");
  const alone = report.layers.find((l) => l.name === "ln.bias")!;
  assert.is(alone.kind, "other");
  assert.is(alone.linkWeights!.mean, 3);
  assert.ok(report.notes.some((n) => n.includes("'ln.bias' [16] does not fit 'ln.weight' [128]")), report.notes.join("\n"));
  // fc1's bias fits (8 rows): s_in of its nodes = 4 * 0.5 + 0.25, worked by hand.
  assert.is(report.layers.find((l) => l.name === "fc1")!.bias!.mean, 0.25);
  assert.ok(Math.abs(report.nodeLayers[1].strengthIn.mean! - 2.25) < 1e-12);
});

test("a dense weight [8, 4] with a bias [5] is not paired either", async () => {
  const bytes = writeSafetensors([
    { name: "fc.weight", dtype: "F32", shape: [8, 4], data: filled(32, 0.5) },
    { name: "fc.bias", dtype: "F32", shape: [5], data: filled(5, 1) },
  ]);
  const report = await analyze(bytes, { name: "odd.safetensors" });
  assert.is(report.layers.find((l) => l.name === "fc")!.bias, null);
  assert.ok(Math.abs(report.nodeLayers[1].strengthIn.mean! - 2) < 1e-12, "no bias in s_in");
  assert.ok(report.notes.some((n) => n.includes("does not fit")));
});

test.run();
