/**
 * Statistics of one measured value of a node layer (its z or its a) over the samples: per node
 * the count, mean and M2 of its observations, merged batch by batch with Chan's formula, and for
 * the layer the extremes, non-finite counts and the fine histogram (exact integer counts, so the
 * report's histogram can be binned over [min, max] at the end). Partials are plain data that
 * merge across batches, workers and machines (mergeNeuronPartials).
 */
import { FINE_BUCKETS } from "../kernels/layout.js";
import type { Distribution } from "../measure/distribution.js";
import { rebinFine, type FineHistogram } from "../measure/fine-histogram.js";
import { emptyHistogram } from "../measure/distribution.js";
import { uniformEdges } from "../measure/histogram.js";
import type { ForwardMemory } from "./types.js";

/** The mergeable partial of one measured value: plain data (JSON as it is). */
export interface NeuronPartial {
  value: string;
  /** Observations per node (samples, or samples x steps). */
  count: number;
  /** Per node, in the node layer's order: the mean and M2 (sum of squared deviations) of its observations. */
  mean: number[];
  m2: number[];
  min: number | null;
  max: number | null;
  nan: number;
  posInf: number;
  negInf: number;
  /** Every finite value's fine-histogram bucket (src/measure/fine-histogram.ts), counted. */
  fine: FineHistogram;
}

/** A NeuronPartial being added to batch by batch (typed arrays and a map of buckets). */
export interface NeuronAccumulator {
  value: string;
  count: number;
  mean: Float64Array;
  m2: Float64Array;
  min: number | null;
  max: number | null;
  nan: number;
  posInf: number;
  negInf: number;
  fine: Map<number, number>;
  /** A FINE_BUCKETS u32 area in linear memory the batches count into (harvested by flushFine); absent: counted through the shared scratch batch by batch. */
  dense?: number;
  /** Values counted into `dense` since it was last harvested (u32 counts must not overflow). */
  pending?: number;
}

/** A node layer's z or a in the report (spec section 3). */
export interface NeuronDistribution extends Distribution {
  /** The graph value measured ("<output>#z": the z of an op with its activation inside). */
  value: string;
  /** With option perNode: each node's mean and std (ddof 0) over the observations, in the node layer's order. */
  perNode?: { mean: Float64Array; std: Float64Array };
}

export function emptyAccumulator(value: string, nodes: number): NeuronAccumulator {
  return { value, count: 0, mean: new Float64Array(nodes), m2: new Float64Array(nodes), min: null, max: null, nan: 0, posInf: 0, negInf: 0, fine: new Map() };
}

/** The accumulator as plain data. */
export function partialOf(acc: NeuronAccumulator): NeuronPartial {
  const buckets = [...acc.fine.keys()].sort((x, y) => x - y);
  const { dense: _, pending: __, ...plain } = acc;
  return { ...plain, mean: Array.from(acc.mean), m2: Array.from(acc.m2), fine: { buckets, counts: buckets.map((b) => acc.fine.get(b)!) } };
}

/** Wasm areas the collector reuses between calls. */
export class CollectScratch {
  private fine = -1;
  private range = -1;
  private moments = -1;
  private momentsNodes = 0;

  constructor(private readonly memory: ForwardMemory) {}

  /** f64 mean and m2 arrays for `nodes` columns. */
  momentsArea(nodes: number): number {
    if (nodes > this.momentsNodes) {
      if (this.moments >= 0) this.memory.free(this.moments);
      this.moments = this.memory.alloc(nodes * 4);
      this.momentsNodes = nodes;
    }
    return this.moments;
  }

  rangeArea(): number {
    if (this.range < 0) this.range = this.memory.alloc(16);
    return this.range;
  }

  /** FINE_BUCKETS u32 counts, zero between calls. */
  fineArea(): number {
    if (this.fine < 0) {
      this.fine = this.memory.alloc(FINE_BUCKETS);
      this.memory.f32(this.fine, FINE_BUCKETS).fill(0);
    }
    return this.fine;
  }
}

const word = new DataView(new ArrayBuffer(4));
function bucketOf(x: number): number {
  word.setFloat32(0, x);
  return word.getUint32(0) >>> 16;
}

/**
 * Add one batch: `ptr` holds rows x nodes f32 values (an observation per row, nodes in the value's
 * order), `map` puts value node k at layer node map[k].
 */
export function addBatch(memory: ForwardMemory, scratch: CollectScratch, partial: NeuronAccumulator, ptr: number, rows: number, nodes: number, map: Int32Array | undefined): void {
  if (rows === 0 || nodes === 0) return;
  const k = memory.exports;
  const n = rows * nodes;
  const range = scratch.rangeArea();
  const fine = partial.dense ?? scratch.fineArea();
  k.histogramFine(ptr, n, fine);
  const moments = scratch.momentsArea(nodes);
  k.columnStats(ptr, rows, nodes, moments, moments + nodes * 8, range);

  const [lo, hi, nan, posInf, negInf] = memory.f64(range, 5);
  partial.nan += nan;
  partial.posInf += posInf;
  partial.negInf += negInf;
  if (lo <= hi) {
    partial.min = partial.min === null ? lo : Math.min(partial.min, lo);
    partial.max = partial.max === null ? hi : Math.max(partial.max, hi);
  }
  if (partial.dense !== undefined) {
    // Counted in place; harvested at the end, or before a bucket could pass 2^32.
    partial.pending = (partial.pending ?? 0) + n;
    if (partial.pending >= 2 ** 31) flushFine(memory, partial);
  } else if (lo <= hi) {
    // Only the buckets between the batch's extremes can be non-zero: read them and clear them.
    if (hi >= 0) harvest(memory, fine, 0, bucketOf(hi), partial.fine);
    if (lo < 0 || Object.is(lo, -0)) harvest(memory, fine, 0x8000, bucketOf(lo), partial.fine);
  }
  if (nan + posInf + negInf > 0) {
    // Non-finite values were bucketed too (exponent 0xff); clear those buckets.
    const counts = new Uint32Array(memory.exports.memory.buffer, fine, FINE_BUCKETS);
    for (let b = 0x7f80; b < 0x8000; b++) counts[b] = 0;
    for (let b = 0xff80; b < 0x10000; b++) counts[b] = 0;
  }

  const batchMean = memory.f64(moments, nodes);
  const batchM2 = memory.f64(moments + nodes * 8, nodes);
  const na = partial.count;
  const total = na + rows;
  const wb = rows / total;
  const cross = (na * rows) / total;
  for (let j = 0; j < nodes; j++) {
    const t = map ? map[j] : j;
    const delta = batchMean[j] - partial.mean[t];
    partial.mean[t] += delta * wb;
    partial.m2[t] += batchM2[j] + delta * delta * cross;
  }
  partial.count = total;
}

/** Move the counts of an accumulator's own fine area into its map, and clear the area. */
export function flushFine(memory: ForwardMemory, acc: NeuronAccumulator): void {
  if (acc.dense === undefined || !acc.pending) return;
  harvest(memory, acc.dense, 0, FINE_BUCKETS - 1, acc.fine);
  acc.pending = 0;
}

/** Add the non-zero counts of buckets [from, to] of a u32 area into `fine` (NaN and Inf buckets left out: counted apart), and clear them. */
function harvest(memory: ForwardMemory, area: number, from: number, to: number, fine: Map<number, number>): void {
  const counts = new Uint32Array(memory.exports.memory.buffer, area, FINE_BUCKETS);
  for (let b = from; b <= to; b++) {
    const c = counts[b];
    if (c === 0) continue;
    if (((b >>> 7) & 0xff) !== 0xff) fine.set(b, (fine.get(b) ?? 0) + c);
    counts[b] = 0;
  }
}

/** Two partials of the same value over disjoint samples, merged. */
export function mergeNeuronPartials(a: NeuronPartial, b: NeuronPartial): NeuronPartial {
  const total = a.count + b.count;
  const mean = new Array<number>(a.mean.length);
  const m2 = new Array<number>(a.mean.length);
  for (let j = 0; j < mean.length; j++) {
    const delta = b.mean[j] - a.mean[j];
    mean[j] = total === 0 ? 0 : a.mean[j] + delta * (b.count / total);
    m2[j] = total === 0 ? 0 : a.m2[j] + b.m2[j] + delta * delta * ((a.count * b.count) / total);
  }
  const counts = new Map<number, number>();
  for (const f of [a.fine, b.fine]) f.buckets.forEach((bucket, i) => counts.set(bucket, (counts.get(bucket) ?? 0) + f.counts[i]));
  const buckets = [...counts.keys()].sort((x, y) => x - y);
  const fine = { buckets, counts: buckets.map((bucket) => counts.get(bucket)!) };
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number) => (x === null ? y : y === null ? x : f(x, y));
  return { value: a.value, count: total, mean, m2, min: pick(a.min, b.min, Math.min), max: pick(a.max, b.max, Math.max), nan: a.nan + b.nan, posInf: a.posInf + b.posInf, negInf: a.negInf + b.negInf, fine };
}

/**
 * The report's distribution: over every (observation, node) value. Nodes have equal counts, so
 * the layer's mean is the mean of the node means and its M2 the nodes' M2 plus their spread.
 */
export function neuronDistribution(p: NeuronPartial, bins: number, perNode: boolean): NeuronDistribution {
  const nodes = p.mean.length;
  const nonFinite = p.nan + p.posInf + p.negInf;
  const count = p.count * nodes - nonFinite;
  let mean = 0;
  for (let j = 0; j < nodes; j++) mean += p.mean[j];
  mean /= nodes;
  let m2 = 0;
  for (let j = 0; j < nodes; j++) m2 += p.m2[j] + p.count * (p.mean[j] - mean) ** 2;
  const fine = p.fine;
  const histogram = p.min === null || p.max === null ? emptyHistogram(bins) : { edges: [...uniformEdges(p.min, p.max, bins)], counts: [] as number[], exact: false };
  if (histogram.edges) histogram.counts = rebinFine(fine, histogram.edges);
  const finite = nonFinite === 0 && count > 0;
  const out: NeuronDistribution = {
    value: p.value,
    count,
    mean: finite ? mean : null,
    std: finite ? Math.sqrt(Math.max(0, m2) / count) : null,
    min: p.min,
    max: p.max,
    nan: p.nan,
    posInf: p.posInf,
    negInf: p.negInf,
    histogram,
  };
  if (perNode) {
    const std = new Float64Array(nodes);
    for (let j = 0; j < nodes; j++) std[j] = p.count === 0 ? NaN : Math.sqrt(Math.max(0, p.m2[j]) / p.count);
    out.perNode = { mean: Float64Array.from(p.mean), std };
  }
  return out;
}
