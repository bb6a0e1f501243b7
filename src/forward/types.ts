/**
 * The forward pass (spec metrics.md section 3): the graph's ops run over a batch of samples in
 * the kernels' linear memory. These types are the contract between the executor
 * (src/forward/execute.ts) and the op runners (src/forward/ops/*.ts).
 */
import { CntError, quoteName } from "../errors.js";
import type { GraphOp, ModelGraph } from "../graph/types.js";
import type { KernelExports } from "../kernels/kernels.js";

/**
 * Values in linear memory: f32, row-major. A data value has the batch axis first (shape[0] = the
 * batch's samples); a constant (a weight or float constant read as an operand) has its stored
 * shape and `constant: true`. Small integer values (shape arithmetic: Shape, Gather of a shape,
 * Concat of dims) live on the host in `ints` with ptr -1 and are never in linear memory.
 */
export interface Tensor {
  ptr: number;
  shape: number[];
  constant?: boolean;
  /** Integer values computed on the host (ptr is -1): shape arithmetic, indices. */
  ints?: number[];
}

/** The forward instance's linear memory: a first-fit allocator over it and views into it. */
export interface ForwardMemory {
  /** The wasm exports (assembly/index.ts: the measuring kernels and assembly/forward/*). */
  readonly exports: KernelExports & Record<string, any>;
  /** Room for `elements` f32 values, 64-byte aligned; may grow memory (views made before are then stale). */
  alloc(elements: number): number;
  free(ptr: number): void;
  /** A view of f32 values; make it after the last alloc, use it before the next. */
  f32(ptr: number, elements: number): Float32Array;
  f64(ptr: number, elements: number): Float64Array;
  /** A tensor of `shape` in fresh memory. */
  tensor(shape: number[]): Tensor;
}

/** What an op runner may ask for while it prepares (once, before the first batch). */
export interface PrepareContext {
  memory: ForwardMemory;
  /** A weight or float constant of the file, widened to f32, in the file's stored shape and order. */
  weight(name: string): Promise<Float32Array>;
  /** The stored shape of a tensor of the file; undefined when the file has no such tensor. */
  tensorShape(name: string): number[] | undefined;
  /** The graph (values: shapes and integer constants folded at analysis time). */
  graph: ModelGraph;
  /** Feature maps are [n, h, w, c] (Keras, TF.js) rather than [n, c, h, w] (PyTorch, ONNX). */
  channelsLast: boolean;
  /** Where the executor puts the samples of a fed graph input: 0, or 1 for a time-major sequence ([T, B, ...]). */
  batchAxis(input: string): number;
}

export interface RunResult {
  /** One per op output ("" outputs: undefined). The runner allocates them; the executor frees them. */
  outputs: (Tensor | undefined)[];
  /**
   * For ops with an activation inside (recurrent cells): the neuron strength z of the output's
   * nodes (spec section 3), shaped like outputs[0]. Dense and conv ops return z as their output:
   * the executor applies a fused activation after them.
   */
  pre?: Tensor;
}

export interface PreparedOp {
  /**
   * Run on one batch. `inputs` follow op.inputs: data values as tensors with the batch axis,
   * constants with `constant: true`, absent optional inputs ("") undefined. The runner must not
   * free or change its inputs.
   */
  run(inputs: (Tensor | undefined)[]): RunResult;
  /** Free what prepare allocated (packed weights). */
  dispose?(): void;
}

/** Make an op ready to run: check what it needs, load and pack its weights. */
export type PrepareOp = (op: GraphOp, ctx: PrepareContext) => Promise<PreparedOp>;

/**
 * The forward pass cannot run this op (an op, attribute or shape it does not know). The executor
 * turns it into a note naming the op; the weight-only report is unaffected.
 */
export class ForwardUnsupported extends CntError {
  constructor(op: GraphOp, what: string) {
    super("UNSUPPORTED_LAYER", `The forward pass cannot run op ${quoteName(op.name)} (${op.op}): ${what}.`);
  }
}

/** The product of a shape. */
export function elementsOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
