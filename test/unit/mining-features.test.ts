import fc from 'fast-check';
import {
  DEFAULT_PROFILE_OPTIONS as OPTS,
  NEVER_DAYS,
  PROFILE_FEATURES,
  ValidationError,
  categoryShares,
  deriveProfile,
  fitRfm,
  foldEvents,
  profileFeatureVector,
  profileFeatures,
  rfmInput,
  scoreRfm,
  type QueuedEvent,
} from '@portrait/shared';
import { queued } from '../support/events';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 86_400_000;
const at = (daysAgo: number): string => new Date(NOW - daysAgo * DAY).toISOString();
const profile = (events: QueuedEvent[]) => deriveProfile('u1', foldEvents(undefined, events, NOW, OPTS).state, NOW, NOW, OPTS);

const order = (daysAgo: number, amount: number, paymentMethod: string, unitPrice = amount) =>
  queued({
    type: 'purchase',
    timestamp: at(daysAgo),
    order: { orderId: `o-${daysAgo}-${amount}`, currency: 'EUR', amount, paymentMethod, lines: [{ itemId: 'i1', quantity: 1, unitPrice }] },
  });

describe('profile features', () => {
  const buyer = profile([
    queued({ type: 'page_view', timestamp: at(40), itemId: 'i1', category: ['Shoes'] }),
    queued({ type: 'add_to_cart', timestamp: at(10), itemId: 'i1', quantity: 1 }),
    queued({ type: 'add_to_cart', timestamp: at(5), itemId: 'i2', quantity: 1 }),
    order(10, 60, 'card'),
    order(5, 40, 'paypal'),
    queued({ type: 'review', timestamp: at(3), itemId: 'i1', rating: 4 }),
  ]);

  it('reads recency, frequency, spend, activity, carts, reviews and price band off the profile', () => {
    const f = profileFeatures(buyer);
    expect(f).toMatchObject({
      recency_days: 5,
      days_since_seen: 3,
      tenure_days: 40,
      orders: 2,
      total_spend: 100,
      avg_order_value: 50,
      events_d90_add_to_cart: 2,
      events_d90_purchase: 2,
      cart_conversion_d90: 1,
      reviews: 1,
      avg_rating: 4,
      price_band: 2,
      payment_methods: 2,
    });
    expect(Object.keys(f)).toEqual([...PROFILE_FEATURES]);
  });

  it('gives a profile that never bought a purchase recency of three years and zeros elsewhere', () => {
    const f = profileFeatures(profile([queued({ type: 'page_view', timestamp: at(1) })]));
    expect(f).toMatchObject({ recency_days: NEVER_DAYS, orders: 0, total_spend: 0, cart_conversion_d90: 0, price_band: 0, avg_rating: 0 });
    expect(rfmInput(profile([queued({ type: 'page_view', timestamp: at(1) })])).recencyDays).toBeUndefined();
  });

  it('lists features in the order a model names them, and refuses names profiles do not have', () => {
    expect(profileFeatureVector(buyer, ['orders', 'recency_days'])).toEqual([2, 5]);
    expect(() => profileFeatureVector(buyer, ['orders', 'shoe_size'])).toThrow(ValidationError);
    expect(() => profileFeatureVector(buyer, ['constructor'])).toThrow(/shoe_size|constructor/);
  });

  it('feeds RFM: the recent big spender scores at the top of a population of smaller ones', () => {
    const model = fitRfm(Array.from({ length: 50 }, (_, i) => ({ recencyDays: 10 + i, frequency: 1, monetary: 10 + i })));
    expect(scoreRfm(model, rfmInput(buyer))).toMatchObject({ r: 5, f: 5, m: 5, tier: 'high', group: 'champions' });
  });

  it('shares category interest among the named categories, whatever their names', () => {
    const doc = profile([
      queued({ type: 'page_view', timestamp: at(1), itemId: 'a', category: ['__proto__'] }),
      queued({ type: 'page_view', timestamp: at(1), itemId: 'b', category: ['constructor'] }),
      queued({ type: 'page_view', timestamp: at(1), itemId: 'c', category: ['constructor'] }),
    ]);
    const [proto, ctor, none] = categoryShares(doc, ['__proto__', 'constructor', 'toString']);
    expect(proto! + ctor!).toBeCloseTo(1, 10);
    expect(ctor).toBeGreaterThan(proto!);
    expect(none).toBe(0);
  });

  it('is always finite and never negative, whatever the events', () => {
    const event = fc.oneof(
      fc.record({ days: fc.integer({ min: 0, max: 1000 }) }).map(({ days }) => queued({ type: 'page_view', timestamp: at(days) })),
      fc
        .record({ days: fc.integer({ min: 0, max: 1000 }), amount: fc.double({ min: 0, max: 1e6, noNaN: true }) })
        .map(({ days, amount }) => order(days, amount, 'card', 1)),
      fc
        .record({ days: fc.integer({ min: 0, max: 1000 }), rating: fc.integer({ min: 1, max: 5 }) })
        .map(({ days, rating }) => queued({ type: 'review', timestamp: at(days), itemId: 'i1', rating })),
    );
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 30 }), (events) =>
        Object.values(profileFeatures(profile(events))).every((v) => Number.isFinite(v) && v >= 0),
      ),
    );
  });
});
