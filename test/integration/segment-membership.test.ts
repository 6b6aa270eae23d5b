/**
 * Materialized segment membership on the real stack: backfill on save, re-evaluation in the indexer's
 * own write, published entries and exits, definition changes, deletion, and a backfill racing ingestion.
 */
import type { Queue } from 'bullmq';
import type { IngestService } from '@portrait/ingest';
import type { QueryService } from '@portrait/query';
import { compileSegment, parseSegmentDefinition, type SegmentChange } from '@portrait/shared';
import { createSegmentChangesQueue, type Client, type Redis } from '@portrait/runtime';
import { baseEnv, eventually, http, startStack, testPrefix, type Stack, namespaceOf } from '../support/stack';

const prefix = testPrefix('membership');
// Frequent reloads are not needed: the generation counter tells the indexer. Reconcile rarely, so the
// tests see backfills and event-driven changes, not the periodic pass.
const env = baseEnv(prefix, { SEGMENT_PAGE_SIZE: '25', SEGMENT_RECONCILE_EVERY_MS: '3600000' });
let es: Client;
let redis: Redis;
let ing: IngestService;
let qry: QueryService;
let stack: Stack;
let changes: Queue<SegmentChange>;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const profiles = `${prefix}-profiles`;

function purchase(userId: string, orderId: string, amount: number, minutes = 5) {
  return {
    type: 'purchase',
    userId,
    eventId: `buy-${orderId}`,
    timestamp: minutesAgo(minutes),
    order: { orderId, amount, currency: 'EUR', paymentMethod: 'card', lines: [{ itemId: 'sku-1', quantity: 1, unitPrice: amount }] },
  };
}

async function post(events: unknown[]): Promise<void> {
  const res = await http('POST', `${ing.url}/v1/events/batch`, { events });
  expect(res.body.rejected).toBe(0);
}

async function membersOf(segmentId: string): Promise<string[]> {
  await es.indices.refresh({ index: profiles });
  const res = await es.search<{ userId: string }>({
    index: profiles,
    query: { term: { segments: segmentId } },
    size: 1000,
    _source: ['userId'],
  });
  return res.hits.hits.map((h) => h._source!.userId).sort();
}

async function liveMembers(definition: unknown): Promise<string[]> {
  const parsed = parseSegmentDefinition(definition);
  if (!parsed.ok) throw new Error('bad definition in test');
  await es.indices.refresh({ index: profiles });
  const res = await es.search<{ userId: string }>({
    index: profiles,
    query: compileSegment(parsed.value, Date.now()),
    size: 1000,
    _source: ['userId'],
  });
  return res.hits.hits.map((h) => h._source!.userId).sort();
}

async function backfillDone(segmentId: string, version: number): Promise<any> {
  return eventually(
    async () => {
      const res = await http('GET', `${qry.url}/v1/segments/${segmentId}/membership`);
      const b = res.body.backfill;
      if (b?.state === 'failed') throw new Error(`backfill failed: ${b.failedReason}`);
      return res.status === 200 && res.body.version === version && b?.state === 'completed' ? res.body : undefined;
    },
    30_000,
    `backfill of ${segmentId} v${version}`,
  );
}

async function publishedChanges(segmentId: string): Promise<SegmentChange[]> {
  const jobs = await changes.getJobs(['waiting', 'completed', 'active', 'delayed']);
  return jobs.map((j) => j.data).filter((c) => c.segmentId === segmentId);
}

beforeAll(async () => {
  stack = await startStack(prefix, env);
  ({ es, redis, ing, qry } = stack);
  changes = createSegmentChangesQueue(redis, await namespaceOf(es, prefix));
});

afterAll(async () => {
  await changes?.close();
  await stack?.stop();
});

it('backfills a new segment onto existing profiles with progress, matching the live count', async () => {
  await post([
    purchase('big-1', 'b1', 300),
    purchase('big-2', 'b2', 250),
    purchase('small-1', 's1', 20),
    { type: 'page_view', userId: 'browser-1', timestamp: minutesAgo(3), category: ['Shoes'] },
  ]);
  await eventually(async () => (await es.count({ index: profiles })).count === 4 || undefined, 20_000, 'four profiles');
  const definition = { field: 'purchases.totalSpend', op: 'range', gte: 200 };
  const created = await http('POST', `${qry.url}/v1/segments`, { segmentId: 'big-spenders', name: 'Big spenders', definition });
  expect(created.status).toBe(201);
  expect(created.body.membership.backfillJobId).toBe('backfill-big-spenders-v1');

  const status = await backfillDone('big-spenders', 1);
  expect(status.materialized).toBe(2);
  expect(status.backfill.progress).toMatchObject({ segmentId: 'big-spenders', entered: 2, exited: 0 });
  expect(await membersOf('big-spenders')).toEqual(['big-1', 'big-2']);
  expect(await liveMembers(definition)).toEqual(['big-1', 'big-2']);

  const entered = await publishedChanges('big-spenders');
  expect(entered.map((c) => `${c.userId}:${c.change}:v${c.segmentVersion}`).sort()).toEqual(['big-1:entered:v1', 'big-2:entered:v1']);

  // Membership shows on the profile and as a search filter; the outbox does not leak.
  const profile = await http('GET', `${qry.url}/v1/users/big-1/profile`);
  expect(profile.body.segments).toEqual(['big-spenders']);
  expect(profile.body.segmentOutbox).toBeUndefined();
  const search = await http('GET', `${qry.url}/v1/profiles/search?segment=big-spenders&facets=segment`);
  expect(search.status).toBe(200);
  expect(search.body.total).toBe(2);
  expect(search.body.facets.segment).toEqual([{ value: 'big-spenders', count: 2 }]);
});

it('moves a profile in and out in the same write as its events, and publishes each transition once', async () => {
  const definition = { event: { type: 'purchase', atLeast: 2 } };
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'repeat-buyers', name: 'Repeat buyers', definition });
  await backfillDone('repeat-buyers', 1);
  expect(await membersOf('repeat-buyers')).toEqual([]);

  await post([purchase('small-1', 's2', 30)]);
  await eventually(async () => (await membersOf('repeat-buyers')).includes('small-1') || undefined, 20_000, 'small-1 entered');
  // The same event again changes nothing and publishes nothing new.
  await post([purchase('small-1', 's2', 30)]);
  await post([purchase('small-1', 's3', 10, 1)]);
  await eventually(
    async () => {
      const p = await es.get<any>({ index: profiles, id: 'small-1' });
      return p._source.behavior.counts.purchase.lifetime === 3 || undefined;
    },
    20_000,
    'third purchase applied',
  );
  const published = await publishedChanges('repeat-buyers');
  expect(published.map((c) => `${c.userId}:${c.change}`)).toEqual(['small-1:entered']);
  expect(published[0]).toMatchObject({ segmentVersion: 1, changeId: expect.stringContaining('repeat-buyers/entered/') });

  // A changed definition is a new version; its backfill moves everyone who no longer matches out.
  const updated = await http('PUT', `${qry.url}/v1/segments/repeat-buyers`, {
    name: 'Frequent buyers',
    definition: { event: { type: 'purchase', atLeast: 4 } },
  });
  expect(updated.body.version).toBe(2);
  expect(updated.body.membership.backfillJobId).toBe('backfill-repeat-buyers-v2');
  await backfillDone('repeat-buyers', 2);
  expect(await membersOf('repeat-buyers')).toEqual([]);
  const after = await publishedChanges('repeat-buyers');
  expect(after.map((c) => `${c.userId}:${c.change}:v${c.segmentVersion}`).sort()).toEqual(['small-1:entered:v1', 'small-1:exited:v2']);
});

it('removes a deleted segment from every profile', async () => {
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'everyone', name: 'Everyone', definition: { field: 'userId', op: 'exists' } });
  await backfillDone('everyone', 1);
  expect((await membersOf('everyone')).length).toBe(4);
  expect((await http('DELETE', `${qry.url}/v1/segments/everyone`)).status).toBe(204);
  await eventually(async () => (await membersOf('everyone')).length === 0 || undefined, 30_000, 'memberships removed');
  expect((await http('GET', `${qry.url}/v1/segments/everyone/membership`)).status).toBe(404);
});

it('loses no membership when a backfill races a stream of events for the same users', async () => {
  const users = Array.from({ length: 60 }, (_, i) => `racer-${i}`);
  const definition = {
    and: [{ event: { type: 'page_view', atLeast: 3 } }, { not: { field: 'attributes.region', op: 'eq', value: 'North' } }],
  };
  let stop = false;
  let sent = 0;
  const load = (async () => {
    for (let round = 0; !stop; round++) {
      await post(
        users.map((userId, i) => ({
          type: 'page_view',
          userId,
          eventId: `race-${round}-${i}`,
          timestamp: minutesAgo(1),
          category: ['Toys'],
        })),
      );
      if (round === 4) {
        await http('PUT', `${ing.url}/v1/users/racer-7/attributes`, { attributes: { region: 'North' } });
      }
      sent++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await eventually(async () => sent >= 2 || undefined, 20_000, 'load running');
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'engaged', name: 'Engaged', definition });
  await eventually(async () => sent >= 10 || undefined, 30_000, 'more load');
  stop = true;
  await load;
  await backfillDone('engaged', 1);
  // Once the indexer has caught up, materialized membership equals the definition for every profile.
  await eventually(
    async () => {
      const counts = await Promise.all(users.map((u) => es.get<any>({ index: profiles, id: u }).catch(() => undefined)));
      return counts.every((p) => p?._source.behavior.counts.page_view.lifetime === sent) || undefined;
    },
    30_000,
    'all events applied',
  );
  const expected = users.filter((u) => u !== 'racer-7').sort();
  await eventually(
    async () =>
      JSON.stringify((await membersOf('engaged')).filter((u) => u.startsWith('racer-'))) === JSON.stringify(expected) || undefined,
    20_000,
    'membership converged',
  );
  expect(await liveMembers(definition)).toEqual(expect.arrayContaining(expected));
  // Each member entered exactly once (racer-7 may have entered and left); nothing was published twice.
  const published = await publishedChanges('engaged');
  const net = new Map<string, number>();
  for (const c of published) net.set(c.userId, (net.get(c.userId) ?? 0) + (c.change === 'entered' ? 1 : -1));
  for (const u of expected) expect(net.get(u)).toBe(1);
  expect(net.get('racer-7') ?? 0).toBe(0);
  expect(new Set(published.map((c) => c.changeId)).size).toBe(published.length);
}, 90_000);
