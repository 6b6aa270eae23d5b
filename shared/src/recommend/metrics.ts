import { z } from 'zod';

/**
 * Offline ranking metrics: how well a recommended list, best first, finds the items a user went on to interact
 * with (the held-out `relevant` set). Relevance is binary.
 *
 * A duplicate in `recommended` counts once, at its first position, and does not take a slot: the list is read as
 * its distinct items, in order, and the top k are the first k of those. Item ids are user strings: they are only
 * ever Set members and Map keys.
 *
 * Every metric is in [0, 1]. Each throws a RangeError unless k is a positive integer.
 */

export function precisionAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  checkK(k);
  // Divided by k even when fewer than k items were recommended: a short list is not more precise for being short.
  return hits(topK(recommended, k), relevant) / k;
}

/** Hits in the top k over |relevant|; 0 when nothing is relevant (there is nothing to recall). */
export function recallAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  checkK(k);
  if (relevant.size === 0) return 0;
  return hits(topK(recommended, k), relevant) / relevant.size;
}

/**
 * Normalized discounted cumulative gain (Järvelin & Kekäläinen 2002): a hit at 0-based position i is worth
 * 1 / log2(i + 2), over the best possible, min(|relevant|, k) hits at the top. 0 when nothing is relevant.
 */
export function ndcgAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  checkK(k);
  return ndcg(topK(recommended, k), relevant, k);
}

/** 1 if any of the top k is relevant, else 0. */
export function hitAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  checkK(k);
  return hits(topK(recommended, k), relevant) > 0 ? 1 : 0;
}

export const RankingSummarySchema = z.strictObject({
  /** Users evaluated: those with at least one relevant item. */
  users: z.number().int().nonnegative(),
  k: z.number().int().positive(),
  /** Means over the users; 0 when there are none. */
  precision: z.number().min(0).max(1),
  recall: z.number().min(0).max(1),
  ndcg: z.number().min(0).max(1),
  hitRate: z.number().min(0).max(1),
  /** Distinct items recommended in any evaluated user's top k, over the catalogue size (at most 1). */
  coverage: z.number().min(0).max(1),
});
/** Plain JSON, so a summary can be stored beside the model version it measures and read back with the schema. */
export type RankingSummary = z.infer<typeof RankingSummarySchema>;

/** Accumulates the metrics at one k over many users, one `add` each, in memory proportional to the items seen. */
export class RankingEvaluator {
  private users = 0;
  private skippedUsers = 0;
  private precision = 0;
  private recall = 0;
  private ndcg = 0;
  private hitRate = 0;
  private readonly recommendedItems = new Set<string>();

  constructor(
    readonly k: number,
    readonly catalogueSize: number,
  ) {
    checkK(k);
    if (!Number.isInteger(catalogueSize) || catalogueSize < 1) {
      throw new RangeError(`catalogueSize must be a positive integer (the number of items one could recommend), got ${catalogueSize}`);
    }
  }

  /**
   * One user's list and held-out items. A user with no relevant item is skipped, counted in `skipped` only: no
   * metric means anything for them, and counting them as zeros would blame the recommender for an empty hold-out.
   */
  add(recommended: readonly string[], relevant: ReadonlySet<string>): void {
    if (relevant.size === 0) {
      this.skippedUsers++;
      return;
    }
    const top = topK(recommended, this.k);
    const found = hits(top, relevant);
    this.users++;
    this.precision += found / this.k;
    this.recall += found / relevant.size;
    this.ndcg += ndcg(top, relevant, this.k);
    this.hitRate += found > 0 ? 1 : 0;
    for (const item of top) this.recommendedItems.add(item);
  }

  /** Users left out because nothing of theirs was relevant. */
  get skipped(): number {
    return this.skippedUsers;
  }

  summary(): RankingSummary {
    const n = this.users;
    const mean = (sum: number): number => (n === 0 ? 0 : sum / n);
    return {
      users: n,
      k: this.k,
      precision: mean(this.precision),
      recall: mean(this.recall),
      ndcg: mean(this.ndcg),
      hitRate: mean(this.hitRate),
      // Capped: the catalogue size is counted apart from the lists, and items added since could push it past 1.
      coverage: Math.min(1, this.recommendedItems.size / this.catalogueSize),
    };
  }
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
}

/** The first k distinct items, in order. */
function topK(recommended: readonly string[], k: number): string[] {
  const seen = new Set<string>();
  for (const item of recommended) {
    if (seen.size >= k) break;
    seen.add(item);
  }
  return [...seen];
}

function hits(top: readonly string[], relevant: ReadonlySet<string>): number {
  let found = 0;
  for (const item of top) if (relevant.has(item)) found++;
  return found;
}

function ndcg(top: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  let dcg = 0;
  top.forEach((item, i) => {
    if (relevant.has(item)) dcg += discount(i);
  });
  // The same terms summed in the same order as a perfect ranking's DCG, so a perfect ranking gives exactly 1.
  let ideal = 0;
  for (let i = 0; i < Math.min(relevant.size, k); i++) ideal += discount(i);
  return dcg / ideal;
}

function discount(position: number): number {
  return 1 / Math.log2(position + 2);
}
