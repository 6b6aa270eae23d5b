import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { LimitExceededError, encoderOf, fetchOf, memberQuery, newRecord, type ExportPlan, type ExportRecord } from '@portrait/shared';
import { Snapshot, writeRows, type Client, type ExportAudit, type ExportMetrics, type Logger } from '@portrait/runtime';

export interface StreamDeps {
  es: Client;
  profiles: string;
  audit: ExportAudit;
  metrics: ExportMetrics;
  logger: Logger;
  maxRows: number;
  pageSize: number;
  pauseMs: number;
}

/** What the caller learns before the first byte: it becomes the response headers. */
export interface StreamStart {
  exportId: string;
  contentType: string;
  fileName: string;
  total: number;
  snapshotAt: string;
  segmentVersion: number;
}

/**
 * Streams a segment's members to `out` from one snapshot. Refuses (LimitExceededError) before writing
 * anything when the audience is larger than `maxRows`. The audit record is written before the first row;
 * a client that disconnects stops the walk. Once rows have gone out, a failure destroys `out` so the
 * reader sees a broken transfer, never a file that looks complete.
 */
export async function streamExport(
  deps: StreamDeps,
  plan: ExportPlan,
  who: { actor: string; requestId?: string },
  out: Writable,
  begin: (start: StreamStart) => void,
): Promise<ExportRecord> {
  const started = Date.now();
  const at = new Date();
  const format = plan.request.format;
  const snapshot = await Snapshot.open(deps.es, deps.profiles, memberQuery(plan, at.getTime()), at);
  let record: ExportRecord | undefined;
  let disconnected = false;
  const onClose = (): void => {
    if (!out.writableFinished) disconnected = true;
  };
  out.on('close', onClose);
  try {
    if (snapshot.total > deps.maxRows) {
      deps.metrics.exports.inc({ kind: 'stream', format, outcome: 'refused' });
      throw new LimitExceededError(
        `segment ${plan.segmentId} has ${snapshot.total} members${plan.request.consent.length > 0 ? ' with the required consent' : ''}, ` +
          `more than the ${deps.maxRows} a streamed export may hold; ` +
          `start an export job instead: POST /v1/segments/${plan.segmentId}/exports with the same body`,
        deps.maxRows,
        snapshot.total,
      );
    }
    const exportId = randomUUID();
    const created: ExportRecord = {
      ...newRecord(plan, { exportId, kind: 'stream', status: 'running', actor: who.actor, requestId: who.requestId, now: at }),
      snapshotAt: at.toISOString(),
      total: snapshot.total,
      startedAt: at.toISOString(),
    };
    // No record, no export: a failure here answers an error before any row goes out.
    await deps.audit.create(created);
    record = created;
    const encoder = encoderOf(plan);
    begin({
      exportId,
      contentType: encoder.contentType,
      fileName: `${plan.segmentId}-v${plan.segmentVersion}.${encoder.extension}`,
      total: snapshot.total,
      snapshotAt: at.toISOString(),
      segmentVersion: plan.segmentVersion,
    });
    const result = await writeRows(snapshot, encoder, out, {
      pageSize: deps.pageSize,
      pauseMs: deps.pauseMs,
      fetch: fetchOf(plan),
      shouldStop: () => (disconnected ? 'disconnected' : undefined),
    });
    const finishedAt = new Date().toISOString();
    deps.metrics.rows.inc({ kind: 'stream' }, result.rows);
    if (result.stopped) {
      deps.metrics.exports.inc({ kind: 'stream', format, outcome: 'cancelled' });
      deps.logger.info({ exportId, rows: result.rows, total: snapshot.total }, 'streamed export stopped: the client disconnected');
      record = { ...record, status: 'cancelled', rows: result.rows, finishedAt, error: `client disconnected after ${result.rows} rows` };
    } else {
      out.end();
      deps.metrics.exports.inc({ kind: 'stream', format, outcome: 'completed' });
      deps.metrics.seconds.observe({ kind: 'stream' }, (Date.now() - started) / 1000);
      record = { ...record, status: 'completed', rows: result.rows, finishedAt };
    }
    const final = record;
    // The rows are out: a failure to record the outcome is logged, not turned into a broken transfer.
    await deps.audit
      .patch(exportId, { status: final.status, rows: final.rows, finishedAt, error: final.error })
      .catch((e: unknown) => deps.logger.error({ err: e, exportId }, 'could not record the outcome of a streamed export'));
    return final;
  } catch (error) {
    if (record) {
      // Rows may already be out: break the transfer so the reader cannot take it for a whole file.
      out.destroy(error as Error);
      deps.metrics.exports.inc({ kind: 'stream', format, outcome: 'failed' });
      await deps.audit
        .patch(record.exportId, { status: 'failed', finishedAt: new Date().toISOString(), error: (error as Error).message })
        .catch((e: unknown) => deps.logger.error({ err: e, exportId: record?.exportId }, 'could not record a failed export'));
    }
    throw error;
  } finally {
    out.off('close', onClose);
    await snapshot.close();
  }
}
