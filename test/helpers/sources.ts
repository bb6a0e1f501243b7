/** A ReadableStream that hands out `bytes` in chunks of the sizes `sizes` yields (cycled). */
export function chunkedStream(bytes: Uint8Array, sizes: () => number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) {
        controller.close();
        return;
      }
      const n = Math.max(1, Math.min(sizes(), bytes.byteLength - at));
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

/** mulberry32: a small seeded PRNG, so random tests replay. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
