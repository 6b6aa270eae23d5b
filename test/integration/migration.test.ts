import type { Queue } from 'bullmq';
import { indexNames } from '@portrait/shared';
import { createIngestQueue, migrateIndex, readDefinition, type Client, type IngestJobData, type Redis } from '@portrait/runtime';
import { drained, enqueue, eventCounts, pageViewBatches } from '../support/load';
import { baseEnv, cleanup, esClient, eventually, indexer, redisClient, testPrefix, namespaceOf } from '../support/stack';

const prefix = testPrefix('migrate');
let es: Client;
let redis: Redis;
let queue: Queue<IngestJobData>;

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  queue = createIngestQueue(redis, await namespaceOf(es, prefix));
});

afterAll(async () => {
  await queue.close();
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

it('moves profiles to a new index version behind the alias while events keep flowing, losing none', async () => {
  const idx = await indexer(baseEnv(prefix));
  try {
    const users = Array.from({ length: 30 }, (_, i) => `m-${i}`);
    const first = pageViewBatches(40, 50, users);
    await enqueue(queue, first.batches);
    await eventually(() => drained(queue, 40), 60_000, 'first batches applied');

    const second = pageViewBatches(40, 50, users);
    const arriving = enqueue(queue, second.batches);
    const alias = indexNames(prefix).profiles;
    const lines: string[] = [];
    const current = readDefinition('profiles').version;
    const next = current + 1;
    const target = await migrateIndex(es, alias, { ...readDefinition('profiles'), version: next }, [queue], {
      start: () => undefined,
      increment: () => undefined,
      stop: () => undefined,
      say: (line) => lines.push(line),
    });
    await arriving;
    expect(target).toBe(`${alias}-v${next}`);
    expect(Object.keys(await es.indices.getAlias({ name: alias }))).toEqual([`${alias}-v${next}`]);
    expect(await es.indices.exists({ index: `${alias}-v${current}` })).toBe(false);
    expect(await queue.isPaused()).toBe(false);

    await eventually(() => drained(queue, 80), 60_000, 'all batches applied after the swap');
    const expected = new Map(users.map((u) => [u, first.expected.get(u)! + second.expected.get(u)!]));
    expect(await eventCounts(es, prefix, users)).toEqual(expected);
    expect(lines.some((l) => l.includes('now points at'))).toBe(true);
  } finally {
    await idx.stop();
  }
});
