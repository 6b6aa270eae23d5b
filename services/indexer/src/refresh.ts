import { deriveProfile, startOfDay, type ProfileDoc, type ProfileOptions } from '@portrait/shared';
import type { Client, estypes, Logger } from '@portrait/runtime';
import { classifyBulkItem, resultOf } from './bulk';

export interface RefreshReport {
  scanned: number;
  refreshed: number;
  /** Profiles the indexer rewrote meanwhile (already fresh, skipped). */
  skipped: number;
  failed: number;
}

/**
 * Recomputes time-relative fields (windows, decay, recency, lifecycle, age) of every profile not yet
 * derived today, so they stay right for users who send nothing. Walks a point-in-time snapshot with
 * search_after and writes each profile back only if nobody changed it since it was read.
 */
export async function refreshProfiles(
  es: Client,
  alias: string,
  options: ProfileOptions,
  nowMs: number,
  pageSize: number,
  logger: Logger,
  onProgress?: (report: RefreshReport) => Promise<void> | void,
): Promise<RefreshReport> {
  const report: RefreshReport = { scanned: 0, refreshed: 0, skipped: 0, failed: 0 };
  const cutoff = new Date(startOfDay(nowMs)).toISOString();
  const pit = await es.openPointInTime({ index: alias, keep_alive: '2m' });
  let pitId = pit.id;
  let after: estypes.SortResults | undefined;
  try {
    for (;;) {
      const page = await es.search<ProfileDoc>({
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
      for (const hit of hits) {
        const doc = hit._source;
        if (!doc?.state) continue;
        const updatedAt = Date.parse(doc.updatedAt);
        operations.push(
          { index: { _index: hit._index, _id: hit._id!, if_seq_no: hit._seq_no, if_primary_term: hit._primary_term } },
          deriveProfile(doc.userId, doc.state, nowMs, Number.isNaN(updatedAt) ? nowMs : updatedAt, options),
        );
      }
      report.scanned += hits.length;
      if (operations.length > 0) {
        const res = await es.bulk({ operations });
        for (const entry of res.items) {
          const fate = classifyBulkItem(resultOf(entry));
          if (fate === 'ok') report.refreshed++;
          else if (fate === 'conflict') report.skipped++;
          else report.failed++;
        }
      }
      await onProgress?.(report);
      logger.debug(report, 'refresh progress');
    }
  } finally {
    await es.closePointInTime({ id: pitId }).catch(() => undefined);
  }
  return report;
}
