import type { WriteStream } from 'node:fs';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  FINAL_STATUSES,
  NotFoundError,
  ValidationError,
  encoderOf,
  exportCancelKey,
  fetchOf,
  memberQuery,
  planOfRecord,
  type ExportProgress,
} from '@portrait/shared';
import {
  Snapshot,
  writeRows,
  type Client,
  type ExportAudit,
  type ExportFiles,
  type ExportMetrics,
  type Logger,
  type Redis,
} from '@portrait/runtime';
import type { Handler } from '../handler';

export interface ExportRunOptions {
  exportId: string;
  /** The BullMQ job: progress, attempts, and moving it back to the queue on shutdown. */
  job: Job;
  /** The worker's lock token, to move the job. */
  token: string | undefined;
  /** True once the process is stopping: the export stops at its next page and goes back on the queue. */
  stopping: () => boolean;
  es: Client;
  /** The profile alias. */
  profiles: string;
  audit: ExportAudit;
  files: ExportFiles;
  /** Where cancel requests are flagged. */
  redis: Redis;
  /** The data set's Redis namespace. */
  namespace: string;
  ttlMs: number;
  pageSize: number;
  pauseMs: number;
  metrics: ExportMetrics;
  logger: Logger;
}

/** The audit record is brought up to date at most this often while a job runs (the job's progress every page). */
const RECORD_PROGRESS_EVERY_MS = 2000;

export type ExportJobResult =
  { outcome: 'completed'; rows: number; total: number; fileBytes: number } | { outcome: 'cancelled' | 'skipped'; status?: string };

/**
 * Runs one export job: snapshot, file written page by page under a partial name and renamed when
 * complete, progress reported every page. Between pages it checks the cancel flag (then removes the
 * partial file) and whether the process is stopping (then puts the job back, to start over elsewhere).
 */
export async function runExportJob(options: ExportRunOptions): Promise<ExportJobResult> {
  const { exportId, job, token, stopping, audit, files, logger } = options;
  const cancelRequested = async (): Promise<boolean> => (await options.redis.exists(exportCancelKey(options.namespace, exportId))) === 1;

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
    options.metrics.exports.inc({ kind: 'job', format: record.format, outcome: 'cancelled' });
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
    snapshot = await Snapshot.open(options.es, options.profiles, memberQuery(plan, at.getTime()), at);
    const total = snapshot.total;
    await audit.patch(exportId, { snapshotAt: at.toISOString(), total, fileName });
    await job.updateProgress({ rows: 0, total } satisfies ExportProgress);
    out = await files.openPartial(fileName);
    let recorded = Date.now();
    const result = await writeRows(snapshot, encoder, out, {
      pageSize: options.pageSize,
      pauseMs: options.pauseMs,
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
    options.metrics.rows.inc({ kind: 'job' }, result.rows);

    if (result.stopped === 'cancelled' || (!result.stopped && (await cancelRequested()))) {
      await files.discard(out, fileName);
      await audit.transition(exportId, ['running'], { status: 'cancelled', rows: result.rows, finishedAt: new Date().toISOString() });
      options.metrics.exports.inc({ kind: 'job', format: plan.request.format, outcome: 'cancelled' });
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
      expiresAt: new Date(finishedAt.getTime() + options.ttlMs).toISOString(),
    });
    if (!done.ok) {
      // Someone settled it meanwhile (cancelled, or deleted): the file must not outlive that.
      await files.remove(fileName);
      return { outcome: 'skipped', status: done.record.status };
    }
    await job.updateProgress({ rows: result.rows, total } satisfies ExportProgress);
    options.metrics.exports.inc({ kind: 'job', format: plan.request.format, outcome: 'completed' });
    options.metrics.seconds.observe({ kind: 'job' }, (Date.now() - started) / 1000);
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
    if (last) options.metrics.exports.inc({ kind: 'job', format: plan.request.format, outcome: 'failed' });
    logger.warn({ exportId, err: message, attempt: job.attemptsMade + 1, last }, 'export job failed');
    throw error;
  } finally {
    await snapshot?.close();
  }
}

/** Writes one audience export file, queued by the query service's `POST /v1/segments/:id/exports`. */
export const exportRun: Handler<'exportRun'> = ({ data, job, token, stopping, deps }) =>
  runExportJob({
    exportId: data.exportId,
    job,
    token,
    stopping,
    es: deps.es,
    profiles: deps.names.profiles,
    audit: deps.audit,
    files: deps.files,
    redis: deps.redis,
    namespace: deps.namespace,
    ttlMs: deps.config.EXPORT_TTL_HOURS * 3_600_000,
    pageSize: deps.config.EXPORT_PAGE_SIZE,
    pauseMs: deps.config.EXPORT_PAGE_PAUSE_MS,
    metrics: deps.metrics.exports,
    logger: deps.logger,
  });
