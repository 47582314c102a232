/**
 * mulberry32: a small seeded generator of uniform numbers in [0, 1). Used wherever a "random" sequence must
 * be the same on every run (bootstrap resampling, the stand-in provider's shuffles, randomized tests).
 */
export function createPrng(seed: number): () => number {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new RangeError(`seed must be an unsigned 32-bit integer, got ${seed}`);
  }
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
