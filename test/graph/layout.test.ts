// A state_dict names a conv's kernel but not its stride or padding: without a layout the report
// says what is missing; with one, the strengths equal the float64 reference.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { assertAllClose } from "../helpers/close.js";
import { f64Bytes, transpose, writeSafetensors } from "../helpers/safetensors-writer.js";

interface VectorLayer { kind: string; shape: number[]; weights: number[]; bias: number[] }
const c = (JSON.parse(readFileSync("test/fixtures/shared-vectors.json", "utf8")) as { cases: { name: string; layers: VectorLayer[]; expected: { nodeLayers: { strength: number[] }[] } }[] }).cases.find((x) => x.name === "cnn-conv-conv-dense")!;

/** [kh, kw, c_in, c_out] to PyTorch's [c_out, c_in, kh, kw]. */
function toOIHW(w: number[], [kh, kw, ci, co]: number[]): number[] {
  const out = new Array<number>(w.length);
  for (let n = 0; n < kh; n++) for (let m = 0; m < kw; m++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[((o * ci + i) * kh + n) * kw + m] = w[((n * kw + m) * ci + i) * co + o];
  return out;
}

const file = writeSafetensors(c.layers.flatMap((l, i) => {
  const [shape, values] = l.kind === "dense" ? [[l.shape[1], l.shape[0]], transpose(l.weights, l.shape[0], l.shape[1])] : [[l.shape[3], l.shape[2], l.shape[0], l.shape[1]], toOIHW(l.weights, l.shape)];
  return [
    { name: `${i}.weight`, dtype: "F64" as const, shape, data: f64Bytes(values) },
    { name: `${i}.bias`, dtype: "F64" as const, shape: [l.bias.length], data: f64Bytes(l.bias) },
  ];
}));

test("without a layout: link weights reported, the node layers next to the convs left out with a note that says what to pass", async () => {
  const report = await analyze(file);
  assert.equal(report.layers.map((l) => l.kind), ["conv2d", "conv2d", "dense"]);
  // Only the dense layer's outputs have every link known (its columns in, the boundary out).
  assert.equal(report.nodeLayers.map((n) => n.after), ["2"]);
  assert.equal([report.coverage.weightedLayers, report.coverage.inStrengths], [3, 0]);
  assert.ok(report.notes.some((n) => n.includes("'0'") && n.includes("stride") && n.includes("layout")), report.notes.join("\n"));
});

test("with a layout: strengths match the shared vectors to 1e-9", async () => {
  const report = await analyze(file, { perNode: true, layout: { inputShape: [1, 8, 8], layers: { "0": { stride: [1, 1], pads: [1, 1, 1, 1] }, "1": { stride: [2, 2], pads: [0, 0, 0, 0] } } } });
  assert.is(report.nodeLayers.length, c.expected.nodeLayers.length, report.notes.join("; "));
  c.expected.nodeLayers.forEach((e, i) => assertAllClose(report.nodeLayers[i].perNode!.s, e.strength, 1e-9, `node layer ${i}`));
});

test("a layout can insert a weightless layer; a chain that no longer fits gives a partial report with a note; unknown names are refused", async () => {
  const layout = { inputShape: [1, 8, 8], layers: { "0": { stride: [1, 1], pads: [1, 1, 1, 1] }, pool: { insertAfter: "0", op: "pool", kernel: [2, 2], stride: [2, 2] }, "1": { stride: [1, 1], pads: [0, 0, 0, 0] } } };
  // conv 1 -> 4 on 8x8, pool to 4x4, conv 4 -> 8 (3x3, no padding) gives 8x2x2 = 32 nodes; the dense layer takes 72.
  const misfit = await analyze(file, { layout });
  assert.ok(misfit.notes.some((n) => /'2' has 72 features/.test(n) && /\[8, 2, 2\]/.test(n)), misfit.notes.join(" | "));
  assert.equal(misfit.nodeLayers.map((n) => n.shape), [[1, 8, 8], [4, 8, 8], [4, 4, 4], [10]]);
  assert.equal([misfit.coverage.weightedLayers, misfit.coverage.inStrengths], [3, 1]);
  const { "1": _, ...withoutSecond } = layout.layers;
  const partial = await analyze(file, { layout: { ...layout, layers: withoutSecond } });
  assert.equal(partial.layers.map((l) => l.name), ["0", "pool", "1", "2"]);
  // The pooled map is read by conv '1', whose stride the file does not give: left out, not reported with part of its links.
  assert.equal(partial.nodeLayers.map((n) => n.shape), [[1, 8, 8], [4, 8, 8], [10]]);
  await analyze(file, { layout: { layers: { nope: { stride: [1, 1] } } } }).then(
    () => assert.unreachable(),
    (e) => assert.ok(e.code === "BAD_OPTION" && /'nope'/.test(e.message), e.message),
  );
});

test.run();
