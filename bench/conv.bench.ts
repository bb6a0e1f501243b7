// Conv and recurrent strengths on realistic layer sizes: the spec's efficient form (per-tap
// channel sums + separable maps in wasm) against a direct implementation of the definition
// (every placement, tap and channel pair), measured in the same run.
import { analyze } from "../src/entry/node-core.js";
import { encodeCntHeader } from "../src/formats/cnt/write.js";
import type { LayerInfo } from "../src/model/types.js";
import { convKernel } from "../src/graph/ops/conv/layer.js";
import { convStrengthMaps } from "../src/graph/ops/conv/strengths.js";
import { runTensorPass } from "../src/measure/tensor-pass.js";
import { memorySource } from "../src/source/memory.js";
import { Kernels } from "../src/kernels/kernels.js";

export interface ConvBenchResult {
  case: string;
  /** The strengths alone: the tap-sum pass over the kernel and the separable maps. */
  strengthsMs?: number;
  cntscopeMs: number;
  naiveMs: number;
  ratio: number;
  maxRelativeDifference: number;
}

function cntFile(layers: LayerInfo[], tensors: { name: string; shape: number[]; values: Float32Array }[], inputShape?: number[]): Uint8Array {
  const { head, offsets, dataBytes } = encodeCntHeader({
    name: "bench",
    inputShape,
    dataFormat: "channels_first",
    layers,
    tensors: tensors.map((t) => ({ name: t.name, dtype: "f32" as const, shape: t.shape, byteLength: t.values.byteLength })),
  });
  const file = new Uint8Array(head.byteLength + dataBytes);
  file.set(head);
  tensors.forEach((t, i) => file.set(new Uint8Array(t.values.buffer), head.byteLength + offsets[i]));
  return file;
}

function randomValues(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32 - 0.5) * 0.1;
  }
  return v;
}

/** The definition, directly: every placement (i, j), tap (n, m), input and output channel. */
function naiveConv(K: Float32Array, kh: number, kw: number, cIn: number, cOut: number, H: number, W: number, pad: number) {
  const Ho = H + 2 * pad - kh + 1, Wo = W + 2 * pad - kw + 1;
  const sIn = new Float64Array(cOut * Ho * Wo), sOut = new Float64Array(cIn * H * W);
  for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) for (let n = 0; n < kh; n++) for (let m = 0; m < kw; m++) {
    const y = i - pad + n, x = j - pad + m;
    if (y < 0 || y >= H || x < 0 || x >= W) continue;
    for (let ic = 0; ic < cIn; ic++) {
      const base = ((n * kw + m) * cIn + ic) * cOut;
      for (let oc = 0; oc < cOut; oc++) {
        const w = K[base + oc];
        sIn[(oc * Ho + i) * Wo + j] += w;
        sOut[(ic * H + y) * W + x] += w;
      }
    }
  }
  return { sIn, sOut };
}

export async function benchConv(): Promise<ConvBenchResult[]> {
  const results: ConvBenchResult[] = [];
  {
    const [k, c, H] = [3, 256, 56];
    const K = randomValues(k * k * c * c, 1);
    const file = cntFile(
      [{ name: "conv", kind: "conv2d", weight: "conv.w", weightLayout: "hwio", attributes: { stride: [1, 1], pads: [1, 1, 1, 1] } }],
      [{ name: "conv.w", shape: [k, k, c, c], values: K }],
      [c, H, H],
    );
    await analyze(file); // warm-up
    let t0 = performance.now();
    const report = await analyze(file, { perNode: true, boundary: "zero" });
    const cntscopeMs = performance.now() - t0;
    t0 = performance.now();
    const naive = naiveConv(K, k, k, c, c, H, H, 1);
    const naiveMs = performance.now() - t0;
    // The strengths alone, as analyze computes them: one tap-sum pass, then the maps.
    const kernels = await Kernels.create();
    const layer: LayerInfo = { name: "conv", kind: "conv2d", weight: "conv.w", weightLayout: "hwio", attributes: { stride: [1, 1], pads: [1, 1, 1, 1] } };
    const tensor = { name: "conv.w", dtype: "f32" as const, shape: [k, k, c, c], offset: 0, byteLength: K.byteLength };
    const kernel = convKernel(layer, tensor);
    const source = memorySource(K);
    let strengthsMs = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t = performance.now();
      const pass = await runTensorPass({ kernels, source, blockBytes: 4 << 20 }, { tensor, conv: kernel.request });
      convStrengthMaps(kernels, layer, kernel, [H, H], { sumOverA: pass.sumOverA!, sumOverB: pass.sumOverB! });
      strengthsMs = Math.min(strengthsMs, performance.now() - t);
    }
    const out = report.nodeLayers[0].perNode!.sOut, into = report.nodeLayers[1].perNode!.sIn;
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - naive.sOut[i]) / Math.max(1e-12, Math.abs(naive.sOut[i])));
    for (let i = 0; i < into.length; i++) worst = Math.max(worst, Math.abs(into[i] - naive.sIn[i]) / Math.max(1e-12, Math.abs(naive.sIn[i])));
    results.push({ case: "conv 3x3 256->256 on 56x56", strengthsMs, cntscopeMs, naiveMs, ratio: naiveMs / strengthsMs, maxRelativeDifference: worst });
  }
  {
    const [n, H] = [1024, 1024];
    const wi = randomValues(4 * H * n, 2), wh = randomValues(4 * H * H, 3);
    const file = cntFile(
      [{ name: "lstm", kind: "lstm", weight: "wi", recurrentWeight: "wh", weightLayout: "out_in", attributes: { hidden: H, direction: "forward" } }],
      [{ name: "wi", shape: [4 * H, n], values: wi }, { name: "wh", shape: [4 * H, H], values: wh }],
    );
    await analyze(file);
    let t0 = performance.now();
    const report = await analyze(file, { perNode: true });
    const cntscopeMs = performance.now() - t0;
    // The definition: sum the gates' matrices into one link per pair, then each node's links.
    t0 = performance.now();
    const into = new Float64Array(H), outOfX = new Float64Array(n), outOfH = new Float64Array(H);
    for (const [W, cols, out] of [[wi, n, outOfX], [wh, H, outOfH]] as const) {
      for (let i = 0; i < cols; i++) for (let j = 0; j < H; j++) {
        let link = 0;
        for (let g = 0; g < 4; g++) link += W[(g * H + j) * cols + i];
        out[i] += link;
        into[j] += link;
      }
    }
    const naiveMs = performance.now() - t0;
    const got = report.nodeLayers[1].perNode!.sIn;
    let worst = 0;
    for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(got[j] - into[j]) / Math.max(1e-12, Math.abs(into[j])));
    results.push({ case: "LSTM 1024 -> 1024", cntscopeMs, naiveMs, ratio: naiveMs / cntscopeMs, maxRelativeDifference: worst });
  }
  return results;
}

export function formatConv(r: ConvBenchResult): string {
  const strengths = r.strengthsMs === undefined ? "" : `strengths ${r.strengthsMs.toFixed(1)} ms, `;
  return `${r.case.padEnd(28)} ${strengths}whole analyze ${r.cntscopeMs.toFixed(1)} ms (read, moments, histograms, strengths, node distributions) | definition, directly ${r.naiveMs.toFixed(0)} ms | ${r.ratio.toFixed(0)}x faster (${r.strengthsMs === undefined ? "whole analyze" : "strengths"}) | max relative difference ${r.maxRelativeDifference.toExponential(1)}`;
}

if (process.argv[1]?.endsWith("conv.bench.ts")) {
  for (const r of await benchConv()) {
    console.log(formatConv(r));
  }
}
