import fc from 'fast-check';
import {
  DEFAULT_LABEL_WINDOWS,
  DEFAULT_PROFILE_OPTIONS as OPTS,
  PROFILE_FEATURES,
  PROPENSITY_FEATURES,
  TimeSplitRows,
  ValidationError,
  deriveProfile,
  eventFromDoc,
  foldEvents,
  labelledRowsAsOf,
  parseLogisticModel,
  profileFeatures,
  selectFeatures,
  timeSplitCutoffs,
  toEventDoc,
  trainTimeSplit,
  type EventDoc,
  type ProfileDoc,
  type QueuedEvent,
  type TimeSplitRowSet,
  STRATEGIES,
} from '@portrait/shared';
import { shopHistories } from '../../bench/shop-history';
import { SyntheticShop } from '../../bench/synthetic-shop';

const DAY = 86_400_000;
const C = Date.parse('2026-06-01T00:00:00.000Z');
const CUTOFFS = timeSplitCutoffs(C + 30 * DAY);
const [TRAIN, EVALUATE] = CUTOFFS;

let seq = 0;
/** A behaviour event of `userId` at `C + offsetDays` (negative: before the cutoff), with a deterministic id. */
function at(userId: string, offsetDays: number, type: 'page_view' | 'purchase' | 'user_attributes' = 'page_view', base = C): QueuedEvent {
  const time = base + offsetDays * DAY;
  const common = { eventId: `e${++seq}`, userId, timestamp: new Date(time).toISOString(), receivedAt: time + 1000 };
  if (type === 'purchase') {
    return {
      ...common,
      type,
      order: {
        orderId: `o${seq}`,
        amount: 30,
        currency: 'EUR',
        paymentMethod: 'card',
        lines: [{ itemId: 'i1', quantity: 1, unitPrice: 30 }],
      },
    };
  }
  if (type === 'user_attributes') return { ...common, type, attributes: { city: 'Köln' } };
  return { ...common, type, itemId: 'i1', category: ['Shoes'], brand: 'B' };
}

const profile = (userId: string, events: readonly QueuedEvent[], nowMs: number): ProfileDoc =>
  deriveProfile(userId, foldEvents(undefined, events, nowMs, OPTS).state, nowMs, nowMs, OPTS);
const featureRow = (userId: string, events: readonly QueuedEvent[], nowMs: number): number[] => {
  const all = profileFeatures(profile(userId, events, nowMs));
  return PROPENSITY_FEATURES.map((f) => all[f]);
};
const rowsAt = (split: TimeSplitRowSet, cutoff: number) => split.cutoffs.find((c) => c.cutoff === cutoff)!;
const matrixRow = (x: { cols: number; values: Float64Array }, i: number): number[] =>
  Array.from(x.values.subarray(i * x.cols, (i + 1) * x.cols));
const single = (histories: [string, QueuedEvent[]][], options = {}) => labelledRowsAsOf(histories, { cutoffs: [C], ...options });

describe('events read back from the events index', () => {
  /** Names that trip code using objects as maps, and strings JSON and UTF-16 make awkward. */
  const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '\uD800', 'a\uDFFFb', '\u0000', '𝔘nicode', ''];
  const name = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 8 }));
  const money = fc.double({ min: 0, max: 1e6, noNaN: true }).map((v) => v + 0);
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const itemFacts = { category: maybe(fc.array(name, { minLength: 1, maxLength: 3 })), brand: maybe(name), price: maybe(money) };
  const NOW = Date.parse('2026-11-23T12:00:00.000Z');
  const body = fc.oneof(
    fc.record({ type: fc.constant('page_view' as const), itemId: maybe(name), ...itemFacts, url: maybe(name) }),
    fc.record({ type: fc.constant('search' as const), query: name, resultsCount: maybe(fc.nat()) }),
    fc.record({
      type: fc.constantFrom('add_to_cart' as const, 'remove_from_cart' as const),
      itemId: name,
      ...itemFacts,
      quantity: fc.integer({ min: 1, max: 10 }),
    }),
    fc.record({
      type: fc.constant('purchase' as const),
      order: fc.record({
        orderId: name,
        amount: money,
        currency: fc.constantFrom('EUR', 'USD'),
        paymentMethod: name,
        lines: fc.array(
          fc.record(
            { itemId: name, ...itemFacts, quantity: fc.integer({ min: 1, max: 5 }), unitPrice: money },
            { requiredKeys: ['itemId', 'quantity', 'unitPrice'] },
          ),
          { minLength: 1, maxLength: 4 },
        ),
      }),
    }),
    fc.record({ type: fc.constant('review' as const), itemId: name, rating: fc.integer({ min: 1, max: 5 }), text: maybe(name) }),
    fc.record({
      type: fc.constantFrom('recommendation_impression' as const, 'recommendation_click' as const),
      itemId: name,
      requestId: name,
      strategy: fc.constantFrom(...STRATEGIES),
      position: fc.integer({ min: 1, max: 100 }),
    }),
    fc.record({ type: fc.constant('user_attributes' as const), attributes: fc.record({ city: name }) }),
  );
  const arbEvents = fc
    .array(
      fc.record({
        body,
        msAgo: fc.integer({ min: 0, max: 200 * DAY }),
        sessionId: maybe(name),
        channel: maybe(fc.constantFrom('web' as const, 'app' as const, 'store' as const, 'other' as const)),
        id: name,
      }),
      { minLength: 1, maxLength: 25 },
    )
    .map((drafts) =>
      drafts.map(
        ({ body, msAgo, sessionId, channel, id }, i) =>
          ({
            ...body,
            eventId: `${id}#${i}`,
            userId: 'u1',
            timestamp: new Date(NOW - msAgo).toISOString(),
            receivedAt: NOW - msAgo + 1000,
            sessionId,
            channel,
          }) as QueuedEvent,
      ),
    );
  /** What `_source` gives back: the document as JSON, so absent fields are gone rather than undefined. */
  const stored = (event: QueuedEvent): EventDoc => JSON.parse(JSON.stringify(toEventDoc(event))) as EventDoc;
  const replay = (events: QueuedEvent[]): QueuedEvent[] => events.flatMap((e) => eventFromDoc(stored(e)) ?? []);

  it('gives back every behaviour event as it was queued, hostile names and all, and nothing for attribute updates', () => {
    fc.assert(
      fc.property(arbEvents, (events) => {
        for (const event of events) {
          const back = eventFromDoc(stored(event));
          if (event.type === 'user_attributes') expect(back).toBeUndefined();
          else expect(back).toEqual(event);
          // The document as toEventDoc returns it (undefined fields, no JSON) reads back the same.
          if (event.type !== 'user_attributes') expect(eventFromDoc(toEventDoc(event))).toEqual(event);
        }
      }),
    );
  });

  it('folds into the same behaviour, purchases, reviews, interests and features as the events themselves', () => {
    fc.assert(
      fc.property(arbEvents, (events) => {
        const live = profile('u1', events, NOW);
        const replayed = profile('u1', replay(events), NOW);
        expect(replayed.behavior).toEqual(live.behavior);
        expect(replayed.purchases).toEqual(live.purchases);
        expect(replayed.reviews).toEqual(live.reviews);
        expect(replayed.interests).toEqual(live.interests);
        expect(profileFeatures(replayed)).toEqual(profileFeatures(live));
      }),
    );
  });

  it('reads a timestamp stored with an offset as the same instant, and a cart event stored without a quantity as one', () => {
    const event = { ...at('u1', -1), timestamp: '2026-05-31T02:00:00+02:00' };
    const back = eventFromDoc(stored(event))!;
    expect(back.timestamp).toBe('2026-05-31T00:00:00.000Z');
    expect(profile('u1', [back], C)).toEqual(profile('u1', [event], C));
    const doc = stored({ ...at('u1', -1), type: 'add_to_cart', itemId: 'i1', quantity: 2 } as QueuedEvent);
    delete doc.quantity;
    expect(eventFromDoc(doc)).toMatchObject({ type: 'add_to_cart', quantity: 1 });
  });

  it('refuses a document it cannot read back, naming the event and the field', () => {
    const purchase = stored(at('u1', -1, 'purchase'));
    const cases: [EventDoc, RegExp][] = [
      [{ ...purchase, order: { ...purchase.order!, lines: [] } }, /e\d+ .*order\.lines must be a non-empty array/],
      [
        { ...purchase, order: { ...purchase.order!, lines: [{ itemId: 'i1', quantity: '1', unitPrice: 3 }] } },
        /order\.lines\.0\.quantity must be a finite number/,
      ],
      [{ ...purchase, timestamp: 'yesterday' }, /timestamp is "yesterday", not a date-time/],
      [{ ...purchase, type: 'refund' as EventDoc['type'] }, /type is "refund", not an event type/],
      [{ ...stored(at('u1', -1)), category: 'Shoes' as unknown as string[] }, /category must be an array/],
      [JSON.parse('{"__proto__": {"type": "page_view"}, "eventId": "x"}') as EventDoc, /type must be a string/],
    ];
    for (const [doc, message] of cases) {
      expect(() => eventFromDoc(doc)).toThrow(ValidationError);
      expect(() => eventFromDoc(doc)).toThrow(message);
    }
  });
});

describe('labels from later behaviour', () => {
  it('marks a profile that buys after the cutoff, up to and including the end of the horizon, and not one that buys later', () => {
    const split = single([
      ['buyer', [at('buyer', -3), at('buyer', 5, 'purchase')]],
      ['last-day', [at('last-day', -3), at('last-day', 30, 'purchase')]],
      ['too-late', [at('too-late', -3), at('too-late', 30.001, 'purchase')]],
      ['bought-before', [at('bought-before', -3), at('bought-before', 0, 'purchase')]],
      ['browser', [at('browser', -3), at('browser', 5)]],
    ]);
    expect(Array.from(split.cutoffs[0]!.purchase.y)).toEqual([1, 1, 0, 0, 0]);
    expect(split.cutoffs[0]!.purchase.positives).toBe(2);
    expect(split.horizonDays).toBe(DEFAULT_LABEL_WINDOWS.horizonDays);
  });

  it('reads features off the events up to the cutoff only: a later purchase changes the label, never the features', () => {
    const earlier = [at('u', -40), at('u', -10, 'purchase'), at('u', -2), at('u', 0)];
    const later = [at('u', 0.5, 'purchase'), at('u', 3), at('u', 20, 'purchase')];
    const split = single([['u', [...later, ...earlier].reverse()]]);
    const rows = split.cutoffs[0]!;
    expect(matrixRow(rows.purchase.x, 0)).toEqual(featureRow('u', earlier, C));
    expect(matrixRow(rows.churn.x, 0)).toEqual(featureRow('u', earlier, C));
    expect(Array.from(rows.purchase.y)).toEqual([1]);
    const withoutFuture = single([['u', earlier]]).cutoffs[0]!;
    expect(withoutFuture.purchase.x.values).toEqual(rows.purchase.x.values);
    expect(Array.from(withoutFuture.purchase.y)).toEqual([0]);
  });

  it('makes no row of a profile without a behaviour event by the cutoff, attribute updates included', () => {
    const split = single([
      ['newcomer', [at('newcomer', 1), at('newcomer', 2, 'purchase')]],
      ['registered', [at('registered', -5, 'user_attributes'), at('registered', 2, 'purchase')]],
      ['nobody', []],
      ['regular', [at('regular', -1)]],
    ]);
    expect(split.users).toBe(4);
    expect(split.cutoffs[0]!.purchase.x.rows).toBe(1);
    expect(split.cutoffs[0]!.churn.x.rows).toBe(1);
    expect(matrixRow(split.cutoffs[0]!.purchase.x, 0)).toEqual(featureRow('regular', [at('regular', -1)], C));
  });

  it('asks only profiles active in the 90 days before the cutoff whether they churn: churned means no behaviour event in the horizon', () => {
    const split = single([
      ['stays', [at('stays', -10), at('stays', 29)]],
      ['goes', [at('goes', -89.9), at('goes', 31)]],
      ['quiet-after', [at('quiet-after', -1), at('quiet-after', 5, 'user_attributes')]],
      ['lapsed', [at('lapsed', -90), at('lapsed', 3)]],
    ]);
    const rows = split.cutoffs[0]!;
    expect(rows.purchase.x.rows).toBe(4);
    expect(rows.churn.x.rows).toBe(3);
    expect(Array.from(rows.churn.y)).toEqual([0, 1, 1]);
    const daysSinceSeen = PROPENSITY_FEATURES.indexOf('days_since_seen');
    expect([0, 1, 2].map((i) => rows.churn.x.values[i * rows.churn.x.cols + daysSinceSeen])).toEqual([10, 89, 1]);
  });

  it('follows the windows it is given', () => {
    const history: [string, QueuedEvent[]][] = [['u', [at('u', -50), at('u', 10, 'purchase')]]];
    const rows = single(history, { horizonDays: 7, activeDays: 30 }).cutoffs[0]!;
    expect(Array.from(rows.purchase.y)).toEqual([0]);
    expect(rows.churn.x.rows).toBe(0);
  });

  it('builds every cutoff in one pass per user, earliest cutoff first, and the same rows whatever the events order', () => {
    const events = [at('u', -45), at('u', -20, 'purchase'), at('u', -5), at('u', 10, 'purchase')];
    const split = labelledRowsAsOf([['u', events]], { cutoffs: [EVALUATE, TRAIN] });
    expect(split.cutoffs.map((c) => c.cutoff)).toEqual([TRAIN, EVALUATE]);
    expect(matrixRow(rowsAt(split, TRAIN).purchase.x, 0)).toEqual(featureRow('u', events.slice(0, 1), TRAIN));
    expect(Array.from(rowsAt(split, TRAIN).purchase.y)).toEqual([1]);
    expect(matrixRow(rowsAt(split, EVALUATE).purchase.x, 0)).toEqual(featureRow('u', events.slice(0, 3), EVALUATE));
    const shuffled = labelledRowsAsOf([['u', [events[2]!, events[0]!, events[3]!, events[1]!]]], { cutoffs: CUTOFFS });
    expect(shuffled).toEqual(split);
  });

  it('grows past its first allocation without losing a row', () => {
    const rows = new TimeSplitRows({ cutoffs: [C], features: ['days_since_seen'] });
    for (let u = 0; u < 2500; u++) rows.addUser(`u${u}`, [at(`u${u}`, -(u % 80) - 0.5), ...(u % 3 === 0 ? [at(`u${u}`, 1)] : [])]);
    const { churn } = rows.result().cutoffs[0]!;
    expect(churn.x.rows).toBe(2500);
    expect(churn.positives).toBe(2500 - Math.ceil(2500 / 3));
    expect(Array.from(churn.x.values.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(churn.x.values[2499]).toBe(2499 % 80);
  });

  it('refuses a history cut in two, events of another user, and options it cannot honour', () => {
    const rows = new TimeSplitRows({ cutoffs: [C] });
    rows.addUser('u1', [at('u1', -1)]);
    expect(() => rows.addUser('u1', [at('u1', -2)])).toThrow(/events of user u1 came in two parts/);
    expect(() => rows.addUser('u2', [at('u3', -2)])).toThrow(/is of user u3, not u2/);
    expect(() => new TimeSplitRows({ cutoffs: [] })).toThrow(ValidationError);
    expect(() => new TimeSplitRows({ cutoffs: [C, C] })).toThrow(/distinct/);
    expect(() => new TimeSplitRows({ cutoffs: [C], horizonDays: 0 })).toThrow(/horizonDays must be a positive number/);
    expect(() => new TimeSplitRows({ cutoffs: [C], features: ['shoe_size' as never] })).toThrow(/shoe_size are not profile features/);
  });
});

describe('training on a split by time', () => {
  /** Users who view before both cutoffs; `buys` says who buys in which window. */
  function histories(buys: (u: number) => ('train' | 'evaluate')[], users = 20): [string, QueuedEvent[]][] {
    return Array.from({ length: users }, (_, u) => {
      const id = `u${String(u).padStart(2, '0')}`;
      const events = [at(id, -50 - u, 'page_view', EVALUATE), at(id, -35, 'page_view', EVALUATE)];
      for (const window of buys(u)) events.push(at(id, window === 'train' ? -10 : 10, 'purchase', EVALUATE));
      return [id, events];
    });
  }
  const split = (h: [string, QueuedEvent[]][]) => labelledRowsAsOf(h, { cutoffs: CUTOFFS });

  it('says which window has no buyer, or only buyers, for which use', () => {
    expect(() => trainTimeSplit(split(histories((u) => (u % 2 ? ['evaluate'] : []))), 'purchase')).toThrow(
      'no profile bought in the 30 days after 2026-05-02: a purchase propensity cannot be trained on this window',
    );
    expect(() => trainTimeSplit(split(histories((u) => (u % 2 ? ['train'] : []))), 'purchase')).toThrow(
      'no profile bought in the 30 days after 2026-06-01: a purchase propensity cannot be evaluated on this window',
    );
    expect(() => trainTimeSplit(split(histories(() => ['train', 'evaluate'])), 'purchase')).toThrow(
      /^every profile bought in the 30 days after 2026-05-02/,
    );
    // Every user buys in each window, so every active profile is seen again: nobody churns.
    expect(() => trainTimeSplit(split(histories(() => ['train', 'evaluate'])), 'churn')).toThrow(
      'every active profile had an event in the 30 days after 2026-05-02: a churn propensity cannot be trained on this window',
    );
    expect(() => trainTimeSplit(split([]), 'purchase')).toThrow(
      'no profile has an event on or before 2026-05-02: a purchase propensity cannot be trained on this window',
    );
    expect(() => trainTimeSplit(split([]), 'churn')).toThrow(/^no profile was active in the 90 days up to 2026-05-02/);
    for (const target of ['purchase', 'churn'] as const) {
      expect(() => trainTimeSplit(split([]), target)).toThrow(ValidationError);
    }
  });

  it('refuses cutoffs that cannot make a split by time, and rows without the baseline feature', () => {
    const h = histories((u) => (u % 2 ? ['train', 'evaluate'] : []));
    expect(() => trainTimeSplit(labelledRowsAsOf(h, { cutoffs: [EVALUATE] }), 'purchase')).toThrow(/needs two cutoffs/);
    expect(() => trainTimeSplit(labelledRowsAsOf(h, { cutoffs: [EVALUATE - 10 * DAY, EVALUATE] }), 'purchase')).toThrow(
      /10 days apart, less than the 30-day horizon/,
    );
    expect(() => trainTimeSplit(selectFeatures(split(h), ['orders', 'days_since_seen']), 'purchase')).toThrow(
      /baseline reads recency_days, which the rows do not have/,
    );
    expect(() => selectFeatures(split(h), ['orders', 'shoe_size' as never])).toThrow(/the rows have no shoe_size/);
  });

  describe('on a small synthetic shop', () => {
    const startMs = Date.UTC(2026, 0, 1);
    const endMs = startMs + 180 * DAY;
    let history: ReturnType<typeof shopHistories>;
    let shop: TimeSplitRowSet;
    beforeAll(() => {
      history = shopHistories(new SyntheticShop({ seed: 1, users: 2000, items: 2000, startMs, endMs }), 100_000);
      shop = labelledRowsAsOf(history.users, { cutoffs: timeSplitCutoffs(endMs) });
    });

    it('gives the same rows and the same models on every run', () => {
      const again = labelledRowsAsOf(history.users, { cutoffs: timeSplitCutoffs(endMs) });
      expect(again).toEqual(shop);
      for (const target of ['purchase', 'churn'] as const) expect(trainTimeSplit(again, target)).toEqual(trainTimeSplit(shop, target));
    });

    it('stores the split-by-time figures with the model refitted on the latest window, in a model that parses back', () => {
      const { model, rows, comparison } = trainTimeSplit(shop, 'purchase');
      expect(model.features).toEqual([...PROPENSITY_FEATURES]);
      expect(PROFILE_FEATURES.filter((f) => !PROPENSITY_FEATURES.includes(f))).toEqual(['tenure_days', 'orders_per_month']);
      expect(model.quality.rows).toBe(rows.evaluate.rows);
      expect(model.quality.timeSplit).toMatchObject({
        trainCutoff: new Date(endMs - 60 * DAY).toISOString(),
        evalCutoff: new Date(endMs - 30 * DAY).toISOString(),
        horizonDays: 30,
        trainRows: rows.train.rows,
        trainPositives: rows.train.positives,
        evalRows: rows.evaluate.rows,
        evalPositives: rows.evaluate.positives,
        baselineFeatures: ['recency_days'],
      });
      expect(model.quality.timeSplit!.comparison).toEqual(comparison);
      expect(comparison.model.calibration).toHaveLength(10);
      expect(model.quality.holdout).toBeUndefined();
      expect(parseLogisticModel(JSON.parse(JSON.stringify(model)))).toEqual(model);
    });

    // Measured on seeds 1-6 at this size: purchase AUC gains 0.019-0.057 (log-loss slightly worse: 20 features on
    // ~100 buyers), churn AUC gains 0.059-0.084 with better log-loss. The shop's users differ in activity only, which
    // the counts of the last 90 days estimate better than one recency does.
    it('ranks later buyers and churners better than recency alone does', () => {
      const purchase = trainTimeSplit(shop, 'purchase').comparison;
      expect(purchase.aucGain).toBeGreaterThan(0.01);
      const churn = trainTimeSplit(shop, 'churn').comparison;
      expect(churn.aucGain).toBeGreaterThan(0.03);
      expect(churn.logLossGain).toBeGreaterThan(0);
      expect(churn.model.auc).toBeGreaterThan(0.6);
    });
  });
});
