import type { Distribution } from "../measure/distribution.js";
import type { LayerKind } from "../model/types.js";
import type { NeuronDistribution } from "../forward/collect.js";
import type { DataSummary } from "../forward/data-metrics.js";

export type { NeuronDistribution, DataSummary };

/** Measured by measure/distribution.ts; the report holds it as it is. */
export type { Distribution };

export interface LayerReport {
  index: number;
  name: string;
  kind: LayerKind;
  /** The weight tensor's shape as the spec orients it ([n_in, n_out] for dense). */
  shape: number[];
  /** Parameters of the layer: weights and bias. */
  params: number;
  /**
   * The dtype the weight's values are measured in: the file's (f32, f16, bf16, f64), or f32 for
   * weights stored quantized, which are dequantized to f32 first (then `quant` names the storage).
   */
  dtype: string | null;
  /** The weight's block quantization as stored (GGUF: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K); absent for plain weights. */
  quant?: string;
  /** The weight matrix or kernel (recurrent layers: the input-to-hidden matrix, gates stacked as stored). */
  linkWeights: Distribution | null;
  bias: Distribution | null;
  /** Gates "separate": which gate of its recurrent layer this entry is (a letter of the gate order). */
  gate?: string;
  /** Recurrent layers: the hidden-to-hidden matrix and its bias. */
  recurrentWeights?: Distribution | null;
  recurrentBias?: Distribution | null;
  /** Tensor names, for tools that go back to the file. */
  tensors: { weight?: string; bias?: string; recurrentWeight?: string; recurrentBias?: string };
  activation?: string;
  /** The values the layer reads (data first, then weights and constants) and writes, as the graph names them. */
  inputs?: string[];
  outputs?: string[];
}

export interface PerNode {
  s: Float64Array;
  sIn: Float64Array;
  sOut: Float64Array;
}

export interface NodeLayerReport {
  index: number;
  /** The parameter layer this node layer follows, or "input". */
  after: string;
  size: number;
  /** [n] for a vector of neurons, [c, h, w] for a feature map (per-node values are channel-major). */
  shape: number[];
  strength: Distribution;
  strengthIn: Distribution;
  strengthOut: Distribution;
  /** Standard deviation (ddof 0) of s over the node layer. */
  fluctuation: number | null;
  /** fluctuation / |mean of s|; null when the mean is 0 or the layer is empty. */
  cv: number | null;
  /** Every node's s, s_in and s_out, only with the option perNode. */
  perNode?: PerNode;
  /** The ops whose outputs are these nodes ("input" for a graph input); `after` is the first. */
  producers: string[];
  /** The graph's values these nodes are. */
  values: string[];
  /**
   * With option inputs (spec metrics.md section 3): the neuron strength z (what reaches each node,
   * bias included) and the neuron activation a = f(z) over every (sample, node); absent on input
   * layers and where the forward pass stopped (a note says why).
   */
  neuronStrength?: NeuronDistribution;
  neuronActivation?: NeuronDistribution;
}

export interface ReportOptions {
  bias: "in" | "ignore";
  gates: "sum" | "separate";
  boundary: "unit" | "zero";
  bins: number;
  /** How link-weight histograms were binned: "exact" (known range or a second pass), "edges" (the caller's, for all tensors or some: linkEdges, tensorEdges), "rebinned" (one-shot stream). */
  histogram: "exact" | "edges" | "rebinned";
  linkEdges?: number[];
  skip: "unit" | "none";
}

export interface Report {
  cntscope: string;
  source: { name: string; format: string; bytes: number | null };
  options: ReportOptions;
  layers: LayerReport[];
  nodeLayers: NodeLayerReport[];
  /** Tensors that no layer uses and that were not measured (for example integer counters). */
  skipped: { name: string; dtype: string; shape: number[]; reason: string }[];
  /** Things the reader of the report should know (non-finite weights, what the walk could not place). */
  notes: string[];
  /** How much of the graph the strengths include (spec report.md). */
  coverage: { weightedLayers: number; inStrengths: number };
  /** With option inputs: what the forward pass ran on, and the accuracy with option labels. */
  data?: DataSummary;
}
