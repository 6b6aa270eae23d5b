import {
  createIngestQueue,
  createApp,
  createEsClient,
  createLogger,
  createRedis,
  createRegistry,
  esReady,
  Gauge,
  Lifecycle,
  listen,
  redisReady,
  resolveDataset,
  whenRedisReady,
  closeRedis,
  apiKeyAuth,
  type Logger,
} from '@portrait/runtime';
import { clockOf, INGEST_API, redactUrl } from '@portrait/shared';
import type { IngestConfig } from './config';
import { Intake } from './intake';
import { ingestRoutes } from './routes';

export interface IngestService {
  url: string;
  port: number;
  stop: () => Promise<void>;
}

/**
 * Starts the ingest HTTP service. Needs only Redis to accept events once it knows which data set they are for
 * (from Elasticsearch, or from the Redis bound to it when Elasticsearch is down); Elasticsearch is reported in /readyz.
 */
export async function startIngest(config: IngestConfig, logger: Logger = createLogger('ingest', config.LOG_LEVEL)): Promise<IngestService> {
  const lifecycle = new Lifecycle(logger);
  try {
    const redis = createRedis(config.REDIS_URL, 'producer');
    lifecycle.defer('redis', () => closeRedis(redis));
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    const queueConnection = createRedis(config.REDIS_URL, 'producer');
    lifecycle.defer('queue connection', () => closeRedis(queueConnection));
    queueConnection.on('error', () => undefined);
    const es = createEsClient({ url: config.ES_URL, username: config.ES_USERNAME, password: config.ES_PASSWORD });
    lifecycle.defer('elasticsearch', () => es.close());
    const [ready] = await Promise.all([whenRedisReady(redis, 5000), whenRedisReady(queueConnection, 5000)]);
    if (ready) await warnIfRedisNotDurable(redis, logger);
    else logger.warn({ url: redactUrl(config.REDIS_URL) }, 'Redis is not reachable yet; answering 503 until it is');
    // Which data set the events are for: Elasticsearch says, or, while it is down, the Redis bound to it.
    const { namespace } = await resolveDataset(es, redis, config.PORTRAIT_PREFIX, logger, { waitMs: config.ES_WAIT_SECONDS * 1000 });
    const queue = createIngestQueue(queueConnection, namespace);
    queue.on('error', (err) => logger.warn({ err: err.message }, 'ingest queue error'));
    lifecycle.defer('queue', () => queue.close());

    const intake = new Intake(queue, redis, {
      namespace,
      maxQueueDepth: config.INGEST_MAX_QUEUE_DEPTH,
      dedupTtlSeconds: config.INGEST_DEDUP_TTL_SECONDS,
      redisTimeoutMs: 3000,
    });
    const registry = createRegistry('ingest');
    new Gauge({
      name: 'portrait_ingest_queue_depth',
      help: 'Batches waiting in the ingest queue',
      registers: [registry],
      async collect() {
        this.set(await intake.queueDepth().catch(() => -1));
      },
    });
    const { app, finish } = createApp({
      logger,
      registry,
      readiness: { redis: () => redisReady(redis), elasticsearch: () => esReady(es) },
      api: INGEST_API,
      auth: apiKeyAuth(redis, namespace, config),
    });
    app.use(
      ingestRoutes({
        intake,
        registry,
        bodyLimit: config.INGEST_BODY_LIMIT,
        timeBounds: {
          maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_SECONDS * 1000,
          maxAgeMs: config.INGEST_MAX_EVENT_AGE_DAYS * 86_400_000,
        },
        defaultCallingCode: config.INGEST_DEFAULT_CALLING_CODE,
        now: clockOf(config),
      }),
    );
    finish();
    const http = await listen(app, config.INGEST_PORT, config.INGEST_HOST);
    // Registered last, so it runs first: stop taking requests, let in-flight ones finish queueing.
    lifecycle.defer('http', () => http.close());
    logger.info({ url: http.url }, 'ingest listening');
    return { url: http.url, port: http.port, stop: () => lifecycle.stop() };
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}

async function warnIfRedisNotDurable(redis: ReturnType<typeof createRedis>, logger: Logger): Promise<void> {
  try {
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    if (appendonly !== 'yes')
      logger.warn('Redis runs without AOF persistence: queued events are lost if Redis restarts. Set appendonly yes in production.');
    if (policy !== 'noeviction') logger.warn({ policy }, 'Redis maxmemory-policy should be noeviction, or queued jobs may be evicted');
  } catch {
    logger.debug('could not read Redis configuration (CONFIG may be disabled)');
  }
}
