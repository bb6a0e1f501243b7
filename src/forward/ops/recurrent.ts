/**
 * Recurrent ops (rnn, lstm, gru) and embedding lookups. A recurrent op runs unrolled over time:
 * the input projection of every step in one gemm (x W^T + biases), then per step h R^T by gemm
 * and the gate math in a kernel (assembly/forward/recurrent.ts), gates packed once into the
 * kernels' canonical order (LSTM i f c o, GRU z r h).
 *
 * Three styles of layer, told apart by the weight layout and the graph:
 *   ONNX      graph op, weights "out_in": X [T, B, I] (layout 1: [B, T, I]), inputs X W R B
 *             sequence_lens initial_h initial_c P; Y [T, D, B, H] (layout 1: [B, T, D, H]),
 *             Y_h and Y_c [D, B, H] (layout 1: [B, D, H]); B = [Wb, Rb] per direction.
 *   PyTorch   state_dict layers in a chain, weights "out_in": x [B, T, I] (batch first: the
 *             chain's data has the batch axis first), y [B, T, D·H] as nn.LSTM's output;
 *             b_ih and b_hh. A chain input [B, I] is one step: y [B, D·H].
 *   Keras     weights "in_out": x [B, T, I] (timeMajor: [T, B, I]), y [B, T, D·H] with
 *             returnSequences else [B, D·H], then the states when returnState; one bias (a GRU
 *             with resetAfter: input and recurrent rows). Bidirectional: mergeMode concat only.
 * The reverse direction reads the steps from last to first and writes each step's output at its
 * input's time (ONNX, PyTorch, Keras Bidirectional); a lone Keras go_backwards layer returns its
 * outputs in the order it made them.
 */
import { CntError, quoteName } from "../../errors.js";
import type { LayerInfo } from "../../model/types.js";
import type { GraphOp } from "../../graph/types.js";
import type { ForwardMemory, PrepareContext, PrepareOp, Tensor } from "../types.js";
import { ForwardUnsupported, elementsOf } from "../types.js";

/** Kernel activation codes (assembly/forward/recurrent.ts act). */
const LINEAR = 0, TANH = 1, SIGMOID = 2, RELU = 3;

const GATES: Record<string, { count: number; canonical: string; alias: Record<string, string> }> = {
  rnn: { count: 1, canonical: "h", alias: {} },
  lstm: { count: 4, canonical: "ifco", alias: { g: "c" } },
  gru: { count: 3, canonical: "zrh", alias: { n: "h" } },
};

type Style = "onnx" | "pytorch" | "keras";

/** One direction's packed weights, canonical gate order. */
interface Direction {
  reverse: boolean;
  /** W^T [I, G·H], R^T [H, G·H], the projection's bias [G·H], the recurrent product's bias [G·H] (GRU h block with linear-before-reset). */
  wt: number;
  rt: number;
  xb: number;
  rb: number;
  /** Activations: gates (f), candidate (g), cell output (h, LSTM). */
  f: number;
  g: number;
  h: number;
}

const prepareRecurrent: PrepareOp = async (op, ctx) => {
  const layer = op.layer;
  const kind = op.op;
  const spec = GATES[kind];
  const style: Style = layer.weightLayout === "in_out" ? "keras" : ctx.graph.chain ? "pytorch" : "onnx";
  const attrs = layer.attributes ?? {};
  const layers = [layer, ...(op.directions ?? [])];
  if (layers.length > 2) throw new ForwardUnsupported(op, `${layers.length} directions (at most forward and reverse)`);
  if (layers.length === 2 && layers[0].attributes?.direction === layers[1].attributes?.direction) throw new ForwardUnsupported(op, "two directions that run the same way");
  const shapeOf = (name: string | undefined) => (name ? ctx.tensorShape(name) : undefined);
  const rShape = shapeOf(layer.recurrentWeight);
  const wShape = shapeOf(layer.weight);
  if (!layer.weight || !layer.recurrentWeight || !wShape || !rShape || wShape.length !== 2 || rShape.length !== 2) {
    throw new ForwardUnsupported(op, "the input and recurrent weight matrices (one per direction, rank 2) are needed");
  }
  const G = spec.count;
  const hidden = typeof attrs.hidden === "number" && attrs.hidden > 0 ? attrs.hidden : style === "keras" ? rShape[0] : rShape[1];
  const GH = G * hidden;
  const inputSize = style === "keras" ? wShape[0] : wShape[1];
  const expectW = style === "keras" ? [inputSize, GH] : [GH, inputSize];
  const expectR = style === "keras" ? [hidden, GH] : [GH, hidden];
  const gateOrder = String(attrs.gateOrder ?? spec.canonical).split("").map((c) => spec.alias[c] ?? c).join("");
  if (gateOrder.length !== G || [...spec.canonical].some((c) => !gateOrder.includes(c))) throw new ForwardUnsupported(op, `gate order ${JSON.stringify(attrs.gateOrder)} is not an order of ${JSON.stringify(spec.canonical)}`);
  const lbr = kind === "gru" ? (style === "onnx" ? Number(attrs.linearBeforeReset ?? 0) : style === "pytorch" ? 1 : Number(attrs.resetAfter ?? 0)) : 0;

  // What the op's attributes and inputs ask beyond what the kernels do.
  const clip = typeof attrs.clip === "number" ? attrs.clip : 0;
  if (typeof attrs.clip === "number" && !(attrs.clip > 0)) throw new ForwardUnsupported(op, `clip ${attrs.clip} (a positive threshold is expected)`);
  const inputForget = attrs.inputForget === 1 ? 1 : 0;
  if (style === "onnx") {
    if (op.inputs[4]) throw new ForwardUnsupported(op, "sequence_lens (per-sample sequence lengths) is not run");
    if (op.inputs[7]) throw new ForwardUnsupported(op, "peephole weights P are not run");
  }
  const timeMajor = style === "onnx" ? Number(attrs.layout ?? 0) === 0 : style === "keras" && attrs.timeMajor === 1;
  // Time-major data straight from a graph input: the executor puts the samples on axis 1 (src/forward/data-metrics.ts);
  // were they on axis 0, time, a sequence longer than a batch would restart its state mid-way.
  const declared = ctx.graph.values.get(op.inputs[0])?.shape;
  if (timeMajor && ctx.graph.batched && ctx.graph.inputs.includes(op.inputs[0]) && ctx.batchAxis(op.inputs[0]) !== 1 && typeof declared?.[0] !== "number") {
    throw new ForwardUnsupported(op, `its data ${quoteName(op.inputs[0])} is a graph input with time on the first axis, the axis the forward pass cuts into batches; the file does not fix its length, so sequences could be cut`);
  }
  const mergeMode = String(attrs.mergeMode ?? "concat");
  if (style === "keras" && layers.length === 2 && mergeMode !== "concat") throw new ForwardUnsupported(op, `Bidirectional merge_mode ${JSON.stringify(mergeMode)} (only concat is run)`);
  const acts = activations(op, style, kind, layers.length);
  if (style === "keras") {
    const masker = maskUpstream(op, ctx);
    if (masker) throw new ForwardUnsupported(op, `the steps ${quoteName(masker)} masks (Masking, Embedding mask_zero) would be skipped by Keras; masks are not run`);
  }

  const memory = ctx.memory;
  const owned: number[] = [];
  const directions: Direction[] = [];
  for (let d = 0; d < layers.length; d++) {
    const l = layers[d];
    const name = (t: string | undefined) => (t === undefined ? "none" : quoteName(t));
    const ws = shapeOf(l.weight), rs = shapeOf(l.recurrentWeight);
    if (!l.weight || !l.recurrentWeight || !sameShape(ws, expectW) || !sameShape(rs, expectR)) {
      throw new ForwardUnsupported(op, `direction ${d}: weights ${name(l.weight)} ${JSON.stringify(ws)} and ${name(l.recurrentWeight)} ${JSON.stringify(rs)} do not have the shapes ${JSON.stringify(expectW)} and ${JSON.stringify(expectR)} of ${hidden} hidden units over ${inputSize} inputs`);
    }
    const wb = new Float32Array(GH), rb = new Float32Array(GH);
    const biasOf = async (t: string | undefined, into: Float32Array[]) => {
      if (!t) return;
      const v = await ctx.weight(t);
      if (v.length !== into.length * GH) throw new ForwardUnsupported(op, `bias ${quoteName(t)} has ${v.length} values, not ${into.length * GH}`);
      into.forEach((target, i) => target.set(v.subarray(i * GH, (i + 1) * GH)));
    };
    if (style === "onnx") await biasOf(l.bias, [wb, rb]);
    else {
      await biasOf(l.bias, [wb]);
      await biasOf(l.recurrentBias, [rb]);
    }
    const wt = pack(await ctx.weight(l.weight), inputSize, hidden, G, gateOrder, spec.canonical, style === "keras");
    const rt = pack(await ctx.weight(l.recurrentWeight), hidden, hidden, G, gateOrder, spec.canonical, style === "keras");
    const xbias = new Float32Array(GH), rbias = new Float32Array(GH);
    for (let k = 0; k < G; k++) {
      const src = gateOrder.indexOf(spec.canonical[k]) * hidden;
      for (let j = 0; j < hidden; j++) {
        const onRecurrent = kind === "gru" && k === 2 && lbr === 1;
        xbias[k * hidden + j] = wb[src + j] + (onRecurrent ? 0 : rb[src + j]);
        rbias[k * hidden + j] = onRecurrent ? rb[src + j] : 0;
      }
    }
    const dir: Direction = { reverse: l.attributes?.direction === "reverse", wt: upload(memory, wt), rt: upload(memory, rt), xb: upload(memory, xbias), rb: upload(memory, rbias), ...acts[d] };
    owned.push(dir.wt, dir.rt, dir.xb, dir.rb);
    directions.push(dir);
  }
  // A lone reverse layer: ONNX and PyTorch write steps at their input's time; Keras go_backwards in the order made.
  const madeOrder = style === "keras" && layers.length === 1;
  const D = directions.length;
  const exports = memory.exports;

  return {
    run(inputs) {
      const x = inputs[0];
      if (!x) throw new ForwardUnsupported(op, "no data input");
      let T: number, B: number;
      const rank2 = x.shape.length === 2 && style !== "onnx";
      if (rank2) [B, T] = [x.shape[0], 1];
      else if (x.shape.length !== 3) throw new ForwardUnsupported(op, `data of shape ${JSON.stringify(x.shape)} (expected [steps, batch, inputs] or [batch, steps, inputs])`);
      else [T, B] = timeMajor ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
      const I = x.shape[x.shape.length - 1];
      if (I !== inputSize) throw new ForwardUnsupported(op, `data of shape ${JSON.stringify(x.shape)} has ${I} features; the weights take ${inputSize}`);
      const H = hidden;
      // Rows of x (and of the projection) for step t, sample b: t·rT + b·rB.
      const [rT, rB] = timeMajor ? [B, 1] : [1, T];

      // Outputs. Y strides (f32 values) per step, sample and direction.
      const outputs: (Tensor | undefined)[] = op.outputs.map(() => undefined);
      let yShape: number[], ysT: number, ysB: number, ysD: number;
      const sequences = style !== "keras" || attrs.returnSequences === 1;
      if (style === "onnx") {
        yShape = timeMajor ? [T, D, B, H] : [B, T, D, H];
        [ysT, ysB, ysD] = timeMajor ? [D * B * H, H, B * H] : [D * H, T * D * H, H];
      } else if (rank2 || !sequences) {
        yShape = [B, D * H];
        [ysT, ysB, ysD] = [0, D * H, H];
      } else {
        yShape = timeMajor ? [T, B, D * H] : [B, T, D * H];
        [ysT, ysB, ysD] = timeMajor ? [B * D * H, D * H, H] : [D * H, T * D * H, H];
      }
      const y = memory.tensor(yShape);
      // The neuron strength z of y's nodes: the argument of the activation that makes them (RNN: W x + R h + b; LSTM: the cell state c, as h = o · tanh(c); GRU: the candidate's pre-activation).
      const pre = memory.tensor(yShape);
      const proj = memory.alloc(T * B * G * H);
      const hState = memory.alloc(B * H), cState = memory.alloc(B * H), hr = memory.alloc(B * G * H), rh = memory.alloc(B * H);
      const finals: { h: number; c: number }[] = [];
      for (let d = 0; d < D; d++) finals.push({ h: memory.alloc(B * H), c: memory.alloc(B * H) });
      try {
        for (let d = 0; d < D; d++) {
          const dir = directions[d];
          exports.gemm(x.ptr, dir.wt, proj, T * B, G * H, I, I, G * H, G * H, dir.xb, 1, 0);
          initialState(memory, op, style, inputs, d, D, B, H, timeMajor, hState, cState);
          const ldg = rB * G * H;
          for (let s = 0; s < T; s++) {
            const t = dir.reverse ? T - 1 - s : s;
            const g = proj + 4 * t * rT * G * H;
            const at = madeOrder ? s : t;
            const yAt = y.ptr + 4 * (at * ysT + d * ysD), zAt = pre.ptr + 4 * (at * ysT + d * ysD);
            if (kind === "gru") {
              if (lbr === 1) exports.gemm(hState, dir.rt, hr, B, G * H, H, H, G * H, G * H, dir.rb, 1, 0);
              else {
                exports.gemm(hState, dir.rt, hr, B, 2 * H, H, H, G * H, G * H, 0, 0, 0);
                exports.gruReset(g, ldg, hr, hState, rh, B, H, dir.f, clip);
                exports.gemm(rh, dir.rt + 8 * H, hr + 8 * H, B, H, H, H, G * H, G * H, 0, 0, 0);
              }
              exports.gruStep(g, ldg, hr, hState, yAt, ysB, zAt, ysB, B, H, dir.f, dir.g, clip, lbr);
            } else {
              exports.gemm(hState, dir.rt, g, B, G * H, H, H, G * H, ldg, 0, 0, 1);
              if (kind === "lstm") exports.lstmStep(g, ldg, cState, hState, yAt, ysB, zAt, ysB, B, H, dir.f, dir.g, dir.h, clip, inputForget);
              else exports.rnnStep(g, ldg, hState, yAt, ysB, zAt, ysB, B, H, dir.f, clip);
            }
          }
          memory.f32(finals[d].h, B * H).set(memory.f32(hState, B * H));
          memory.f32(finals[d].c, B * H).set(memory.f32(cState, B * H));
        }
        outputs[0] = y;
        // States: ONNX Y_h, Y_c [D, B, H] (layout 1: [B, D, H]); Keras return_state: h (and c) per direction.
        if (style === "onnx") {
          for (const [k, which] of [[1, "h"], [2, "c"]] as const) {
            if (!op.outputs[k] || (which === "c" && kind !== "lstm")) continue;
            const out = memory.tensor(timeMajor ? [D, B, H] : [B, D, H]);
            for (let d = 0; d < D; d++) {
              const src = memory.f32(finals[d][which], B * H), dst = memory.f32(out.ptr, D * B * H);
              for (let b = 0; b < B; b++) dst.set(src.subarray(b * H, (b + 1) * H), timeMajor ? (d * B + b) * H : (b * D + d) * H);
            }
            outputs[k] = out;
          }
        } else if (style === "keras" && attrs.returnState === 1) {
          let k = 1;
          for (let d = 0; d < D; d++) {
            for (const which of kind === "lstm" ? (["h", "c"] as const) : (["h"] as const)) {
              if (k < op.outputs.length && op.outputs[k]) {
                const out = memory.tensor([B, H]);
                memory.f32(out.ptr, B * H).set(memory.f32(finals[d][which], B * H));
                outputs[k] = out;
              }
              k++;
            }
          }
        }
      } catch (e) {
        memory.free(y.ptr);
        memory.free(pre.ptr);
        for (const t of outputs) if (t && t !== y) memory.free(t.ptr);
        throw e;
      } finally {
        for (const p of [proj, hState, cState, hr, rh, ...finals.flatMap((f) => [f.h, f.c])]) memory.free(p);
      }
      return { outputs, pre };
    },
    dispose() {
      for (const p of owned) memory.free(p);
    },
  };
};

/** Starting states of direction d: ONNX initial_h / initial_c when given, else zero. */
function initialState(memory: ForwardMemory, op: GraphOp, style: Style, inputs: (Tensor | undefined)[], d: number, D: number, B: number, H: number, timeMajor: boolean, h: number, c: number): void {
  for (const [k, ptr] of [[5, h], [6, c]] as const) {
    const given = style === "onnx" ? inputs[k] : undefined;
    const state = memory.f32(ptr, B * H);
    if (!given) {
      state.fill(0);
      continue;
    }
    const want = timeMajor ? [D, B, H] : [B, D, H];
    if (!sameShape(given.shape, want)) throw new ForwardUnsupported(op, `${k === 5 ? "initial_h" : "initial_c"} of shape ${JSON.stringify(given.shape)} (expected ${JSON.stringify(want)})`);
    const src = memory.f32(given.ptr, D * B * H);
    const dst = memory.f32(ptr, B * H);
    for (let b = 0; b < B; b++) dst.set(src.subarray(timeMajor ? (d * B + b) * H : (b * D + d) * H, (timeMajor ? (d * B + b) * H : (b * D + d) * H) + H), b * H);
  }
}

/** An op upstream of `op` that makes a Keras mask (Masking, Embedding with mask_zero), if any. */
function maskUpstream(op: GraphOp, ctx: PrepareContext): string | undefined {
  const seen = new Set<GraphOp>();
  const stack = [op];
  while (stack.length > 0) {
    const at = stack.pop()!;
    for (const name of at.inputs) {
      const producer = ctx.graph.values.get(name)?.producer;
      if (!producer || seen.has(producer)) continue;
      seen.add(producer);
      if (producer.layer.attributes?.maskZero === 1 || producer.layer.attributes?.masking === 1) return producer.name;
      stack.push(producer);
    }
  }
  return undefined;
}

/** W^T [rows = n_in, G·H] in canonical gate order from W stored [G·H, n_in] (out_in) or [n_in, G·H] (in_out). */
function pack(w: Float32Array, nIn: number, hidden: number, G: number, order: string, canonical: string, inOut: boolean): Float32Array {
  const GH = G * hidden;
  const out = new Float32Array(nIn * GH);
  for (let k = 0; k < G; k++) {
    const src = order.indexOf(canonical[k]) * hidden;
    for (let j = 0; j < hidden; j++) {
      const col = k * hidden + j;
      if (inOut) for (let i = 0; i < nIn; i++) out[i * GH + col] = w[i * GH + src + j];
      else for (let i = 0; i < nIn; i++) out[i * GH + col] = w[(src + j) * nIn + i];
    }
  }
  return out;
}

function upload(memory: ForwardMemory, values: Float32Array): number {
  const ptr = memory.alloc(values.length);
  memory.f32(ptr, values.length).set(values);
  return ptr;
}

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

const ONNX_ACTIVATIONS: Record<string, number> = { tanh: TANH, sigmoid: SIGMOID, relu: RELU };
const KERAS_ACTIVATIONS: Record<string, number> = { tanh: TANH, sigmoid: SIGMOID, relu: RELU, linear: LINEAR };

/** Each direction's activations (f gates, g candidate, h cell output) as kernel codes. */
function activations(op: GraphOp, style: Style, kind: string, directions: number): { f: number; g: number; h: number }[] {
  const per = kind === "lstm" ? 3 : kind === "gru" ? 2 : 1;
  if (style === "onnx") {
    const given = op.layer.attributes?.activations;
    const defaults = kind === "lstm" ? ["sigmoid", "tanh", "tanh"] : kind === "gru" ? ["sigmoid", "tanh"] : ["tanh"];
    const names = given === undefined ? [] : String(given).split(",").map((a) => a.toLowerCase());
    const out: { f: number; g: number; h: number }[] = [];
    for (let d = 0; d < directions; d++) {
      const list = names.length === 0 ? defaults : names.slice(d * per, (d + 1) * per);
      if (list.length !== per || list.some((a) => !Object.hasOwn(ONNX_ACTIVATIONS, a))) throw new ForwardUnsupported(op, `activations ${JSON.stringify(given)} (the kernels run Tanh, Sigmoid and Relu, ${per} per direction)`);
      const codes = list.map((a) => ONNX_ACTIVATIONS[a]);
      out.push(kind === "rnn" ? { f: codes[0], g: codes[0], h: codes[0] } : { f: codes[0], g: codes[1], h: codes[per - 1] });
    }
    return out;
  }
  if (style === "pytorch") {
    // nn.RNN's nonlinearity is not in a state_dict: PyTorch's default, tanh, unless the layer says relu.
    const a = op.layer.activation === "relu" ? RELU : TANH;
    if (kind === "rnn" && op.layer.activation !== undefined && op.layer.activation !== "tanh" && op.layer.activation !== "relu") throw new ForwardUnsupported(op, `activation ${op.layer.activation}`);
    return Array.from({ length: directions }, () => ({ f: kind === "rnn" ? a : SIGMOID, g: kind === "rnn" ? a : TANH, h: TANH }));
  }
  // Keras: activation (default tanh) for the candidate and the cell output; recurrent_activation for the gates.
  const layers: LayerInfo[] = [op.layer, ...(op.directions ?? [])];
  return layers.map((l) => {
    const name = l.activation ?? "tanh";
    if (!Object.hasOwn(KERAS_ACTIVATIONS, name)) throw new ForwardUnsupported(op, `activation ${JSON.stringify(l.attributes?.activationName ?? name)} (the kernels run tanh, sigmoid, relu and linear)`);
    const a = KERAS_ACTIVATIONS[name];
    if (kind === "rnn") return { f: a, g: a, h: a };
    const rec = l.attributes?.recurrentActivation;
    if (rec === undefined) throw new ForwardUnsupported(op, "the layer does not record its recurrent_activation (Keras defaults to sigmoid, TF.js to hard_sigmoid)");
    if (rec === "hard_sigmoid" || rec === "hardSigmoid") throw new ForwardUnsupported(op, "recurrent_activation hard_sigmoid is 0.2x + 0.5 in Keras 2 and TF.js but x/6 + 0.5 in Keras 3, and the file does not say which");
    if (!Object.hasOwn(KERAS_ACTIVATIONS, String(rec))) throw new ForwardUnsupported(op, `recurrent_activation ${JSON.stringify(rec)}`);
    return { f: KERAS_ACTIVATIONS[String(rec)], g: a, h: a };
  });
}

/** Embedding: token ids (f32 holding integers) [B, ...] -> rows of the table [vocab, dim]: [B, ..., dim]. */
const prepareLookup: PrepareOp = async (op, ctx) => {
  const table = op.layer.weight;
  const shape = table ? ctx.tensorShape(table) : undefined;
  if (!table || !shape || shape.length !== 2) throw new ForwardUnsupported(op, `the table ${table === undefined ? "(none)" : quoteName(table)} is not a matrix [vocab, dim]`);
  const [vocab, dim] = shape;
  // Ids arrive as f32: whole numbers are exact up to 2^24.
  if (vocab > 2 ** 24) throw new ForwardUnsupported(op, `a table of ${vocab} rows (ids travel as f32, exact up to ${2 ** 24})`);
  const memory = ctx.memory;
  const ptr = upload(memory, await ctx.weight(table));
  return {
    run(inputs) {
      const ids = inputs[0];
      if (!ids) throw new ForwardUnsupported(op, "no token ids");
      const n = elementsOf(ids.shape);
      const out = memory.tensor([...ids.shape, dim]);
      const bad = memory.exports.lookupRows(ids.ptr, n, ptr, vocab, dim, out.ptr) as number;
      if (bad >= 0) {
        const id = memory.f32(ids.ptr, n)[bad];
        const perSample = n / Math.max(ids.shape[0], 1);
        memory.free(out.ptr);
        throw new CntError("BAD_OPTION", `Input ${quoteName(op.inputs[0])} of op ${quoteName(op.name)}: sample ${Math.floor(bad / perSample)} holds the id ${id}, which is not a row of the ${vocab}-row table ${quoteName(table)} (ids are whole numbers 0 to ${vocab - 1}).`);
      }
      return { outputs: [out] };
    },
    dispose() {
      memory.free(ptr);
    },
  };
};

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = { rnn: prepareRecurrent, lstm: prepareRecurrent, gru: prepareRecurrent, lookup: prepareLookup };

