import fc from 'fast-check';
import { RFM_GROUPS, RFM_TIERS, fitRfm, quantile, rfmGroup, rfmTier, scoreRfm, type RfmInput } from '@portrait/shared';

const buyer = (recencyDays: number, frequency: number, monetary: number): RfmInput => ({ recencyDays, frequency, monetary });

describe('quantile', () => {
  it('interpolates between order statistics (type 7)', () => {
    const sorted = [1, 2, 3, 4, 5];
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 1)).toBe(5);
    expect(quantile(sorted, 0.2)).toBeCloseTo(1.8);
    expect(quantile([7], 0.8)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow(/no values/);
  });
});

describe('RFM', () => {
  // 100 buyers: recency 1..100 days, orders 1..100, spend 10..1000.
  const population = Array.from({ length: 100 }, (_, i) => buyer(i + 1, i + 1, (i + 1) * 10));
  const model = fitRfm([...population, { recencyDays: undefined, frequency: 0, monetary: 0 }]);

  it('fits quintile boundaries on buyers only', () => {
    expect(model.buyers).toBe(100);
    expect(model.boundaries.frequency).toEqual([20.8, 40.6, 60.4, 80.2]);
    expect(model.boundaries.recency).toEqual(model.boundaries.frequency);
    expect(model.boundaries.monetary.map((b) => Math.round(b))).toEqual([208, 406, 604, 802]);
  });

  it('gives the most recent, most frequent, biggest spenders 5s and the reverse 1s, a fifth in each score', () => {
    expect(scoreRfm(model, buyer(1, 100, 1000))).toEqual({ r: 5, f: 5, m: 5, code: '555', tier: 'high', group: 'champions' });
    expect(scoreRfm(model, buyer(100, 1, 10))).toEqual({ r: 1, f: 1, m: 1, code: '111', tier: 'low', group: 'lost' });
    const counts = [0, 0, 0, 0, 0];
    for (const p of population) {
      const s = scoreRfm(model, p);
      if ('r' in s) counts[s.f - 1]!++;
    }
    expect(counts).toEqual([20, 20, 20, 20, 20]);
  });

  it('keeps ties together: when most buyers have one order they share the lowest frequency score', () => {
    const tied = fitRfm(Array.from({ length: 50 }, (_, i) => buyer(i, i < 40 ? 1 : 2 + i, 10 * i)));
    const scores = Array.from({ length: 40 }, (_, i) => scoreRfm(tied, buyer(i, 1, 10 * i)));
    expect(new Set(scores.map((s) => ('f' in s ? s.f : 0)))).toEqual(new Set([1]));
  });

  it('classes a profile that never bought as a low-value prospect, without scores', () => {
    expect(scoreRfm(model, { recencyDays: undefined, frequency: 0, monetary: 0 })).toEqual({ tier: 'low', group: 'prospect' });
  });

  it('refuses to fit without buyers, and refuses values that are not finite', () => {
    expect(() => fitRfm([])).toThrow(/at least one buyer/);
    expect(() => fitRfm([buyer(Number.NaN, 1, 1)])).toThrow(/recencyDays must be a finite number/);
    expect(() => scoreRfm(model, buyer(1, 1, Number.POSITIVE_INFINITY))).toThrow(/monetary/);
  });

  it('names every one of the 125 scores with a group and a tier', () => {
    const seen = new Set<string>();
    for (let r = 1; r <= 5; r++)
      for (let f = 1; f <= 5; f++)
        for (let m = 1; m <= 5; m++) {
          expect(RFM_GROUPS).toContain(rfmGroup(r, f, m));
          expect(RFM_TIERS).toContain(rfmTier(r, f, m));
          seen.add(rfmGroup(r, f, m));
        }
    // Every group but the never-bought one is reachable.
    expect([...seen].sort()).toEqual(RFM_GROUPS.filter((g) => g !== 'prospect').sort());
  });

  it('never scores a buyer lower for buying more recently, more often or for more', () => {
    const arbBuyer = fc.record({
      recencyDays: fc.integer({ min: 0, max: 2000 }),
      frequency: fc.integer({ min: 1, max: 500 }),
      monetary: fc.double({ min: 0, max: 1e6, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arbBuyer, { minLength: 1, maxLength: 200 }), arbBuyer, arbBuyer, (pop, a, b) => {
        const fitted = fitRfm(pop);
        const better = {
          recencyDays: Math.min(a.recencyDays, b.recencyDays),
          frequency: Math.max(a.frequency, b.frequency),
          monetary: Math.max(a.monetary, b.monetary),
        };
        const sa = scoreRfm(fitted, a);
        const sb = scoreRfm(fitted, better);
        if (!('r' in sa) || !('r' in sb)) return false;
        return sb.r >= sa.r && sb.f >= sa.f && sb.m >= sa.m && [sa.r, sa.f, sa.m].every((s) => s >= 1 && s <= 5);
      }),
    );
  });

  it('stores as JSON and scores the same after a round trip', () => {
    const stored = JSON.parse(JSON.stringify(model)) as typeof model;
    for (const p of population) expect(scoreRfm(stored, p)).toEqual(scoreRfm(model, p));
  });
});
