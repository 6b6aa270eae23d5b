/**
 * Seeded randomness for model training: the same seed gives the same sample, the same initial centroids and so
 * the same model. Not for anything security-related.
 */

export type Rng = () => number;

/** mulberry32: 32-bit state, fast and well spread; returns [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes several integers into one 32-bit seed (murmur3 finalizer per step): independent streams per purpose. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h ^= part >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Standard normal by Box-Muller (one of the pair is dropped). */
export function normal(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(values: T, rng: Rng): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = values[i];
    values[i] = values[j];
    values[j] = tmp;
  }
  return values;
}

/**
 * `size` distinct indexes of `0..n-1` drawn uniformly without replacement, in ascending order (so reading the
 * sampled rows walks memory forward). Floyd's algorithm: O(size) memory, whatever `n` is.
 */
export function sampleIndexes(n: number, size: number, rng: Rng): Uint32Array {
  if (size >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  const chosen = new Set<number>();
  for (let j = n - size; j < n; j++) {
    const t = Math.floor(rng() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Uint32Array.from(chosen).sort();
}
