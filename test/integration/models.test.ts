/**
 * Models on the real stack: training jobs over the profile and event indices, stored versions, promotion
 * with a re-score that leaves no mix of versions, scoring in the indexer's own write, the insights routes,
 * and the refusals (an empty index, a model reading features profiles do not have).
 */
import type { Client } from '@portrait/runtime';
import { baseEnv, eventually, http, postEvents, startStack, testPrefix, trainModel, type Stack } from '../support/stack';

const prefix = testPrefix('models');
const env = baseEnv(prefix, { MODEL_PAGE_SIZE: '25', SEGMENT_RECONCILE_EVERY_MS: '3600000' });
let stack: Stack;
let es: Client;
let ingestUrl: string;
let queryUrl: string;
const profiles = `${prefix}-profiles`;

const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY).toISOString();
const CATEGORIES = ['Shoes', 'Electronics', 'Garden'];
/** Items bought together: the first two of each set are always in the same order, the third sometimes. */
const BUNDLES = [
  ['boot', 'sock', 'lace'],
  ['phone', 'case', 'charger'],
  ['spade', 'glove', 'seed'],
];

function order(userId: string, n: number, day: number, amount: number, bundle: number) {
  const items = BUNDLES[bundle]!.slice(0, n % 3 === 0 ? 3 : 2);
  return {
    type: 'purchase',
    userId,
    eventId: `${userId}-o${n}`,
    timestamp: daysAgo(day),
    order: {
      orderId: `${userId}-o${n}`,
      amount,
      currency: 'EUR',
      paymentMethod: 'card',
      lines: items.map((itemId) => ({ itemId, quantity: 1, unitPrice: amount / items.length, category: [CATEGORIES[bundle]!] })),
    },
  };
}

/** 90 users: ten browse only, the others buy 1-5 times at spends and recencies that differ, in three categories. */
function history(): unknown[] {
  const events: unknown[] = [];
  for (let i = 0; i < 90; i++) {
    const userId = `u${i}`;
    const bundle = i % 3;
    events.push({ type: 'page_view', userId, eventId: `${userId}-v0`, timestamp: daysAgo((i * 7) % 110), category: [CATEGORIES[bundle]!] });
    if (i < 10) continue;
    const orders = 1 + (i % 5);
    const last = (i * 13) % 100;
    for (let n = 0; n < orders; n++) events.push(order(userId, n, last + n * 9, 15 + ((i * 37) % 300), bundle));
  }
  return events;
}

const post = (events: unknown[]): Promise<void> => postEvents(ingestUrl, events);
const train = (kind: string, body: Record<string, unknown> = {}): Promise<any> => trainModel(queryUrl, kind, body);

async function versionsOn(kind: string): Promise<Record<string, number>> {
  await es.indices.refresh({ index: profiles });
  const res = await es.search({
    index: profiles,
    size: 0,
    aggs: { v: { terms: { field: `models.${kind}`, missing: -1, size: 20 } } },
  });
  const buckets = (res.aggregations!.v as { buckets: { key: number; doc_count: number }[] }).buckets;
  return Object.fromEntries(buckets.map((b) => [String(b.key), b.doc_count]));
}

async function profile(userId: string): Promise<any> {
  return (await http('GET', `${queryUrl}/v1/users/${userId}/profile`)).body;
}

beforeAll(async () => {
  stack = await startStack(prefix, env);
  es = stack.es;
  ingestUrl = stack.ing.url;
  queryUrl = stack.qry.url;
});

afterAll(async () => {
  await stack?.stop();
});

it('says so when a model is trained on an empty index', async () => {
  for (const [kind, reason] of [
    ['rfm', 'holds no profiles yet'],
    ['clusters', 'holds no profiles yet'],
    ['purchase', 'holds no behaviour events yet'],
    ['rules', 'no purchase between'],
  ] as const) {
    const status = await train(kind);
    expect({ kind, state: status.state }).toEqual({ kind, state: 'failed' });
    expect(status.failedReason).toContain(reason);
  }
  expect((await http('GET', `${queryUrl}/v1/models`)).body.models).toEqual([]);
  const none = await http('GET', `${queryUrl}/v1/insights/rfm`);
  expect(none.status).toBe(404);
  expect(none.body.message).toContain('POST /v1/models/rfm/train');
});

it('refuses bad training parameters before queueing anything', async () => {
  const bad = await http('POST', `${queryUrl}/v1/models/clusters/train`, { parameters: { kMin: 9, kMax: 3 } });
  expect(bad.status).toBe(400);
  expect(bad.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.parameters.kMin' })]));
  const unknown = await http('POST', `${queryUrl}/v1/models/rfm/train`, { parameters: { depth: 3 } });
  expect(unknown.status).toBe(400);
  expect((await http('POST', `${queryUrl}/v1/models/loyalty/train`, {})).status).toBe(400);
});

it('trains, stores and promotes an RFM model; every profile is scored with it and the grid adds up', async () => {
  await post(history());
  await eventually(async () => (await es.count({ index: profiles })).count === 90 || undefined, 30_000, '90 profiles');

  const trained = await train('rfm', { promote: true });
  expect(trained.state).toBe('completed');
  expect(trained.model).toMatchObject({ modelId: 'rfm-v1', version: 1, status: 'active' });
  const stored = await http('GET', `${queryUrl}/v1/models/rfm/1`);
  expect(stored.body).toMatchObject({ kind: 'rfm', status: 'active', training: { rows: 90, source: 'profiles', seed: 42 } });
  expect(stored.body.state.buyers).toBe(80);
  expect(stored.body.state.boundaries.recency).toHaveLength(4);

  await eventually(async () => ((await versionsOn('rfm'))['1'] === 90 ? true : undefined), 30_000, 'every profile scored by rfm v1');
  const browser = await profile('u0');
  expect(browser.value).toEqual({ tier: 'low' });
  expect(browser.rfm).toEqual({ group: 'prospect' });
  expect(browser.models).toEqual({ rfm: 1 });

  const grid = await http('GET', `${queryUrl}/v1/insights/rfm`);
  expect(grid.status).toBe(200);
  expect(grid.body.profiles).toBe(90);
  expect(grid.body.grid).toHaveLength(25);
  expect(grid.body.grid.reduce((s: number, c: { profiles: number }) => s + c.profiles, 0)).toBe(80);
  expect(grid.body.tiers.reduce((s: number, t: { profiles: number }) => s + t.profiles, 0)).toBe(90);

  const search = await http('GET', `${queryUrl}/v1/profiles/search?tier=high&facets=tier,rfmGroup&size=100`);
  expect(search.status).toBe(200);
  const high = grid.body.tiers.find((t: { tier: string }) => t.tier === 'high').profiles;
  expect(high).toBeGreaterThan(0);
  expect(search.body.total).toBe(high);
  expect(search.body.facets.tier).toEqual([{ value: 'high', count: high }]);
});

it('gives the same model for the same data and seed, and promotion re-scores everyone onto the new version', async () => {
  const again = await train('rfm');
  expect(again.model).toMatchObject({ version: 2, status: 'trained' });
  const [v1, v2] = await Promise.all([1, 2].map(async (v) => (await http('GET', `${queryUrl}/v1/models/rfm/${v}`)).body));
  expect(v2.state).toEqual(v1.state);
  expect(v2.quality).toEqual(v1.quality);

  const promoted = await http('POST', `${queryUrl}/v1/models/rfm/2/promote`);
  expect(promoted.status).toBe(200);
  expect(promoted.body).toMatchObject({ model: { version: 2, status: 'active' }, previous: 1 });
  expect(promoted.body.rescoreJobId).toEqual(expect.any(String));
  await eventually(async () => ((await versionsOn('rfm'))['2'] === 90 ? true : undefined), 30_000, 'every profile on rfm v2');
  expect(await versionsOn('rfm')).toEqual({ '2': 90 });
  const list = (await http('GET', `${queryUrl}/v1/models?kind=rfm`)).body.models;
  expect(list.map((m: { version: number; status: string }) => `${m.version}:${m.status}`)).toEqual(['2:active', '1:retired']);
});

it('trains clusters and propensities, and a profile moves when its behaviour changes', async () => {
  const clusters = await train('clusters', { promote: true, parameters: { kMin: 2, kMax: 4 } });
  expect(clusters.state).toBe('completed');
  const purchase = await train('purchase', { promote: true });
  expect(purchase.state).toBe('completed');
  const risk = await train('risk', { promote: true });
  expect(risk.state).toBe('completed');
  const model = (await http('GET', `${queryUrl}/v1/models/purchase/1`)).body;
  expect(model.quality.timeSplit.comparison.model.auc).toEqual(expect.any(Number));
  await eventually(
    async () => {
      for (const kind of ['clusters', 'purchase', 'risk']) if ((await versionsOn(kind))['1'] !== 90) return undefined;
      return true;
    },
    30_000,
    'every profile scored by clusters, purchase and risk v1',
  );
  const insight = await http('GET', `${queryUrl}/v1/insights/clusters`);
  expect(insight.status).toBe(200);
  expect(insight.body.clusters.reduce((s: number, c: { profiles: number }) => s + c.profiles, 0)).toBe(90);
  for (const c of insight.body.clusters) expect(c.label).toEqual(expect.any(String));

  const before = await profile('u1');
  expect(before.value.tier).toBe('low');
  const spree = Array.from({ length: 12 }, (_, n) => ({
    ...order('u1', 100 + n, 0, 400, 1),
    timestamp: new Date(Date.now() - n * 60_000).toISOString(),
  }));
  await post(spree);
  const after = await eventually(
    async () => {
      const p = await profile('u1');
      return p.purchases.orders === 12 ? p : undefined;
    },
    20_000,
    'u1 folded its orders',
  );
  expect(after.value.tier).toBe('high');
  expect(after.models).toEqual({ rfm: 2, clusters: 1, purchase: 1, risk: 1 });
  expect(after.risk).toMatchObject({ level: expect.stringMatching(/^(low|medium|high)$/), reasons: expect.any(Array) });
  // Twelve orders in one day: the purchase velocity signal fires for this profile and no other.
  expect(after.risk.reasons).toContain('purchase_velocity');
  expect(before.risk.reasons).toEqual([]);
  expect(after.cluster.id === before.cluster.id && after.cluster.distance === before.cluster.distance).toBe(false);
  expect(after.propensity.purchase).not.toBe(before.propensity.purchase);
});

it('segments on model fields, materialized by the backfill', async () => {
  const definition = { field: 'value.tier', op: 'eq', value: 'high' };
  const created = await http('POST', `${queryUrl}/v1/segments`, { segmentId: 'high-value', name: 'High value', definition });
  expect(created.status).toBe(201);
  const typo = await http('POST', `${queryUrl}/v1/segments/preview`, { definition: { field: 'value.tier', op: 'eq', value: 'gold' } });
  expect(typo.status).toBe(400);
  await eventually(
    async () => {
      const res = await http('GET', `${queryUrl}/v1/segments/high-value/membership`);
      return res.body.backfill?.state === 'completed' ? res.body : undefined;
    },
    30_000,
    'high-value backfill',
  );
  const search = await http('GET', `${queryUrl}/v1/profiles/search?tier=high&size=0`);
  const members = await http('GET', `${queryUrl}/v1/profiles/search?segment=high-value&size=0`);
  expect(members.body.total).toBe(search.body.total);
  expect((await profile('u1')).segments).toContain('high-value');
});

it('mines association rules from the purchase baskets and serves them by item', async () => {
  const rules = await train('rules', { promote: true });
  expect(rules.state).toBe('completed');
  const res = await http('GET', `${queryUrl}/v1/insights/rules?item=boot&minLift=1.5`);
  expect(res.status).toBe(200);
  expect(res.body.level).toBe('item');
  const sock = res.body.rules.find((r: { consequent: string[] }) => r.consequent.join() === 'sock');
  expect(sock).toMatchObject({ antecedent: ['boot'], confidence: 1 });
  expect(sock.text).toMatch(/^bought boot -> also buys sock, confidence 1, lift [\d.]+, support \d+ baskets$/);
  const categories = await http('GET', `${queryUrl}/v1/insights/rules?level=category&limit=5`);
  expect(categories.status).toBe(200);
  expect((await http('GET', `${queryUrl}/v1/insights/rules?limit=0`)).status).toBe(400);

  // Everything a user bought as one basket: every buyer's first order holds the whole bundle, so lace always follows boot.
  const byUser = await train('rules', { promote: true, parameters: { basket: 'user' } });
  expect(byUser.state).toBe('completed');
  const stored = (await http('GET', `${queryUrl}/v1/models/rules/2`)).body;
  expect(stored.training.rows).toBe(81); // the 80 buyers, and u1 since its spree
  const lace = (await http('GET', `${queryUrl}/v1/insights/rules?item=boot,sock`)).body.rules;
  expect(lace).toContainEqual(expect.objectContaining({ antecedent: ['boot', 'sock'], consequent: ['lace'], confidence: 1 }));
  // What the basket already holds is never recommended back.
  for (const rule of lace) expect(rule.consequent).toEqual(['lace']);
});

it('refuses to promote a model that reads features profiles do not have, and changes nothing', async () => {
  const doc = {
    modelId: 'churn-v9',
    kind: 'churn',
    version: 9,
    status: 'trained',
    algorithm: 'logistic-regression',
    parameters: {},
    features: ['loyalty_points'],
    quality: {},
    training: { rows: 1, source: 'events', asOf: daysAgo(0), seed: 1, durationMs: 1 },
    createdAt: daysAgo(0),
    state: {
      kind: 'logistic-regression',
      features: ['loyalty_points'],
      scaler: { means: [0], deviations: [1] },
      weights: [0.5],
      intercept: 0,
      quality: { rows: 1, positives: 0, l2: 0, iterations: 0, converged: true, trainLogLoss: 0 },
    },
  };
  await es.index({ index: `${prefix}-models`, id: doc.modelId, document: doc, refresh: true });
  const res = await http('POST', `${queryUrl}/v1/models/churn/9/promote`);
  expect(res.status).toBe(422);
  expect(res.body.error).toBe('unprocessable');
  expect(res.body.message).toContain('loyalty_points');
  expect(res.body.issues).toEqual([expect.objectContaining({ path: 'features.loyalty_points' })]);
  expect((await http('GET', `${queryUrl}/v1/models/churn/9`)).body.status).toBe('trained');
  expect(await versionsOn('churn')).toEqual({ '-1': 90 });
  expect((await http('GET', `${queryUrl}/v1/models/churn/10`)).status).toBe(404);
});
