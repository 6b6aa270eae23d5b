import { BASE_STRATEGIES, type BaseStrategy, type Candidate, type Reason } from './strategies';

/**
 * The `hybrid` strategy: the base strategies' lists mixed into one, then made less repetitive. Item ids are user
 * strings: they are only ever Map keys and Set members, and ties are broken by UTF-16 code units (never by locale).
 */

/**
 * How much each strategy's list counts in the hybrid blend. They sum to 1, so a blended score reads as a share.
 */
export const HYBRID_WEIGHTS: Readonly<Record<BaseStrategy, number>> = Object.freeze({
  // The user's own recent items and what is bought with them: the strongest signal of intent, and explainable.
  item_cf: 0.3,
  // Latent taste from the whole history: broader than item_cf, but needs enough history to be fitted.
  als: 0.25,
  // Item attributes: reaches new items that have no interactions yet, but likeness on paper predicts less than behaviour.
  content: 0.2,
  // Neighbours' purchases: noisier than item_cf (small neighbourhoods), and overlaps with what ALS already captures.
  user_cf: 0.15,
  // Not personal at all: a fallback that fills the list for new users without drowning the personal signals.
  popular: 0.1,
});

/** The collaborative model's hold-out figures the hybrid reads (leave-latest-out NDCG@10 of ALS and of popularity). */
export interface FactorQuality {
  ndcg?: unknown;
  popularNdcg?: unknown;
  /** The days of interactions the training read (its `windowDays`). */
  windowDays?: unknown;
}

/**
 * The hybrid's weights for the served models: HYBRID_WEIGHTS, unless the collaborative factors' NDCG@10 on the
 * training's own hold-out does not beat popularity's. Then `als` and `user_cf` (both rank by the factors) weigh 0 and
 * their share goes to `popular`, the baseline they lost to: blended in, they would pull the list below it.
 *
 * The hold-out ranks items new to the shopper, which is what is served only while purchases are not recommended
 * again over the data the training read (`boughtDays` ≥ its `windowDays`). Where repeats are served (a short
 * bought window: groceries), the hold-out does not measure the served task and the weights stay as documented, as
 * they do without such figures (no hold-out, no collaborative model). They always sum to 1.
 */
export function hybridWeights(factors: FactorQuality | undefined, boughtDays: number): Record<BaseStrategy, number> {
  const { ndcg, popularNdcg, windowDays } = factors ?? {};
  const measuresServedTask = typeof windowDays === 'number' && boughtDays >= windowDays;
  if (!measuresServedTask || typeof ndcg !== 'number' || typeof popularNdcg !== 'number' || ndcg > popularNdcg)
    return { ...HYBRID_WEIGHTS };
  return {
    ...HYBRID_WEIGHTS,
    als: 0,
    user_cf: 0,
    popular: HYBRID_WEIGHTS.popular + HYBRID_WEIGHTS.als + HYBRID_WEIGHTS.user_cf,
  };
}

export interface Blended {
  itemId: string;
  score: number;
  /** Every strategy that proposed it, strongest contribution first (ties in the order of BASE_STRATEGIES). */
  strategies: BaseStrategy[];
  /** The reason of the strongest contribution. */
  reason: Reason;
}

/**
 * Rank-based normalization: a candidate at 0-based position r of its list is worth 1 / (r + RANK_OFFSET) before
 * weighting. Scores are comparable within one list only (a cosine, an ALS dot product, a purchase count), so
 * positions are mixed instead of scores: robust to any scale, and to one strategy's outliers. The offset is small
 * so that strategies interleave by weight; reciprocal rank fusion's 60 suits retrieval runs over the same
 * documents, which overlap heavily, but with lists that mostly differ it would put the heaviest strategy's first
 * dozen items before anyone else's first.
 */
const RANK_OFFSET = 1;

/**
 * Blends the strategies' lists, each taken in its given order (best first, as every strategy returns them; a
 * repeated item counts at its first position). A strategy's contribution is its weight times its rank-based
 * value; an item's score is the sum of its contributions. A missing or empty list, or a weight of 0, contributes
 * nothing, and the other weights are not rescaled: a blend of fewer strategies is a weaker one, which the scores
 * should show. `weights` overrides HYBRID_WEIGHTS strategy by strategy.
 *
 * Sorted by score descending, then itemId by code units. A single strategy's list comes back in its own order.
 * Throws a RangeError on a weight that is negative or not finite.
 */
export function blend(
  lists: Partial<Record<BaseStrategy, readonly Candidate[]>>,
  weights: Partial<Record<BaseStrategy, number>> = {},
): Blended[] {
  const byItem = new Map<string, { score: number; contributions: { strategy: BaseStrategy; value: number; reason: Reason }[] }>();
  // BASE_STRATEGIES order, never the input's keys: the sums (floating point) come out the same whatever the key order.
  for (const strategy of BASE_STRATEGIES) {
    const weight = weights[strategy] ?? HYBRID_WEIGHTS[strategy];
    if (!Number.isFinite(weight) || weight < 0)
      throw new RangeError(`the weight of ${strategy} must be a finite number >= 0, got ${weight}`);
    const list = lists[strategy];
    if (list === undefined || weight === 0) continue;
    const seen = new Set<string>();
    for (const candidate of list) {
      if (seen.has(candidate.itemId)) continue;
      const value = weight / (seen.size + RANK_OFFSET);
      seen.add(candidate.itemId);
      let entry = byItem.get(candidate.itemId);
      if (entry === undefined) {
        entry = { score: 0, contributions: [] };
        byItem.set(candidate.itemId, entry);
      }
      entry.score += value;
      entry.contributions.push({ strategy, value, reason: candidate.reason });
    }
  }

  const out: Blended[] = [];
  for (const [itemId, { score, contributions }] of byItem) {
    // Stable sort: equal contributions stay in BASE_STRATEGIES order.
    contributions.sort((a, b) => b.value - a.value);
    out.push({ itemId, score, strategies: contributions.map((c) => c.strategy), reason: contributions[0]!.reason });
  }
  return out.sort((a, b) => b.score - a.score || compareStrings(a.itemId, b.itemId));
}

export interface DiversityOptions {
  /** λ in [0, 1]: 0 = none (the first k, as ranked), 1 = most diverse (relevance only breaks ties). */
  diversity: number;
  /** Items returned at most (an integer >= 0). */
  k: number;
  /** How alike two items are, in [0, 1] (values outside are clamped). */
  similarity: (a: string, b: string) => number;
}

/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998): picks, k times, the candidate with the largest
 * (1 - λ) · relevance - λ · (its largest similarity to those already picked), where relevance is the score
 * rescaled to [0, 1] over all the candidates (all 1 when every score is the same). Ties go to the earlier
 * candidate. O(n · k) similarity calls; returns min(k, n) of `ranked`'s entries, in the order picked.
 *
 * Throws a RangeError on a diversity outside [0, 1], a k that is not an integer >= 0, a score that is not finite
 * or a similarity that is NaN.
 */
export function diversify<T extends { itemId: string; score: number }>(ranked: readonly T[], options: DiversityOptions): T[] {
  const { diversity: lambda, k, similarity } = options;
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`diversity must be in [0, 1], got ${lambda}`);
  checkCount('k', k);
  // Exactly the ranking, not a recomputation of it that floating point or ties could reorder.
  if (lambda === 0 || k === 0) return ranked.slice(0, k);

  let min = Infinity;
  let max = -Infinity;
  for (const { itemId, score } of ranked) {
    if (!Number.isFinite(score))
      throw new RangeError(`the score of an item must be a finite number, got ${score} for ${JSON.stringify(itemId)}`);
    min = Math.min(min, score);
    max = Math.max(max, score);
  }
  const relevance = ranked.map(({ score }) => (max > min ? (score - min) / (max - min) : 1));
  // The largest similarity of each candidate to the picked ones, updated with each pick: one call per pair.
  const nearest = new Float64Array(ranked.length);
  const picked = new Uint8Array(ranked.length);
  const out: T[] = [];
  while (out.length < Math.min(k, ranked.length)) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < ranked.length; i++) {
      if (picked[i]) continue;
      const value = (1 - lambda) * relevance[i]! - lambda * nearest[i]!;
      if (value > bestValue) {
        best = i;
        bestValue = value;
      }
    }
    picked[best] = 1;
    const chosen = ranked[best]!;
    out.push(chosen);
    for (let i = 0; i < ranked.length; i++) {
      if (picked[i]) continue;
      const s = similarity(ranked[i]!.itemId, chosen.itemId);
      if (Number.isNaN(s))
        throw new RangeError(`similarity gave NaN for ${JSON.stringify(ranked[i]!.itemId)} and ${JSON.stringify(chosen.itemId)}`);
      nearest[i] = Math.max(nearest[i]!, Math.min(1, Math.max(0, s)));
    }
  }
  return out;
}

/**
 * How alike two category paths are (root first): the length of their shared prefix over the deeper one's depth.
 * ["Food", "Dairy"] and ["Food", "Bakery"] give 0.5, the same path 1; nothing shared, or a path missing, 0.
 */
export function categorySimilarity(a: readonly string[] | undefined, b: readonly string[] | undefined): number {
  if (a === undefined || b === undefined) return 0;
  const depth = Math.max(a.length, b.length);
  if (depth === 0) return 0;
  let shared = 0;
  while (shared < Math.min(a.length, b.length) && a[shared] === b[shared]) shared++;
  return shared / depth;
}

/**
 * The first k of `ranked`, in order, skipping an item once maxPerGroup of its group are in: at most maxPerGroup
 * per group (e.g. brand or category). An item whose group is undefined is never capped. Fewer than k come back
 * when the cap leaves too few: the cap is a promise, not a preference.
 *
 * Throws a RangeError unless k is an integer >= 0 and maxPerGroup an integer >= 1.
 */
export function capPerGroup<T>(ranked: readonly T[], k: number, maxPerGroup: number, groupOf: (t: T) => string | undefined): T[] {
  checkCount('k', k);
  if (!Number.isInteger(maxPerGroup) || maxPerGroup < 1) throw new RangeError(`maxPerGroup must be a positive integer, got ${maxPerGroup}`);
  const counts = new Map<string, number>();
  const out: T[] = [];
  for (const item of ranked) {
    if (out.length >= k) break;
    const group = groupOf(item);
    if (group !== undefined) {
      const count = counts.get(group) ?? 0;
      if (count >= maxPerGroup) continue;
      counts.set(group, count + 1);
    }
    out.push(item);
  }
  return out;
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
