import fc from 'fast-check';
import {
  BASE_STRATEGIES,
  blend,
  capPerGroup,
  categorySimilarity,
  diversify,
  HYBRID_WEIGHTS,
  hybridWeights,
  type BaseStrategy,
  type Candidate,
  type Reason,
} from '@portrait/shared';

/** Ids that trip code keeping items in plain objects, ordering them by locale, or assuming short well-formed strings. */
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '\uD800', 'a\uDFFFb', '', 'a', 'B', 'x'.repeat(10_000)];
const arbId = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 3 }));

const REASONS: Record<BaseStrategy, Reason> = {
  item_cf: { code: 'viewed', text: 'Because you viewed it', itemId: 'seen' },
  als: { code: 'taste', text: 'Matches your taste' },
  content: { code: 'viewed', text: 'Like what you viewed' },
  user_cf: { code: 'similar_shoppers', text: 'Shoppers like you bought it' },
  popular: { code: 'popular', text: 'Popular right now' },
};

/** A strategy's list from ids, best first, with scores on that strategy's own scale. */
function list(strategy: BaseStrategy, ids: readonly string[], scale = 1): Candidate[] {
  return ids.map((itemId, i) => ({ itemId, score: scale * (ids.length - i), reason: REASONS[strategy] }));
}

const ids = (items: readonly { itemId: string }[]): string[] => items.map((i) => i.itemId);

describe('HYBRID_WEIGHTS', () => {
  it('weighs every base strategy, heaviest first, summing to 1', () => {
    expect(Object.keys(HYBRID_WEIGHTS).sort()).toEqual([...BASE_STRATEGIES].sort());
    const weights = BASE_STRATEGIES.map((s) => HYBRID_WEIGHTS[s]);
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('blend', () => {
  it('returns nothing for no lists or only empty ones', () => {
    expect(blend({})).toEqual([]);
    expect(blend({ item_cf: [], popular: [] })).toEqual([]);
  });

  it('returns a single strategy’s list in its own order, whatever its score scale', () => {
    const only = list('als', ['d', 'a', 'c', 'b'], 1e9);
    const blended = blend({ als: only });
    expect(ids(blended)).toEqual(['d', 'a', 'c', 'b']);
    expect(blended.every((b) => b.strategies.length === 1 && b.strategies[0] === 'als' && b.reason === REASONS.als)).toBe(true);
  });

  it('puts an item two strategies propose above one only one of them proposes at the same rank', () => {
    const alone = blend({ item_cf: list('item_cf', ['solo']) })[0]!;
    const both = blend({ item_cf: list('item_cf', ['both']), als: list('als', ['both']) })[0]!;
    expect(both.score).toBeGreaterThan(alone.score);
    // In one blend: the second strategy's agreement lifts an item above the one ranked just before it.
    expect(ids(blend({ item_cf: list('item_cf', ['first', 'agreed']), als: list('als', ['agreed']) }))).toEqual(['agreed', 'first']);
  });

  it('mixes positions, not scores: a strategy with huge scores does not drown the others', () => {
    const blended = blend({ item_cf: list('item_cf', ['i1', 'i2']), popular: list('popular', ['p1', 'p2'], 1e12) });
    expect(ids(blended)).toEqual(['i1', 'i2', 'p1', 'p2']);
  });

  it('moves a strategy’s items up when its weight rises', () => {
    const lists = { item_cf: list('item_cf', ['i1', 'i2', 'i3']), popular: list('popular', ['p1', 'p2', 'p3']) };
    expect(ids(blend(lists)).indexOf('p1')).toBeGreaterThan(0);
    expect(ids(blend(lists, { popular: 0.9 }))[0]).toBe('p1');
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), (w, more) => {
        const low = ids(blend(lists, { popular: w }));
        const high = ids(blend(lists, { popular: w + more }));
        for (const p of ['p1', 'p2', 'p3']) expect(high.indexOf(p)).toBeLessThanOrEqual(low.indexOf(p));
      }),
    );
  });

  it('leaves out a strategy weighted 0, and refuses a negative or non-finite weight', () => {
    expect(ids(blend({ item_cf: list('item_cf', ['a']), als: list('als', ['b']) }, { als: 0 }))).toEqual(['a']);
    for (const bad of [-0.1, NaN, Infinity]) expect(() => blend({ als: list('als', ['a']) }, { als: bad })).toThrow(/weight of als/);
  });

  it('lists the strategies strongest contribution first, and takes the reason from the strongest', () => {
    const [top] = blend({
      popular: list('popular', ['x']),
      item_cf: list('item_cf', ['y', 'x']),
      als: list('als', ['x']),
    });
    // als 0.25 / 1, item_cf 0.3 / 2, popular 0.1 / 1.
    expect(top).toMatchObject({ itemId: 'x', strategies: ['als', 'item_cf', 'popular'], reason: REASONS.als });
    expect(top!.score).toBeCloseTo(0.25 + 0.15 + 0.1, 12);
  });

  it('breaks equal scores by item id in code units, and counts a repeated item at its first position', () => {
    const blended = blend({ item_cf: list('item_cf', ['b', 'x']), als: list('als', ['a', 'x']) }, { item_cf: 1, als: 1 });
    expect(ids(blended)).toEqual(['a', 'b', 'x']); // all three score exactly 1
    expect(ids(blend({ content: list('content', ['a', 'b', 'a', 'c']) }))).toEqual(['a', 'b', 'c']);
    // UTF-16 code units: 'B' (0x42) before 'a' (0x61), and a lone high surrogate after both.
    expect(
      ids(
        blend(
          { item_cf: list('item_cf', ['\uD800']), als: list('als', ['a']), content: list('content', ['B']) },
          { item_cf: 1, als: 1, content: 1 },
        ),
      ),
    ).toEqual(['B', 'a', '\uD800']);
  });

  const arbLists = fc.record(
    Object.fromEntries(BASE_STRATEGIES.map((s) => [s, fc.array(arbId, { maxLength: 8 }).map((items) => list(s, items))])) as Record<
      BaseStrategy,
      fc.Arbitrary<Candidate[]>
    >,
    { requiredKeys: [] },
  );

  it('returns unique ids, each from some input list, sorted and deterministic whatever the key order', () => {
    fc.assert(
      fc.property(arbLists, (lists) => {
        const blended = blend(lists);
        const proposed = new Set(Object.values(lists).flatMap((l) => ids(l)));
        expect(new Set(ids(blended)).size).toBe(blended.length);
        expect(new Set(ids(blended))).toEqual(proposed);
        for (let i = 1; i < blended.length; i++) {
          const [a, b] = [blended[i - 1]!, blended[i]!];
          expect(a.score > b.score || (a.score === b.score && a.itemId < b.itemId)).toBe(true);
        }
        for (const b of blended) {
          for (const s of b.strategies) expect(ids(lists[s]!)).toContain(b.itemId);
          expect(new Set(b.strategies).size).toBe(b.strategies.length);
        }
        const reversed = Object.fromEntries(Object.entries(lists).reverse());
        expect(blend(reversed)).toEqual(blended);
      }),
    );
  });
});

describe('diversify', () => {
  /** Ten candidates, scores descending: the even ones near-duplicates of each other ("g:dup"), the odd ones distinct. */
  const ranked = Array.from({ length: 10 }, (_, i) => ({ itemId: i % 2 === 0 ? `dup-${i}` : `own-${i}`, score: 10 - i }));
  const group = (id: string): string => (id.startsWith('dup-') ? 'dup' : id);
  const similarity = (a: string, b: string): number => (group(a) === group(b) ? 0.95 : 0);

  it('returns exactly the first k, in order, at diversity 0', () => {
    const shuffled = [ranked[3]!, ranked[0]!, ranked[7]!, ranked[1]!];
    expect(diversify(shuffled, { diversity: 0, k: 3, similarity })).toEqual(shuffled.slice(0, 3));
    expect(diversify(ranked, { diversity: 0, k: 20, similarity })).toEqual(ranked);
  });

  it('picks across groups at diversity 1 when half the candidates are near-duplicates', () => {
    const picked = ids(diversify(ranked, { diversity: 1, k: 5, similarity }));
    expect(picked.filter((id) => id.startsWith('dup-'))).toHaveLength(1);
    expect(picked[0]).toBe('dup-0');
    // Without diversity the same five hold three near-duplicates.
    expect(ids(ranked.slice(0, 5)).filter((id) => id.startsWith('dup-'))).toHaveLength(3);
  });

  it('trades relevance for diversity in between', () => {
    const mild = ids(diversify(ranked, { diversity: 0.3, k: 4, similarity }));
    expect(mild).toEqual(['dup-0', 'own-1', 'own-3', 'own-5']);
  });

  it('returns min(k, n) of the candidates, each at most once, inventing none', () => {
    const arbRanked = fc.uniqueArray(fc.record({ itemId: arbId, score: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }), {
      selector: (c) => c.itemId,
      maxLength: 12,
    });
    fc.assert(
      fc.property(arbRanked, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 15 }), (candidates, diversity, k) => {
        const sim = (a: string, b: string): number => categorySimilarity([...a.slice(0, 2)], [...b.slice(0, 2)]);
        const out = diversify(candidates, { diversity, k, similarity: sim });
        expect(out).toHaveLength(Math.min(k, candidates.length));
        expect(new Set(out).size).toBe(out.length);
        for (const item of out) expect(candidates).toContain(item);
      }),
    );
  });

  it('picks the most relevant first and treats equal scores as equally relevant', () => {
    const equal = [
      { itemId: 'a', score: 1 },
      { itemId: 'b', score: 1 },
      { itemId: 'c', score: 1 },
    ];
    const sim = (x: string, y: string): number => (x !== 'c' && y !== 'c' ? 1 : 0);
    expect(ids(diversify(equal, { diversity: 0.5, k: 2, similarity: sim }))).toEqual(['a', 'c']);
  });

  it('refuses a diversity outside [0, 1], a bad k, a non-finite score or a NaN similarity', () => {
    expect(() => diversify(ranked, { diversity: 1.5, k: 2, similarity })).toThrow(/diversity/);
    expect(() => diversify(ranked, { diversity: NaN, k: 2, similarity })).toThrow(/diversity/);
    expect(() => diversify(ranked, { diversity: 0.5, k: -1, similarity })).toThrow(/k must be/);
    expect(() => diversify([{ itemId: 'a', score: NaN }], { diversity: 0.5, k: 1, similarity })).toThrow(/score/);
    expect(() => diversify(ranked, { diversity: 0.5, k: 3, similarity: () => NaN })).toThrow(/NaN/);
  });
});

describe('categorySimilarity', () => {
  it('is the shared prefix over the deeper path', () => {
    expect(categorySimilarity(['Food', 'Dairy'], ['Food', 'Bakery'])).toBe(0.5);
    expect(categorySimilarity(['Food', 'Dairy'], ['Food', 'Dairy'])).toBe(1);
    expect(categorySimilarity(['Food'], ['Food', 'Dairy', 'Cheese'])).toBeCloseTo(1 / 3, 12);
    expect(categorySimilarity(['Food', 'Dairy'], ['Toys', 'Dairy'])).toBe(0);
    expect(categorySimilarity(undefined, ['Food'])).toBe(0);
    expect(categorySimilarity(['Food'], undefined)).toBe(0);
    expect(categorySimilarity([], [])).toBe(0);
    expect(categorySimilarity(['__proto__', '\uD800'], ['__proto__', '\uD800'])).toBe(1);
  });

  it('is symmetric and in [0, 1]', () => {
    const arbPath = fc.option(fc.array(fc.constantFrom('Food', 'Dairy', '__proto__', '\uD800'), { maxLength: 4 }), { nil: undefined });
    fc.assert(
      fc.property(arbPath, arbPath, (a, b) => {
        const s = categorySimilarity(a, b);
        expect(s).toBe(categorySimilarity(b, a));
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('capPerGroup', () => {
  const items = [
    { id: 1, brand: 'A' },
    { id: 2, brand: 'A' },
    { id: 3, brand: undefined },
    { id: 4, brand: 'A' },
    { id: 5, brand: 'B' },
    { id: 6, brand: undefined },
    { id: 7, brand: 'B' },
  ];
  const brand = (i: { brand: string | undefined }): string | undefined => i.brand;

  it('keeps the order and at most maxPerGroup of each group in the first k; items without a group are not capped', () => {
    expect(capPerGroup(items, 5, 1, brand).map((i) => i.id)).toEqual([1, 3, 5, 6]);
    expect(capPerGroup(items, 4, 2, brand).map((i) => i.id)).toEqual([1, 2, 3, 5]);
    expect(capPerGroup(items, 0, 2, brand)).toEqual([]);
  });

  it('never breaks the cap or the order, and returns at most k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.constantFrom(...HOSTILE), { nil: undefined })),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 4 }),
        (groups, k, cap) => {
          const ranked = groups.map((g, i) => ({ i, g }));
          const out = capPerGroup(ranked, k, cap, (t) => t.g);
          expect(out.length).toBeLessThanOrEqual(k);
          for (let j = 1; j < out.length; j++) expect(out[j]!.i).toBeGreaterThan(out[j - 1]!.i);
          const counts = new Map<string, number>();
          for (const { g } of out) if (g !== undefined) counts.set(g, (counts.get(g) ?? 0) + 1);
          for (const c of counts.values()) expect(c).toBeLessThanOrEqual(cap);
        },
      ),
    );
  });

  it('refuses a bad k or cap', () => {
    expect(() => capPerGroup(items, -1, 1, brand)).toThrow(/k must be/);
    expect(() => capPerGroup(items, 3, 0, brand)).toThrow(/maxPerGroup/);
  });
});

describe('hybridWeights', () => {
  const sum = (w: Record<string, number>) => Object.values(w).reduce((a, b) => a + b, 0);
  const lost = { ndcg: 0.22, popularNdcg: 0.52, windowDays: 365 };

  it('keeps the documented weights when the factors beat popularity on their hold-out, or when nothing says otherwise', () => {
    for (const quality of [
      { ndcg: 0.2, popularNdcg: 0.17, windowDays: 365 },
      undefined,
      { ndcg: null, popularNdcg: null, windowDays: 365 },
      { ndcg: '0.1', popularNdcg: 0.5, windowDays: 365 },
      { ndcg: 0.1, popularNdcg: 0.5 },
    ])
      expect(hybridWeights(quality, 365)).toEqual(HYBRID_WEIGHTS);
  });

  it('gives the factor strategies’ share to popularity when the factors do not beat it', () => {
    for (const quality of [lost, { ...lost, ndcg: 0.52 }]) {
      const weights = hybridWeights(quality, 365);
      expect(weights).toMatchObject({ item_cf: HYBRID_WEIGHTS.item_cf, content: HYBRID_WEIGHTS.content, als: 0, user_cf: 0 });
      expect(weights.popular).toBeCloseTo(HYBRID_WEIGHTS.popular + HYBRID_WEIGHTS.als + HYBRID_WEIGHTS.user_cf, 12);
      expect(sum(weights)).toBeCloseTo(1, 12);
    }
  });

  it('trusts the hold-out only when repeats are not served over the data it read', () => {
    expect(hybridWeights(lost, 1)).toEqual(HYBRID_WEIGHTS);
    expect(hybridWeights(lost, 364)).toEqual(HYBRID_WEIGHTS);
    expect(hybridWeights(lost, 3650).als).toBe(0);
  });
});
