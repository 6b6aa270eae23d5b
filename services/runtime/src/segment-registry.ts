import type { Queue } from 'bullmq';
import {
  membershipCatalog,
  prepareSegments,
  SEGMENT_RECORD_FIELDS,
  SegmentRecordSchema,
  segmentsGenerationKey,
  type MembershipCatalog,
  type PreparedSegments,
  type SegmentChange,
  type SegmentDefinition,
} from '@portrait/shared';
import type { Client } from './elasticsearch';
import { GenerationCache } from './generation-cache';
import type { Logger } from './logger';
import { publishSegmentChanges } from './queues';
import type { Redis } from './redis';

/** What profile writers (the indexer's fold, the jobs' refresh and reconciliation) need to keep segment membership current: the segments as of now, and a way to publish transitions. */
export interface Membership {
  catalog(nowMs: number): Promise<MembershipCatalog>;
  /** Current definitions of the active segments, for compiling reconciliation queries. */
  definitions(): Promise<Map<string, { version: number; definition: SegmentDefinition }>>;
  publish(changes: readonly SegmentChange[]): Promise<void>;
}

/**
 * The saved segments, cached per process (`GenerationCache`): the query service bumps a Redis generation
 * counter after every save or delete, and a writer reloads when it moved, so a process lags a segment change
 * by at most one flush. What a stale cache writes is corrected by the segment's reconciliation.
 */
export class SegmentRegistry implements Membership {
  private readonly cache: GenerationCache<PreparedSegments>;

  constructor(
    private readonly es: Client,
    private readonly alias: string,
    redis: Redis,
    /** The data set's Redis namespace. */
    namespace: string,
    private readonly changes: Queue<SegmentChange>,
    private readonly logger: Logger,
    maxAgeMs = 60_000,
  ) {
    this.cache = new GenerationCache(redis, segmentsGenerationKey(namespace), () => this.load(), prepareSegments([]), maxAgeMs);
  }

  async catalog(nowMs: number): Promise<MembershipCatalog> {
    return membershipCatalog(await this.cache.get(), nowMs);
  }

  async definitions(): Promise<Map<string, { version: number; definition: SegmentDefinition }>> {
    const prepared = await this.cache.get();
    return new Map(prepared.active.map((s) => [s.segmentId, { version: s.version, definition: s.definition }]));
  }

  publish(changes: readonly SegmentChange[]): Promise<void> {
    return publishSegmentChanges(this.changes, changes);
  }

  /** The deleted segments' ids, whose memberships reconciliation removes. */
  async deletedIds(): Promise<string[]> {
    return [...(await this.cache.get()).deleted];
  }

  private async load(): Promise<PreparedSegments> {
    const res = await this.es.search({
      index: this.alias,
      size: 10_000,
      _source: SEGMENT_RECORD_FIELDS,
      query: { match_all: {} },
    });
    // Validated once per load, not per write; a definition that no longer validates is reported here, once.
    const records = res.hits.hits.flatMap((h) => {
      const parsed = SegmentRecordSchema.safeParse(h._source);
      if (!parsed.success) this.logger.error({ segmentId: h._id, issues: parsed.error.issues }, 'stored segment is malformed; left out');
      return parsed.success ? [parsed.data] : [];
    });
    const prepared = prepareSegments(records);
    for (const bad of prepared.invalid) this.logger.warn(bad, 'segment definition no longer valid; its membership is left as it is');
    this.logger.debug({ segments: prepared.active.length }, 'segments loaded');
    return prepared;
  }
}
