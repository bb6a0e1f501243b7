/**
 * The central directory of a zip archive (.npz), read and verified before any entry is touched:
 * end record (and ZIP64 end record), central headers, each entry's local header. Entry names are
 * data only: they are never used as paths. Stored (method 0) and deflated (method 8) entries;
 * entry data is not read here (see inflateChunks in src/source/tensor-bytes.ts for deflated entries, which
 * counts inflated bytes against the declared size).
 *
 *   [local header 30 + name + extra][data] ... [central header 46 + name + extra + comment] ...
 *   [ZIP64 end record 56+][ZIP64 locator 20]?[end record 22 + comment]
 */
import { CntError, formatCount, quoteName } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import type { ByteSource } from "../../source/types.js";

export interface ZipEntry {
  /** Name as stored (UTF-8 when flagged, else read as Latin-1). Data, never a path. */
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  /** Absolute offset of the entry's data (after its local header). */
  dataOffset: number;
  compressedSize: number;
  /** Declared size of the data once inflated. */
  size: number;
  crc32: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const LOCATOR64 = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

export { firstEntryName, isZip } from "./magic.js";

/**
 * Read and verify the archive's directory. Checks: end record found with its comment reaching
 * the end of the file; central directory inside the file before the end record; entry count and
 * sizes against limits; every local header where its central header says, with the same name;
 * every entry's data inside the file, before the central directory, not overlapping another.
 */
export async function readZipDirectory(source: ByteSource, limits: Limits, format: string): Promise<ZipEntry[]> {
  const file = source.name;
  const fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra: object = {}) =>
    new CntError(code, `${format} '${file}': ${message}`, { format, file, ...extra });
  const size = source.size;
  if (size === undefined || !source.randomAccess) {
    throw new CntError("BAD_OPTION", `${format} '${file}' is a zip archive, whose directory is at its end: give a file, Blob or buffer, not a one-shot stream.`, { format, file });
  }
  if (size < 22) throw fail("TRUNCATED", `the file has ${size} bytes, fewer than a zip end record (22).`, { expected: 22, actual: size });

  // End of central directory: the signature whose comment reaches the end exactly. A second one
  // (an end record hidden in the comment of the real one) makes the archive ambiguous: readers
  // that take the last would see another directory (an empty one: a report of nothing, exit 0).
  const tailLength = Math.min(size, 22 + MAX16);
  const tail = new Uint8Array(tailLength);
  await source.readInto(size - tailLength, tail);
  const tv = new DataView(tail.buffer);
  const found: number[] = [];
  for (let i = tailLength - 22; i >= 0; i--) {
    // 'P' first: the whole 64 KiB tail is scanned (a second record would be ambiguous), most of it tensor bytes.
    if (tail[i] === 0x50 && tv.getUint32(i, true) === EOCD && i + 22 + tv.getUint16(i + 20, true) === tailLength) found.push(i);
  }
  if (found.length === 0) throw fail("TRUNCATED", "no zip end-of-central-directory record was found at the end of the file (truncated or not a zip).");
  if (found.length > 1) {
    const at = found.map((i) => formatCount(size - tailLength + i)).reverse().join(" and ");
    throw fail("BAD_HEADER", `the archive has ${found.length} end records whose comments reach the end of the file (at bytes ${at}): one is hidden in another's comment, so which directory is real is ambiguous.`, { offset: size - tailLength + found[found.length - 1] });
  }
  const eocd = found[0];
  const eocdOffset = size - tailLength + eocd;
  const disk = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  let count: number = tv.getUint16(eocd + 10, true);
  let cdSize: number = tv.getUint32(eocd + 12, true);
  let cdOffset: number = tv.getUint32(eocd + 16, true);
  let cdEnd = eocdOffset; // the central directory must end before this

  // ZIP64: a locator right before the end record points at the ZIP64 end record.
  if (eocdOffset >= 20) {
    const loc = new Uint8Array(20);
    await source.readInto(eocdOffset - 20, loc);
    const lv = new DataView(loc.buffer);
    if (lv.getUint32(0, true) === LOCATOR64) {
      const at = u64(lv, 8, "the ZIP64 end record offset", fail);
      if (at + 56 > eocdOffset - 20) throw fail("OUT_OF_BOUNDS", `the ZIP64 end record is said to be at byte ${formatCount(at)}, past the end of the archive's records.`, { offset: eocdOffset - 20 });
      const rec = new Uint8Array(56);
      await source.readInto(at, rec);
      const rv = new DataView(rec.buffer);
      if (rv.getUint32(0, true) !== EOCD64) throw fail("BAD_HEADER", `the ZIP64 end record at byte ${formatCount(at)} has the wrong signature.`, { offset: at });
      if (rv.getUint32(16, true) !== 0 || rv.getUint32(20, true) !== 0) throw fail("UNSUPPORTED_FORMAT", "multi-disk (split) zip archives are not supported.");
      count = u64(rv, 32, "the ZIP64 entry count", fail);
      cdSize = u64(rv, 40, "the ZIP64 central directory size", fail);
      cdOffset = u64(rv, 48, "the ZIP64 central directory offset", fail);
      cdEnd = at;
    }
  }
  if (cdEnd === eocdOffset && (disk !== 0 || cdDisk !== 0)) throw fail("UNSUPPORTED_FORMAT", "multi-disk (split) zip archives are not supported.");
  if (cdOffset + cdSize > cdEnd) {
    throw fail("OUT_OF_BOUNDS", `the central directory is said to span bytes ${formatCount(cdOffset)} to ${formatCount(cdOffset + cdSize)}, past its end record at byte ${formatCount(cdEnd)}.`, { offset: eocdOffset, expected: cdEnd, actual: cdOffset + cdSize });
  }
  checkLimit(limits, "maxTensors", count, `${format} '${file}': the entry count`, { format, file });
  if (count * 46 > cdSize) throw fail("BAD_HEADER", `the end record declares ${formatCount(count)} entries, which cannot fit in a central directory of ${formatCount(cdSize)} bytes.`, { offset: eocdOffset });
  checkLimit(limits, "maxHeaderBytes", cdSize, `${format} '${file}': the central directory size`, { format, file });

  const cd = new Uint8Array(cdSize);
  await source.readInto(cdOffset, cd);
  const cv = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = 0;
  for (let index = 0; index < count; index++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== CENTRAL) {
      throw fail("BAD_HEADER", `central directory entry ${index} at byte ${formatCount(cdOffset + p)} is missing or has the wrong signature.`, { offset: cdOffset + p });
    }
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc32 = cv.getUint32(p + 16, true);
    let compressedSize: number = cv.getUint32(p + 20, true);
    let size: number = cv.getUint32(p + 24, true);
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    let localOffset: number = cv.getUint32(p + 42, true);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > cdSize) throw fail("BAD_HEADER", `central directory entry ${index} runs past the directory's end.`, { offset: cdOffset + p });
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    if (nameLength > limits.maxNameBytes) checkLimit(limits, "maxNameBytes", nameLength, `${format} '${file}': an entry name's length`, { format, file });
    const name = decodeName(nameBytes, (flags & 0x800) !== 0);
    // ZIP64 extended information: 64-bit values for the fields set to 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) throw fail("BAD_HEADER", `entry ${quoteName(name)} has an extra field running past its end.`, { offset: cdOffset + e });
      if (id === 0x0001) {
        let q = e + 4;
        const take = (what: string) => {
          if (q + 8 > e + 4 + len) throw fail("BAD_HEADER", `entry ${quoteName(name)} has a ZIP64 extra field without its ${what}.`, { offset: cdOffset + q });
          const v = u64(cv, q, `the ZIP64 ${what} of entry ${quoteName(name)}`, fail);
          q += 8;
          return v;
        };
        if (size === MAX32) size = take("size");
        if (compressedSize === MAX32) compressedSize = take("compressed size");
        if (localOffset === MAX32) localOffset = take("local header offset");
      }
      e += 4 + len;
    }
    if (size === MAX32 || compressedSize === MAX32 || localOffset === MAX32) {
      throw fail("BAD_HEADER", `entry ${quoteName(name)} has 32-bit fields set to 0xFFFFFFFF without a ZIP64 extra field.`, { offset: cdOffset + p });
    }
    if (flags & 0x1) throw fail("UNSUPPORTED_FORMAT", `entry ${quoteName(name)} is encrypted.`);
    if (names.has(name)) throw fail("BAD_HEADER", `the archive holds two entries named ${quoteName(name)}.`);
    names.add(name);
    entries.push({ name, method, dataOffset: -1, compressedSize, size, crc32, localOffset, nameBytes } as ZipEntry & { nameBytes: Uint8Array });
    p = end;
  }

  // Local headers: where the central directory says, with the same name; data before the directory.
  for (const entry of entries as (ZipEntry & { nameBytes?: Uint8Array })[]) {
    if (entry.localOffset + 30 > cdOffset) {
      throw fail("OUT_OF_BOUNDS", `entry ${quoteName(entry.name)} has its local header at byte ${formatCount(entry.localOffset)}, past the start of the central directory (${formatCount(cdOffset)}).`, { offset: entry.localOffset });
    }
    const head = new Uint8Array(30);
    await source.readInto(entry.localOffset, head);
    const hv = new DataView(head.buffer);
    if (hv.getUint32(0, true) !== LOCAL) throw fail("BAD_HEADER", `entry ${quoteName(entry.name)} has no local header at byte ${formatCount(entry.localOffset)}.`, { offset: entry.localOffset });
    const nameLength = hv.getUint16(26, true);
    const extraLength = hv.getUint16(28, true);
    const localName = new Uint8Array(nameLength);
    if (entry.localOffset + 30 + nameLength > cdOffset) throw fail("OUT_OF_BOUNDS", `the local header of entry ${quoteName(entry.name)} runs into the central directory.`, { offset: entry.localOffset });
    await source.readInto(entry.localOffset + 30, localName);
    if (!sameBytes(localName, entry.nameBytes!)) {
      throw fail("BAD_HEADER", `entry ${quoteName(entry.name)} is named ${quoteName(new TextDecoder("latin1").decode(localName))} in its local header.`, { offset: entry.localOffset });
    }
    delete entry.nameBytes;
    entry.dataOffset = entry.localOffset + 30 + nameLength + extraLength;
    if (entry.dataOffset + entry.compressedSize > cdOffset) {
      throw fail("OUT_OF_BOUNDS", `entry ${quoteName(entry.name)} has ${formatCount(entry.compressedSize)} bytes of data at byte ${formatCount(entry.dataOffset)}, past the start of the central directory (${formatCount(cdOffset)}).`, { offset: entry.dataOffset, expected: cdOffset, actual: entry.dataOffset + entry.compressedSize });
    }
    if (entry.method === 0 && entry.compressedSize !== entry.size) {
      throw fail("BAD_HEADER", `stored entry ${quoteName(entry.name)} declares ${formatCount(entry.compressedSize)} bytes but a size of ${formatCount(entry.size)}.`, { offset: entry.localOffset, expected: entry.size, actual: entry.compressedSize });
    }
  }
  // No two entries share bytes (overlapping entries are a classic zip-bomb trick).
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const before = byOffset[i - 1];
    if (before.dataOffset + before.compressedSize > byOffset[i].localOffset) {
      throw fail("OVERLAP", `entries ${quoteName(before.name)} and ${quoteName(byOffset[i].name)} share bytes (the first ends at ${formatCount(before.dataOffset + before.compressedSize)}, the second starts at ${formatCount(byOffset[i].localOffset)}).`, { offset: byOffset[i].localOffset });
    }
  }
  return entries;
}

type Fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra?: object) => CntError;

function u64(view: DataView, at: number, what: string, fail: Fail): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("OUT_OF_BOUNDS", `${what} is ${v}, which is not below 2^53.`, { actual: String(v) });
  return Number(v);
}

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      // fall through: keep the bytes visible as Latin-1 rather than substituting U+FFFD
    }
  }
  return new TextDecoder("latin1").decode(bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
