// The conv cases of shared/vectors/vectors.json (float64, naive enumeration of the spec's
// definition), written as .cnt files with F64 kernels in [kh, kw, c_in, c_out] ("hwio") order,
// channel-major feature maps: every strength must match to 1e-9.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { encodeCntHeader } from "../../src/formats/cnt/write.js";
import type { LayerInfo } from "../../src/model/types.js";
import { assertVectorCase } from "../helpers/vector-case.js";
import { f64Bytes } from "../helpers/safetensors-writer.js";

interface VectorLayer { kind: string; shape: number[]; weights: number[]; bias: number[]; stride?: number[]; pad?: number[] }
interface Stats { count: number; mean: number; std: number; min: number; max: number }
interface VectorCase { name: string; input_shape: number[]; layers: VectorLayer[]; expected: { layers: Stats[]; nodeLayers: (Stats & { fluctuation: number; strength: number[] })[] } }

const cases = (JSON.parse(readFileSync("test/fixtures/shared-vectors.json", "utf8")) as { cases: VectorCase[] }).cases.filter((c) => c.layers.some((l) => l.kind === "conv2d"));

/** A .cnt file of the case: data tensors are 64-aligned by the writer's offsets. */
function cntOf(c: VectorCase): Uint8Array {
  const layers: LayerInfo[] = c.layers.map((l, i) =>
    l.kind === "dense"
      ? { name: `l${i}`, kind: "dense", weight: `l${i}.w`, bias: `l${i}.b`, weightLayout: "in_out" }
      : { name: `l${i}`, kind: "conv2d", weight: `l${i}.w`, bias: `l${i}.b`, weightLayout: "hwio", attributes: { stride: l.stride!, pads: [...l.pad!, ...l.pad!] } },
  );
  const data = c.layers.flatMap((l) => [f64Bytes(l.weights), f64Bytes(l.bias)]);
  const tensors = c.layers.flatMap((l, i) => [
    { name: `l${i}.w`, dtype: "f64" as const, shape: l.shape, byteLength: l.weights.length * 8 },
    { name: `l${i}.b`, dtype: "f64" as const, shape: [l.bias.length], byteLength: l.bias.length * 8 },
  ]);
  const { head, offsets, dataBytes } = encodeCntHeader({ name: c.name, inputShape: c.input_shape, dataFormat: "channels_first", layers, tensors });
  const file = new Uint8Array(head.byteLength + dataBytes);
  file.set(head);
  data.forEach((d, i) => file.set(d, head.byteLength + offsets[i]));
  return file;
}

test("the vectors hold conv cases with stride, padding and a conv -> dense chain", () => {
  assert.ok(cases.length >= 5, `${cases.length} conv cases`);
  assert.ok(cases.some((c) => c.layers.some((l) => l.kind === "dense")));
});

let worst = 0;
for (const c of cases) {
  test(`vectors: ${c.name} matches to 1e-9`, async () => {
    const report = await analyze(cntOf(c), { perNode: true, name: `${c.name}.cnt` });
    worst = Math.max(worst, assertVectorCase(report, c.expected, c.name));
  });
}

test("achieved error on the conv vectors is stated", () => {
  console.log(`  conv vectors: worst relative error of a node strength ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-12);
});

test.run();
