import type { Report } from "../report/types.js";
import { plotByDepth } from "./depth.js";
import { plotGraphStrip } from "./graph-strip.js";
import { plotHistogram } from "./histogram.js";

export interface ReportPlots {
  /** Per weighted layer: its link-weight histogram, and its bias histogram when it has one. */
  layers: { name: string; linkWeights: string | null; bias: string | null }[];
  /** Per node layer: the distribution of s, and of s_in and s_out with option inOut. */
  nodeLayers: { index: number; after: string; strength: string; strengthIn?: string; strengthOut?: string }[];
  /** Layer fluctuation (std of s) and cv by depth. */
  fluctuation: string;
  cv: string;
  /** The node layers as a strip of boxes coloured by fluctuation. */
  strip: string;
  /** With data metrics: per node layer the distributions of z and a, and their std by depth. */
  neurons?: { index: number; after: string; strength: string; activation: string }[];
  neuronStd?: string;
}

/**
 * Every plot of one report as standalone SVG text: made without a DOM, so the same in Node,
 * browsers and edge runtimes.
 */
export function plotReport(report: Report, options: { inOut?: boolean } = {}): ReportPlots {
  const layers = report.layers.map((l) => ({
    name: l.name,
    linkWeights: l.linkWeights && plotHistogram(l.linkWeights.histogram, { title: `${l.name}: link weights`, quantity: "link weight" }),
    bias: l.bias && plotHistogram(l.bias.histogram, { title: `${l.name}: bias`, quantity: "bias weight" }),
  }));
  const nodeLayers = report.nodeLayers.map((n) => {
    const name = `node layer ${n.index} (after ${n.after}, ${n.size.toLocaleString("en-US")} nodes)`;
    const entry: ReportPlots["nodeLayers"][number] = { index: n.index, after: n.after, strength: plotHistogram(n.strength.histogram, { title: `${name}: s`, quantity: "node strength s = s_in + s_out" }) };
    if (options.inOut) {
      entry.strengthIn = plotHistogram(n.strengthIn.histogram, { title: `${name}: s_in`, quantity: "in-strength s_in" });
      entry.strengthOut = plotHistogram(n.strengthOut.histogram, { title: `${name}: s_out`, quantity: "out-strength s_out" });
    }
    return entry;
  });
  const layerNames = report.nodeLayers.map((n) => n.after);
  const model = report.source.name;
  const measured = report.nodeLayers.filter((n) => n.neuronStrength && n.neuronActivation);
  const neurons = measured.map((n) => {
    const name = `node layer ${n.index} (after ${n.after})`;
    return {
      index: n.index,
      after: n.after,
      strength: plotHistogram(n.neuronStrength!.histogram, { title: `${name}: z`, quantity: "neuron strength z (what reaches the node)" }),
      activation: plotHistogram(n.neuronActivation!.histogram, { title: `${name}: a`, quantity: "neuron activation a = f(z)" }),
    };
  });
  const data = report.data
    ? {
        neurons,
        neuronStd: plotByDepth(
          [
            { label: "std of z", values: report.nodeLayers.map((n) => n.neuronStrength?.std ?? null) },
            { label: "std of a", values: report.nodeLayers.map((n) => n.neuronActivation?.std ?? null) },
          ],
          { title: "std of z and a by depth", quantity: `std over ${report.data.samples.toLocaleString("en-US")} samples x nodes`, layerNames: report.nodeLayers.map((n) => n.after) },
        ),
      }
    : {};
  return {
    ...data,
    layers,
    nodeLayers,
    fluctuation: plotByDepth([{ label: model, values: report.nodeLayers.map((n) => n.fluctuation) }], { title: "Layer fluctuation by depth", quantity: "fluctuation (std of s)", layerNames }),
    cv: plotByDepth([{ label: model, values: report.nodeLayers.map((n) => n.cv) }], { title: "Coefficient of variation of s by depth", quantity: "cv = std(s) / |mean(s)|", layerNames }),
    strip: plotGraphStrip(report.nodeLayers.map((n) => ({ after: n.after, size: n.size, fluctuation: n.fluctuation }))),
  };
}
