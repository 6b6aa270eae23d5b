import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Queue } from 'bullmq';
import { JobName, indexNames, type QueuedEvent } from '@portrait/shared';
import { createDeadLetterQueue, createIngestQueue, type Client, type DeadLetter, type IngestJobData, type Redis } from '@portrait/runtime';
import { eventCounts } from '../support/load';
import {
  REDIS_URL,
  REPO_ROOT,
  baseEnv,
  cleanup,
  esClient,
  eventually,
  http,
  indexer,
  redisClient,
  testPrefix,
  namespaceOf,
} from '../support/stack';

const run = promisify(execFile);
const DAY = 86_400_000;

let es: Client;
let redis: Redis;

beforeAll(() => {
  es = esClient();
  redis = redisClient();
});

afterAll(async () => {
  await es.close();
  redis.disconnect();
});

function pageView(userId: string, timestamp: number, receivedAt = Date.now(), eventId = `e-${randomUUID()}`): QueuedEvent {
  return {
    type: 'page_view',
    eventId,
    userId,
    timestamp: new Date(timestamp).toISOString(),
    receivedAt,
    category: ['Shoes'],
    brand: 'toString',
  };
}

async function dlq(prefix: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/dlq.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, REDIS_URL, PORTRAIT_PREFIX: prefix },
  });
  return stdout;
}

/** A counter's value for one stage, whatever other labels the registry adds. */
async function deadLettered(url: string, stage: string): Promise<number> {
  const text = (await http<string>('GET', `${url}/metrics`)).body;
  const line = text.split('\n').find((l) => l.startsWith('portrait_indexer_dead_lettered_total{') && l.includes(`stage="${stage}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function entries(queue: Queue<DeadLetter>, stage: string): Promise<DeadLetter[]> {
  return (await queue.getJobs(['waiting'])).filter((j) => j.data.stage === stage).map((j) => j.data);
}

/** Ids of the given events found in the event history. */
async function inHistory(prefix: string, ids: string[]): Promise<number> {
  await es.indices.refresh({ index: `${prefix}-events*`, ignore_unavailable: true, allow_no_indices: true });
  const res = await es.count({ index: `${prefix}-events`, query: { ids: { values: ids } } });
  return res.count;
}

describe('one poison event', () => {
  const prefix = testPrefix('poison');
  afterAll(() => cleanup(prefix, es, redis));

  it('is dead-lettered alone with its reason while every other event of the batch is applied, and replays once fixed', async () => {
    const ingestQueue = createIngestQueue(redis, await namespaceOf(es, prefix));
    const deadLetter = createDeadLetterQueue(redis, await namespaceOf(es, prefix));
    const idx = await indexer(baseEnv(prefix));
    try {
      const names = indexNames(prefix);
      const now = Date.now();
      const poisonDay = new Date(now - 3 * DAY).toISOString().slice(0, 10);
      // A profile whose stored state is damaged on one day: folding an event of that day throws, others fold.
      await ingestQueue.add(JobName.events, { events: [pageView('victim', now - 10 * DAY)] });
      await eventually(async () => (await eventCounts(es, prefix, ['victim'])).get('victim') === 1, 20_000, 'victim profile');
      const stored = await es.get<{ state: { days: Record<string, unknown> } }>({ index: names.profiles, id: 'victim' });
      stored._source!.state.days[poisonDay] = 5;
      await es.index({ index: names.profiles, id: 'victim', document: stored._source, refresh: true });

      const poison = pageView('victim', Date.parse(`${poisonDay}T12:00:00Z`), now, 'constructor');
      const batch = [poison, pageView('victim', now - DAY), pageView('bystander', now - DAY, now, 'toString'), pageView('bystander', now)];
      await ingestQueue.add(JobName.events, { events: batch });

      const [entry] = await eventually(
        async () => {
          const found = await entries(deadLetter, 'fold');
          return found.length > 0 ? found : undefined;
        },
        20_000,
        'fold dead letter',
      );
      expect(entry!.reason).toMatch(/the fold throws/);
      expect((entry!.events as QueuedEvent[]).map((e) => e.eventId)).toEqual(['constructor']);
      expect(entry!.done).toEqual({ history: ['constructor'] });
      const counts = await eventually(
        async () => {
          const c = await eventCounts(es, prefix, ['victim', 'bystander']);
          return c.get('victim') === 2 && c.get('bystander') === 2 ? c : undefined;
        },
        20_000,
        'the other events applied',
      );
      expect(Object.fromEntries(counts)).toEqual({ victim: 2, bystander: 2 });
      expect(await deadLettered(idx.url, 'fold')).toBe(1);
      expect(await ingestQueue.getFailedCount()).toBe(0);
      expect(
        await inHistory(
          prefix,
          batch.map((e) => e.eventId),
        ),
      ).toBe(4);

      // Repaired, the entry replays: the poison event is counted once, nothing else moves.
      const repaired = await es.get<{ state: { days: Record<string, unknown> } }>({ index: names.profiles, id: 'victim' });
      repaired._source!.state.days[poisonDay] = {};
      await es.index({ index: names.profiles, id: 'victim', document: repaired._source, refresh: true });
      expect(await dlq(prefix, 'replay', '--all')).toMatch(/Replayed 1 entry \(1 event/);
      await eventually(async () => (await eventCounts(es, prefix, ['victim'])).get('victim') === 3, 20_000, 'poison event applied');
      expect(await dlq(prefix, 'replay', '--all')).toMatch(/Nothing to replay/);
      expect(Object.fromEntries(await eventCounts(es, prefix, ['victim', 'bystander']))).toEqual({ victim: 3, bystander: 2 });
    } finally {
      await idx.stop();
      await Promise.all([ingestQueue.close(), deadLetter.close()]);
    }
  });
});

describe('a profile document Elasticsearch refuses', () => {
  const prefix = testPrefix('refused');
  afterAll(() => cleanup(prefix, es, redis));

  it('is narrowed down to the one event that makes it so: the others of that user are applied', async () => {
    const ingestQueue = createIngestQueue(redis, await namespaceOf(es, prefix));
    const deadLetter = createDeadLetterQueue(redis, await namespaceOf(es, prefix));
    const idx = await indexer(baseEnv(prefix));
    try {
      const names = indexNames(prefix);
      // A profile may hold at most three interest entries here: the event adding a fourth makes the document refused.
      await es.indices.putSettings({ index: names.profiles, settings: { 'index.mapping.nested_objects.limit': 3 } });
      const now = Date.now();
      const view = (minutesAgo: number, category: string, brand?: string): QueuedEvent => ({
        type: 'page_view',
        eventId: `e-${randomUUID()}`,
        userId: 'picky',
        timestamp: new Date(now - minutesAgo * 60_000).toISOString(),
        receivedAt: now,
        category: [category],
        ...(brand ? { brand } : {}),
      });
      const [a, b, c] = [view(3, 'A'), view(2, 'B'), view(1, 'C', 'X')];
      await ingestQueue.add(JobName.events, { events: [c, b, a, pageView('other', now)] });

      const [entry] = await eventually(
        async () => {
          const found = await entries(deadLetter, 'profile-write');
          return found.length > 0 ? found : undefined;
        },
        20_000,
        'profile-write dead letter',
      );
      expect(entry!.reason).toMatch(/nested/);
      expect((entry!.events as QueuedEvent[]).map((e) => e.eventId)).toEqual([c.eventId]);
      expect(entry!.done).toEqual({ history: [c.eventId] });
      const counts = await eventually(
        async () => {
          const got = await eventCounts(es, prefix, ['picky', 'other']);
          return got.get('picky') === 2 && got.get('other') === 1 ? got : undefined;
        },
        20_000,
        'the other events applied',
      );
      expect(Object.fromEntries(counts)).toEqual({ picky: 2, other: 1 });
      expect(await deadLettered(idx.url, 'profile-write')).toBe(1);
    } finally {
      await idx.stop();
      await Promise.all([ingestQueue.close(), deadLetter.close()]);
    }
  });
});

describe('a bulk whose history write partly fails', () => {
  const prefix = testPrefix('partial');
  afterAll(() => cleanup(prefix, es, redis));

  it('dead-letters only the refused history writes, and a replay long after the dedup horizon writes them without counting twice', async () => {
    const ingestQueue = createIngestQueue(redis, await namespaceOf(es, prefix));
    const deadLetter = createDeadLetterQueue(redis, await namespaceOf(es, prefix));
    const idx = await indexer(baseEnv(prefix, { INDEXER_DEDUP_HORIZON_HOURS: '1' }));
    try {
      const names = indexNames(prefix);
      const now = Date.now();
      const oldMonth = now - 62 * DAY;
      // One month's history index refuses writes (403): its events fail in the history stage only.
      await es.indices.create({ index: names.eventsIndexFor(oldMonth) });
      await es.indices.putSettings({ index: names.eventsIndexFor(oldMonth), settings: { 'index.blocks.write': true } });
      const received = now - 3 * 3_600_000;
      const batch = [
        pageView('shopper', oldMonth, received),
        pageView('shopper', oldMonth + 1000, received),
        pageView('shopper', now - DAY, received),
      ];
      await ingestQueue.add(JobName.events, { events: batch });

      const [entry] = await eventually(
        async () => {
          const found = await entries(deadLetter, 'event-write');
          return found.length > 0 ? found : undefined;
        },
        20_000,
        'event-write dead letter',
      );
      expect(entry!.reason).toMatch(/cluster_block_exception/);
      expect((entry!.events as QueuedEvent[]).map((e) => e.eventId).sort()).toEqual([batch[0]!.eventId, batch[1]!.eventId].sort());
      expect(entry!.done?.profile?.sort()).toEqual([batch[0]!.eventId, batch[1]!.eventId].sort());
      await eventually(async () => (await eventCounts(es, prefix, ['shopper'])).get('shopper') === 3, 20_000, 'profile counted all three');

      // Three hours later by receive time: the profile no longer remembers the ids of the first batch.
      await ingestQueue.add(JobName.events, { events: [pageView('shopper', now, now)] });
      await eventually(async () => (await eventCounts(es, prefix, ['shopper'])).get('shopper') === 4, 20_000, 'later event');
      const state = (await es.get<{ state: { seen: Record<string, number> } }>({ index: names.profiles, id: 'shopper' }))._source!.state;
      expect(Object.keys(state.seen)).toHaveLength(1);

      await es.indices.putSettings({ index: names.eventsIndexFor(oldMonth), settings: { 'index.blocks.write': false } });
      expect(await dlq(prefix, 'replay', '--all')).toMatch(/Replayed 1 entry \(2 events/);
      await eventually(
        async () =>
          (await inHistory(
            prefix,
            batch.map((e) => e.eventId),
          )) === 3,
        20_000,
        'history complete',
      );
      // Applied batches leave the queue; the replayed one is kept, completed, as the proof of its replay.
      const done = await eventually(async () => (await ingestQueue.getCompletedCount()) === 1 || undefined, 20_000, 'replay job done');
      expect(done).toBe(true);
      expect((await eventCounts(es, prefix, ['shopper'])).get('shopper')).toBe(4);
      expect(await deadLettered(idx.url, 'event-write')).toBe(2);
    } finally {
      await idx.stop();
      await Promise.all([ingestQueue.close(), deadLetter.close()]);
    }
  });
});

describe('a batch that runs out of attempts', () => {
  const prefix = testPrefix('exhausted');
  afterAll(() => cleanup(prefix, es, redis));

  it('is dead-lettered with what is left and its reason, never left in the failed set, and replays exactly once', async () => {
    const ingestQueue: Queue<IngestJobData> = createIngestQueue(redis, await namespaceOf(es, prefix));
    const deadLetter = createDeadLetterQueue(redis, await namespaceOf(es, prefix));
    const idx = await indexer(baseEnv(prefix));
    try {
      const names = indexNames(prefix);
      const now = Date.now();
      const month = now - 40 * DAY;
      // The flood-stage block answers 429: the history stage is turned away for now, every attempt.
      await es.indices.create({ index: names.eventsIndexFor(month) });
      await es.indices.putSettings({ index: names.eventsIndexFor(month), settings: { 'index.blocks.read_only_allow_delete': true } });
      const batch = [pageView('patient', month), pageView('patient', now - DAY)];
      const job = await ingestQueue.add(JobName.events, { events: batch }, { attempts: 3 });

      const [entry] = await eventually(
        async () => {
          const found = await entries(deadLetter, 'attempts-exhausted');
          return found.length > 0 ? found : undefined;
        },
        30_000,
        'attempts-exhausted dead letter',
      );
      expect(entry!.reason).toMatch(/gave up after 3 attempts: .*TOO_MANY_REQUESTS/);
      expect(entry!.sourceJobId).toBe(job.id);
      expect((entry!.events as QueuedEvent[]).map((e) => e.eventId)).toEqual([batch[0]!.eventId]);
      expect(entry!.done).toEqual({ history: [], profile: [batch[0]!.eventId] });
      expect(await ingestQueue.getFailedCount()).toBe(0);
      expect((await eventCounts(es, prefix, ['patient'])).get('patient')).toBe(2);
      expect(await deadLettered(idx.url, 'attempts-exhausted')).toBe(1);

      await es.indices.putSettings({ index: names.eventsIndexFor(month), settings: { 'index.blocks.read_only_allow_delete': null } });
      await dlq(prefix, 'replay', '--all');
      await eventually(
        async () =>
          (await inHistory(
            prefix,
            batch.map((e) => e.eventId),
          )) === 2,
        20_000,
        'history written',
      );
      expect((await eventCounts(es, prefix, ['patient'])).get('patient')).toBe(2);
      expect(await deadLetter.count()).toBe(0);
    } finally {
      await idx.stop();
      await Promise.all([ingestQueue.close(), deadLetter.close()]);
    }
  });
});
