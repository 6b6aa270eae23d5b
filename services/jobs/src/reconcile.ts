import { compileSegment, evaluateMembership, type SegmentChange, type SegmentDefinition, type StoredProfile } from '@portrait/shared';
import { conditionalWrites, pointInTimePages, type Client, type estypes, type Logger, type Membership } from '@portrait/runtime';

export interface ReconcileReport {
  segmentId: string;
  version?: number;
  /** Passes over the mismatching profiles; the last one found none, unless `converged` is false. */
  passes: number;
  /** Profiles whose materialized membership disagreed with the definition, summed over passes. */
  scanned: number;
  entered: number;
  exited: number;
  /** Updates lost to a concurrent profile write; the next pass looks at those profiles again. */
  conflicts: number;
  failed: number;
  converged: boolean;
}

export interface ReconcileOptions {
  es: Client;
  /** The profile alias. */
  alias: string;
  /** The saved segments, and where entries and exits are published. */
  membership: Membership;
  segmentId: string;
  pageSize: number;
  /** Passes before giving up on a profile set that keeps changing (the periodic reconciliation goes on later). */
  maxPasses: number;
  logger: Logger;
  now?: () => number;
  onProgress?: (report: ReconcileReport & { pending?: number }) => Promise<void> | void;
}

/**
 * Brings the materialized membership of one segment in line with its current definition: the backfill of
 * a new or changed segment, the removal of a deleted one, and the daily drift of relative-time conditions.
 *
 * It asks Elasticsearch only for the profiles that disagree (`matches and not tagged`, or `tagged and does
 * not match`), walks them with a point in time and search_after, re-checks each with the in-process
 * predicate and writes `segments` back with a partial `_bulk` update conditional on the sequence number it
 * read. A profile the indexer rewrote meanwhile fails that condition and is left to the next pass, which
 * starts from a fresh refresh; passes repeat until one finds nothing to fix. So a concurrent write never
 * loses its update, and the membership converges even while events keep arriving.
 */
export async function reconcileSegment(options: ReconcileOptions): Promise<ReconcileReport> {
  const { es, alias, membership, segmentId, logger, onProgress } = options;
  const now = options.now ?? Date.now;
  const report: ReconcileReport = { segmentId, passes: 0, scanned: 0, entered: 0, exited: 0, conflicts: 0, failed: 0, converged: false };
  const only = new Set([segmentId]);
  while (report.passes < options.maxPasses) {
    const nowMs = now();
    const [catalog, definitions] = await Promise.all([membership.catalog(nowMs), membership.definitions()]);
    const current = definitions.get(segmentId);
    if (!current && !catalog.deleted.has(segmentId)) {
      throw new Error(`segment ${segmentId} is unknown: it was never saved, or its definition no longer validates`);
    }
    report.version = current?.version;
    await es.indices.refresh({ index: alias });
    const query = mismatchQuery(segmentId, current?.definition, nowMs);
    const pending = (await es.count({ index: alias, query })).count;
    if (pending === 0) {
      report.converged = true;
      break;
    }
    report.passes++;
    await onProgress?.({ ...report, pending });
    const pages = pointInTimePages<StoredProfile>(es, {
      index: alias,
      pageSize: options.pageSize,
      query,
      request: { seq_no_primary_term: true, _source: { excludes: ['state'] } },
    });
    for await (const hits of pages) {
      const operations: NonNullable<estypes.BulkRequest['operations']> = [];
      const changesOf: SegmentChange[][] = [];
      for (const hit of hits) {
        const doc = hit._source!;
        const result = evaluateMembership(doc, doc.userId, doc, catalog, only);
        if (result.changes.length === 0 && sameMembers(doc.segments, result.fields.segments)) continue;
        operations.push(
          { update: { _index: hit._index, _id: hit._id!, if_seq_no: hit._seq_no, if_primary_term: hit._primary_term } },
          { doc: result.fields },
        );
        changesOf.push(result.changes);
      }
      report.scanned += hits.length;
      const written = await conditionalWrites(es, operations, changesOf);
      report.conflicts += written.conflicts;
      report.failed += written.failed.length;
      for (const failure of written.failed)
        logger.warn({ segmentId, userId: failure.id, reason: failure.reason }, 'membership update failed');
      await membership.publish(written.changes);
      for (const c of written.changes) {
        if (c.change === 'entered') report.entered++;
        else report.exited++;
      }
      await onProgress?.({ ...report, pending });
    }
  }
  await onProgress?.({ ...report });
  return report;
}

function sameMembers(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const left = a ?? [];
  return left.length === b.length && left.every((id, i) => id === b[i]);
}

/** Profiles whose `segments` field disagrees with the definition at `nowMs` (all holders, for a deleted segment). */
export function mismatchQuery(segmentId: string, definition: SegmentDefinition | undefined, nowMs: number): estypes.QueryDslQueryContainer {
  const tagged: estypes.QueryDslQueryContainer = { term: { segments: segmentId } };
  if (!definition) return tagged;
  const matches = compileSegment(definition, nowMs) as estypes.QueryDslQueryContainer;
  return {
    bool: {
      should: [{ bool: { filter: [matches], must_not: [tagged] } }, { bool: { filter: [tagged], must_not: [matches] } }],
      minimum_should_match: 1,
    },
  };
}
