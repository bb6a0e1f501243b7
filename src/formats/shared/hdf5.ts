/**
 * HDF5, the part Keras writes: the tree of groups and datasets of an h5py file, each dataset
 * described by its shape, element type and the byte range of its contiguous (or compact) data,
 * never its values. Metadata is read through a small block cache, so a file of any size costs its
 * metadata only; the data stays where it is (a tensor is an offset range).
 *
 * Read (HDF5 File Format Specification 3.0, section numbers below):
 *   superblock v0/v1 (II.A, h5py's default "earliest") and v2/v3 ("latest"), at 0, 512, 1024, ...
 *   object headers v1 (IV.A.1.a) and v2 "OHDR" (IV.A.1.b) with continuation blocks
 *   groups: symbol table (v1 B-tree of type 0 "TREE" + "SNOD" nodes + local heap "HEAP", III.A-D)
 *           and compact link messages (IV.A.2.g); dense link storage (fractal heap) is refused
 *   dataspace (IV.A.2.b), datatype (IV.A.2.d: IEEE floats kept, others described for skipping),
 *   layout v1-v4 (IV.A.2.i: contiguous and compact; chunked and virtual refused), filter pipeline
 *   (IV.A.2.l: present means refused, naming the dataset and the filters), attributes (IV.A.2.m)
 *   whose value is a string (fixed or variable length, the latter from a global heap, III.E)
 * Checksums of v2 structures are not verified: every address and size is checked against the
 * file before it is read, so a corrupt byte gives a typed error or a wrong name, never a read
 * outside the file.
 *
 *   file: [superblock][root object header] ... [object header: messages] ... [dataset bytes] ...
 *   group (old style): symbol table message -> B-tree -> SNOD nodes -> entries (name offset in the
 *   local heap, object header address); group (new style): link messages in the object header.
 */
import { CntError, formatCount, quoteName } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import type { DType } from "../../model/types.js";
import { isHdf5 } from "./magic.js";

export { HDF5_MAGIC, isHdf5 } from "./magic.js";

/** Reads `dest.byteLength` bytes at `offset` of the HDF5 byte space (always inside it). */
export type Hdf5Read = (offset: number, dest: Uint8Array) => Promise<void>;

type Code = ConstructorParameters<typeof CntError>[0];
export type Hdf5Fail = (code: Code, message: string, extra?: object) => CntError;

export interface Hdf5Dataset {
  /** Path from the root, "/"-separated, without a leading slash. */
  path: string;
  shape: number[];
  /** Float element type the kernels read; absent: `type` says what it is (listed as skipped). */
  dtype?: DType;
  /** Stored big-endian (elements need a byte swap). */
  bigEndian?: boolean;
  /** A short description of the element type ("float32", "int64", "string", ...). */
  type: string;
  /** Start of the data in the HDF5 byte space, and its length (shape product x element size). */
  offset: number;
  byteLength: number;
  /** Why the dataset has no data to read (never written: its fill value), when it has none. */
  empty?: string;
}

export interface Hdf5Tree {
  datasets: Hdf5Dataset[];
  /** Paths of every group, the root as "". */
  groups: string[];
  /** String attributes of an object, by path and name (read on request, bounded by maxHeaderBytes). */
  stringAttribute(path: string, name: string): Promise<string | undefined>;
  /** The names of an object's attributes (those in its header; dense attribute storage is not read). */
  attributeNames(path: string): Promise<string[]>;
}

interface Context {
  read: Hdf5Read;
  size: number;
  limits: Limits;
  fail: Hdf5Fail;
  offsetSize: number;
  lengthSize: number;
  base: number;
  cache: Map<number, Uint8Array>;
  /** Objects read so far (a budget against files that loop through links). */
  objects: number;
  /** Metadata bytes fetched from the source so far (a budget against headers that overlap to be read again and again). */
  fetched: number;
}

/** Metadata bytes one file may make the walk fetch, in multiples of maxHeaderBytes. */
const FETCH_BUDGET = 16;

const BLOCK = 16384;
const MAX_CACHED_BLOCKS = 256;
/** Continuation blocks one object header may chain. */
const MAX_HEADER_BLOCKS = 1024;
const UNDEFINED = -1;

const FILTERS: Record<number, string> = { 1: "deflate (gzip)", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf" };

/**
 * Read an HDF5 file's group tree and dataset descriptions.
 * @example
 *   const tree = await readHdf5((o, d) => source.readInto(o, d), source.size, limits, fail);
 */
export async function readHdf5(read: Hdf5Read, size: number, limits: Limits, fail: Hdf5Fail): Promise<Hdf5Tree> {
  const ctx: Context = { read, size, limits, fail, offsetSize: 8, lengthSize: 8, base: 0, cache: new Map(), objects: 0, fetched: 0 };
  const root = await superblock(ctx);
  const tree: Hdf5Tree & { datasets: Hdf5Dataset[] } = { datasets: [], groups: [], stringAttribute: async () => undefined, attributeNames: async () => [] };
  const objects = new Map<string, number>(); // path -> object header address
  const visiting = new Set<number>();
  await walk(ctx, root, "", 0, tree, objects, visiting);
  tree.stringAttribute = async (path, name) => {
    const at = objects.get(path);
    if (at === undefined) return undefined;
    const header = await objectHeader(ctx, at, path || "/");
    return readStringAttribute(ctx, header, name, path || "/");
  };
  tree.attributeNames = async (path) => {
    const at = objects.get(path);
    if (at === undefined) return [];
    const names: string[] = [];
    for (const m of await objectHeader(ctx, at, path || "/")) {
      if (m.type !== 0x0c) continue;
      const c = new Cursor(m.data, ctx, `an attribute of ${quoteName(path || "/")}`, m.at);
      const version = c.u8();
      c.skip(1);
      const nameSize = c.u16();
      c.skip(version === 3 ? 5 : 4); // datatype and dataspace sizes (and v3's name encoding)
      const raw = c.take(nameSize);
      const end = raw.indexOf(0);
      names.push(decodeName(end < 0 ? raw : raw.subarray(0, end)));
    }
    return names;
  };
  // No two datasets share bytes.
  const placed = tree.datasets.filter((d) => d.byteLength > 0 && d.empty === undefined).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < placed.length; i++) {
    const a = placed[i - 1];
    const b = placed[i];
    if (a.offset + a.byteLength > b.offset) {
      throw fail("OVERLAP", `datasets ${quoteName(a.path)} and ${quoteName(b.path)} share bytes (the first ends at ${formatCount(a.offset + a.byteLength)}, the second starts at ${formatCount(b.offset)}).`, { tensor: b.path, offset: b.offset });
    }
  }
  return tree;
}

// ------------------------------------------------------------------------------ byte access

/** `length` bytes at `at` of the file, checked to lie inside it (cached by 16 KiB blocks: h5py puts a group's B-tree, heap and headers near each other). */
async function bytes(ctx: Context, at: number, length: number, what: string): Promise<Uint8Array> {
  if (!Number.isSafeInteger(at) || at < 0 || !Number.isSafeInteger(length) || length < 0 || at + length > ctx.size) {
    throw ctx.fail("OUT_OF_BOUNDS", `${what} at byte ${formatCount(at)} (${formatCount(length)} bytes) lies past the end of the HDF5 data (${formatCount(ctx.size)} bytes).`, { offset: at, expected: ctx.size, actual: at + length });
  }
  checkLimit(ctx.limits, "maxHeaderBytes", length, `HDF5: the size of ${what}`);
  const first = Math.floor(at / BLOCK);
  const last = Math.floor((at + length - 1) / BLOCK);
  if (length === 0) return new Uint8Array(0);
  if (first === last) {
    const block = await cached(ctx, first);
    return block.subarray(at - first * BLOCK, at - first * BLOCK + length);
  }
  const out = new Uint8Array(length);
  if (length > BLOCK * 16) {
    fetch(ctx, length);
    await ctx.read(at, out);
    return out;
  }
  for (let b = first; b <= last; b++) {
    const block = await cached(ctx, b);
    const from = Math.max(at, b * BLOCK);
    const to = Math.min(at + length, b * BLOCK + block.byteLength);
    out.set(block.subarray(from - b * BLOCK, to - b * BLOCK), from - at);
  }
  return out;
}

async function cached(ctx: Context, index: number): Promise<Uint8Array> {
  let block = ctx.cache.get(index);
  if (block) return block;
  block = new Uint8Array(Math.min(BLOCK, ctx.size - index * BLOCK));
  fetch(ctx, block.byteLength);
  await ctx.read(index * BLOCK, block);
  if (ctx.cache.size >= MAX_CACHED_BLOCKS) ctx.cache.delete(ctx.cache.keys().next().value!);
  ctx.cache.set(index, block);
  return block;
}

function fetch(ctx: Context, n: number): void {
  ctx.fetched += n;
  const budget = FETCH_BUDGET * ctx.limits.maxHeaderBytes;
  if (ctx.fetched > budget) {
    throw ctx.fail("TOO_LARGE", `reading the HDF5 metadata takes more than ${formatCount(budget)} bytes (${FETCH_BUDGET} x maxHeaderBytes): its headers overlap or repeat; raise maxHeaderBytes in options.limits if the file is trusted.`, { expected: budget, actual: ctx.fetched });
  }
}

/** A little-endian cursor over bytes already read; reading past them is a BAD_HEADER naming `what`. */
class Cursor {
  pos = 0;
  constructor(readonly data: Uint8Array, readonly ctx: Context, readonly what: string, readonly at: number) {}
  need(n: number): void {
    if (this.pos + n > this.data.byteLength) throw this.ctx.fail("BAD_HEADER", `${this.what} at byte ${formatCount(this.at)} ends after ${formatCount(this.data.byteLength)} bytes, inside a field.`, { offset: this.at + this.pos });
  }
  u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.data[this.pos] | (this.data[this.pos + 1] << 8);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = (this.data[this.pos] | (this.data[this.pos + 1] << 8) | (this.data[this.pos + 2] << 16)) + this.data[this.pos + 3] * 2 ** 24;
    this.pos += 4;
    return v;
  }
  /** An unsigned integer of `width` bytes; with `undefinedIfOnes`, all bits set is UNDEFINED (HDF5's undefined address). */
  uint(width: number, field: string, undefinedIfOnes = true): number {
    this.need(width);
    if (width === 8 && this.data[this.pos + 6] === 0 && this.data[this.pos + 7] === 0) {
      // Below 2^48 (every real address and length): no BigInt.
      const d = this.data;
      const p = this.pos;
      this.pos += 8;
      return (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16)) + d[p + 3] * 2 ** 24 + (d[p + 4] | (d[p + 5] << 8)) * 2 ** 32;
    }
    let v = 0n;
    let ones = true;
    for (let i = width - 1; i >= 0; i--) {
      const b = this.data[this.pos + i];
      if (b !== 0xff) ones = false;
      v = (v << 8n) | BigInt(b);
    }
    this.pos += width;
    if (ones && undefinedIfOnes) return UNDEFINED;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.ctx.fail("OUT_OF_BOUNDS", `${this.what}: ${field} is ${v}, not below 2^53.`, { offset: this.at + this.pos - width, actual: String(v) });
    return Number(v);
  }
  address(field: string): number {
    return this.uint(this.ctx.offsetSize, field);
  }
  length(field: string): number {
    const v = this.uint(this.ctx.lengthSize, field);
    if (v === UNDEFINED) throw this.ctx.fail("BAD_HEADER", `${this.what}: ${field} is all ones, not a length.`, { offset: this.at + this.pos });
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const v = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  signature(text: string): boolean {
    this.need(4);
    for (let i = 0; i < 4; i++) if (this.data[this.pos + i] !== text.charCodeAt(i)) return false;
    this.pos += 4;
    return true;
  }
}

/** An address in the file: base + relative, checked. */
function absolute(ctx: Context, relative: number, what: string): number {
  if (relative === UNDEFINED) throw ctx.fail("BAD_HEADER", `${what} has the undefined address.`);
  const at = ctx.base + relative;
  if (at >= ctx.size) throw ctx.fail("OUT_OF_BOUNDS", `${what} is at byte ${formatCount(at)}, past the end of the HDF5 data (${formatCount(ctx.size)} bytes).`, { offset: at, expected: ctx.size, actual: at });
  return at;
}

// ------------------------------------------------------------------------------- superblock

async function superblock(ctx: Context): Promise<number> {
  // The superblock is at 0 or a power of two from 512 on (a user block before it).
  let at = 0;
  for (;;) {
    if (at + 8 > ctx.size) throw ctx.fail("BAD_MAGIC", "no HDF5 signature at byte 0 (or at 512, 1024, ...): not an HDF5 file.");
    const sig = await bytes(ctx, at, 8, "the HDF5 signature");
    if (isHdf5(sig)) break;
    at = at === 0 ? 512 : at * 2;
    if (at > 1 << 20) throw ctx.fail("BAD_MAGIC", "no HDF5 signature in the first MiB: not an HDF5 file.");
  }
  const head = await bytes(ctx, at, Math.min(ctx.size - at, 128), "the superblock");
  const c = new Cursor(head, ctx, "the superblock", at);
  c.skip(8);
  const version = c.u8();
  if (version === 0 || version === 1) {
    c.skip(3); // free-space, root group symbol table and shared header message versions
    c.skip(1);
    ctx.offsetSize = c.u8();
    ctx.lengthSize = c.u8();
    checkSizes(ctx);
    c.skip(1);
    c.skip(4); // group leaf node K, group internal node K
    c.skip(4); // file consistency flags
    if (version === 1) c.skip(4);
    const base = c.address("the base address");
    c.address("the free-space address");
    const eof = c.address("the end-of-file address");
    c.address("the driver information address");
    ctx.base = base === UNDEFINED ? at : base;
    checkEof(ctx, eof);
    // Root group symbol table entry: link name offset, object header address, cache type, ...
    c.address("the root link name offset");
    return absolute(ctx, c.address("the root object header address"), "the root group's object header");
  }
  if (version === 2 || version === 3) {
    ctx.offsetSize = c.u8();
    ctx.lengthSize = c.u8();
    checkSizes(ctx);
    c.skip(1); // file consistency flags
    const base = c.address("the base address");
    c.address("the superblock extension address");
    const eof = c.address("the end-of-file address");
    ctx.base = base === UNDEFINED ? at : base;
    checkEof(ctx, eof);
    return absolute(ctx, c.address("the root object header address"), "the root group's object header");
  }
  throw ctx.fail("UNSUPPORTED_FORMAT", `the HDF5 superblock has version ${version}; cntscope reads versions 0 to 3.`, { offset: at + 8 });
}

function checkSizes(ctx: Context): void {
  for (const [what, v] of [["offsets", ctx.offsetSize], ["lengths", ctx.lengthSize]] as const) {
    if (v !== 2 && v !== 4 && v !== 8) throw ctx.fail("BAD_HEADER", `the superblock gives ${v} bytes for ${what}; HDF5 uses 2, 4 or 8.`, { offset: 13 });
  }
}

function checkEof(ctx: Context, eof: number): void {
  if (eof !== UNDEFINED && ctx.base + eof > ctx.size) {
    throw ctx.fail("TRUNCATED", `the superblock says the HDF5 data ends at byte ${formatCount(ctx.base + eof)}, but it has ${formatCount(ctx.size)} bytes.`, { expected: ctx.base + eof, actual: ctx.size });
  }
}

// ---------------------------------------------------------------------------- object headers

interface Message {
  type: number;
  flags: number;
  data: Uint8Array;
  /** File offset of the message's data. */
  at: number;
}

/** Every message of the object header at `at` (v1 or v2), continuation blocks followed. */
async function objectHeader(ctx: Context, at: number, path: string): Promise<Message[]> {
  const what = `the object header of ${quoteName(path)}`;
  const head = await bytes(ctx, at, Math.min(ctx.size - at, 16), what);
  const messages: Message[] = [];
  const blocks: { at: number; length: number; v2: boolean }[] = [];
  let v2 = false;
  let creationOrder = false;
  if (head[0] === 0x4f && head[1] === 0x48 && head[2] === 0x44 && head[3] === 0x52) {
    // "OHDR" version 2
    const c = new Cursor(head, ctx, what, at);
    c.skip(4);
    const version = c.u8();
    if (version !== 2) throw ctx.fail("UNSUPPORTED_FORMAT", `${what} has version ${version}; cntscope reads object header versions 1 and 2.`, { offset: at + 4 });
    const flags = c.u8();
    creationOrder = (flags & 0x04) !== 0;
    let skip = 0;
    if (flags & 0x20) skip += 16;
    if (flags & 0x10) skip += 4;
    const full = await bytes(ctx, at, Math.min(ctx.size - at, 6 + skip + 8), what);
    const f = new Cursor(full, ctx, what, at);
    f.skip(6 + skip);
    const width = 1 << (flags & 3);
    const chunk = f.uint(width, "the size of chunk 0", false);
    blocks.push({ at: at + f.pos, length: chunk, v2: true });
    v2 = true;
  } else {
    const c = new Cursor(head, ctx, what, at);
    const version = c.u8();
    if (version !== 1) throw ctx.fail(head[0] === 0 && head.every((b) => b === 0) ? "BAD_HEADER" : "UNSUPPORTED_FORMAT", `${what} at byte ${formatCount(at)} has version ${version}; cntscope reads object header versions 1 and 2.`, { offset: at });
    c.skip(1);
    c.u16(); // message count (the blocks' sizes bound the walk)
    c.u32(); // reference count
    const length = c.u32();
    blocks.push({ at: at + 16, length, v2: false });
  }
  let total = 0;
  for (let b = 0; b < blocks.length; b++) {
    if (b >= MAX_HEADER_BLOCKS) throw ctx.fail("TOO_LARGE", `${what} chains more than ${MAX_HEADER_BLOCKS} continuation blocks.`, { offset: at });
    const block = blocks[b];
    total += block.length;
    if (total > ctx.limits.maxHeaderBytes) checkLimit(ctx.limits, "maxHeaderBytes", total, `HDF5: the size of ${what} with its continuation blocks`);
    const data = await bytes(ctx, block.at, block.length, what);
    const c = new Cursor(data, ctx, what, block.at);
    let end = data.byteLength;
    if (v2) {
      // Chunk 0's size counts its messages only; a continuation block's, its signature and checksum too.
      if (b > 0) {
        if (!c.signature("OCHK")) throw ctx.fail("BAD_HEADER", `a continuation block of ${what} at byte ${formatCount(block.at)} has no OCHK signature.`, { offset: block.at });
        end -= 4;
      }
    }
    const prefix = v2 ? 4 + (creationOrder ? 2 : 0) : 8;
    while (c.pos + prefix <= end) {
      let type: number;
      let size: number;
      let flags: number;
      if (v2) {
        type = c.u8();
        size = c.u16();
        flags = c.u8();
        if (creationOrder) c.u16();
      } else {
        type = c.u16();
        size = c.u16();
        flags = c.u8();
        c.skip(3);
      }
      if (c.pos + size > end) throw ctx.fail("BAD_HEADER", `a message of ${what} (type ${type}) runs ${formatCount(c.pos + size - end)} bytes past its block.`, { offset: block.at + c.pos });
      const msgAt = block.at + c.pos;
      const body = c.take(size);
      if (type === 0x10) {
        const k = new Cursor(body, ctx, `a continuation message of ${what}`, msgAt);
        const next = absolute(ctx, k.address("the continuation address"), `a continuation block of ${what}`);
        const length = k.length("the continuation length");
        if (next + length > ctx.size) throw ctx.fail("OUT_OF_BOUNDS", `a continuation block of ${what} runs past the end of the HDF5 data.`, { offset: next });
        if (blocks.some((x) => x.at === next)) throw ctx.fail("BAD_HEADER", `${what} continues into a block it already read (a loop).`, { offset: next });
        blocks.push({ at: next, length, v2 });
      } else if (type !== 0) {
        messages.push({ type, flags, data: body, at: msgAt });
        if (messages.length > 65536) throw ctx.fail("TOO_LARGE", `${what} has more than 65,536 messages.`, { offset: at });
      }
    }
  }
  return messages;
}

// ---------------------------------------------------------------------------------- the walk

async function walk(ctx: Context, at: number, path: string, depth: number, tree: Hdf5Tree, objects: Map<string, number>, visiting: Set<number>): Promise<void> {
  const name = path || "/";
  if (depth > ctx.limits.maxDepth) throw ctx.fail("TOO_LARGE", `group ${quoteName(name)} is nested deeper than maxDepth = ${ctx.limits.maxDepth}.`);
  if (visiting.has(at)) throw ctx.fail("BAD_HEADER", `${quoteName(name)} links back to the object at byte ${formatCount(at)}, which the walk already reached (a cycle or a shared object).`, { offset: at });
  visiting.add(at);
  if (++ctx.objects > ctx.limits.maxTensors * 2 + 1024) checkLimit(ctx.limits, "maxTensors", ctx.objects, "HDF5: the object count");
  objects.set(path, at);
  const messages = await objectHeader(ctx, at, name);
  for (const m of messages) {
    if ((m.flags & 0x02) !== 0 && (m.type === 1 || m.type === 3 || m.type === 8)) {
      throw ctx.fail("UNSUPPORTED_FORMAT", `${quoteName(name)} uses a shared (committed) ${m.type === 3 ? "datatype" : m.type === 1 ? "dataspace" : "layout"} message, which cntscope does not read.`, { tensor: path });
    }
    if ((m.flags & 0x80) !== 0 && !KNOWN.has(m.type)) {
      throw ctx.fail("UNSUPPORTED_FORMAT", `${quoteName(name)} has a message of type ${m.type} that readers must understand, which cntscope does not know.`, { tensor: path, offset: m.at });
    }
  }
  const layout = messages.find((m) => m.type === 0x08);
  if (layout) {
    tree.datasets.push(await dataset(ctx, path, messages, layout));
    checkLimit(ctx.limits, "maxTensors", tree.datasets.length, "HDF5: the dataset count");
    return;
  }
  tree.groups.push(path);
  const children: { name: string; at: number }[] = [];
  const table = messages.find((m) => m.type === 0x11);
  if (table) {
    const c = new Cursor(table.data, ctx, `the symbol table of ${quoteName(name)}`, table.at);
    const btree = absolute(ctx, c.address("the B-tree address"), `the B-tree of group ${quoteName(name)}`);
    const heap = await localHeap(ctx, absolute(ctx, c.address("the local heap address"), `the local heap of group ${quoteName(name)}`), name);
    await symbolTable(ctx, btree, heap, name, children, 0, new Set());
  }
  for (const m of messages) {
    if (m.type === 0x02) linkInfo(ctx, m, name);
    if (m.type === 0x06) {
      const link = linkMessage(ctx, m, name);
      if (link) children.push(link);
    }
  }
  const seen = new Set<string>();
  for (const child of children) {
    if (seen.has(child.name)) throw ctx.fail("BAD_HEADER", `group ${quoteName(name)} has two members named ${quoteName(child.name)}.`, { tensor: path });
    seen.add(child.name);
    checkLimit(ctx.limits, "maxNameBytes", child.name.length, `HDF5: the length of a name in ${quoteName(name)}`);
    await walk(ctx, child.at, path ? `${path}/${child.name}` : child.name, depth + 1, tree, objects, visiting);
  }
}

/** Message types this reader knows (and may ignore). */
const KNOWN = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x10, 0x11, 0x12, 0x15, 0x16]);

interface Heap {
  data: Uint8Array;
  at: number;
}

async function localHeap(ctx: Context, at: number, group: string): Promise<Heap> {
  const what = `the local heap of group ${quoteName(group)}`;
  const head = await bytes(ctx, at, 8 + ctx.lengthSize * 2 + ctx.offsetSize, what);
  const c = new Cursor(head, ctx, what, at);
  if (!c.signature("HEAP")) throw ctx.fail("BAD_HEADER", `${what} at byte ${formatCount(at)} has no HEAP signature.`, { offset: at });
  const version = c.u8();
  if (version !== 0) throw ctx.fail("UNSUPPORTED_FORMAT", `${what} has version ${version}; HDF5 local heaps have version 0.`, { offset: at + 4 });
  c.skip(3);
  const size = c.length("the data segment size");
  c.uint(ctx.lengthSize, "the free list offset"); // all ones: no free block
  const dataAt = absolute(ctx, c.address("the data segment address"), `the data segment of ${what}`);
  return { data: await bytes(ctx, dataAt, size, `the data segment of ${what}`), at: dataAt };
}

/** Members of an old-style group: the v1 B-tree (type 0) down to its SNOD nodes. */
async function symbolTable(ctx: Context, at: number, heap: Heap, group: string, out: { name: string; at: number }[], level: number, seen: Set<number>): Promise<void> {
  const what = `a B-tree node of group ${quoteName(group)}`;
  if (seen.has(at)) throw ctx.fail("BAD_HEADER", `${what} at byte ${formatCount(at)} is reached twice (a loop).`, { offset: at });
  seen.add(at);
  if (level > 64) throw ctx.fail("TOO_LARGE", `the B-tree of group ${quoteName(group)} is deeper than 64 levels.`, { offset: at });
  const head = await bytes(ctx, at, 8 + 2 * ctx.offsetSize, what);
  const c = new Cursor(head, ctx, what, at);
  if (!c.signature("TREE")) throw ctx.fail("BAD_HEADER", `${what} at byte ${formatCount(at)} has no TREE signature.`, { offset: at });
  const type = c.u8();
  if (type !== 0) throw ctx.fail("BAD_HEADER", `${what} has node type ${type}; group B-trees have type 0.`, { offset: at + 4 });
  const nodeLevel = c.u8();
  const entries = c.u16();
  const body = await bytes(ctx, at + head.byteLength, entries * (ctx.lengthSize + ctx.offsetSize) + ctx.lengthSize, what);
  const k = new Cursor(body, ctx, what, at + head.byteLength);
  const children: number[] = [];
  for (let i = 0; i < entries; i++) {
    k.length("a key");
    children.push(absolute(ctx, k.address("a child address"), `a child of ${what}`));
  }
  for (const child of children) {
    if (nodeLevel > 0) await symbolTable(ctx, child, heap, group, out, level + 1, seen);
    else await symbolNode(ctx, child, heap, group, out);
    checkLimit(ctx.limits, "maxTensors", out.length, `HDF5: the member count of group ${quoteName(group)}`);
  }
}

async function symbolNode(ctx: Context, at: number, heap: Heap, group: string, out: { name: string; at: number }[]): Promise<void> {
  const what = `a symbol table node of group ${quoteName(group)}`;
  const head = await bytes(ctx, at, 8, what);
  const c = new Cursor(head, ctx, what, at);
  if (!c.signature("SNOD")) throw ctx.fail("BAD_HEADER", `${what} at byte ${formatCount(at)} has no SNOD signature.`, { offset: at });
  const version = c.u8();
  if (version !== 1) throw ctx.fail("UNSUPPORTED_FORMAT", `${what} has version ${version}; HDF5 symbol table nodes have version 1.`, { offset: at + 4 });
  c.skip(1);
  const count = c.u16();
  const entrySize = 2 * ctx.offsetSize + 24;
  const body = await bytes(ctx, at + 8, count * entrySize, what);
  const e = new Cursor(body, ctx, what, at + 8);
  for (let i = 0; i < count; i++) {
    const nameOffset = e.address("a link name offset");
    const header = absolute(ctx, e.address("an object header address"), `a member of group ${quoteName(group)}`);
    e.skip(24);
    out.push({ name: heapString(ctx, heap, nameOffset, group), at: header });
  }
}

function heapString(ctx: Context, heap: Heap, offset: number, group: string): string {
  if (offset === UNDEFINED || offset >= heap.data.byteLength) throw ctx.fail("OUT_OF_BOUNDS", `a member name of group ${quoteName(group)} is at offset ${formatCount(offset)} of a local heap of ${formatCount(heap.data.byteLength)} bytes.`, { offset: heap.at });
  let end = offset;
  const limit = Math.min(heap.data.byteLength, offset + ctx.limits.maxNameBytes + 1);
  while (end < limit && heap.data[end] !== 0) end++;
  if (end === limit) throw ctx.fail(end - offset > ctx.limits.maxNameBytes ? "TOO_LARGE" : "BAD_HEADER", `a member name of group ${quoteName(group)} has no terminating zero within ${formatCount(end - offset)} bytes.`, { offset: heap.at + offset });
  return decodeName(heap.data.subarray(offset, end));
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const LATIN1 = new TextDecoder("latin1");

function decodeName(raw: Uint8Array): string {
  try {
    return UTF8.decode(raw);
  } catch {
    return LATIN1.decode(raw);
  }
}

/** Link info: compact storage (links in the header) is read; dense storage (a fractal heap) is refused. */
function linkInfo(ctx: Context, m: Message, group: string): void {
  const c = new Cursor(m.data, ctx, `the link info of group ${quoteName(group)}`, m.at);
  const version = c.u8();
  if (version !== 0) throw ctx.fail("UNSUPPORTED_FORMAT", `the link info message of group ${quoteName(group)} has version ${version}; cntscope reads version 0.`, { offset: m.at });
  const flags = c.u8();
  if (flags & 1) c.skip(8);
  const heap = c.address("the fractal heap address");
  if (heap !== UNDEFINED) {
    throw ctx.fail("UNSUPPORTED_FORMAT", `group ${quoteName(group)} keeps its links in a fractal heap (dense link storage, written by h5py with libver="latest" for groups of more than 8 members), which cntscope does not read; save with Keras's default HDF5 settings.`, { tensor: group });
  }
}

function linkMessage(ctx: Context, m: Message, group: string): { name: string; at: number } | undefined {
  const what = `a link of group ${quoteName(group)}`;
  const c = new Cursor(m.data, ctx, what, m.at);
  const version = c.u8();
  if (version !== 1) throw ctx.fail("UNSUPPORTED_FORMAT", `${what} has version ${version}; HDF5 link messages have version 1.`, { offset: m.at });
  const flags = c.u8();
  const type = flags & 0x08 ? c.u8() : 0;
  if (flags & 0x04) c.skip(8);
  if (flags & 0x10) c.u8();
  const length = c.uint(1 << (flags & 3), "the name length", false);
  checkLimit(ctx.limits, "maxNameBytes", length, `HDF5: the length of a link name in ${quoteName(group)}`);
  const name = decodeName(c.take(length));
  if (type !== 0) return undefined; // soft and external links point at names, not data: not followed
  return { name, at: absolute(ctx, c.address("the link's object header address"), `the object of link ${quoteName(name)} in ${quoteName(group)}`) };
}

// --------------------------------------------------------------------------------- datasets

async function dataset(ctx: Context, path: string, messages: Message[], layout: Message): Promise<Hdf5Dataset> {
  const fail = (code: Code, message: string, extra: object = {}) => ctx.fail(code, `dataset ${quoteName(path)}: ${message}`, { tensor: path, ...extra });
  const space = messages.find((m) => m.type === 0x01);
  const type = messages.find((m) => m.type === 0x03);
  if (!space || !type) throw fail("BAD_HEADER", `it has a layout but no ${space ? "datatype" : "dataspace"} message.`);
  const shape = dataspace(ctx, space, path);
  const t = datatype(ctx, type, path);
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw fail("BAD_SHAPE", `its shape [${shape.join(", ")}] has more than 2^53 elements.`);
  }
  const byteLength = count * t.size;
  if (!Number.isSafeInteger(byteLength)) throw fail("BAD_SHAPE", `its shape [${shape.join(", ")}] takes more than 2^53 bytes.`);
  const filters = messages.find((m) => m.type === 0x0b);
  if (filters) throw fail("UNSUPPORTED_FORMAT", `it is stored through the filter pipeline ${filterNames(ctx, filters, path)}; cntscope reads uncompressed contiguous datasets (Keras's default). Save it again without compression.`);
  const out: Hdf5Dataset = { path, shape, type: t.name, offset: 0, byteLength };
  if (t.dtype) out.dtype = t.dtype;
  if (t.bigEndian) out.bigEndian = true;
  const c = new Cursor(layout.data, ctx, `the layout of dataset ${quoteName(path)}`, layout.at);
  const version = c.u8();
  let cls: number;
  let address = UNDEFINED;
  let size = byteLength;
  let compactAt = -1;
  if (version === 1 || version === 2) {
    const rank = c.u8();
    cls = c.u8();
    c.skip(5);
    if (cls !== 0) address = c.address("the data address");
    c.skip(rank * 4);
    if (cls === 0) {
      size = c.u32();
      compactAt = layout.at + c.pos;
    }
  } else if (version === 3 || version === 4) {
    cls = c.u8();
    if (cls === 0) {
      size = c.u16();
      compactAt = layout.at + c.pos;
    } else if (cls === 1) {
      address = c.address("the data address");
      size = c.length("the data size");
    }
  } else {
    throw fail("UNSUPPORTED_FORMAT", `its layout message has version ${version}; cntscope reads versions 1 to 4.`, { offset: layout.at });
  }
  if (cls === 2) throw fail("UNSUPPORTED_FORMAT", "it is stored in chunks; cntscope reads contiguous datasets (Keras's default). Save it again without chunking.");
  if (cls !== 0 && cls !== 1) throw fail("UNSUPPORTED_FORMAT", `its layout class is ${cls} (${cls === 3 ? "virtual" : "unknown"}); cntscope reads contiguous and compact datasets.`);
  if (cls === 0) {
    if (compactAt + size > layout.at + layout.data.byteLength) throw fail("BAD_HEADER", `its compact data of ${formatCount(size)} bytes runs past its layout message.`, { offset: layout.at });
    out.offset = compactAt;
  } else if (address === UNDEFINED) {
    out.empty = "no data was written (the dataset holds its fill value)";
    return out;
  } else {
    out.offset = ctx.base + address;
  }
  if (size !== byteLength) {
    throw fail(size < byteLength ? "TRUNCATED" : "BAD_SHAPE", `its shape [${shape.join(", ")}] of ${t.name} takes ${formatCount(byteLength)} bytes, but its layout stores ${formatCount(size)}.`, { expected: byteLength, actual: size });
  }
  if (out.offset + byteLength > ctx.size) {
    throw fail("OUT_OF_BOUNDS", `its data spans bytes ${formatCount(out.offset)} to ${formatCount(out.offset + byteLength)}, past the end of the HDF5 data (${formatCount(ctx.size)} bytes).`, { offset: out.offset, expected: ctx.size, actual: out.offset + byteLength });
  }
  return out;
}

function dataspace(ctx: Context, m: Message, path: string): number[] {
  const c = new Cursor(m.data, ctx, `the dataspace of ${quoteName(path)}`, m.at);
  const version = c.u8();
  const rank = c.u8();
  const flags = c.u8();
  let kind = 1;
  if (version === 1) c.skip(5);
  else if (version === 2) kind = c.u8();
  else throw ctx.fail("UNSUPPORTED_FORMAT", `the dataspace of ${quoteName(path)} has version ${version}; cntscope reads versions 1 and 2.`, { tensor: path, offset: m.at });
  checkLimit(ctx.limits, "maxRank", rank, `HDF5: the rank of dataset ${quoteName(path)}`);
  if (kind === 2) return [0]; // null dataspace: no elements
  if (kind !== 0 && kind !== 1) throw ctx.fail("BAD_HEADER", `the dataspace of ${quoteName(path)} has type ${kind}.`, { tensor: path, offset: m.at });
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(c.length("a dimension"));
  void flags;
  return shape;
}

interface TypeFacts {
  name: string;
  size: number;
  dtype?: DType;
  bigEndian?: boolean;
}

function datatype(ctx: Context, m: Message, path: string): TypeFacts {
  const c = new Cursor(m.data, ctx, `the datatype of ${quoteName(path)}`, m.at);
  const b0 = c.u8();
  const cls = b0 & 0x0f;
  const version = b0 >> 4;
  if (version < 1 || version > 5) throw ctx.fail("UNSUPPORTED_FORMAT", `the datatype of ${quoteName(path)} has version ${version}; HDF5 datatypes have versions 1 to 5.`, { tensor: path, offset: m.at });
  const bits0 = c.u8();
  c.skip(2);
  const size = c.u32();
  if (size === 0) throw ctx.fail("BAD_DTYPE", `the datatype of ${quoteName(path)} has size 0.`, { tensor: path, offset: m.at });
  if (cls === 1) {
    const bigEndian = (bits0 & 0x01) !== 0;
    if (bits0 & 0x40) return { name: `float${size * 8} (VAX order)`, size };
    const bitOffset = c.u16();
    const precision = c.u16();
    c.skip(2); // exponent location and size
    const exponentSize = m.data[c.pos - 1];
    c.skip(1);
    const mantissaSize = c.u8();
    const bias = c.u32();
    const is = (s: number, e: number, mant: number, b: number) => size === s && precision === s * 8 && bitOffset === 0 && exponentSize === e && mantissaSize === mant && bias === b;
    const dtype: DType | undefined = is(4, 8, 23, 127) ? "f32" : is(8, 11, 52, 1023) ? "f64" : is(2, 5, 10, 15) ? "f16" : is(2, 8, 7, 127) ? "bf16" : undefined;
    return { name: dtype ? { f32: "float32", f64: "float64", f16: "float16", bf16: "bfloat16" }[dtype] : `float${size * 8} (non-IEEE)`, size, ...(dtype ? { dtype } : {}), ...(bigEndian ? { bigEndian } : {}) };
  }
  const names: Record<number, string> = { 0: `${bits0 & 0x08 ? "int" : "uint"}${size * 8}`, 2: "time", 3: "string", 4: "bitfield", 5: "opaque", 6: "compound", 7: "reference", 8: "enum", 9: "variable-length", 10: "array" };
  return { name: names[cls] ?? `class ${cls}`, size };
}

function filterNames(ctx: Context, m: Message, path: string): string {
  try {
    const c = new Cursor(m.data, ctx, `the filter pipeline of ${quoteName(path)}`, m.at);
    const version = c.u8();
    const count = c.u8();
    if (version === 1) c.skip(6);
    const names: string[] = [];
    for (let i = 0; i < Math.min(count, 32); i++) {
      const id = c.u16();
      const nameLength = version === 1 || id >= 256 ? c.u16() : 0;
      c.u16(); // flags
      const values = c.u16();
      if (nameLength) c.skip(version === 1 ? (nameLength + 7) & ~7 : nameLength);
      c.skip(values * 4 + (version === 1 && values % 2 ? 4 : 0));
      names.push(FILTERS[id] ?? `filter ${id}`);
    }
    return names.length > 0 ? names.join(" + ") : "(empty)";
  } catch {
    return "(unreadable)";
  }
}

// ------------------------------------------------------------------------------- attributes

async function readStringAttribute(ctx: Context, messages: Message[], wanted: string, path: string): Promise<string | undefined> {
  for (const m of messages) {
    if (m.type !== 0x0c) continue;
    const what = `an attribute of ${quoteName(path)}`;
    const c = new Cursor(m.data, ctx, what, m.at);
    const version = c.u8();
    if (version < 1 || version > 3) throw ctx.fail("UNSUPPORTED_FORMAT", `${what} has version ${version}; HDF5 attribute messages have versions 1 to 3.`, { offset: m.at });
    c.u8();
    const nameSize = c.u16();
    const typeSize = c.u16();
    const spaceSize = c.u16();
    if (version === 3) c.u8();
    const pad = (n: number) => (version === 1 ? (n + 7) & ~7 : n);
    const rawName = c.take(nameSize);
    c.skip(pad(nameSize) - nameSize);
    const name = decodeName(rawName.subarray(0, rawName.indexOf(0) < 0 ? rawName.byteLength : rawName.indexOf(0)));
    if (name !== wanted) continue;
    const typeAt = m.at + c.pos;
    const typeBytes = c.take(typeSize);
    c.skip(pad(typeSize) - typeSize);
    const spaceAt = m.at + c.pos;
    const spaceBytes = c.take(spaceSize);
    c.skip(pad(spaceSize) - spaceSize);
    const shape = dataspace(ctx, { type: 1, flags: 0, data: spaceBytes, at: spaceAt }, `${path}@${name}`);
    if (shape.length !== 0) return undefined;
    const t = new Cursor(typeBytes, ctx, what, typeAt);
    const b0 = t.u8();
    t.skip(3);
    const size = t.u32();
    const cls = b0 & 0x0f;
    const data = m.data.subarray(c.pos);
    if (cls === 3) {
      if (size > data.byteLength) throw ctx.fail("BAD_HEADER", `attribute ${quoteName(name)} of ${quoteName(path)} declares ${formatCount(size)} bytes but holds ${formatCount(data.byteLength)}.`, { offset: m.at });
      const raw = data.subarray(0, size);
      const end = raw.indexOf(0);
      return decodeName(end < 0 ? raw : raw.subarray(0, end));
    }
    if (cls === 9) {
      // Variable-length string: length, then the global heap ID (collection address, object index).
      const v = new Cursor(data, ctx, `attribute ${quoteName(name)} of ${quoteName(path)}`, m.at + c.pos);
      const length = v.u32();
      checkLimit(ctx.limits, "maxHeaderBytes", length, `HDF5: the length of attribute ${quoteName(name)}`);
      const collection = absolute(ctx, v.address("the global heap address"), `the global heap of attribute ${quoteName(name)}`);
      const index = v.u32();
      const raw = await globalHeapObject(ctx, collection, index, `attribute ${quoteName(name)} of ${quoteName(path)}`);
      if (raw.byteLength < length) throw ctx.fail("BAD_HEADER", `attribute ${quoteName(name)} of ${quoteName(path)} says ${formatCount(length)} bytes but its heap object has ${formatCount(raw.byteLength)}.`);
      return decodeName(raw.subarray(0, length));
    }
    return undefined;
  }
  return undefined;
}

async function globalHeapObject(ctx: Context, at: number, index: number, what: string): Promise<Uint8Array> {
  const head = await bytes(ctx, at, 8 + ctx.lengthSize, `the global heap of ${what}`);
  const c = new Cursor(head, ctx, `the global heap of ${what}`, at);
  if (!c.signature("GCOL")) throw ctx.fail("BAD_HEADER", `the global heap of ${what} at byte ${formatCount(at)} has no GCOL signature.`, { offset: at });
  const version = c.u8();
  if (version !== 1) throw ctx.fail("UNSUPPORTED_FORMAT", `the global heap of ${what} has version ${version}; HDF5 global heaps have version 1.`, { offset: at });
  c.skip(3);
  const size = c.length("the collection size");
  const heap = await bytes(ctx, at, size, `the global heap of ${what}`);
  const h = new Cursor(heap, ctx, `the global heap of ${what}`, at);
  h.skip(8 + ctx.lengthSize);
  while (h.pos + 8 + ctx.lengthSize <= heap.byteLength) {
    const id = h.u16();
    h.skip(6);
    const objectSize = h.length("an object size");
    if (id === 0) break; // free space
    const data = h.take(objectSize);
    if (id === index) return data;
    h.skip(Math.min(((objectSize + 7) & ~7) - objectSize, heap.byteLength - h.pos));
  }
  throw ctx.fail("BAD_HEADER", `the global heap of ${what} has no object ${index}.`, { offset: at });
}
