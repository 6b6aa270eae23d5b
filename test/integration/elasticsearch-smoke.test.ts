/**
 * Proves, on the real server, every mapping, query and aggregation the product relies on, so the
 * minimal distribution (no Painless, no reindex module, no analysis-common) and a full one both serve it.
 */
import {
  DEFAULT_PROFILE_OPTIONS,
  FACETS,
  buildProfileSearch,
  deriveProfile,
  foldEvents,
  indexNames,
  type ProfileDoc,
  type ProfileScores,
  type QueuedEvent,
} from '@portrait/shared';
import { applyRetention, refreshProfiles } from '@portrait/jobs';
import {
  ALIASED_INDICES,
  aliasOf,
  bootstrapIndices,
  createLogger,
  createSegmentChangesQueue,
  errors,
  readDefinition,
  NO_SCORING,
  SegmentRegistry,
  type AliasedIndex,
  type Client,
  type Redis,
} from '@portrait/runtime';
import { ProfileSearchParams } from '@portrait/shared';
import { cleanup, esClient, redisClient, testPrefix, namespaceOf } from '../support/stack';

const prefix = testPrefix('smoke');
const names = indexNames(prefix);
const DAY = 86_400_000;
let es: Client;
let redis: Redis;

const ev = (e: Partial<QueuedEvent> & Pick<QueuedEvent, 'type'>, i: number): QueuedEvent =>
  ({
    eventId: `s-${i}`,
    userId: 'u',
    timestamp: new Date(Date.now() - i * 60_000).toISOString(),
    receivedAt: Date.now(),
    ...e,
  }) as QueuedEvent;

function profile(userId: string, events: QueuedEvent[], now = Date.now()): ProfileDoc {
  const { state } = foldEvents(
    undefined,
    events.map((e) => ({ ...e, userId })),
    now,
    DEFAULT_PROFILE_OPTIONS,
  );
  return deriveProfile(userId, state, now, now, DEFAULT_PROFILE_OPTIONS);
}

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
});

afterAll(async () => {
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

it('bootstraps idempotently: templates, versioned indices behind aliases', async () => {
  const first = await bootstrapIndices(es, prefix);
  const versioned = (name: AliasedIndex) => `${aliasOf(names, name)}-v${readDefinition(name).version}`;
  expect(first.created.sort()).toEqual(ALIASED_INDICES.map(versioned).sort());
  const again = await Promise.all([bootstrapIndices(es, prefix), bootstrapIndices(es, prefix)]);
  expect(again.flatMap((r) => r.created)).toEqual([]);
  const alias = await es.indices.getAlias({ name: names.profiles });
  expect(Object.keys(alias)).toEqual([versioned('profiles')]);
});

it('accepts a fully derived profile under the strict mapping, and every query the search API builds', async () => {
  const full = profile('full', [
    ev({ type: 'page_view', itemId: 'i', category: ['Shoes'], brand: 'Acme', price: 10 }, 1),
    ev({ type: 'search', query: 'red shoes' }, 2),
    ev({ type: 'add_to_cart', itemId: 'i', quantity: 1, category: ['Shoes'] }, 3),
    ev({ type: 'remove_from_cart', itemId: 'i', quantity: 1 }, 4),
    ev(
      {
        type: 'purchase',
        order: {
          orderId: 'o',
          amount: 10,
          currency: 'EUR',
          paymentMethod: 'card',
          lines: [{ itemId: 'i', quantity: 1, unitPrice: 10, category: ['Shoes'], brand: 'Acme' }],
        },
      },
      5,
    ),
    ev({ type: 'review', itemId: 'i', rating: 4 }, 6),
    ev(
      {
        type: 'user_attributes',
        attributes: {
          gender: 'female',
          birthYear: 1990,
          occupation: 'nurse',
          region: 'Saxony',
          city: 'Leipzig',
          signupDate: '2025-01-01T00:00:00Z',
          email: 'a@b.c',
          phone: '+491511234567',
          consents: { email: true, ads: false },
        },
      },
      7,
    ),
  ]);
  // Every score the models write, as the indexer writes them beside the derived fields.
  const scores: ProfileScores = {
    value: { tier: 'high' },
    rfm: { r: 5, f: 4, m: 5, code: '545', group: 'champions' },
    cluster: { id: 2, label: 'frequent high-spend shoppers', distance: 1.25 },
    propensity: { purchase: 0.31, churn: 0.08 },
    risk: { score: 0.5, level: 'high', flagged: true, reasons: ['purchase_velocity'], anomaly: 1.4 },
    models: { rfm: 1, clusters: 1, purchase: 1, churn: 1, risk: 1 },
  };
  Object.assign(full, scores);
  await es.index({ index: names.profiles, id: 'full', document: full, refresh: true });

  const params = ProfileSearchParams.parse({
    q: 'leipzig shoes',
    region: 'Saxony',
    gender: 'female',
    ageBand: full.attributes.ageBand,
    lifecycle: 'new',
    category: 'Shoes',
    brand: 'Acme',
    paymentMethod: 'card',
    consent: 'email',
    minOrders: '1',
    minSpend: '5',
    maxSpend: '50',
    lastSeenAfter: new Date(Date.now() - DAY).toISOString(),
    sort: '-totalSpend',
    tier: 'high',
    rfmGroup: 'champions',
    cluster: '2',
    riskLevel: 'high',
    riskReason: 'purchase_velocity',
  });
  const res = await es.search({ index: names.profiles, ...(buildProfileSearch(params) as object) });
  expect((res.hits.total as { value: number }).value).toBe(1);
  expect(Object.keys(res.aggregations ?? {}).sort()).toEqual(Object.keys(FACETS).sort());
  // PII is stored for exports but is neither searchable nor aggregatable.
  await expect(es.search({ index: names.profiles, query: { term: { 'contact.email': 'a@b.c' } } })).rejects.toThrow();
});

it('serves nested interest queries, prefix, exists, range and the aggregations segments will need', async () => {
  const hits = async (query: object) =>
    ((await es.search({ index: names.profiles, query, size: 0 })).hits.total as { value: number }).value;
  expect(
    await hits({
      nested: {
        path: 'interests.categories',
        query: {
          bool: { filter: [{ term: { 'interests.categories.name': 'Shoes' } }, { range: { 'interests.categories.score': { gt: 1 } } }] },
        },
      },
    }),
  ).toBe(1);
  expect(await hits({ prefix: { 'attributes.city': 'Lei' } })).toBe(1);
  expect(await hits({ exists: { field: 'purchases.lastPurchaseAt' } })).toBe(1);
  expect(await hits({ range: { 'behavior.counts.page_view.d30': { gte: 1 } } })).toBe(1);
  const aggs = await es.search({
    index: names.profiles,
    size: 0,
    aggs: {
      spend: { stats: { field: 'purchases.totalSpend' } },
      p: { percentiles: { field: 'purchases.avgOrderValue' } },
      users: { cardinality: { field: 'userId' } },
      seen: { date_histogram: { field: 'behavior.lastSeen', calendar_interval: 'day' } },
      bands: { range: { field: 'purchases.totalSpend', ranges: [{ to: 50 }, { from: 50 }] } },
      hist: { histogram: { field: 'attributes.age', interval: 10 } },
      f: { filters: { filters: { buyers: { range: { 'purchases.orders': { gte: 1 } } } } } },
      interests: { nested: { path: 'interests.categories' }, aggs: { names: { terms: { field: 'interests.categories.name' } } } },
    },
  });
  expect(Object.keys(aggs.aggregations ?? {}).sort()).toEqual(['bands', 'f', 'hist', 'interests', 'p', 'seen', 'spend', 'users']);
});

it('applies conditional partial updates of membership in _bulk, and serves exports from doc values', async () => {
  const doc = { ...profile('members', [ev({ type: 'page_view' }, 900)]), segments: ['a'] };
  doc.contact = { email: 'M@x.io', emailSha256: 'f'.repeat(64) };
  await es.index({ index: names.profiles, id: 'members', document: doc, refresh: true });
  const got = await es.get({ index: names.profiles, id: 'members' });
  // Segment backfill: a partial `doc` update conditional on the sequence number it read (no scripts).
  const ok = await es.bulk({
    refresh: true,
    operations: [
      { update: { _index: got._index, _id: 'members', if_seq_no: got._seq_no, if_primary_term: got._primary_term } },
      { doc: { segments: ['a', 'b'], segmentOutbox: [{ changeId: 'b/entered/1/members' }] } },
    ],
  });
  expect(ok.items[0]!.update!.status).toBe(200);
  const stale = await es.bulk({
    operations: [
      { update: { _index: got._index, _id: 'members', if_seq_no: got._seq_no, if_primary_term: got._primary_term } },
      { doc: { segments: [] } },
    ],
  });
  expect(stale.items[0]!.update!.status).toBe(409);
  expect((await es.count({ index: names.profiles, query: { term: { segments: 'b' } } })).count).toBe(1);
  // Hashed exports: doc values of a field that is not indexed, without loading _source.
  const res = await es.search({
    index: names.profiles,
    query: { term: { userId: 'members' } },
    _source: false,
    docvalue_fields: ['userId', 'contact.emailSha256', 'behavior.lastSeen', 'attributes.consents.email'],
  });
  expect(res.hits.hits[0]!._source).toBeUndefined();
  expect(res.hits.hits[0]!.fields).toMatchObject({
    userId: ['members'],
    'contact.emailSha256': ['f'.repeat(64)],
    'attributes.consents.email': [false],
  });
  expect(res.hits.hits[0]!.fields!['behavior.lastSeen']![0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  // The raw e-mail has neither an index nor doc values: nothing can match or read it but _source.
  await expect(es.search({ index: names.profiles, query: { term: { 'contact.email': 'M@x.io' } } })).rejects.toThrow();
});

it('rejects a stale write (if_seq_no) and a second create, which the indexer relies on', async () => {
  const got = await es.get({ index: names.profiles, id: 'full' });
  await es.index({ index: names.profiles, id: 'full', document: got._source, if_seq_no: got._seq_no, if_primary_term: got._primary_term });
  await expect(
    es.index({ index: names.profiles, id: 'full', document: got._source, if_seq_no: got._seq_no, if_primary_term: got._primary_term }),
  ).rejects.toMatchObject({
    statusCode: 409,
  });
  await expect(es.create({ index: names.profiles, id: 'full', document: got._source })).rejects.toBeInstanceOf(errors.ResponseError);
});

it('keeps the newer catalogue item under external versioning', async () => {
  await es.index({
    index: names.items,
    id: 'i1',
    version: 200,
    version_type: 'external_gte',
    document: { itemId: 'i1', title: 'new', category: ['A'], price: 2, inStock: true },
  });
  await expect(
    es.index({
      index: names.items,
      id: 'i1',
      version: 100,
      version_type: 'external_gte',
      document: { itemId: 'i1', title: 'old', category: ['A'], price: 1, inStock: true },
    }),
  ).rejects.toMatchObject({ statusCode: 409 });
  expect((await es.get<{ title: string }>({ index: names.items, id: 'i1' }))._source!.title).toBe('new');
});

it('creates monthly event indices from the template, behind the read alias, and expires them by age', async () => {
  const old = Date.UTC(2020, 0, 15);
  await es.index({
    index: names.eventsIndexFor(old),
    id: 'e-old',
    document: {
      eventId: 'e-old',
      userId: 'u',
      type: 'search',
      timestamp: new Date(old).toISOString(),
      receivedAt: new Date(old).toISOString(),
      query: 'x',
    },
  });
  await es.index({
    index: names.eventsIndexFor(Date.now()),
    id: 'e-new',
    document: {
      eventId: 'e-new',
      userId: 'u',
      type: 'search',
      timestamp: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
      query: 'x',
    },
    refresh: true,
  });
  await es.indices.refresh({ index: names.events });
  expect((await es.count({ index: names.events })).count).toBe(2);
  const deleted = await applyRetention({ es, prefix, retentionDays: 400, nowMs: Date.now() });
  expect(deleted).toEqual([names.eventsIndexFor(old)]);
  expect((await es.count({ index: names.events })).count).toBe(1);
});

it('refreshes time-relative fields and segment membership of untouched profiles through a point-in-time walk', async () => {
  const changes = createSegmentChangesQueue(redis, await namespaceOf(es, prefix));
  const logger = createLogger('t', 'silent');
  const segments = new SegmentRegistry(es, names.segments, redis, prefix, changes, logger);
  const recent = {
    segmentId: 'viewed-this-week',
    version: 1,
    status: 'active',
    definition: { event: { type: 'page_view', inLastDays: 7 } },
  };
  await es.index({ index: names.segments, id: recent.segmentId, document: recent, refresh: true });
  const tenDaysAgo = Date.now() - 10 * DAY;
  for (let i = 0; i < 25; i++) {
    const doc = profile(
      `r-${i}`,
      [ev({ type: 'page_view', timestamp: new Date(tenDaysAgo - 3 * DAY).toISOString() }, 100 + i)],
      tenDaysAgo,
    );
    // As the indexer wrote it ten days ago: a page view in the last 7 days then.
    await es.index({ index: names.profiles, id: doc.userId, document: { ...doc, segments: [recent.segmentId] } });
  }
  await es.indices.refresh({ index: names.profiles });
  const before = await es.get<ProfileDoc>({ index: names.profiles, id: 'r-0' });
  expect(before._source!.behavior.counts.page_view.d7).toBe(1);
  const refresh = () =>
    refreshProfiles({
      es,
      alias: names.profiles,
      profileOptions: DEFAULT_PROFILE_OPTIONS,
      membership: segments,
      scoring: NO_SCORING,
      pageSize: 10,
      logger,
      nowMs: Date.now(),
    });
  const report = await refresh();
  expect(report.refreshed).toBeGreaterThanOrEqual(25);
  expect(report.segmentChanges).toBe(25);
  const after = await es.get<ProfileDoc & { segments: string[] }>({ index: names.profiles, id: 'r-0' });
  expect(after._source!.behavior.counts.page_view).toEqual({ d7: 0, d30: 1, d90: 1, lifetime: 1 });
  expect(after._source!.lifecycle.daysSinceLastSeen).toBe(13);
  expect(after._source!.segments).toEqual([]);
  const exits = await changes.getJobs(['waiting']);
  expect(exits.filter((j) => j.name === 'exited' && j.data.segmentId === recent.segmentId)).toHaveLength(25);
  // A second pass finds nothing stale.
  await es.indices.refresh({ index: names.profiles });
  expect((await refresh()).scanned).toBe(0);
  await changes.obliterate({ force: true });
  await changes.close();
});
