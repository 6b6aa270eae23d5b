import {
  HIDDEN_SOURCE_PATHS,
  NotFoundError,
  ValidationError,
  buildProfileSearch,
  decodeCursor,
  encodeCursor,
  type ProfileDoc,
  type ProfileSearch,
} from '@portrait/shared';
import { errors, withEs, type Client, type estypes } from '@portrait/runtime';

export type PublicProfile = Omit<ProfileDoc, 'state' | 'contact'> & { segments?: string[] };

export interface SearchResult {
  total: number;
  items: PublicProfile[];
  facets: Record<string, { value: string; count: number }[]>;
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Profile reads: by id, and search with filters, facets and paging. */
export class Profiles {
  constructor(
    private readonly es: Client,
    private readonly alias: string,
  ) {}

  async get(userId: string): Promise<PublicProfile> {
    return withEs(async () => {
      try {
        const res = await this.es.get<PublicProfile>({
          index: this.alias,
          id: userId,
          _source_excludes: [...HIDDEN_SOURCE_PATHS],
        });
        if (!res._source) throw new NotFoundError(`no profile for user ${userId}`);
        return res._source;
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404) throw new NotFoundError(`no profile for user ${userId}`);
        throw error;
      }
    });
  }

  async search(params: ProfileSearch): Promise<SearchResult> {
    let searchAfter: unknown[] | undefined;
    if (params.cursor) {
      searchAfter = decodeCursor(params.cursor);
      if (!searchAfter) throw new ValidationError('invalid cursor', [{ path: 'cursor', reason: 'is not a cursor returned by this API' }]);
    }
    const body = buildProfileSearch(params, searchAfter) as estypes.SearchRequest;
    const res = await withEs(() => this.es.search<PublicProfile>({ index: this.alias, ...body }));
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    const hits = res.hits.hits;
    const last = hits[hits.length - 1];
    const facets: SearchResult['facets'] = {};
    for (const [name, agg] of Object.entries(res.aggregations ?? {})) {
      const buckets = (agg as estypes.AggregationsStringTermsAggregate).buckets;
      facets[name] = (Array.isArray(buckets) ? buckets : []).map((b) => ({ value: String(b.key), count: b.doc_count }));
    }
    return {
      total,
      items: hits.map((h) => h._source!),
      facets,
      nextCursor: last?.sort && hits.length === params.size ? encodeCursor(last.sort) : undefined,
    };
  }
}
