// Input samples from images (src/forward/inputs/images.ts): every expected value from the float64
// numpy implementation of the stated conventions in test/fixtures/forward/make_images.py (its
// resize matrices checked there against torch 1.13's F.interpolate), and the PNG digits it wrote
// run through the bundled model against its float64 forward pass.
import { readFileSync, readdirSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import "../../src/entry/node-setup.js";
import { analyze } from "../../src/index.js";
import { axisWeights, describeTarget, imageSamples, imageTarget, imageToSample, labelFromPath, type DecodedImage, type ImageOptions, type ImageTarget } from "../../src/forward/inputs/images.js";
import { CntError } from "../../src/errors.js";
import { readPng } from "./_png.js";

const dir = "test/fixtures/forward";
const fixture = JSON.parse(readFileSync(`${dir}/images.json`, "utf8")) as {
  images: Record<string, { height: number; width: number; data: number[] }>;
  cases: { image: string; shape: number[]; target: Omit<ImageTarget, "shape">; options: ImageOptions; expected: number[] }[];
};
const digits = JSON.parse(readFileSync(`${dir}/images-digits.json`, "utf8")) as {
  files: string[];
  labels: number[];
  predictions: number[];
  correct: number;
  samples: number[][];
  layers: { after: string; z: [number, number]; a: [number, number] }[];
};

function close(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tol = Math.max(1e-6, 1e-5 * Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) assert.unreachable(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const decoded = (name: string): DecodedImage => {
  const i = fixture.images[name];
  return { width: i.width, height: i.height, data: Uint8ClampedArray.from(i.data) };
};

test("every synthetic case against the numpy float64 reference (targets from the shape, values, layout)", () => {
  for (const c of fixture.cases) {
    const what = `${c.image} -> ${JSON.stringify(c.shape)} ${JSON.stringify(c.options)}`;
    const target = imageTarget(c.shape, c.options);
    assert.equal({ ...target, shape: undefined }, { ...c.target, shape: undefined }, what);
    assert.equal(target.shape, c.shape, what);
    const out = new Float32Array(c.expected.length + 2).fill(99);
    imageToSample(decoded(c.image), target, c.options, out, 1);
    assert.is(out[0], 99, "nothing written before the offset");
    assert.is(out[out.length - 1], 99, "nothing written after the sample");
    close(out.subarray(1, 1 + c.expected.length), c.expected, what);
  }
});

test("axis weights: each output's weights sum to 1; area when shrinking, bilinear when growing or asked", () => {
  for (const [size, out, mode] of [[7, 3, "auto"], [5, 8, "auto"], [9, 4, "bilinear"], [24, 8, "auto"]] as const) {
    const w = axisWeights(size, out, mode);
    for (let d = 0; d < out; d++) close([w.weight[d].reduce((a, b) => a + b, 0)], [1], `${size}->${out} ${mode} [${d}]`);
  }
  // 24 -> 8: the mean of three pixels each; 7 -> 3: [0, 7/3) is pixels 0, 1 and a third of 2.
  assert.equal([...axisWeights(24, 8).index[2]], [6, 7, 8]);
  close(axisWeights(7, 3).weight[0], [3 / 7, 3 / 7, 1 / 7], "7 -> 3");
  // Growing 4 -> 8: output 0 sits at -0.25, clamped to 0.
  close(axisWeights(4, 8).weight[0], [1, 0], "4 -> 8 first");
  close(axisWeights(4, 8).weight[1], [0.75, 0.25], "4 -> 8 second");
});

test("targets: flat squares, channel axis first or last (the graph's data format when both could be), open sizes", () => {
  assert.equal(imageTarget([64]), { height: 8, width: 8, channels: 1, layout: "flat", shape: [64] });
  assert.equal(imageTarget([3072]), { height: 32, width: 32, channels: 3, layout: "flat", shape: [3072] });
  assert.equal(imageTarget([3, 8, 3], {}, "channels_last"), { height: 3, width: 8, channels: 3, layout: "hwc", shape: [3, 8, 3] });
  assert.equal(imageTarget([3, 8, 3]), { height: 8, width: 3, channels: 3, layout: "chw", shape: [3, 8, 3] });
  assert.equal(imageTarget([3, null, null], { size: [224, 200] }), { height: 224, width: 200, channels: 3, layout: "chw", shape: [3, 224, 200] });
  assert.equal(imageTarget([null, null, 1], {}, undefined, { width: 5, height: 6 }).shape, [6, 5, 1]);
  for (const bad of [[65], [2, 8, 8], [1, 1, 8, 8], [null]]) {
    try {
      imageTarget(bad);
      assert.unreachable(JSON.stringify(bad));
    } catch (error) {
      assert.instance(error, CntError);
      assert.is((error as CntError).code, "BAD_OPTION");
    }
  }
  assert.is(describeTarget(imageTarget([64])), "8x8 grayscale, 0..1");
  assert.is(describeTarget(imageTarget([3, 4, 4]), { range: [0, 255] }), "4x4 RGB, channels first, 0..255");
});

test("labels from paths: an integer folder, else the file name's leading integer", () => {
  assert.is(labelFromPath("digits/3/a.png"), 3);
  assert.is(labelFromPath("7_x.png"), 7);
  assert.is(labelFromPath("set/12-x.png"), 12);
  assert.is(labelFromPath("4.png"), 4);
  assert.is(labelFromPath("cat/x.png"), undefined);
  assert.is(labelFromPath("x7.png"), undefined);
});

test("PNG digits through the bundled model: the samples and the accuracy of the float64 forward pass; one batch decoded at a time", async () => {
  const files = readdirSync(`${dir}/images`).sort();
  assert.equal(files, [...digits.files].sort());
  const target = imageTarget([64]);
  const decodes: number[] = [];
  const samples = imageSamples(
    digits.files.length,
    async (i) => {
      decodes.push(i);
      return readPng(readFileSync(`${dir}/images/${digits.files[i]}`));
    },
    target,
  );
  const all = new Float32Array(64 * digits.files.length);
  await samples.read("images", 0, digits.files.length, all);
  digits.samples.forEach((s, i) => close(all.subarray(64 * i, 64 * (i + 1)), s, digits.files[i]));
  decodes.length = 0;
  const labels = digits.files.map((f) => labelFromPath(f)!);
  assert.equal(labels, digits.labels);
  const report = await analyze(readFileSync("models/digits-mlp.safetensors"), {
    inputs: samples,
    labels,
    batch: 4,
    layout: JSON.parse(readFileSync("models/digits-mlp.layout.json", "utf8")),
  });
  assert.is(report.data!.samples, digits.files.length);
  assert.is(report.data!.correct, digits.correct);
  assert.is(report.data!.labelled, digits.files.length);
  assert.ok(digits.correct < digits.files.length, "the fixture holds digits the model gets wrong");
  for (const ref of digits.layers) {
    const n = report.nodeLayers.find((l) => l.after === ref.after)!;
    close([n.neuronStrength!.mean, n.neuronStrength!.std], ref.z, `z after ${ref.after}`);
    close([n.neuronActivation!.mean, n.neuronActivation!.std], ref.a, `a after ${ref.after}`);
  }
  // Batches of 4: images 0-3, 4-7, 8-9, each decoded once, in order.
  assert.equal(decodes, [...Array(digits.files.length).keys()]);
});

test.run();
