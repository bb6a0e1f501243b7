// The first-bytes tests that format detection (../detect.ts) and the readers share, apart from the
// readers' own modules: detection runs on every file, and importing hdf5.ts, zip.ts or protobuf.ts
// for a few bytes of signature loaded 76 KB of reader code into every run. The modules that
// defined these re-export them, so their callers see no change.

/** The HDF5 signature, at byte 0 of the superblock. */
export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when `first` starts with the HDF5 signature. */
export function isHdf5(first: Uint8Array): boolean {
  return first.byteLength >= 8 && HDF5_MAGIC.every((b, i) => first[i] === b);
}

/** Protobuf wire types (the four that the formats we read use). */
export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** A zip archive starts with a local file header (or is an empty archive). */
export function isZip(first: Uint8Array): boolean {
  return first.byteLength >= 4 && first[0] === 0x50 && first[1] === 0x4b && first[2] === 0x03 && first[3] === 0x04;
}

/** The name of the first entry as far as `first` holds it, and whether it is cut off. */
export function firstEntryName(first: Uint8Array): { name: string; complete: boolean } {
  if (first.byteLength < 30) return { name: "", complete: false };
  const n = first[26] | (first[27] << 8);
  const bytes = first.subarray(30, Math.min(first.byteLength, 30 + n));
  return { name: new TextDecoder("latin1").decode(bytes), complete: 30 + n <= first.byteLength };
}

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(first: Uint8Array): boolean {
  return first.byteLength >= 6 && NPY_MAGIC.every((b, i) => first[i] === b);
}

/** The opening of a browserify standalone bundle (short enough for the registry's 64 detection bytes). */
export const BUNDLE_PREFIX = /^!function\(([\w$]+)\)\{if\("object"==typeof exports&&/;

export function isBundle(first: Uint8Array): boolean {
  return BUNDLE_PREFIX.test(new TextDecoder("latin1").decode(first.subarray(0, 64)));
}
