import {
  bindRedisToDataset,
  createEsClient,
  createLogger,
  datasetPointerKey,
  deletePrefix,
  ensureDatasetId,
  resolveDataset,
  type Client,
  type Redis,
} from '@portrait/runtime';
import { eventCounts } from '../support/load';
import { baseEnv, cleanup, esClient, eventually, http, indexer, ingest, redisClient, testPrefix } from '../support/stack';

/** A logger that keeps what it was asked to warn about. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; warnings: string[] } {
  const warnings: string[] = [];
  const logger = createLogger('test', 'silent');
  logger.warn = ((a: unknown, b?: unknown) => {
    warnings.push(typeof a === 'string' ? a : String(b));
  }) as typeof logger.warn;
  return { logger, warnings };
}

describe('the data set id Redis state is bound to', () => {
  let es: Client;
  let redis: Redis;
  const prefixes: string[] = [];
  const fresh = (): string => {
    const p = testPrefix('dataset');
    prefixes.push(p);
    return p;
  };

  beforeAll(() => {
    es = esClient();
    redis = redisClient();
  });
  afterAll(async () => {
    for (const p of prefixes) await cleanup(p, es, redis);
    await es.close();
    redis.disconnect();
  });

  it('is created once however many processes ask at the same time, and survives restarts', async () => {
    const prefix = fresh();
    const ids = await Promise.all(Array.from({ length: 6 }, () => ensureDatasetId(es, prefix)));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{12}$/);
    expect(await ensureDatasetId(es, prefix)).toBe(ids[0]);
  });

  it('is new once the indices are gone, and Redis bound to the old one says so and sets its state aside', async () => {
    const prefix = fresh();
    const { logger, warnings } = recordingLogger();
    const first = await ensureDatasetId(es, prefix);
    const bound = await bindRedisToDataset(redis, prefix, first, logger);
    expect(bound).toEqual({ dataset: first, namespace: `${prefix}:${first}` });
    await redis.set(`${bound.namespace}:dedup:e-1`, '1');
    expect(await bindRedisToDataset(redis, prefix, first, logger)).toEqual(bound);
    expect(warnings).toEqual([]);

    await deletePrefix(es, prefix);
    const second = await ensureDatasetId(es, prefix);
    expect(second).not.toBe(first);
    const rebound = await bindRedisToDataset(redis, prefix, second, logger);
    expect(rebound).toEqual({ dataset: second, namespace: `${prefix}:${second}`, previous: first });
    expect(warnings).toEqual([expect.stringContaining(`left aside under '${prefix}:${first}:*'`)]);
    expect(await redis.get(datasetPointerKey(prefix))).toBe(second);
    // Nothing of the old data set is read under the new namespace, and nothing of it was deleted.
    expect(await redis.exists(`${rebound.namespace}:dedup:e-1`)).toBe(0);
    expect(await redis.exists(`${bound.namespace}:dedup:e-1`)).toBe(1);
  });

  it('falls back to the data set Redis was bound to while Elasticsearch does not answer', async () => {
    const prefix = fresh();
    const { logger } = recordingLogger();
    const down = createEsClient({ url: 'http://127.0.0.1:9', requestTimeoutMs: 500 });
    try {
      await expect(resolveDataset(down, redis, prefix, logger, { waitMs: 300, pollMs: 100 })).rejects.toThrow(
        /Elasticsearch does not answer .* Redis was never bound to one. Start Elasticsearch/,
      );
      const dataset = await ensureDatasetId(es, prefix);
      await bindRedisToDataset(redis, prefix, dataset, logger);
      expect(await resolveDataset(down, redis, prefix, logger, { waitMs: 300, pollMs: 100 })).toEqual({
        dataset,
        namespace: `${prefix}:${dataset}`,
      });
      expect(await resolveDataset(es, redis, prefix, logger, { waitMs: 300 })).toEqual({ dataset, namespace: `${prefix}:${dataset}` });
    } finally {
      await down.close();
    }
  });

  it('lets a fresh Elasticsearch take again the events a Redis that outlived the old one remembers', async () => {
    const prefix = fresh();
    const env = baseEnv(prefix);
    const events = Array.from({ length: 30 }, (_, i) => ({
      type: 'page_view',
      eventId: `wiped-${i}`,
      userId: `wiped-user-${i % 3}`,
      timestamp: new Date(Date.now() - 60_000 + i).toISOString(),
    }));
    const users = ['wiped-user-0', 'wiped-user-1', 'wiped-user-2'];
    const applied = async (): Promise<boolean> => [...(await eventCounts(es, prefix, users)).values()].every((n) => n === 10);

    const run = async (expectedStatus: 'accepted' | 'duplicate'): Promise<void> => {
      const [ing, idx] = await Promise.all([ingest(env), indexer(env)]);
      try {
        const res = await http('POST', `${ing.url}/v1/events/batch`, { events });
        expect(res.status).toBe(202);
        expect(res.body[expectedStatus]).toBe(events.length);
        await eventually(async () => (await applied()) || undefined, 30_000, 'every event applied');
      } finally {
        await Promise.all([ing.stop(), idx.stop()]);
      }
    };

    await run('accepted');
    const before = await ensureDatasetId(es, prefix);
    // Re-sent to the same data set, the events are duplicates and change nothing.
    await run('duplicate');
    expect(await ensureDatasetId(es, prefix)).toBe(before);

    // Elasticsearch loses the data set; Redis keeps its remembered ids and queues.
    await deletePrefix(es, prefix);
    await run('accepted');
    const after = await ensureDatasetId(es, prefix);
    expect(after).not.toBe(before);
    expect(await redis.get(datasetPointerKey(prefix))).toBe(after);
  });
});
