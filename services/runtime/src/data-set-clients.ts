import { indexNames, type CommonConfig, type IndexNames } from '@portrait/shared';
import { bootstrapIndices } from './bootstrap';
import { bindRedisToDataset } from './dataset';
import { createEsClient, waitForEs, type Client } from './elasticsearch';
import type { Lifecycle } from './lifecycle';
import type { Logger } from './logger';
import { closeRedis, createRedis, type Redis } from './redis';

export interface DataSetClients {
  prefix: string;
  names: IndexNames;
  es: Client;
  redis: Redis;
  /** The data set's Redis namespace (`<prefix>:<dataset>`): every queue and key of this process lives under it. */
  namespace: string;
}

/**
 * What a service that reads or writes the data set does first: waits for Elasticsearch, puts the index
 * templates and indices (warning about any older than its definition), connects Redis and binds it to the
 * data set. Both clients close with the lifecycle.
 */
export async function openDataSet(
  config: CommonConfig,
  lifecycle: Lifecycle,
  logger: Logger,
  options: { redisRole: 'producer' | 'worker'; esRequestTimeoutMs?: number },
): Promise<DataSetClients> {
  const prefix = config.PORTRAIT_PREFIX;
  const es = createEsClient({
    url: config.ES_URL,
    username: config.ES_USERNAME,
    password: config.ES_PASSWORD,
    requestTimeoutMs: options.esRequestTimeoutMs,
  });
  lifecycle.defer('elasticsearch', () => es.close());
  await waitForEs(es, config.ES_URL, config.ES_WAIT_SECONDS * 1000, (msg) => logger.info(msg));
  const bootstrap = await bootstrapIndices(es, prefix);
  for (const outdated of bootstrap.outdated) logger.warn(outdated, 'index is older than its definition; run the migration');

  const redis = createRedis(config.REDIS_URL, options.redisRole);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  lifecycle.defer('redis', () => closeRedis(redis));
  const { namespace } = await bindRedisToDataset(redis, prefix, bootstrap.dataset, logger);
  return { prefix, names: indexNames(prefix), es, redis, namespace };
}
