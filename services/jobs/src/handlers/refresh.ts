import {
  applyScores,
  deriveProfile,
  evaluateMembership,
  startOfDay,
  type ProfileOptions,
  type SegmentChange,
  type StoredProfile,
} from '@portrait/shared';
import {
  conditionalWrites,
  pointInTimePages,
  type Client,
  type estypes,
  type Logger,
  type Membership,
  type Scoring,
} from '@portrait/runtime';
import type { Handler } from '../handler';

export interface RefreshReport {
  scanned: number;
  refreshed: number;
  /** Profiles the indexer rewrote meanwhile (already fresh, skipped). */
  skipped: number;
  failed: number;
  /** Segment entries and exits that time alone caused. */
  segmentChanges: number;
}

export interface RefreshOptions {
  es: Client;
  /** The profile alias. */
  alias: string;
  profileOptions: ProfileOptions;
  /** The saved segments: membership is re-evaluated in the same write. */
  membership: Membership;
  /** The active models: profiles are scored again in the same write. */
  scoring: Scoring;
  /** Which profiles to rewrite; by default those not derived today. */
  query?: estypes.QueryDslQueryContainer;
  pageSize: number;
  logger: Logger;
  /** The instant profiles are derived for. */
  nowMs: number;
  onProgress?: (report: RefreshReport) => Promise<void> | void;
}

/**
 * Recomputes time-relative fields (windows, decay, recency, lifecycle, age) of every profile not yet
 * derived today, so they stay right for users who send nothing. Walks a point-in-time snapshot with
 * search_after and writes each profile back only if nobody changed it since it was read. Segment
 * membership is re-evaluated and the active models score the profile again in the same write, and the
 * segment entries and exits are published. With `query`, the same rewrite of other profiles (a re-score).
 */
export async function refreshProfiles(options: RefreshOptions): Promise<RefreshReport> {
  const { es, alias, nowMs, logger, membership } = options;
  const report: RefreshReport = { scanned: 0, refreshed: 0, skipped: 0, failed: 0, segmentChanges: 0 };
  const catalog = await membership.catalog(nowMs);
  const models = await options.scoring.models();
  const cutoff = new Date(startOfDay(nowMs)).toISOString();
  const pages = pointInTimePages<StoredProfile>(es, {
    index: alias,
    pageSize: options.pageSize,
    query: options.query ?? {
      bool: { should: [{ range: { derivedAt: { lt: cutoff } } }, { bool: { must_not: { exists: { field: 'derivedAt' } } } }] },
    },
    request: { seq_no_primary_term: true },
  });
  for await (const hits of pages) {
    const operations: NonNullable<estypes.BulkRequest['operations']> = [];
    const changesOf: SegmentChange[][] = [];
    for (const hit of hits) {
      const stored = hit._source;
      if (!stored?.state) continue;
      const updatedAt = Date.parse(stored.updatedAt);
      const derived = deriveProfile(
        stored.userId,
        stored.state,
        nowMs,
        Number.isNaN(updatedAt) ? nowMs : updatedAt,
        options.profileOptions,
        stored,
      );
      const doc: StoredProfile = applyScores(derived, models, stored);
      const evaluated = evaluateMembership(doc, stored.userId, stored, catalog);
      Object.assign(doc, evaluated.fields);
      operations.push({ index: { _index: hit._index, _id: hit._id!, if_seq_no: hit._seq_no, if_primary_term: hit._primary_term } }, doc);
      changesOf.push(evaluated.changes);
    }
    report.scanned += hits.length;
    const written = await conditionalWrites(es, operations, changesOf);
    report.refreshed += written.written;
    report.skipped += written.conflicts;
    report.failed += written.failed.length;
    await membership.publish(written.changes);
    report.segmentChanges += written.changes.length;
    await options.onProgress?.(report);
    logger.debug(report, 'refresh progress');
  }
  return report;
}

/** The periodic refresh of every profile not yet derived today. */
export const refresh: Handler<'refresh'> = async ({ job, deps }) => {
  const started = Date.now();
  const report = await refreshProfiles({
    es: deps.es,
    alias: deps.names.profiles,
    profileOptions: deps.profileOptions,
    membership: deps.segments,
    scoring: deps.scoring,
    pageSize: deps.config.REFRESH_PAGE_SIZE,
    logger: deps.logger,
    nowMs: deps.now(),
    onProgress: (r) => job.updateProgress({ ...r }),
  });
  deps.metrics.refreshed.inc(report.refreshed);
  deps.metrics.segmentChanges.inc({ source: 'refresh' }, report.segmentChanges);
  deps.logger.info({ ...report, ms: Date.now() - started }, 'profile refresh done');
  return report;
};
