/**
 * Byte-level builders shared by the hostile corpus generator (scripts/make-hostile.ts) and the
 * fuzz tests: safetensors files from raw JSON text (so a test can write what JSON.stringify never
 * would: duplicate keys, 9007199254740993, trailing junk), `.cnt` files through our writer, and a
 * map of a `.cnt` header's integer fields so a mutation can forge exactly one of them.
 */
import { writeCnt, type CntModelInput } from "../../src/formats/cnt/write.js";
import { PREFIX_BYTES } from "../../src/formats/cnt/layout.js";

const encoder = new TextEncoder();

/** mulberry32: deterministic bytes for committed files. */
import { prng } from "../helpers/sources.js";

export { prng };

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export function text(s: string): Uint8Array {
  return encoder.encode(s);
}

export function f32(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Raw u16 words (f16 or bf16 bit patterns), little-endian. */
export function u16(words: readonly number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(words).buffer);
}

/** `n` values in [-1, 1) from `seed`, rounded to 1/64 so every dtype holds them exactly. */
export function values(n: number, seed: number): number[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 64) / 64);
}

/** One safetensors header entry as JSON text; any argument may be raw JSON text via `raw()`. */
export function entry(dtype: unknown, shape: unknown, begin: unknown, end: unknown): string {
  return `{"dtype":${json(dtype)},"shape":${json(shape)},"data_offsets":[${json(begin)},${json(end)}]}`;
}

/** Raw JSON text that entry() and header() insert as written. */
export class Raw {
  constructor(readonly text: string) {}
}
export const raw = (s: string) => new Raw(s);

function json(v: unknown): string {
  return v instanceof Raw ? v.text : JSON.stringify(v);
}

/** A header object from [key, value-JSON-text] pairs, in order, duplicates kept. */
export function header(pairs: readonly (readonly [string | Raw, string])[]): string {
  return `{${pairs.map(([k, v]) => `${k instanceof Raw ? k.text : JSON.stringify(k)}:${v}`).join(",")}}`;
}

/**
 * A safetensors file: u64 LE header length, the header (padded with spaces to a multiple of 8, as
 * the reference writer does, unless `pad` is false), then `data`. `headerBytes` may be a string or
 * raw bytes (for a header that is not UTF-8); `declared` overrides the length prefix.
 */
export function safetensors(head: string | Uint8Array, data: Uint8Array = new Uint8Array(0), opts: { pad?: boolean; declared?: bigint } = {}): Uint8Array {
  let h = typeof head === "string" ? text(head) : head;
  if (opts.pad !== false && h.byteLength % 8 !== 0) h = concat(h, text(" ".repeat(8 - (h.byteLength % 8))));
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, opts.declared ?? BigInt(h.byteLength), true);
  return concat(prefix, h, data);
}

export interface StTensor {
  name: string;
  dtype: "F32" | "F16" | "BF16" | "F64" | "I8" | "BOOL" | "I64";
  shape: number[];
  data: Uint8Array;
}

/** A valid safetensors file from tensors in order (contiguous offsets). */
export function safetensorsOf(tensors: readonly StTensor[], metadata?: Record<string, string>): Uint8Array {
  const pairs: [string, string][] = [];
  if (metadata) pairs.push(["__metadata__", JSON.stringify(metadata)]);
  let at = 0;
  for (const t of tensors) {
    pairs.push([t.name, entry(t.dtype, t.shape, at, at + t.data.byteLength)]);
    at += t.data.byteLength;
  }
  return safetensors(header(pairs), concat(...tensors.map((t) => t.data)));
}

/** The 4 -> 3 -> 2 MLP every safetensors case starts from (PyTorch layout, f32). */
export function mlpTensors(): StTensor[] {
  return [
    { name: "fc1.weight", dtype: "F32", shape: [3, 4], data: f32(values(12, 1)) },
    { name: "fc1.bias", dtype: "F32", shape: [3], data: f32(values(3, 2)) },
    { name: "fc2.weight", dtype: "F32", shape: [2, 3], data: f32(values(6, 3)) },
    { name: "fc2.bias", dtype: "F32", shape: [2], data: f32(values(2, 4)) },
  ];
}

// ---------------------------------------------------------------------------------------------
// .cnt

/** f16 bit patterns of the small values below (exact in f16). */
const F16 = [0x3800, 0xb400, 0x3c00, 0x0000, 0xbc00, 0x3400]; // 0.5, -0.25, 1, 0, -1, 0.25

/** The same MLP as a `.cnt` model: fc2.weight stored as f16 so widening is on the path. */
export function cntMlp(): { model: CntModelInput; data: Uint8Array[] } {
  return {
    model: {
      name: "hostile-mlp",
      producer: "make-hostile",
      inputShape: [4],
      tensors: [
        { name: "fc1.weight", dtype: "f32", shape: [3, 4], byteLength: 48 },
        { name: "fc1.bias", dtype: "f32", shape: [3], byteLength: 12 },
        { name: "fc2.weight", dtype: "f16", shape: [2, 3], byteLength: 12 },
        { name: "fc2.bias", dtype: "f32", shape: [2], byteLength: 8 },
      ],
      layers: [
        { name: "fc1", kind: "dense", weight: "fc1.weight", bias: "fc1.bias", weightLayout: "out_in", activation: "relu" },
        { name: "fc2", kind: "dense", weight: "fc2.weight", bias: "fc2.bias", weightLayout: "out_in", activation: "linear" },
      ],
    },
    data: [f32(values(12, 1)), f32(values(3, 2)), u16(F16), f32(values(2, 4))],
  };
}

/** A whole `.cnt` file through writeCnt (so the head is exactly what the writer makes). */
export async function cntOf(model: CntModelInput, data: readonly Uint8Array[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  async function* one(i: number) {
    yield data[i]!;
  }
  for await (const chunk of writeCnt(model, one)) chunks.push(chunk.slice());
  return concat(...chunks);
}

/** One integer field of a `.cnt` file (absolute byte position). */
export interface IntField {
  at: number;
  width: 1 | 2 | 4 | 8;
  what: string;
}

type Def = "scalar1" | "scalar2" | "scalar8" | "string" | "vec8" | { tables: Def[] };
const TENSOR_FIELDS: Def[] = ["string", "scalar1", "vec8", "scalar8", "scalar8", "scalar1", "scalar8", "scalar8", "scalar8", "scalar8", "scalar8"];
const ATTRIBUTE_FIELDS: Def[] = ["string", "vec8", "vec8", "string", "scalar1"];
const LAYER_FIELDS: Def[] = ["string", "scalar1", "string", "scalar1", "string", "scalar1", { tables: ATTRIBUTE_FIELDS }];
const KV_FIELDS: Def[] = ["string", "string"];
const MODEL_FIELDS: Def[] = ["scalar2", "string", "string", "vec8", { tables: LAYER_FIELDS }, { tables: TENSOR_FIELDS }, { tables: KV_FIELDS }];

/**
 * Every integer a `.cnt` reader trusts, in a *valid* file: the prefix's version and header length,
 * uoffsets, soffsets, vtable sizes and entries, vector and string lengths, and the u64/u16/u8
 * scalars of each table. Walks the layout of schemas/model.fbs without checks (valid input only).
 */
export function cntIntFields(file: Uint8Array): IntField[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const fields: IntField[] = [
    { at: 4, width: 2, what: "prefix version" },
    { at: 8, width: 8, what: "prefix header length" },
    { at: PREFIX_BYTES, width: 4, what: "root uoffset" },
  ];
  const deref = (at: number) => at + view.getUint32(at, true);
  const table = (pos: number, defs: readonly Def[], path: string): void => {
    fields.push({ at: pos, width: 4, what: `${path} soffset` });
    const vt = pos - view.getInt32(pos, true);
    const vtSize = view.getUint16(vt, true);
    fields.push({ at: vt, width: 2, what: `${path} vtable size` }, { at: vt + 2, width: 2, what: `${path} inline size` });
    defs.forEach((def, slot) => {
      const entryAt = vt + 4 + 2 * slot;
      if (4 + 2 * slot >= vtSize) return;
      fields.push({ at: entryAt, width: 2, what: `${path} vtable[${slot}]` });
      const fo = view.getUint16(entryAt, true);
      if (fo === 0) return;
      const at = pos + fo;
      const where = `${path}.${slot}`;
      if (def === "scalar1") fields.push({ at, width: 1, what: where });
      else if (def === "scalar2") fields.push({ at, width: 2, what: where });
      else if (def === "scalar8") fields.push({ at, width: 8, what: where });
      else {
        fields.push({ at, width: 4, what: `${where} uoffset` });
        const target = deref(at);
        fields.push({ at: target, width: 4, what: `${where} length` });
        const n = view.getUint32(target, true);
        if (def === "vec8") for (let i = 0; i < n; i++) fields.push({ at: target + 4 + 8 * i, width: 8, what: `${where}[${i}]` });
        else if (typeof def === "object") {
          for (let i = 0; i < n; i++) {
            fields.push({ at: target + 4 + 4 * i, width: 4, what: `${where}[${i}] uoffset` });
            table(deref(target + 4 + 4 * i), def.tables, `${where}[${i}]`);
          }
        }
      }
    });
  };
  table(deref(PREFIX_BYTES), MODEL_FIELDS, "model");
  return fields;
}

/** Write `value` (mod 2^(8 width)) at a field, little-endian. */
export function setInt(file: Uint8Array, field: IntField, value: bigint): void {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const v = BigInt.asUintN(field.width * 8, value);
  if (field.width === 1) view.setUint8(field.at, Number(v));
  else if (field.width === 2) view.setUint16(field.at, Number(v), true);
  else if (field.width === 4) view.setUint32(field.at, Number(v), true);
  else view.setBigUint64(field.at, v, true);
}

/** Find a field by its description (as cntIntFields names it); throws when absent. */
export function cntField(file: Uint8Array, what: string): IntField {
  const f = cntIntFields(file).find((x) => x.what === what);
  if (!f) throw new Error(`no field ${what} in this .cnt file`);
  return f;
}

/** Boundary values for integer overwrites (the spec's fuzzing list). */
export const BOUNDARIES: readonly bigint[] = [
  0n, 1n, -1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n,
];
