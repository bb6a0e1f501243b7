// The PNGs of test/fixtures/forward/make_images.py decoded in Node (no image library): 8-bit RGB,
// filter 0 on every row, as that script writes them.
import { inflateSync } from "node:zlib";
import type { DecodedImage } from "../../src/forward/inputs/images.js";

/** An 8-bit RGB PNG as written by make_images.py (filter 0 rows), decoded to RGBA. */
export function readPng(bytes: Buffer): DecodedImage {
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (bytes[24] !== 8 || bytes[25] !== 2) throw new Error("not an 8-bit RGB PNG");
  const parts: Buffer[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString("latin1", at + 4, at + 8) === "IDAT") parts.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(parts));
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    if (raw[y * (3 * width + 1)] !== 0) throw new Error(`row ${y}: filter ${raw[y * (3 * width + 1)]}, not 0`);
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 4 + c] = raw[y * (3 * width + 1) + 1 + 3 * x + c];
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, data };
}
