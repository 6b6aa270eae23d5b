import { deriveProfile, evaluateMembership, startOfDay, type ProfileOptions, type SegmentChange } from '@portrait/shared';
import type { Client, estypes, Logger } from '@portrait/runtime';
import { classifyBulkItem, resultOf } from './bulk';
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
  const pit = await es.openPointInTime({ index: alias, keep_alive: '2m' });
  let pitId = pit.id;
  let after: estypes.SortResults | undefined;
  try {
    for (;;) {
      const page = await es.search<StoredProfile>({
        pit: { id: pitId, keep_alive: '2m' },
        size: pageSize,
        query: { bool: { should: [{ range: { derivedAt: { lt: cutoff } } }, { bool: { must_not: { exists: { field: 'derivedAt' } } } }] } },
        sort: [{ _shard_doc: 'asc' }],
        search_after: after,
        seq_no_primary_term: true,
        track_total_hits: false,
      });
      pitId = page.pit_id ?? pitId;
      const hits = page.hits.hits;
      if (hits.length === 0) break;
      after = hits[hits.length - 1]!.sort;
      const operations: estypes.BulkRequest['operations'] = [];
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
      if (operations.length > 0) {
        const res = await es.bulk({ operations });
        const published: SegmentChange[] = [];
        res.items.forEach((entry, i) => {
          const fate = classifyBulkItem(resultOf(entry));
          if (fate === 'ok') {
            report.refreshed++;
            published.push(...changesOf[i]!);
          } else if (fate === 'conflict') report.skipped++;
          else report.failed++;
        });
        await membership.publish(published);
        report.segmentChanges += published.length;
      }
      await onProgress?.(report);
      logger.debug(report, 'refresh progress');
    }
  } finally {
    await es.closePointInTime({ id: pitId }).catch(() => undefined);
  }
  return report;
}
