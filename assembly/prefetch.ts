// Pre-reading a span before the arithmetic reaches it (wasm has no prefetch instruction).

let touchSink: i32 = 0;

/**
 * One load per 64-byte line of [p, p + bytes). A loop with many instructions per cache line
 * keeps few misses in flight and streams from memory slowly; this one starts a miss per few
 * instructions, so the lines are in L1 when the arithmetic reaches them. The loads feed a
 * global so the optimiser keeps them.
 */
export function touch(p: usize, bytes: usize): void {
  let acc = 0;
  const end = p + bytes;
  let q = p;
  for (; q + 256 <= end; q += 256) acc |= load<i32>(q) | load<i32>(q, 64) | load<i32>(q, 128) | load<i32>(q, 192);
  for (; q < end; q += 64) acc |= load<i32>(q);
  touchSink |= acc;
}
