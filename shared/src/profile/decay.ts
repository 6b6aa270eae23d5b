import { DAY_MS } from './time';

/**
 * A time-decayed score: `score` is its value at instant `asOf` (epoch ms).
 * Adding contributions is commutative: the pair is always expressed at the latest instant seen.
 */
export type Decayed = [score: number, asOf: number];

export function decayFactor(elapsedMs: number, halfLifeDays: number): number {
  return Math.pow(2, -elapsedMs / (halfLifeDays * DAY_MS));
}

export function addDecayed(current: Decayed | undefined, weight: number, atMs: number, halfLifeDays: number): Decayed {
  if (!current) return [weight, atMs];
  const [score, asOf] = current;
  const ref = Math.max(asOf, atMs);
  return [score * decayFactor(ref - asOf, halfLifeDays) + weight * decayFactor(ref - atMs, halfLifeDays), ref];
}

/** Value of a decayed score at `nowMs` (never grows past its value at `asOf`). */
export function decayedValue([score, asOf]: Decayed, nowMs: number, halfLifeDays: number): number {
  return score * decayFactor(Math.max(0, nowMs - asOf), halfLifeDays);
}
