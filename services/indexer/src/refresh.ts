import { deriveProfile, evaluateMembership, startOfDay, type ProfileOptions, type SegmentChange } from '@portrait/shared';
import { pointInTimePages, type Client, type estypes, type Logger } from '@portrait/runtime';
import { conditionalWrites } from './bulk';
import type { StoredProfile } from './profile-writer';
import type { Membership } from './segment-registry';

export interface RefreshReport {
  scanned: number;
  refreshed: number;
  /** Profiles the indexer rewrote meanwhile (already fresh, skipped). */
  skipped: number;
  failed: number;
  /** Segment entries and exits that time alone caused. */
  segmentChanges: number;
}

/**
 * Recomputes time-relative fields (windows, decay, recency, lifecycle, age) of every profile not yet
 * derived today, so they stay right for users who send nothing. Walks a point-in-time snapshot with
 * search_after and writes each profile back only if nobody changed it since it was read. Segment
 * membership is re-evaluated in the same write, and its entries and exits published.
 */
export async function refreshProfiles(
  es: Client,
  alias: string,
  options: ProfileOptions,
  nowMs: number,
  pageSize: number,
  logger: Logger,
  membership: Membership,
  onProgress?: (report: RefreshReport) => Promise<void> | void,
): Promise<RefreshReport> {
  const report: RefreshReport = { scanned: 0, refreshed: 0, skipped: 0, failed: 0, segmentChanges: 0 };
  const catalog = await membership.catalog(nowMs);
  const cutoff = new Date(startOfDay(nowMs)).toISOString();
  const pages = pointInTimePages<StoredProfile>(es, {
    index: alias,
    pageSize,
    query: { bool: { should: [{ range: { derivedAt: { lt: cutoff } } }, { bool: { must_not: { exists: { field: 'derivedAt' } } } }] } },
    request: { seq_no_primary_term: true },
  });
  for await (const hits of pages) {
    const operations: NonNullable<estypes.BulkRequest['operations']> = [];
    const changesOf: SegmentChange[][] = [];
    for (const hit of hits) {
      const stored = hit._source;
      if (!stored?.state) continue;
      const updatedAt = Date.parse(stored.updatedAt);
      const doc: StoredProfile = deriveProfile(stored.userId, stored.state, nowMs, Number.isNaN(updatedAt) ? nowMs : updatedAt, options);
      const membership = evaluateMembership(doc, stored.userId, stored, catalog);
      Object.assign(doc, membership.fields);
      operations.push({ index: { _index: hit._index, _id: hit._id!, if_seq_no: hit._seq_no, if_primary_term: hit._primary_term } }, doc);
      changesOf.push(membership.changes);
    }
    report.scanned += hits.length;
    const written = await conditionalWrites(es, operations, changesOf);
    report.refreshed += written.written;
    report.skipped += written.conflicts;
    report.failed += written.failed.length;
    await membership.publish(written.changes);
    report.segmentChanges += written.changes.length;
    await onProgress?.(report);
    logger.debug(report, 'refresh progress');
  }
  return report;
}
