import {
  bindRedisToDataset,
  createEsClient,
  createLogger,
  datasetPointerKey,
  deletePrefix,
  ensureDataSet,
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
    const sets = await Promise.all(Array.from({ length: 6 }, () => ensureDataSet(es, prefix)));
    expect(new Set(sets.map((d) => JSON.stringify(d))).size).toBe(1);
    expect(sets[0]!.id).toMatch(/^[0-9a-f]{12}$/);
    expect(sets[0]!.namespace).toBe(`${prefix}:${sets[0]!.id}`);
    expect(await ensureDataSet(es, prefix)).toEqual(sets[0]);
  });

  it('is new once the indices are gone, and Redis bound to the old one says so and sets its state aside', async () => {
    const prefix = fresh();
    const { logger, warnings } = recordingLogger();
    const first = await ensureDataSet(es, prefix);
    const bound = await bindRedisToDataset(redis, prefix, first, logger);
    expect(bound).toEqual({ namespace: first.namespace });
    await redis.set(`${bound.namespace}:dedup:e-1`, '1');
    expect(await bindRedisToDataset(redis, prefix, first, logger)).toEqual(bound);
    expect(warnings).toEqual([]);

    await deletePrefix(es, prefix);
    const second = await ensureDataSet(es, prefix);
    expect(second.id).not.toBe(first.id);
    const rebound = await bindRedisToDataset(redis, prefix, second, logger);
    expect(rebound).toEqual({ namespace: second.namespace, previous: first.namespace });
    expect(warnings).toEqual([expect.stringContaining(`another data set (under '${first.namespace}:*')`)]);
    expect(await redis.get(datasetPointerKey(prefix))).toBe(second.namespace);
    // Nothing of the old data set is read under the new namespace, and nothing of it was deleted.
    expect(await redis.exists(`${rebound.namespace}:dedup:e-1`)).toBe(0);
    expect(await redis.exists(`${bound.namespace}:dedup:e-1`)).toBe(1);
  });

  it('keeps the Redis keys of indices from before data set ids: an upgrade in place loses nothing queued', async () => {
    const prefix = fresh();
    const { logger } = recordingLogger();
    // Indices as an earlier version left them: a profiles alias, no data set document.
    await es.indices.create({ index: `${prefix}-profiles-v2`, aliases: { [`${prefix}-profiles`]: {} } });
    await redis.set(`${prefix}:dedup:e-old`, '1');
    const upgraded = await ensureDataSet(es, prefix);
    expect(upgraded.namespace).toBe(prefix);
    expect(await bindRedisToDataset(redis, prefix, upgraded, logger)).toEqual({ namespace: prefix });
    expect(await redis.exists(`${upgraded.namespace}:dedup:e-old`)).toBe(1);
  });

  it('falls back to the data set Redis was bound to while Elasticsearch does not answer', async () => {
    const prefix = fresh();
    const { logger } = recordingLogger();
    const down = createEsClient({ url: 'http://127.0.0.1:9', requestTimeoutMs: 500 });
    try {
      await expect(resolveDataset(down, redis, prefix, logger, { waitMs: 300, pollMs: 100 })).rejects.toThrow(
        /Elasticsearch does not answer .* Redis was never bound to one. Start Elasticsearch/,
      );
      const dataset = await ensureDataSet(es, prefix);
      await bindRedisToDataset(redis, prefix, dataset, logger);
      expect(await resolveDataset(down, redis, prefix, logger, { waitMs: 300, pollMs: 100 })).toEqual({ namespace: dataset.namespace });
      expect(await resolveDataset(es, redis, prefix, logger, { waitMs: 300 })).toEqual({ namespace: dataset.namespace });
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
    const before = await ensureDataSet(es, prefix);
    // Re-sent to the same data set, the events are duplicates and change nothing.
    await run('duplicate');
    expect(await ensureDataSet(es, prefix)).toEqual(before);

    // Elasticsearch loses the data set; Redis keeps its remembered ids and queues.
    await deletePrefix(es, prefix);
    await run('accepted');
    const after = await ensureDataSet(es, prefix);
    expect(after.id).not.toBe(before.id);
    expect(await redis.get(datasetPointerKey(prefix))).toBe(after.namespace);
  });
});
