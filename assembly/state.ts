// Layout of the moments state a stats kernel adds into (spec metrics.md section 2, "Link Weights").
// The host zeroes it, sets SHIFT and the extrema, then reads it after the last block.
//
//   state + 0   f64  SUM      sum of finite values
//   state + 8   f64  SQ       sum of (x - SHIFT)^2 over finite values
//   state + 16  f64  SHIFT    a finite value of the tensor (set by the host): keeps SQ well conditioned
//   state + 24  f32  MIN      smallest finite value (host sets +Inf)
//   state + 28  f32  MAX      largest finite value  (host sets -Inf)
//   state + 32  f64  NAN      count of NaN
//   state + 40  f64  POS_INF  count of +Inf
//   state + 48  f64  NEG_INF  count of -Inf
//   state + 64  f64  MIN64    smallest finite value, f64 kernels (host sets +Inf)
//   state + 72  f64  MAX64    largest finite value, f64 kernels (host sets -Inf)
// Counts are f64 so they stay exact past 2^32 elements (exact to 2^53).
//
// The host has a copy of these offsets in src/kernels/layout.ts (STATE, STATE_BYTES): AssemblyScript
// cannot import a TypeScript module, so the two are kept equal by hand; the kernel tests
// (test/kernels/stats-*.test.ts) use the host's copy and fail when they differ.
export const SUM: usize = 0;
export const SQ: usize = 8;
export const SHIFT: usize = 16;
export const MIN: usize = 24;
export const MAX: usize = 28;
export const NAN_COUNT: usize = 32;
export const POS_INF: usize = 40;
export const NEG_INF: usize = 48;
export const MIN64: usize = 64;
export const MAX64: usize = 72;
export const STATE_BYTES: usize = 128;
