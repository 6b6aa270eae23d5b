import fc from 'fast-check';
import {
  DEFAULT_PROFILE_OPTIONS as OPTS,
  deriveProfile,
  emptyState,
  foldEvents,
  lifecycleStage,
  REVIEW_TEXTS_KEPT,
  ITEMS_KEPT,
  RECENT_ITEMS,
  reviewFingerprint,
  ageBandOf,
  type QueuedEvent,
  sha256Hex,
  type ProfileState,
} from '@portrait/shared';
import { queued } from '../support/events';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 86_400_000;
const at = (daysAgo: number): string => new Date(NOW - daysAgo * DAY).toISOString();

const fold = (events: QueuedEvent[], state?: ProfileState): ProfileState => foldEvents(state, events, NOW, OPTS).state;
const derive = (state: ProfileState, now = NOW) => deriveProfile('u1', state, now, NOW, OPTS);

describe('foldEvents', () => {
  it('counts each behaviour per window and lifetime by event time', () => {
    const state = fold([
      queued({ type: 'page_view', timestamp: at(0) }),
      queued({ type: 'page_view', timestamp: at(6) }),
      queued({ type: 'page_view', timestamp: at(8) }),
      queued({ type: 'page_view', timestamp: at(45) }),
      queued({ type: 'page_view', timestamp: at(200) }),
    ]);
    expect(derive(state).behavior.counts.page_view).toEqual({ d7: 2, d30: 3, d90: 4, lifetime: 5 });
  });

  it('moves window counts as time passes without new events', () => {
    const state = fold([queued({ type: 'search', query: 'shoes', timestamp: at(5) })]);
    expect(derive(state).behavior.counts.search.d7).toBe(1);
    const later = derive(state, NOW + 3 * DAY);
    expect(later.behavior.counts.search).toEqual({ d7: 0, d30: 1, d90: 1, lifetime: 1 });
    expect(later.lifecycle.daysSinceLastSeen).toBe(8);
  });

  it('summarises purchases: orders, spend, average, payment methods and price band', () => {
    const state = fold([
      queued({
        type: 'purchase',
        timestamp: at(10),
        order: {
          orderId: 'o1',
          currency: 'EUR',
          amount: 120,
          paymentMethod: 'card',
          lines: [
            { itemId: 'i1', quantity: 2, unitPrice: 50, category: ['Shoes'], brand: 'Acme' },
            { itemId: 'i2', quantity: 1, unitPrice: 20, category: ['Socks'] },
          ],
        },
      }),
      queued({
        type: 'purchase',
        timestamp: at(2),
        order: {
          orderId: 'o2',
          currency: 'EUR',
          amount: 30,
          paymentMethod: 'paypal',
          lines: [{ itemId: 'i3', quantity: 1, unitPrice: 30 }],
        },
      }),
      queued({
        type: 'purchase',
        timestamp: at(1),
        order: { orderId: 'o3', currency: 'USD', amount: 99, paymentMethod: 'card', lines: [{ itemId: 'i3', quantity: 1, unitPrice: 30 }] },
      }),
    ]);
    const p = derive(state).purchases;
    expect(p.orders).toBe(3);
    expect(p.units).toBe(5);
    expect(p.totalSpend).toBe(150);
    expect(p.avgOrderValue).toBe(50);
    expect(p.spend30d).toBe(150);
    expect(p.otherCurrencies).toEqual(['USD']);
    expect(p.paymentMethods).toEqual(['card', 'paypal']);
    expect(p.preferredPaymentMethod).toBe('card');
    expect(p.preferredPriceBand).toBe('mid');
    expect(p.daysSinceLastPurchase).toBe(1);
    expect(p.lastPurchaseAt).toBe(at(1));
  });

  it('decays interest so that old interest fades behind recent interest', () => {
    const state = fold([
      ...Array.from({ length: 3 }, () => queued({ type: 'page_view', category: ['Garden'], timestamp: at(90) })),
      queued({ type: 'page_view', category: ['Books'], brand: 'Penguin', timestamp: at(1) }),
    ]);
    const profile = derive(state);
    expect(profile.interests.topCategories).toEqual(['Books', 'Garden']);
    const garden = profile.interests.categories.find((c) => c.name === 'Garden')!;
    expect(garden.score).toBeCloseTo(3 / 8, 4); // three half-lives at 30 days each
    expect(profile.interests.topBrands).toEqual(['Penguin']);
  });

  it('keeps the newest searches first, bounded', () => {
    const events = Array.from({ length: 15 }, (_, i) => queued({ type: 'search', query: `q${i}`, timestamp: at(15 - i) }));
    const profile = derive(fold(events));
    expect(profile.behavior.recentSearches).toHaveLength(OPTS.recentSearches);
    expect(profile.behavior.recentSearches[0]).toBe('q14');
  });

  it('applies attribute updates last-writer-wins by event time, null clears', () => {
    const state = fold([
      queued({ type: 'user_attributes', timestamp: at(1), attributes: { region: 'Bavaria', birthYear: 1990, consents: { email: true } } }),
      queued({ type: 'user_attributes', timestamp: at(3), attributes: { region: 'Berlin', city: 'Berlin' } }),
      queued({ type: 'user_attributes', timestamp: at(0), attributes: { city: null, consents: { sms: true } } }),
    ]);
    const a = derive(state).attributes;
    expect(a.region).toBe('Bavaria');
    expect(a.city).toBeUndefined();
    expect(a.age).toBe(36);
    expect(a.ageBand).toBe('35-44');
    expect(a.consents).toEqual({ email: true, sms: true, push: false, ads: false, personalization: false });
    expect(derive(state).lifecycle.stage).toBe('registered');
  });

  it('derives contact data normalized, also an e-mail stored before ingest normalized it', () => {
    // Queued before ingest normalized e-mails: the fold still writes the form exports hash.
    const state = fold([
      queued({ type: 'user_attributes', timestamp: at(1), attributes: { email: 'Jane.Doe@Example.COM', phone: '+491701234567' } }),
    ]);
    expect(derive(state).contact).toEqual({
      email: 'jane.doe@example.com',
      phone: '+491701234567',
      emailSha256: sha256Hex('jane.doe@example.com'),
    });
  });

  it('skips an event id it has already applied', () => {
    const e = queued({ type: 'add_to_cart', itemId: 'i1', quantity: 1, timestamp: at(0) });
    const once = foldEvents(undefined, [e], NOW, OPTS);
    const twice = foldEvents(once.state, [e], NOW, OPTS);
    expect(twice.duplicates).toBe(1);
    expect(twice.applied).toBe(0);
    expect(twice.state).toEqual(once.state);
  });

  it('does not modify the state it is given', () => {
    const s1 = fold([queued({ type: 'page_view', timestamp: at(0) })]);
    const snapshot = structuredClone(s1);
    fold([queued({ type: 'page_view', timestamp: at(0) })], s1);
    expect(s1).toEqual(snapshot);
  });
});

describe('fold state for risk signals', () => {
  const review = (daysAgo: number, rating: number, text?: string) =>
    queued({ type: 'review', timestamp: at(daysAgo), itemId: 'i1', rating, ...(text === undefined ? {} : { text }) });
  const order = (daysAgo: number, amount: number, currency = 'EUR') =>
    queued({
      type: 'purchase',
      timestamp: at(daysAgo),
      order: {
        orderId: `o-${daysAgo}-${amount}`,
        currency,
        amount,
        paymentMethod: 'card',
        lines: [{ itemId: 'i1', quantity: 1, unitPrice: amount }],
      },
    });

  it('counts ratings 1 to 5 in a histogram beside the count and sum', () => {
    const state = fold([review(3, 5), review(2, 5), review(2, 1), review(1, 3)]);
    expect(state.reviews).toMatchObject({ count: 4, ratingSum: 14, ratings: [1, 0, 1, 0, 2] });
  });

  it('fingerprints review texts as a copy-paste check reads them: case, spacing and punctuation ignored', () => {
    const state = fold([
      review(3, 1, 'Terrible product, do not buy!'),
      review(2, 1, '  terrible PRODUCT do not buy  '),
      review(1, 1, 'Terrible product. Do not buy.'),
      review(1, 2, 'Arrived late.'),
      review(1, 2, '!!!'),
      review(1, 2),
    ]);
    const texts = state.reviews.texts!;
    expect(Object.keys(texts)).toHaveLength(2);
    const copied = reviewFingerprint('Terrible product, do not buy!')!;
    expect(copied).toMatch(/^[0-9a-f]{16}$/);
    expect(texts[copied]).toEqual([3, Date.parse(at(1))]);
    expect(texts[reviewFingerprint('arrived late')!]).toEqual([1, Date.parse(at(1))]);
    expect(reviewFingerprint('!!! ...')).toBeUndefined();
    expect(reviewFingerprint('🙂🙂🙂')).toBeUndefined();
  });

  it('keeps only the newest review texts', () => {
    const events = Array.from({ length: REVIEW_TEXTS_KEPT + 30 }, (_, i) => review(80 - i, 4, `text number ${i}`));
    const texts = fold(events).reviews.texts!;
    expect(Object.keys(texts)).toHaveLength(REVIEW_TEXTS_KEPT);
    expect(texts[reviewFingerprint('text number 0')!]).toBeUndefined();
    expect(texts[reviewFingerprint(`text number ${REVIEW_TEXTS_KEPT + 29}`)!]).toEqual([1, Date.parse(at(80 - REVIEW_TEXTS_KEPT - 29))]);
  });

  it('folds hostile review texts as any other text, without touching prototypes', () => {
    const hostile = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '\ud800 lone', 'long '.repeat(400), 'ｆｕｌｌｗｉｄｔｈ'];
    const state = fold([...hostile, '__proto__'].map((text, i) => review(i, 5, text)));
    const texts = state.reviews.texts!;
    expect(Object.getPrototypeOf(texts)).toBe(Object.prototype);
    expect(Object.keys(texts)).toHaveLength(hostile.length);
    for (const key of Object.keys(texts)) expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(texts[reviewFingerprint('__proto__')!]![0]).toBe(2);
    expect(reviewFingerprint('ｆｕｌｌｗｉｄｔｈ')).toBe(reviewFingerprint('FullWidth'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('any text folds and gives no fingerprint or 16 hex digits', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const fingerprint = reviewFingerprint(text);
        if (fingerprint !== undefined) expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
        const state = fold([review(0, 3, text)]);
        expect(Object.keys(state.reviews.texts!)).toHaveLength(fingerprint === undefined ? 0 : 1);
      }),
    );
  });

  it('keeps count, sum, sum of squares and largest order in the base currency only', () => {
    const state = fold([order(5, 20), order(4, 30), order(3, 250), order(2, 999, 'USD')]);
    expect(state.orders.amounts).toEqual({ count: 3, sum: 300, sumSquares: 400 + 900 + 62_500, max: 250 });
    expect(emptyState().orders.amounts).toEqual({ count: 0, sum: 0, sumSquares: 0, max: 0 });
  });

  it('folds a state stored before these fields existed, starting them at the next event', () => {
    const old = fold([review(5, 4, 'fine'), order(5, 40)]);
    delete old.reviews.ratings;
    delete old.reviews.texts;
    delete old.orders.amounts;
    const state = fold([review(1, 1, 'fine'), order(1, 10)], old);
    expect(state.v).toBe(1);
    expect(state.reviews).toMatchObject({ count: 2, ratingSum: 5, ratings: [1, 0, 0, 0, 0] });
    expect(state.reviews.texts).toEqual({ [reviewFingerprint('fine')!]: [1, Date.parse(at(1))] });
    expect(state.orders.amounts).toEqual({ count: 1, sum: 10, sumSquares: 100, max: 10 });
    expect(derive(state).reviews).toEqual({ count: 2, avgRating: 2.5 });

    // Events that add none of them leave them absent.
    const untouched = structuredClone(old);
    const viewed = fold([queued({ type: 'page_view', timestamp: at(0) })], untouched);
    expect(viewed.reviews.ratings).toBeUndefined();
    expect(viewed.orders.amounts).toBeUndefined();
  });
});

describe('fold state for recommendations', () => {
  const view = (daysAgo: number, itemId: string) => queued({ type: 'page_view', timestamp: at(daysAgo), itemId });
  const buy = (daysAgo: number, ...itemIds: string[]) =>
    queued({
      type: 'purchase',
      timestamp: at(daysAgo),
      order: {
        orderId: `o-${daysAgo}-${itemIds.join('+')}`,
        currency: 'EUR',
        amount: 10 * itemIds.length,
        paymentMethod: 'card',
        lines: itemIds.map((itemId) => ({ itemId, quantity: 1, unitPrice: 10 })),
      },
    });
  const feedback = (type: 'recommendation_impression' | 'recommendation_click', daysAgo: number, itemId: string) =>
    queued({ type, timestamp: at(daysAgo), itemId, requestId: 'r1', strategy: 'hybrid', position: 1 });

  it('remembers each item with its decayed weight, newest interaction and newest purchase', () => {
    const state = fold([
      view(3, 'a'),
      view(2, 'a'),
      queued({ type: 'add_to_cart', timestamp: at(2), itemId: 'a', quantity: 1 }),
      buy(1, 'a', 'b'),
    ]);
    const [score, asOf, lastAt, boughtAt] = state.items!.a!;
    expect(asOf).toBe(Date.parse(at(1)));
    expect(lastAt).toBe(Date.parse(at(1)));
    expect(boughtAt).toBe(Date.parse(at(1)));
    // 1 + 1 + 3 + 5, each decayed from its own day to the newest.
    expect(score).toBeGreaterThan(9.5);
    expect(score).toBeLessThan(10);
    expect(state.items!.b![3]).toBe(Date.parse(at(1)));
    expect(derive(state).items).toEqual({ recent: ['a', 'b'], bought: ['a', 'b'] });
  });

  it('keeps recent purchases over newer views when the history is full, and lists only purchases within 90 days', () => {
    const events = [buy(200, 'old'), buy(60, 'kept')];
    for (let i = 0; i < ITEMS_KEPT + 10; i++) events.push(view(50 - i / 10, `v${i}`));
    const state = fold(events);
    expect(Object.keys(state.items!)).toHaveLength(ITEMS_KEPT);
    expect(state.items!.kept).toBeDefined();
    expect(state.items!.old).toBeUndefined();
    expect(derive(state).items.bought).toEqual(['kept']);
    expect(derive(state).items.recent).toHaveLength(RECENT_ITEMS);
  });

  it('counts impressions and marks clicks, apart from the behaviour counts', () => {
    const state = fold([
      feedback('recommendation_impression', 2, 'x'),
      feedback('recommendation_impression', 1, 'x'),
      feedback('recommendation_click', 1, 'x'),
    ]);
    expect(state.shown!.x).toEqual([2, Date.parse(at(1)), Date.parse(at(1))]);
    expect(derive(state).behavior.eventCount).toBe(0);
    expect(state.items).toBeUndefined();
  });

  it('folds hostile item ids as any other id, without touching prototypes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('__proto__', 'constructor', 'toString', '\uD800', 'a'.repeat(128)), { minLength: 1, maxLength: 8 }),
        (ids) => {
          const state = fold(ids.flatMap((id, i) => [view(i, id), feedback('recommendation_impression', i, id)]));
          expect(Object.getPrototypeOf(state.items)).toBe(Object.prototype);
          expect(Object.keys(state.items!).sort()).toEqual([...new Set(ids)].sort());
          expect(Object.keys(state.shown!).sort()).toEqual([...new Set(ids)].sort());
          expect(derive(state).items.recent.sort()).toEqual([...new Set(ids)].sort());
        },
      ),
    );
  });
});

describe('lifecycleStage and age bands', () => {
  it.each([
    [undefined, undefined, 'registered'],
    [5, 1, 'new'],
    [100, 10, 'active'],
    [100, 45, 'at_risk'],
    [300, 120, 'dormant'],
    [800, 365, 'dormant'],
    [800, 366, 'churned'],
  ] as const)('first seen %p days ago, last seen %p days ago -> %s', (first, last, stage) => {
    expect(
      lifecycleStage(first === undefined ? undefined : NOW - first * DAY, last === undefined ? undefined : NOW - last * DAY, NOW),
    ).toBe(stage);
  });

  it.each([
    [17, 'under-18'],
    [18, '18-24'],
    [34, '25-34'],
    [64, '55-64'],
    [65, '65+'],
  ])('age %p is in band %s', (age, band) => expect(ageBandOf(age)).toBe(band));
});

// ---- properties -------------------------------------------------------------------------------

const arbEvent: fc.Arbitrary<QueuedEvent> = fc
  .record({
    id: fc.uuid(),
    daysAgo: fc.integer({ min: 0, max: 120 }),
    recvOffset: fc.integer({ min: 0, max: 5000 }),
    kind: fc.constantFrom('page_view', 'search', 'add_to_cart', 'purchase', 'review', 'user_attributes'),
    cat: fc.constantFrom('A', 'B', 'C'),
    brand: fc.constantFrom('x', 'y'),
    n: fc.integer({ min: 1, max: 5 }),
    price: fc.integer({ min: 1, max: 900 }),
    region: fc.constantFrom('north', 'south', null),
  })
  .map(({ id, daysAgo, recvOffset, kind, cat, brand, n, price, region }) => {
    const timestamp = new Date(NOW - daysAgo * DAY - recvOffset).toISOString();
    const base = { eventId: id, userId: 'u1', timestamp, receivedAt: NOW - recvOffset };
    switch (kind) {
      case 'page_view':
        return { ...base, type: 'page_view', itemId: 'i', category: [cat], brand } as QueuedEvent;
      case 'search':
        return { ...base, type: 'search', query: `${cat}${n}` } as QueuedEvent;
      case 'add_to_cart':
        return { ...base, type: 'add_to_cart', itemId: 'i', quantity: n, category: [cat] } as QueuedEvent;
      case 'purchase':
        return {
          ...base,
          type: 'purchase',
          order: {
            orderId: id,
            currency: 'EUR',
            amount: price * n,
            paymentMethod: brand,
            lines: [{ itemId: 'i', quantity: n, unitPrice: price, category: [cat], brand }],
          },
        } as QueuedEvent;
      case 'review':
        return { ...base, type: 'review', itemId: 'i', rating: n, ...(n % 2 === 0 ? {} : { text: `${cat} is ${brand}!` }) } as QueuedEvent;
      default:
        return { ...base, type: 'user_attributes', attributes: { region } } as QueuedEvent;
    }
  });

/** Derived profile with floating-point interest scores rounded, for comparisons across fold orders. */
const comparable = (state: ProfileState) => {
  const doc = derive(state);
  const { state: _ignored, ...rest } = doc;
  return JSON.parse(JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v)));
};

describe('fold properties', () => {
  it('gives the same profile whatever the order of events within a batch', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), fc.func(fc.integer()), (events, key) => {
        const shuffled = [...events].sort((a, b) => key(a) - key(b));
        expect(fold(shuffled)).toEqual(fold(events));
      }),
    );
  });

  it('gives the same profile whether events arrive in one batch or many', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), fc.integer({ min: 1, max: 40 }), (events, cut) => {
        const split = fold(events.slice(cut), fold(events.slice(0, cut)));
        expect(comparable(split)).toEqual(comparable(fold(events)));
      }),
    );
  });

  it('applying any event twice equals applying it once', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { minLength: 1, maxLength: 30 }), fc.nat(), (events, pick) => {
        const again = events[pick % events.length]!;
        expect(fold([again], fold(events))).toEqual(fold(events));
        expect(fold([...events, again])).toEqual(fold(events));
      }),
    );
  });

  it('window counts never exceed the next wider window, and sum to the event count', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), (events) => {
        const p = derive(fold(events));
        let total = 0;
        for (const c of Object.values(p.behavior.counts)) {
          expect(c.d7).toBeLessThanOrEqual(c.d30);
          expect(c.d30).toBeLessThanOrEqual(c.d90);
          expect(c.d90).toBeLessThanOrEqual(c.lifetime);
          total += c.lifetime;
        }
        expect(total).toBe(events.filter((e) => e.type !== 'user_attributes').length);
      }),
    );
  });
});

describe('contact data in the stored profile', () => {
  const contactUpdate = (i: number, email: string | null | undefined, phone: string | null | undefined): QueuedEvent =>
    queued({
      type: 'user_attributes',
      eventId: `attrs-${i}`,
      timestamp: at(10 - i),
      attributes: { ...(email !== undefined ? { email } : {}), ...(phone !== undefined ? { phone } : {}) },
    });
  const email = fc.oneof(fc.constant(null), fc.constantFrom('Ann@Example.com', 'bob@shop.de', 'constructor@x.io', '__proto__@x.io'));
  const phone = fc.oneof(fc.constant(null), fc.constantFrom('+4915112345678', '+12025550123'));
  const update = fc.tuple(fc.option(email, { nil: undefined }), fc.option(phone, { nil: undefined }));

  it('keeps the e-mail and phone once, in `contact`: stored step by step, the profile is the one folded at once', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 5 }), (updates, cut) => {
        const events = updates.map(([e, p], i) => contactUpdate(i, e, p));
        const once = deriveProfile('u1', fold(events), NOW, NOW, OPTS);
        // As the indexer does: fold a first part, store the document, fold the rest onto the stored state.
        const first = deriveProfile('u1', fold(events.slice(0, cut)), NOW, NOW, OPTS);
        const stepwise = deriveProfile('u1', fold(events.slice(cut), first.state), NOW, NOW, OPTS, first);
        expect(stepwise.contact).toEqual(once.contact);
        for (const doc of [once, first, stepwise]) {
          const state = JSON.stringify(doc.state);
          for (const raw of ['Ann@Example.com', 'ann@example.com', 'bob@shop.de', '+4915112345678', '+12025550123', '@x.io'])
            expect(state).not.toContain(raw);
        }
      }),
    );
  });

  it('clears the e-mail when an update sets it to null, even once it lives in `contact`', () => {
    const first = deriveProfile('u1', fold([contactUpdate(0, 'Ann@Example.com', '+4915112345678')]), NOW, NOW, OPTS);
    expect(first.contact).toMatchObject({ email: 'ann@example.com', phone: '+4915112345678' });
    const cleared = deriveProfile('u1', fold([contactUpdate(1, null, undefined)], first.state), NOW, NOW, OPTS, first);
    expect(cleared.contact).toEqual({ phone: '+4915112345678' });
    // A refresh derives again from the stored document: the phone stays.
    expect(deriveProfile('u1', cleared.state, NOW + DAY, NOW, OPTS, cleared).contact).toEqual({ phone: '+4915112345678' });
  });
});
