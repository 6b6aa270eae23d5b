import type { Handler } from '../handler';
import { reconcileSegment, type ReconcileReport } from '../reconcile';

/** Reconciles every segment, the deleted ones included, so relative-time conditions move as time passes. */
export const segmentReconcile: Handler<'segmentReconcile'> = async ({ job, deps }) => {
  const { segments } = deps;
  const ids = [...(await segments.definitions()).keys(), ...(await segments.deletedIds())];
  const changed: ReconcileReport[] = [];
  for (const [done, segmentId] of ids.entries()) {
    const report = await reconcileSegment({
      es: deps.es,
      alias: deps.names.profiles,
      membership: segments,
      segmentId,
      pageSize: deps.config.SEGMENT_PAGE_SIZE,
      maxPasses: deps.config.SEGMENT_MAX_PASSES,
      logger: deps.logger,
    });
    deps.metrics.segmentChanges.inc({ source: 'reconcile' }, report.entered + report.exited);
    if (report.scanned > 0) changed.push(report);
    await job.updateProgress({ segments: ids.length, done: done + 1 });
  }
  deps.logger.info({ segments: ids.length, changed }, 'segment reconciliation done');
  return { segments: ids.length, changed };
};
