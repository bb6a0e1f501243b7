// Scratch memory the kernels write between calls' inputs and outputs: the histogram pair table,
// its column sums and vector constants, the half-float widening constants, and the f32 span that
// the f16 kernels widen into (two spans of SPAN = 2048 values, 16 KiB: it stays in L1).
//
// By default it is the module's own static data. Instances that share one linear memory (the
// threads build: several workers on one SharedArrayBuffer) would overwrite each other's table,
// so the host gives each such instance its own area with setScratch before any kernel call.
//
//   scratch + 0      u32[4608]     PAIR_TABLE  (66 rows x 68 cells for 64 bins) zero between calls
//   scratch + 18432  u32[80]       PAIR_COLS   the table's column sums, zero between calls
//   scratch + 18752  160 B         LANE_CONSTS
//   scratch + 18912  96 B          HALF_CONSTS (80 used)
//   scratch + 19008  f32[2 * 2048]  SPAN_F32
//   scratch + 35392  u8[65536]     HALF_LUT    bin + 1 of every f16 or bf16 pattern (assembly/histogram.ts)
//   scratch + 100928 576 B         LUT_KEY     HALF_LUT's dtype (0 none, 1 f16, 2 bf16), bins, edges
//   scratch + 101504 64 B          LANE_SPILL  one histogram block's bin positions, for its slow path
//
// The host learns SCRATCH_BYTES from scratchBytes() and keeps no copy of these offsets; it aligns
// each area to 64 bytes like memory.data below (ALIGN in src/kernels/layout.ts, which AssemblyScript
// cannot import).
export const PAIR_TABLE: usize = 0;
export const PAIR_COLS: usize = 18432;
export const LANE_CONSTS: usize = 18752;
export const HALF_CONSTS: usize = 18912;
export const SPAN_F32: usize = 19008;
export const HALF_LUT: usize = 35392;
export const LUT_KEY: usize = 100928;
export const LANE_SPILL: usize = 101504;
export const SCRATCH_BYTES: usize = 101568;

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
