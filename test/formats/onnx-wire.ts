/**
 * A tiny protobuf/ONNX writer for tests: builds ModelProto bytes field by field, so hostile
 * cases (long varints, lying lengths, deep nesting, odd packed sizes) can be written exactly.
 * Field numbers follow onnx/onnx.proto; see src/formats/onnx/read.ts for the ones the reader uses.
 */
export type Bytes = Uint8Array;

export function cat(...parts: (Bytes | number[])[]): Bytes {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Base-128 varint of a non-negative integer or a BigInt (negative BigInts as 64-bit two's complement). */
export function varint(value: number | bigint): number[] {
  let v = typeof value === "bigint" ? BigInt.asUintN(64, value) : BigInt(value);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

export const tag = (field: number, wire: number) => varint(field * 8 + wire);
export const fVarint = (field: number, value: number | bigint) => cat(tag(field, 0), varint(value));
export const fBytes = (field: number, payload: Bytes | number[]) => cat(tag(field, 2), varint(payload.length), payload);
export const fString = (field: number, text: string) => fBytes(field, new TextEncoder().encode(text));
export const fFloat = (field: number, value: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return cat(tag(field, 5), b);
};

export function f32(values: number[]): Bytes {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export interface TensorSpec {
  name: string;
  dataType?: number;
  dims: (number | bigint)[];
  raw?: Bytes;
  /** float_data packed (one run) */
  floats?: number[];
  /** float_data unpacked (one fixed32 field per value) */
  floatsUnpacked?: number[];
  /** int32_data packed */
  int32?: number[];
  external?: [string, string][];
  location?: number;
  /** Fields appended as they are (hostile extras). */
  extra?: Bytes;
}

export function tensor(t: TensorSpec): Bytes {
  const parts: Bytes[] = t.dims.map((d) => fVarint(1, d));
  parts.push(fVarint(2, t.dataType ?? 1));
  if (t.floats) parts.push(fBytes(4, f32(t.floats)));
  if (t.floatsUnpacked) for (const v of t.floatsUnpacked) parts.push(fFloat(4, v));
  if (t.int32) parts.push(fBytes(5, t.int32.flatMap((v) => varint(v))));
  parts.push(fString(8, t.name));
  if (t.raw) parts.push(fBytes(9, t.raw));
  for (const [k, v] of t.external ?? []) parts.push(fBytes(13, cat(fString(1, k), fString(2, v))));
  if (t.location !== undefined) parts.push(fVarint(14, t.location));
  if (t.extra) parts.push(t.extra);
  return cat(...parts);
}

export type Attr = Bytes;
export const attrInt = (name: string, v: number) => cat(fString(1, name), fVarint(3, v), fVarint(20, 2));
export const attrInts = (name: string, vs: number[]) => cat(fString(1, name), ...vs.map((v) => fVarint(8, v < 0 ? BigInt(v) : v)), fVarint(20, 7));
export const attrString = (name: string, s: string) => cat(fString(1, name), fString(4, s), fVarint(20, 3));
export const attrTensor = (name: string, t: Bytes) => cat(fString(1, name), fBytes(5, t), fVarint(20, 4));
export const attrGraph = (name: string, g: Bytes) => cat(fString(1, name), fBytes(6, g), fVarint(20, 5));

export function node(op: string, inputs: string[], outputs: string[], name = "", attrs: Attr[] = []): Bytes {
  return cat(...inputs.map((i) => fString(1, i)), ...outputs.map((o) => fString(2, o)), ...(name ? [fString(3, name)] : []), fString(4, op), ...attrs.map((a) => fBytes(5, a)));
}

/** ValueInfoProto of a FLOAT tensor with a static shape. */
export function valueInfo(name: string, dims: number[]): Bytes {
  const shape = cat(...dims.map((d) => fBytes(1, fVarint(1, d))));
  return cat(fString(1, name), fBytes(2, fBytes(1, cat(fVarint(1, 1), fBytes(2, shape)))));
}

export function graph(nodes: Bytes[], initializers: Bytes[], inputs: Bytes[] = [], name = "g"): Bytes {
  return cat(...nodes.map((n) => fBytes(1, n)), fString(2, name), ...initializers.map((t) => fBytes(5, t)), ...inputs.map((i) => fBytes(11, i)));
}

export function model(g: Bytes, options: { ir?: number; opset?: number; extra?: Bytes } = {}): Bytes {
  return cat(fVarint(1, options.ir ?? 7), fString(2, "onnx-wire.ts"), fBytes(7, g), fBytes(8, cat(fString(1, ""), fVarint(2, options.opset ?? 13))), options.extra ?? []);
}

/** A dense model: Gemm(x, W [out, in], b) with transB = 1 (values given). */
export function gemmModel(w: number[][], b: number[], extraTensors: Bytes[] = []): Bytes {
  const nOut = w.length, nIn = w[0].length;
  return model(
    graph(
      [node("Gemm", ["x", "W", "b"], ["y"], "fc", [attrInt("transB", 1)])],
      [tensor({ name: "W", dims: [nOut, nIn], raw: f32(w.flat()) }), tensor({ name: "b", dims: [nOut], raw: f32(b) }), ...extraTensors],
      [valueInfo("x", [1, nIn])],
    ),
  );
}
