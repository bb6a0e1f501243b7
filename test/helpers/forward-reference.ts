/**
 * The float64 references of test/fixtures/forward/make_models.py and what a test needs to hold a
 * report's data metrics (neuronStrength z, neuronActivation a) to them.
 */
import { readFileSync } from "node:fs";
import * as assert from "uvu/assert";

/** One value's distribution over every (observation, node) pair, as make_models.py writes it. */
export interface ReferenceDist {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  perNode: { mean: number[]; std: number[] };
}

export interface ReferenceLayer {
  /** The op the node layer follows (a weighted op, or a pool/resize for break="true"). */
  after: string;
  /** Every weighted op writing into these nodes (a residual Add's two convs). */
  producers: string[];
  op: string;
  /** The value expected as z and as a. */
  z: string;
  a: string;
  /** The node layer comes out of a pool or resize: it may carry no neuron strength. */
  break?: boolean;
}

export interface ReferenceModel {
  model: string;
  input: { file: string; shape: number[] };
  sequence: number | null;
  predicted: number[] | null;
  layers: ReferenceLayer[];
  /** Every value of the walked classes, by graph value name ("<Y>#z" for a recurrent op's z). */
  values: Record<string, ReferenceDist>;
}

/** What the report carries (src/forward: NeuronDistribution), read loosely so the test compiles before it lands. */
export interface NeuronDist {
  value: string;
  count: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  perNode?: { mean: ArrayLike<number>; std: ArrayLike<number> };
}

export function loadReference(dir: string, name: string): ReferenceModel {
  return JSON.parse(readFileSync(`${dir}/${name}.expected.json`, "utf8")) as ReferenceModel;
}

/** A float32 little-endian C-order .npy file (the fixtures' inputs). */
export function readNpyF32(path: string): { data: Float32Array; shape: number[] } {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${path}: not a C-order <f4 .npy (${header})`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const body = start + headerLen;
  for (let i = 0; i < n; i++) data[i] = view.getFloat32(body + 4 * i, true);
  return { data, shape };
}

/** 1e-5 relative, or 1e-6 absolute near 0 (rules.md). */
export function near(got: number | null | undefined, want: number, what: string): void {
  assert.ok(typeof got === "number" && Number.isFinite(got), `${what}: got ${got}, expected ${want}`);
  const err = Math.abs(got - want);
  assert.ok(err <= Math.max(1e-5 * Math.abs(want), 1e-6), `${what}: got ${got}, expected ${want} (error ${err.toExponential(2)})`);
}

/** Holds a measured distribution to the reference of the value it names. */
export function assertDist(got: NeuronDist, want: ReferenceDist, what: string): void {
  assert.is(got.count, want.count, `${what}: count`);
  near(got.mean, want.mean, `${what}: mean`);
  near(got.std, want.std, `${what}: std`);
  near(got.min, want.min, `${what}: min`);
  near(got.max, want.max, `${what}: max`);
  assert.ok(got.perNode, `${what}: perNode missing (option perNode: true)`);
  const pm = got.perNode!.mean, ps = got.perNode!.std;
  assert.is(pm.length, want.perNode.mean.length, `${what}: perNode.mean length`);
  assert.is(ps.length, want.perNode.std.length, `${what}: perNode.std length`);
  for (let i = 0; i < want.perNode.mean.length; i++) {
    near(pm[i], want.perNode.mean[i], `${what}: perNode.mean[${i}]`);
    near(ps[i], want.perNode.std[i], `${what}: perNode.std[${i}]`);
  }
}
