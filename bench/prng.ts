/**
 * Small deterministic randomness for synthetic data: a seedable PRNG and the few distributions the
 * shop generator needs. Not for anything security-related.
 */

import { hashSeed, mulberry32, normal, type Rng } from '@portrait/shared';

// The generator and seed mixer are the models' own (shared/src/mining/random.ts): one implementation.
export { hashSeed, mulberry32, normal, type Rng };

export function intBetween(rng: Rng, min: number, maxInclusive: number): number {
  return min + Math.floor(rng() * (maxInclusive - min + 1));
}

export function pick<T>(rng: Rng, values: readonly T[]): T {
  return values[Math.floor(rng() * values.length)]!;
}

/** Log-normal with the given median and shape (sigma of the underlying normal). */
export function logNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/** Number of failures before the first success, success probability `p`. */
export function geometric(rng: Rng, p: number): number {
  return Math.floor(Math.log(1 - rng()) / Math.log(1 - p));
}

/** Exponential with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng()) * mean;
}

/** Samples an index from a cumulative weight table by binary search: O(log n). */
export class CumulativeTable {
  private readonly cdf: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cdf = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      sum += weights[i]!;
      this.cdf[i] = sum;
    }
    if (!(sum > 0)) throw new RangeError('weights must have a positive sum');
  }

  get size(): number {
    return this.cdf.length;
  }

  sample(rng: Rng): number {
    const target = rng() * this.cdf[this.cdf.length - 1]!;
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Zipf over ranks 0..n-1: P(rank k) proportional to 1 / (k + 1)^s. */
export function zipfTable(n: number, s: number): CumulativeTable {
  const weights = new Float64Array(n);
  for (let k = 0; k < n; k++) weights[k] = 1 / Math.pow(k + 1, s);
  return new CumulativeTable(weights);
}

/** Picks a value from `[value, weight]` pairs. */
export function weighted<T>(rng: Rng, choices: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of choices) total += w;
  let r = rng() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return choices[choices.length - 1]![0];
}
