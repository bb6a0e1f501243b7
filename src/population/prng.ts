/**
 * The population's one seeded random source, so that samples and half splits are the same on
 * every machine and runtime (the reference code shuffled unseeded). mulberry32 (Tommy Ettinger's
 * 32-bit generator, as commonly written in JS): state a = seed as uint32; each draw:
 *   a = a + 0x6D2B79F5; t = imul(a ^ a >>> 15, 1 | a); t = t + imul(t ^ t >>> 7, 61 | t) ^ t;
 *   return ((t ^ t >>> 14) >>> 0) / 2^32
 * Shuffles are Fisher-Yates from the end: for i = n-1 down to 1, j = floor(draw * (i + 1)), swap.
 */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Fisher-Yates shuffle of a copy of `items`. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `n` of the indices 0..total-1, drawn by one shuffle and returned ascending. */
export function sampleIndices(total: number, n: number, random: Random): number[] {
  const all = Array.from({ length: total }, (_, i) => i);
  return shuffled(all, random).slice(0, Math.min(n, total)).sort((a, b) => a - b);
}
