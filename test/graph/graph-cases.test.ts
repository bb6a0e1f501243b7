// Graph cases beyond the shared vectors (test/fixtures/graph/make_graph_fixtures.py: naive
// enumeration of links, cross-checked against torch's conv, conv1d and transposed conv):
// dilation, groups, depthwise, asymmetric and "same" pads, uncovered inputs, conv1d, transposed
// conv, pooling, channels-last flatten, an autoencoder, and recurrent cells (RNN, LSTM, GRU,
// bidirectional, stacked). Each case is written as a .cnt file with F64 tensors.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { encodeCntHeader } from "../../src/formats/cnt/write.js";
import type { LayerInfo } from "../../src/model/types.js";
import type { Distribution } from "../../src/report/types.js";
import { assertAllClose, assertClose, maxRelativeError } from "../helpers/close.js";
import { f64Bytes } from "../helpers/safetensors-writer.js";

type Matrix = number[][];
interface CaseLayer {
  kind: string;
  shape?: number[];
  weights?: number[];
  bias?: number[];
  stride?: number[];
  pads?: number[];
  dilation?: number[];
  groups?: number;
  outputPadding?: number[];
  kernel?: number[];
  hidden?: number;
  bidirectional?: boolean;
  [tensor: string]: unknown;
}
interface Stats { count: number; mean: number; std: number; min: number; max: number }
interface GraphCase {
  name: string;
  input_shape: number[];
  data_format?: "channels_first" | "channels_last";
  layers: CaseLayer[];
  expected: { layers: (Stats & { layer: number; tensor: string })[]; nodeLayers: (Stats & { fluctuation: number; strength: number[] })[] };
}

const cases = (JSON.parse(readFileSync("test/fixtures/graph/cases.json", "utf8")) as { cases: GraphCase[] }).cases;

/** [kh, kw, c_in, c_out/g] (the fixture's transposed order) to [c_in, c_out/g, kh, kw] ("iohw"). */
function toIOHW(w: number[], [kh, kw, ci, co]: number[]): number[] {
  const out = new Array<number>(w.length);
  for (let n = 0; n < kh; n++) for (let m = 0; m < kw; m++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((i * co + o) * kh + n) * kw + m] = w[((n * kw + m) * ci + i) * co + o];
  }
  return out;
}

function cntOf(c: GraphCase): { file: Uint8Array; tensorOf: Map<string, { layer: string; role: "linkWeights" | "recurrentWeights" }> } {
  const layers: LayerInfo[] = [];
  const tensors: { name: string; shape: number[]; values: number[] }[] = [];
  const tensorOf = new Map<string, { layer: string; role: "linkWeights" | "recurrentWeights" }>();
  const add = (name: string, shape: number[], values: number[]) => tensors.push({ name, shape, values });
  c.layers.forEach((l, i) => {
    const name = `l${i}`;
    if (l.kind === "dense" || l.kind === "conv2d" || l.kind === "conv1d" || l.kind === "conv2d_transpose") {
      const transposed = l.kind === "conv2d_transpose";
      const shape = transposed ? [l.shape![2], l.shape![3], l.shape![0], l.shape![1]] : l.shape!;
      add(`${name}.w`, shape, transposed ? toIOHW(l.weights!, l.shape!) : l.weights!);
      add(`${name}.b`, [l.bias!.length], l.bias!);
      const attributes: Record<string, number[] | number> = {};
      for (const key of ["stride", "pads", "dilation", "groups", "outputPadding"] as const) if (l[key] !== undefined) attributes[key] = l[key]!;
      layers.push({ name, kind: l.kind as LayerInfo["kind"], weight: `${name}.w`, bias: `${name}.b`, weightLayout: l.kind === "dense" ? "in_out" : transposed ? "iohw" : "hwio", attributes });
      tensorOf.set(`${i}/weights`, { layer: name, role: "linkWeights" });
    } else if (l.kind === "pool") {
      layers.push({ name, kind: "none", attributes: { op: "pool", kernel: l.kernel!, stride: l.stride!, pads: l.pads! } });
    } else {
      for (const suffix of l.bidirectional ? ["", "_reverse"] : [""]) {
        const dir = `${name}${suffix}`;
        for (const t of ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]) {
          const v = l[`${t}${suffix}`] as Matrix | number[];
          const matrix = Array.isArray(v[0]);
          add(`${dir}.${t}`, matrix ? [v.length, (v[0] as number[]).length] : [v.length], matrix ? (v as Matrix).flat() : (v as number[]));
        }
        layers.push({ name: dir, kind: l.kind as LayerInfo["kind"], weight: `${dir}.weight_ih`, recurrentWeight: `${dir}.weight_hh`, bias: `${dir}.bias_ih`, recurrentBias: `${dir}.bias_hh`, weightLayout: "out_in", attributes: { hidden: l.hidden!, direction: suffix ? "reverse" : "forward" } });
        tensorOf.set(`${i}/weight_ih${suffix}`, { layer: dir, role: "linkWeights" });
        tensorOf.set(`${i}/weight_hh${suffix}`, { layer: dir, role: "recurrentWeights" });
      }
    }
  });
  const { head, offsets, dataBytes } = encodeCntHeader({
    name: c.name,
    inputShape: c.input_shape,
    dataFormat: c.data_format ?? "channels_first",
    layers,
    tensors: tensors.map((t) => ({ name: t.name, dtype: "f64" as const, shape: t.shape, byteLength: t.values.length * 8 })),
  });
  const file = new Uint8Array(head.byteLength + dataBytes);
  file.set(head);
  tensors.forEach((t, i) => file.set(f64Bytes(t.values), head.byteLength + offsets[i]));
  return { file, tensorOf };
}

test("the graph cases cover every layer kind the walker handles", () => {
  const kinds = new Set(cases.flatMap((c) => c.layers.map((l) => l.kind)));
  for (const k of ["conv2d", "conv1d", "conv2d_transpose", "pool", "dense", "rnn", "lstm", "gru"]) assert.ok(kinds.has(k), k);
  assert.ok(cases.some((c) => c.data_format === "channels_last"));
  assert.ok(cases.length >= 20);
});

let worst = 0;
for (const c of cases) {
  test(`graph: ${c.name} matches its float64 reference to 1e-9`, async () => {
    const { file, tensorOf } = cntOf(c);
    const report = await analyze(file, { perNode: true, name: `${c.name}.cnt` });
    for (const e of c.expected.layers) {
      const where = tensorOf.get(`${e.layer}/${e.tensor}`)!;
      const d = report.layers.find((l) => l.name === where.layer)![where.role] as Distribution;
      assert.is(d.count, e.count, `${c.name} ${where.layer} ${e.tensor} count`);
      for (const k of ["mean", "std", "min", "max"] as const) assertClose(d[k], e[k], 1e-9, `${c.name} ${where.layer} ${e.tensor} ${k}`);
    }
    assert.is(report.nodeLayers.length, c.expected.nodeLayers.length, `node layers (${report.notes.join("; ")})`);
    c.expected.nodeLayers.forEach((e, i) => {
      const n = report.nodeLayers[i];
      assert.is(n.size, e.count, `${c.name} node layer ${i} size`);
      assertAllClose(n.perNode!.s, e.strength, 1e-9, `${c.name} node layer ${i} s`);
      for (const k of ["mean", "std", "min", "max"] as const) assertClose(n.strength[k], e[k], 1e-9, `${c.name} node layer ${i} ${k}`);
      assertClose(n.fluctuation, e.fluctuation, 1e-9, `${c.name} node layer ${i} fluctuation`);
      worst = Math.max(worst, maxRelativeError(n.perNode!.s, e.strength));
    });
  });
}

/** Moments of a plain array in float64, two-pass: the reference for per-gate distributions. */
function reference(values: number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { count: values.length, mean, std, min: Math.min(...values), max: Math.max(...values) };
}

for (const name of ["lstm-3-5", "gru-4-3", "bilstm-3-2"]) {
  test(`gates "separate": ${name} reports every gate block's distributions; strengths unchanged`, async () => {
    const c = cases.find((x) => x.name === name)!;
    const { file } = cntOf(c);
    const summed = await analyze(file, { perNode: true });
    const separate = await analyze(file, { perNode: true, gates: "separate" });
    assert.is(separate.options.gates, "separate");
    const l = c.layers[0];
    const G = l.kind === "lstm" ? 4 : 3, H = l.hidden!;
    const directions = l.bidirectional ? ["", "_reverse"] : [""];
    assert.is(separate.layers.length, summed.layers.length * G);
    directions.forEach((suffix, d) => {
      for (let g = 0; g < G; g++) {
        const entry = separate.layers[d * G + g];
        assert.ok(entry.gate, "gate letter");
        for (const [tensor, role] of [["weight_ih", "linkWeights"], ["weight_hh", "recurrentWeights"]] as const) {
          const rows = (l[`${tensor}${suffix}`] as Matrix).slice(g * H, (g + 1) * H).flat();
          const e = reference(rows);
          const got = entry[role]!;
          assert.is(got.count, e.count);
          for (const k of ["mean", "std", "min", "max"] as const) assertClose(got[k], e[k], 1e-12, `${name} gate ${g} ${tensor} ${k}`);
          assert.is(got.histogram.counts.reduce((a, b) => a + b, 0), e.count);
        }
        const bias = (l[`bias_ih${suffix}`] as number[]).slice(g * H, (g + 1) * H);
        assertClose(entry.bias!.mean, reference(bias).mean, 1e-12, `${name} gate ${g} bias mean`);
      }
    });
    summed.nodeLayers.forEach((n, i) => assert.equal(Array.from(separate.nodeLayers[i].perNode!.s), Array.from(n.perNode!.s)));
  });
}

test("achieved error on the graph cases is stated", () => {
  console.log(`  graph cases: worst relative error of a node strength ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-12);
});

test.run();
