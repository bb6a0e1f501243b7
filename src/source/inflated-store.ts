/**
 * Deflated zip entries kept whole after one checked inflation, so that the tensors inside one (a
 * deflated .keras's model.weights.h5) are cut out of memory instead of each inflating the entry
 * from its start (minutes for a few hundred MB). Keyed by the file's ByteSource and the entry's
 * region; released with the source (a WeakMap). Bounded: at most INFLATED_STORE_BYTES per file;
 * a reader whose entry is larger keeps streaming, and says so.
 */
import type { ByteSource } from "./types.js";

/** The most inflated bytes kept for one file: 1 GiB. */
export const INFLATED_STORE_BYTES = 1024 ** 3;

interface Region {
  start: number;
  length: number;
  size: number;
  crc32?: number;
}

const kept = new WeakMap<ByteSource, { bytes: number; entries: { region: Region; data: Uint8Array }[] }>();

/**
 * Keep an entry's inflated bytes (already checked against its size and CRC-32) for later reads;
 * false when the file's store would pass INFLATED_STORE_BYTES.
 * @example
 *   if (keepInflated(source, region, all)) ... // inflateChunks(source, region, ...) now reads `all`
 */
export function keepInflated(file: ByteSource, region: Region, data: Uint8Array): boolean {
  if (data.byteLength !== region.size) return false;
  let store = kept.get(file);
  if (!store) kept.set(file, (store = { bytes: 0, entries: [] }));
  if (store.entries.some((e) => same(e.region, region))) return true;
  if (store.bytes + data.byteLength > INFLATED_STORE_BYTES) return false;
  store.bytes += data.byteLength;
  store.entries.push({ region: { ...region }, data });
  return true;
}

/** The kept inflated bytes of a region of `file`, or undefined. */
export function inflatedCopy(file: ByteSource, region: Region): Uint8Array | undefined {
  return kept.get(file)?.entries.find((e) => same(e.region, region))?.data;
}

function same(a: Region, b: Region): boolean {
  return a.start === b.start && a.length === b.length && a.size === b.size && (a.crc32 ?? -1) === (b.crc32 ?? -1);
}
