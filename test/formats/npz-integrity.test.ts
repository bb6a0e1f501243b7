// .npz reads that used to be silently wrong: a corrupt deflate stream that still inflates to the
// declared size (now BAD_CHECKSUM), an end record hidden in the archive comment (ambiguous:
// BAD_HEADER), and an archive with no arrays (a note, not a silent empty report).
import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze } from "../../src/entry/node-core.js";
import { crc32Final, crc32Update, CRC32_START } from "../../src/source/crc32.js";
import { rejects } from "../helpers/rejects.js";

const deflated = new Uint8Array(readFileSync("test/fixtures/numpy/mlp-f32-deflated.npz"));

/** The central directory's entries, read with the test's own parser: name, method, sizes, local offset. */
function entriesOf(zip: Uint8Array) {
  const v = new DataView(zip.buffer, zip.byteOffset);
  let eocd = zip.length - 22;
  while (v.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out = [];
  for (let i = 0; i < count; i++) {
    const nameLength = v.getUint16(p + 28, true);
    const local = v.getUint32(p + 42, true);
    const dataStart = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    out.push({ name: new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLength)), method: v.getUint16(p + 10, true), compressed: v.getUint32(p + 20, true), size: v.getUint32(p + 24, true), dataStart });
    p += 46 + nameLength + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
  return out;
}

test("CRC-32: the portable tables agree with zlib's on a known vector and across chunk splits", () => {
  const text = new TextEncoder().encode("123456789");
  assert.is(crc32Final(crc32Update(CRC32_START, text)), 0xcbf43926, "the standard check value");
  const bytes = deflated.subarray(0, 1000);
  const whole = crc32Final(crc32Update(CRC32_START, bytes));
  let split = CRC32_START;
  for (let i = 0; i < bytes.length; i += 7) split = crc32Update(split, bytes.subarray(i, i + 7));
  assert.is(crc32Final(split), whole);
});

test("a flipped byte in a deflated entry that still inflates to the declared size is BAD_CHECKSUM, not wrong weights", async () => {
  const entry = entriesOf(deflated).filter((e) => e.method === 8).sort((a, b) => b.compressed - a.compressed)[0];
  const original = inflateRawSync(deflated.subarray(entry.dataStart, entry.dataStart + entry.compressed));
  // Find a byte whose flip keeps the stream valid and its length, but changes its bytes: the silent case.
  let bad: Uint8Array | undefined;
  for (let at = entry.dataStart + Math.floor(entry.compressed / 2); at < entry.dataStart + entry.compressed && !bad; at++) {
    const copy = deflated.slice();
    copy[at] ^= 0x10;
    try {
      const out = inflateRawSync(copy.subarray(entry.dataStart, entry.dataStart + entry.compressed));
      if (out.length === entry.size && !out.equals(original)) bad = copy;
    } catch {
      // invalid deflate: the reader already reports that
    }
  }
  assert.ok(bad, "a silent corruption exists in the fixture");
  await rejects(() => analyze(bad!, { name: "flipped.npz" }), "BAD_CHECKSUM", "CRC-32");
  const good = await analyze(deflated, { name: "mlp.npz" });
  assert.ok(good.layers.length > 0, "the intact file still reads");
});

test("an end record hidden in the archive comment is BAD_HEADER (ambiguous), not an empty report", async () => {
  const eocd = deflated.length - 22;
  const fake = new Uint8Array(22);
  new DataView(fake.buffer).setUint32(0, 0x06054b50, true); // no entries, no directory, no comment
  const forged = new Uint8Array(deflated.length + 22);
  forged.set(deflated);
  forged.set(fake, deflated.length);
  new DataView(forged.buffer).setUint16(eocd + 20, 22, true); // the real record's comment now holds the fake
  await rejects(() => analyze(forged, { name: "forged.npz" }), "BAD_HEADER", "ambiguous");
});

test("an archive whose directory lists no entries gets a report that says so in a note", async () => {
  // A local header (so it is recognised as a zip of arrays), then an end record with an empty directory.
  const zip = new Uint8Array(30 + 5 + 22);
  const v = new DataView(zip.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(26, 5, true);
  zip.set(new TextEncoder().encode("a.npy"), 30);
  v.setUint32(35, 0x06054b50, true);
  v.setUint32(35 + 16, 35, true); // the (empty) directory starts at the end record
  const report = await analyze(zip, { name: "empty.npz" });
  assert.is(report.layers.length, 0);
  assert.ok(report.notes.some((n) => /no entries: it holds no arrays/.test(n)), report.notes.join("\n"));
});

test.run();
