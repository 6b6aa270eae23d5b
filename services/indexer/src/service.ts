import { Worker } from 'bullmq';
import { clockOf, profileOptionsOf, queueNames, type ProfileOptions } from '@portrait/shared';
import {
  openDataSet,
  bullPrefix,
  cappedBackoff,
  createApp,
  createDeadLetterQueue,
  createIngestQueue,
  createLogger,
  createRedis,
  createSegmentChangesQueue,
  createRegistry,
  esReady,
  Gauge,
  Lifecycle,
  listen,
  redisReady,
  apiKeyAuth,
  Tombstones,
  closeRedis,
  ContentModelRegistry,
  ModelRegistry,
  ModelStore,
  SegmentRegistry,
  type IngestJobData,
  type Logger,
} from '@portrait/runtime';
import { INDEXER_API } from '@portrait/shared';
import { Catalogue } from './catalogue';
import type { IndexerConfig } from './config';
import { EventStore } from './event-store';
import { indexerMetrics } from './metrics';
import { applyEventGroups, processBatch, type EventGroup, type GroupResult } from './process-batch';
import { Coalescer } from './coalescer';
import { ProfileWriter } from './profile-writer';

export interface IndexerService {
  url: string;
  stop: () => Promise<void>;
}

export function profileOptions(config: IndexerConfig): ProfileOptions {
  return { ...profileOptionsOf(config), dedupHorizonMs: config.INDEXER_DEDUP_HORIZON_HOURS * 3_600_000 };
}

/**
 * Starts the indexer: BullMQ workers that apply ingest batches (events folded into profiles, items into the
 * catalogue), and nothing else; batch work runs in the jobs process. Stateless: run as many as the cluster can take.
 */
export async function startIndexer(
  config: IndexerConfig,
  logger: Logger = createLogger('indexer', config.LOG_LEVEL),
): Promise<IndexerService> {
  const lifecycle = new Lifecycle(logger);
  try {
    const {
      prefix,
      names,
      es,
      redis: producer,
      namespace,
    } = await openDataSet(config, lifecycle, logger, {
      redisRole: 'worker',
      esRequestTimeoutMs: 60_000,
    });
    const deadLetter = createDeadLetterQueue(producer, namespace);
    const ingestQueue = createIngestQueue(producer, namespace);
    const segmentChanges = createSegmentChangesQueue(producer, namespace);
    for (const q of [deadLetter, ingestQueue, segmentChanges]) q.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));
    lifecycle.defer('queues', () => Promise.all([deadLetter.close(), ingestQueue.close(), segmentChanges.close()]));
    const segments = new SegmentRegistry(es, names.segments, producer, namespace, segmentChanges, logger);
    const modelStore = new ModelStore(es, names, producer, namespace);
    const models = new ModelRegistry(modelStore, producer, namespace, logger);
    const content = new ContentModelRegistry(modelStore, producer, namespace, logger);

    const registry = createRegistry('indexer');
    const metrics = indexerMetrics(registry);
    new Gauge({
      name: 'portrait_ingest_queue_depth',
      help: 'Batches waiting in the ingest queue',
      registers: [registry],
      async collect() {
        this.set(await ingestQueue.count().catch(() => -1));
      },
    });
    new Gauge({
      name: 'portrait_ingest_failed_batches',
      help: 'Ingest batches in the failed set (none is expected: alert when above 0)',
      registers: [registry],
      async collect() {
        this.set(await ingestQueue.getFailedCount().catch(() => -1));
      },
    });
    new Gauge({
      name: 'portrait_dead_letter_depth',
      help: 'Entries in the dead-letter queue',
      registers: [registry],
      async collect() {
        this.set(await deadLetter.count().catch(() => -1));
      },
    });

    const options = profileOptions(config);
    const base = {
      writer: new ProfileWriter(es, names.profiles, options, config.INDEXER_CONFLICT_ROUNDS, segments, models, clockOf(config)),
      store: new EventStore(es, prefix),
      catalogue: new Catalogue(es, names.items),
      itemsAlias: names.items,
      content,
      es,
      deadLetter,
      tombstones: new Tombstones(producer, namespace),
      metrics,
      logger,
    };
    const coalescer = new Coalescer<EventGroup, GroupResult>(
      { maxEvents: config.INDEXER_FLUSH_EVENTS, lingerMs: config.INDEXER_LINGER_MS, parallelFlushes: config.INDEXER_PARALLEL_FLUSHES },
      (group) => group.events.length,
      (groups) => applyEventGroups(groups, base),
    );
    const deps = { ...base, coalescer };

    const workerConnection = createRedis(config.REDIS_URL, 'worker');
    workerConnection.on('error', () => undefined);
    lifecycle.defer('worker connection', () => closeRedis(workerConnection));
    const worker = new Worker<IngestJobData>(queueNames().ingest, (job) => processBatch(job, deps), {
      connection: workerConnection,
      prefix: bullPrefix(namespace),
      concurrency: config.INDEXER_CONCURRENCY,
      lockDuration: config.INDEXER_LOCK_MS,
      stalledInterval: config.INDEXER_STALLED_CHECK_MS,
      // Re-running a batch is harmless, so a job that stalled (its worker died) is always retried.
      maxStalledCount: 1000,
      settings: { backoffStrategy: (attemptsMade) => cappedBackoff(attemptsMade, config.INDEXER_RETRY_CAP_MS) },
    });
    worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
    worker.on('failed', (job, err) => {
      // Batches are dead-lettered on their last attempt; reaching the failed set means that itself failed.
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
        logger.error({ jobId: job.id, err: err.message }, 'batch left in the failed set');
    });
    // Registered after the connections, so it runs before they close: finishes in-flight batches.
    lifecycle.defer('worker', () => worker.close(), 90_000);

    const { app, finish } = createApp({
      logger,
      registry,
      readiness: { redis: () => redisReady(producer), elasticsearch: () => esReady(es) },
      api: INDEXER_API,
      // Only /metrics can ask for a key here (METRICS_REQUIRE_KEY): the indexer serves nothing else.
      auth: apiKeyAuth(producer, namespace, config),
    });
    finish();
    const http = await listen(app, config.INDEXER_PORT, config.INDEXER_HOST);
    lifecycle.defer('http', () => http.close());
    logger.info({ url: http.url, concurrency: config.INDEXER_CONCURRENCY }, 'indexer running');
    return { url: http.url, stop: () => lifecycle.stop() };
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}
