import type { Queue } from 'bullmq';
import type { IndexerService } from '@portrait/indexer';
import { createIngestQueue, type Client, type IngestJobData, type Redis } from '@portrait/runtime';
import { drained, enqueue, eventCounts, pageViewBatches } from '../support/load';
import { baseEnv, cleanup, esClient, eventually, http, indexer, redisClient, testPrefix, namespaceOf } from '../support/stack';

const prefix = testPrefix('race');
let es: Client;
let redis: Redis;
let queue: Queue<IngestJobData>;
const running: IndexerService[] = [];

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  queue = createIngestQueue(redis, await namespaceOf(es, prefix));
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await queue.close();
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

it('two indexers racing on the same users lose no update and count nothing twice', async () => {
  const env = baseEnv(prefix, { INDEXER_CONCURRENCY: '4' });
  running.push(await indexer(env), await indexer(env));
  // Every batch touches the same three users, so concurrent batches always contend.
  const users = ['hot-1', 'hot-2', 'hot-3'];
  const { batches, expected } = pageViewBatches(60, 30, users);
  await enqueue(queue, batches);
  await eventually(() => drained(queue, batches.length), 90_000, 'all batches processed');
  expect(await queue.getFailedCount()).toBe(0);
  expect(await eventCounts(es, prefix, users)).toEqual(expected);

  const conflicts = await Promise.all(
    running.map(async (s) => {
      const text: string = (await http('GET', `${s.url}/metrics`)).body;
      return Number(/portrait_indexer_write_conflicts_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    }),
  );
  // The race really happened (and was resolved by re-reading), not avoided by luck.
  expect(conflicts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
});
