import type { IngestService } from '@portrait/ingest';
import type { Client, Redis } from '@portrait/runtime';
import { baseEnv, cleanup, esClient, http, ingest, redisClient, testPrefix } from '../support/stack';

const prefix = testPrefix('ingest');
let service: IngestService;
let es: Client;
let redis: Redis;
const now = () => new Date().toISOString();
const view = (extra: Record<string, unknown> = {}) => ({ type: 'page_view', userId: 'u1', timestamp: now(), itemId: 'i1', ...extra });

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  service = await ingest(baseEnv(prefix, { INGEST_BODY_LIMIT: '200kb' }));
});

afterAll(async () => {
  await service.stop();
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

describe('POST /v1/events', () => {
  it('accepts a valid event with 202 and returns the id it was given', async () => {
    const res = await http('POST', `${service.url}/v1/events`, view({ eventId: 'client-id-1' }));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: 'client-id-1', status: 'accepted' });
  });

  it('assigns an id derived from the content when the client gives none, so a retried request counts once', async () => {
    const event = view({ brand: 'retry-brand' });
    const res = await http('POST', `${service.url}/v1/events`, event);
    expect(res.status).toBe(202);
    expect(res.body.eventId).toMatch(/^h-[0-9a-f]{32}$/);
    // The client saw a timeout and sends the same request again.
    const retried = await http('POST', `${service.url}/v1/events`, event);
    expect(retried.body).toEqual({ eventId: res.body.eventId, status: 'duplicate' });
    const batch = await http('POST', `${service.url}/v1/events/batch`, { events: [event, view({ brand: 'other' })] });
    expect(batch.body).toMatchObject({ accepted: 1, duplicate: 1 });
  });

  it('answers a re-sent event id as a duplicate without queueing it again', async () => {
    const event = view({ eventId: 'resend-1' });
    expect((await http('POST', `${service.url}/v1/events`, event)).status).toBe(202);
    const again = await http('POST', `${service.url}/v1/events`, event);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');
  });

  it('names the field and reason of each problem', async () => {
    const res = await http('POST', `${service.url}/v1/events`, {
      type: 'purchase',
      userId: '',
      timestamp: now(),
      order: { orderId: 'o1', amount: -5, currency: 'euro', paymentMethod: 'card', lines: [] },
    });
    expect(res.status).toBe(400);
    const paths = res.body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['userId', 'order.amount', 'order.currency', 'order.lines']));
    expect(res.body.issues.every((i: { reason: string }) => i.reason.length > 0)).toBe(true);
  });

  it('rejects an unknown event type and unknown fields', async () => {
    expect((await http('POST', `${service.url}/v1/events`, { ...view(), type: 'teleport' })).status).toBe(400);
    const res = await http('POST', `${service.url}/v1/events`, { ...view(), ratingg: 5 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.issues)).toContain('ratingg');
  });

  it('rejects wrong types', async () => {
    const res = await http('POST', `${service.url}/v1/events`, {
      type: 'review',
      userId: 'u1',
      timestamp: now(),
      itemId: 'i1',
      rating: '5',
    });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toBe('rating');
  });

  it('rejects a timestamp far in the future', async () => {
    const res = await http('POST', `${service.url}/v1/events`, view({ timestamp: new Date(Date.now() + 3_600_000).toISOString() }));
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toBe('timestamp');
    expect(res.body.issues[0].reason).toMatch(/future/);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await http('POST', `${service.url}/v1/events`, '{"type": "page_view",');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('malformed_json');
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await http('POST', `${service.url}/v1/events`, 'type=page_view', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
  });

  it('answers an oversized body with 413', async () => {
    const res = await http('POST', `${service.url}/v1/events`, view({ url: 'x'.repeat(300_000) }));
    expect(res.status).toBe(413);
  });
});

describe('POST /v1/events/batch', () => {
  it('accepts the good events and reports each bad one by index and path', async () => {
    const res = await http('POST', `${service.url}/v1/events/batch`, {
      events: [view({ eventId: 'b-1' }), { ...view(), rating: 3 }, view({ eventId: 'b-1' }), view({ eventId: 'b-2' }), 'not an event'],
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 2, duplicate: 1, rejected: 2 });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'rejected',
      'duplicate',
      'accepted',
      'rejected',
    ]);
    expect(res.body.results[1].issues[0].path).toMatch(/^events\.1/);
  });

  it('answers 400 when no event in the batch is valid', async () => {
    const res = await http('POST', `${service.url}/v1/events/batch`, { events: [{}, { type: 'search' }] });
    expect(res.status).toBe(400);
    expect(res.body.rejected).toBe(2);
  });

  it('refuses more events than the batch limit', async () => {
    const res = await http('POST', `${service.url}/v1/events/batch`, { events: Array.from({ length: 1001 }, () => ({})) });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toBe('events');
  });

  it('refuses a body that is not {events: [...]}', async () => {
    expect((await http('POST', `${service.url}/v1/events/batch`, [view()])).status).toBe(400);
    expect((await http('POST', `${service.url}/v1/events/batch`, { events: [] })).status).toBe(400);
  });
});

describe('attributes and items', () => {
  it('queues an attribute update and validates e-mail and phone', async () => {
    const ok = await http('PUT', `${service.url}/v1/users/u1/attributes`, { attributes: { region: 'Bavaria', phone: '+4915112345678' } });
    expect(ok.status).toBe(202);
    const messy = await http('PUT', `${service.url}/v1/users/u1/attributes`, { attributes: { phone: '0049 (0)151 1234-5678' } });
    expect(messy.status).toBe(202);
    const bad = await http('PUT', `${service.url}/v1/users/u1/attributes`, { attributes: { email: 'nope', phone: '0151 123' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['attributes.email', 'attributes.phone']);
  });

  it('refuses an empty attribute update and a bad user id', async () => {
    expect((await http('PUT', `${service.url}/v1/users/u1/attributes`, { attributes: {} })).status).toBe(400);
    const res = await http('PUT', `${service.url}/v1/users/${encodeURIComponent('a b')}/attributes`, { attributes: { region: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toBe('params.id');
  });

  it('upserts an item and reports bad items in a batch', async () => {
    const ok = await http('PUT', `${service.url}/v1/items/sku-1`, {
      title: 'Trail shoe',
      category: ['Shoes', 'Running'],
      price: 89.9,
      brand: 'Acme',
    });
    expect(ok.status).toBe(202);
    const batch = await http('POST', `${service.url}/v1/items/batch`, {
      items: [
        { itemId: 'sku-2', title: 'Sock', category: ['Socks'], price: 5 },
        { itemId: 'sku-3', title: 'No price', category: ['Socks'] },
      ],
    });
    expect(batch.status).toBe(202);
    expect(batch.body.results[1]).toMatchObject({ status: 'rejected', issues: [{ path: 'items.1.price' }] });
  });

  it('refuses an item version Elasticsearch could not keep: before 2000 or ahead of the clock', async () => {
    const item = { title: 'Old', category: ['Socks'], price: 5 };
    const old = await http('PUT', `${service.url}/v1/items/sku-old`, { ...item, updatedAt: '1969-07-20T20:17:00Z' });
    expect(old.status).toBe(400);
    expect(old.body.issues).toEqual([{ path: 'updatedAt', reason: expect.stringContaining('earliest') }]);
    const future = await http('POST', `${service.url}/v1/items/batch`, {
      items: [
        { itemId: 'sku-future', ...item, updatedAt: '2999-01-01T00:00:00Z' },
        { itemId: 'sku-now', ...item },
      ],
    });
    expect(future.status).toBe(202);
    expect(future.body).toMatchObject({
      accepted: 1,
      rejected: 1,
      results: [{ status: 'rejected', issues: [{ path: 'items.0.updatedAt' }] }, { status: 'accepted' }],
    });
  });

  it('refuses lone surrogates and values beyond the integer mapping, event by event', async () => {
    const res = await http('POST', `${service.url}/v1/events/batch`, {
      events: [
        view({ brand: 'broken \ud800' }),
        { type: 'search', userId: 'u1', timestamp: now(), query: 'q', resultsCount: 2 ** 31 },
        view({ timestamp: '2001-01-01T00:00:00Z' }),
        view({ brand: 'fine' }),
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.results.map((r: { status: string; issues?: { path: string }[] }) => [r.status, r.issues?.[0]?.path])).toEqual([
      ['rejected', 'events.0.brand'],
      ['rejected', 'events.1.resultsCount'],
      ['rejected', 'events.2.timestamp'],
      ['accepted', undefined],
    ]);
  });
});

describe('operations', () => {
  it('serves health, readiness and metrics', async () => {
    expect((await http('GET', `${service.url}/healthz`)).status).toBe(200);
    const ready = await http('GET', `${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ redis: 'up', elasticsearch: 'up' });
    const metrics = await http('GET', `${service.url}/metrics`);
    expect(metrics.body).toContain('portrait_ingest_events_total{outcome="accepted"');
    expect(metrics.body).toContain('portrait_ingest_queue_depth');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await http('GET', `${service.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});

describe('back-pressure and outages', () => {
  it('answers 429 with Retry-After once the queue is over its limit', async () => {
    const p = testPrefix('full');
    const small = await ingest(baseEnv(p, { INGEST_MAX_QUEUE_DEPTH: '3' }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push((await http('POST', `${small.url}/v1/events`, view())).status);
        await new Promise((r) => setTimeout(r, 300)); // depth is sampled every 250 ms
      }
      expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
      expect(statuses.slice(3)).toEqual([429, 429, 429]);
      const res = await http('POST', `${small.url}/v1/events`, view());
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.body.error).toBe('queue_full');
    } finally {
      await small.stop();
      await cleanup(p, es, redis);
    }
  });

  it('answers 503 and queues nothing while Redis is unreachable', async () => {
    const p = testPrefix('noredis');
    const down = await ingest(baseEnv(p, { REDIS_URL: 'redis://127.0.0.1:6' }));
    try {
      const res = await http('POST', `${down.url}/v1/events`, view());
      expect(res.status).toBe(503);
      expect(res.body.dependency).toBe('redis');
      expect((await http('GET', `${down.url}/readyz`)).status).toBe(503);
    } finally {
      await down.stop();
    }
  });
});
