import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CommonEnv,
  ConfigError,
  EventSchema,
  ItemDocSchema,
  checkEvent,
  checkItem,
  itemDocument,
  parseEnv,
  toQueued,
} from '@portrait/shared';

const NOW = Date.parse('2026-11-23T12:00:00Z');

/** Time bounds with the given future skew and a generous age. */
const skew = (maxFutureSkewMs: number) => ({ maxFutureSkewMs, maxAgeMs: 3650 * 86_400_000 });

describe('checkEvent', () => {
  const ok = { type: 'search', userId: 'u1', timestamp: '2026-11-23T11:59:00Z', query: 'boots' };

  it('accepts a valid event and keeps the client id', () => {
    const res = checkEvent({ ...ok, eventId: 'abc' }, NOW, skew(300_000));
    expect(res).toMatchObject({ ok: true, value: { eventId: 'abc', query: 'boots' } });
  });

  it('rejects a timestamp beyond the allowed clock skew, with the path prefixed', () => {
    const res = checkEvent({ ...ok, timestamp: '2026-11-23T12:10:00Z' }, NOW, skew(300_000), ['events', 4]);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.issues).toEqual([{ path: 'events.4.timestamp', reason: expect.stringMatching(/600 s in the future/) }]);
  });

  it('accepts timestamps with an offset and rejects ones before 2000', () => {
    expect(checkEvent({ ...ok, timestamp: '2026-11-23T13:00:00+02:00' }, NOW, skew(0)).ok).toBe(true);
    expect(checkEvent({ ...ok, timestamp: '1999-12-31T23:59:59Z' }, NOW, skew(0)).ok).toBe(false);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const res = checkEvent(raw, NOW, skew(300_000));
        if (!res.ok) expect(res.issues.length).toBeGreaterThan(0);
      }),
    );
  });

  it('accepts every event the schema accepts within the skew (valid purchases round-trip)', () => {
    const purchase = {
      type: 'purchase',
      userId: 'u',
      timestamp: '2026-11-20T00:00:00Z',
      order: { orderId: 'o', amount: 10, currency: 'EUR', paymentMethod: 'card', lines: [{ itemId: 'i', quantity: 2, unitPrice: 5 }] },
    };
    expect(EventSchema.safeParse(purchase).success).toBe(true);
    expect(checkEvent(purchase, NOW, skew(0)).ok).toBe(true);
  });
});

describe('toQueued', () => {
  it('derives the id of an event sent without one from its content, so a retried request is recognised', () => {
    const event = EventSchema.parse({ type: 'page_view', userId: 'u', timestamp: '2026-11-23T11:00:00Z', brand: 'b' });
    const sameInOtherOrder = EventSchema.parse({ brand: 'b', timestamp: '2026-11-23T11:00:00Z', userId: 'u', type: 'page_view' });
    const a = toQueued(event, NOW);
    expect(a.eventId).toMatch(/^h-[0-9a-f]{32}$/);
    expect(toQueued(sameInOtherOrder, NOW + 5000).eventId).toBe(a.eventId);
    expect(a.receivedAt).toBe(NOW);
    const later = EventSchema.parse({ type: 'page_view', userId: 'u', timestamp: '2026-11-23T11:00:00.001Z', brand: 'b' });
    expect(toQueued(later, NOW).eventId).not.toBe(a.eventId);
    expect(toQueued({ ...event, eventId: 'given' }, NOW).eventId).toBe('given');
  });
});

describe('bounds that keep accepted events applicable', () => {
  const at = '2026-11-23T11:00:00Z';
  const ok = { type: 'page_view', userId: 'u1', timestamp: at };
  const issueOf = (res: ReturnType<typeof checkEvent> | ReturnType<typeof checkItem>) => (res.ok ? undefined : res.issues[0]);

  it('refuses event times further back than the configured age', () => {
    const bounds = { maxFutureSkewMs: 0, maxAgeMs: 30 * 86_400_000 };
    expect(checkEvent({ ...ok, timestamp: '2026-11-01T00:00:00Z' }, NOW, bounds).ok).toBe(true);
    expect(issueOf(checkEvent({ ...ok, timestamp: '2026-10-01T00:00:00Z' }, NOW, bounds))).toMatchObject({
      path: 'timestamp',
      reason: expect.stringContaining('earliest time accepted'),
    });
  });

  it('refuses an item updatedAt before 2000 or ahead of the clock (it becomes the external version)', () => {
    const item = { title: 't', category: ['A'], price: 1 };
    expect(issueOf(checkItem({ ...item, updatedAt: '1969-12-31T23:59:59Z' }, 'i', NOW, skew(0)))?.path).toBe('updatedAt');
    expect(issueOf(checkItem({ ...item, updatedAt: '2999-01-01T00:00:00Z' }, 'i', NOW, skew(300_000)))?.reason).toContain('future');
    expect(checkItem({ ...item, updatedAt: '2001-01-01T00:00:00Z' }, 'i', NOW, skew(0)).ok).toBe(true);
  });

  it('refuses a number the Elasticsearch integer mapping cannot hold', () => {
    const search = { type: 'search', userId: 'u', timestamp: at, query: 'q' };
    expect(checkEvent({ ...search, resultsCount: 2_147_483_647 }, NOW, skew(0)).ok).toBe(true);
    expect(issueOf(checkEvent({ ...search, resultsCount: 2_147_483_648 }, NOW, skew(0)))?.path).toBe('resultsCount');
  });

  it('refuses lone surrogates anywhere, naming the field', () => {
    expect(issueOf(checkEvent({ ...ok, brand: 'a\uD800b' }, NOW, skew(0)))).toMatchObject({
      path: 'brand',
      reason: expect.stringContaining('surrogate'),
    });
    expect(issueOf(checkEvent({ ...ok, category: ['ok', '\uDC00'] }, NOW, skew(0), ['events', 2]))?.path).toBe('events.2.category.1');
    expect(issueOf(checkItem({ title: '\uD83D', category: ['A'], price: 1 }, 'i', NOW, skew(0)))?.path).toBe('title');
    expect(checkEvent({ ...ok, brand: '😀 emoji' }, NOW, skew(0)).ok).toBe(true);
  });

  it('normalizes contact data with the one rule exports use, and refuses what it cannot normalize', () => {
    const attrs = (attributes: Record<string, unknown>) => ({ type: 'user_attributes', userId: 'u', timestamp: at, attributes });
    const parsed = checkEvent(attrs({ phone: '+49 (0)170 123-4567', email: ' Jane.Doe@Example.COM ' }), NOW, skew(0));
    expect(parsed.ok && parsed.value.type === 'user_attributes' && parsed.value.attributes).toEqual({
      phone: '+491701234567',
      email: 'jane.doe@example.com',
    });
    expect(checkEvent(attrs({ phone: '+1234567' }), NOW, skew(0)).ok).toBe(true);
    expect(issueOf(checkEvent(attrs({ phone: '+123456' }), NOW, skew(0)))?.path).toBe('attributes.phone');
    expect(issueOf(checkEvent(attrs({ email: 'jane doe@example.com' }), NOW, skew(0), ['events', 3]))).toEqual({
      path: 'events.3.attributes.email',
      reason: 'contains whitespace',
    });
    expect(checkEvent(attrs({ email: null, phone: null }), NOW, skew(0)).ok).toBe(true);
  });

  it('completes a national phone number with the default calling code, and refuses it without one', () => {
    const national = { type: 'user_attributes', userId: 'u', timestamp: at, attributes: { phone: '(0170) 1234567' } };
    const completed = checkEvent(national, NOW, { ...skew(0), defaultCallingCode: '49' });
    expect(completed.ok && completed.value.type === 'user_attributes' && completed.value.attributes.phone).toBe('+491701234567');
    const refused = issueOf(checkEvent(national, NOW, skew(0)));
    expect(refused?.path).toBe('attributes.phone');
    expect(refused?.reason).toMatch(/^has no country code/);
  });
});

describe('checkItem', () => {
  it('versions an item by its updatedAt, else by receive time', () => {
    const item = { title: 't', category: ['A'], price: 1 };
    expect(checkItem({ ...item, updatedAt: '2026-01-01T00:00:00Z' }, 'i', NOW, skew(0))).toMatchObject({
      ok: true,
      value: { version: Date.parse('2026-01-01T00:00:00Z') },
    });
    expect(checkItem(item, 'i', NOW, skew(0))).toMatchObject({ ok: true, value: { itemId: 'i', version: NOW, inStock: true } });
  });

  it('requires an itemId in batch entries', () => {
    const res = checkItem({ title: 't', category: ['A'], price: 1 }, undefined, NOW, skew(0), ['items', 0]);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.issues[0]!.path).toBe('items.0.itemId');
  });
});

describe('parseEnv', () => {
  it('applies defaults', () => {
    expect(parseEnv(CommonEnv, {})).toMatchObject({ ES_URL: 'http://127.0.0.1:9200', PORTRAIT_PREFIX: 'portrait' });
  });

  it('lists every bad variable with its value and what to do', () => {
    try {
      parseEnv(CommonEnv, { ES_URL: 'not a url', PORTRAIT_PREFIX: 'Bad Prefix' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('ES_URL');
      expect(message).toContain('"not a url"');
      expect(message).toContain('PORTRAIT_PREFIX');
      expect(message).toContain('Fix the environment variables');
    }
  });
});

describe('reserved names', () => {
  it('refuses __proto__ wherever a name becomes a key in the profile state', () => {
    const at = '2026-11-23T11:00:00Z';
    expect(checkEvent({ type: 'page_view', userId: 'u', timestamp: at, eventId: '__proto__' }, NOW, skew(0)).ok).toBe(false);
    expect(checkEvent({ type: 'page_view', userId: 'u', timestamp: at, category: ['__proto__'] }, NOW, skew(0)).ok).toBe(false);
    expect(checkEvent({ type: 'page_view', userId: 'u', timestamp: at, brand: '__proto__' }, NOW, skew(0)).ok).toBe(false);
  });
});

describe('the catalogue document of an item', () => {
  const mapped = Object.keys(
    JSON.parse(readFileSync(path.resolve(__dirname, '../../infra/elasticsearch/indices/items.json'), 'utf8')).mappings.properties,
  );

  it('spells out the category path, defaults updatedAt to the version, and holds only mapped fields', () => {
    const checked = checkItem({ title: 'Oat milk', category: ['Food', 'Dairy', 'Milk'], price: 2.5 }, 'i-1', NOW, skew(0));
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    const doc = itemDocument(checked.value);
    expect(ItemDocSchema.parse(doc)).toEqual(doc);
    expect(doc).toMatchObject({
      itemId: 'i-1',
      categoryPath: ['Food', 'Food > Dairy', 'Food > Dairy > Milk'],
      updatedAt: new Date(checked.value.version).toISOString(),
    });
    expect(Object.keys(doc).filter((k) => !mapped.includes(k))).toEqual([]);
  });
});
