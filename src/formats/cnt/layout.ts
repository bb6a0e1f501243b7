/**
 * The fixed parts of a `.cnt` file (see the diagram at the top of schemas/model.fbs): the 16-byte
 * prefix, the FlatBuffers file identifier and the 64-byte data alignment. Shared by the reader and
 * the writer so the two cannot disagree.
 */

/** ASCII "CNTS" at bytes 0..3. */
export const CNT_MAGIC: readonly number[] = [0x43, 0x4e, 0x54, 0x53];
/** Major version at bytes 4..5 (u16 LE); the highest this code reads and the one it writes. */
export const CNT_VERSION = 1;
/** Magic (4) + version (2) + reserved zero (2) + header length (u64, 8). */
export const PREFIX_BYTES = 16;
/** FlatBuffers file identifier of the header (bytes 4..7 of the FlatBuffer). */
export const FILE_IDENTIFIER = "CNT1";
/** Alignment of the data region and of every tensor in it: covers f64 views and 512-bit SIMD loads. */
export const DATA_ALIGN = 64;
/**
 * FlatBuffers offsets are 32-bit and the TS runtime reads them as signed, so a FlatBuffer cannot
 * exceed 2^31 - 1 bytes whatever `maxHeaderBytes` allows (FLATBUFFERS_MAX_BUFFER_SIZE in C++).
 */
export const MAX_FLATBUFFER_BYTES = 0x7fffffff;
/**
 * Values one graph constant may hold (GraphInfo.constants in src/model/types.ts: shape constants
 * and small float tensors, never weights). A fixed rule of the format, not a limit to raise.
 */
export const MAX_CONSTANT_VALUES = 65_536;

/** Round `n` (a safe integer) up to a multiple of `align`. */
export function alignUp(n: number, align: number = DATA_ALIGN): number {
  const rest = n % align;
  return rest === 0 ? n : n + (align - rest);
}

/** Byte where the data region starts for a header of `headerBytes` bytes. */
export function dataStartFor(headerBytes: number): number {
  return alignUp(PREFIX_BYTES + headerBytes);
}

/** The 16-byte prefix for a header of `headerBytes` bytes. */
export function encodePrefix(headerBytes: number): Uint8Array {
  const prefix = new Uint8Array(PREFIX_BYTES);
  prefix.set(CNT_MAGIC, 0);
  const view = new DataView(prefix.buffer);
  view.setUint16(4, CNT_VERSION, true);
  view.setBigUint64(8, BigInt(headerBytes), true);
  return prefix;
}
