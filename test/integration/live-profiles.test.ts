import type { IngestService } from '@portrait/ingest';
import type { QueryService } from '@portrait/query';
import type { Client, Redis } from '@portrait/runtime';
import { baseEnv, eventually, http, startStack, testPrefix, type Stack, namespaceOf } from '../support/stack';

const prefix = testPrefix('live');
const env = baseEnv(prefix);
let es: Client;
let redis: Redis;
let ing: IngestService;
let qry: QueryService;
let stack: Stack;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

async function profileOf(userId: string, until: (p: any) => boolean, what: string): Promise<any> {
  return eventually(
    async () => {
      const res = await http('GET', `${qry.url}/v1/users/${userId}/profile`);
      return res.status === 200 && until(res.body) ? res.body : undefined;
    },
    20_000,
    what,
  );
}

beforeAll(async () => {
  stack = await startStack(prefix, env);
  ({ es, redis, ing, qry } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

it('folds posted events into a profile that is readable within seconds', async () => {
  await http('PUT', `${ing.url}/v1/items/sku-shoe`, { title: 'Trail shoe', category: ['Shoes', 'Running'], brand: 'Acme', price: 89 });
  await eventually(async () => (await es.exists({ index: `${prefix}-items`, id: 'sku-shoe' })) || undefined, 10_000, 'item indexed');
  const batch = await http('POST', `${ing.url}/v1/events/batch`, {
    events: [
      { type: 'page_view', userId: 'alice', timestamp: minutesAgo(30), itemId: 'sku-shoe' },
      { type: 'search', userId: 'alice', timestamp: minutesAgo(29), query: 'trail running shoes' },
      { type: 'add_to_cart', userId: 'alice', timestamp: minutesAgo(28), itemId: 'sku-shoe', quantity: 1 },
      {
        type: 'purchase',
        userId: 'alice',
        timestamp: minutesAgo(25),
        order: {
          orderId: 'o-1',
          amount: 89,
          currency: 'EUR',
          paymentMethod: 'paypal',
          lines: [{ itemId: 'sku-shoe', quantity: 1, unitPrice: 89 }],
        },
      },
      { type: 'review', userId: 'alice', timestamp: minutesAgo(5), itemId: 'sku-shoe', rating: 5 },
      { type: 'page_view', userId: 'alice', timestamp: daysAgo(40), category: ['Garden'] },
    ],
  });
  expect(batch.body.accepted).toBe(6);
  await http('PUT', `${ing.url}/v1/users/alice/attributes`, {
    attributes: {
      gender: 'female',
      birthYear: 1991,
      region: 'Bavaria',
      city: 'Munich',
      email: 'alice@example.com',
      consents: { email: true },
    },
  });

  const p = await profileOf('alice', (b) => b.behavior.eventCount === 6 && b.attributes.city === 'Munich', 'alice folded');
  expect(p.behavior.counts.page_view).toEqual({ d7: 1, d30: 1, d90: 2, lifetime: 2 });
  expect(p.behavior.counts.purchase.lifetime).toBe(1);
  expect(p.behavior.recentSearches).toEqual(['trail running shoes']);
  expect(p.purchases).toMatchObject({
    orders: 1,
    totalSpend: 89,
    avgOrderValue: 89,
    paymentMethods: ['paypal'],
    preferredPriceBand: 'mid',
  });
  // Category and brand came from the catalogue: the events did not carry them.
  expect(p.interests.topCategories[0]).toBe('Shoes');
  expect(p.interests.topBrands).toEqual(['Acme']);
  expect(p.reviews).toEqual({ count: 1, avgRating: 5 });
  expect(p.attributes).toMatchObject({ ageBand: expect.any(String), region: 'Bavaria', consents: { email: true, sms: false } });
  expect(p.lifecycle.stage).toBe('active');
  // PII and internal state stay out of the API.
  expect(p.contact).toBeUndefined();
  expect(p.state).toBeUndefined();
});

it('stores the event history without PII', async () => {
  await eventually(
    async () => {
      await es.indices.refresh({ index: `${prefix}-events` });
      const res = await es.search({ index: `${prefix}-events`, query: { term: { userId: 'alice' } }, size: 20 });
      return (res.hits.total as { value: number }).value === 7 ? res : undefined;
    },
    15_000,
    'event history',
  );
  const attrs = await es.search<{ changedAttributes: string[] }>({
    index: `${prefix}-events`,
    query: { term: { type: 'user_attributes' } },
  });
  const doc = attrs.hits.hits[0]!._source!;
  expect(doc.changedAttributes).toContain('email');
  expect(JSON.stringify(doc)).not.toContain('alice@example.com');
});

it('counts an event sent twice, or redelivered, once', async () => {
  const event = { eventId: 'dup-1', type: 'page_view', userId: 'bob', timestamp: minutesAgo(1), category: ['Books'] };
  await http('POST', `${ing.url}/v1/events`, event);
  await http('POST', `${ing.url}/v1/events/batch`, { events: [event, event, { ...event, eventId: 'dup-2' }] });
  await profileOf('bob', (b) => b.behavior.eventCount === 2, 'bob has two events');
  // A redelivery that slipped past ingest (same id, straight onto the queue) changes nothing either.
  const { createIngestQueue } = await import('@portrait/runtime');
  const queue = createIngestQueue(redis, await namespaceOf(es, prefix));
  const job = await queue.add('events', { events: [{ ...event, receivedAt: Date.now() } as never] });
  // Applied batches leave the queue at once.
  await eventually(async () => (await job.getState()) === 'unknown', 10_000, 'redelivery applied');
  await new Promise((r) => setTimeout(r, 500));
  const p = (await http('GET', `${qry.url}/v1/users/bob/profile`)).body;
  expect(p.behavior.eventCount).toBe(2);
  await queue.close();
});

it('answers 404 for an unknown user and 400 for a bad id', async () => {
  expect((await http('GET', `${qry.url}/v1/users/nobody-here/profile`)).status).toBe(404);
  expect((await http('GET', `${qry.url}/v1/users/${encodeURIComponent('bad id')}/profile`)).status).toBe(400);
});

describe('profile search', () => {
  beforeAll(async () => {
    const regions = ['Saxony', 'Hesse', 'Bremen'];
    const events = Array.from({ length: 30 }, (_, i) => ({
      type: 'search',
      userId: `s-${String(i).padStart(2, '0')}`,
      timestamp: minutesAgo(60 - i),
      query: i % 2 === 0 ? 'red dress' : 'garden hose',
    }));
    await http('POST', `${ing.url}/v1/events/batch`, { events });
    for (let i = 0; i < 30; i++) {
      await http('PUT', `${ing.url}/v1/users/s-${String(i).padStart(2, '0')}/attributes`, {
        attributes: { region: regions[i % 3], gender: i % 2 ? 'male' : 'female', birthYear: 1980 + i },
      });
    }
    await eventually(
      async () => {
        await es.indices.refresh({ index: `${prefix}-profiles` });
        const res = await http('GET', `${qry.url}/v1/profiles/search?region=Saxony,Hesse,Bremen&size=0`);
        if (res.body.total !== 30) throw new Error(JSON.stringify(res.body).slice(0, 300));
        return true;
      },
      20_000,
      'search profiles indexed',
    );
  });

  it('finds profiles by free text over recent searches and attributes', async () => {
    const res = await http('GET', `${qry.url}/v1/profiles/search?q=dress&size=50`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(15);
    expect(res.body.items.every((p: any) => p.behavior.recentSearches.includes('red dress'))).toBe(true);
    expect((await http('GET', `${qry.url}/v1/profiles/search?q=hesse&size=0`)).body.total).toBe(10);
  });

  it('filters, facets and sorts', async () => {
    const res = await http(
      'GET',
      `${qry.url}/v1/profiles/search?region=Saxony&gender=female&sort=-eventCount&facets=region,gender,ageBand`,
    );
    expect(res.body.total).toBe(5);
    expect(res.body.items.every((p: any) => p.attributes.region === 'Saxony' && p.attributes.gender === 'female')).toBe(true);
    expect(res.body.facets.region).toEqual([{ value: 'Saxony', count: 5 }]);
    expect(Object.keys(res.body.facets).sort()).toEqual(['ageBand', 'gender', 'region']);
  });

  it('pages with a cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await http(
        'GET',
        `${qry.url}/v1/profiles/search?q=dress%20hose&size=7&sort=userId${cursor ? `&cursor=${cursor}` : ''}`
          .replace('q=dress%20hose&', 'region=Saxony,Hesse,Bremen&')
          .replace('sort=userId', 'sort=firstSeen'),
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((p: any) => p.userId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it('rejects bad parameters with the field at fault', async () => {
    const res = await http('GET', `${qry.url}/v1/profiles/search?size=1000&sort=shoeSize&minSpend=10&maxSpend=1`);
    expect(res.status).toBe(400);
    const paths = res.body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['query.size', 'query.sort']));
    expect((await http('GET', `${qry.url}/v1/profiles/search?cursor=zzz`)).status).toBe(400);
    expect((await http('GET', `${qry.url}/v1/profiles/search?colour=red`)).status).toBe(400);
  });
});
