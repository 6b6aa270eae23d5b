import { randomUUID } from 'node:crypto';
import { indexNames } from '@portrait/shared';
import { errors, type Client } from './elasticsearch';
import type { Logger } from './logger';
import { whenRedisReady, type Redis } from './redis';

/**
 * Redis state (queued batches, remembered event ids, segment generations, export cancellations) only
 * means something for the Elasticsearch data it was made for. Each data set gets an id and a Redis
 * namespace when its indices are first created, stored with them in `<prefix>-dataset`; every Redis key
 * lives under that namespace, `<prefix>:<dataset id>`. A fresh Elasticsearch (another checkout, a deleted
 * data directory, a new cluster) gets a new one, so a Redis that outlived its data set is never read as if
 * it described the new one: its keys are left aside, and reported.
 *
 * A data set whose indices predate the ids (an upgrade in place) keeps the keys it has: its namespace is the
 * bare prefix, where those keys already are, so nothing queued or remembered is lost across the upgrade.
 */

export interface DataSet {
  id: string;
  /** Where its Redis keys live: `<prefix>:<id>`, or `<prefix>` for a data set from before the ids. */
  namespace: string;
}

const DOC_ID = 'dataset';
const ID = /^[0-9a-f]{12}$/;

export function datasetIndex(prefix: string): string {
  return `${prefix}-dataset`;
}

/** The Redis key holding the namespace of the data set the prefix's Redis state currently describes. */
export function datasetPointerKey(prefix: string): string {
  return `${prefix}:dataset`;
}

/**
 * The data set Elasticsearch holds for this prefix, created on first use. Safe to call from several
 * processes at once: the first writer wins and everyone reads what it wrote.
 */
export async function ensureDataSet(es: Client, prefix: string, now: () => number = Date.now): Promise<DataSet> {
  const index = datasetIndex(prefix);
  const existing = await readDataSet(es, prefix);
  if (existing) return existing;
  // Profiles without a data set id were written before ids existed: their Redis state is under the bare prefix.
  const upgrade = await es.indices.existsAlias({ name: indexNames(prefix).profiles });
  try {
    await es.indices.create({
      index,
      settings: { number_of_shards: 1, auto_expand_replicas: '0-1' },
      mappings: {
        dynamic: false,
        properties: { datasetId: { type: 'keyword' }, namespace: { type: 'keyword' }, createdAt: { type: 'date' } },
      },
    });
  } catch (error) {
    if (!(error instanceof errors.ResponseError && error.body?.error?.type === 'resource_already_exists_exception')) throw error;
  }
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const candidate: DataSet = { id, namespace: upgrade ? prefix : `${prefix}:${id}` };
  try {
    await es.create({
      index,
      id: DOC_ID,
      document: { datasetId: candidate.id, namespace: candidate.namespace, createdAt: new Date(now()).toISOString() },
      refresh: 'wait_for',
    });
    return candidate;
  } catch (error) {
    if (!(error instanceof errors.ResponseError && error.statusCode === 409)) throw error;
    const winner = await readDataSet(es, prefix);
    if (!winner) throw new Error(`${index} holds no data set after a conflicting create; check the index`, { cause: error });
    return winner;
  }
}

async function readDataSet(es: Client, prefix: string): Promise<DataSet | undefined> {
  try {
    const res = await es.get<{ datasetId?: unknown; namespace?: unknown }>({ index: datasetIndex(prefix), id: DOC_ID });
    const { datasetId, namespace } = res._source ?? {};
    if (typeof datasetId !== 'string' || !ID.test(datasetId)) return undefined;
    const expected = [`${prefix}:${datasetId}`, prefix];
    if (typeof namespace !== 'string' || !expected.includes(namespace)) return undefined;
    return { id: datasetId, namespace };
  } catch (error) {
    if (error instanceof errors.ResponseError && error.statusCode === 404) return undefined;
    throw error;
  }
}

export interface DatasetBinding {
  /** The data set's Redis namespace: every key of the process goes under it. */
  namespace: string;
  /** The namespace Redis described before, when it was another data set's (its keys are left aside). */
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
  dataset: DataSet,
  logger: Logger,
  timeoutMs = 5000,
): Promise<DatasetBinding> {
  const binding: DatasetBinding = { namespace: dataset.namespace };
  let previous: string | null;
  try {
    if (!(await whenRedisReady(redis, timeoutMs))) throw new Error(`not ready within ${timeoutMs} ms`);
    previous = await withTimeout(redis.getset(datasetPointerKey(prefix), dataset.namespace), timeoutMs);
  } catch (error) {
    logger.warn(
      { err: (error as Error).message, dataset: dataset.id },
      'Redis not reachable: could not check which data set its state describes',
    );
    return binding;
  }
  if (previous !== null && previous !== dataset.namespace) {
    const patterns = previous === prefix ? [`${prefix}:bull:*`, `${prefix}:dedup:*`] : [`${previous}:*`];
    const previousKeys = await withTimeout(countKeys(redis, patterns), timeoutMs).catch(() => -1);
    logger.warn(
      { prefix, dataset: dataset.id, namespace: dataset.namespace, previous, previousKeys },
      `Redis held the state of another data set (under '${previous}:*'), which this Elasticsearch does not hold: ` +
        `that state is left aside. Delete it with 'npm run es -- wipe' once nothing there is needed, or point the ` +
        `services back at the Elasticsearch it belongs to`,
    );
    binding.previous = previous;
  }
  return binding;
}

/**
 * The data set for a process that may start while Elasticsearch is down (ingest accepts events without
 * it): Elasticsearch's when it answers, else the one Redis was last bound to; waits for either.
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
      return await bindRedisToDataset(redis, prefix, await ensureDataSet(es, prefix), logger);
    } catch (error) {
      esError = error;
    }
    const known = await withTimeout(boundNamespace(redis, prefix), 2000).catch(() => undefined);
    if (known) {
      logger.warn(
        { err: (esError as Error).message, namespace: known },
        'Elasticsearch not reachable: serving the data set Redis was last bound to',
      );
      return { namespace: known };
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
  return (await redis.get(datasetPointerKey(prefix))) ?? undefined;
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

async function countKeys(redis: Redis, patterns: string[]): Promise<number> {
  let n = 0;
  for (const pattern of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
  }
  return n;
}
