import type { Handler } from '../handler';
import { reconcileSegment } from '../reconcile';

/** Brings one segment's materialized membership in line with its definition, queued when the segment is saved or deleted. */
export const segmentBackfill: Handler<'segmentBackfill'> = async ({ data, job, deps }) => {
  const report = await reconcileSegment({
    es: deps.es,
    alias: deps.names.profiles,
    membership: deps.segments,
    segmentId: data.segmentId,
    pageSize: deps.config.SEGMENT_PAGE_SIZE,
    maxPasses: deps.config.SEGMENT_MAX_PASSES,
    logger: deps.logger,
    onProgress: (r) => job.updateProgress({ ...r }),
  });
  deps.metrics.segmentChanges.inc({ source: 'backfill' }, report.entered + report.exited);
  deps.logger.info(report, 'segment backfill done');
  return report;
};
