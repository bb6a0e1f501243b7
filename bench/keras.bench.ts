// A Keras 3 .keras of ~200 MB of weights (a Sequential of 12 Dense 2048 x 2048 layers) end to end
// through analyzeFile, against fs.read of the same bytes (into one buffer, and in 1 MiB chunks) and
// against analyzeFile of the same weights as safetensors, same run, from the page cache. The file is written here, in /tmp, in the layout keras 3 + h5py write: a zip of stored
// entries (metadata.json, config.json, model.weights.h5), the HDF5 with a version-0 superblock,
// version-1 object headers, symbol-table groups (B-tree, SNOD node, local heap) and contiguous
// float32 datasets at layers/dense[_k]/vars/{0,1} (h5py reads it back).
import { closeSync, existsSync, openSync, readSync, renameSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { analyzeFile } from "../src/node/index.js";
import { readAll } from "./read-all.js";

export interface KerasBenchResult {
  bytes: number;
  layers: number;
  /** fs.read of the whole file into one buffer, and into a reused 1 MiB buffer. */
  readGBs: number;
  chunkedReadGBs: number;
  analyzeGBs: number;
  /** fs.read time over analyzeFile time (1 = as fast as reading the bytes), for each read. */
  ofRead: number;
  ofChunkedRead: number;
  /** analyzeFile of the same weights as safetensors, time over the .keras time (1 = the same speed). */
  ofSafetensors: number;
  openMs: number;
}

const UNDEF = 0xffffffffffffffffn;

/** Little-endian byte builder. */
class Bytes {
  private parts: number[] = [];
  u8(v: number) { this.parts.push(v & 0xff); return this; }
  u16(v: number) { return this.u8(v).u8(v >> 8); }
  u32(v: number) { return this.u16(v & 0xffff).u16(Math.floor(v / 65536)); }
  u64(v: number | bigint) { const b = BigInt.asUintN(64, BigInt(v)); for (let k = 0n; k < 64n; k += 8n) this.u8(Number((b >> k) & 0xffn)); return this; }
  text(s: string) { for (const c of Buffer.from(s, "latin1")) this.u8(c); return this; }
  zeros(n: number) { for (let i = 0; i < n; i++) this.u8(0); return this; }
  pad8() { while (this.parts.length % 8) this.u8(0); return this; }
  get length() { return this.parts.length; }
  done() { return Uint8Array.from(this.parts); }
}

/** A version-1 object header of the given messages (type, body). */
function objectHeader(messages: [number, Uint8Array][]): Uint8Array {
  const body = new Bytes();
  for (const [type, data] of messages) {
    const size = Math.ceil(data.length / 8) * 8;
    body.u16(type).u16(size).u8(0).zeros(3);
    for (const b of data) body.u8(b);
    body.zeros(size - data.length);
  }
  const head = new Bytes().u8(1).u8(0).u16(messages.length).u32(1).u32(body.length).zeros(4);
  return Uint8Array.from([...head.done(), ...body.done()]);
}

/** Writes an HDF5 file front to back at `base` of a file descriptor; addresses are relative to the HDF5 start. */
class H5 {
  at = 96; // after the superblock
  constructor(private fd: number, private base: number) {}
  put(bytes: Uint8Array): number {
    const address = this.at;
    writeSync(this.fd, bytes, 0, bytes.length, this.base + address);
    this.at += bytes.length;
    while (this.at % 8) this.at++;
    return address;
  }
  dataset(shape: number[], fill: (out: Float32Array, from: number) => void): number {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = this.at;
    const block = new Float32Array(1 << 20);
    for (let done = 0; done < count; done += block.length) {
      const n = Math.min(block.length, count - done);
      fill(block, done);
      writeSync(this.fd, new Uint8Array(block.buffer, 0, n * 4), 0, n * 4, this.base + this.at);
      this.at += n * 4;
    }
    while (this.at % 8) this.at++;
    const space = new Bytes().u8(1).u8(shape.length).u8(0).u8(0).u32(0);
    for (const d of shape) space.u64(d);
    const type = new Bytes().u8(0x11).u8(0x20).u8(0x1f).u8(0).u32(4).u16(0).u16(32).u8(23).u8(8).u8(0).u8(23).u32(127);
    const layout = new Bytes().u8(3).u8(1).u64(data).u64(count * 4);
    return this.put(objectHeader([[1, space.done()], [3, type.done()], [8, layout.done()]]));
  }
  /** A symbol-table group as libhdf5 lays it out: names sorted, SNOD nodes of at most 8 entries (leaf K 4), one B-tree node (internal K 16) of its full size. */
  group(unsorted: [string, number][]): number {
    const members = [...unsorted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const heap = new Bytes().u8(0).pad8();
    const offsets = members.map(([name]) => { const o = heap.length; heap.text(name).u8(0).pad8(); return o; });
    const heapData = this.put(heap.done());
    const heapHeader = this.put(new Bytes().text("HEAP").u8(0).zeros(3).u64(heap.length).u64(1).u64(heapData).done());
    const children: number[] = [];
    const keys = [0];
    for (let i = 0; i < members.length; i += 8) {
      const part = members.slice(i, i + 8);
      const snod = new Bytes().text("SNOD").u8(1).u8(0).u16(part.length);
      part.forEach(([, address], k) => snod.u64(offsets[i + k]).u64(address).u32(0).u32(0).zeros(16));
      snod.zeros(8 + 8 * 40 - snod.length);
      children.push(this.put(snod.done()));
      keys.push(offsets[i + part.length - 1]);
    }
    if (children.length > 32) throw new Error("bench writer: more than 256 members in a group");
    const tree = new Bytes().text("TREE").u8(0).u8(0).u16(children.length).u64(UNDEF).u64(UNDEF);
    children.forEach((c, i) => tree.u64(keys[i]).u64(c));
    tree.u64(keys[children.length]);
    tree.zeros(24 + 33 * 8 + 32 * 8 - tree.length);
    const treeAt = this.put(tree.done());
    return this.put(objectHeader([[0x11, new Bytes().u64(treeAt).u64(heapHeader).done()]]));
  }
  superblock(root: number): void {
    const sb = new Bytes().u8(0x89).text("HDF\r\n\x1a\n").u8(0).u8(0).u8(0).u8(0).u8(0).u8(8).u8(8).u8(0).u16(4).u16(16).u32(0)
      .u64(0).u64(UNDEF).u64(this.at).u64(UNDEF).u64(0).u64(root).u32(0).u32(0).zeros(16);
    writeSync(this.fd, sb.done(), 0, sb.length, this.base);
  }
}

function localHeader(name: string, size: number, crc: number): Uint8Array {
  return new Bytes().u32(0x04034b50).u16(20).u16(0).u16(0).u16(0).u16(0x21).u32(crc).u32(size).u32(size).u16(name.length).u16(0).text(name).done();
}

/** Write the .keras (once; kept in tmp). */
export function bigKeras(layers = 12, n = 2048): string {
  const path = join(tmpdir(), `cntscope-bench-keras-${layers}x${n}-v4.keras`);
  if (existsSync(path)) return path;
  const config = {
    module: "keras", class_name: "Sequential", config: {
      name: "sequential", trainable: true,
      layers: [
        { module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, n], dtype: "float32", name: "input_layer" } },
        ...Array.from({ length: layers }, (_, l) => ({ module: "keras.layers", class_name: "Dense", config: { name: l === 0 ? "dense" : `dense_${l}`, units: n, activation: "relu", use_bias: true }, build_config: { input_shape: [null, n] } })),
      ],
    },
  };
  const entries: [string, Uint8Array][] = [
    ["metadata.json", Buffer.from(JSON.stringify({ keras_version: "3.15.1", date_saved: "2026-12-06@00:00:00" }))],
    ["config.json", Buffer.from(JSON.stringify(config))],
  ];
  const crc = (b: Uint8Array) => ((zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32?.(b) ?? 0);
  const fd = openSync(`${path}.part`, "w+");
  let at = 0;
  const central: Uint8Array[] = [];
  const record = (name: string, size: number, c: number, offset: number) =>
    central.push(new Bytes().u32(0x02014b50).u16(20).u16(20).u16(0).u16(0).u16(0).u16(0x21).u32(c).u32(size).u32(size).u16(name.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offset).text(name).done());
  for (const [name, data] of entries) {
    const head = localHeader(name, data.length, crc(data));
    writeSync(fd, head, 0, head.length, at);
    writeSync(fd, data, 0, data.length, at + head.length);
    record(name, data.length, crc(data), at);
    at += head.length + data.length;
  }
  // model.weights.h5: its local header is written last (its size and CRC-32 known then).
  const name = "model.weights.h5";
  const h5Start = at + 30 + name.length;
  const h5 = new H5(fd, h5Start);
  let s = 7;
  const fill = (out: Float32Array) => {
    for (let i = 0; i < out.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      out[i] = (s / 2 ** 32 - 0.5) * 0.05;
    }
  };
  const members: [string, number][] = [];
  for (let l = 0; l < layers; l++) {
    const kernel = h5.dataset([n, n], fill);
    const bias = h5.dataset([n], fill);
    const vars = h5.group([["0", kernel], ["1", bias]]);
    members.push([l === 0 ? "dense" : `dense_${l}`, h5.group([["vars", vars]])]);
  }
  const root = h5.group([["layers", h5.group(members)]]);
  h5.superblock(root);
  const size = h5.at;
  let c = 0;
  const crc32 = (zlib as unknown as { crc32?: (b: Uint8Array, v: number) => number }).crc32;
  if (crc32) {
    const chunk = Buffer.allocUnsafe(4 << 20);
    for (let done = 0; done < size; ) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - done), h5Start + done);
      c = crc32(chunk.subarray(0, n), c);
      done += n;
    }
  }
  const head = localHeader(name, size, c);
  writeSync(fd, head, 0, head.length, at);
  record(name, size, c, at);
  at = h5Start + size;
  const cd = Buffer.concat(central);
  writeSync(fd, cd, 0, cd.length, at);
  const end = new Bytes().u32(0x06054b50).u16(0).u16(0).u16(central.length).u16(central.length).u32(cd.length).u32(at).u16(0).done();
  writeSync(fd, end, 0, end.length, at + cd.length);
  closeSync(fd);
  renameSync(`${path}.part`, path);
  return path;
}

function readChunked(path: string): number {
  const size = statSync(path).size;
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  const t = performance.now();
  for (let done = 0; done < size; ) done += readSync(fd, chunk, 0, Math.min(chunk.length, size - done), done);
  const ms = performance.now() - t;
  closeSync(fd);
  return ms;
}

/** The same weights as a PyTorch-named safetensors state_dict (dense_k.weight, dense_k.bias: the same dense layers and passes), for the same-run comparison. */
export function bigSafetensors(layers = 12, n = 2048): string {
  const path = join(tmpdir(), `cntscope-bench-keras-${layers}x${n}-twin.safetensors`);
  if (existsSync(path)) return path;
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (let l = 0; l < layers; l++) {
    const name = l === 0 ? "dense" : `dense_${l}`;
    header[`${name}.weight`] = { dtype: "F32", shape: [n, n], data_offsets: [offset, (offset += n * n * 4)] };
    header[`${name}.bias`] = { dtype: "F32", shape: [n], data_offsets: [offset, (offset += n * 4)] };
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += " ";
  const fd = openSync(`${path}.part`, "w");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, prefix);
  writeSync(fd, Buffer.from(json));
  let s = 7;
  const block = new Float32Array(1 << 20);
  // The .keras writer's sequence: each tensor filled block by block from the same generator.
  for (let l = 0; l < layers; l++) {
    for (const count of [n * n, n]) {
      for (let done = 0; done < count; done += block.length) {
        const k = Math.min(block.length, count - done);
        for (let i = 0; i < block.length; i++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          block[i] = (s / 2 ** 32 - 0.5) * 0.05;
        }
        writeSync(fd, new Uint8Array(block.buffer, 0, k * 4));
      }
    }
  }
  closeSync(fd);
  renameSync(`${path}.part`, path);
  return path;
}

export async function benchKeras(): Promise<KerasBenchResult> {
  const layers = 12;
  const path = bigKeras(layers);
  const twin = bigSafetensors(layers);
  readAll(twin);
  let safetensorsMs = Infinity;
  const bytes = statSync(path).size;
  readAll(path); // into the page cache
  let readMs = Infinity;
  let chunkedMs = Infinity;
  let analyzeMs = Infinity;
  let openMs = Infinity;
  const { inspectFile } = await import("../src/node/index.js");
  for (let rep = 0; rep < 3; rep++) {
    readMs = Math.min(readMs, readAll(path));
    chunkedMs = Math.min(chunkedMs, readChunked(path));
    let t = performance.now();
    const model = await inspectFile(path);
    openMs = Math.min(openMs, performance.now() - t);
    if (model.tensors.length !== 2 * layers) throw new Error(`the bench .keras has ${model.tensors.length} tensors`);
    t = performance.now();
    const report = await analyzeFile(path);
    analyzeMs = Math.min(analyzeMs, performance.now() - t);
    if (report.coverage.inStrengths !== layers) throw new Error(`the bench .keras measured ${report.coverage.inStrengths} layers in the strengths`);
    t = performance.now();
    const same = await analyzeFile(twin);
    safetensorsMs = Math.min(safetensorsMs, performance.now() - t);
    // The same link-weight means (to rounding: the passes may sum in another order), the same dense layers in the strengths.
    const means = (r: typeof report) => r.layers.map((l) => l.linkWeights?.mean ?? NaN).sort((a, b) => a - b);
    const a = means(same), b = means(report);
    if (same.coverage.inStrengths !== layers || a.length !== b.length || a.some((x, i) => Math.abs(x - b[i]) > 1e-9 * Math.abs(b[i]) + 1e-15)) {
      throw new Error(`the .keras and its safetensors twin measure differently: ${JSON.stringify(a.slice(0, 4))} / ${JSON.stringify(b.slice(0, 4))}, ${same.coverage.inStrengths} layers in the strengths`);
    }
  }
  return { bytes, layers, readGBs: bytes / readMs / 1e6, chunkedReadGBs: bytes / chunkedMs / 1e6, analyzeGBs: bytes / analyzeMs / 1e6, ofRead: readMs / analyzeMs, ofChunkedRead: chunkedMs / analyzeMs, openMs, ofSafetensors: safetensorsMs / analyzeMs };
}

export function formatKeras(r: KerasBenchResult): string {
  const f = (x: number) => x.toFixed(2);
  return `keras ${(r.bytes / 1e6).toFixed(0)} MB .keras (${r.layers} Dense 2048x2048, page cache, best of 3): fs.read into one buffer ${f(r.readGBs)} GB/s, in 1 MiB chunks ${f(r.chunkedReadGBs)} GB/s | ` +
    `analyzeFile ${f(r.analyzeGBs)} GB/s = ${f(r.ofRead)} of the one-buffer read, ${f(r.ofChunkedRead)} of the chunked read; the same weights as a safetensors state_dict ${f(r.analyzeGBs / r.ofSafetensors)} GB/s (the .keras at ${f(r.ofSafetensors)} of its speed) | open (zip directory, config, HDF5 tree) ${r.openMs.toFixed(1)} ms`;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatKeras(await benchKeras()));
