import { z } from 'zod';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../validation';

/**
 * Association rules from baskets: frequent itemsets by FP-Growth (Han, Pei & Yin 2000), then every rule
 * A -> C whose itemset A ∪ C is frequent, with support, confidence and lift.
 *
 * Written here rather than taken from `node-fpgrowth`: that package mines itemsets only (no rules), has no bound
 * on itemset size or count (its output can grow exponentially), answers through a Promise and events, and has not
 * been released for years. This one is synchronous, typed, bounded (`maxItemsetSize`, `maxItemsets`, `maxRules`)
 * and deterministic: the same baskets and options give the same JSON, in the same order.
 *
 * Items are user strings (`__proto__`, lone surrogates...): they are only ever Map keys and Set members, and are
 * ordered by UTF-16 code units (never by locale).
 */

export const RuleMiningOptionsSchema = z.strictObject({
  /** An integer >= 1 is a count of baskets; a number in (0, 1) is a fraction of them. */
  minSupport: z
    .number()
    .positive()
    .refine((v) => v < 1 || Number.isInteger(v), 'must be a basket count (an integer >= 1) or a fraction in (0, 1)')
    .default(0.01),
  /** Smallest P(C | A). */
  minConfidence: z.number().min(0).max(1).default(0.1),
  /** Smallest P(C | A) / P(C); the default 1 keeps the rules no weaker than chance. */
  minLift: z.number().min(0).finite().default(1),
  /** Largest itemset mined, hence largest |A ∪ C| of a rule. */
  maxItemsetSize: z.number().int().min(1).max(10).default(4),
  /** Rules kept (the best by the rule order); `rulesFound` says how many passed the thresholds. */
  maxRules: z.number().int().min(0).max(1_000_000).default(10_000),
  /** Mining more frequent itemsets than this is refused, so a too-low support fails fast instead of exhausting memory. */
  maxItemsets: z.number().int().min(1).max(10_000_000).default(500_000),
});
export type RuleMiningOptions = z.input<typeof RuleMiningOptionsSchema>;
export type RuleMiningParameters = z.output<typeof RuleMiningOptionsSchema>;

export const FrequentItemsetSchema = z.strictObject({
  /** Sorted by code units. */
  items: z.array(z.string()).min(1),
  /** Baskets holding every item. */
  support: z.number().int().positive(),
});
export type FrequentItemset = z.infer<typeof FrequentItemsetSchema>;

export const AssociationRuleSchema = z.strictObject({
  /** Sorted by code units; disjoint from `consequent`. */
  antecedent: z.array(z.string()).min(1),
  consequent: z.array(z.string()).min(1),
  /** Baskets holding antecedent and consequent. */
  support: z.number().int().positive(),
  antecedentSupport: z.number().int().positive(),
  consequentSupport: z.number().int().positive(),
  /** support / antecedentSupport. */
  confidence: z.number().min(0).max(1),
  /** confidence / (consequentSupport / baskets). */
  lift: z.number().nonnegative(),
});
export type AssociationRule = z.infer<typeof AssociationRuleSchema>;

/** The fitted state: plain JSON, stored as a model version and read back with `RulesModelSchema`. */
export const RulesModelSchema = z.strictObject({
  algorithm: z.literal('fp-growth'),
  parameters: z.strictObject({
    minSupport: z.number().positive(),
    minConfidence: z.number(),
    minLift: z.number(),
    maxItemsetSize: z.number().int(),
    maxRules: z.number().int(),
    maxItemsets: z.number().int(),
  }),
  /** Baskets mined (empty ones included: they count in every support fraction). */
  baskets: z.number().int().nonnegative(),
  /** Distinct items over all baskets, frequent or not. */
  distinctItems: z.number().int().nonnegative(),
  /** `minSupport` as a basket count: an itemset is frequent when at least this many baskets hold it. */
  minSupportCount: z.number().int().positive(),
  /** Every frequent itemset up to `maxItemsetSize`: support descending, then size, then items. */
  itemsets: z.array(FrequentItemsetSchema),
  /** The best `maxRules` rules, in rule order (`compareRules`). */
  rules: z.array(AssociationRuleSchema),
  /** Rules that passed the thresholds, before `maxRules`. */
  rulesFound: z.number().int().nonnegative(),
});
export type RulesModel = z.infer<typeof RulesModelSchema>;

/** Mines `baskets` (duplicates within a basket count once). Throws ValidationError on bad options or too many itemsets. */
export function mineRules(baskets: readonly (readonly string[])[], options: RuleMiningOptions = {}): RulesModel {
  const parameters = parseOrThrow(RuleMiningOptionsSchema, options, 'rule mining options');
  const n = baskets.length;
  const minCount = minSupportCount(parameters.minSupport, n);

  const counts = countItems(baskets);
  // Frequent items ranked by support descending, then name: rank is the FP-tree order and the item id.
  const names = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
    .map(([name]) => name);
  const idOf = new Map(names.map((name, id) => [name, id]));

  const found: { ids: number[]; support: number }[] = [];
  const emit = (ids: number[], support: number): void => {
    if (found.length >= parameters.maxItemsets) {
      throw new ValidationError('too many frequent itemsets', [
        {
          path: 'minSupport',
          reason: `more than ${parameters.maxItemsets} frequent itemsets at support ${minCount} of ${n} baskets: raise minSupport or lower maxItemsetSize`,
        },
      ]);
    }
    found.push({ ids: ids.slice().sort((a, b) => a - b), support });
  };
  if (names.length > 0) {
    const miner = new FpGrowth(names.length, minCount, parameters.maxItemsetSize, emit);
    miner.mine(miner.build(basketPaths(baskets, idOf)), []);
  }

  const itemsets = found
    .map(({ ids, support }) => ({ items: ids.map((id) => names[id]!).sort(compareStrings), support }))
    .sort((a, b) => b.support - a.support || a.items.length - b.items.length || compareItemLists(a.items, b.items));
  const { rules, rulesFound } = generateRules(found, names, n, parameters);
  return {
    algorithm: 'fp-growth',
    parameters,
    baskets: n,
    distinctItems: counts.size,
    minSupportCount: minCount,
    itemsets,
    rules,
    rulesFound,
  };
}

export interface RuleLookupOptions {
  minLift?: number;
  minConfidence?: number;
  /** Rules returned at most; 10 unless told. */
  limit?: number;
}

/**
 * "Bought A -> also buys B": the model's rules whose antecedent is within `items` (one item, or a basket) and whose
 * consequent holds nothing already there, in rule order.
 */
export function rulesFor(model: RulesModel, items: string | readonly string[], options: RuleLookupOptions = {}): AssociationRule[] {
  const have = new Set(typeof items === 'string' ? [items] : items);
  const minLift = options.minLift ?? 0;
  const minConfidence = options.minConfidence ?? 0;
  const limit = options.limit ?? 10;
  const out: AssociationRule[] = [];
  for (const rule of model.rules) {
    if (out.length >= limit) break;
    if (rule.lift < minLift || rule.confidence < minConfidence) continue;
    if (rule.antecedent.every((i) => have.has(i)) && !rule.consequent.some((i) => have.has(i))) out.push(rule);
  }
  return out;
}

/**
 * Baskets of categories instead of items, for rules at category level: `mineRules(categoryBaskets(b, f))`.
 * An item `categoryOf` maps to undefined is left out; a basket keeps its place even if nothing is left of it,
 * so supports stay fractions of the same baskets.
 */
export function categoryBaskets(baskets: readonly (readonly string[])[], categoryOf: (item: string) => string | undefined): string[][] {
  return baskets.map((basket) => {
    const categories = new Set<string>();
    for (const item of basket) {
      const category = categoryOf(item);
      if (category !== undefined) categories.add(category);
    }
    return [...categories];
  });
}

/** The rule order: lift, confidence, support (all descending), then antecedent and consequent by code units. */
export function compareRules(a: AssociationRule, b: AssociationRule): number {
  return (
    b.lift - a.lift ||
    b.confidence - a.confidence ||
    b.support - a.support ||
    compareItemLists(a.antecedent, b.antecedent) ||
    compareItemLists(a.consequent, b.consequent)
  );
}

/** `minSupport` as a count: the smallest c >= 1 with c / n >= fraction (computed as the test compares, no rounding slip). */
export function minSupportCount(minSupport: number, n: number): number {
  if (minSupport >= 1) return minSupport;
  let c = Math.max(1, Math.ceil(minSupport * n));
  while (c > 1 && (c - 1) / n >= minSupport) c--;
  while (c / n < minSupport) c++;
  return c;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareItemLists(a: readonly string[], b: readonly string[]): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function countItems(baskets: readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  baskets.forEach((basket, b) => {
    seen.clear();
    basket.forEach((item, i) => {
      if (typeof item !== 'string') {
        throw new ValidationError('invalid baskets', [{ path: `${b}.${i}`, reason: 'an item must be a string' }]);
      }
      if (seen.has(item)) return;
      seen.add(item);
      counts.set(item, (counts.get(item) ?? 0) + 1);
    });
  });
  return counts;
}

/** Weighted transactions of item ids, each in ascending id (rank) order, flat. */
interface Paths {
  items: Int32Array;
  /** Path p is items[start[p] .. start[p + 1]). */
  start: Int32Array;
  weight: Int32Array;
  length: number;
}

function basketPaths(baskets: readonly (readonly string[])[], idOf: ReadonlyMap<string, number>): Paths {
  const items: number[] = [];
  const start = [0];
  const ids = new Set<number>();
  for (const basket of baskets) {
    ids.clear();
    for (const item of basket) {
      const id = idOf.get(item);
      if (id !== undefined) ids.add(id);
    }
    if (ids.size === 0) continue;
    for (const id of [...ids].sort((a, b) => a - b)) items.push(id);
    start.push(items.length);
  }
  const length = start.length - 1;
  return { items: Int32Array.from(items), start: Int32Array.from(start), weight: new Int32Array(length).fill(1), length };
}

/** An FP-tree over local item ids 0..k-1 (ascending global rank); node 0 is the root. */
interface FpTree {
  /** Global id of each local id. */
  globalOf: Int32Array;
  /** Support of each local item in the tree's transactions. */
  support: Int32Array;
  /** First node of each local item; nodes of one item are chained through `next`. */
  head: Int32Array;
  parent: Int32Array;
  item: Int32Array;
  count: Int32Array;
  next: Int32Array;
}

class FpGrowth {
  /** Scratch, one slot per global item: counts while building a tree, then global -> local ids; reset after each build. */
  private readonly scratch: Int32Array;

  constructor(
    globalItems: number,
    private readonly minCount: number,
    private readonly maxSize: number,
    private readonly emit: (ids: number[], support: number) => void,
  ) {
    this.scratch = new Int32Array(globalItems);
  }

  build(paths: Paths): FpTree {
    const { scratch, minCount } = this;
    const touched: number[] = [];
    for (let p = 0; p < paths.length; p++) {
      const w = paths.weight[p]!;
      for (let i = paths.start[p]!; i < paths.start[p + 1]!; i++) {
        const g = paths.items[i]!;
        if (scratch[g] === 0) touched.push(g);
        scratch[g]! += w;
      }
    }
    const frequent = touched.filter((g) => scratch[g]! >= minCount).sort((a, b) => a - b);
    const k = frequent.length;
    const globalOf = Int32Array.from(frequent);
    const support = new Int32Array(k);
    frequent.forEach((g, local) => (support[local] = scratch[g]!));
    for (const g of touched) scratch[g] = -1;
    frequent.forEach((g, local) => (scratch[g] = local));

    let capacity = 1;
    for (let i = 0; i < paths.items.length; i++) if (scratch[paths.items[i]!]! >= 0) capacity++;
    const tree: FpTree = {
      globalOf,
      support,
      head: new Int32Array(k).fill(-1),
      parent: new Int32Array(capacity),
      item: new Int32Array(capacity).fill(-1),
      count: new Int32Array(capacity),
      next: new Int32Array(capacity).fill(-1),
    };
    const child = new Map<number, number>();
    let size = 1;
    for (let p = 0; p < paths.length; p++) {
      const w = paths.weight[p]!;
      let node = 0;
      for (let i = paths.start[p]!; i < paths.start[p + 1]!; i++) {
        const local = scratch[paths.items[i]!]!;
        if (local < 0) continue;
        const key = node * k + local;
        let next = child.get(key);
        if (next === undefined) {
          next = size++;
          child.set(key, next);
          tree.parent[next] = node;
          tree.item[next] = local;
          tree.next[next] = tree.head[local]!;
          tree.head[local] = next;
        }
        tree.count[next]! += w;
        node = next;
      }
    }
    for (const g of touched) scratch[g] = 0;
    return tree;
  }

  /** Emits every frequent itemset made of `suffix` (global ids) and items of `tree`, least frequent item first. */
  mine(tree: FpTree, suffix: number[]): void {
    for (let local = tree.globalOf.length - 1; local >= 0; local--) {
      const itemset = [tree.globalOf[local]!, ...suffix];
      this.emit(itemset, tree.support[local]!);
      if (itemset.length < this.maxSize && local > 0) {
        const conditional = this.build(this.prefixPaths(tree, local));
        if (conditional.globalOf.length > 0) this.mine(conditional, itemset);
      }
    }
  }

  /** The conditional pattern base of `local`: each of its nodes' path to the root, weighted by the node's count. */
  private prefixPaths(tree: FpTree, local: number): Paths {
    const items: number[] = [];
    const start: number[] = [0];
    const weight: number[] = [];
    const path: number[] = [];
    for (let node = tree.head[local]!; node >= 0; node = tree.next[node]!) {
      path.length = 0;
      for (let up = tree.parent[node]!; up > 0; up = tree.parent[up]!) path.push(tree.globalOf[tree.item[up]!]!);
      if (path.length === 0) continue;
      for (let i = path.length - 1; i >= 0; i--) items.push(path[i]!);
      start.push(items.length);
      weight.push(tree.count[node]!);
    }
    return { items: Int32Array.from(items), start: Int32Array.from(start), weight: Int32Array.from(weight), length: weight.length };
  }
}

function generateRules(
  found: readonly { ids: number[]; support: number }[],
  names: readonly string[],
  n: number,
  parameters: RuleMiningParameters,
): { rules: AssociationRule[]; rulesFound: number } {
  const { minConfidence, minLift, maxRules } = parameters;
  const supportOf = new Map<string, number>();
  for (const { ids, support } of found) supportOf.set(ids.join(','), support);
  const lookup = (ids: number[]): number => supportOf.get(ids.join(','))!;
  const named = (ids: number[]): string[] => ids.map((id) => names[id]!).sort(compareStrings);

  let kept: AssociationRule[] = [];
  let rulesFound = 0;
  // Rules are kept best-first and cut back whenever twice `maxRules` pile up: memory stays O(maxRules).
  const trim = (): void => {
    kept.sort(compareRules);
    if (kept.length > maxRules) kept = kept.slice(0, maxRules);
  };
  for (const { ids, support } of found) {
    const size = ids.length;
    if (size < 2) continue;
    for (let mask = 1; mask < (1 << size) - 1; mask++) {
      const antecedent: number[] = [];
      const consequent: number[] = [];
      for (let i = 0; i < size; i++) (mask & (1 << i) ? antecedent : consequent).push(ids[i]!);
      const antecedentSupport = lookup(antecedent);
      const confidence = support / antecedentSupport;
      if (confidence < minConfidence) continue;
      const consequentSupport = lookup(consequent);
      const lift = (support * n) / (antecedentSupport * consequentSupport);
      if (lift < minLift) continue;
      rulesFound++;
      if (maxRules === 0) continue;
      kept.push({
        antecedent: named(antecedent),
        consequent: named(consequent),
        support,
        antecedentSupport,
        consequentSupport,
        confidence,
        lift,
      });
      if (kept.length >= 2 * maxRules + 1024) trim();
    }
  }
  trim();
  return { rules: kept, rulesFound };
}
