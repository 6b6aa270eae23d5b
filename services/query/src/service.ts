import {
  openDataSet,
  createApp,
  createLogger,
  createMaintenanceQueue,
  createRedis,
  createRegistry,
  esReady,
  Lifecycle,
  listen,
  redisReady,
  closeRedis,
  createExportsQueue,
  createModelsQueue,
  createIngestQueue,
  createDeadLetterQueue,
  createSegmentChangesQueue,
  Eraser,
  apiKeyAuth,
  ApiKeyStore,
  ModelStore,
  exportMetrics,
  ExportAudit,
  ExportFiles,
  whenRedisReady,
  type Logger,
} from '@portrait/runtime';
import { clockOf, redactUrl } from '@portrait/shared';
import { QUERY_API } from './api';
import { keyRoutes } from './keys';
import { consoleRoutes } from './console';
import { erasureRoutes } from './erasure';
import type { QueryConfig } from './config';
import { Profiles } from './profiles';
import { queryRoutes } from './routes';
import { MembershipJobs, SegmentAnalytics, SegmentStore, segmentRoutes } from './segments';
import { ExportJobs, exportRoutes } from './exports';
import { Insights, Models, modelRoutes } from './models';
import { Recommender, recommendationRoutes, ServedModelCache } from './recommend';

export interface QueryService {
  url: string;
  port: number;
  stop: () => Promise<void>;
}

export async function startQuery(config: QueryConfig, logger: Logger = createLogger('query', config.LOG_LEVEL)): Promise<QueryService> {
  const lifecycle = new Lifecycle(logger);
  try {
    const { names, es, redis, namespace } = await openDataSet(config, lifecycle, logger, { redisRole: 'producer' });
    const registry = createRegistry('query');
    const now = clockOf(config);
    const keys = new ApiKeyStore(redis, namespace);
    const { app, finish } = createApp({
      logger,
      registry,
      readiness: { elasticsearch: () => esReady(es), redis: () => redisReady(redis) },
      api: QUERY_API,
      auth: apiKeyAuth(redis, namespace, config),
    });
    app.use(keyRoutes(keys, Date.now));
    app.use(queryRoutes(new Profiles(es, names.profiles)));
    const maintenance = createMaintenanceQueue(redis, namespace);
    maintenance.on('error', () => undefined);
    lifecycle.defer('maintenance queue', () => maintenance.close());
    const membership = new MembershipJobs(es, names.profiles, redis, maintenance, namespace);
    const segments = new SegmentStore(es, names.segments);
    app.use(segmentRoutes(segments, new SegmentAnalytics(es, names.profiles), membership));

    const files = new ExportFiles(config.EXPORT_DIR, config.PORTRAIT_PREFIX);
    await files.ensureDir();
    const queueConnection = createRedis(config.REDIS_URL, 'producer');
    queueConnection.on('error', () => undefined);
    lifecycle.defer('export queue connection', () => closeRedis(queueConnection));
    const exportsQueue = createExportsQueue(queueConnection, namespace);
    exportsQueue.on('error', (err) => logger.warn({ err: err.message }, 'export queue error'));
    lifecycle.defer('export queue', () => exportsQueue.close());
    if (!(await whenRedisReady(queueConnection, 5000))) {
      logger.warn({ url: redactUrl(config.REDIS_URL) }, 'Redis is not reachable yet; export jobs answer 503 until it is');
    }
    // Erasure reaches every queue a user's data can sit on.
    const ingestQueue = createIngestQueue(queueConnection, namespace);
    const deadLetterQueue = createDeadLetterQueue(queueConnection, namespace);
    const segmentChangesQueue = createSegmentChangesQueue(queueConnection, namespace);
    for (const q of [ingestQueue, deadLetterQueue, segmentChangesQueue])
      q.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));
    lifecycle.defer('erasure queues', () => Promise.all([ingestQueue.close(), deadLetterQueue.close(), segmentChangesQueue.close()]));
    const eraser = new Eraser({
      es,
      names,
      redis,
      namespace,
      queues: { ingest: ingestQueue, deadLetter: deadLetterQueue, segmentChanges: segmentChangesQueue, maintenance },
      files,
      sweepDelayMs: config.ERASURE_SWEEP_DELAY_SECONDS * 1000,
      logger,
    });
    const audit = new ExportAudit(es, names.exports);
    const metrics = exportMetrics(registry);
    app.use(
      exportRoutes({
        store: segments,
        // Export jobs are queued here and run by the jobs process; their files are served from EXPORT_DIR.
        jobs: new ExportJobs({
          audit,
          queue: exportsQueue,
          redis,
          files,
          namespace,
          metrics,
          logger,
          erasedFrom: (exportId) => eraser.usersErasedFrom(exportId),
        }),
        stream: {
          es,
          profiles: names.profiles,
          audit,
          metrics,
          logger,
          pageSize: config.EXPORT_PAGE_SIZE,
          pauseMs: config.EXPORT_PAGE_PAUSE_MS,
          maxRows: config.EXPORT_STREAM_MAX_ROWS,
        },
        defaultCallingCode: config.EXPORT_DEFAULT_CALLING_CODE,
      }),
    );
    const modelsQueue = createModelsQueue(queueConnection, namespace);
    modelsQueue.on('error', (err) => logger.warn({ err: err.message }, 'models queue error'));
    lifecycle.defer('models queue', () => modelsQueue.close());
    const modelStore = new ModelStore(es, names, redis, namespace);
    app.use(modelRoutes(new Models(modelStore, modelsQueue), new Insights(es, names.profiles, modelStore, redis, namespace)));
    const recommender = new Recommender(es, names, new ServedModelCache(modelStore, es, redis, namespace, logger), {
      boughtDays: config.RECOMMEND_BOUGHT_DAYS,
      popularDays: config.RECOMMEND_POPULAR_DAYS,
      trendingDays: config.RECOMMEND_TRENDING_DAYS,
      halfLifeDays: config.PROFILE_HALF_LIFE_DAYS,
      now,
    });
    app.use(recommendationRoutes(recommender, { es, events: names.events, now }));

    app.use(erasureRoutes(eraser, Date.now));
    app.use(consoleRoutes(config.CONSOLE_DIR));
    finish();
    const http = await listen(app, config.QUERY_PORT, config.QUERY_HOST);
    lifecycle.defer('http', () => http.close());
    logger.info({ url: http.url }, 'query listening');
    return { url: http.url, port: http.port, stop: () => lifecycle.stop() };
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}
