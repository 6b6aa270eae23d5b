import type { EsQuery, ExportFetch } from '@portrait/shared';
import { withEs, type Client, type estypes } from '../elasticsearch';

/** How long Elasticsearch keeps the point in time between two pages (a slow reader extends it each page). */
const KEEP_ALIVE = '5m';

/**
 * A segment's members frozen at one instant: a point in time on the profile alias, the member count at
 * it, and a walk over exactly those members in `_shard_doc` order. Profiles written after the snapshot
 * opened are neither counted nor returned, so the rows always add up to `total`, without duplicates.
 */
export class Snapshot {
  private closed = false;

  private constructor(
    private readonly es: Client,
    private pitId: string,
    private readonly query: estypes.QueryDslQueryContainer,
    readonly total: number,
    readonly at: Date,
  ) {}

  /** `members` is the plain JSON query shared's compilers build (`memberQuery`). */
  static async open(es: Client, index: string, members: EsQuery, at: Date): Promise<Snapshot> {
    const query = members as estypes.QueryDslQueryContainer;
    const pit = await withEs(() => es.openPointInTime({ index, keep_alive: KEEP_ALIVE }));
    try {
      const res = await withEs(() => es.search({ pit: { id: pit.id, keep_alive: KEEP_ALIVE }, query, size: 0, track_total_hits: true }));
      const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
      return new Snapshot(es, res.pit_id ?? pit.id, query, total, at);
    } catch (error) {
      await es.closePointInTime({ id: pit.id }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Pages of members, until they are exhausted: `_source` documents (only the given paths), or each hit's
   * doc-value `fields` when doc values serve every column. The next page is requested as soon as a page
   * arrives, so Elasticsearch fetches while the caller writes rows.
   */
  async *pages(pageSize: number, fetch: ExportFetch): AsyncGenerator<unknown[]> {
    const fromDocValues = 'docValues' in fetch;
    const fetchPage = async (after: estypes.SortResults | undefined) => {
      const res = await withEs(() =>
        this.es.search({
          pit: { id: this.pitId, keep_alive: KEEP_ALIVE },
          query: this.query,
          size: pageSize,
          sort: [{ _shard_doc: 'asc' }],
          search_after: after,
          track_total_hits: false,
          ...(fromDocValues ? { _source: false, docvalue_fields: fetch.docValues } : { _source: { includes: fetch.source } }),
        }),
      );
      this.pitId = res.pit_id ?? this.pitId;
      return res.hits.hits;
    };
    let pending: Promise<estypes.SearchHit<unknown>[]> | undefined = fetchPage(undefined);
    try {
      while (pending) {
        const hits: estypes.SearchHit<unknown>[] = await pending;
        pending = undefined;
        if (hits.length === 0) return;
        if (hits.length === pageSize) pending = fetchPage(hits[hits.length - 1]!.sort);
        yield fromDocValues ? hits.map((h) => h.fields ?? {}) : hits.map((h) => h._source);
      }
    } finally {
      // A caller that stops early (cancelled, client gone) leaves at most one request in flight: let it settle quietly.
      pending?.catch(() => undefined);
    }
  }

  /** Releases the point in time; safe to call twice, never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.es.closePointInTime({ id: this.pitId }).catch(() => undefined);
  }
}
