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
 * The saved segments, cached per process. The query service bumps a Redis generation counter after every
 * save or delete; a writer checks it (one GET) before each write and reloads when it moved, so a process
 * lags a segment change by at most one flush. A full reload also happens every `maxAgeMs` in case a bump
 * was lost. What a stale cache writes is corrected by the segment's reconciliation.
 */
export class SegmentRegistry implements Membership {
  private prepared: PreparedSegments = prepareSegments([]);
  private generation: string | null | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly es: Client,
    private readonly alias: string,
    private readonly redis: Redis,
    /** The data set's Redis namespace. */
    private readonly namespace: string,
    private readonly changes: Queue<SegmentChange>,
    private readonly logger: Logger,
    private readonly maxAgeMs = 60_000,
  ) {}

  async catalog(nowMs: number): Promise<MembershipCatalog> {
    await this.ensureFresh();
    return membershipCatalog(this.prepared, nowMs);
  }

  async definitions(): Promise<Map<string, { version: number; definition: SegmentDefinition }>> {
    await this.ensureFresh();
    return new Map(this.prepared.active.map((s) => [s.segmentId, { version: s.version, definition: s.definition }]));
  }

  publish(changes: readonly SegmentChange[]): Promise<void> {
    return publishSegmentChanges(this.changes, changes);
  }

  /** The deleted segments' ids, whose memberships reconciliation removes. */
  async deletedIds(): Promise<string[]> {
    await this.ensureFresh();
    return [...this.prepared.deleted];
  }

  private async ensureFresh(): Promise<void> {
    // Read the counter before the definitions: a save that lands during the load moves it again.
    const generation = await this.redis.get(segmentsGenerationKey(this.namespace));
    if (generation === this.generation && Date.now() - this.loadedAt < this.maxAgeMs) return;
    this.loading ??= this.load(generation).finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(generation: string | null): Promise<void> {
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
    this.prepared = prepareSegments(records);
    for (const bad of this.prepared.invalid) this.logger.warn(bad, 'segment definition no longer valid; its membership is left as it is');
    this.generation = generation;
    this.loadedAt = Date.now();
    this.logger.debug({ segments: this.prepared.active.length, generation }, 'segments loaded');
  }
}
