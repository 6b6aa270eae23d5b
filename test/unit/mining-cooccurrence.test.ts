import fc from 'fast-check';
import { CooccurrenceCounter, ValidationError, type CooccurrenceOptions, type Neighbour } from '@portrait/shared';
import { scotchBaskets } from '../../bench/basket-data';

/** Names that trip code keeping items in plain objects, or ordering them by locale. */
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '\uD800', 'a\uDFFFb', '', 'a', 'B', 'x'.repeat(10_000)];

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function count(baskets: readonly (readonly string[])[], options: CooccurrenceOptions = {}): Map<string, Neighbour[]> {
  const counter = new CooccurrenceCounter(options);
  for (const basket of baskets) counter.addBasket(basket);
  expect(counter.baskets).toBe(baskets.length);
  return counter.finish();
}

/** Every pair counted by scanning every basket (each truncated as the counter does): slow, obviously right. */
function bruteForce(baskets: readonly (readonly string[])[], options: Required<CooccurrenceOptions>): Map<string, Neighbour[]> {
  const kept = baskets.map((b) => [...new Set(b)].slice(0, options.maxBasketItems));
  const n = new Map<string, number>();
  for (const basket of kept) for (const item of basket) n.set(item, (n.get(item) ?? 0) + 1);
  const out = new Map<string, Neighbour[]>();
  for (const x of [...n.keys()].sort(byCodeUnits)) {
    const list: Neighbour[] = [];
    for (const y of n.keys()) {
      if (y === x) continue;
      const c = kept.filter((b) => b.includes(x) && b.includes(y)).length;
      if (c < options.minCount) continue;
      const product = n.get(x)! * n.get(y)!;
      list.push({
        itemId: y,
        count: c,
        score: (c / Math.sqrt(product)) * (c / (c + options.shrinkage)),
        lift: (c * baskets.length) / product,
      });
    }
    list.sort((a, b) => b.score - a.score || byCodeUnits(a.itemId, b.itemId));
    if (list.length > 0) out.set(x, list.slice(0, options.neighbours));
  }
  return out;
}

describe('CooccurrenceCounter', () => {
  // n: a 4, b 4, c 2, d 1 of N = 6 baskets; pairs: ab 3, bc 2, ac 1, ad 1, bd 1.
  const small = [['a', 'b', 'c'], ['a', 'b'], ['a', 'b', 'd'], ['b', 'c'], ['a'], []];

  it('scores a small example as computed by hand', () => {
    const ab = { count: 3, score: (3 / 4) * (3 / 4), lift: (3 * 6) / 16 };
    const bc = { count: 2, score: (2 / Math.sqrt(8)) * (2 / 3), lift: (2 * 6) / 8 };
    expect(ab.score).toBe(0.5625);
    expect(bc.lift).toBe(1.5);
    const found = count(small, { shrinkage: 1 });
    expect([...found.keys()]).toEqual(['a', 'b', 'c']);
    expect(found.get('a')).toEqual([{ itemId: 'b', ...ab }]);
    expect(found.get('b')).toEqual([
      { itemId: 'a', ...ab },
      { itemId: 'c', ...bc },
    ]);
    expect(found.get('c')).toEqual([{ itemId: 'b', ...bc }]);
  });

  it('keeps the plain cosine without shrinkage, pairs seen once at minCount 1, and the best few', () => {
    expect(
      count(small, { shrinkage: 0 })
        .get('b')!
        .map((x) => x.score),
    ).toEqual([3 / 4, 2 / Math.sqrt(8)]);
    const all = count(small, { minCount: 1, shrinkage: 0 });
    expect(all.get('d')).toEqual([
      { itemId: 'a', count: 1, score: 1 / 2, lift: 6 / 4 },
      { itemId: 'b', count: 1, score: 1 / 2, lift: 6 / 4 },
    ]);
    expect(all.get('a')!.map((x) => x.itemId)).toEqual(['b', 'd', 'c']);
    expect(count(small, { minCount: 1, neighbours: 1 }).get('b')).toHaveLength(1);
    expect(count(small, { minCount: 4 }).size).toBe(0);
  });

  it('counts an item repeated in a basket once, and only the first maxBasketItems distinct items', () => {
    const found = count(
      [
        ['a', 'a', 'b', 'a', 'c', 'd'],
        ['a', 'b', 'b', 'c'],
      ],
      { maxBasketItems: 2, minCount: 1, shrinkage: 0 },
    );
    // Each basket is cut to a, b: c and d never count, not even in n.
    expect([...found.keys()]).toEqual(['a', 'b']);
    expect(found.get('a')).toEqual([{ itemId: 'b', count: 2, score: 1, lift: 1 }]);
    const counter = new CooccurrenceCounter({ maxBasketItems: 3 });
    function* endless(): Generator<string> {
      for (let i = 0; ; i++) yield `i${i}`;
    }
    counter.addBasket(endless());
    counter.addBasket(['i0', 'i1', 'i2']);
    expect([...counter.finish().keys()]).toEqual(['i0', 'i1', 'i2']);
  });

  it('gives both items of a pair the same count and score, and does not depend on the order of baskets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...'abcdefghij'), { maxLength: 7 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        (baskets, neighbours) => {
          const found = count(baskets, { neighbours, minCount: 1 });
          for (const [x, list] of found) {
            for (const { itemId: y, count: c, score, lift } of list) {
              const back = found.get(y)!.find((z) => z.itemId === x);
              if (back !== undefined) expect(back).toEqual({ itemId: x, count: c, score, lift });
            }
          }
          expect(count([...baskets].reverse(), { neighbours, minCount: 1 })).toEqual(found);
        },
      ),
    );
  });

  it('agrees with brute force on hostile names and duplicates within baskets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...HOSTILE), { maxLength: 8 }), { maxLength: 40 }),
        fc.record({
          neighbours: fc.integer({ min: 1, max: 12 }),
          minCount: fc.integer({ min: 1, max: 3 }),
          maxBasketItems: fc.integer({ min: 2, max: 8 }),
          shrinkage: fc.constantFrom(0, 0.5, 5),
        }),
        (baskets, options) => {
          const found = count(baskets, options);
          expect(found).toEqual(bruteForce(baskets, options));
          expect([...found.keys()]).toEqual([...found.keys()].sort(byCodeUnits));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finds neighbours in real baskets (scotch brands) whose lifts match a brute-force count', () => {
    const baskets = scotchBaskets();
    expect(baskets.length).toBeGreaterThan(2000);
    const options = { neighbours: 20, minCount: 2, maxBasketItems: 50, shrinkage: 5 };
    const found = count(baskets, options);
    expect(found.size).toBeGreaterThan(15);
    const truth = bruteForce(baskets, options);
    expect(found).toEqual(truth);
    for (const [item, list] of found) {
      expect(list.length).toBeGreaterThan(0);
      const n = baskets.filter((b) => b.includes(item)).length;
      for (const { itemId, count: c, lift } of list) {
        expect(c).toBe(baskets.filter((b) => b.includes(item) && b.includes(itemId)).length);
        const m = baskets.filter((b) => b.includes(itemId)).length;
        expect(lift).toBeCloseTo((c * baskets.length) / (n * m), 12);
      }
    }
    // Lifts above and below 1 both occur: brands bought together and brands that substitute for each other.
    const lifts = [...found.values()].flat().map((x) => x.lift);
    expect(Math.max(...lifts)).toBeGreaterThan(1);
    expect(Math.min(...lifts)).toBeLessThan(1);
  });

  it('refuses bad options and items that are not strings', () => {
    expect(() => new CooccurrenceCounter({ neighbours: 0 })).toThrow(ValidationError);
    expect(() => new CooccurrenceCounter({ maxBasketItems: 1 })).toThrow(ValidationError);
    expect(() => new CooccurrenceCounter({ shrinkage: -1 })).toThrow(ValidationError);
    expect(() => new CooccurrenceCounter({ topK: 3 } as never)).toThrow(ValidationError);
    expect(() => new CooccurrenceCounter().addBasket([1 as unknown as string])).toThrow(ValidationError);
  });
});
