/**
 * The right to be forgotten, against the real Elasticsearch and Redis: after `DELETE /v1/users/:id` nothing of
 * the user is searchable in any index of the prefix nor held in any Redis key of its data set (profile, events,
 * memberships, vectors, queued and dead-lettered events, segment change messages, dedup keys), export files that
 * hold the user are named, another user loses nothing, and events arriving later (through ingest, or queued
 * before the erasure and applied after it) are dropped and counted, never bringing the profile back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { JobName, NO_ERASURES, erasureSubject, indexNames, type ErasureRecord } from '@portrait/shared';
import { createDeadLetterQueue, createIngestQueue, readDefinition } from '@portrait/runtime';
import { baseEnv, eventually, http, namespaceOf, redisDump, startStack, testPrefix, type Stack } from '../support/stack';

const prefix = testPrefix('erasure');
const names = indexNames(prefix);
const tag = prefix.slice(-8);
/** Ids and contact data no other part of the platform could hold by chance. */
const GONE = { userId: `gone-${tag}`, email: `gone.${tag}@example.com`, phone: `+4915100${tag.replace(/\D/g, '7').slice(0, 6)}` };
const KEPT = { userId: `kept-${tag}`, email: `kept.${tag}@example.com` };
const actor = { 'x-portrait-actor': 'privacy-desk' };
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

let stack: Stack;
let exportDir: string;
let namespace: string;
let ingestQueue: Queue;
let deadLetter: Queue;

const eventsOf = (userId: string, n: number) => [
  ...Array.from({ length: n }, (_, i) => ({
    type: 'page_view',
    userId,
    eventId: `${userId}-view-${i}`,
    timestamp: minutesAgo(30 - i),
    itemId: `sku-${i % 3}`,
    category: ['Spreads'],
  })),
  {
    type: 'purchase',
    userId,
    eventId: `${userId}-order`,
    timestamp: minutesAgo(5),
    order: {
      orderId: `${userId}-o1`,
      amount: 5,
      currency: 'EUR',
      paymentMethod: 'card',
      lines: [{ itemId: 'sku-1', quantity: 2, unitPrice: 2.5 }],
    },
  },
];

/** Keys whose name or content mentions one of the strings. */
async function redisMentions(...needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const [key, content] of await redisDump(stack.redis, stack.es, prefix)) {
    if (needles.some((n) => key.includes(n) || content.includes(n))) found.push(key);
  }
  return found;
}

/** Hits in any index of the prefix for the value, in any field, or as a document id. */
async function searchable(value: string): Promise<string[]> {
  await stack.es.indices.refresh({ index: `${prefix}-*`, expand_wildcards: 'all' });
  const res = await stack.es.search({
    index: `${prefix}-*`,
    expand_wildcards: 'all',
    size: 100,
    query: {
      bool: {
        should: [
          { ids: { values: [value] } },
          { query_string: { query: `"${value}"`, default_field: '*', lenient: true } },
          { multi_match: { query: value, fields: ['*'], lenient: true } },
        ],
      },
    },
  });
  return res.hits.hits.map((h) => `${h._index}/${h._id}`);
}

/** A counter's value, summed over the series carrying the label (`outcome="erased"`), if one is given. */
async function metric(url: string, name: string, label = ''): Promise<number> {
  const text = (await http('GET', `${url}/metrics`)).body as string;
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function startExport(segmentId: string, body: Record<string, unknown>): Promise<string> {
  const start = await http('POST', `${stack.qry.url}/v1/segments/${segmentId}/exports`, body, actor);
  expect(start.status).toBe(202);
  const exportId = start.body.exportId as string;
  await eventually(
    async () => (await http('GET', `${stack.qry.url}/v1/exports/${exportId}`)).body.status === 'completed',
    60_000,
    `export ${exportId}`,
  );
  return exportId;
}

beforeAll(async () => {
  exportDir = await mkdtemp(path.join(os.tmpdir(), 'portrait-erasure-'));
  stack = await startStack(prefix, baseEnv(prefix, { EXPORT_DIR: exportDir, ERASURE_SWEEP_DELAY_SECONDS: '3' }));
  namespace = await namespaceOf(stack.es, prefix);
  ingestQueue = createIngestQueue(stack.redis, namespace);
  deadLetter = createDeadLetterQueue(stack.redis, namespace);
});

afterAll(async () => {
  await ingestQueue?.close();
  await deadLetter?.close();
  await stack?.stop();
  await rm(exportDir, { recursive: true, force: true });
});

it('erases a user everywhere, keeps everyone else, and keeps the user erased', async () => {
  const { qry, ing, idx, es } = stack;
  // Two shoppers with contact data, behaviour and a purchase, in one segment with two export files.
  for (const who of [GONE, KEPT]) {
    const attrs = await http('PUT', `${ing.url}/v1/users/${who.userId}/attributes`, {
      eventId: `${who.userId}-attrs`,
      attributes: { region: 'Erasureland', email: who.email, ...('phone' in who ? { phone: who.phone } : {}), consents: { email: true } },
    });
    expect(attrs.status).toBe(202);
    const batch = await http('POST', `${ing.url}/v1/events/batch`, { events: eventsOf(who.userId, 6) });
    expect(batch.body).toMatchObject({ accepted: 7, rejected: 0 });
  }
  await eventually(
    async () => {
      await es.indices.refresh({ index: names.profiles });
      const { count } = await es.count({ index: names.profiles, query: { range: { 'behavior.eventCount': { gte: 7 } } } });
      return count === 2;
    },
    30_000,
    'both profiles folded',
  );
  const segment = await http('POST', `${qry.url}/v1/segments`, {
    name: 'Erasureland',
    definition: { field: 'attributes.region', op: 'eq', value: 'Erasureland' },
  });
  expect(segment.status).toBe(201);
  const segmentId = segment.body.segmentId as string;
  await eventually(
    async () =>
      (await http('GET', `${qry.url}/v1/users/${GONE.userId}/segments`)).body.segments?.some(
        (s: { segmentId: string }) => s.segmentId === segmentId,
      ),
    30_000,
    'membership materialized',
  );
  const csv = await startExport(segmentId, { format: 'csv', fields: ['userId', 'email'] });
  // No user id column: the user is found by the hash of the e-mail.
  const hashed = await startExport(segmentId, { format: 'ndjson', fields: ['emailSha256', 'purchases.orders'] });

  // The user's vectors in a collaborative model's user factors.
  const factors = names.userFactorsOf('v1');
  const def = readDefinition('user-factors');
  await es.indices.create({ index: factors, settings: def.settings, mappings: def.mappings });
  for (const who of [GONE, KEPT])
    await es.index({ index: factors, id: who.userId, document: { userId: who.userId, vector: [0.6, 0.8, 0] } });
  // Events still waiting on the ingest queue (a delayed job), and a dead-lettered pair, each with the other user's.
  const late = { type: 'page_view', timestamp: minutesAgo(1), itemId: 'sku-9', receivedAt: Date.now() };
  await ingestQueue.add(
    JobName.events,
    { events: [GONE, KEPT].map((w) => ({ ...late, userId: w.userId, eventId: `${w.userId}-queued` })) },
    { delay: 3_600_000 },
  );
  await deadLetter.add('fold', {
    stage: 'fold',
    reason: 'test entry',
    failedAt: new Date().toISOString(),
    events: [GONE, KEPT].map((w) => ({ ...late, userId: w.userId, eventId: `${w.userId}-dead` })),
  });
  expect((await redisMentions(GONE.userId)).length).toBeGreaterThan(0);
  expect(await searchable(GONE.userId)).not.toEqual([]);

  // Erase.
  const erased = await http<ErasureRecord>('DELETE', `${qry.url}/v1/users/${GONE.userId}`, undefined, actor);
  expect(erased.status).toBe(200);
  const record = erased.body;
  expect(record).toMatchObject({
    subject: erasureSubject(GONE.userId),
    actor: 'privacy-desk',
    deleted: { profile: 1, events: 8, deadLetteredEvents: 1 },
  });
  // Ours, and one more when the jobs process's start-up training saw the user's events.
  expect(record.deleted.userFactors).toBeGreaterThanOrEqual(1);
  expect(record.deleted.queuedEvents).toBe(1);
  expect(record.deleted.segmentChanges).toBeGreaterThanOrEqual(1);
  expect(record.deleted.dedupKeys).toBe(8);
  expect(record.exports.sort()).toEqual([csv, hashed].sort());
  // The export's own status says so too.
  expect((await http('GET', `${qry.url}/v1/exports/${csv}`)).body.erasedUsers).toBe(1);
  expect(JSON.stringify(record)).not.toContain(GONE.userId);

  // Nothing of the user is searchable or held in Redis (but the pending second pass, which needs the id); the other
  // user keeps everything.
  for (const value of [GONE.userId, GONE.email, GONE.phone]) expect(await searchable(value)).toEqual([]);
  expect(await redisMentions(GONE.userId, GONE.email, GONE.phone)).toEqual([`${namespace}:bull:maintenance:erasure-${record.erasureId}`]);
  expect((await http('GET', `${qry.url}/v1/users/${GONE.userId}/profile`)).status).toBe(404);
  expect((await http('GET', `${qry.url}/v1/users/${KEPT.userId}/profile`)).body.behavior.eventCount).toBeGreaterThanOrEqual(7);
  const { count: keptEvents } = await es.count({ index: names.events, query: { term: { userId: KEPT.userId } } });
  expect(keptEvents).toBe(8);
  expect((await es.get({ index: factors, id: KEPT.userId })).found).toBe(true);
  const waiting = (await ingestQueue.getJobs(['delayed'])).flatMap((j) => j.data.events.map((e: { userId: string }) => e.userId));
  expect(waiting).toEqual([KEPT.userId]);
  const dead = (await deadLetter.getJobs(['waiting'])).flatMap((j) => j.data.events.map((e: { userId: string }) => e.userId));
  expect(dead).toEqual([KEPT.userId]);
  expect(await redisMentions(KEPT.userId)).not.toEqual([]);

  // Events arriving later are dropped and counted: through ingest...
  const single = await http('POST', `${ing.url}/v1/events`, { ...eventsOf(GONE.userId, 1)[0], eventId: 'after-1' });
  expect(single).toMatchObject({ status: 200, body: { status: 'erased' } });
  const batch = await http('POST', `${ing.url}/v1/events/batch`, {
    events: [
      { ...eventsOf(GONE.userId, 1)[0], eventId: 'after-2' },
      { ...eventsOf(KEPT.userId, 1)[0], eventId: 'after-3' },
    ],
  });
  expect(batch.body).toMatchObject({ accepted: 1, erased: 1, results: [{ status: 'erased' }, { status: 'accepted' }] });
  const attrs = await http('PUT', `${ing.url}/v1/users/${GONE.userId}/attributes`, { attributes: { region: 'Elsewhere' } });
  expect(attrs).toMatchObject({ status: 200, body: { status: 'erased' } });
  expect(await metric(ing.url, 'portrait_ingest_events_total', 'outcome="erased"')).toBe(3);
  // ...and accepted before the erasure but applied after it.
  const droppedBefore = await metric(idx.url, 'portrait_indexer_erased_events_dropped_total');
  const inFlight = await ingestQueue.add(JobName.events, {
    events: [GONE, KEPT].map((w) => ({ ...late, userId: w.userId, eventId: `${w.userId}-in-flight` })),
  });
  // An applied batch leaves the queue at once.
  await eventually(async () => (await inFlight.getState()) === 'unknown', 30_000, 'in-flight batch applied');
  expect(await metric(idx.url, 'portrait_indexer_erased_events_dropped_total')).toBe(droppedBefore + 1);
  expect((await es.get({ index: names.profiles, id: GONE.userId }, { ignore: [404] })).found).toBe(false);
  await eventually(
    async () => (await http('GET', `${qry.url}/v1/users/${KEPT.userId}/profile`)).body.behavior.eventCount >= 9,
    20_000,
    'the other user keeps getting events',
  );

  // A training that read the user's events before the erasure writes a vector after it: the second pass removes it.
  await es.index({ index: factors, id: GONE.userId, document: { userId: GONE.userId, vector: [0, 0.6, 0.8] } });
  const swept = await eventually(
    async () => {
      const list = await http('GET', `${qry.url}/v1/erasures?userId=${GONE.userId}`);
      const found = (list.body.erasures as ErasureRecord[]).find((e) => e.erasureId === record.erasureId);
      return found?.sweptAt ? found : undefined;
    },
    30_000,
    'second pass',
  );
  expect(swept.swept).toEqual({
    ...record.deleted,
    profile: 0,
    events: 0,
    userFactors: 1,
    queuedEvents: 0,
    deadLetteredEvents: 0,
    segmentChanges: 0,
    dedupKeys: 0,
  });
  expect(await redisMentions(GONE.userId, GONE.email, GONE.phone)).toEqual([]);
  for (const value of [GONE.userId, GONE.email]) expect(await searchable(value)).toEqual([]);

  // Erasing again is safe, says when the first erasure was, and finds nothing.
  const again = await http<ErasureRecord>('DELETE', `${qry.url}/v1/users/${GONE.userId}`, undefined, actor);
  expect(again.status).toBe(200);
  expect(again.body.previouslyErasedAt).toBe(record.requestedAt);
  expect(again.body.deleted).toEqual(NO_ERASURES);
  const all = await eventually(async () => {
    const list = await http('GET', `${qry.url}/v1/erasures`);
    return list.body.erasures.length === 2 ? list.body.erasures : undefined;
  });
  expect(all.map((e: ErasureRecord) => e.erasureId)).toEqual([again.body.erasureId, record.erasureId]);
}, 180_000);

it('refuses a bad user id, a missing actor and a bad listing, naming the field', async () => {
  const { qry } = stack;
  const bad = await http('DELETE', `${qry.url}/v1/users/${encodeURIComponent('no spaces')}`, undefined, actor);
  expect(bad.status).toBe(400);
  expect(bad.body.issues[0].path).toBe('params.id');
  const noActor = await http('DELETE', `${qry.url}/v1/users/someone`);
  expect(noActor.status).toBe(400);
  expect(noActor.body.issues[0].path).toBe('headers.x-portrait-actor');
  const size = await http('GET', `${qry.url}/v1/erasures?size=0`);
  expect(size.status).toBe(400);
  expect(size.body.issues[0].path).toBe('query.size');
  const unknown = await http('GET', `${qry.url}/v1/erasures?user=x`);
  expect(unknown.status).toBe(400);
  // A user the platform never saw is erased all the same: the tombstone keeps their future events out.
  const never = await http<ErasureRecord>('DELETE', `${qry.url}/v1/users/never-seen-${tag}`, undefined, actor);
  expect(never.status).toBe(200);
  expect(never.body.deleted.profile).toBe(0);
  const after = await http('POST', `${stack.ing.url}/v1/events`, { ...eventsOf(`never-seen-${tag}`, 1)[0] });
  expect(after.body.status).toBe('erased');
});
