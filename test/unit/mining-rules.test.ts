import fc from 'fast-check';
import {
  categoryBaskets,
  compareRules,
  mineRules,
  minSupportCount,
  rulesFor,
  RulesModelSchema,
  ValidationError,
  type AssociationRule,
  type FrequentItemset,
  type RuleMiningOptions,
} from '@portrait/shared';
import { margarineBaskets, scotchBaskets, syntheticBaskets } from '../../bench/basket-data';

/** Names that trip code keeping items in plain objects, or ordering them by locale. */
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '\uD800', 'a\uDFFFb', '', 'a', 'B'];

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every itemset and rule by enumerating subsets and scanning every basket: slow, obviously right. */
function bruteForce(
  baskets: readonly (readonly string[])[],
  opts: { minSupport: number; minConfidence: number; minLift: number; maxItemsetSize: number },
): { itemsets: FrequentItemset[]; rules: AssociationRule[] } {
  const n = baskets.length;
  const sets = baskets.map((b) => new Set(b));
  const universe = [...new Set(baskets.flat())].sort(byCodeUnits);
  const supportOf = (items: readonly string[]): number => sets.filter((s) => items.every((i) => s.has(i))).length;
  const frequent = (count: number): boolean =>
    count > 0 && (opts.minSupport >= 1 ? count >= opts.minSupport : count / n >= opts.minSupport);
  const itemsets: FrequentItemset[] = [];
  for (let mask = 1; mask < 1 << universe.length; mask++) {
    const items = universe.filter((_, i) => mask & (1 << i));
    if (items.length > opts.maxItemsetSize) continue;
    const support = supportOf(items);
    if (frequent(support)) itemsets.push({ items, support });
  }
  const rules: AssociationRule[] = [];
  for (const { items, support } of itemsets) {
    for (let mask = 1; mask < (1 << items.length) - 1; mask++) {
      const antecedent = items.filter((_, i) => mask & (1 << i));
      const consequent = items.filter((_, i) => !(mask & (1 << i)));
      const antecedentSupport = supportOf(antecedent);
      const consequentSupport = supportOf(consequent);
      const confidence = support / antecedentSupport;
      const lift = (support * n) / (antecedentSupport * consequentSupport);
      if (confidence >= opts.minConfidence && lift >= opts.minLift) {
        rules.push({ antecedent, consequent, support, antecedentSupport, consequentSupport, confidence, lift });
      }
    }
  }
  return { itemsets, rules };
}

const key = (items: readonly string[]): string => JSON.stringify(items);

describe('mineRules against brute force', () => {
  const arbBaskets = fc.array(fc.array(fc.constantFrom(...HOSTILE), { maxLength: 6 }), { maxLength: 30 });
  const arbOptions = fc.record({
    minSupport: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.double({ min: 0.01, max: 0.99, noNaN: true })),
    minConfidence: fc.double({ min: 0, max: 1, noNaN: true }),
    minLift: fc.double({ min: 0, max: 3, noNaN: true }),
    maxItemsetSize: fc.integer({ min: 1, max: 5 }),
  });

  it('finds every frequent itemset and rule, none more, with exact support, confidence and lift', () => {
    fc.assert(
      fc.property(arbBaskets, arbOptions, (baskets, opts) => {
        const model = mineRules(baskets, { ...opts, maxRules: 1_000_000 });
        const truth = bruteForce(baskets, opts);
        const found = new Map(model.itemsets.map((s) => [key(s.items), s.support]));
        expect(found.size).toBe(model.itemsets.length);
        expect(new Map(truth.itemsets.map((s) => [key(s.items), s.support]))).toEqual(found);
        expect(model.rules).toEqual([...truth.rules].sort(compareRules));
        expect(model.rulesFound).toBe(truth.rules.length);
        expect(model.baskets).toBe(baskets.length);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the best maxRules rules in rule order, and counts all it found', () => {
    fc.assert(
      fc.property(arbBaskets, fc.integer({ min: 0, max: 5 }), (baskets, maxRules) => {
        const opts = { minSupport: 1, minConfidence: 0, minLift: 0, maxItemsetSize: 3 };
        const model = mineRules(baskets, { ...opts, maxRules });
        const truth = bruteForce(baskets, opts).rules.sort(compareRules);
        expect(model.rules).toEqual(truth.slice(0, maxRules));
        expect(model.rulesFound).toBe(truth.length);
      }),
    );
  });

  it('gives the same model whatever the order of baskets and of items in them', () => {
    fc.assert(
      fc.property(arbBaskets, fc.integer(), (baskets, seed) => {
        const shuffled = shuffle(
          baskets.map((b, i) => shuffle(b, seed + i)),
          seed,
        );
        const opts: RuleMiningOptions = { minSupport: 2, minConfidence: 0, minLift: 0 };
        expect(mineRules(shuffled, opts)).toEqual(mineRules(baskets, opts));
      }),
    );
  });

  it('orders itemsets by support, then size, then items; rules by lift, confidence, support, then names', () => {
    const model = mineRules(syntheticBaskets(7, 3000, 60, 5).baskets, { minSupport: 10, minConfidence: 0, minLift: 0 });
    expect(model.rules.length).toBeGreaterThan(100);
    for (let i = 1; i < model.rules.length; i++) expect(compareRules(model.rules[i - 1]!, model.rules[i]!)).toBeLessThan(0);
    for (let i = 1; i < model.itemsets.length; i++) {
      const [a, b] = [model.itemsets[i - 1]!, model.itemsets[i]!];
      expect(a.support > b.support || (a.support === b.support && a.items.length <= b.items.length)).toBe(true);
    }
  });
});

/** A deterministic Fisher-Yates shuffle (a tiny LCG), so a failing case replays. */
function shuffle<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('mineRules at the edges', () => {
  it('mines nothing from no baskets', () => {
    const model = mineRules([]);
    expect(model).toMatchObject({ baskets: 0, distinctItems: 0, minSupportCount: 1, itemsets: [], rules: [], rulesFound: 0 });
  });

  it('counts empty baskets in the support fractions and mines nothing from them', () => {
    const model = mineRules([[], [], ['a'], ['a']], { minSupport: 0.5 });
    expect(model.minSupportCount).toBe(2);
    expect(model.itemsets).toEqual([{ items: ['a'], support: 2 }]);
    expect(mineRules([[], []]).itemsets).toEqual([]);
  });

  it('finds single items but no rule in single-item baskets', () => {
    const model = mineRules([['a'], ['b'], ['a'], ['c']], { minSupport: 1, minLift: 0, minConfidence: 0 });
    expect(model.itemsets).toEqual([
      { items: ['a'], support: 2 },
      { items: ['b'], support: 1 },
      { items: ['c'], support: 1 },
    ]);
    expect(model.rules).toEqual([]);
  });

  it('counts an item repeated in a basket once', () => {
    const model = mineRules(
      [
        ['a', 'a', 'b', 'a'],
        ['b', 'b'],
      ],
      { minSupport: 1, minLift: 0, minConfidence: 0 },
    );
    expect(model.itemsets).toEqual([
      { items: ['b'], support: 2 },
      { items: ['a'], support: 1 },
      { items: ['a', 'b'], support: 1 },
    ]);
    expect(rulesFor(model, 'a')).toEqual([
      { antecedent: ['a'], consequent: ['b'], support: 1, antecedentSupport: 1, consequentSupport: 2, confidence: 1, lift: 1 },
    ]);
  });

  it('reads a fraction of baskets as the smallest count that reaches it, without rounding slips', () => {
    expect(minSupportCount(0.3, 10)).toBe(3); // 0.3 * 10 is 3.0000000000000004
    expect(minSupportCount(0.1, 3)).toBe(1);
    expect(minSupportCount(0.5, 0)).toBe(1);
    expect(minSupportCount(7, 3)).toBe(7);
    fc.assert(
      fc.property(fc.double({ min: 0.0001, max: 0.9999, noNaN: true }), fc.integer({ min: 1, max: 100_000 }), (f, n) => {
        const c = minSupportCount(f, n);
        expect(c / n >= f).toBe(true);
        expect(c === 1 || (c - 1) / n < f).toBe(true);
      }),
    );
  });

  it('refuses options that make no sense, naming them', () => {
    for (const bad of [
      { minSupport: 1.5 },
      { minSupport: 0 },
      { minConfidence: 2 },
      { maxItemsetSize: 0 },
      { maxRules: -1 },
      { minSuport: 3 },
    ]) {
      expect(() => mineRules([['a']], bad as RuleMiningOptions)).toThrow(ValidationError);
    }
    try {
      mineRules([['a']], { minSupport: 2.5 });
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: 'minSupport' })]);
    }
  });

  it('refuses an item that is not a string, with its place', () => {
    expect(() => mineRules([['a'], ['b', 3 as unknown as string]])).toThrow(
      expect.objectContaining({ issues: [{ path: '1.1', reason: 'an item must be a string' }] }),
    );
  });

  it('stops with a clear error instead of mining more itemsets than allowed', () => {
    const everything = [Array.from({ length: 16 }, (_, i) => `i${i}`)];
    expect(() => mineRules(everything, { minSupport: 1, maxItemsetSize: 10, maxItemsets: 1000 })).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ path: 'minSupport', reason: expect.stringContaining('more than 1000') })],
      }),
    );
  });
});

describe('the model', () => {
  const baskets = [
    ['__proto__', 'constructor', '\uD800'],
    ['__proto__', 'constructor'],
    ['__proto__', '\uD800', 'toString'],
    ['constructor', 'toString'],
    ['toString', 'hasOwnProperty'],
  ];
  const model = mineRules(baskets, { minSupport: 1, minConfidence: 0, minLift: 0 });

  it('survives JSON and its schema unchanged, hostile item names included', () => {
    const stored = JSON.parse(JSON.stringify(model)) as unknown;
    expect(RulesModelSchema.parse(stored)).toEqual(model);
    expect(model.itemsets.some((s) => s.items.includes('\uD800'))).toBe(true);
  });

  it('answers "bought A, also buys B" for a single item, only from rules about that item', () => {
    const rules = rulesFor(model, '__proto__', { limit: 100 });
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.antecedent).toEqual(['__proto__']);
      expect(rule.consequent).not.toContain('__proto__');
    }
    expect(rules.map((r) => r.consequent)).toContainEqual(['constructor']);
    expect(rulesFor(model, 'valueOf')).toEqual([]);
    expect(rulesFor(model, 'hasOwnProperty', { limit: 100 }).map((r) => r.consequent)).toEqual([['toString']]);
  });

  it('answers for a basket: rules whose antecedent it holds and whose consequent it lacks, best first', () => {
    const rules = rulesFor(model, ['__proto__', 'constructor'], { limit: 100 });
    expect(rules.map((r) => [r.antecedent, r.consequent])).toContainEqual([['__proto__', 'constructor'], ['\uD800']]);
    for (const rule of rules) {
      expect(rule.antecedent.every((i) => ['__proto__', 'constructor'].includes(i))).toBe(true);
      expect(rule.consequent.some((i) => ['__proto__', 'constructor'].includes(i))).toBe(false);
    }
    expect([...rules].sort(compareRules)).toEqual(rules);
  });

  it('filters by lift and confidence and stops at the limit', () => {
    const all = rulesFor(model, ['__proto__', 'constructor', 'toString'], { limit: 1000 });
    expect(all.length).toBeGreaterThan(3);
    expect(rulesFor(model, ['__proto__', 'constructor', 'toString'], { limit: 2 })).toEqual(all.slice(0, 2));
    const strong = rulesFor(model, ['__proto__', 'constructor', 'toString'], { minLift: 1.5, minConfidence: 0.6, limit: 1000 });
    expect(strong).toEqual(all.filter((r) => r.lift >= 1.5 && r.confidence >= 0.6));
  });
});

describe('rules at category level', () => {
  it('mines the categories of the items, each counted once per basket', () => {
    const category = new Map([
      ['apple', 'fruit'],
      ['pear', 'fruit'],
      ['__proto__', 'dairy'],
      ['milk', 'dairy'],
    ]);
    const baskets = categoryBaskets([['apple', 'pear', 'milk'], ['pear', '__proto__'], ['unknown'], ['apple']], (item) =>
      category.get(item),
    );
    expect(baskets).toEqual([['fruit', 'dairy'], ['fruit', 'dairy'], [], ['fruit']]);
    const model = mineRules(baskets, { minSupport: 2, minConfidence: 0, minLift: 0 });
    expect(model.baskets).toBe(4);
    expect(rulesFor(model, 'dairy')).toEqual([expect.objectContaining({ consequent: ['fruit'], support: 2, confidence: 1 })]);
  });
});

describe('rules on real and synthetic baskets', () => {
  it('Scotch drinkers: the two leading single malts go together (Glenlivet -> Glenfiddich, lift > 2.5)', () => {
    const baskets = scotchBaskets();
    expect(baskets).toHaveLength(2218);
    const model = mineRules(baskets, { minSupport: 0.01, minConfidence: 0.1, minLift: 1, maxItemsetSize: 3 });
    expect(model.itemsets[0]).toEqual({ items: ['Chivas.Regal'], support: 806 });
    const rule = rulesFor(model, 'Glenlivet', { limit: 100 }).find((r) => key(r.consequent) === key(['Glenfiddich']));
    expect(rule).toMatchObject({ support: 158 });
    expect(rule!.lift).toBeGreaterThan(2.5);
    expect(rule!.confidence).toBeGreaterThan(0.4);
    expect(model.rules[0]!.lift).toBeGreaterThan(3);
  });

  it('margarine households: a brand bought as stick is bought as tub (Fl_Stk -> Fl_Tub, lift > 2)', () => {
    const baskets = margarineBaskets();
    expect(baskets).toHaveLength(516);
    const model = mineRules(baskets, { minSupport: 0.01, minConfidence: 0.1, minLift: 1, maxItemsetSize: 3 });
    expect(model.itemsets[0]).toEqual({ items: ['Pk_Stk'], support: 402 });
    const rule = rulesFor(model, 'Fl_Stk', { limit: 100 }).find((r) => key(r.consequent) === key(['Fl_Tub']));
    expect(rule).toMatchObject({ support: 21 });
    expect(rule!.lift).toBeGreaterThan(2);
    const house = rulesFor(model, 'Hse_Tub', { limit: 100 }).find((r) => key(r.consequent) === key(['Hse_Stk']));
    expect(house!.lift).toBeGreaterThan(1.5);
  });

  it('synthetic shop: every pair of every planted bundle comes out with a strong lift, at item level', () => {
    const shop = syntheticBaskets(11, 20_000, 2000, 20);
    const model = mineRules(shop.baskets, { minSupport: 0.002, minConfidence: 0.1, maxItemsetSize: 3 });
    for (const bundle of shop.bundles) {
      for (const a of bundle) {
        for (const b of bundle) {
          if (a === b) continue;
          const rule = rulesFor(model, a, { limit: 1000 }).find((r) => key(r.consequent) === key([b]));
          expect(rule?.lift).toBeGreaterThan(10);
        }
      }
    }
  });

  it('synthetic shop at category level: the same baskets, fewer and broader items', () => {
    const shop = syntheticBaskets(11, 5000, 2000, 20);
    const model = mineRules(categoryBaskets(shop.baskets, shop.categoryOf), {
      minSupport: 0.01,
      minConfidence: 0,
      minLift: 0,
      maxItemsetSize: 2,
    });
    expect(model.baskets).toBe(5000);
    expect(model.distinctItems).toBeLessThanOrEqual(100);
    expect(model.itemsets.every((s) => s.items.every((c) => /^c\d\d$/.test(c)))).toBe(true);
    expect(model.rules.length).toBeGreaterThan(0);
  });
});
