import type { Handler } from '../handler';
import { reconcileSegment } from '../reconcile';
import { snapshotSegmentSizes } from './segment-snapshot';

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
  // The sizes as of now, so a new or changed segment has its point without waiting for the next scheduled snapshot
  // (same slot, same documents: the slot keeps its latest sizes). The scheduled one catches up if this fails.
  try {
    await deps.es.indices.refresh({ index: deps.names.profiles });
    await snapshotSegmentSizes({
      es: deps.es,
      names: deps.names,
      nowMs: deps.now(),
      everyMs: deps.config.SEGMENT_SNAPSHOT_EVERY_MS,
      retentionDays: deps.config.SEGMENT_SIZES_RETENTION_DAYS,
    });
  } catch (error) {
    deps.logger.warn(
      { err: error, segmentId: data.segmentId },
      'segment sizes not recorded after the backfill; the next snapshot records them',
    );
  }
  return report;
};
