import { randomUUID } from 'node:crypto';
import { errors, type Client } from './elasticsearch';
import type { Logger } from './logger';
import { whenRedisReady, type Redis } from './redis';

/**
 * Redis state (queued batches, remembered event ids, segment generations, export cancellations) only
 * means something for the Elasticsearch data it was made for. Each data set gets an id when its indices
 * are first created, stored with them in `<prefix>-dataset`; every Redis key lives under
 * `<prefix>:<dataset id>:`. A fresh Elasticsearch (another checkout, a deleted data directory, a new
 * cluster) gets a new id, so a Redis that outlived its data set is never read as if it described the new
 * one: its keys are left aside, and reported.
 */

const DOC_ID = 'dataset';

export function datasetIndex(prefix: string): string {
  return `${prefix}-dataset`;
}

/** The Redis key holding the id of the data set the prefix's Redis state currently describes. */
export function datasetPointerKey(prefix: string): string {
  return `${prefix}:dataset`;
}

/** The namespace of every Redis key of one data set. */
export function redisNamespace(prefix: string, dataset: string): string {
  return `${prefix}:${dataset}`;
}

/**
 * The id of the data set Elasticsearch holds for this prefix, created on first use. Safe to call from
 * several processes at once: the first writer's id wins and everyone reads it.
 */
export async function ensureDatasetId(es: Client, prefix: string, now: () => number = Date.now): Promise<string> {
  const index = datasetIndex(prefix);
  const existing = await readDatasetId(es, prefix);
  if (existing) return existing;
  try {
    await es.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0, auto_expand_replicas: '0-1' },
      mappings: { dynamic: false, properties: { datasetId: { type: 'keyword' }, createdAt: { type: 'date' } } },
    });
  } catch (error) {
    if (!(error instanceof errors.ResponseError && error.body?.error?.type === 'resource_already_exists_exception')) throw error;
  }
  const candidate = randomUUID().replaceAll('-', '').slice(0, 12);
  try {
    await es.create({
      index,
      id: DOC_ID,
      document: { datasetId: candidate, createdAt: new Date(now()).toISOString() },
      refresh: 'wait_for',
    });
    return candidate;
  } catch (error) {
    if (!(error instanceof errors.ResponseError && error.statusCode === 409)) throw error;
    const winner = await readDatasetId(es, prefix);
    if (!winner) throw new Error(`${index} holds no data set id after a conflicting create; check the index`, { cause: error });
    return winner;
  }
}

async function readDatasetId(es: Client, prefix: string): Promise<string | undefined> {
  try {
    const res = await es.get<{ datasetId?: unknown }>({ index: datasetIndex(prefix), id: DOC_ID });
    const id = res._source?.datasetId;
    return typeof id === 'string' && /^[0-9a-f]{12}$/.test(id) ? id : undefined;
  } catch (error) {
    if (error instanceof errors.ResponseError && error.statusCode === 404) return undefined;
    throw error;
  }
}

export interface DatasetBinding {
  dataset: string;
  /** Redis namespace of the data set: `<prefix>:<dataset>`. */
  namespace: string;
  /** The data set Redis described before, when it was another one (its keys are left aside). */
  previous?: string;
}

/**
 * Points the prefix's Redis at this data set. When it described another one, says so, with what that
 * state held, so nobody wonders where queued batches or remembered events went. Redis being unreachable
 * does not stop a start (the services wait for it on their own): the check is then skipped, with a warning.
 */
export async function bindRedisToDataset(
  redis: Redis,
  prefix: string,
  dataset: string,
  logger: Logger,
  timeoutMs = 5000,
): Promise<DatasetBinding> {
  const binding: DatasetBinding = { dataset, namespace: redisNamespace(prefix, dataset) };
  let previous: string | null;
  try {
    if (!(await whenRedisReady(redis, timeoutMs))) throw new Error(`not ready within ${timeoutMs} ms`);
    previous = await withTimeout(redis.getset(datasetPointerKey(prefix), dataset), timeoutMs);
  } catch (error) {
    logger.warn({ err: (error as Error).message, dataset }, 'Redis not reachable: could not check which data set its state describes');
    return binding;
  }
  if (previous !== null && previous !== dataset) {
    const aside = redisNamespace(prefix, previous);
    logger.warn(
      { prefix, dataset, previous, previousKeys: await withTimeout(countKeys(redis, `${aside}:*`), timeoutMs).catch(() => -1) },
      `Redis held the state of data set ${previous}, which this Elasticsearch does not hold (it holds ${dataset}): ` +
        `that state is left aside under '${aside}:*'. Delete it with 'npm run es -- wipe' once nothing there is ` +
        `needed, or point the services back at the Elasticsearch it belongs to`,
    );
    binding.previous = previous;
  }
  return binding;
}

/**
 * The data set for a process that may start while Elasticsearch is down (ingest accepts events without
 * it): Elasticsearch's id when it answers, else the one Redis was last bound to; waits for either.
 */
export async function resolveDataset(
  es: Client,
  redis: Redis,
  prefix: string,
  logger: Logger,
  options: { waitMs: number; pollMs?: number },
): Promise<DatasetBinding> {
  const deadline = Date.now() + options.waitMs;
  for (let warned = false; ;) {
    let esError: unknown;
    try {
      return await bindRedisToDataset(redis, prefix, await ensureDatasetId(es, prefix), logger);
    } catch (error) {
      esError = error;
    }
    const known = await withTimeout(redis.get(datasetPointerKey(prefix)), 2000).catch(() => null);
    if (known) {
      logger.warn(
        { err: (esError as Error).message, dataset: known },
        'Elasticsearch not reachable: serving the data set Redis was last bound to',
      );
      return { dataset: known, namespace: redisNamespace(prefix, known) };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `cannot tell which data set to serve: Elasticsearch does not answer (${(esError as Error).message}) and Redis ` +
          `was never bound to one. Start Elasticsearch (npm run es -- start) and try again`,
        { cause: esError },
      );
    }
    if (!warned) logger.warn('waiting for Elasticsearch (or a Redis bound to a data set) to tell which data set to serve');
    warned = true;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}

/** The namespace of the data set the prefix's Redis is bound to, for tools that reach only Redis; undefined before any service started. */
export async function boundNamespace(redis: Redis, prefix: string): Promise<string | undefined> {
  const dataset = await redis.get(datasetPointerKey(prefix));
  return dataset === null ? undefined : redisNamespace(prefix, dataset);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}
