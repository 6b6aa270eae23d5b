import { createEsClient, createRedis, esReady, whenRedisReady } from '@portrait/runtime';

/** The test command starts Elasticsearch and Redis first; fail early, with advice, if they are not there. */
export default async function globalSetup(): Promise<void> {
  const esUrl = process.env.ES_URL ?? 'http://127.0.0.1:9200';
  const es = createEsClient({ url: esUrl, username: process.env.ES_USERNAME, password: process.env.ES_PASSWORD });
  const ok = await esReady(es, 10_000);
  await es.close();
  if (!ok)
    throw new Error(`Elasticsearch is not reachable at ${esUrl}: run the tests with "npm test" (it starts it) or "npm run es -- start"`);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedis(redisUrl, 'producer');
  const up = await whenRedisReady(redis, 5000);
  redis.disconnect();
  if (!up) throw new Error(`Redis is not reachable at ${redisUrl}: run "bash scripts/redis.sh ensure"`);
}
