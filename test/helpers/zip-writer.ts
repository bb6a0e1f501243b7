// A zip written by the tests themselves (no zip library): local headers, central directory, end
// record, with real CRC-32s; entries stored or deflated, data aligned as torch.save aligns it.
import { crc32, deflateRawSync } from "node:zlib";

const enc = new TextEncoder();

/** A zip of stored entries (deflated when asked); with `align` > 1 each entry's data is aligned by an extra field, as torch.save does (64 by default; 1: no extra field). */
export function storedZip(entries: { name: string; data: Uint8Array; deflate?: boolean }[], align = 64): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const { name, data: raw, deflate } of entries) {
    const n = enc.encode(name);
    const data = deflate ? new Uint8Array(deflateRawSync(raw)) : raw;
    let extra = 0;
    if (align > 1) {
      const start = offset + 30 + n.byteLength;
      extra = (align - ((start + 4) % align)) % align + 4;
    }
    const local = new Uint8Array(30 + n.byteLength + extra);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, deflate ? 8 : 0, true);
    lv.setUint32(14, crc32(raw), true);
    lv.setUint32(18, data.byteLength, true);
    lv.setUint32(22, raw.byteLength, true);
    lv.setUint16(26, n.byteLength, true);
    lv.setUint16(28, extra, true);
    local.set(n, 30);
    if (extra > 0) {
      lv.setUint16(30 + n.byteLength, 0x5446, true); // torch's padding field id 'FB'
      lv.setUint16(32 + n.byteLength, extra - 4, true);
    }
    const c = new Uint8Array(46 + n.byteLength);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, deflate ? 8 : 0, true);
    cv.setUint32(16, crc32(raw), true);
    cv.setUint32(20, data.byteLength, true);
    cv.setUint32(24, raw.byteLength, true);
    cv.setUint16(28, n.byteLength, true);
    cv.setUint32(42, offset, true);
    c.set(n, 46);
    parts.push(local, data);
    central.push(c);
    offset += local.byteLength + data.byteLength;
  }
  const cdSize = central.reduce((a, c) => a + c.byteLength, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((a, b) => a + b.byteLength, 0));
  let at = 0;
  for (const b of all) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}
