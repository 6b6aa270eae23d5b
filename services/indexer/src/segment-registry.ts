import type { Queue } from 'bullmq';
import {
  buildMembershipCatalog,
  parseSegmentDefinition,
  segmentsGenerationKey,
  type MembershipCatalog,
  type SegmentChange,
  type SegmentDefinition,
  type SegmentRecord,
} from '@portrait/shared';
import { publishSegmentChanges, type Client, type Logger, type Redis } from '@portrait/runtime';

/** What profile writers need to keep segment membership current: the segments as of now, and a way to publish transitions. */
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
  private records: SegmentRecord[] = [];
  private generation: string | null | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly es: Client,
    private readonly alias: string,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly changes: Queue<SegmentChange>,
    private readonly logger: Logger,
    private readonly maxAgeMs = 60_000,
  ) {}

  async catalog(nowMs: number): Promise<MembershipCatalog> {
    await this.ensureFresh();
    const { catalog, invalid } = buildMembershipCatalog(this.records, nowMs);
    for (const bad of invalid) this.logger.warn(bad, 'segment definition no longer valid; its membership is left as it is');
    return catalog;
  }

  async definitions(): Promise<Map<string, { version: number; definition: SegmentDefinition }>> {
    await this.ensureFresh();
    const out = new Map<string, { version: number; definition: SegmentDefinition }>();
    for (const r of this.records) {
      if (r.status !== 'active') continue;
      const parsed = parseSegmentDefinition(r.definition);
      if (parsed.ok) out.set(r.segmentId, { version: r.version, definition: parsed.value });
    }
    return out;
  }

  publish(changes: readonly SegmentChange[]): Promise<void> {
    return publishSegmentChanges(this.changes, changes);
  }

  /** The deleted segments' ids, whose memberships reconciliation removes. */
  async deletedIds(): Promise<string[]> {
    await this.ensureFresh();
    return this.records.filter((r) => r.status === 'deleted').map((r) => r.segmentId);
  }

  private async ensureFresh(): Promise<void> {
    // Read the counter before the definitions: a save that lands during the load moves it again.
    const generation = await this.redis.get(segmentsGenerationKey(this.prefix));
    if (generation === this.generation && Date.now() - this.loadedAt < this.maxAgeMs) return;
    this.loading ??= this.load(generation).finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(generation: string | null): Promise<void> {
    const res = await this.es.search<SegmentRecord>({
      index: this.alias,
      size: 10_000,
      _source: ['segmentId', 'version', 'status', 'definition'],
      query: { match_all: {} },
    });
    this.records = res.hits.hits.map((h) => h._source!).filter((r) => r?.segmentId);
    this.generation = generation;
    this.loadedAt = Date.now();
    this.logger.debug({ segments: this.records.length, generation }, 'segments loaded');
  }
}
