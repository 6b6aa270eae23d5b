/**
 * Value: recency, frequency and monetary (RFM) scores 1–5 by population quintiles, the RFM code, a value tier
 * and a named RFM group. The quintile boundaries are the model: fitted on the buyers of the population,
 * stored with a version, and applied to each profile as it changes.
 *
 * Rules, in order:
 * - A score is 1 plus the number of boundaries the value passes: for frequency and monetary value, the
 *   boundaries strictly below it; for recency (days since the last purchase), the boundaries strictly above
 *   it, so the most recent buyers score 5. Ties stay together: when most buyers have one order, they all
 *   score the same frequency.
 * - Tier: `high` when the frequency–monetary score (the rounded mean of F and M) is at least 4 and R at least
 *   3; `low` when that score is at most 2 and R at most 2, or the profile never bought; `medium` otherwise.
 * - Group: the first of the rules in `RFM_GROUPS` that the (R, F, M) scores meet.
 */

import { z } from 'zod';

export const RFM_TIERS = ['high', 'medium', 'low'] as const;
export type RfmTier = (typeof RFM_TIERS)[number];

export const RFM_GROUPS = [
  'champions',
  'loyal',
  'new',
  'promising',
  'potential_loyalists',
  'cannot_lose',
  'at_risk',
  'need_attention',
  'about_to_sleep',
  'hibernating',
  'lost',
  'prospect',
] as const;
export type RfmGroup = (typeof RFM_GROUPS)[number];

/** What RFM reads of a profile. */
export interface RfmInput {
  /** Days since the last purchase; undefined for a profile that never bought. */
  recencyDays: number | undefined;
  /** Orders. */
  frequency: number;
  /** Spend in the base currency. */
  monetary: number;
}

const Boundaries = z
  .array(z.number().finite().min(0))
  .length(4)
  .refine((b) => b.every((v, i) => i === 0 || v >= b[i - 1]!), 'must be ascending');

/** The fitted model: four ascending boundaries per dimension, and what they were fitted on. Stored as it is. */
export const RfmModelSchema = z.object({
  boundaries: z.object({ recency: Boundaries, frequency: Boundaries, monetary: Boundaries }),
  /** Buyers the boundaries were computed from. */
  buyers: z.number().int().positive(),
});
export type RfmModel = z.infer<typeof RfmModelSchema>;

export interface RfmScore {
  r: number;
  f: number;
  m: number;
  /** `"545"`: R, F and M digits. */
  code: string;
  tier: RfmTier;
  group: RfmGroup;
}

const QUINTILES = [0.2, 0.4, 0.6, 0.8];

/** The `q` quantile of ascending `sorted` values, linear between order statistics (Hyndman & Fan type 7). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('no values to take a quantile of');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function finite(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${what} must be a finite number >= 0, got ${value}`);
  return value;
}

/**
 * Fits the quintile boundaries on the profiles that bought at least once. Memory is three Float64Arrays of
 * the buyers; `inputs` may be any iterable (a page walk over the profile index).
 */
export function fitRfm(inputs: Iterable<RfmInput>): RfmModel {
  const r: number[] = [];
  const f: number[] = [];
  const m: number[] = [];
  for (const input of inputs) {
    if (input.recencyDays === undefined || input.frequency <= 0) continue;
    r.push(finite(input.recencyDays, 'recencyDays'));
    f.push(finite(input.frequency, 'frequency'));
    m.push(finite(input.monetary, 'monetary'));
  }
  if (r.length === 0) throw new Error('no profile has bought anything yet: RFM needs at least one buyer to fit its quintiles');
  const cuts = (values: number[]): number[] => {
    const sorted = Float64Array.from(values).sort();
    return QUINTILES.map((q) => quantile(sorted, q));
  };
  return { boundaries: { recency: cuts(r), frequency: cuts(f), monetary: cuts(m) }, buyers: r.length };
}

const above = (boundaries: readonly number[], value: number): number => boundaries.filter((b) => value > b).length;
const below = (boundaries: readonly number[], value: number): number => boundaries.filter((b) => value < b).length;

/** Scores one profile with a fitted model; a profile that never bought is `low` / `prospect` with no scores. */
export function scoreRfm(model: RfmModel, input: RfmInput): RfmScore | { tier: 'low'; group: 'prospect' } {
  if (input.recencyDays === undefined || input.frequency <= 0) return { tier: 'low', group: 'prospect' };
  const r = 1 + below(model.boundaries.recency, finite(input.recencyDays, 'recencyDays'));
  const f = 1 + above(model.boundaries.frequency, finite(input.frequency, 'frequency'));
  const m = 1 + above(model.boundaries.monetary, finite(input.monetary, 'monetary'));
  return { r, f, m, code: `${r}${f}${m}`, tier: rfmTier(r, f, m), group: rfmGroup(r, f, m) };
}

/** The rounded mean of the frequency and monetary scores. */
const fmOf = (f: number, m: number): number => Math.round((f + m) / 2);

export function rfmTier(r: number, f: number, m: number): RfmTier {
  const fm = fmOf(f, m);
  if (fm >= 4 && r >= 3) return 'high';
  if (fm <= 2 && r <= 2) return 'low';
  return 'medium';
}

/** The named group of an (R, F, M) score: the first rule that holds. */
export function rfmGroup(r: number, f: number, m: number): RfmGroup {
  const fm = fmOf(f, m);
  if (r >= 4 && fm >= 4) return 'champions';
  if (r >= 3 && fm >= 3 && f >= 3) return 'loyal';
  if (r === 5 && f === 1) return 'new';
  if (r === 4 && f === 1) return 'promising';
  if (r >= 4) return 'potential_loyalists';
  if (r <= 2 && fm === 5) return 'cannot_lose';
  if (r <= 2 && fm >= 3) return 'at_risk';
  if (r === 3 && fm >= 3) return 'need_attention';
  if (r === 3) return 'about_to_sleep';
  if (r === 2) return 'hibernating';
  return 'lost';
}
