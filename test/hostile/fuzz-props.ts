/**
 * The fuzz properties of hostile-inputs.md section 5, shared by test/hostile/fuzz.test.ts (fixed
 * seed, bounded runs) and scripts/fuzz.ts (time-boxed runs with a printed seed). Every run ends
 * in a report or a CntError from the expected set: never another exception type, never INTERNAL,
 * under 1 s, with bounded memory (memoryBounds below).
 */
import fc from "fast-check";
import { analyze, CntError, toJSON } from "../../src/entry/node-core.js";
import { DTYPE_BYTES, type DType } from "../../src/model/types.js";
import type { CntModelInput } from "../../src/formats/cnt/write.js";
import { dataStartFor } from "../../src/formats/cnt/layout.js";
import { BOUNDARIES, cntIntFields, cntOf, concat, prng, safetensors, setInt } from "./builders.js";
import { chunkedStream } from "../helpers/sources.js";

export const INPUT_CODES = [
  "TRUNCATED", "BAD_MAGIC", "BAD_HEADER", "OUT_OF_BOUNDS", "OVERLAP", "BAD_SHAPE", "BAD_DTYPE", "TOO_LARGE",
  "UNSUPPORTED_LAYER", "UNSUPPORTED_FORMAT", "LAYOUT_NEEDED",
] as const;

/** Wrong results a property found: the bytes and what happened, for scripts/fuzz.ts to save. */
export interface Finding {
  property: string;
  bytes: Uint8Array;
  mode: Mode;
  problem: string;
}

export type Mode = "bytes" | "blob" | "stream";
export type Outcome = { report: string } | { code: string; message: string };

/** The last finding of each property (the shrunk counterexample is the last to fail). */
export const findings = new Map<string, Finding>();

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Memory one analysis may add, measured before and after it (nothing is freed in between unless
 * the GC runs, which only lowers the figure). `js`: ArrayBuffers (process.memoryUsage().arrayBuffers),
 * max(16 MiB, 64 x file size). `all`: `external`, which also counts wasm memory (arrayBuffers does
 * not see memory.grow()); each analysis has its own kernel instance whose working blocks take up to
 * ~3 x blockBytes (4 MiB by default: raw f16 block + f32 block + sums), so it gets 5 x 4 MiB more.
 */
export function memoryBounds(fileBytes: number): { js: number; all: number } {
  const js = Math.max(16 * 2 ** 20, 64 * fileBytes);
  return { js, all: js + 5 * 4 * 2 ** 20 };
}

/**
 * Analyze `bytes` in `mode`; return the report (as JSON) or the CntError's code. Anything else, an
 * INTERNAL error, a slow run or unbounded memory throws (fails the property) and is recorded.
 */
export async function outcome(property: string, bytes: Uint8Array, mode: Mode, chunk = 7, options: Record<string, unknown> = {}): Promise<Outcome> {
  const input = mode === "bytes" ? bytes : mode === "blob" ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : chunkedStream(bytes, () => chunk);
  const m0 = process.memoryUsage();
  const started = performance.now();
  let result: Outcome | undefined;
  let problem: string | undefined;
  try {
    result = { report: toJSON(await analyze(input, { name: "fuzz", ...options }), 0) };
  } catch (error) {
    if (!(error instanceof CntError)) problem = `${(error as Error)?.name ?? typeof error} escaped: ${String((error as Error)?.message ?? error)}`;
    else if (error.code === "INTERNAL") problem = `INTERNAL: ${error.message}`;
    else if (CONTROL.test(error.message)) problem = `raw control character in: ${JSON.stringify(error.message)}`;
    else result = { code: error.code, message: error.message };
  }
  const ms = performance.now() - started;
  const m1 = process.memoryUsage();
  const { js, all } = memoryBounds(bytes.byteLength);
  const jsGrew = m1.arrayBuffers - m0.arrayBuffers;
  const allGrew = m1.external - m0.external;
  if (!problem && ms > 1000) problem = `took ${ms.toFixed(0)} ms`;
  if (!problem && jsGrew > js) problem = `ArrayBuffers grew by ${jsGrew} bytes (bound ${js})`;
  if (!problem && allGrew > all) problem = `ArrayBuffers and wasm memory grew by ${allGrew} bytes (bound ${all})`;
  if (problem) {
    findings.set(property, { property, bytes: bytes.slice(), mode, problem });
    throw new Error(`${property} (${mode}, ${bytes.byteLength} bytes): ${problem}`);
  }
  return result!;
}

/** Fail (and record) when `got` is not a report allowed by `okAllowed` or a code in `codes`. */
async function expectIn(property: string, bytes: Uint8Array, mode: Mode, got: Outcome, codes: readonly string[], okAllowed: boolean, what: string): Promise<void> {
  if ("report" in got ? okAllowed : codes.includes(got.code)) return;
  const problem = "report" in got ? `${what}: a report, expected one of ${codes.join(", ")}` : `${what}: ${got.code} (${got.message}), expected ${okAllowed ? "a report or " : ""}one of ${codes.join(", ")}`;
  findings.set(property, { property, bytes: bytes.slice(), mode, problem });
  throw new Error(problem);
}

const modeArb = fc.constantFrom<Mode>("bytes", "blob", "stream");
const chunkArb = fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 64 }), fc.integer({ min: 65, max: 5000 }));

// ---------------------------------------------------------------------------------------------
// (a) arbitrary bytes, bare and behind a plausible prefix

function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, n), true);
  return b;
}

/** Short bodies most of the time (where the parsers branch), up to 4 KiB the rest. */
const bodyArb = fc.oneof(fc.uint8Array({ maxLength: 4096 }), fc.uint8Array({ maxLength: 4096, size: "max" }));
const lengthArb = (max: number) => fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(...BOUNDARIES));

export const arbitraryBytes = fc.asyncProperty(bodyArb, modeArb, chunkArb, async (body, mode, chunk) => {
  await outcome("bytes", body, mode, chunk);
});

export const arbitrarySafetensors = fc.asyncProperty(bodyArb, lengthArb(4200), modeArb, chunkArb, async (body, n, mode, chunk) => {
  await outcome("safetensors-prefix", concat(u64(BigInt(n)), Uint8Array.of(0x7b), body), mode, chunk);
});

export const arbitraryCnt = fc.asyncProperty(bodyArb, lengthArb(4200), modeArb, chunkArb, async (body, n, mode, chunk) => {
  const prefix = Uint8Array.of(0x43, 0x4e, 0x54, 0x53, 1, 0, 0, 0);
  // Half the time the FlatBuffers identifier is right too, so the verifier walks further.
  const id = body.length >= 8 && body[0]! & 1 ? concat(body.subarray(0, 4), Uint8Array.of(0x43, 0x4e, 0x54, 0x31), body.subarray(8)) : body;
  await outcome("cnt-prefix", concat(prefix, u64(BigInt(n)), id), mode, chunk);
});

/** A safetensors header of random JSON: entries whose dtype, shape and offsets are any JSON value. */
const jsonField = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
  { arbitrary: fc.constantFrom<unknown>("F32", "F16", "BF16", "F64", "I8", "BOOL", [0], [2], [2, 2], [0, 8], [0, 16], [8, 16], -1, 2 ** 53, "__proto__"), weight: 3 },
);
const jsonEntry = fc.record({ dtype: jsonField, shape: jsonField, data_offsets: jsonField }, { requiredKeys: [] });
const jsonHeader = fc.array(fc.tuple(fc.oneof(fc.constantFrom("w.weight", "w.bias", "__metadata__", "__proto__", "constructor"), fc.string({ maxLength: 12 })), fc.oneof(jsonEntry, fc.jsonValue({ maxDepth: 2 }))), { maxLength: 4 });

export const jsonSafetensors = fc.asyncProperty(jsonHeader, fc.integer({ min: 0, max: 64 }), modeArb, chunkArb, async (pairs, dataBytes, mode, chunk) => {
  const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`;
  await outcome("safetensors-json", safetensors(text, new Uint8Array(dataBytes).fill(0x3c)), mode, chunk);
});

// ---------------------------------------------------------------------------------------------
// (b) structure-aware mutation of valid small models

type StDType = "F32" | "F16" | "BF16" | "F64";
const ST_OF: Record<DType, StDType> = { f32: "F32", f16: "F16", bf16: "BF16", f64: "F64" };

interface Spec {
  sizes: number[];
  dtypes: DType[];
  bias: boolean[];
  prefix: string;
  seed: number;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
  dtypes: fc.array(fc.constantFrom<DType>("f32", "f16", "bf16", "f64"), { minLength: 3, maxLength: 3 }),
  bias: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  prefix: fc.constantFrom("fc", "layers", "model.net", "__proto__", "Größe", "a\u0000b"),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

interface ModelTensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

/** Values that every dtype holds exactly: multiples of 1/64 in [-1, 1]. */
function encode(dtype: DType, values: number[]): Uint8Array {
  if (dtype === "f32") return new Uint8Array(Float32Array.from(values).buffer);
  if (dtype === "f64") return new Uint8Array(Float64Array.from(values).buffer);
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  if (dtype === "bf16") return new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer);
  return new Uint8Array(Uint16Array.from(values, f16Bits).buffer);
}

function f16Bits(v: number): number {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  const mantissa = Math.round((a / 2 ** e - 1) * 1024);
  return sign | ((e + 15) << 10) | mantissa;
}

function tensorsOf(spec: Spec): ModelTensor[] {
  const r = prng(spec.seed);
  const tensors: ModelTensor[] = [];
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    const [nIn, nOut] = [spec.sizes[i]!, spec.sizes[i + 1]!];
    const dtype = spec.dtypes[i % spec.dtypes.length]!;
    const vals = (n: number) => Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 64) / 64);
    tensors.push({ name: `${spec.prefix}.${i}.weight`, dtype, shape: [nOut, nIn], data: encode(dtype, vals(nOut * nIn)) });
    if (spec.bias[i % spec.bias.length]) tensors.push({ name: `${spec.prefix}.${i}.bias`, dtype, shape: [nOut], data: encode(dtype, vals(nOut)) });
  }
  return tensors;
}

/** A safetensors header as editable parts: every integer is text, so a mutation can write 2^64 - 1. */
interface StEntry {
  name: string;
  dtype: string;
  shape: string[];
  offsets: [string, string];
}

function stEntries(tensors: readonly ModelTensor[]): StEntry[] {
  let at = 0;
  return tensors.map((t) => {
    const e: StEntry = { name: t.name, dtype: ST_OF[t.dtype], shape: t.shape.map(String), offsets: [String(at), String(at + t.data.byteLength)] };
    at += t.data.byteLength;
    return e;
  });
}

function stBytes(entries: readonly StEntry[], data: Uint8Array): Uint8Array {
  const body = entries.map((e) => `${JSON.stringify(e.name)}:{"dtype":${JSON.stringify(e.dtype)},"shape":[${e.shape.join(",")}],"data_offsets":[${e.offsets.join(",")}]}`).join(",");
  return safetensors(`{${body}}`, data);
}

type Mutation =
  | { kind: "none" }
  | { kind: "truncate"; at: number; boundary: boolean }
  | { kind: "flip"; at: number; xor: number }
  | { kind: "int"; pick: number; value: bigint }
  | { kind: "swap"; a: number; b: number }
  | { kind: "dup"; pick: number }
  | { kind: "delete"; pick: number }
  | { kind: "reorder"; seed: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), boundary: fc.boolean() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  { arbitrary: fc.record({ kind: fc.constant("int" as const), pick: fc.nat(), value: fc.constantFrom(...BOUNDARIES) }), weight: 3 },
  fc.record({ kind: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant("dup" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("reorder" as const), seed: fc.integer() }),
);

const ANY = [...INPUT_CODES];
const CUT = ["TRUNCATED", "OUT_OF_BOUNDS"];
const MOVED = ["OVERLAP", "BAD_HEADER", "BAD_DTYPE", "OUT_OF_BOUNDS"];

/** Mutate a safetensors model; say which outcomes are allowed. */
function mutateSafetensors(tensors: ModelTensor[], m: Mutation, streamed: boolean): { bytes: Uint8Array; codes: readonly string[]; ok: boolean; same?: boolean } {
  const data = concat(...tensors.map((t) => t.data));
  const entries = stEntries(tensors);
  const valid = stBytes(entries, data);
  const n = entries.length;
  switch (m.kind) {
    case "none":
      return { bytes: valid, codes: [], ok: true };
    case "truncate": {
      const headerEnd = valid.length - data.length;
      const cuts = [0, 1, 5, 8, 9, headerEnd >> 1, headerEnd, headerEnd + 1, valid.length - 1];
      const at = m.boundary ? cuts[m.at % cuts.length]! : m.at % valid.length;
      return { bytes: valid.slice(0, at), codes: CUT, ok: false };
    }
    case "flip": {
      const out = valid.slice();
      out[m.at % out.length]! ^= m.xor;
      return { bytes: out, codes: ANY, ok: true };
    }
    case "int": {
      const slots = entries.flatMap((e, i) => [...e.shape.map((_, d) => [i, "shape", d] as const), [i, "offsets", 0] as const, [i, "offsets", 1] as const]);
      const pick = m.pick % (slots.length + 1);
      if (pick === slots.length) {
        const out = valid.slice();
        new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, m.value), true);
        return { bytes: out, codes: ANY, ok: true };
      }
      const [i, field, d] = slots[pick]!;
      const copy = entries.map((e) => ({ ...e, shape: [...e.shape], offsets: [...e.offsets] as [string, string] }));
      (copy[i]![field] as string[])[d] = m.value.toString();
      return { bytes: stBytes(copy, data), codes: ANY, ok: true };
    }
    case "swap": {
      const [a, b] = [m.a % n, m.b % n];
      const copy = entries.map((e) => ({ ...e }));
      [copy[a]!.offsets, copy[b]!.offsets] = [entries[b]!.offsets, entries[a]!.offsets];
      return { bytes: stBytes(copy, data), codes: MOVED, ok: true };
    }
    case "dup": {
      const i = m.pick % n;
      const copy = [...entries.slice(0, i + 1), entries[i]!, ...entries.slice(i + 1)];
      return { bytes: stBytes(copy, data), codes: ["BAD_HEADER"], ok: false };
    }
    case "delete": {
      const i = m.pick % n;
      // A stream of unknown size is not read past the last tensor, so dropping the last entry
      // leaves a valid model followed by unread bytes (see the corpus row st-24-trailing-bytes).
      return { bytes: stBytes(entries.filter((_, k) => k !== i), data), codes: ["BAD_HEADER"], ok: streamed && i === n - 1 };
    }
    case "reorder": {
      const r = prng(m.seed);
      const copy = [...entries].sort(() => r() - 0.5);
      return { bytes: stBytes(copy, data), codes: [], ok: true, same: true };
    }
  }
}

function cntModel(spec: Spec, tensors: readonly ModelTensor[]): CntModelInput {
  const layers = [];
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    const name = `${spec.prefix}.${i}`;
    const bias = tensors.find((t) => t.name === `${name}.bias`);
    layers.push({ name, kind: "dense" as const, weight: `${name}.weight`, weightLayout: "out_in" as const, ...(bias ? { bias: bias.name } : {}) });
  }
  return {
    name: spec.prefix,
    layers,
    tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, byteLength: t.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype] })),
  };
}

/** Mutate a .cnt model; say which outcomes are allowed. */
async function mutateCnt(spec: Spec, tensors: ModelTensor[], m: Mutation): Promise<{ bytes: Uint8Array; codes: readonly string[]; ok: boolean; same?: boolean }> {
  const valid = await cntOf(cntModel(spec, tensors), tensors.map((t) => t.data));
  const fields = cntIntFields(valid);
  const view = new DataView(valid.buffer);
  const headerLength = Number(view.getBigUint64(8, true));
  switch (m.kind) {
    case "none":
      return { bytes: valid, codes: [], ok: true };
    case "truncate": {
      const dataStart = dataStartFor(headerLength);
      const cuts = [0, 3, 4, 15, 16, 16 + (headerLength >> 1), 16 + headerLength, dataStart, dataStart + 1, valid.length - 1];
      const at = m.boundary ? cuts[m.at % cuts.length]! : m.at % valid.length;
      // The padding after the last tensor is optional: a cut inside it leaves a whole model.
      const lastEnd = dataStart + Math.max(0, ...cntTensorEnds(valid, fields));
      return { bytes: valid.slice(0, at), codes: CUT, ok: at >= lastEnd };
    }
    case "flip": {
      const out = valid.slice();
      out[m.at % out.length]! ^= m.xor;
      return { bytes: out, codes: ANY, ok: true };
    }
    case "int": {
      const out = valid.slice();
      setInt(out, fields[m.pick % fields.length]!, m.value);
      return { bytes: out, codes: ANY, ok: true };
    }
    case "swap": {
      const offsets = fields.filter((f) => /^model\.5\[\d+\]\.3$/.test(f.what));
      const out = valid.slice();
      if (offsets.length < 2) return { bytes: out, codes: [], ok: true };
      const [a, b] = [offsets[m.a % offsets.length]!, offsets[m.b % offsets.length]!];
      const [va, vb] = [view.getBigUint64(a.at, true), view.getBigUint64(b.at, true)];
      setInt(out, a, vb);
      setInt(out, b, va);
      return { bytes: out, codes: MOVED, ok: true };
    }
    case "dup":
    case "delete": {
      // Point tensors[j]'s uoffset at tensors[i]'s table: a name twice (dup), or one table lost (delete).
      const refs = fields.filter((f) => /^model\.5\[\d+\] uoffset$/.test(f.what));
      const out = valid.slice();
      if (refs.length < 2) return { bytes: out, codes: [], ok: true };
      const i = m.pick % refs.length;
      const j = (i + 1) % refs.length;
      const target = refs[i]!.at + view.getUint32(refs[i]!.at, true);
      if (target <= refs[j]!.at) return { bytes: out, codes: [], ok: true };
      new DataView(out.buffer).setUint32(refs[j]!.at, target - refs[j]!.at, true);
      // The name check and the order check run tensor by tensor: whichever meets its problem first.
      return { bytes: out, codes: ["BAD_HEADER", "OVERLAP"], ok: false };
    }
    case "reorder":
      return { bytes: valid, codes: [], ok: true, same: true };
  }
}

/** Data-region ends of the tensors of a valid .cnt file (offset + length). */
function cntTensorEnds(file: Uint8Array, fields: ReturnType<typeof cntIntFields>): number[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const get = (what: string) => {
    const f = fields.find((x) => x.what === what);
    return f ? Number(view.getBigUint64(f.at, true)) : 0; // an absent u64 is its default 0
  };
  const count = fields.filter((f) => /^model\.5\[\d+\] uoffset$/.test(f.what)).length;
  return Array.from({ length: count }, (_, i) => get(`model.5[${i}].3`) + get(`model.5[${i}].4`));
}

export const mutatedSafetensors = fc.asyncProperty(specArb, mutationArb, modeArb, chunkArb, async (spec, m, mode, chunk) => {
  const tensors = tensorsOf(spec);
  const { bytes, codes, ok, same } = mutateSafetensors(tensors, m, mode === "stream");
  const got = await outcome("safetensors-mutation", bytes, mode, chunk);
  await expectIn("safetensors-mutation", bytes, mode, got, codes, ok, `${m.kind} of ${JSON.stringify(spec)}`);
  if (same) await sameReport("safetensors-mutation", bytes, mode, got, await outcome("safetensors-mutation", mutateSafetensors(tensors, { kind: "none" }, false).bytes, mode, chunk));
});

export const mutatedCnt = fc.asyncProperty(specArb, mutationArb, modeArb, chunkArb, async (spec, m, mode, chunk) => {
  const tensors = tensorsOf(spec);
  const { bytes, codes, ok } = await mutateCnt(spec, tensors, m);
  const got = await outcome("cnt-mutation", bytes, mode, chunk);
  await expectIn("cnt-mutation", bytes, mode, got, codes, ok, `${m.kind} of ${JSON.stringify(spec)}`);
});

async function sameReport(property: string, bytes: Uint8Array, mode: Mode, got: Outcome, original: Outcome): Promise<void> {
  const a = "report" in got ? got.report : got.code;
  const b = "report" in original ? original.report : original.code;
  if (a !== b) {
    findings.set(property, { property, bytes: bytes.slice(), mode, problem: "a harmless reorder changed the report" });
    throw new Error(`${property}: a harmless reorder changed the report`);
  }
}

/** Every property, with the share of runs it gets. */
export const PROPERTIES: readonly { name: string; property: fc.IAsyncProperty<never>; share: number }[] = [
  { name: "bytes", property: arbitraryBytes as never, share: 1 },
  { name: "safetensors-prefix", property: arbitrarySafetensors as never, share: 1 },
  { name: "cnt-prefix", property: arbitraryCnt as never, share: 1 },
  { name: "safetensors-json", property: jsonSafetensors as never, share: 1 },
  { name: "safetensors-mutation", property: mutatedSafetensors as never, share: 2 },
  { name: "cnt-mutation", property: mutatedCnt as never, share: 2 },
];
