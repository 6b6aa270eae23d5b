import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createLogger, createEsClient, createRedis, deletePrefix, ensureDataSet, type Client, type Redis } from '@portrait/runtime';
import { loadIngestConfig, startIngest, type IngestService } from '@portrait/ingest';
import { loadIndexerConfig, startIndexer, type IndexerService } from '@portrait/indexer';
import { loadQueryConfig, startQuery, type QueryService } from '@portrait/query';
import { loadJobsConfig, startJobs, type JobsService } from '@portrait/jobs';

export const ES_URL = process.env.ES_URL ?? 'http://127.0.0.1:9200';
/** Set when the suite runs against a secured Elasticsearch (scripts/test.sh runs part of it so). */
export const ES_CREDENTIALS: Env =
  process.env.ES_USERNAME && process.env.ES_PASSWORD ? { ES_USERNAME: process.env.ES_USERNAME, ES_PASSWORD: process.env.ES_PASSWORD } : {};
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REPO_ROOT = path.resolve(__dirname, '../..');

/** A fresh name prefix per test file: its own indices, queues and dedup keys. */
export function testPrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}

export type Env = Record<string, string>;

/**
 * Environment shared by services in tests: quiet logs, fast retries and stall detection. No API key is asked
 * for: test/integration/api-keys.test.ts runs every route with keys (`AUTH_REQUIRED: 'true'`), the others test
 * the behaviour behind the check.
 */
export function baseEnv(prefix: string, extra: Env = {}): Env {
  return {
    ES_URL,
    ...ES_CREDENTIALS,
    REDIS_URL,
    AUTH_REQUIRED: 'false',
    PORTRAIT_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    INGEST_PORT: '0',
    QUERY_PORT: '0',
    INDEXER_PORT: '0',
    JOBS_PORT: '0',
    INDEXER_LOCK_MS: '3000',
    INDEXER_STALLED_CHECK_MS: '1000',
    INDEXER_RETRY_CAP_MS: '1000',
    ES_WAIT_SECONDS: '120',
    ...extra,
  };
}

const silent = () => createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

export function ingest(env: Env): Promise<IngestService> {
  return startIngest(loadIngestConfig(env), silent());
}

export function indexer(env: Env): Promise<IndexerService> {
  return startIndexer(loadIndexerConfig(env), silent());
}

export function query(env: Env): Promise<QueryService> {
  return startQuery(loadQueryConfig(env), silent());
}

export function jobs(env: Env): Promise<JobsService> {
  return startJobs(loadJobsConfig(env), silent());
}

/** An indexer in its own OS process, so a test can kill it outright. */
export function indexerProcess(env: Env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'services/indexer/src/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export function esClient(): Client {
  return createEsClient({ url: ES_URL, username: ES_CREDENTIALS.ES_USERNAME, password: ES_CREDENTIALS.ES_PASSWORD });
}

export function redisClient(url = REDIS_URL): Redis {
  return createRedis(url, 'worker');
}

/** The Redis namespace of a prefix's data set, as the services bind it (the id is created if no service ran yet). */
export async function namespaceOf(es: Client, prefix: string): Promise<string> {
  return (await ensureDataSet(es, prefix)).namespace;
}

/** Removes everything a prefix created: indices, templates, queues and keys. */
export async function cleanup(prefix: string, es: Client, redis: Redis): Promise<void> {
  await deletePrefix(es, prefix);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Ingest, indexer, query and jobs in this process on one prefix, with the clients a test needs. */
export interface Stack {
  es: Client;
  redis: Redis;
  ing: IngestService;
  idx: IndexerService;
  qry: QueryService;
  jobs: JobsService;
  /** Stops the services, then deletes everything the prefix created and closes the clients. */
  stop: () => Promise<void>;
}

export async function startStack(prefix: string, env: Env): Promise<Stack> {
  const es = esClient();
  const redis = redisClient();
  const [ing, idx, qry, job] = await Promise.all([ingest(env), indexer(env), query(env), jobs(env)]);
  return {
    es,
    redis,
    ing,
    idx,
    qry,
    jobs: job,
    stop: async () => {
      await Promise.all([ing.stop(), idx.stop(), qry.stop(), job.stop()]);
      await cleanup(prefix, es, redis);
      await es.close();
      redis.disconnect();
    },
  };
}

/** Sends events in batches of 200 through the ingest API; every one must be accepted. */
export async function postEvents(ingestUrl: string, events: readonly unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 200) {
    const res = await http('POST', `${ingestUrl}/v1/events/batch`, { events: events.slice(i, i + 200) });
    expect(res.body.rejected).toBe(0);
  }
}

/** Queues a training through the query API and waits until it completes or fails; answers its last status. */
export async function trainModel(queryUrl: string, kind: string, body: Record<string, unknown> = {}): Promise<any> {
  const started = await http('POST', `${queryUrl}/v1/models/${kind}/train`, body);
  expect(started.status).toBe(202);
  return eventually(
    async () => {
      const res = await http('GET', `${queryUrl}${started.body.statusUrl}`);
      return ['completed', 'failed'].includes(res.body.state) ? res.body : undefined;
    },
    60_000,
    `${kind} training`,
  );
}

/**
 * Every Redis key of a prefix's data set (and of the prefix itself) with its whole content as text: what a test
 * searches for something that must not be kept.
 */
export async function redisDump(redis: Redis, es: Client, prefix: string): Promise<Map<string, string>> {
  const namespace = await namespaceOf(es, prefix);
  const dump = new Map<string, string>();
  for (const pattern of [`${namespace}:*`, `${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let content: unknown;
        if (type === 'string') content = await redis.getBuffer(key).then((b) => b?.toString('latin1'));
        else if (type === 'hash') content = await redis.hgetall(key);
        else if (type === 'list') content = await redis.lrange(key, 0, -1);
        else if (type === 'set') content = await redis.smembers(key);
        else if (type === 'zset') content = await redis.zrange(key, '0', '-1', 'WITHSCORES');
        else if (type === 'stream') content = await redis.xrange(key, '-', '+');
        dump.set(key, JSON.stringify(content));
      }
    } while (cursor !== '0');
  }
  return dump;
}

/** The four services with their log lines, at debug level, going to `lines` (for tests that read the logs). */
export async function loggedServices(
  env: Env,
  lines: string[],
): Promise<{ ing: IngestService; idx: IndexerService; qry: QueryService; jobs: JobsService }> {
  const destination = { write: (line: string) => void lines.push(line) };
  const log = (name: string) => createLogger(name, 'debug', destination);
  const [ing, idx, qry, job] = await Promise.all([
    startIngest(loadIngestConfig(env), log('ingest')),
    startIndexer(loadIndexerConfig(env), log('indexer')),
    startQuery(loadQueryConfig(env), log('query')),
    startJobs(loadJobsConfig(env), log('jobs')),
  ]);
  return { ing, idx, qry, jobs: job };
}
