import fc from 'fast-check';
import { hitAtK, ndcgAtK, precisionAtK, RankingEvaluator, RankingSummarySchema, recallAtK } from '@portrait/shared';

/** Ids that trip code keeping items in plain objects, ordering them by locale, or assuming short well-formed strings. */
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '\uD800', 'a\uDFFFb', '', 'a', 'B', 'x'.repeat(10_000)];

const METRICS = { precisionAtK, recallAtK, ndcgAtK, hitAtK };
const all = (recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number[] =>
  Object.values(METRICS).map((metric) => metric(recommended, relevant, k));

const arbId = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 4 }));
/** A list (with repeats), and relevant items drawn mostly from it so that hits are common, plus a few it lacks. */
const arbCase = fc.array(arbId, { maxLength: 15 }).chain((recommended) =>
  fc.record({
    recommended: fc.constant(recommended),
    relevant: fc
      .tuple(fc.subarray(recommended), fc.uniqueArray(arbId, { maxLength: 3 }))
      .map(([some, others]) => new Set([...some, ...others])),
    k: fc.integer({ min: 1, max: 20 }),
  }),
);

/** A list of distinct items, which of them are relevant, and a position i < j in it holding a relevant item. */
const arbMove = fc.uniqueArray(arbId, { minLength: 2, maxLength: 15 }).chain((list) =>
  fc
    .record({
      flags: fc.array(fc.boolean(), { minLength: list.length, maxLength: list.length }),
      i: fc.nat({ max: list.length - 2 }),
      k: fc.integer({ min: 1, max: 20 }),
    })
    .chain(({ flags, i, k }) =>
      fc.record({
        list: fc.constant(list),
        relevant: fc.constant(new Set([list[i]!, ...list.filter((_, n) => flags[n] && n !== i + 1)])),
        i: fc.constant(i),
        j: fc.integer({ min: i + 1, max: list.length - 1 }),
        k: fc.constant(k),
      }),
    ),
);

describe('ranking metrics by hand', () => {
  const relevant = new Set(['a', 'c']);

  it('scores relevant {a, c} against [a, b, c] at k = 3', () => {
    expect(precisionAtK(['a', 'b', 'c'], relevant, 3)).toBeCloseTo(2 / 3, 12);
    expect(recallAtK(['a', 'b', 'c'], relevant, 3)).toBe(1);
    expect(ndcgAtK(['a', 'b', 'c'], relevant, 3)).toBeCloseTo((1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)), 12);
    expect(hitAtK(['a', 'b', 'c'], relevant, 3)).toBe(1);
  });

  it('looks only at the top k: at k = 1, [b, a, c] misses', () => {
    expect(precisionAtK(['b', 'a', 'c'], relevant, 1)).toBe(0);
    expect(recallAtK(['b', 'a', 'c'], relevant, 1)).toBe(0);
    expect(ndcgAtK(['b', 'a', 'c'], relevant, 1)).toBe(0);
    expect(hitAtK(['b', 'a', 'c'], relevant, 1)).toBe(0);
    expect(recallAtK(['b', 'a', 'c'], relevant, 2)).toBe(0.5);
  });

  it('divides precision by k even when the list is shorter', () => {
    expect(precisionAtK(['a'], relevant, 4)).toBe(0.25);
  });

  it('takes the ideal DCG over min(|relevant|, k) hits', () => {
    // Three relevant items, k = 2: one hit at position 1 over the ideal two hits at the top.
    expect(ndcgAtK(['x', 'a'], new Set(['a', 'b', 'c']), 2)).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    expect(ndcgAtK(['a', 'b'], new Set(['a', 'b', 'c']), 2)).toBe(1);
  });

  it('gives 0 for recall and NDCG when nothing is relevant', () => {
    expect(recallAtK(['a'], new Set(), 3)).toBe(0);
    expect(ndcgAtK(['a'], new Set(), 3)).toBe(0);
    expect(precisionAtK(['a'], new Set(), 3)).toBe(0);
    expect(hitAtK(['a'], new Set(), 3)).toBe(0);
  });

  it('counts a duplicate once, at its first position, without taking a slot', () => {
    expect(precisionAtK(['a', 'a', 'c'], relevant, 2)).toBe(1);
    expect(ndcgAtK(['b', 'a', 'a', 'c'], relevant, 3)).toBe(ndcgAtK(['b', 'a', 'c'], relevant, 3));
  });

  it('refuses a k that is not a positive integer', () => {
    for (const k of [0, -1, 1.5, NaN, Infinity]) {
      for (const metric of Object.values(METRICS)) expect(() => metric(['a'], relevant, k)).toThrow(/k must be a positive integer/);
      expect(() => new RankingEvaluator(k, 10)).toThrow(RangeError);
    }
  });
});

describe('ranking metrics, properties', () => {
  it('stay in [0, 1]', () => {
    fc.assert(
      fc.property(arbCase, ({ recommended, relevant, k }) => {
        for (const value of all(recommended, relevant, k)) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('give NDCG 1 to a perfect ranking', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbId, { minLength: 1, maxLength: 10 }),
        fc.array(arbId, { maxLength: 5 }),
        fc.integer({ min: 1, max: 12 }),
        (relevantIds, rest, k) => {
          const relevant = new Set(relevantIds);
          expect(ndcgAtK([...relevantIds, ...rest], relevant, k)).toBe(1);
          expect(hitAtK([...relevantIds, ...rest], relevant, k)).toBe(1);
        },
      ),
    );
  });

  it('never raise NDCG when a relevant item swaps with the irrelevant one below it', () => {
    fc.assert(
      fc.property(arbMove, ({ list, relevant, i, k }) => {
        const swapped = [...list];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
        expect(ndcgAtK(swapped, relevant, k)).toBeLessThanOrEqual(ndcgAtK(list, relevant, k));
        // Strictly lower when both positions are in the top k.
        if (i + 1 < k) expect(ndcgAtK(swapped, relevant, k)).toBeLessThan(ndcgAtK(list, relevant, k));
      }),
    );
  });

  it('never raise NDCG when a relevant item is moved anywhere further down', () => {
    fc.assert(
      fc.property(arbMove, ({ list, relevant, i, j, k }) => {
        const moved = [...list];
        const [item] = moved.splice(i, 1);
        moved.splice(j, 0, item!);
        expect(ndcgAtK(moved, relevant, k)).toBeLessThanOrEqual(ndcgAtK(list, relevant, k));
      }),
    );
  });

  it('ignore duplicates: a list with repeats scores as its distinct items in order', () => {
    fc.assert(
      fc.property(arbCase, ({ recommended, relevant, k }) => {
        expect(all(recommended, relevant, k)).toEqual(all([...new Set(recommended)], relevant, k));
      }),
    );
  });

  it('treat hostile ids as plain strings', () => {
    const relevant = new Set(['__proto__', '\uD800']);
    const recommended = ['constructor', '__proto__', 'x'.repeat(10_000), '\uD800', 'toString'];
    expect(precisionAtK(recommended, relevant, 4)).toBe(0.5);
    expect(recallAtK(recommended, relevant, 4)).toBe(1);
    expect(hitAtK(['constructor', 'toString'], relevant, 2)).toBe(0);
    expect(ndcgAtK(['__proto__', '\uD800'], relevant, 2)).toBe(1);
  });
});

describe('RankingEvaluator', () => {
  it('averages over users, skips those with nothing relevant, and measures coverage over the catalogue', () => {
    const evaluator = new RankingEvaluator(2, 10);
    evaluator.add(['a', 'b', 'c'], new Set(['a']));
    evaluator.add(['c', 'd'], new Set(['x']));
    evaluator.add(['e', 'f'], new Set());
    const summary = evaluator.summary();
    expect(evaluator.skipped).toBe(1);
    expect(summary).toEqual({
      users: 2,
      k: 2,
      precision: (0.5 + 0) / 2,
      recall: (1 + 0) / 2,
      ndcg: (1 + 0) / 2,
      hitRate: 0.5,
      coverage: 4 / 10, // a, b, c, d; c is recommended twice and e, f belong to the skipped user
    });
    expect(RankingSummarySchema.parse(summary)).toEqual(summary);
  });

  it('agrees with the single-user metrics', () => {
    fc.assert(
      fc.property(
        fc.array(arbCase.map(({ recommended, relevant }) => ({ recommended, relevant }))),
        fc.integer({ min: 1, max: 10 }),
        (cases, k) => {
          const evaluator = new RankingEvaluator(k, 1000);
          for (const { recommended, relevant } of cases) evaluator.add(recommended, relevant);
          const kept = cases.filter(({ relevant }) => relevant.size > 0);
          const mean = (f: typeof precisionAtK): number =>
            kept.length === 0 ? 0 : kept.reduce((sum, { recommended, relevant }) => sum + f(recommended, relevant, k), 0) / kept.length;
          const summary = evaluator.summary();
          expect(summary.users).toBe(kept.length);
          expect(evaluator.skipped).toBe(cases.length - kept.length);
          expect(summary.precision).toBeCloseTo(mean(precisionAtK), 12);
          expect(summary.recall).toBeCloseTo(mean(recallAtK), 12);
          expect(summary.ndcg).toBeCloseTo(mean(ndcgAtK), 12);
          expect(summary.hitRate).toBeCloseTo(mean(hitAtK), 12);
          RankingSummarySchema.parse(summary);
        },
      ),
    );
  });

  it('summarizes no users as zeros and caps coverage at 1', () => {
    expect(new RankingEvaluator(5, 3).summary()).toEqual({ users: 0, k: 5, precision: 0, recall: 0, ndcg: 0, hitRate: 0, coverage: 0 });
    const evaluator = new RankingEvaluator(5, 2);
    evaluator.add(['a', 'b', 'c', '__proto__'], new Set(['a']));
    expect(evaluator.summary().coverage).toBe(1);
  });

  it('refuses a catalogue size that is not a positive integer', () => {
    for (const size of [0, -3, 2.5, NaN]) expect(() => new RankingEvaluator(3, size)).toThrow(/catalogueSize/);
  });
});
