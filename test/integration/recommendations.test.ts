/**
 * Recommendations on the real stack: content vectors written by the indexer and the vectorize job, collaborative
 * factors and neighbours from the events index, every strategy through the one endpoint with its filters, the cold
 * start, similar and also-bought items, and feedback events read back as click-through rates.
 */
import type { Client } from '@portrait/runtime';
import { baseEnv, eventually, http, postEvents, startStack, testPrefix, trainModel, type Stack } from '../support/stack';

const prefix = testPrefix('recs');
const env = baseEnv(prefix, { MODEL_PAGE_SIZE: '50', SEGMENT_RECONCILE_EVERY_MS: '3600000' });
let stack: Stack;
let es: Client;
let ingestUrl: string;
let queryUrl: string;

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

/** Three departments of eight items; the last of each is out of stock. */
const DEPARTMENTS = [
  { root: 'Outdoor', sub: 'Tents', words: 'tent camping trail waterproof hiking', brand: 'Northwind', price: 150 },
  { root: 'Kitchen', sub: 'Pans', words: 'pan frying skillet cast iron cooking', brand: 'Ferro', price: 40 },
  { root: 'Books', sub: 'Novels', words: 'novel paperback story chapters author', brand: 'Quill', price: 12 },
];
const PER_DEPARTMENT = 12;
const itemId = (d: number, i: number) => `${DEPARTMENTS[d]!.root.toLowerCase()}-${i}`;
const OUT_OF_STOCK = DEPARTMENTS.map((_, d) => itemId(d, PER_DEPARTMENT - 1));

function catalogue() {
  return DEPARTMENTS.flatMap((dep, d) =>
    Array.from({ length: PER_DEPARTMENT }, (_, i) => ({
      itemId: itemId(d, i),
      title: `${dep.brand} ${dep.sub.slice(0, -1)} ${i}`,
      description: `A ${dep.words.split(' ')[i % 5]} ${dep.words} item, model ${i}.`,
      category: [dep.root, dep.sub],
      brand: dep.brand,
      price: dep.price + i,
      tags: [dep.sub.toLowerCase()],
      inStock: i !== PER_DEPARTMENT - 1,
    })),
  );
}

/**
 * 60 shoppers in three taste groups: each views a window of four of its department's first ten items and buys two
 * of them together (half of them items 0 and 1), over the last days.
 */
function history(): unknown[] {
  const events: unknown[] = [];
  for (let u = 0; u < 60; u++) {
    const d = u % 3;
    const userId = `s${u}`;
    const start = Math.floor(u / 3) % 10;
    const items = [0, 1, 2, 3].map((j) => (start + j) % 10);
    items.forEach((i, n) =>
      events.push({
        type: 'page_view',
        userId,
        eventId: `${userId}-v${n}`,
        timestamp: hoursAgo(100 - n),
        itemId: itemId(d, i),
        category: [DEPARTMENTS[d]!.root, DEPARTMENTS[d]!.sub],
      }),
    );
    const bought = u % 2 === 0 ? [0, 1] : [items[0]!, items[1]!];
    events.push({
      type: 'purchase',
      userId,
      eventId: `${userId}-o`,
      timestamp: hoursAgo(90),
      order: {
        orderId: `${userId}-o`,
        amount: 100,
        currency: 'EUR',
        paymentMethod: 'card',
        lines: bought.map((i) => ({
          itemId: itemId(d, i),
          quantity: 1,
          unitPrice: 50,
          category: [DEPARTMENTS[d]!.root, DEPARTMENTS[d]!.sub],
        })),
      },
    });
  }
  return events;
}

const post = (events: unknown[]): Promise<void> => postEvents(ingestUrl, events);
const train = (kind: string, body: Record<string, unknown> = {}): Promise<any> => trainModel(queryUrl, kind, body);

async function recommend(userId: string, query = ''): Promise<any> {
  const res = await http('GET', `${queryUrl}/v1/users/${userId}/recommendations${query}`);
  expect({ status: res.status, body: res.status === 200 ? 'ok' : res.body }).toEqual({ status: 200, body: 'ok' });
  return res.body;
}

async function eventCount(): Promise<number> {
  await es.indices.refresh({ index: `${prefix}-events`, allow_no_indices: true, ignore_unavailable: true });
  return (await es.count({ index: `${prefix}-events`, allow_no_indices: true, ignore_unavailable: true })).count;
}

const rootOf = (id: string) => id.split('-')[0];

beforeAll(async () => {
  stack = await startStack(prefix, env);
  es = stack.es;
  ingestUrl = stack.ing.url;
  queryUrl = stack.qry.url;
  const items = await http('POST', `${ingestUrl}/v1/items/batch`, { items: catalogue() });
  expect(items.status).toBe(202);
  const events = history();
  await post(events);
  await eventually(async () => (await eventCount()) >= events.length, 60_000, 'history indexed');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('answers 409 for a strategy whose model is not active, and refuses content vectors that do not fit the items index', async () => {
  const res = await http('GET', `${queryUrl}/v1/users/s0/recommendations?strategy=content`);
  expect(res.status).toBe(409);
  expect(res.body.message).toContain('POST /v1/models/content/train');
  const wrong = await http('POST', `${queryUrl}/v1/models/content/train`, { parameters: { dims: 128 } });
  expect(wrong.status).toBe(400);
  expect(wrong.body.issues).toEqual([expect.objectContaining({ path: 'body.parameters.dims', reason: expect.stringContaining('256') })]);
});

it('trains the content and collaborative models, vectorizes the catalogue and measures against popularity', async () => {
  const content = await train('content', { promote: true, parameters: { minDocFreq: 1 } });
  expect(content.state).toBe('completed');
  await eventually(
    async () => {
      await es.indices.refresh({ index: `${prefix}-items` });
      return (
        (await es.count({ index: `${prefix}-items`, query: { term: { contentModel: content.model.version } } })).count ===
        3 * PER_DEPARTMENT
      );
    },
    30_000,
    'every item vectorized',
  );
  const collaborative = await train('collaborative', {
    promote: true,
    parameters: { als: { factors: 8, iterations: 8 }, cooccurrence: { minCount: 1 } },
  });
  expect(collaborative.state).toBe('completed');
  const model = (await http('GET', `${queryUrl}/v1/models/collaborative/${collaborative.model.version}`)).body;
  expect(model.quality).toMatchObject({ users: 60, items: 30, evaluatedUsers: 60 });
  expect(model.quality.hitRate).toBeGreaterThanOrEqual(model.quality.popularHitRate);
  const rules = await train('rules', { promote: true, parameters: { basket: 'user', minSupport: 2 } });
  expect(rules.state).toBe('completed');
});

it('never returns a bought or seen item, an out-of-stock item or an excluded one, whatever the strategy', async () => {
  for (const strategy of ['hybrid', 'content', 'item_cf', 'als', 'user_cf', 'popular']) {
    for (const u of [0, 1, 2, 7]) {
      const userId = `s${u}`;
      const profile = (await http('GET', `${queryUrl}/v1/users/${userId}/profile`)).body;
      const answer = await recommend(userId, `?strategy=${strategy}&k=20&exclude=${itemId(u % 3, 5)}`);
      const ids = answer.items.map((i: { itemId: string }) => i.itemId);
      for (const own of [...profile.items.bought, ...profile.items.recent, itemId(u % 3, 5), ...OUT_OF_STOCK]) {
        expect({ strategy, userId, own, returned: ids.includes(own) }).toEqual({ strategy, userId, own, returned: false });
      }
      expect(new Set(ids).size).toBe(ids.length);
      answer.items.forEach((item: { position: number; strategies: string[] }, i: number) => {
        expect(item.position).toBe(i + 1);
        if (strategy !== 'hybrid') expect(item.strategies).toEqual([strategy]);
      });
    }
  }
});

it('recommends from the shopper’s own department first, with a reason that names what they did', async () => {
  const answer = await recommend('s0', '?k=4');
  expect(answer.fallback).toBeUndefined();
  expect(answer.items.length).toBeGreaterThan(0);
  expect(answer.items.map((i: { itemId: string }) => rootOf(i.itemId))).toEqual(['outdoor', 'outdoor', 'outdoor', 'outdoor']);
  expect(answer.models).toEqual({ content: expect.any(Number), collaborative: expect.any(Number), rules: expect.any(Number) });
  const reasons = new Set<string>(answer.items.map((i: { reason: { code: string } }) => i.reason.code));
  expect([...reasons].some((code) => ['viewed', 'bought', 'carted', 'similar_shoppers', 'taste'].includes(code))).toBe(true);
  const named = answer.items.find((i: { reason: { itemId?: string } }) => i.reason.itemId !== undefined);
  if (named) expect(named.reason.text).toMatch(/^because you (viewed|carted|bought) /);
});

it('gives a cold-start or unknown shopper popular items, saying so', async () => {
  await http('PUT', `${ingestUrl}/v1/users/newcomer/attributes`, { attributes: { gender: 'female' } });
  await eventually(async () => (await http('GET', `${queryUrl}/v1/users/newcomer/profile`)).status === 200, 20_000, 'newcomer profile');
  for (const userId of ['newcomer', 'nobody-at-all']) {
    const answer = await recommend(userId, '?k=5');
    expect(answer.fallback).toBe('cold_start');
    expect(answer.items).toHaveLength(5);
    for (const item of answer.items) {
      expect(item.strategies).toEqual(['popular']);
      expect(['trending', 'popular']).toContain(item.reason.code);
      expect(OUT_OF_STOCK).not.toContain(item.itemId);
    }
  }
  const inCategory = await recommend('nobody-at-all', '?k=3&category=Kitchen');
  expect(inCategory.items.map((i: { itemId: string }) => rootOf(i.itemId))).toEqual(['kitchen', 'kitchen', 'kitchen']);
  expect(inCategory.items[0].reason).toEqual({ code: 'popular_in_category', text: 'popular in Kitchen' });
});

it('moves a shopper’s recommendations when they start viewing another department', async () => {
  const view = (n: number, d: number, i: number, h: number) => ({
    type: 'page_view',
    userId: 'mover',
    eventId: `mover-v${n}`,
    timestamp: hoursAgo(h),
    itemId: itemId(d, i),
    category: [DEPARTMENTS[d]!.root, DEPARTMENTS[d]!.sub],
  });
  await post([view(0, 0, 2, 50), view(1, 0, 3, 49)]);
  const before = await eventually(async () => {
    const answer = await recommend('mover', '?strategy=content&k=3');
    return answer.items.length === 3 ? answer : undefined;
  });
  expect(before.items.map((i: { itemId: string }) => rootOf(i.itemId))).toEqual(['outdoor', 'outdoor', 'outdoor']);
  const hybridBefore = await recommend('mover', '?k=3');
  const cart = (n: number, i: number) => ({ ...view(n, 1, i, 0.1), type: 'add_to_cart', quantity: 1 });
  await post([view(2, 1, 2, 2), view(3, 1, 3, 1), view(4, 1, 4, 1), view(5, 1, 2, 0.5), view(6, 1, 3, 0.2), cart(7, 2), cart(8, 3)]);
  const after = await eventually(async () => {
    const answer = await recommend('mover', '?strategy=content&k=3');
    return answer.items.every((i: { itemId: string }) => rootOf(i.itemId) === 'kitchen') ? answer : undefined;
  });
  expect(after.items[0].reason.text).toMatch(/^because you (viewed|carted) Ferro Pan/);
  const hybridAfter = await recommend('mover', '?k=3');
  const kitchen = (answer: { items: { itemId: string }[] }) => answer.items.filter((i) => rootOf(i.itemId) === 'kitchen').length;
  expect(kitchen(hybridAfter)).toBeGreaterThan(kitchen(hybridBefore));
});

it('applies the category and price filters and validates k and the filters', async () => {
  const filtered = await recommend('s0', '?k=10&category=Books&maxPrice=15');
  expect(filtered.items.length).toBeGreaterThan(0);
  for (const item of filtered.items) {
    expect(item.category[0]).toBe('Books');
    expect(item.price).toBeLessThanOrEqual(15);
  }
  for (const [query, path] of [
    ['?k=0', 'query.k'],
    ['?k=101', 'query.k'],
    ['?k=ten', 'query.k'],
    ['?strategy=magic', 'query.strategy'],
    ['?minPrice=10&maxPrice=5', 'query.minPrice'],
    ['?diversity=2', 'query.diversity'],
    ['?exclude=a,b%20c', 'query.exclude'],
    ['?colour=red', 'query.colour'],
  ] as const) {
    const res = await http('GET', `${queryUrl}/v1/users/s0/recommendations${query}`);
    expect({ query, status: res.status }).toEqual({ query, status: 400 });
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(path);
  }
  const diverse = await recommend('s0', '?k=6&diversity=1');
  expect(new Set(diverse.items.map((i: { itemId: string }) => rootOf(i.itemId))).size).toBeGreaterThanOrEqual(2);
});

it('finds similar and also-bought items, and 404s an unknown item', async () => {
  const similar = (await http('GET', `${queryUrl}/v1/items/${itemId(0, 0)}/similar?k=3`)).body;
  expect(similar.items.map((i: { itemId: string }) => rootOf(i.itemId))).toEqual(['outdoor', 'outdoor', 'outdoor']);
  expect(similar.items.map((i: { itemId: string }) => i.itemId)).not.toContain(itemId(0, 0));
  const also = (await http('GET', `${queryUrl}/v1/items/${itemId(1, 0)}/also-bought?k=3`)).body;
  expect(also.items[0].itemId).toBe(itemId(1, 1));
  expect(also.items[0].reason.text).toBe('often bought with Ferro Pan 0');
  for (const route of ['similar', 'also-bought'])
    expect((await http('GET', `${queryUrl}/v1/items/no-such-item/${route}`)).status).toBe(404);
});

it('gives a newly upserted item its content vector at once', async () => {
  const res = await http('PUT', `${ingestUrl}/v1/items/tent-new`, {
    title: 'Northwind Tent ultralight',
    description: 'An ultralight tent for camping and hiking trail trips, waterproof.',
    category: ['Outdoor', 'Tents'],
    brand: 'Northwind',
    price: 199,
  });
  expect(res.status).toBe(202);
  const doc = await eventually(async () => {
    const found = await es
      .get<{ contentModel?: number; content?: number[] }>({
        index: `${prefix}-items`,
        id: 'tent-new',
        _source_includes: ['contentModel', 'content'],
      })
      .catch(() => undefined);
    return found?._source?.contentModel !== undefined ? found._source : undefined;
  });
  expect(doc.content).toHaveLength(256);
  const similar = (await http('GET', `${queryUrl}/v1/items/tent-new/similar?k=2`)).body;
  expect(similar.items.map((i: { itemId: string }) => rootOf(i.itemId))).toEqual(['outdoor', 'outdoor']);
});

it('counts impressions and clicks per strategy and position, and damps items shown without a click', async () => {
  const answer = await recommend('s3', '?k=3');
  const shown = answer.items.map((item: { itemId: string; position: number }, n: number) => ({
    type: 'recommendation_impression',
    userId: 's3',
    eventId: `imp-${n}`,
    timestamp: hoursAgo(0.1),
    itemId: item.itemId,
    requestId: answer.requestId,
    strategy: answer.strategy,
    position: item.position,
  }));
  const click = { ...shown[0], type: 'recommendation_click', eventId: 'click-0' };
  await post([...shown, click]);
  const ctr = await eventually(async () => {
    const res = (await http('GET', `${queryUrl}/v1/insights/recommendations?days=7`)).body;
    return res.impressions === shown.length && res.clicks === 1 ? res : undefined;
  });
  expect(ctr.ctr).toBeCloseTo(1 / shown.length, 4);
  const hybrid = ctr.strategies.find((s: { strategy: string }) => s.strategy === 'hybrid');
  expect(hybrid.positions[0]).toEqual({ position: 1, impressions: 1, clicks: 1, ctr: 1 });
  expect(hybrid.positions[1]).toEqual({ position: 2, impressions: 1, clicks: 0, ctr: 0 });
  const bad = await http('POST', `${ingestUrl}/v1/events`, { ...click, eventId: 'click-bad', position: 0, strategy: 'guess' });
  expect(bad.status).toBe(400);
  expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['position', 'strategy']);
  // The second item was shown and not clicked: shown twice more, it loses ground against its own earlier score.
  const second = answer.items[1];
  await post([1, 2, 3, 4, 5, 6].map((n) => ({ ...shown[1], eventId: `imp-again-${n}`, timestamp: hoursAgo(0.05) })));
  await eventually(async () => {
    const again = await recommend('s3', '?k=10');
    const now = again.items.find((i: { itemId: string }) => i.itemId === second.itemId);
    return now === undefined || now.score < second.score ? true : undefined;
  });
});

it('serves a pinned model version, and says clearly why a version cannot be served', async () => {
  const active = await recommend('s0', '?strategy=als&k=3');
  const trained = await train('collaborative', { parameters: { als: { factors: 4, iterations: 4 }, cooccurrence: { minCount: 1 } } });
  expect(trained.state).toBe('completed');
  const version: number = trained.model.version;
  expect(version).toBeGreaterThan(active.models.collaborative);
  // Trained, not promoted: it answers when pinned, from its own factor indices; the active version answers otherwise.
  for (const strategy of ['als', 'user_cf', 'item_cf', 'hybrid']) {
    const pinned = await recommend('s0', `?strategy=${strategy}&k=3&models=collaborative:${version}`);
    expect(pinned.models.collaborative).toBe(version);
  }
  expect((await recommend('s0', '?strategy=als&k=3')).models.collaborative).toBe(active.models.collaborative);
  const also = await http('GET', `${queryUrl}/v1/items/${itemId(1, 0)}/also-bought?k=3&models=collaborative:${version}`);
  expect(also.body.models.collaborative).toBe(version);
  const pinnedActive = await recommend('s0', `?strategy=content&k=3&models=content:${active.models.content},rules:${active.models.rules}`);
  expect(pinnedActive.models).toEqual(active.models);

  const content = await http('GET', `${queryUrl}/v1/users/s0/recommendations?strategy=content&models=content:${active.models.content + 1}`);
  expect(content.status).toBe(409);
  expect(content.body.message).toContain(`v${active.models.content} is`);
  const unknown = await http('GET', `${queryUrl}/v1/users/s0/recommendations?models=collaborative:999`);
  expect(unknown.status).toBe(404);
  expect(unknown.body.message).toContain('no collaborative model version 999');
  for (const models of ['segments:1', 'collaborative:0', 'collaborative', 'collaborative:1,collaborative:2']) {
    const bad = await http('GET', `${queryUrl}/v1/users/s0/recommendations?models=${models}`);
    expect({ models, status: bad.status, path: bad.body.issues?.[0]?.path }).toEqual({ models, status: 400, path: 'query.models' });
  }

  // Its factors deleted (as the training job prunes old retired versions): a 409 that says so, not a 500.
  const state = (await http('GET', `${queryUrl}/v1/models/collaborative/${version}`)).body.state;
  await es.indices.delete({ index: [state.itemIndex, state.userIndex] });
  for (const strategy of ['als', 'hybrid']) {
    const gone = await http('GET', `${queryUrl}/v1/users/s0/recommendations?strategy=${strategy}&models=collaborative:${version}`);
    expect({ strategy, status: gone.status }).toEqual({ strategy, status: 409 });
    expect(gone.body.message).toContain('factor index');
  }
  expect((await recommend('s0', '?strategy=als&k=3')).models.collaborative).toBe(active.models.collaborative);
});
