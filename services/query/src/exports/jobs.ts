import { randomUUID } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import {
  ConflictError,
  ExportProgressSchema,
  GoneError,
  UnavailableError,
  exportCancelKey,
  newRecord,
  type ExportPlan,
  type ExportRecord,
  type ExportStatus,
} from '@portrait/shared';
import {
  addJob,
  type ExportAudit,
  type ExportFiles,
  type ExportMetrics,
  type ExportsQueue,
  type Logger,
  type Redis,
} from '@portrait/runtime';

/** How long a cancel request is kept: longer than any export runs. */
const CANCEL_KEY_TTL_SECONDS = 7 * 86_400;

export interface ExportJobsDeps {
  audit: ExportAudit;
  queue: ExportsQueue;
  redis: Redis;
  files: ExportFiles;
  /** The data set's Redis namespace. */
  namespace: string;
  metrics: ExportMetrics;
  logger: Logger;
  /** How many erased users a completed export's file holds (`Eraser.usersErasedFrom`). */
  erasedFrom: (exportId: string) => Promise<number>;
}

export interface ExportView extends ExportRecord {
  progress: { rows: number; total?: number; percent?: number };
  /** A cancel was asked for and the running job has not stopped yet. */
  cancelRequested?: boolean;
  /** Users erased after the file was written whose rows it holds. */
  erasedUsers?: number;
}

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

/** Export jobs as callers see them: start, status, cancel or delete, download. */
export class ExportJobs {
  constructor(private readonly deps: ExportJobsDeps) {}

  /** Records the export and queues it; the snapshot is taken when a worker starts it. */
  async start(plan: ExportPlan, who: { actor: string; requestId?: string }): Promise<ExportRecord> {
    const exportId = randomUUID();
    const record = newRecord(plan, {
      exportId,
      kind: 'job',
      status: 'queued',
      actor: who.actor,
      requestId: who.requestId,
      now: new Date(),
    });
    await this.deps.audit.create(record);
    try {
      await addJob(this.deps.queue, 'exportRun', { exportId }, { jobId: exportId });
    } catch (error) {
      this.deps.logger.error({ err: error, exportId }, 'could not queue an export job');
      await this.deps.audit
        .transition(exportId, ['queued'], {
          status: 'failed',
          error: 'could not be queued: Redis unavailable',
          finishedAt: new Date().toISOString(),
        })
        .catch(() => undefined);
      throw new UnavailableError('the export queue (Redis) is unavailable; retry shortly', 'redis');
    }
    return record;
  }

  async status(exportId: string): Promise<ExportView> {
    const record = await this.deps.audit.get(exportId);
    let progress: ExportView['progress'] = { rows: record.rows, total: record.total };
    let cancelRequested: boolean | undefined;
    if (record.status === 'running' && record.kind === 'job') {
      // The job reports every page; the record is written less often.
      const job = await this.deps.queue.getJob(exportId).catch(() => undefined);
      const live = ExportProgressSchema.safeParse(job?.progress);
      if (live.success) progress = live.data;
      cancelRequested = (await this.deps.redis.exists(exportCancelKey(this.deps.namespace, exportId)).catch(() => 0)) === 1;
    }
    if (record.status === 'completed') progress = { rows: record.rows, total: record.total ?? record.rows };
    const percent = progress.total
      ? Math.min(100, Math.round((1000 * progress.rows) / progress.total) / 10)
      : progress.total === 0
        ? 100
        : undefined;
    const erasedUsers = record.status === 'completed' ? await this.deps.erasedFrom(exportId) : 0;
    return {
      ...record,
      progress: { ...progress, percent },
      ...(cancelRequested ? { cancelRequested } : {}),
      ...(erasedUsers > 0 ? { erasedUsers } : {}),
    };
  }

  list(filter: { segmentId?: string; status?: ExportStatus; actor?: string; size: number }): Promise<ExportRecord[]> {
    return this.deps.audit.list(filter);
  }

  /**
   * Cancels a queued or running job (a running one stops at its next page and removes its partial file;
   * `pending` is then true) or deletes a finished file. Anything else is answered as it is.
   */
  async cancelOrDelete(exportId: string, actor: string): Promise<{ pending: boolean; view: ExportView }> {
    const record = await this.deps.audit.get(exportId);
    if (record.kind === 'stream') throw new ConflictError(`export ${exportId} was streamed; it has no job to cancel and no file to delete`);
    const at = new Date().toISOString();
    if (record.status === 'queued' || record.status === 'running') {
      await this.deps.redis.set(exportCancelKey(this.deps.namespace, exportId), actor, 'EX', CANCEL_KEY_TTL_SECONDS);
      if (record.status === 'queued') {
        // Removing fails when a worker has just taken the job: it then sees the cancel flag.
        await this.deps.queue
          .getJob(exportId)
          .then((job) => job?.remove())
          .catch(() => undefined);
        const cancelled = await this.deps.audit.transition(exportId, ['queued'], {
          status: 'cancelled',
          cancelledBy: actor,
          finishedAt: at,
        });
        if (cancelled.ok) {
          this.deps.metrics.exports.inc({ kind: 'job', format: record.format, outcome: 'cancelled' });
          return { pending: false, view: await this.status(exportId) };
        }
      }
      await this.deps.audit.patch(exportId, { cancelledBy: actor });
      const view = await this.status(exportId);
      return { pending: view.status === 'running' || view.status === 'queued', view };
    }
    if (record.status === 'completed') {
      if (record.fileName) await this.deps.files.remove(record.fileName);
      await this.deps.audit.transition(exportId, ['completed'], { status: 'deleted', deletedBy: actor });
    }
    return { pending: false, view: await this.status(exportId) };
  }

  /** The finished file: 409 while it is not ready (or never will be), 410 once it expired or was deleted. */
  async download(
    exportId: string,
    actor: string,
  ): Promise<{ record: ExportRecord; stream: ReadStream; size: number; contentType: string }> {
    const record = await this.deps.audit.get(exportId);
    const again = `start a new export: POST /v1/segments/${record.segmentId}/exports`;
    if (record.kind === 'stream') throw new ConflictError(`export ${exportId} was streamed when it was made; there is no file to download`);
    switch (record.status) {
      case 'queued':
      case 'running': {
        const { progress } = await this.status(exportId);
        throw new ConflictError(
          `export ${exportId} is not ready yet (${record.status}, ${progress.rows}${progress.total === undefined ? '' : `/${progress.total}`} rows); poll GET /v1/exports/${exportId}`,
        );
      }
      case 'failed':
        throw new ConflictError(`export ${exportId} failed (${record.error ?? 'no reason recorded'}); ${again}`);
      case 'cancelled':
        throw new ConflictError(`export ${exportId} was cancelled; ${again}`);
      case 'expired':
        throw new GoneError(`the file of export ${exportId} expired at ${record.expiresAt} and was deleted; ${again}`);
      case 'deleted':
        throw new GoneError(`the file of export ${exportId} was deleted${record.deletedBy ? ` by ${record.deletedBy}` : ''}; ${again}`);
      case 'completed':
        break;
    }
    if (record.expiresAt && Date.parse(record.expiresAt) <= Date.now()) {
      throw new GoneError(`the file of export ${exportId} expired at ${record.expiresAt}; ${again}`);
    }
    const file = record.fileName ? await this.deps.files.open(record.fileName) : undefined;
    if (!file) throw new GoneError(`the file of export ${exportId} is no longer in the export directory; ${again}`);
    await this.deps.audit
      .patch(exportId, { lastDownloadedAt: new Date().toISOString(), lastDownloadedBy: actor })
      .catch((error: unknown) => this.deps.logger.warn({ err: error, exportId }, 'could not record a download'));
    return { record, stream: file.stream, size: file.size, contentType: CONTENT_TYPES[record.format] };
  }
}
