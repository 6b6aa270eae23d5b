import type { Client, estypes } from './elasticsearch';

export interface PointInTimeWalk {
  index: string;
  pageSize: number;
  query?: estypes.QueryDslQueryContainer;
  /** Sort before the `_shard_doc` tie-break (e.g. by user and time, to read one user's events together). */
  sort?: estypes.SortCombinations[];
  /** How long Elasticsearch keeps the point in time between two pages. */
  keepAlive?: string;
  /** Anything else the search takes: `_source`, `seq_no_primary_term`, `docvalue_fields`... */
  request?: Omit<estypes.SearchRequest, 'pit' | 'index' | 'size' | 'query' | 'sort' | 'search_after'>;
}

/**
 * Pages of every hit of `query` as of one point in time, in `_shard_doc` order with `search_after`: a
 * consistent walk however the index changes meanwhile, and however deep. The point in time is closed when
 * the walk ends, including when the caller stops early or throws.
 */
export async function* pointInTimePages<T = unknown>(es: Client, walk: PointInTimeWalk): AsyncGenerator<estypes.SearchHit<T>[]> {
  const keepAlive = walk.keepAlive ?? '2m';
  const pit = await es.openPointInTime({ index: walk.index, keep_alive: keepAlive });
  let pitId = pit.id;
  let after: estypes.SortResults | undefined;
  try {
    for (;;) {
      const page = await es.search<T>({
        track_total_hits: false,
        ...walk.request,
        pit: { id: pitId, keep_alive: keepAlive },
        size: walk.pageSize,
        query: walk.query,
        sort: [...(walk.sort ?? []), { _shard_doc: 'asc' }],
        search_after: after,
      });
      pitId = page.pit_id ?? pitId;
      const hits = page.hits.hits;
      if (hits.length === 0) return;
      after = hits[hits.length - 1]!.sort;
      yield hits;
    }
  } finally {
    await es.closePointInTime({ id: pitId }).catch(() => undefined);
  }
}
