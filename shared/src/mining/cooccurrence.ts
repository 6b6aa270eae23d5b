import { z } from 'zod';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../validation';

/**
 * Item-to-item neighbours ("bought this, also bought"): how many baskets hold both items, scored by cosine
 * c_ij / sqrt(n_i n_j) shrunk by c_ij / (c_ij + shrinkage), so a pair seen in two baskets does not outrank one seen
 * in two hundred; lift c_ij N / (n_i n_j) says how much more often than chance.
 *
 * Unlike `mineRules`, which finds itemsets of any size above one support threshold for the whole shop, this
 * keeps every item's own best partners, however rare the item: what an item page needs.
 *
 * Memory: a count and a Map per distinct item, and one Map entry per distinct pair (kept under its lower-indexed item,
 * so no single Map nears V8's 2^24 entries). A basket adds at most N(N - 1)/2 pairs for N = `maxBasketItems`, so
 * pairs stay within baskets x N(N - 1)/2 however large a basket is given. `finish` needs, besides, a few numbers
 * per pair that reaches `minCount`. 100k baskets of about 5 items over 50k items: about 1.3 s to count, 0.1 s to
 * finish.
 *
 * Items are user strings (`__proto__`, lone surrogates...): they are only Map keys and Set members, and are
 * ordered by UTF-16 code units. The neighbours do not depend on the order of the baskets.
 */

export const CooccurrenceParametersSchema = z.strictObject({
  /** Neighbours kept per item, the best by score. */
  neighbours: z.number().int().min(1).max(10_000).default(20),
  /** Baskets that must hold both items for the pair to count. */
  minCount: z.number().int().min(1).default(2),
  /** A larger basket keeps its first N distinct items: bounds the quadratic cost of a huge basket. */
  maxBasketItems: z.number().int().min(2).max(10_000).default(50),
  /** cosine * c / (c + shrinkage): damps pairs seen few times; 0 keeps the plain cosine. */
  shrinkage: z.number().nonnegative().finite().default(5),
});
export type CooccurrenceOptions = z.input<typeof CooccurrenceParametersSchema>;
export type CooccurrenceParameters = z.output<typeof CooccurrenceParametersSchema>;

export interface Neighbour {
  itemId: string;
  /** The shrunk cosine: c / sqrt(n_i n_j) * c / (c + shrinkage). */
  score: number;
  /** Baskets holding both items. */
  count: number;
  /** c * N / (n_i n_j), N every basket added (empty ones too). */
  lift: number;
}

/** Counts items and pairs a basket at a time; `finish` turns the counts into each item's neighbours. */
export class CooccurrenceCounter {
  readonly parameters: CooccurrenceParameters;
  private readonly index = new Map<string, number>();
  private readonly names: string[] = [];
  /** Baskets holding each item (by index). */
  private readonly itemCounts: number[] = [];
  /** pairCounts[i].get(j), i < j: baskets holding both. */
  private readonly pairCounts: Map<number, number>[] = [];
  private basketCount = 0;
  // Scratch reused by every basket.
  private readonly seen = new Set<string>();
  private readonly ids: number[] = [];

  constructor(options: CooccurrenceOptions = {}) {
    this.parameters = parseOrThrow(CooccurrenceParametersSchema, options, 'co-occurrence options');
  }

  /** Baskets added so far, empty ones included. */
  get baskets(): number {
    return this.basketCount;
  }

  /** Counts one basket; an item repeated in it counts once, and only its first `maxBasketItems` distinct items count. */
  addBasket(items: Iterable<string>): void {
    const { seen, ids } = this;
    const limit = this.parameters.maxBasketItems;
    seen.clear();
    ids.length = 0;
    for (const item of items) {
      if (typeof item !== 'string') {
        throw new ValidationError('invalid basket', [{ path: `${this.basketCount}`, reason: 'an item must be a string' }]);
      }
      if (seen.has(item)) continue;
      seen.add(item);
      ids.push(this.indexOf(item));
      if (ids.length === limit) break;
    }
    this.basketCount++;
    const { itemCounts, pairCounts } = this;
    for (let a = 0; a < ids.length; a++) {
      const i = ids[a]!;
      itemCounts[i]!++;
      for (let b = a + 1; b < ids.length; b++) {
        const j = ids[b]!;
        const row = pairCounts[i < j ? i : j]!;
        const other = i < j ? j : i;
        row.set(other, (row.get(other) ?? 0) + 1);
      }
    }
  }

  /**
   * Each item's best `neighbours` partners among the pairs seen in at least `minCount` baskets: score descending,
   * ties by itemId in code units. Keys in code-unit order; an item without such a partner is left out.
   */
  finish(): Map<string, Neighbour[]> {
    const { names, itemCounts, pairCounts } = this;
    const { minCount, shrinkage, neighbours } = this.parameters;
    const n = this.basketCount;
    const order = names.map((_, i) => i).sort((a, b) => compareStrings(names[a]!, names[b]!));
    const rank = new Int32Array(names.length);
    order.forEach((item, place) => (rank[item] = place));

    // Each kept pair once, shared by both items' lists, so the two see the same numbers.
    const pairs: { i: number; j: number; score: number; count: number; lift: number }[] = [];
    const lists: number[][] = names.map(() => []);
    pairCounts.forEach((row, i) => {
      row.forEach((count, j) => {
        if (count < minCount) return;
        const product = itemCounts[i]! * itemCounts[j]!;
        const score = (count / Math.sqrt(product)) * (count / (count + shrinkage));
        lists[i]!.push(pairs.length);
        lists[j]!.push(pairs.length);
        pairs.push({ i, j, score, count, lift: (count * n) / product });
      });
    });

    const out = new Map<string, Neighbour[]>();
    for (const item of order) {
      const list = lists[item]!;
      if (list.length === 0) continue;
      const otherOf = (p: number): number => (pairs[p]!.i === item ? pairs[p]!.j : pairs[p]!.i);
      list.sort((p, q) => pairs[q]!.score - pairs[p]!.score || rank[otherOf(p)]! - rank[otherOf(q)]!);
      out.set(
        names[item]!,
        list.slice(0, neighbours).map((p) => {
          const { score, count, lift } = pairs[p]!;
          return { itemId: names[otherOf(p)]!, score, count, lift };
        }),
      );
    }
    return out;
  }

  private indexOf(item: string): number {
    let id = this.index.get(item);
    if (id === undefined) {
      id = this.names.length;
      this.index.set(item, id);
      this.names.push(item);
      this.itemCounts.push(0);
      this.pairCounts.push(new Map());
    }
    return id;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
