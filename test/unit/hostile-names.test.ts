import fc from 'fast-check';
import {
  DEFAULT_PROFILE_OPTIONS as OPTS,
  deriveProfile,
  foldEvents,
  type ProfileDoc,
  type ProfileState,
  type QueuedEvent,
} from '@portrait/shared';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 86_400_000;

/** Names that are members of Object.prototype, and other strings that trip code using objects as maps. */
const HOSTILE = [
  ...new Set([
    ...Object.getOwnPropertyNames(Object.prototype),
    '__proto__',
    'prototype',
    'constructor',
    'then',
    'length',
    '0',
    '-1',
    'NaN',
    'undefined',
    '\uD800',
    'a\uDFFFb',
    '\u0000',
    '𝔘nicode',
    'x'.repeat(5000),
  ]),
].sort();

/** An order-preserving renaming to harmless names: the fold must not care which names it is given. */
const SAFE = new Map(HOSTILE.map((name, i) => [name, `n${String(i).padStart(3, '0')}`]));
const safe = (name: string): string => SAFE.get(name) ?? name;

const arbName = fc.constantFrom(...HOSTILE);

interface Draft {
  kind: 'page_view' | 'add_to_cart' | 'purchase' | 'user_attributes' | 'search';
  daysAgo: number;
  category: string;
  brand: string;
  payment: string;
  city: string;
}

const arbDraft: fc.Arbitrary<Draft> = fc.record({
  kind: fc.constantFrom('page_view', 'add_to_cart', 'purchase', 'user_attributes', 'search'),
  daysAgo: fc.integer({ min: 0, max: 100 }),
  category: arbName,
  brand: arbName,
  payment: arbName,
  city: arbName,
});

function toEvent(d: Draft, eventId: string, i: number, rename: (s: string) => string): QueuedEvent {
  const common = {
    eventId: rename(eventId),
    userId: 'u1',
    timestamp: new Date(NOW - d.daysAgo * DAY - i).toISOString(),
    receivedAt: NOW - 1000 + i,
  };
  switch (d.kind) {
    case 'page_view':
    case 'add_to_cart':
      return { ...common, type: d.kind, itemId: 'i1', category: [rename(d.category)], brand: rename(d.brand), quantity: 1 } as QueuedEvent;
    case 'purchase':
      return {
        ...common,
        type: 'purchase',
        order: {
          orderId: 'o1',
          amount: 10,
          currency: 'EUR',
          paymentMethod: rename(d.payment),
          lines: [{ itemId: 'i1', quantity: 2, unitPrice: 5, category: [rename(d.category)], brand: rename(d.brand) }],
        },
      };
    case 'search':
      return { ...common, type: 'search', query: d.city };
    case 'user_attributes':
      return { ...common, type: 'user_attributes', attributes: { city: rename(d.city), region: rename(d.brand) } };
  }
}

/** The derived fields, with every name that came from the events renamed, and without the internal state. */
function visible(doc: ProfileDoc, rename: (s: string) => string): unknown {
  const { state: _state, updatedAt: _u, derivedAt: _d, ...rest } = doc;
  return {
    ...rest,
    attributes: {
      ...rest.attributes,
      city: rest.attributes.city && rename(rest.attributes.city),
      region: rest.attributes.region && rename(rest.attributes.region),
    },
    interests: {
      categories: rest.interests.categories.map((c) => ({ ...c, name: rename(c.name) })),
      brands: rest.interests.brands.map((c) => ({ ...c, name: rename(c.name) })),
      topCategories: rest.interests.topCategories.map(rename),
      topBrands: rest.interests.topBrands.map(rename),
    },
    purchases: {
      ...rest.purchases,
      paymentMethods: rest.purchases.paymentMethods.map(rename),
      preferredPaymentMethod: rest.purchases.preferredPaymentMethod && rename(rest.purchases.preferredPaymentMethod),
    },
  };
}

/** Folds in two batches with a JSON round trip between, as the indexer does through Elasticsearch. */
function foldTwice(events: QueuedEvent[], cut: number): { state: ProfileState; applied: number } {
  const first = foldEvents(undefined, events.slice(0, cut), NOW, OPTS);
  const stored = JSON.parse(JSON.stringify(first.state)) as ProfileState;
  const second = foldEvents(stored, events.slice(cut), NOW, OPTS, true);
  return { state: second.state, applied: first.applied + second.applied };
}

describe('names that are also Object.prototype members', () => {
  it('fold exactly like harmless names: ids, categories, brands, payment methods and cities', () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(arbName, { minLength: 1, maxLength: HOSTILE.length })
          .chain((ids) =>
            fc.tuple(fc.constant(ids), fc.array(arbDraft, { minLength: ids.length, maxLength: ids.length }), fc.nat({ max: ids.length })),
          ),
        ([ids, drafts, cut]) => {
          const hostile = drafts.map((d, i) => toEvent(d, ids[i]!, i, (s) => s));
          const harmless = drafts.map((d, i) => toEvent(d, ids[i]!, i, safe));
          const a = foldTwice(hostile, cut);
          const b = foldTwice(harmless, cut);
          expect(a.applied).toBe(ids.length);
          expect(b.applied).toBe(ids.length);
          const docA = deriveProfile('u1', a.state, NOW, NOW, OPTS);
          const docB = deriveProfile('u1', b.state, NOW, NOW, OPTS);
          expect(visible(docA, safe)).toEqual(visible(docB, (s) => s));
          // Redelivery after the round trip: every hostile id is recognised as already applied.
          const again = foldEvents(JSON.parse(JSON.stringify(a.state)) as ProfileState, hostile, NOW, OPTS);
          expect(again.applied).toBe(0);
          expect(again.duplicates).toBe(ids.length);
          expect(Object.getPrototypeOf(a.state.brands)).toBe(Object.prototype);
        },
      ),
    );
  });

  it('keeps the count of a payment method called "constructor" a number', () => {
    const events = [0, 1].map((i): QueuedEvent => ({
      type: 'purchase',
      eventId: `p${i}`,
      userId: 'u1',
      timestamp: new Date(NOW - i * DAY).toISOString(),
      receivedAt: NOW,
      order: {
        orderId: `o${i}`,
        amount: 5,
        currency: 'EUR',
        paymentMethod: 'constructor',
        lines: [{ itemId: 'i', quantity: 1, unitPrice: 5 }],
      },
    }));
    const state = foldEvents(undefined, events, NOW, OPTS).state;
    expect(state.orders.payment).toEqual({ constructor: 2 });
    expect(deriveProfile('u1', state, NOW, NOW, OPTS).purchases.preferredPaymentMethod).toBe('constructor');
  });
});

describe('huge values', () => {
  it('saturates counters at the largest value the integer mapping holds instead of writing one it refuses', () => {
    const state = foldEvents(undefined, [], NOW, OPTS).state;
    state.orders.units = 3e9;
    state.orders.count = 2 ** 40;
    state.lifetime.page_view = 2 ** 31;
    const doc = deriveProfile('u1', state, NOW, NOW, OPTS);
    expect(doc.purchases.units).toBe(2_147_483_647);
    expect(doc.purchases.orders).toBe(2_147_483_647);
    expect(doc.behavior.eventCount).toBe(2_147_483_647);
    expect(doc.behavior.counts.page_view.lifetime).toBe(2_147_483_647);
  });
});
