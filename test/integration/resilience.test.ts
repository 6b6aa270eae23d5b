import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import {
  createDeadLetterQueue,
  createIngestQueue,
  createRedis,
  esReady,
  type Client,
  type IngestJobData,
  type Redis,
} from '@portrait/runtime';
import { drained, enqueue, eventCounts, pageViewBatches, processedOf } from '../support/load';
import {
  REPO_ROOT,
  baseEnv,
  cleanup,
  esClient,
  eventually,
  http,
  indexer,
  indexerProcess,
  ingest,
  redisClient,
  testPrefix,
  namespaceOf,
} from '../support/stack';

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

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

describe('an indexer killed mid-batch', () => {
  const prefix = testPrefix('kill');
  let queue: Queue<IngestJobData>;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await queue.close();
    await cleanup(prefix, es, redis);
  });

  it('leaves every counter exact once a restarted indexer has finished', async () => {
    queue = createIngestQueue(redis, await namespaceOf(es, prefix));
    const users = Array.from({ length: 40 }, (_, i) => `k-${i}`);
    const { batches, expected } = pageViewBatches(150, 100, users);
    await enqueue(queue, batches);

    const first = indexerProcess(baseEnv(prefix, { INDEXER_CONCURRENCY: '4' }));
    children.push(first);
    // Kill it without warning while it is part-way through the batches.
    await eventually(async () => (await processedOf(queue, batches.length)) >= 20 || undefined, 60_000, 'first indexer progressing');
    first.kill('SIGKILL');
    await exited(first);
    const processedAtKill = await processedOf(queue, batches.length);
    expect(processedAtKill).toBeLessThan(batches.length);

    const second = indexerProcess(baseEnv(prefix, { INDEXER_CONCURRENCY: '4' }));
    children.push(second);
    await eventually(() => drained(queue, batches.length), 120_000, 'restarted indexer drained the queue');
    expect(await queue.getFailedCount()).toBe(0);
    expect(await eventCounts(es, prefix, users)).toEqual(expected);
    second.kill('SIGTERM');
    await exited(second);
    expect(second.exitCode).toBe(0);
  });
});

describe('graceful shutdown', () => {
  const prefix = testPrefix('drain');
  let queue: Queue<IngestJobData>;

  afterAll(async () => {
    await queue.close();
    await cleanup(prefix, es, redis);
  });

  it('finishes in-flight batches on stop and loses nothing', async () => {
    queue = createIngestQueue(redis, await namespaceOf(es, prefix));
    const users = Array.from({ length: 10 }, (_, i) => `g-${i}`);
    const { batches, expected } = pageViewBatches(60, 100, users);
    await enqueue(queue, batches);
    const env = baseEnv(prefix);
    const first = await indexer(env);
    await eventually(async () => (await processedOf(queue, batches.length)) >= 5 || undefined, 30_000, 'progress');
    await first.stop();
    // Nothing is left half-done: every batch is completed or still waiting, none stuck active.
    const counts = await queue.getJobCounts('active', 'failed');
    expect(counts).toEqual({ active: 0, failed: 0 });
    const second = await indexer(env);
    await eventually(() => drained(queue, batches.length), 60_000, 'drained after restart');
    await second.stop();
    expect(await eventCounts(es, prefix, users)).toEqual(expected);
  });
});

describe('Elasticsearch stopped while events keep arriving', () => {
  const prefix = testPrefix('esdown');

  afterAll(async () => {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/es.sh'), 'start'], { stdio: 'ignore' });
    await cleanup(prefix, es, redis);
  });

  it('accepts events during the outage and applies every one after Elasticsearch returns', async () => {
    const env = baseEnv(prefix);
    const ing = await ingest(env);
    const idx = await indexer(env);
    try {
      const send = async (from: number, count: number): Promise<void> => {
        const events = Array.from({ length: count }, (_, i) => ({
          type: 'search',
          eventId: `es-${from + i}`,
          userId: `e-${(from + i) % 5}`,
          timestamp: new Date().toISOString(),
          query: `q${from + i}`,
        }));
        const res = await http('POST', `${ing.url}/v1/events/batch`, { events });
        expect(res.status).toBe(202);
        expect(res.body.accepted).toBe(count);
      };
      await send(0, 50);
      execFileSync('bash', [path.join(REPO_ROOT, 'scripts/es.sh'), 'stop'], { stdio: 'ignore' });
      expect(await esReady(es, 1000)).toBe(false);
      for (let i = 1; i <= 10; i++) await send(i * 50, 50);
      const ready = await http('GET', `${ing.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.elasticsearch).toBe('down');

      execFileSync('bash', [path.join(REPO_ROOT, 'scripts/es.sh'), 'start'], { stdio: 'ignore' });
      const users = Array.from({ length: 5 }, (_, i) => `e-${i}`);
      await eventually(
        async () => {
          const counts = await eventCounts(es, prefix, users);
          return [...counts.values()].reduce((a, b) => a + b, 0) === 550 || undefined;
        },
        90_000,
        'all 550 events applied',
      );
      expect(await eventCounts(es, prefix, users)).toEqual(new Map(users.map((u) => [u, 110])));
      // The outage only delayed events: nothing was dead-lettered or left failed.
      const [queue, dlq] = [
        createIngestQueue(redis, await namespaceOf(es, prefix)),
        createDeadLetterQueue(redis, await namespaceOf(es, prefix)),
      ];
      expect([await queue.getFailedCount(), await dlq.count()]).toEqual([0, 0]);
      await Promise.all([queue.close(), dlq.close()]);
    } finally {
      await Promise.all([ing.stop(), idx.stop()]);
    }
  });
});

describe('Redis restarted', () => {
  const prefix = testPrefix('redis');
  const port = 16_000 + Math.floor(Math.random() * 1000);
  const url = `redis://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'portrait-redis-'));
  let server: ChildProcess | undefined;

  const startRedis = async (): Promise<void> => {
    // AOF with fsync on every write: what "202 means durably queued" needs from Redis.
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
      {
        stdio: 'ignore',
      },
    );
    const probe = createRedis(url, 'producer', { lazyConnect: true });
    await eventually(
      async () => {
        await probe.connect().catch(() => undefined);
        return (await probe.ping()) === 'PONG' || undefined;
      },
      10_000,
      'redis up',
    );
    probe.disconnect();
  };

  afterAll(async () => {
    server?.kill('SIGKILL');
    if (server) await exited(server);
    rmSync(dir, { recursive: true, force: true });
    await cleanup(prefix, es, redis);
  });

  it('keeps queued events through a Redis crash and applies them after', async () => {
    await startRedis();
    const env = baseEnv(prefix, { REDIS_URL: url });
    const ing = await ingest(env);
    try {
      const events = (from: number) =>
        Array.from({ length: 20 }, (_, i) => ({
          type: 'page_view',
          eventId: `r-${from + i}`,
          userId: 'r-user',
          timestamp: new Date().toISOString(),
        }));
      // Queued with no indexer running: the events exist only in Redis.
      expect((await http('POST', `${ing.url}/v1/events/batch`, { events: events(0) })).status).toBe(202);
      server!.kill('SIGKILL');
      await exited(server!);
      expect((await http('POST', `${ing.url}/v1/events/batch`, { events: events(100) })).status).toBe(503);
      await startRedis();
      // Ingest reconnects by itself.
      await eventually(
        async () => (await http('POST', `${ing.url}/v1/events/batch`, { events: events(200) })).status === 202 || undefined,
        15_000,
        'ingest back',
      );
      const idx = await indexer(env);
      try {
        await eventually(
          async () => (await eventCounts(es, prefix, ['r-user'])).get('r-user') === 40 || undefined,
          30_000,
          '40 events applied',
        );
      } finally {
        await idx.stop();
      }
    } finally {
      await ing.stop();
    }
  });
});

describe('dead-letter queue', () => {
  const prefix = testPrefix('dlq');

  afterAll(async () => {
    await cleanup(prefix, es, redis);
  });

  it('parks a batch whose payload fails validation, with the reason, and completes the job without retrying it', async () => {
    const queue = createIngestQueue(redis, await namespaceOf(es, prefix));
    const dlq = createDeadLetterQueue(redis, await namespaceOf(es, prefix));
    const idx = await indexer(baseEnv(prefix));
    try {
      const job = await queue.add('events', { events: [{ type: 'page_view', userId: 'x' } as never] });
      const entry = await eventually(async () => (await dlq.getJobs(['waiting']))[0], 15_000, 'dead letter');
      expect(entry.data.stage).toBe('validation');
      expect(entry.data.reason).toMatch(/eventId|timestamp/);
      expect(entry.data.sourceJobId).toBe(job.id);
      // Completed at once, not retried and not failed: an applied batch leaves the queue, a failed one would stay.
      await eventually(async () => (await job.getState()) === 'unknown', 10_000, 'job finished');
      expect(await queue.getFailedCount()).toBe(0);
      expect(await dlq.count()).toBe(1);
    } finally {
      await idx.stop();
      await queue.close();
      await dlq.close();
    }
  });
});
