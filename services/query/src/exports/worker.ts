import type { WriteStream } from 'node:fs';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { ExportJob, ExportJobSchema, NotFoundError, ValidationError, queueNames } from '@portrait/shared';
import { bullPrefix, closeRedis, createRedis, type Client, type Logger, type Redis } from '@portrait/runtime';
import type { ExportAudit } from './audit';
import type { ExportFiles } from './files';
import type { ExportMetrics } from './metrics';
import { encoderOf, memberQuery, planOfRecord, fetchOf } from './plan';
import { cancelKey, createExportsQueue, type ExportProgress, type ExportQueueData, type ExportsQueue } from './queue';
import { FINAL_STATUSES } from './record';
import { Snapshot } from './snapshot';
import { writeRows } from './write-rows';

export interface ExportWorkerDeps {
  es: Client;
  profiles: string;
  audit: ExportAudit;
  files: ExportFiles;
  /** For cancel flags. */
  redis: Redis;
  prefix: string;
  ttlMs: number;
  pageSize: number;
  pauseMs: number;
  metrics: ExportMetrics;
  logger: Logger;
}

/** The audit record is brought up to date at most this often while a job runs (the job's progress every page). */
const RECORD_PROGRESS_EVERY_MS = 2000;
/** A partial file nobody wrote to for this long (or the TTL, if longer) belongs to a process that died. */
const STALE_PARTIAL_MS = 3_600_000;

export type ExportJobResult =
  { outcome: 'completed'; rows: number; total: number; fileBytes: number } | { outcome: 'cancelled' | 'skipped'; status?: string };

/**
 * Runs one export job: snapshot, file written page by page under a partial name and renamed when
 * complete, progress reported every page. Between pages it checks the cancel flag (then removes the
 * partial file) and whether the process is stopping (then puts the job back, to start over elsewhere).
 */
export async function runExportJob(
  deps: ExportWorkerDeps,
  job: Job<ExportQueueData>,
  token: string | undefined,
  stopping: () => boolean,
): Promise<ExportJobResult> {
  const data = ExportJobSchema.safeParse(job.data);
  if (!data.success) throw new UnrecoverableError(`export job ${job.id} has no valid exportId: ${JSON.stringify(job.data)}`);
  const { exportId } = data.data;
  const { audit, files, logger } = deps;
  const cancelRequested = async (): Promise<boolean> => (await deps.redis.exists(cancelKey(deps.prefix, exportId))) === 1;

  let record;
  try {
    record = await audit.get(exportId);
  } catch (error) {
    if (error instanceof NotFoundError) throw new UnrecoverableError(`export ${exportId} has no audit record`);
    throw error;
  }
  if (FINAL_STATUSES.includes(record.status)) return { outcome: 'skipped', status: record.status };
  if (await cancelRequested()) {
    await audit.transition(exportId, ['queued', 'running'], { status: 'cancelled', finishedAt: new Date().toISOString() });
    deps.metrics.exports.inc({ kind: 'job', format: record.format, outcome: 'cancelled' });
    return { outcome: 'cancelled' };
  }
  let plan;
  try {
    plan = planOfRecord(record);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    await audit.transition(exportId, ['queued', 'running'], {
      status: 'failed',
      error: error.message,
      finishedAt: new Date().toISOString(),
    });
    throw new UnrecoverableError(`export ${exportId}: ${error.message}`);
  }
  const started = Date.now();
  const at = new Date(started);
  const begun = await audit.transition(exportId, ['queued', 'running'], {
    status: 'running',
    startedAt: at.toISOString(),
    attempts: job.attemptsMade + 1,
    rows: 0,
    error: undefined,
  });
  if (!begun.ok) return { outcome: 'skipped', status: begun.record.status };

  const encoder = encoderOf(plan);
  const fileName = files.fileName(exportId, encoder.extension);
  let snapshot: Snapshot | undefined;
  let out: WriteStream | undefined;
  let renamed = false;
  try {
    snapshot = await Snapshot.open(deps.es, deps.profiles, memberQuery(plan, at.getTime()), at);
    const total = snapshot.total;
    await audit.patch(exportId, { snapshotAt: at.toISOString(), total, fileName });
    await job.updateProgress({ rows: 0, total } satisfies ExportProgress);
    out = await files.openPartial(fileName);
    let recorded = Date.now();
    const result = await writeRows(snapshot, encoder, out, {
      pageSize: deps.pageSize,
      pauseMs: deps.pauseMs,
      fetch: fetchOf(plan),
      shouldStop: async () => (stopping() ? 'shutdown' : (await cancelRequested()) ? 'cancelled' : undefined),
      onPage: async (rows) => {
        await job.updateProgress({ rows, total } satisfies ExportProgress);
        if (Date.now() - recorded >= RECORD_PROGRESS_EVERY_MS) {
          recorded = Date.now();
          await audit.patch(exportId, { rows });
        }
      },
    });
    deps.metrics.rows.inc({ kind: 'job' }, result.rows);

    if (result.stopped === 'cancelled' || (!result.stopped && (await cancelRequested()))) {
      await files.discard(out, fileName);
      await audit.transition(exportId, ['running'], { status: 'cancelled', rows: result.rows, finishedAt: new Date().toISOString() });
      deps.metrics.exports.inc({ kind: 'job', format: plan.request.format, outcome: 'cancelled' });
      logger.info({ exportId, rows: result.rows, total }, 'export cancelled; partial file removed');
      return { outcome: 'cancelled' };
    }
    if (result.stopped === 'shutdown') {
      await files.discard(out, fileName);
      await audit.transition(exportId, ['running'], {
        status: 'queued',
        rows: 0,
        error: 'interrupted by a shutdown; it starts over from a new snapshot',
      });
      logger.info({ exportId, rows: result.rows }, 'export interrupted by shutdown; put back on the queue');
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    if (result.stopped) throw new Error(`the export file ${fileName} closed while it was being written`);

    const fileBytes = await files.complete(out, fileName);
    renamed = true;
    const finishedAt = new Date();
    const done = await audit.transition(exportId, ['running'], {
      status: 'completed',
      rows: result.rows,
      fileBytes,
      finishedAt: finishedAt.toISOString(),
      expiresAt: new Date(finishedAt.getTime() + deps.ttlMs).toISOString(),
    });
    if (!done.ok) {
      // Someone settled it meanwhile (cancelled, or deleted): the file must not outlive that.
      await files.remove(fileName);
      return { outcome: 'skipped', status: done.record.status };
    }
    await job.updateProgress({ rows: result.rows, total } satisfies ExportProgress);
    deps.metrics.exports.inc({ kind: 'job', format: plan.request.format, outcome: 'completed' });
    deps.metrics.seconds.observe({ kind: 'job' }, (Date.now() - started) / 1000);
    logger.info({ exportId, rows: result.rows, total, fileBytes }, 'export completed');
    return { outcome: 'completed', rows: result.rows, total, fileBytes };
  } catch (error) {
    if (error instanceof DelayedError) throw error;
    if (!renamed) await files.discard(out, fileName).catch(() => undefined);
    const last = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const message = (error as Error).message;
    await audit
      .transition(
        exportId,
        ['running'],
        last
          ? { status: 'failed', error: message, finishedAt: new Date().toISOString() }
          : { status: 'queued', rows: 0, error: `attempt ${job.attemptsMade + 1} failed (${message}); it will be retried` },
      )
      .catch((e: unknown) => logger.error({ err: e, exportId }, 'could not record a failed export'));
    if (last) deps.metrics.exports.inc({ kind: 'job', format: plan.request.format, outcome: 'failed' });
    logger.warn({ exportId, err: message, attempt: job.attemptsMade + 1, last }, 'export job failed');
    throw error;
  } finally {
    await snapshot?.close();
  }
}

/** Deletes the files of completed exports past their expiry (status `expired`), and stale partial files. */
export async function sweepExpired(
  deps: Pick<ExportWorkerDeps, 'audit' | 'files' | 'ttlMs' | 'logger'>,
  nowMs: number,
): Promise<{ expired: string[]; partials: string[] }> {
  const expired: string[] = [];
  for (const record of await deps.audit.expired(nowMs)) {
    if (record.fileName) await deps.files.remove(record.fileName);
    const moved = await deps.audit.transition(record.exportId, ['completed'], { status: 'expired' });
    if (moved.ok) expired.push(record.exportId);
  }
  const partials = await deps.files.removeStalePartials(Math.max(deps.ttlMs, STALE_PARTIAL_MS), nowMs);
  if (expired.length > 0 || partials.length > 0) deps.logger.info({ expired, partials }, 'expired export files deleted');
  return { expired, partials };
}

export interface ExportWorkerOptions {
  redisUrl: string;
  concurrency: number;
  sweepEveryMs: number;
}

/**
 * The export worker inside the query process, and the repeatable sweep (one per interval across all
 * processes). `close()` asks running jobs to stop at their next page (they are put back on the queue)
 * and waits for them.
 */
export function startExportWorker(deps: ExportWorkerDeps, options: ExportWorkerOptions): { close: () => Promise<void> } {
  // A worker connection waits for Redis instead of failing, so the service starts (and serves profiles) without it.
  const connection = createRedis(options.redisUrl, 'worker');
  connection.on('error', () => undefined);
  const scheduler: ExportsQueue = createExportsQueue(connection, deps.prefix);
  scheduler.on('error', () => undefined);
  const scheduled = scheduler
    .upsertJobScheduler('export-sweep', { every: options.sweepEveryMs }, { name: ExportJob.sweep, data: {} })
    .catch((err: unknown) => deps.logger.error({ err }, 'could not schedule the export sweep'));
  let stopping = false;
  const worker = new Worker<ExportQueueData>(
    queueNames().exports,
    (job, token) => (job.name === ExportJob.sweep ? sweepExpired(deps, Date.now()) : runExportJob(deps, job, token, () => stopping)),
    { connection, prefix: bullPrefix(deps.prefix), concurrency: options.concurrency },
  );
  worker.on('error', (err) => deps.logger.error({ err: err.message }, 'export worker error'));
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        try {
          await worker.close();
          await scheduled;
          await scheduler.close();
        } finally {
          await closeRedis(connection);
        }
      })()),
  };
}
