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

/** Snapshots deleted per round of the retention sweep. */
const DELETE_PAGE = 1000;

/**
 * Deletes the snapshots taken before `cutoff`, a page of ids at a time (search, then bulk deletes: the
 * distribution has no delete-by-query); answers how many.
 */
async function deleteOlderThan(es: Client, index: string, cutoff: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await es.search({ index, size: DELETE_PAGE, _source: false, query: { range: { takenAt: { lt: cutoff } } } });
    const ids = page.hits.hits.map((h) => h._id!);
    if (ids.length === 0) return deleted;
    const res = await es.bulk({ refresh: true, operations: ids.map((_id) => ({ delete: { _index: index, _id } })) });
    deleted += res.items.filter((i) => i.delete?.result === 'deleted').length;
    if (ids.length < DELETE_PAGE) return deleted;
  }
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
      refresh: 'wait_for',
      operations: sizes.flatMap((doc) => [{ index: { _index: names.segmentSizes, _id: segmentSizeId(doc.segmentId, takenAtMs) } }, doc]),
    });
    if (res.errors) {
      const failed = res.items.find((i) => i.index?.error)?.index?.error;
      throw new Error(`segment sizes not written: ${failed?.type ?? 'unknown'}: ${failed?.reason ?? ''}`);
    }
  }
  const expired = await deleteOlderThan(es, names.segmentSizes, new Date(options.nowMs - options.retentionDays * 86_400_000).toISOString());
  return { takenAt: new Date(takenAtMs).toISOString(), sizes, expired };
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
