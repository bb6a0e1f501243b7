// Scratch memory the kernels write between calls' inputs and outputs: the histogram pair table,
// its vector constants, the half-float widening constants, and the f32 span that
// the f16 kernels widen into (two spans of SPAN = 2048 values, 16 KiB: it stays in L1).
//
// By default it is the module's own static data. Instances that share one linear memory (the
// threads build: several workers on one SharedArrayBuffer) would overwrite each other's table,
// so the host gives each such instance its own area with setScratch before any kernel call.
//
//   scratch + 0      u32[64 * 64]  PAIR_TABLE  zero between calls
//   scratch + 16384  16 B          unused (was a lane spill; kept so the offsets below stay put)
//   scratch + 16400  96 B          LANE_CONSTS
//   scratch + 16496  80 B          HALF_CONSTS
//   scratch + 16640  f32[2 * 2048]  SPAN_F32
//
// The host learns SCRATCH_BYTES from scratchBytes() and keeps no copy of these offsets; it aligns
// each area to 64 bytes like memory.data below (ALIGN in src/kernels/layout.ts, which AssemblyScript
// cannot import).
export const PAIR_TABLE: usize = 0;
export const LANE_CONSTS: usize = 16400;
export const HALF_CONSTS: usize = 16496;
export const SPAN_F32: usize = 16640;
export const SCRATCH_BYTES: usize = 33024;

let base: usize = memory.data(<i32>SCRATCH_BYTES, 64);

// @ts-ignore: decorator
@inline export function scratch(): usize {
  return base;
}

/** Point this instance's scratch at `ptr` (64-byte aligned, SCRATCH_BYTES long, zeroed). */
export function setScratch(ptr: usize): void {
  base = ptr;
}

/** Bytes the host must give setScratch. */
export function scratchBytes(): usize {
  return SCRATCH_BYTES;
}
