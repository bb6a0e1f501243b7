// Structure-aware mutation fuzzing of the ONNX, .npy, .npz, TF.js and PyTorch readers (hostile-inputs.md
// section 5, step 2) and round trips through .cnt (step 3), starting from the valid files under
// test/fixtures. Each run applies one or two mutations that know the file's structure: protobuf
// fields found by walking the ONNX message (a varint or a length set to a boundary value with
// the enclosing lengths fixed up, a string field set to '../x', a field deleted or doubled), the
// .npy header dict (shape dims, descr, fortran_order, duplicate or deleted keys, the header
// length), every integer field of a zip's directory and local headers (sizes, offsets, method,
// counts) and its entries (renamed, doubled, dropped, their .npy mutated), and any node of a
// TF.js model.json (numbers, strings, paths, entries) or its shards, a Keras .keras (its zip, its
// config.json as a JSON tree, its HDF5 weights file's addresses, counts and versions); plus byte flips, in-place
// varints and truncations at random or structural boundaries. Every run must end in a report or
// a CntError with a documented code, within 2 s, with bounded ArrayBuffer growth.
//
// `npm test` runs a fixed seed, each property capped by time; scripts/fuzz.ts --only
// onnx|npy|npz|tfjs|pytorch runs longer with a random seed (this module is imported there with
// CNTSCOPE_FUZZ_LIBRARY=1, which skips the uvu tests) and saves failing inputs.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, CntError, convertToCnt, filesSource, inspect, toJSON } from "../../src/entry/node-core.js";
import { BOUNDARIES, concat } from "./builders.js";
import { chunkedStream } from "../helpers/sources.js";
import { GGML, ggufFields, writeGguf } from "../fixtures/gguf/writer.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const FIX = join(ROOT, "test/fixtures");

/** Codes an input may earn (src/errors.ts without ABORTED and INTERNAL). */
export const READER_CODES = new Set([
  "TRUNCATED", "BAD_MAGIC", "BAD_HEADER", "OUT_OF_BOUNDS", "OVERLAP", "BAD_SHAPE", "BAD_DTYPE", "TOO_LARGE",
  "UNSUPPORTED_LAYER", "UNSUPPORTED_FORMAT", "LAYOUT_NEEDED", "UNSAFE_PATH", "BAD_OPTION", "UNSAFE_PICKLE", "BAD_CHECKSUM",
]);
const MAX_MS = 2000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// ---------------------------------------------------------------------------------------------
// running one input

export type Mode = "bytes" | "blob" | "stream";

/** One fuzz input: a single file, or several files given through filesSource. */
export interface Input {
  files: Map<string, Uint8Array>;
  main: string;
  mode: Mode;
  chunk: number;
  inspect: boolean;
  options?: Record<string, unknown>;
}

export interface ReaderFinding {
  property: string;
  input: Input;
  what: string;
  problem: string;
}

/** The last finding of each property (after shrinking: the smallest failing input). */
export const readerFindings = new Map<string, ReaderFinding>();

function inputOf(i: Input): unknown {
  if (i.files.size > 1 || i.main === "model.json") {
    const m = new Map<string, Uint8Array | Blob>();
    for (const [k, v] of i.files) m.set(k, i.mode === "blob" ? new Blob([v as Uint8Array<ArrayBuffer>]) : v);
    return filesSource(m as Map<string, Uint8Array>, i.main);
  }
  const bytes = i.files.get(i.main)!;
  if (i.mode === "bytes") return bytes;
  if (i.mode === "blob") return new Blob([bytes as Uint8Array<ArrayBuffer>]);
  return chunkedStream(bytes, () => i.chunk);
}

export type Outcome = { report: string } | { code: string; message: string };

/** Analyze (or inspect) an input; throw (failing the property, recording it) on anything but a report or a documented CntError. */
export async function runInput(property: string, i: Input, what: string): Promise<Outcome> {
  const size = [...i.files.values()].reduce((n, b) => n + b.byteLength, 0);
  const bound = Math.max(32 * 2 ** 20, 64 * size);
  const m0 = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  let result: Outcome | undefined;
  let problem: string | undefined;
  try {
    const input = inputOf(i) as Parameters<typeof analyze>[0];
    // Node layers within 2^18 nodes: every allocation a file can cause is bounded by the limits,
    // and this bound keeps them under the 32 MiB checked below (the default, 2^24, admits real
    // feature maps of hundreds of MiB, which a 1 KiB file may declare: a size, not a leak).
    const options = { name: i.main, limits: { maxLayerNodes: 2 ** 18 }, ...i.options };
    result = i.inspect ? { report: JSON.stringify(await inspect(input, options)) } : { report: toJSON(await analyze(input, options), 0) };
  } catch (error) {
    if (!(error instanceof CntError)) problem = `${(error as Error)?.name ?? typeof error} escaped: ${String((error as Error)?.message ?? error)}`;
    else if (!READER_CODES.has(error.code)) problem = `${error.code}: ${error.message}`;
    else if (CONTROL.test(error.message)) problem = `raw control character in: ${JSON.stringify(error.message)}`;
    else result = { code: error.code, message: error.message };
  }
  const ms = performance.now() - started;
  const grew = process.memoryUsage().arrayBuffers - m0;
  if (!problem && ms > MAX_MS) problem = `took ${ms.toFixed(0)} ms`;
  if (!problem && grew > bound) problem = `ArrayBuffers grew by ${grew} bytes (bound ${bound})`;
  if (problem) {
    readerFindings.set(property, { property, input: { ...i, files: new Map([...i.files].map(([k, v]) => [k, v.slice()])) }, what, problem });
    throw new Error(`${property} [${what}] (${i.mode}${i.inspect ? ", inspect" : ""}, ${size} bytes): ${problem}`);
  }
  return result!;
}

// ---------------------------------------------------------------------------------------------
// shared pieces

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

function seedFiles(dir: string, test: (f: string) => boolean): { name: string; bytes: Uint8Array }[] {
  return readdirSync(dir).filter((f) => test(f) && statSync(join(dir, f)).isFile()).sort().map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
}

function varint(v: bigint): Uint8Array {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? b | 0x80 : b);
  } while (x > 0n);
  return Uint8Array.from(out);
}

function le(v: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let x = BigInt.asUintN(width * 8, v);
  for (let k = 0; k < width; k++, x >>= 8n) out[k] = Number(x & 0xffn);
  return out;
}

function truncateAt(b: Uint8Array, at: number, boundary: boolean, cuts: readonly number[]): Uint8Array {
  const n = boundary && cuts.length > 0 ? cuts[at % cuts.length]! : at % Math.max(1, b.length);
  return b.slice(0, Math.max(0, Math.min(b.length, n)));
}

function flip(b: Uint8Array, at: number, xor: number): Uint8Array {
  const out = b.slice();
  if (out.length > 0) out[at % out.length]! ^= xor;
  return out;
}

/** Overwrite bytes at `at` (growing the file if needed). */
function overwrite(b: Uint8Array, at: number, with_: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(b.length, at + with_.length));
  out.set(b);
  out.set(with_, at);
  return out;
}

const boundaryArb = fc.constantFrom(...BOUNDARIES);
/** Integers near the original are as interesting as the extremes: they pass the first checks. */
const intValueArb = fc.oneof(
  { arbitrary: boundaryArb.map((v) => ({ abs: v })), weight: 3 },
  { arbitrary: fc.integer({ min: -64, max: 64 }).map((d) => ({ delta: d })), weight: 2 },
  { arbitrary: fc.nat().map((n) => ({ abs: BigInt(n) })), weight: 1 },
);
type IntValue = { abs: bigint } | { delta: number };
const valueOf = (v: IntValue, original: bigint) => ("abs" in v ? v.abs : original + BigInt(v.delta));

const NASTY_STRINGS = ["../x", "../../../../etc/passwd", "/etc/passwd", "C:\\x", "file:///x", "http://example.com/x", "a/../../x", "", "\u0000", "%2e%2e/x", "x".repeat(300), "weights.bin", "group1-shard1of1.bin", "group1-shard2of2.bin", "__proto__", "constructor", "é.npy"];
const stringArb = fc.oneof({ arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 3 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
const modeArb = fc.constantFrom<Mode>("bytes", "bytes", "blob", "stream");
const chunkArb = fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 64 }), fc.integer({ min: 65, max: 5000 }));
const inspectArb = fc.integer({ min: 0, max: 4 }).map((n) => n === 0);

// ---------------------------------------------------------------------------------------------
// ONNX: a protobuf walk

interface PbNode {
  start: number;
  /** Where the length varint (wire 2) or the value (other wire types) starts. */
  valueAt: number;
  payloadStart: number;
  end: number;
  field: number;
  wire: number;
  parent: PbNode | null;
  hasChildren: boolean;
}

function readVarint(b: Uint8Array, p: number, to: number): { v: bigint; next: number } | null {
  let v = 0n;
  for (let k = 0; k < 10; k++) {
    if (p + k >= to) return null;
    const byte = b[p + k]!;
    v |= BigInt(byte & 0x7f) << BigInt(7 * k);
    if (!(byte & 0x80)) return { v, next: p + k + 1 };
  }
  return null;
}

/** Walk [from, to) as protobuf fields; nested messages are recognised when a payload parses whole. */
function parsePb(b: Uint8Array, from: number, to: number, parent: PbNode | null, depth: number, out: PbNode[]): boolean {
  let p = from;
  while (p < to) {
    const tag = readVarint(b, p, to);
    if (!tag || tag.v >> 3n === 0n || tag.v >> 3n > 536870911n) return false;
    const wire = Number(tag.v & 7n);
    const node: PbNode = { start: p, valueAt: tag.next, payloadStart: tag.next, end: 0, field: Number(tag.v >> 3n), wire, parent, hasChildren: false };
    if (wire === 0) {
      const v = readVarint(b, tag.next, to);
      if (!v) return false;
      node.end = v.next;
    } else if (wire === 1 || wire === 5) {
      node.end = tag.next + (wire === 1 ? 8 : 4);
      if (node.end > to) return false;
    } else if (wire === 2) {
      const len = readVarint(b, tag.next, to);
      if (!len || len.v > BigInt(to - len.next)) return false;
      node.payloadStart = len.next;
      node.end = len.next + Number(len.v);
      if (depth < 16 && node.end > node.payloadStart) {
        const inner: PbNode[] = [];
        if (parsePb(b, node.payloadStart, node.end, node, depth + 1, inner)) {
          node.hasChildren = true;
          out.push(node, ...inner);
          p = node.end;
          continue;
        }
      }
    } else {
      return false;
    }
    out.push(node);
    p = node.end;
  }
  return true;
}

function pbNodes(b: Uint8Array): PbNode[] {
  const out: PbNode[] = [];
  parsePb(b, 0, b.length, null, 0, out); // a broken tail just ends the walk
  return out;
}

/** Replace a node's bytes with `repl`, fixing every enclosing length. */
function replaceNode(b: Uint8Array, node: PbNode, repl: Uint8Array): Uint8Array {
  let cur = node;
  let bytes = repl;
  while (cur.parent) {
    const p = cur.parent;
    const payload = concat(b.subarray(p.payloadStart, cur.start), bytes, b.subarray(cur.end, p.end));
    bytes = concat(b.subarray(p.start, p.valueAt), varint(BigInt(payload.length)), payload);
    cur = p;
  }
  return concat(b.subarray(0, cur.start), bytes, b.subarray(cur.end));
}

type PbMutation =
  | { kind: "truncate"; at: number; boundary: boolean }
  | { kind: "flip"; at: number; xor: number }
  | { kind: "varint-at"; at: number; value: bigint }
  | { kind: "int"; pick: number; value: IntValue }
  | { kind: "length"; pick: number; value: IntValue; fix: boolean }
  | { kind: "string"; pick: number; s: string }
  | { kind: "delete"; pick: number }
  | { kind: "dup"; pick: number }
  | { kind: "swap"; a: number; b: number };

const pbMutationArb: fc.Arbitrary<PbMutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), boundary: fc.boolean() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("varint-at" as const), at: fc.nat(), value: boundaryArb }),
  { arbitrary: fc.record({ kind: fc.constant("int" as const), pick: fc.nat(), value: intValueArb }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("length" as const), pick: fc.nat(), value: intValueArb, fix: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("string" as const), pick: fc.nat(), s: stringArb }), weight: 2 },
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("dup" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() }),
);

function fieldValue(b: Uint8Array, n: PbNode): bigint {
  if (n.wire === 0) return readVarint(b, n.valueAt, n.end)?.v ?? 0n;
  if (n.wire === 2) return BigInt(n.end - n.payloadStart);
  let v = 0n;
  for (let k = n.end - 1; k >= n.valueAt; k--) v = (v << 8n) | BigInt(b[k]!);
  return v;
}

export function mutateProtobuf(b: Uint8Array, m: PbMutation): Uint8Array {
  const nodes = pbNodes(b);
  const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length];
  switch (m.kind) {
    case "truncate": {
      const cuts = [...new Set(nodes.flatMap((n) => [n.start, n.payloadStart, n.end, n.end - 1]))].sort((x, y) => x - y);
      return truncateAt(b, m.at, m.boundary, cuts);
    }
    case "flip":
      return flip(b, m.at, m.xor);
    case "varint-at":
      return overwrite(b, m.at % Math.max(1, b.length), varint(m.value));
    case "int": {
      const n = pick(nodes.filter((x) => x.wire !== 2), m.pick);
      if (!n) return b;
      const v = valueOf(m.value, fieldValue(b, n));
      const value = n.wire === 0 ? varint(v) : le(v, n.wire === 1 ? 8 : 4);
      return replaceNode(b, n, concat(b.subarray(n.start, n.valueAt), value));
    }
    case "length": {
      const n = pick(nodes.filter((x) => x.wire === 2), m.pick);
      if (!n) return b;
      const lying = concat(b.subarray(n.start, n.valueAt), varint(valueOf(m.value, fieldValue(b, n))), b.subarray(n.payloadStart, n.end));
      // fix: the enclosing messages' lengths follow the new length prefix; else a plain splice.
      return m.fix ? replaceNode(b, n, lying) : concat(b.subarray(0, n.start), lying, b.subarray(n.end));
    }
    case "string": {
      const leaves = nodes.filter((x) => x.wire === 2 && !x.hasChildren);
      // Prefer text fields (names, locations, op types) half the time.
      const texts = leaves.filter((x) => x.end - x.payloadStart < 200 && /^[\x20-\x7e]+$/.test(dec.decode(b.subarray(x.payloadStart, x.end))));
      const n = pick(m.pick % 2 === 0 && texts.length > 0 ? texts : leaves, m.pick >> 1);
      if (!n) return b;
      const s = enc.encode(m.s);
      return replaceNode(b, n, concat(b.subarray(n.start, n.valueAt), varint(BigInt(s.length)), s));
    }
    case "delete": {
      const n = pick(nodes, m.pick);
      return n ? replaceNode(b, n, new Uint8Array(0)) : b;
    }
    case "dup": {
      const n = pick(nodes, m.pick);
      return n ? replaceNode(b, n, b.slice(n.start, n.end)) : b;
    }
    case "swap": {
      // Swap the values of two varint fields (dims, data types, indices).
      const ints = nodes.filter((x) => x.wire === 0);
      const [x, y] = [pick(ints, m.a), pick(ints, m.b)];
      if (!x || !y || x === y) return b;
      const [vx, vy] = [fieldValue(b, x), fieldValue(b, y)];
      const once = replaceNode(b, x, concat(b.subarray(x.start, x.valueAt), varint(vy)));
      const again = pbNodes(once).find((n) => n.wire === 0 && n.field === y.field && n.start === y.start + (y.start > x.start ? once.length - b.length : 0));
      return again ? replaceNode(once, again, concat(once.subarray(again.start, again.valueAt), varint(vx))) : once;
    }
  }
}

const ONNX_DIR = join(FIX, "onnx");
const ONNX_SEEDS = [
  ...seedFiles(ONNX_DIR, (f) => f.endsWith(".onnx")).map((s) => ({ main: s.name, files: new Map([[s.name, s.bytes]]) })),
  { main: "mlp.onnx", files: new Map(seedFiles(join(ONNX_DIR, "external"), () => true).map((s) => [s.name, s.bytes] as [string, Uint8Array])) },
];

/** The external-data seed: its weights file may be cut or flipped instead of (or besides) the model. */
function mutateOnnxInput(seed: (typeof ONNX_SEEDS)[number], ms: PbMutation[], sideCut: number | null): Map<string, Uint8Array> {
  const files = new Map(seed.files);
  let b = files.get(seed.main)!;
  for (const m of ms) b = mutateProtobuf(b, m);
  files.set(seed.main, b);
  if (sideCut !== null) for (const [k, v] of files) if (k !== seed.main) files.set(k, sideCut % 3 === 0 ? flip(v, sideCut, 0x40) : v.slice(0, sideCut % (v.length + 1)));
  return files;
}

export const onnxMutation = fc.asyncProperty(
  fc.nat({ max: ONNX_SEEDS.length - 1 }),
  fc.array(pbMutationArb, { minLength: 1, maxLength: 2 }),
  fc.option(fc.nat(), { freq: 4 }),
  modeArb, chunkArb, inspectArb, fc.constantFrom({}, {}, {}, { gates: "separate" }, { bias: "ignore" }),
  async (s, ms, sideCut, mode, chunk, insp, options) => {
    const seed = ONNX_SEEDS[s]!;
    const files = mutateOnnxInput(seed, ms, seed.files.size > 1 ? sideCut : null);
    const what = `${seed.main}: ${JSON.stringify(ms, bigints)}`;
    const known = POOL_NODES_UNCHECKED && !insp && (await hugePool(files, seed.main));
    if (known) knownSkips.set("onnx", (knownSkips.get("onnx") ?? 0) + 1);
    await runInput("onnx", { files, main: seed.main, mode, chunk, inspect: insp || known, options }, what);
  },
);

/**
 * A MaxPool whose pads or kernel are forged to ~2^31 once ended in INTERNAL (RangeError) or
 * allocated hundreds of MiB: the graph walk (src/strengths/walk.ts) now checks maxLayerNodes
 * before holding a pooled node layer. Kept as a switch (true: such inputs are only inspected)
 * for bisecting.
 */
const POOL_NODES_UNCHECKED = false;
export const knownSkips = new Map<string, number>();

async function hugePool(files: Map<string, Uint8Array>, main: string): Promise<boolean> {
  try {
    const info = await inspect((files.size > 1 ? filesSource(files, main) : files.get(main)!) as never, { name: main });
    return info.layers.some((l) => l.attributes?.op === "pool" && ["kernel", "pads", "stride", "dilation"].some((k) => {
      const v = l.attributes?.[k];
      return Array.isArray(v) && v.some((x) => typeof x === "number" && Math.abs(x) > 4096);
    }));
  } catch {
    return false;
  }
}

function bigints(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v;
}

// ---------------------------------------------------------------------------------------------
// .npy: the header dict

interface Npy {
  major: number;
  minor: number;
  dict: string;
  data: Uint8Array;
}

function parseNpy(b: Uint8Array): Npy {
  const major = b[6]!;
  const wide = major >= 2;
  const hl = wide ? new DataView(b.buffer, b.byteOffset).getUint32(8, true) : b[8]! | (b[9]! << 8);
  const start = wide ? 12 : 10;
  return { major, minor: b[7]!, dict: dec.decode(b.subarray(start, start + hl)).trimEnd(), data: b.slice(start + hl) };
}

/** Encode as numpy does: the header padded with spaces to 64 bytes and ended by '\n'. */
function writeNpy(n: Npy, pad = true): Uint8Array {
  const wide = n.major >= 2;
  const pre = wide ? 12 : 10;
  let text = n.dict;
  if (pad) text += " ".repeat((64 - ((pre + text.length + 1) % 64)) % 64);
  text += "\n";
  const h = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
  const head = concat(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, n.major, n.minor), le(BigInt(h.length), wide ? 4 : 2));
  return concat(head, h, n.data);
}

const DIM_TEXT = ["0", "1", "-1", "2147483647", "2147483648", "4294967295", "4294967296", "9007199254740991", "9007199254740992", "9223372036854775807", "18446744073709551615", "18446744073709551616", "1e3", "8.0", "None", "True", "0x10", "'8'", "(8,)", " 8 "];
const DESCRS = ["<f4", ">f4", "<f8", ">f8", "<f2", "|f4", "=f4", "f4", "<e", "float32", "|u1", "<i8", "<i4", "|b1", "<c8", "|O", "<U10", "|S4", "V8", "<M8", "<f16", "<f0", "<f999999999999", "<f4\u0000", "", "[('a', '<f4')]", "<f4,<f4"];
const FORTRAN = ["True", "False", "1", "0", "None", "'True'", "true"];

type NpyDictMutation =
  | { kind: "shape"; dims: string[]; keep: number[]; trailing: boolean }
  | { kind: "dim"; pick: number; value: bigint }
  | { kind: "descr"; value: string }
  | { kind: "fortran"; value: string }
  | { kind: "dup-key"; pick: number }
  | { kind: "delete-key"; pick: number }
  | { kind: "extra"; text: string }
  | { kind: "replace"; text: string };

const npyDictMutationArb: fc.Arbitrary<NpyDictMutation> = fc.oneof(
  fc.record({ kind: fc.constant("shape" as const), dims: fc.array(fc.constantFrom(...DIM_TEXT), { maxLength: 3 }), keep: fc.array(fc.nat(), { maxLength: 3 }), trailing: fc.boolean() }),
  { arbitrary: fc.record({ kind: fc.constant("dim" as const), pick: fc.nat(), value: boundaryArb }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("descr" as const), value: fc.constantFrom(...DESCRS) }), weight: 2 },
  fc.record({ kind: fc.constant("fortran" as const), value: fc.constantFrom(...FORTRAN) }),
  fc.record({ kind: fc.constant("dup-key" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("delete-key" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("extra" as const), text: fc.constantFrom("'x': 1", "'shape': ()", "'descr': '<f8'", "'x': [1, {'a': (1,)}]", `'x': ${"(".repeat(2000)}${")".repeat(2000)}`, "'x': '\\''", "'x': 1e309", "'shape': (2, 3)") }),
  fc.record({ kind: fc.constant("replace" as const), text: fc.oneof(fc.constantFrom("", "{", "{}", "[]", "{'descr': '<f4'", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'descr': '<f8'}", "{\"descr\": \"<f4\", \"fortran_order\": false, \"shape\": [4]}"), fc.string({ maxLength: 40 })) }),
);

/** The dict's entries as text spans: 'key': value, found by the three keys numpy writes. */
const KEY_RE = /'(descr|fortran_order|shape)'\s*:\s*('[^']*'|\([^)]*\)|True|False|[^,}]*)/g;

export function mutateNpyDict(dict: string, m: NpyDictMutation): string {
  const entries = [...dict.matchAll(KEY_RE)];
  switch (m.kind) {
    case "shape":
    case "dim": {
      const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict);
      if (!shape) return dict;
      const dims = shape[1]!.split(",").map((d) => d.trim()).filter((d) => d !== "");
      let next: string[];
      if (m.kind === "dim") {
        next = dims.length === 0 ? [m.value.toString()] : dims.map((d, i) => (i === m.pick % dims.length ? m.value.toString() : d));
      } else {
        next = [...m.keep.map((k) => dims[k % Math.max(1, dims.length)] ?? "1"), ...m.dims];
      }
      const body = m.kind === "dim" ? next.join(", ") + (next.length === 1 ? "," : "") : next.join(", ") + (m.trailing ? "," : "");
      return dict.slice(0, shape.index) + `'shape': (${body})` + dict.slice(shape.index + shape[0].length);
    }
    case "descr":
      return dict.replace(/'descr'\s*:\s*'[^']*'/, `'descr': ${m.value.startsWith("[") ? m.value : `'${m.value}'`}`);
    case "fortran":
      return dict.replace(/'fortran_order'\s*:\s*(True|False)/, `'fortran_order': ${m.value}`);
    case "dup-key": {
      const e = entries[m.pick % Math.max(1, entries.length)];
      return e ? dict.replace(/}\s*$/, `${dict.trimEnd().endsWith(", }") ? "" : ", "}${e[0]}, }`) : dict;
    }
    case "delete-key": {
      const e = entries[m.pick % Math.max(1, entries.length)];
      return e ? dict.slice(0, e.index) + dict.slice(e.index + e[0].length).replace(/^\s*,\s*/, "") : dict;
    }
    case "extra":
      return dict.replace(/}\s*$/, `${dict.trimEnd().endsWith(", }") ? "" : ", "}${m.text}, }`);
    case "replace":
      return m.text;
  }
}

type NpyMutation =
  | { kind: "truncate"; at: number; boundary: boolean }
  | { kind: "flip"; at: number; xor: number }
  | { kind: "header-length"; value: IntValue }
  | { kind: "version"; major: number; minor: number }
  | { kind: "dict"; m: NpyDictMutation; pad: boolean }
  | { kind: "data"; delta: number };

const npyMutationArb: fc.Arbitrary<NpyMutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), boundary: fc.boolean() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("header-length" as const), value: intValueArb }),
  fc.record({ kind: fc.constant("version" as const), major: fc.constantFrom(0, 1, 2, 3, 4, 255), minor: fc.constantFrom(0, 1, 255) }),
  { arbitrary: fc.record({ kind: fc.constant("dict" as const), m: npyDictMutationArb, pad: fc.boolean() }), weight: 5 },
  fc.record({ kind: fc.constant("data" as const), delta: fc.integer({ min: -64, max: 64 }) }),
);

export function mutateNpy(b: Uint8Array, m: NpyMutation): Uint8Array {
  const ok = b.length >= 10 && b[0] === 0x93 && dec.decode(b.subarray(1, 6)) === "NUMPY";
  const wide = b[6]! >= 2;
  const start = wide ? 12 : 10;
  const hl = !ok ? 0 : wide ? new DataView(b.buffer, b.byteOffset).getUint32(8, true) : b[8]! | (b[9]! << 8);
  switch (m.kind) {
    case "truncate":
      return truncateAt(b, m.at, m.boundary, [0, 1, 5, 6, 7, 8, 9, 10, 11, 12, start + (hl >> 1), start + hl - 1, start + hl, start + hl + 1, b.length - 1]);
    case "flip":
      return flip(b, m.at, m.xor);
    case "header-length":
      return ok ? overwrite(b, 8, le(valueOf(m.value, BigInt(hl)), wide ? 4 : 2)) : b;
    case "version":
      return ok && start + hl <= b.length ? writeNpy({ ...parseNpy(b), major: m.major, minor: m.minor }) : b;
    case "dict": {
      if (!ok || start + hl > b.length) return b;
      const n = parseNpy(b);
      return writeNpy({ ...n, dict: mutateNpyDict(n.dict, m.m) }, m.pad);
    }
    case "data":
      return m.delta < 0 ? b.slice(0, Math.max(0, b.length + m.delta)) : concat(b, new Uint8Array(m.delta).fill(0x3f));
  }
}

const NPY_SEEDS = [
  ...seedFiles(join(FIX, "numpy"), (f) => f.endsWith(".npy")),
  ...seedFiles(join(ROOT, "node_modules/tfjs-npy/testdata"), (f) => f.endsWith(".npy")),
];

export const npyMutation = fc.asyncProperty(
  fc.nat({ max: NPY_SEEDS.length - 1 }),
  fc.array(npyMutationArb, { minLength: 1, maxLength: 2 }),
  modeArb, chunkArb, inspectArb,
  async (s, ms, mode, chunk, insp) => {
    const seed = NPY_SEEDS[s]!;
    let b = seed.bytes;
    for (const m of ms) b = mutateNpy(b, m);
    await runInput("npy", { files: new Map([[seed.name, b]]), main: seed.name, mode, chunk, inspect: insp }, `${seed.name}: ${JSON.stringify(ms, bigints)}`);
  },
);

// ---------------------------------------------------------------------------------------------
// .npz: zip fields and entries

interface ZipField {
  at: number;
  width: number;
  what: string;
}

interface ZipEntryData {
  name: string;
  method: number;
  data: Uint8Array;
}

function u16at(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8);
}
function u32at(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/** Every integer field of a zip's end records, central headers and local headers (zip64 extras too). */
export function zipFields(b: Uint8Array): ZipField[] {
  const out: ZipField[] = [];
  let eocd = -1;
  for (let i = b.length - 22; i >= 0 && i >= b.length - 22 - 0xffff; i--) if (u32at(b, i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) return out;
  const f = (at: number, width: number, what: string) => { if (at + width <= b.length) out.push({ at, width, what }); };
  [[4, 2, "disk"], [6, 2, "cd disk"], [8, 2, "entries here"], [10, 2, "entries"], [12, 4, "cd size"], [16, 4, "cd offset"], [20, 2, "comment length"]].forEach(([o, w, n]) => f(eocd + (o as number), w as number, `eocd ${n}`));
  let cd = u32at(b, eocd + 16);
  let count = u16at(b, eocd + 10);
  if (eocd >= 20 && u32at(b, eocd - 20) === 0x07064b50) {
    f(eocd - 16, 4, "locator disk");
    f(eocd - 12, 8, "locator eocd64 offset");
    f(eocd - 4, 4, "locator disks");
    const e64 = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(eocd - 12, true));
    if (e64 + 56 <= b.length && u32at(b, e64) === 0x06064b50) {
      [[4, 8, "size"], [16, 4, "disk"], [20, 4, "cd disk"], [24, 8, "entries here"], [32, 8, "entries"], [40, 8, "cd size"], [48, 8, "cd offset"]].forEach(([o, w, n]) => f(e64 + (o as number), w as number, `eocd64 ${n}`));
      cd = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(e64 + 48, true));
      count = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(e64 + 32, true));
    }
  }
  const extras = (p: number, n: number, what: string) => {
    for (let q = p; q + 4 <= p + n && q + 4 <= b.length;) {
      const id = u16at(b, q);
      const size = u16at(b, q + 2);
      f(q + 2, 2, `${what} extra size`);
      if (id === 1) for (let k = 0; k + 8 <= size; k += 8) f(q + 4 + k, 8, `${what} zip64[${k / 8}]`);
      q += 4 + size;
    }
  };
  for (let i = 0, p = cd; i < Math.min(count, 64) && p + 46 <= b.length && u32at(b, p) === 0x02014b50; i++) {
    [[6, 2, "version needed"], [8, 2, "flags"], [10, 2, "method"], [16, 4, "crc"], [20, 4, "compressed size"], [24, 4, "size"], [28, 2, "name length"], [30, 2, "extra length"], [32, 2, "comment length"], [34, 2, "disk"], [42, 4, "local offset"]].forEach(([o, w, n]) => f(p + (o as number), w as number, `central[${i}] ${n}`));
    const [nl, xl, cl] = [u16at(b, p + 28), u16at(b, p + 30), u16at(b, p + 32)];
    extras(p + 46 + nl, xl, `central[${i}]`);
    const local = u32at(b, p + 42);
    if (local + 30 <= b.length && u32at(b, local) === 0x04034b50) {
      [[4, 2, "version"], [6, 2, "flags"], [8, 2, "method"], [14, 4, "crc"], [18, 4, "compressed size"], [22, 4, "size"], [26, 2, "name length"], [28, 2, "extra length"]].forEach(([o, w, n]) => f(local + (o as number), w as number, `local[${i}] ${n}`));
      extras(local + 30 + u16at(b, local + 26), u16at(b, local + 28), `local[${i}]`);
    }
    p += 46 + nl + xl + cl;
  }
  return out;
}

/** The entries of a (valid) zip, inflated. */
function zipEntries(b: Uint8Array): ZipEntryData[] {
  const fields = zipFields(b);
  const out: ZipEntryData[] = [];
  for (let i = 0; ; i++) {
    const at = (what: string) => fields.find((x) => x.what === what)?.at;
    const lo = at(`central[${i}] local offset`);
    if (lo === undefined) return out;
    const local = u32at(b, lo);
    const nl = u16at(b, local + 26);
    const name = new TextDecoder().decode(b.subarray(local + 30, local + 30 + nl));
    const method = u16at(b, local + 8);
    const z64c = at(`central[${i}] zip64[1]`);
    const csize = z64c !== undefined ? Number(new DataView(b.buffer, b.byteOffset).getBigUint64(z64c, true)) : u32at(b, at(`central[${i}] compressed size`)!);
    const start = local + 30 + nl + u16at(b, local + 28);
    const raw = b.subarray(start, start + csize);
    out.push({ name, method, data: method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw.slice() });
  }
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A plain zip (no zip64) of the entries, each stored or deflated. */
export function writeZip(entries: readonly ZipEntryData[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let at = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data);
    const common = concat(le(20n, 2), le(0x800n, 2), le(BigInt(e.method), 2), le(0n, 4), le(BigInt(crc), 4), le(BigInt(body.length), 4), le(BigInt(e.data.length), 4), le(BigInt(name.length), 2), le(0n, 2));
    const local = concat(le(0x04034b50n, 4), common, name);
    central.push(concat(le(0x02014b50n, 4), le(20n, 2), common, le(0n, 2), le(0n, 2), le(0n, 2), le(0n, 4), le(BigInt(at), 4), name));
    parts.push(local, body);
    at += local.length + body.length;
  }
  const cd = concat(...central);
  const eocd = concat(le(0x06054b50n, 4), le(0n, 4), le(BigInt(entries.length), 2), le(BigInt(entries.length), 2), le(BigInt(cd.length), 4), le(BigInt(at), 4), le(0n, 2));
  return concat(...parts, cd, eocd);
}

type NpzMutation =
  | { kind: "field"; pick: number; value: IntValue }
  | { kind: "truncate"; at: number; boundary: boolean }
  | { kind: "flip"; at: number; xor: number }
  | { kind: "rename"; pick: number; name: string }
  | { kind: "dup-entry"; pick: number }
  | { kind: "delete-entry"; pick: number }
  | { kind: "method"; pick: number; method: number }
  | { kind: "entry-npy"; pick: number; m: NpyMutation }
  | { kind: "comment"; n: number };

const npzMutationArb: fc.Arbitrary<NpzMutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("field" as const), pick: fc.nat(), value: intValueArb }), weight: 6 },
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), boundary: fc.boolean() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("rename" as const), pick: fc.nat(), name: fc.oneof(fc.constantFrom("../x.npy", "/abs.npy", "a/b/c.npy", "a/../../b.npy", "", ".npy", "x.txt", "data.pkl", "arr_0.npy", "fc1.weight.npy", "w.npy", "\u0000.npy", "é.npy", "x".repeat(400) + ".npy"), fc.string({ maxLength: 10 }).map((s) => `${s}.npy`)) }),
  fc.record({ kind: fc.constant("dup-entry" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("delete-entry" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("method" as const), pick: fc.nat(), method: fc.constantFrom(0, 8) }),
  { arbitrary: fc.record({ kind: fc.constant("entry-npy" as const), pick: fc.nat(), m: npyMutationArb }), weight: 3 },
  fc.record({ kind: fc.constant("comment" as const), n: fc.constantFrom(1, 22, 100, 0xffff) }),
);

export function mutateNpz(b: Uint8Array, m: NpzMutation): Uint8Array {
  const entryLevel = () => {
    try {
      const es = zipEntries(b);
      return es.length > 0 ? es : null;
    } catch {
      return null; // an earlier mutation broke the archive: entry mutations do nothing
    }
  };
  switch (m.kind) {
    case "field": {
      const fields = zipFields(b);
      const f = fields[m.pick % Math.max(1, fields.length)];
      if (!f) return b;
      let orig = 0n;
      for (let k = f.width - 1; k >= 0; k--) orig = (orig << 8n) | BigInt(b[f.at + k]!);
      return overwrite(b, f.at, le(valueOf(m.value, orig), f.width));
    }
    case "truncate": {
      const cuts = [...new Set(zipFields(b).flatMap((f) => [f.at, f.at + f.width]))].sort((x, y) => x - y);
      return truncateAt(b, m.at, m.boundary, [0, 4, 22, 30, b.length - 22, b.length - 1, ...cuts]);
    }
    case "flip":
      return flip(b, m.at, m.xor);
    case "comment": {
      // A comment after the end record, the length field pointing at it or not.
      const es = entryLevel();
      const base = es ? writeZip(es) : b;
      if (base.length < 22) return b;
      const len = Math.min(m.n, 0xffff);
      const withComment = overwrite(base, base.length - 2, le(BigInt(len), 2));
      return concat(withComment, new Uint8Array(m.n === 22 ? 0 : len).fill(0x50));
    }
    default: {
      const es = entryLevel();
      if (!es) return b;
      const i = m.pick % es.length;
      if (m.kind === "rename") es[i] = { ...es[i]!, name: m.name };
      else if (m.kind === "dup-entry") es.splice(i, 0, es[i]!);
      else if (m.kind === "delete-entry") es.splice(i, 1);
      else if (m.kind === "method") es[i] = { ...es[i]!, method: m.method };
      else es[i] = { ...es[i]!, data: mutateNpy(es[i]!.data, m.m) };
      return writeZip(es);
    }
  }
}

const NPZ_SEEDS = seedFiles(join(FIX, "numpy"), (f) => f.endsWith(".npz"));

export const npzMutation = fc.asyncProperty(
  fc.nat({ max: NPZ_SEEDS.length - 1 }),
  fc.array(npzMutationArb, { minLength: 1, maxLength: 2 }),
  fc.constantFrom<Mode>("bytes", "bytes", "blob", "stream"), chunkArb, inspectArb,
  async (s, ms, mode, chunk, insp) => {
    const seed = NPZ_SEEDS[s]!;
    let b = seed.bytes;
    for (const m of ms) b = mutateNpz(b, m);
    await runInput("npz", { files: new Map([[seed.name, b]]), main: seed.name, mode, chunk, inspect: insp }, `${seed.name}: ${JSON.stringify(ms, bigints)}`);
  },
);

// ---------------------------------------------------------------------------------------------
// TF.js: model.json nodes and shards

/** JSON as an editable tree: objects keep their entry list (so a key can appear twice), scalars their text. */
type J = { t: "obj"; e: [string, J][] } | { t: "arr"; a: J[] } | { t: "raw"; s: string };

function toTree(v: unknown): J {
  if (Array.isArray(v)) return { t: "arr", a: v.map(toTree) };
  if (v !== null && typeof v === "object") return { t: "obj", e: Object.entries(v).map(([k, x]) => [k, toTree(x)]) };
  return { t: "raw", s: JSON.stringify(v) };
}

function fromTree(j: J): string {
  if (j.t === "raw") return j.s;
  if (j.t === "arr") return `[${j.a.map(fromTree).join(",")}]`;
  return `{${j.e.map(([k, v]) => `${JSON.stringify(k)}:${fromTree(v)}`).join(",")}}`;
}

/** Every node with its container and the path to it. */
function treeNodes(j: J, path = "", out: { node: J; parent: J | null; index: number; path: string }[] = [], parent: J | null = null, index = 0) {
  out.push({ node: j, parent, index, path });
  if (j.t === "obj") j.e.forEach(([k, v], i) => treeNodes(v, `${path}/${k}`, out, j, i));
  if (j.t === "arr") j.a.forEach((v, i) => treeNodes(v, `${path}/${i}`, out, j, i));
  return out;
}

const NUMBER_TEXT = ["0", "1", "-1", "2147483647", "2147483648", "4294967295", "4294967296", "9007199254740991", "9007199254740993", "9223372036854775807", "18446744073709551615", "1e308", "1e400", "-1e400", "0.5", "-0", "1e-400", "3.000000000000001"];
const TFJS_STRINGS = ["float32", "float16", "int32", "uint8", "uint16", "int8", "bool", "string", "complex64", "float64", "Dense", "Conv2D", "DepthwiseConv2D", "LSTM", "GRU", "Lambda", "TFOpLambda", "Sequential", "Functional", "Model", "channels_first", "same", "valid", "layers-model", "graph-model",
  // GraphDef nodes of graph models (tfjs/graph-model/small): op names, references to outputs and control inputs, base64 attribute strings.
  "Const", "Placeholder", "_FusedConv2D", "FusedDepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul", "ConcatV2", "Pad", "Reshape", "Mean", "Identity",
  "x:1", "^x", "bn/add:3", "res/Relu", "U0FNRQ==", "VkFMSUQ=", "RVhQTElDSVQ=", "TkNIVw==", "UmVsdTY=", "Qmlhc0FkZA==", "DT_INT32"];

type TfjsMutation =
  | { kind: "number"; pick: number; text: string }
  | { kind: "string"; pick: number; s: string }
  | { kind: "delete"; pick: number }
  | { kind: "dup"; pick: number }
  | { kind: "retype"; pick: number; text: string }
  | { kind: "swap"; pick: number; other: number }
  | { kind: "json-truncate"; at: number }
  | { kind: "json-flip"; at: number; xor: number }
  | { kind: "shard-cut"; pick: number; at: number }
  | { kind: "shard-grow"; pick: number; n: number }
  | { kind: "shard-flip"; pick: number; at: number; xor: number }
  | { kind: "shard-drop"; pick: number };

const tfjsMutationArb: fc.Arbitrary<TfjsMutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("number" as const), pick: fc.nat(), text: fc.oneof(fc.constantFrom(...NUMBER_TEXT), fc.integer({ min: -4, max: 64 }).map(String)) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("string" as const), pick: fc.nat(), s: fc.oneof(fc.constantFrom(...TFJS_STRINGS), stringArb) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("dup" as const), pick: fc.nat() }), weight: 2 },
  fc.record({ kind: fc.constant("retype" as const), pick: fc.nat(), text: fc.constantFrom("null", "{}", "[]", "0", "\"x\"", "true", "[null]", "{\"a\":1}", "[[8,16]]") }),
  fc.record({ kind: fc.constant("swap" as const), pick: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant("json-truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("json-flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("shard-cut" as const), pick: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant("shard-grow" as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 4096 }) }),
  fc.record({ kind: fc.constant("shard-flip" as const), pick: fc.nat(), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("shard-drop" as const), pick: fc.nat() }),
);

/** Mutations pick weightsManifest nodes two times in three (shapes, dtypes, paths, quantization). */
function pickNode<T extends { path: string }>(nodes: T[], pick: number): T | undefined {
  const manifest = nodes.filter((n) => n.path.startsWith("/weightsManifest"));
  const from = pick % 3 !== 0 && manifest.length > 0 ? manifest : nodes;
  return from[Math.floor(pick / 3) % from.length];
}

export function mutateTfjs(files: Map<string, Uint8Array>, m: TfjsMutation): Map<string, Uint8Array> {
  const out = new Map(files);
  const shards = [...files.keys()].filter((k) => k !== "model.json");
  const shard = shards[("pick" in m ? m.pick : 0) % Math.max(1, shards.length)];
  const json = files.get("model.json")!;
  switch (m.kind) {
    case "json-truncate":
      out.set("model.json", json.slice(0, m.at % (json.length + 1)));
      return out;
    case "json-flip":
      out.set("model.json", flip(json, m.at, m.xor));
      return out;
    case "shard-cut":
      if (shard) out.set(shard, files.get(shard)!.slice(0, m.at % (files.get(shard)!.length + 1)));
      return out;
    case "shard-grow":
      if (shard) out.set(shard, concat(files.get(shard)!, new Uint8Array(m.n).fill(0x41)));
      return out;
    case "shard-flip":
      if (shard) out.set(shard, flip(files.get(shard)!, m.at, m.xor));
      return out;
    case "shard-drop":
      if (shard) out.delete(shard);
      return out;
  }
  let tree: J;
  try {
    tree = toTree(JSON.parse(new TextDecoder().decode(json)));
  } catch {
    return out; // model.json already broken by an earlier mutation
  }
  const nodes = treeNodes(tree);
  const set = (n: { parent: J | null; index: number }, v: J | null) => {
    if (!n.parent) return;
    if (n.parent.t === "obj") {
      if (v) n.parent.e[n.index]![1] = v;
      else n.parent.e.splice(n.index, 1);
    } else if (n.parent.t === "arr") {
      if (v) n.parent.a[n.index] = v;
      else n.parent.a.splice(n.index, 1);
    }
  };
  switch (m.kind) {
    case "number": {
      const n = pickNode(nodes.filter((x) => x.node.t === "raw" && /^-?\d/.test(x.node.s)), m.pick);
      if (n) set(n, { t: "raw", s: m.text });
      break;
    }
    case "string": {
      const n = pickNode(nodes.filter((x) => x.node.t === "raw" && x.node.s.startsWith("\"")), m.pick);
      if (n) set(n, { t: "raw", s: JSON.stringify(m.s) });
      break;
    }
    case "retype": {
      const n = pickNode(nodes.filter((x) => x.parent), m.pick);
      if (n) set(n, { t: "raw", s: m.text });
      break;
    }
    case "delete": {
      const n = pickNode(nodes.filter((x) => x.parent), m.pick);
      if (n) set(n, null);
      break;
    }
    case "dup": {
      const n = pickNode(nodes.filter((x) => x.parent), m.pick);
      if (n?.parent?.t === "obj") n.parent.e.splice(n.index + 1, 0, [n.parent.e[n.index]![0], n.node]);
      if (n?.parent?.t === "arr") n.parent.a.splice(n.index + 1, 0, n.node);
      break;
    }
    case "swap": {
      const n = pickNode(nodes.filter((x) => x.parent?.t === "arr" && x.parent.a.length > 1), m.pick);
      if (n?.parent?.t === "arr") {
        const a = n.parent.a;
        const j = m.other % a.length;
        [a[n.index], a[j]] = [a[j]!, a[n.index]!];
      }
      break;
    }
  }
  out.set("model.json", enc.encode(fromTree(tree)));
  return out;
}

// Every folder that holds a model.json is a seed (the graph fixtures sit one level down, the graph model's in graph-model/small).
const TFJS_SEEDS = readdirSync(join(FIX, "tfjs"), { withFileTypes: true, recursive: true })
  .filter((d) => d.isFile() && d.name === "model.json")
  .map((d) => relative(join(FIX, "tfjs"), d.parentPath ?? d.path))
  .sort()
  .map((name) => ({ name, files: new Map(seedFiles(join(FIX, "tfjs", name), (f) => !f.endsWith(".json") || f === "model.json").map((s) => [s.name, s.bytes] as [string, Uint8Array])) }));

export const tfjsMutation = fc.asyncProperty(
  fc.nat({ max: TFJS_SEEDS.length - 1 }),
  fc.array(tfjsMutationArb, { minLength: 1, maxLength: 2 }),
  fc.constantFrom<Mode>("bytes", "blob"), inspectArb,
  async (s, ms, mode, insp) => {
    const seed = TFJS_SEEDS[s]!;
    let files = seed.files;
    for (const m of ms) files = mutateTfjs(files, m);
    await runInput("tfjs", { files, main: "model.json", mode, chunk: 0, inspect: insp }, `${seed.name}: ${JSON.stringify(ms)}`);
  },
);

// ---------------------------------------------------------------------------------------------
// PyTorch: the zip as for .npz, and data.pkl's opcodes (operands, strings, globals, lengths)

/** Opcodes of data.pkl with the place and width of their operand (the ones torch.save writes). */
function pickleOps(b: Uint8Array): { at: number; op: number; arg: number; width: number }[] {
  const out: { at: number; op: number; arg: number; width: number }[] = [];
  const fixed: Record<number, number> = { 0x80: 1, 0x95: 8, 0x4b: 1, 0x4d: 2, 0x4a: 4, 0x71: 1, 0x72: 4, 0x68: 1, 0x6a: 4, 0x47: 8 };
  for (let p = 0; p < b.length && out.length < 4096;) {
    const op = b[p]!;
    let width = fixed[op] ?? 0;
    if (op === 0x58) width = 4 + u32at(b, p + 1);
    else if (op === 0x8c || op === 0x8a) width = 1 + (b[p + 1] ?? 0);
    else if (op === 0x63) {
      const a = b.indexOf(0x0a, p + 1);
      const c = a < 0 ? -1 : b.indexOf(0x0a, a + 1);
      if (c < 0) break;
      width = c - p;
    }
    out.push({ at: p, op, arg: p + 1, width });
    if (op === 0x2e) break;
    p += 1 + width;
  }
  return out;
}

const PT_GLOBALS = ["os\nsystem", "builtins\neval", "torch\nHalfStorage", "torch\nLongStorage", "torch\nBFloat16Storage", "torch\nUntypedStorage", "collections\nOrderedDict", "torch._utils\n_rebuild_parameter", "torch._utils\n_rebuild_tensor_v2", "torch\nSize", "_codecs\nencode", "torch\nfloat32"];

type PickleMutation =
  | { kind: "int"; pick: number; value: IntValue }
  | { kind: "string"; pick: number; text: string }
  | { kind: "length"; pick: number; value: IntValue }
  | { kind: "global"; pick: number; name: string }
  | { kind: "opcode"; pick: number; op: number }
  | { kind: "delete-op"; pick: number }
  | { kind: "flip"; at: number; xor: number }
  | { kind: "truncate"; at: number };

const pickleMutationArb: fc.Arbitrary<PickleMutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("int" as const), pick: fc.nat(), value: intValueArb }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant("string" as const), pick: fc.nat(), text: fc.oneof(stringArb, fc.constantFrom("storage", "0", "1", "cpu", "fc1.weight", "fc2.weight", "state_dict", "model")) }), weight: 2 },
  fc.record({ kind: fc.constant("length" as const), pick: fc.nat(), value: intValueArb }),
  { arbitrary: fc.record({ kind: fc.constant("global" as const), pick: fc.nat(), name: fc.constantFrom(...PT_GLOBALS) }), weight: 2 },
  fc.record({ kind: fc.constant("opcode" as const), pick: fc.nat(), op: fc.constantFrom(0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x51, 0x52, 0x62, 0x65, 0x61, 0x73, 0x74, 0x75, 0x81, 0x85, 0x86, 0x87, 0x29, 0x5d, 0x7d, 0x94, 0x93, 0x69) }),
  fc.record({ kind: fc.constant("delete-op" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

export function mutatePickle(b: Uint8Array, m: PickleMutation): Uint8Array {
  const ops = pickleOps(b);
  const pick = <T>(xs: T[], n: number) => xs[n % Math.max(1, xs.length)];
  const splice = (from: number, to: number, repl: Uint8Array) => concat(b.subarray(0, from), repl, b.subarray(to));
  switch (m.kind) {
    case "int": {
      const o = pick(ops.filter((x) => x.op === 0x4b || x.op === 0x4d || x.op === 0x4a || x.op === 0x8a), m.pick);
      if (!o) return b;
      const orig = o.op === 0x4b ? BigInt(b[o.arg] ?? 0) : o.op === 0x4d ? BigInt(u16at(b, o.arg)) : o.op === 0x4a ? BigInt(u32at(b, o.arg) | 0) : 0n;
      return splice(o.at, o.arg + o.width, concat(Uint8Array.of(0x8a, 9), le(valueOf(m.value, orig), 9)));
    }
    case "string": {
      const o = pick(ops.filter((x) => x.op === 0x58), m.pick);
      if (!o) return b;
      const t = enc.encode(m.text);
      return splice(o.at, o.arg + o.width, concat(Uint8Array.of(0x58), le(BigInt(t.length), 4), t));
    }
    case "length": {
      const o = pick(ops.filter((x) => x.op === 0x58), m.pick);
      return o ? overwrite(b, o.arg, le(valueOf(m.value, BigInt(u32at(b, o.arg))), 4)) : b;
    }
    case "global": {
      const o = pick(ops.filter((x) => x.op === 0x63), m.pick);
      return o ? splice(o.at, o.arg + o.width, concat(Uint8Array.of(0x63), enc.encode(`${m.name}\n`))) : b;
    }
    case "opcode": {
      const o = pick(ops, m.pick);
      return o ? splice(o.at, o.at, Uint8Array.of(m.op)) : b;
    }
    case "delete-op": {
      const o = pick(ops, m.pick);
      return o ? splice(o.at, o.arg + o.width, new Uint8Array(0)) : b;
    }
    case "flip":
      return flip(b, m.at, m.xor);
    case "truncate":
      return b.slice(0, m.at % Math.max(1, b.length));
  }
}

type PtMutation =
  | { kind: "zip"; m: NpzMutation }
  | { kind: "pickle"; m: PickleMutation }
  | { kind: "storage"; pick: number; bytes: number };

const ptMutationArb: fc.Arbitrary<PtMutation> = fc.oneof(
  { arbitrary: npzMutationArb.filter((m) => m.kind !== "entry-npy").map((m) => ({ kind: "zip" as const, m })), weight: 3 },
  { arbitrary: pickleMutationArb.map((m) => ({ kind: "pickle" as const, m })), weight: 6 },
  fc.record({ kind: fc.constant("storage" as const), pick: fc.nat(), bytes: fc.integer({ min: -64, max: 64 }) }),
);

export function mutatePt(b: Uint8Array, m: PtMutation): Uint8Array {
  if (m.kind === "zip") return mutateNpz(b, m.m);
  let es: ZipEntryData[];
  try {
    es = zipEntries(b);
  } catch {
    return m.kind === "pickle" ? mutatePickle(b, m.m) : b; // the legacy format: its first pickle starts at byte 0
  }
  if (es.length === 0) return m.kind === "pickle" ? mutatePickle(b, m.m) : b;
  if (m.kind === "pickle") {
    const i = es.findIndex((e) => e.name.endsWith("data.pkl"));
    if (i < 0) return b;
    es[i] = { ...es[i]!, data: mutatePickle(es[i]!.data, m.m) };
  } else {
    const data = es.filter((e) => /\/data\/[^/]+$/.test(e.name));
    const e = data[m.pick % Math.max(1, data.length)];
    if (!e) return b;
    const n = Math.max(0, e.data.length + m.bytes);
    const grown = new Uint8Array(n);
    grown.set(e.data.subarray(0, n));
    es[es.indexOf(e)] = { ...e, data: grown };
  }
  return writeZip(es);
}

const PT_SEEDS = seedFiles(join(FIX, "pytorch"), (f) => f.endsWith(".pt") && f !== "malicious.pt" && f !== "whole-model.pt");

export const pytorchMutation = fc.asyncProperty(
  fc.nat({ max: PT_SEEDS.length - 1 }),
  fc.array(ptMutationArb, { minLength: 1, maxLength: 2 }),
  fc.constantFrom<Mode>("bytes", "bytes", "blob", "stream"), chunkArb, inspectArb,
  async (s, ms, mode, chunk, insp) => {
    const seed = PT_SEEDS[s]!;
    let b = seed.bytes;
    for (const m of ms) b = mutatePt(b, m);
    await runInput("pytorch", { files: new Map([[seed.name, b]]), main: seed.name, mode, chunk, inspect: insp }, `${seed.name}: ${JSON.stringify(ms, bigints)}`);
  },
);

// ---------------------------------------------------------------------------------------------
// Keras: the .keras zip as for .npz, config.json as a JSON tree, model.weights.h5's structure

/** Fields of an HDF5 file: u64s that read as addresses or lengths (or the undefined address), and the versions, types and counts after each signature. */
export function h5Fields(b: Uint8Array): ZipField[] {
  const out: ZipField[] = [];
  if (b.length < 64 || b[0] !== 0x89 || b[1] !== 0x48 || b[2] !== 0x44 || b[3] !== 0x46) return out;
  [[8, 1, "superblock version"], [13, 1, "offset size"], [14, 1, "length size"], [9, 1, "sizes (v2+)"]].forEach(([at, width, what]) => out.push({ at: at as number, width: width as number, what: what as string }));
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = BigInt(b.length);
  for (let p = 0; p + 8 <= b.length && out.length < 4096; p++) {
    const v = view.getBigUint64(p, true);
    if ((v > 0n && v < size) || v === 0xffffffffffffffffn) out.push({ at: p, width: 8, what: `u64 ${v} at ${p}` });
  }
  const text = dec.decode(b);
  for (const sig of ["TREE", "SNOD", "HEAP", "OHDR", "OCHK", "GCOL"]) {
    for (let at = text.indexOf(sig); at >= 0 && out.length < 8192; at = text.indexOf(sig, at + 1)) {
      out.push({ at: at + 4, width: 1, what: `${sig} version/type` }, { at: at + 5, width: 1, what: `${sig} flags/level` }, { at: at + 6, width: 2, what: `${sig} count/size` });
    }
  }
  return out;
}

type KerasMutation =
  | { kind: "zip"; m: NpzMutation }
  | { kind: "config"; m: TfjsMutation }
  | { kind: "h5-field"; pick: number; value: IntValue }
  | { kind: "h5-flip"; at: number; xor: number }
  | { kind: "h5-cut"; at: number };

const JSON_KINDS = new Set(["number", "string", "delete", "dup", "retype", "swap", "json-truncate", "json-flip"]);
const kerasMutationArb: fc.Arbitrary<KerasMutation> = fc.oneof(
  { arbitrary: npzMutationArb.filter((m) => m.kind !== "entry-npy" && m.kind !== "rename").map((m) => ({ kind: "zip" as const, m })), weight: 2 },
  { arbitrary: tfjsMutationArb.filter((m) => JSON_KINDS.has(m.kind)).map((m) => ({ kind: "config" as const, m })), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("h5-field" as const), pick: fc.nat(), value: intValueArb }), weight: 6 },
  fc.record({ kind: fc.constant("h5-flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("h5-cut" as const), at: fc.nat() }),
);

export function mutateKeras(b: Uint8Array, m: KerasMutation): Uint8Array {
  if (m.kind === "zip") return mutateNpz(b, m.m);
  const isH5 = b[0] === 0x89;
  let es: ZipEntryData[] | null = null;
  if (!isH5) {
    try {
      es = zipEntries(b);
    } catch {
      return b; // an earlier mutation broke the archive
    }
  }
  const pick = (name: string) => es?.find((e) => e.name === name);
  const put = (name: string, data: Uint8Array) => {
    if (!es) return data;
    const e = pick(name)!;
    es[es.indexOf(e)] = { ...e, data };
    return writeZip(es);
  };
  if (m.kind === "config") {
    const config = pick("config.json");
    if (!config) return b;
    return put("config.json", mutateTfjs(new Map([["model.json", config.data]]), m.m).get("model.json")!);
  }
  const h5 = isH5 ? b : pick("model.weights.h5")?.data;
  if (!h5) return b;
  let next: Uint8Array;
  if (m.kind === "h5-flip") next = flip(h5, m.at, m.xor);
  else if (m.kind === "h5-cut") next = h5.slice(0, m.at % (h5.length + 1));
  else {
    const fields = h5Fields(h5);
    const f = fields[m.pick % Math.max(1, fields.length)];
    if (!f) return b;
    let orig = 0n;
    for (let k = f.width - 1; k >= 0; k--) orig = (orig << 8n) | BigInt(h5[f.at + k]!);
    next = overwrite(h5, f.at, le(valueOf(m.value, orig), f.width));
  }
  return put("model.weights.h5", next);
}

// Every Keras fixture that reads (the others are refusal cases).
const KERAS_REFUSED = new Set(["mlp-gzip.keras", "dense-links.weights.h5", "npz-weights.keras"]);
const KERAS_SEEDS = seedFiles(join(FIX, "keras"), (f) => (f.endsWith(".keras") || f.endsWith(".h5")) && !KERAS_REFUSED.has(f));

export const kerasMutation = fc.asyncProperty(
  fc.nat({ max: KERAS_SEEDS.length - 1 }),
  fc.array(kerasMutationArb, { minLength: 1, maxLength: 2 }),
  fc.constantFrom<Mode>("bytes", "bytes", "blob", "stream"), chunkArb, inspectArb,
  async (s, ms, mode, chunk, insp) => {
    const seed = KERAS_SEEDS[s]!;
    let b = seed.bytes;
    for (const m of ms) b = mutateKeras(b, m);
    await runInput("keras", { files: new Map([[seed.name, b]]), main: seed.name, mode, chunk, inspect: insp }, `${seed.name}: ${JSON.stringify(ms, bigints)}`);
  },
);

// ---------------------------------------------------------------------------------------------
// GGUF: every integer field of the header (counts, string lengths, value and item types, array
// counts, n_dims, dims, ggml types, data offsets), from test/fixtures/gguf/tiny-llama.gguf and a
// small handmade file

const GGUF_SEEDS = [
  { name: "tiny-llama.gguf", bytes: new Uint8Array(readFileSync(join(FIX, "gguf/tiny-llama.gguf"))) },
  {
    name: "small.gguf",
    bytes: writeGguf({
      kv: [{ key: "general.architecture", type: 8, value: concat(le(5n, 8), new TextEncoder().encode("llama")) }],
      tensors: [
        { name: "blk.0.attn_q.weight", ne: [32, 2], type: GGML.Q4_0, data: new Uint8Array(36).fill(0x3c) },
        { name: "blk.0.ffn_down.weight", ne: [256, 1], type: GGML.Q5_K, data: new Uint8Array(176).fill(0x21) },
        { name: "output.weight", ne: [2, 3], type: GGML.F16, data: new Uint8Array(12).fill(0x3c) },
      ],
    }),
  },
].map((s) => ({ ...s, fields: ggufFields(s.bytes) }));

type GgufMutation =
  | { kind: "int"; pick: number; value: IntValue }
  | { kind: "type"; pick: number; type: number }
  | { kind: "swap-offsets"; a: number; b: number }
  | { kind: "flip"; at: number; xor: number; header: boolean }
  | { kind: "truncate"; at: number; boundary: boolean };

const ggufMutationArb: fc.Arbitrary<GgufMutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("int" as const), pick: fc.nat(), value: intValueArb }), weight: 5 },
  fc.record({ kind: fc.constant("type" as const), pick: fc.nat(), type: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(0xffffffff)) }),
  fc.record({ kind: fc.constant("swap-offsets" as const), a: fc.nat(), b: fc.nat() }),
  { arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }), header: fc.boolean() }), weight: 2 },
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), boundary: fc.boolean() }),
);

export function mutateGguf(b: Uint8Array, fields: ReturnType<typeof ggufFields>, m: GgufMutation): Uint8Array {
  // A field cut off by an earlier truncation reads as 0.
  const read = (f: { at: number; width: number }) => (f.at + f.width > b.length ? 0n : f.width === 4 ? BigInt(new DataView(b.buffer, b.byteOffset).getUint32(f.at, true)) : new DataView(b.buffer, b.byteOffset).getBigUint64(f.at, true));
  const headerEnd = fields.length > 0 ? fields[fields.length - 1]!.at + 8 : b.length;
  switch (m.kind) {
    case "int": {
      const f = fields[m.pick % fields.length]!;
      return overwrite(b, f.at, le(valueOf(m.value, read(f)), f.width));
    }
    case "type": {
      const types = fields.filter((f) => /type$/.test(f.what));
      const f = types[m.pick % types.length]!;
      return overwrite(b, f.at, le(BigInt(m.type), 4));
    }
    case "swap-offsets": {
      const offsets = fields.filter((f) => / offset$/.test(f.what));
      const x = offsets[m.a % offsets.length]!, y = offsets[m.b % offsets.length]!;
      return overwrite(overwrite(b, x.at, le(read(y), 8)), y.at, le(read(x), 8));
    }
    case "flip":
      return flip(b, m.header ? m.at % headerEnd : m.at, m.xor);
    case "truncate":
      return truncateAt(b, m.at, m.boundary, fields.map((f) => f.at + (m.at & 1 ? f.width : 0)));
  }
}

export const ggufMutation = fc.asyncProperty(
  fc.nat({ max: GGUF_SEEDS.length - 1 }),
  fc.array(ggufMutationArb, { minLength: 1, maxLength: 2 }),
  modeArb, chunkArb, inspectArb,
  async (s, ms, mode, chunk, insp) => {
    const seed = GGUF_SEEDS[s]!;
    let bytes = seed.bytes;
    for (const m of ms) bytes = mutateGguf(bytes, seed.fields, m);
    // A stream of the 177 KB seed in chunks of a few bytes spends seconds in the stream itself (not
    // the reader): that seed streams in chunks of 512 bytes or more, the small one in any size.
    const size = bytes.length > 20_000 ? Math.max(chunk, 512) : chunk;
    await runInput("gguf", { files: new Map([[seed.name, bytes]]), main: seed.name, mode, chunk: size, inspect: insp }, `${seed.name}: ${JSON.stringify(ms, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`);
  },
);

/** Every reader's property, for this test and for scripts/fuzz.ts --only. */
export const READER_PROPERTIES: readonly { name: "onnx" | "npy" | "npz" | "tfjs" | "keras" | "pytorch" | "gguf"; property: fc.IAsyncProperty<never> }[] = [
  { name: "onnx", property: onnxMutation as never },
  { name: "npy", property: npyMutation as never },
  { name: "npz", property: npzMutation as never },
  { name: "tfjs", property: tfjsMutation as never },
  { name: "gguf", property: ggufMutation as never },
  { name: "keras", property: kerasMutation as never },
  { name: "pytorch", property: pytorchMutation as never },
];

// ---------------------------------------------------------------------------------------------
// round trips: convertToCnt then analyze measures what analyzing the original measures

interface RoundTripSeed {
  name: string;
  input: () => unknown;
}

export const ROUND_TRIP_SEEDS: RoundTripSeed[] = [
  ...ONNX_SEEDS.map((s) => ({ name: `onnx/${s.files.size > 1 ? "external/" : ""}${s.main}`, input: () => (s.files.size > 1 ? filesSource(s.files, s.main) : s.files.get(s.main)!) })),
  ...NPY_SEEDS.map((s) => ({ name: `npy/${s.name}`, input: () => s.bytes })),
  ...NPZ_SEEDS.map((s) => ({ name: `npz/${s.name}`, input: () => s.bytes })),
  ...TFJS_SEEDS.map((s) => ({ name: `tfjs/${s.name}`, input: () => filesSource(s.files, "model.json") })),
  ...GGUF_SEEDS.map((s) => ({ name: `gguf/${s.name}`, input: () => s.bytes })),
  ...KERAS_SEEDS.map((s) => ({ name: `keras/${s.name}`, input: () => s.bytes })),
  ...PT_SEEDS.map((s) => ({ name: `pytorch/${s.name}`, input: () => s.bytes })),
];

/** The measured parts of each layer of a report, as JSON. */
function measured(report: Awaited<ReturnType<typeof analyze>>): string {
  const r = JSON.parse(toJSON(report, 0)) as { layers: Record<string, unknown>[] };
  return JSON.stringify(r.layers.map((l) => [l.name, l.kind, l.shape, l.linkWeights, l.bias, l.recurrentWeights ?? null, l.recurrentBias ?? null]));
}

export async function roundTrip(seed: RoundTripSeed, blockBytes: number): Promise<"same" | "skipped"> {
  let original: string;
  try {
    original = measured(await analyze(seed.input() as never, { name: seed.name }));
  } catch (error) {
    if (error instanceof CntError && READER_CODES.has(error.code)) return "skipped"; // not a measurable model (int64 .npy, arrays with no layout)
    throw error;
  }
  const chunks: Uint8Array[] = [];
  for await (const c of convertToCnt(seed.input() as never, { name: seed.name, blockBytes })) chunks.push(c);
  const again = measured(await analyze(concat(...chunks), { name: `${seed.name}.cnt` }));
  assert.is(again, original, `${seed.name}: the .cnt copy measures differently`);
  return "same";
}

// ---------------------------------------------------------------------------------------------
// the tests (skipped when scripts/fuzz.ts imports this module)

const SEED = 20250214;
/** Per reader: runs (deterministic for the seed) and the time cap that keeps `npm test` bounded. */
const RUNS: Record<string, number> = { onnx: 12000, npy: 60000, npz: 10000, tfjs: 15000, gguf: 8000, keras: 6000, pytorch: 6000 };
const RUNS_SCALE = Number(process.env.CNTSCOPE_FUZZ_SCALE ?? 1);
const CAP_MS = Number(process.env.CNTSCOPE_FUZZ_MS ?? 55_000);

if (!process.env.CNTSCOPE_FUZZ_LIBRARY) {
  for (const { name, property } of READER_PROPERTIES) {
    test(`fuzz-readers ${name}: mutated seeds, seed ${SEED}`, async () => {
      const started = performance.now();
      const details = await fc.check(property, { seed: SEED, numRuns: Math.max(1, Math.round(RUNS[name]! * RUNS_SCALE)), interruptAfterTimeLimit: CAP_MS, markInterruptAsFailure: false, endOnFailure: true });
      const known = knownSkips.get(name);
      console.log(`  fuzz-readers ${name}: ${details.numRuns} executions in ${((performance.now() - started) / 1000).toFixed(1)} s${details.interrupted ? " (time cap)" : ""}${known ? `, ${known} only inspected (KNOWN pool issue)` : ""}`);
      assert.not.ok(details.failed, details.failed ? `${name}: ${String(details.errorInstance)}\ncounterexample: ${fc.stringify(details.counterexample).slice(0, 2000)}\nreplay with seed ${details.seed}, path "${details.counterexamplePath}"` : "");
    });
  }

  test("fuzz-readers: every seed file is read (the mutations start from valid files)", async () => {
    for (const s of ROUND_TRIP_SEEDS) {
      try {
        await inspect(s.input() as never, { name: s.name });
      } catch (error) {
        // tfjs-npy's int64 and uint8 arrays are seeds for the header mutations all the same.
        const code = error instanceof CntError ? error.code : "";
        const expected = /npy\/(3|uint8)\.npy$/.test(s.name) && code === "BAD_DTYPE";
        if (!expected) assert.unreachable(`${s.name}: ${String(error)}`);
      }
    }
  });

  test("fuzz-readers: convertToCnt then analyze gives the same link weights (every seed, three block sizes)", async () => {
    let same = 0;
    for (const s of ROUND_TRIP_SEEDS) for (const blockBytes of [4 * 2 ** 20, 1024, 64]) if ((await roundTrip(s, blockBytes)) === "same") same++;
    assert.ok(same >= 3 * 20, `only ${same} round trips ran`);
  });

  // Regression inputs of what this fuzzing found (fixed in the readers, or KNOWN above).

  test("fuzz-readers regression: ONNX Conv group = -1 is BAD_HEADER (was INTERNAL RangeError: Invalid typed array length: -18)", async () => {
    const cnn = ONNX_SEEDS.find((x) => x.main === "cnn.onnx")!.files.get("cnn.onnx")!;
    for (const v of [-1n, 0n, 2n ** 64n - 1n]) {
      const got = await runInput("regression", oneFile("cnn.onnx", setOnnxAttrInt(cnn, "Conv", "group", v)), `group ${v}`);
      assert.equal("code" in got ? got.code : "report", "BAD_HEADER", String(v));
    }
  });

  test("fuzz-readers regression: ONNX MaxPool pads forged to ~2^31: a report whose node layers stop there with a note (was INTERNAL, then TOO_LARGE)", async () => {
    const cnn = ONNX_SEEDS.find((x) => x.main === "cnn.onnx")!.files.get("cnn.onnx")!;
    const forged = setOnnxAttrInt(cnn, "MaxPool", "pads", 1817686280n);
    const got = await runInput("regression", { ...oneFile("cnn.onnx", forged), inspect: POOL_NODES_UNCHECKED }, "pool pads");
    assert.ok("report" in got, "a readable file gets a report");
    const report = JSON.parse(got.report) as { notes: string[]; nodeLayers: { size: number }[] };
    assert.ok(report.notes.some((n) => n.includes("maxLayerNodes")), report.notes.join(" | "));
    assert.ok(report.nodeLayers.every((n) => n.size <= 2 ** 18));
  });

  test("fuzz-readers regression: a .npz entry named '.npy' is BAD_HEADER (was INTERNAL TypeError in nodeStrengths)", async () => {
    const seed = NPZ_SEEDS.find((x) => x.name === "one-array.npz")!;
    const got = await runInput("regression", oneFile("x.npz", mutateNpz(seed.bytes, { kind: "rename", pick: 0, name: ".npy" })), "rename .npy");
    assert.equal("code" in got ? got.code : "report", "BAD_HEADER");
  });

  test("fuzz-readers regression: parser excerpts in messages have their control characters escaped (.npy header, model.json)", async () => {
    const w = NPY_SEEDS.find((x) => x.name === "w.npy")!.bytes;
    const npy = mutateNpy(w, { kind: "dict", m: { kind: "replace", text: "{'descr': \u0085'<f4'\n}" }, pad: true });
    const a = await runInput("regression", oneFile("w.npy", npy), "npy C1 control");
    assert.equal("code" in a ? a.code : "report", "BAD_HEADER");
    const tf = TFJS_SEEDS[0]!;
    const files = new Map(tf.files);
    files.set("model.json", enc.encode('{"format": "layers-model",\n"modelTopology": \u0085\n}'));
    const b = await runInput("regression", { files, main: "model.json", mode: "bytes", chunk: 0, inspect: false }, "model.json C1 control");
    assert.equal("code" in b ? b.code : "report", "BAD_HEADER");
  });

  test.run();
}

function oneFile(name: string, bytes: Uint8Array): Input {
  return { files: new Map([[name, bytes]]), main: name, mode: "bytes", chunk: 0, inspect: false };
}

/** Set the first value of attribute `attr` (AttributeProto: name = 1, i = 3, ints = 8) of the first `opType` node (NodeProto: op_type = 4). */
export function setOnnxAttrInt(b: Uint8Array, opType: string, attr: string, value: bigint): Uint8Array {
  const nodes = pbNodes(b);
  const text = (n: PbNode) => dec.decode(b.subarray(n.payloadStart, n.end));
  const children = (p: PbNode) => nodes.filter((n) => n.parent === p);
  for (const node of nodes) {
    if (!node.hasChildren || !children(node).some((c) => c.field === 4 && c.wire === 2 && text(c) === opType)) continue;
    for (const a of children(node).filter((c) => c.field === 5 && c.hasChildren)) {
      if (!children(a).some((c) => c.field === 1 && c.wire === 2 && text(c) === attr)) continue;
      const v = children(a).find((c) => c.wire === 0 && (c.field === 3 || c.field === 8));
      if (v) return replaceNode(b, v, concat(b.subarray(v.start, v.valueAt), varint(value)));
    }
  }
  throw new Error(`no ${opType} node with an integer attribute ${attr}`);
}
