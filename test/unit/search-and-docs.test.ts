import fc from 'fast-check';
import {
  ProfileSearchParams,
  buildProfileSearch,
  decodeCursor,
  encodeCursor,
  enrichEvent,
  itemsToEnrich,
  indexNames,
  eventsIndexMonth,
  toEventDoc,
  type QueuedEvent,
} from '@portrait/shared';
import { cappedBackoff, classifyBulkItem } from '@portrait/runtime';

describe('buildProfileSearch', () => {
  it('turns filters into term/range filters and free text into simple_query_string over allowed fields only', () => {
    const body = buildProfileSearch(
      ProfileSearchParams.parse({ q: 'boots', region: 'Bayern,Berlin', minSpend: '10', consent: 'email' }),
    ) as any;
    expect(body.query.bool.filter).toEqual(
      expect.arrayContaining([
        { terms: { 'attributes.region': ['Bayern', 'Berlin'] } },
        { term: { 'attributes.consents.email': true } },
        { range: { 'purchases.totalSpend': { gte: 10, lte: undefined } } },
      ]),
    );
    const fields: string[] = body.query.bool.must[0].simple_query_string.fields;
    expect(fields.some((f) => f.startsWith('contact') || f.startsWith('state'))).toBe(false);
    expect([...body._source.excludes].sort()).toEqual(['contact', 'segmentOutbox', 'state']);
  });

  it('sorts by relevance with text, by recency without, always with a unique tie-break', () => {
    expect((buildProfileSearch(ProfileSearchParams.parse({ q: 'x' })) as any).sort[0]).toEqual({ _score: { order: 'desc' } });
    const sort = (buildProfileSearch(ProfileSearchParams.parse({})) as any).sort;
    expect(sort[0]).toEqual({ 'behavior.lastSeen': { order: 'desc', missing: '_last' } });
    expect(sort[sort.length - 1]).toEqual({ userId: { order: 'asc' } });
  });

  it('uses search_after instead of from when continuing from a cursor', () => {
    const body = buildProfileSearch(ProfileSearchParams.parse({}), [123, 'u9']) as any;
    expect(body.search_after).toEqual([123, 'u9']);
    expect(body.from).toBeUndefined();
  });

  it('refuses inverted spend ranges and pages beyond the 10,000 window', () => {
    expect(ProfileSearchParams.safeParse({ minSpend: '5', maxSpend: '1' }).success).toBe(false);
    expect(ProfileSearchParams.safeParse({ page: '200', size: '100' }).success).toBe(false);
  });

  it('round-trips the sort values of any hit through a cursor: a sort key (or null) and a user id', () => {
    fc.assert(
      // Sort values arrive as JSON from Elasticsearch, which has no -0: generate what JSON can carry.
      fc.property(
        fc.oneof(
          fc.constant(null),
          fc.integer(),
          fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v + 0),
        ),
        fc.string({ minLength: 1, maxLength: 128 }),
        (key, userId) => {
          expect(decodeCursor(encodeCursor([key, userId]))).toEqual([key, userId]);
        },
      ),
    );
  });

  it('refuses a cursor it did not make, so Elasticsearch never sees a malformed search_after', () => {
    for (const values of [[], ['x'], ['x', 'y'], [{}, 'u'], [1, 'u', 2], [1, '']])
      expect(decodeCursor(encodeCursor(values))).toBeUndefined();
    expect(decodeCursor('not base64 json')).toBeUndefined();
  });
});

describe('event documents', () => {
  const base = { eventId: 'e1', userId: 'u1', timestamp: '2026-11-23T10:00:00+01:00', receivedAt: Date.parse('2026-11-23T09:00:01Z') };

  it('keeps attribute values (possible PII) out of the event history', () => {
    const doc = toEventDoc({ ...base, type: 'user_attributes', attributes: { email: 'a@b.c', region: 'x' } } as QueuedEvent);
    expect(doc.changedAttributes).toEqual(['email', 'region']);
    expect(JSON.stringify(doc)).not.toContain('a@b.c');
    expect(doc.timestamp).toBe('2026-11-23T09:00:00.000Z');
  });

  it('lists basket item ids once per order', () => {
    const doc = toEventDoc({
      ...base,
      type: 'purchase',
      order: {
        orderId: 'o',
        amount: 3,
        currency: 'EUR',
        paymentMethod: 'card',
        lines: [
          { itemId: 'a', quantity: 1, unitPrice: 1 },
          { itemId: 'a', quantity: 1, unitPrice: 1 },
          { itemId: 'b', quantity: 1, unitPrice: 1 },
        ],
      },
    } as QueuedEvent);
    expect(doc.order!.itemIds).toEqual(['a', 'b']);
  });

  it('fills only missing item facts from the catalogue', () => {
    const event = { ...base, type: 'add_to_cart', itemId: 'i', quantity: 1, brand: 'Own' } as QueuedEvent;
    expect(itemsToEnrich(event)).toEqual(['i']);
    const enriched = enrichEvent(event, () => ({ category: ['Shoes'], brand: 'Catalogue', price: 9 }));
    expect(enriched).toMatchObject({ category: ['Shoes'], brand: 'Own', price: 9 });
    expect(itemsToEnrich(enriched)).toEqual([]);
  });

  it('names monthly event indices and parses them back', () => {
    const names = indexNames('p');
    const index = names.eventsIndexFor(Date.parse('2026-02-28T23:59:59Z'));
    expect(index).toBe('p-events-2026.02');
    expect(eventsIndexMonth('p', index)).toEqual({ year: 2026, month: 2 });
    expect(eventsIndexMonth('p', 'p-events-latest')).toBeUndefined();
  });
});

describe('retry policy', () => {
  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => cappedBackoff(n, 10_000))).toEqual([500, 1000, 2000, 4000]);
    expect(cappedBackoff(60, 10_000)).toBe(10_000);
  });

  it('classifies bulk item outcomes', () => {
    expect(classifyBulkItem({ status: 201 } as never)).toBe('ok');
    expect(classifyBulkItem({ status: 409 } as never)).toBe('conflict');
    expect(classifyBulkItem({ status: 429 } as never)).toBe('transient');
    expect(classifyBulkItem({ status: 503 } as never)).toBe('transient');
    expect(classifyBulkItem({ status: 400 } as never)).toBe('permanent');
  });
});
