import { compileSegment, evaluateMembership, type SegmentChange, type SegmentDefinition } from '@portrait/shared';
import type { Client, estypes, Logger } from '@portrait/runtime';
import { bulkItemReason, classifyBulkItem, resultOf } from './bulk';
import type { StoredProfile } from './profile-writer';
import type { Membership } from './segment-registry';

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
  pageSize: number;
  /** Passes before giving up on a profile set that keeps changing (the periodic reconciliation goes on later). */
  maxPasses: number;
  now?: () => number;
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
export async function reconcileSegment(
  es: Client,
  alias: string,
  membership: Membership,
  segmentId: string,
  options: ReconcileOptions,
  logger: Logger,
  onProgress?: (report: ReconcileReport & { pending?: number }) => Promise<void> | void,
): Promise<ReconcileReport> {
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
    await walk(es, alias, query, options.pageSize, async (hits) => {
      const operations: estypes.BulkRequest['operations'] = [];
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
      if (operations.length > 0) {
        const res = await es.bulk({ operations });
        const published: SegmentChange[] = [];
        res.items.forEach((entry, i) => {
          const item = resultOf(entry);
          const fate = classifyBulkItem(item);
          if (fate === 'ok') {
            published.push(...changesOf[i]!);
          } else if (fate === 'conflict') {
            report.conflicts++;
          } else {
            report.failed++;
            logger.warn({ segmentId, userId: item._id, reason: bulkItemReason(item) }, 'membership update failed');
          }
        });
        await membership.publish(published);
        for (const c of published) {
          if (c.change === 'entered') report.entered++;
          else report.exited++;
        }
      }
      await onProgress?.({ ...report, pending });
    });
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

/** Pages through a query's hits on a point in time, with sequence numbers for conditional writes. */
async function walk(
  es: Client,
  index: string,
  query: estypes.QueryDslQueryContainer,
  pageSize: number,
  onPage: (hits: estypes.SearchHit<StoredProfile>[]) => Promise<void>,
): Promise<void> {
  const pit = await es.openPointInTime({ index, keep_alive: '2m' });
  let pitId = pit.id;
  let after: estypes.SortResults | undefined;
  try {
    for (;;) {
      const page = await es.search<StoredProfile>({
        pit: { id: pitId, keep_alive: '2m' },
        size: pageSize,
        query,
        sort: [{ _shard_doc: 'asc' }],
        search_after: after,
        seq_no_primary_term: true,
        track_total_hits: false,
        _source: { excludes: ['state'] },
      });
      pitId = page.pit_id ?? pitId;
      const hits = page.hits.hits;
      if (hits.length === 0) return;
      after = hits[hits.length - 1]!.sort;
      await onPage(hits);
    }
  } finally {
    await es.closePointInTime({ id: pitId }).catch(() => undefined);
  }
}
