import type { Queue } from 'bullmq';
import { clockOf, JOBS_API, profileOptionsOf, type JobQueue } from '@portrait/shared';
import {
  openDataSet,
  createApp,
  createExportsQueue,
  createLogger,
  createMaintenanceQueue,
  createModelsQueue,
  ModelRegistry,
  ModelStore,
  createRegistry,
  createSegmentChangesQueue,
  createIngestQueue,
  createDeadLetterQueue,
  Eraser,
  Tombstones,
  esReady,
  ExportAudit,
  ExportFiles,
  Gauge,
  Lifecycle,
  listen,
  redisReady,
  apiKeyAuth,
  SegmentRegistry,
  type Logger,
} from '@portrait/runtime';
import type { JobsConfig } from './config';
import type { JobsDeps } from './handler';
import { handlers } from './handlers';
import { jobsMetrics } from './metrics';
import { scheduleJobs } from './schedules';
import { startWorkers, workerSettings } from './workers';

export interface JobsService {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Starts the jobs process: the batch work that is not "apply these events" (profile refresh, retention,
 * segment backfill and reconciliation, audience export files), one BullMQ worker per queue handing each job
 * to its handler in `handlers/`, and the schedulers of the periodic jobs. Any number may run side by side.
 */
export async function startJobs(config: JobsConfig, logger: Logger = createLogger('jobs', config.LOG_LEVEL)): Promise<JobsService> {
  const lifecycle = new Lifecycle(logger);
  try {
    const { prefix, names, es, redis, namespace } = await openDataSet(config, lifecycle, logger, {
      redisRole: 'worker',
      esRequestTimeoutMs: 60_000,
    });
    const queues: Record<JobQueue, Queue> = {
      maintenance: createMaintenanceQueue(redis, namespace),
      exports: createExportsQueue(redis, namespace),
      models: createModelsQueue(redis, namespace),
    };
    const segmentChanges = createSegmentChangesQueue(redis, namespace);
    const ingest = createIngestQueue(redis, namespace);
    const deadLetter = createDeadLetterQueue(redis, namespace);
    const all = [...Object.values(queues), segmentChanges, ingest, deadLetter];
    for (const q of all) q.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));
    lifecycle.defer('queues', () => Promise.all(all.map((q) => q.close())));

    const registry = createRegistry('jobs');
    const metrics = jobsMetrics(registry);
    new Gauge({
      name: 'portrait_jobs_waiting',
      help: 'Batch jobs waiting for a worker, by queue',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const [name, queue] of Object.entries(queues)) this.set({ queue: name }, await queue.getWaitingCount().catch(() => -1));
      },
    });

    const files = new ExportFiles(config.EXPORT_DIR, prefix);
    await files.ensureDir();
    const models = new ModelStore(es, names, redis, namespace);
    const deps: JobsDeps = {
      config,
      es,
      redis,
      names,
      namespace,
      segments: new SegmentRegistry(es, names.segments, redis, namespace, segmentChanges, logger),
      models,
      scoring: new ModelRegistry(models, redis, namespace, logger),
      queues: { models: queues.models },
      profileOptions: profileOptionsOf(config),
      now: clockOf(config),
      audit: new ExportAudit(es, names.exports),
      files,
      eraser: new Eraser({
        es,
        names,
        redis,
        namespace,
        queues: { ingest, deadLetter, segmentChanges, maintenance: queues.maintenance },
        files,
        // The jobs process only runs second passes, which queue nothing.
        sweepDelayMs: 0,
        logger,
      }),
      tombstones: new Tombstones(redis, namespace),
      metrics,
      logger,
    };
    const workers = startWorkers({ redisUrl: config.REDIS_URL, namespace, settings: workerSettings(config), handlers, deps });
    // Registered after the connections, so it runs before they close: a running export goes back on the queue.
    lifecycle.defer('workers', () => workers.close(), 60_000);
    const scheduled = await scheduleJobs(queues, handlers, config);

    const { app, finish } = createApp({
      logger,
      registry,
      api: JOBS_API,
      readiness: { redis: () => redisReady(redis), elasticsearch: () => esReady(es) },
      // Only /metrics can ask for a key here (METRICS_REQUIRE_KEY): the jobs process serves nothing else.
      auth: apiKeyAuth(redis, namespace, config),
    });
    finish();
    const http = await listen(app, config.JOBS_PORT, config.JOBS_HOST);
    lifecycle.defer('http', () => http.close());
    logger.info({ url: http.url, scheduled }, 'jobs running');
    return { url: http.url, stop: () => lifecycle.stop() };
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}
