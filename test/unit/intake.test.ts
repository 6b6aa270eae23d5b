import fc from 'fast-check';
import { CommonEnv, ConfigError, EventSchema, checkEvent, checkItem, parseEnv, toQueued } from '@portrait/shared';

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('checkEvent', () => {
  const ok = { type: 'search', userId: 'u1', timestamp: '2026-11-23T11:59:00Z', query: 'boots' };

  it('accepts a valid event and keeps the client id', () => {
    const res = checkEvent({ ...ok, eventId: 'abc' }, NOW, 300_000);
    expect(res).toMatchObject({ ok: true, value: { eventId: 'abc', query: 'boots' } });
  });

  it('rejects a timestamp beyond the allowed clock skew, with the path prefixed', () => {
    const res = checkEvent({ ...ok, timestamp: '2026-11-23T12:10:00Z' }, NOW, 300_000, ['events', 4]);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.issues).toEqual([{ path: 'events.4.timestamp', reason: expect.stringMatching(/600 s in the future/) }]);
  });

  it('accepts timestamps with an offset and rejects ones before 2000', () => {
    expect(checkEvent({ ...ok, timestamp: '2026-11-23T13:00:00+02:00' }, NOW, 0).ok).toBe(true);
    expect(checkEvent({ ...ok, timestamp: '1999-12-31T23:59:59Z' }, NOW, 0).ok).toBe(false);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const res = checkEvent(raw, NOW, 300_000);
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
    expect(checkEvent(purchase, NOW, 0).ok).toBe(true);
  });
});

describe('toQueued', () => {
  it('assigns distinct ids when the client gave none, and stamps the receive time', () => {
    const event = EventSchema.parse({ type: 'page_view', userId: 'u', timestamp: '2026-11-23T11:00:00Z' });
    const a = toQueued(event, NOW);
    const b = toQueued(event, NOW);
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.receivedAt).toBe(NOW);
  });
});

describe('checkItem', () => {
  it('versions an item by its updatedAt, else by receive time', () => {
    const item = { title: 't', category: ['A'], price: 1 };
    expect(checkItem({ ...item, updatedAt: '2026-01-01T00:00:00Z' }, 'i', NOW)).toMatchObject({
      ok: true,
      value: { version: Date.parse('2026-01-01T00:00:00Z') },
    });
    expect(checkItem(item, 'i', NOW)).toMatchObject({ ok: true, value: { itemId: 'i', version: NOW, inStock: true } });
  });

  it('requires an itemId in batch entries', () => {
    const res = checkItem({ title: 't', category: ['A'], price: 1 }, undefined, NOW, ['items', 0]);
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
    expect(checkEvent({ type: 'page_view', userId: 'u', timestamp: at, eventId: '__proto__' }, NOW, 0).ok).toBe(false);
    expect(checkEvent({ type: 'page_view', userId: 'u', timestamp: at, category: ['__proto__'] }, NOW, 0).ok).toBe(false);
    expect(checkEvent({ type: 'page_view', userId: 'u', timestamp: at, brand: '__proto__' }, NOW, 0).ok).toBe(false);
  });
});
