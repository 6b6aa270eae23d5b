import { segmentSizeId, segmentSizes, snapshotSlot, type IndexNames, type SegmentSize } from '@portrait/shared';
import type { Client } from '@portrait/runtime';
import type { Handler } from '../handler';

/** Active segments counted per snapshot: the terms aggregation asks for all of them at once. */
const MAX_SEGMENTS = 10_000;

/** The active segments with their names, as saved. */
async function activeSegments(es: Client, names: IndexNames): Promise<{ segmentId: string; name: string; version: number }[]> {
  const res = await es.search<{ segmentId: string; name: string; version: number }>({
    index: names.segments,
    size: MAX_SEGMENTS,
    _source: ['segmentId', 'name', 'version'],
    query: { term: { status: 'active' } },
    sort: [{ segmentId: 'asc' }],
  });
  return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
}

/**
 * Counts every active segment's members from the profiles' materialized membership (one terms aggregation) and
 * the profile total, and writes one document per segment for this interval's slot; a rerun in the same slot
 * overwrites the same documents. Snapshots older than the retention period are deleted.
 */
export async function snapshotSegmentSizes(options: {
  es: Client;
  names: IndexNames;
  nowMs: number;
  everyMs: number;
  retentionDays: number;
}): Promise<{ takenAt: string; sizes: SegmentSize[]; expired: number }> {
  const { es, names } = options;
  const takenAtMs = snapshotSlot(options.nowMs, options.everyMs);
  const segments = await activeSegments(es, names);
  const counts = await es.search({
    index: names.profiles,
    size: 0,
    track_total_hits: true,
    ...(segments.length > 0 && {
      aggs: { members: { terms: { field: 'segments', include: segments.map((s) => s.segmentId), size: segments.length } } },
    }),
  });
  const total = typeof counts.hits.total === 'number' ? counts.hits.total : (counts.hits.total?.value ?? 0);
  const buckets = (counts.aggregations?.members as { buckets?: { key: string; doc_count: number }[] } | undefined)?.buckets ?? [];
  const sizes = segmentSizes(segments, new Map(buckets.map((b) => [b.key, b.doc_count])), total, takenAtMs);
  if (sizes.length > 0) {
    const res = await es.bulk({
      operations: sizes.flatMap((doc) => [{ index: { _index: names.segmentSizes, _id: segmentSizeId(doc.segmentId, takenAtMs) } }, doc]),
    });
    if (res.errors) {
      const failed = res.items.find((i) => i.index?.error)?.index?.error;
      throw new Error(`segment sizes not written: ${failed?.type ?? 'unknown'}: ${failed?.reason ?? ''}`);
    }
  }
  const cutoff = new Date(options.nowMs - options.retentionDays * 86_400_000).toISOString();
  const expired = await es.deleteByQuery({
    index: names.segmentSizes,
    query: { range: { takenAt: { lt: cutoff } } },
    conflicts: 'proceed',
    refresh: true,
  });
  return { takenAt: new Date(takenAtMs).toISOString(), sizes, expired: expired.deleted ?? 0 };
}

/** The scheduled snapshot of segment sizes. */
export const segmentSnapshot: Handler<'segmentSnapshot'> = async ({ deps }) => {
  const report = await snapshotSegmentSizes({
    es: deps.es,
    names: deps.names,
    nowMs: deps.now(),
    everyMs: deps.config.SEGMENT_SNAPSHOT_EVERY_MS,
    retentionDays: deps.config.SEGMENT_SIZES_RETENTION_DAYS,
  });
  deps.logger.info({ takenAt: report.takenAt, segments: report.sizes.length, expired: report.expired }, 'segment sizes recorded');
  return { takenAt: report.takenAt, segments: report.sizes.length, expired: report.expired };
};
