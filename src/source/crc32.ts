/**
 * CRC-32 (ISO-HDLC, the zip and PNG checksum), updated chunk by chunk, slicing by 8 bytes at a
 * time: the check of a deflated entry costs a fraction of inflating it, and needs no second pass.
 * @example
 *   let crc = CRC32_START; crc = crc32Update(crc, bytes); const value = crc32Final(crc);
 */

const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();

/** The running value before the first byte. */
export const CRC32_START = 0xffffffff;

/** A faster CRC-32 of the platform, if the entry point gives one: (bytes, previous checksum) -> checksum. */
let native: ((bytes: Uint8Array, previous: number) => number) | undefined;

/** Node's entry hands in zlib.crc32 (several GB/s); browsers use the tables below (about 0.3 GB/s). */
export function setNativeCrc32(fn: typeof native): void {
  native = fn;
}

/** The running value after `bytes`. */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  if (native) return (native(bytes, crc32Final(crc)) ^ 0xffffffff) >>> 0;
  const t = TABLES;
  let c = crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c = t[7 * 256 + (a & 0xff)] ^ t[6 * 256 + ((a >>> 8) & 0xff)] ^ t[5 * 256 + ((a >>> 16) & 0xff)] ^ t[4 * 256 + (a >>> 24)] ^
      t[3 * 256 + bytes[i + 4]] ^ t[2 * 256 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

/** The checksum from the running value. */
export function crc32Final(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}
