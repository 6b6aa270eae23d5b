import type { Candidate, IndexNames, Reason } from '@portrait/shared';
import type { Client, estypes } from '@portrait/runtime';

/** The ranking a scope yields: item ids with their weighted counts, best first. */
type Ranking = { itemId: string; score: number }[];

/** How long a popularity ranking is served before it is counted again (a storefront asks many times a second). */
const TTL_MS = 60_000;
const MAX_KEYS = 1000;
const RANKED = 300;

export type PopularScope =
  | { kind: 'category'; category: string }
  | { kind: 'segment'; segmentId: string }
  | { kind: 'cluster'; clusterId: number; label?: string }
  | { kind: 'trending' }
  | { kind: 'overall' };

interface Bucket {
  key: string;
  doc_count: number;
}

/**
 * Popular items for the cold start and for the hybrid's tail, counted live by Elasticsearch and cached a minute per
 * scope: overall (purchases and carts of the last `popularDays`), trending (the last `trendingDays`), in a category
 * (views and carts, the events that carry one), and among a segment's members or a cluster (the `items.bought` of
 * their profiles).
 */
export class Popularity {
  private readonly cache = new Map<string, { at: number; ranking: Promise<Ranking> }>();

  constructor(
    private readonly es: Client,
    private readonly names: Pick<IndexNames, 'events' | 'profiles'>,
    private readonly options: { popularDays: number; trendingDays: number; now: () => number },
  ) {}

  async candidates(scope: PopularScope, n: number): Promise<Candidate[]> {
    const ranking = await this.ranking(scope);
    const reason = reasonOf(scope);
    return ranking.slice(0, n).map((r) => ({ itemId: r.itemId, score: r.score, reason }));
  }

  private ranking(scope: PopularScope): Promise<Ranking> {
    const key = JSON.stringify(scope);
    const now = this.options.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.ranking;
    if (this.cache.size >= MAX_KEYS) this.cache.clear();
    const ranking = this.count(scope, now);
    this.cache.set(key, { at: now, ranking });
    ranking.catch(() => this.cache.delete(key));
    return ranking;
  }

  private async count(scope: PopularScope, now: number): Promise<Ranking> {
    if (scope.kind === 'segment' || scope.kind === 'cluster') {
      const filter: estypes.QueryDslQueryContainer =
        scope.kind === 'segment' ? { term: { segments: scope.segmentId } } : { term: { 'cluster.id': scope.clusterId } };
      const res = await this.es.search({
        index: this.names.profiles,
        size: 0,
        query: filter,
        aggs: { items: { terms: { field: 'items.bought', size: RANKED } } },
      });
      return buckets(res.aggregations?.items).map((b) => ({ itemId: b.key, score: b.doc_count }));
    }
    const days = scope.kind === 'trending' ? this.options.trendingDays : this.options.popularDays;
    const since = { range: { timestamp: { gte: new Date(now - days * 86_400_000).toISOString() } } };
    const category = scope.kind === 'category' ? [{ term: { category: lastPart(scope.category) } }] : [];
    const res = await this.es.search({
      index: this.names.events,
      size: 0,
      allow_no_indices: true,
      ignore_unavailable: true,
      query: { bool: { filter: [since, { terms: { type: ['purchase', 'add_to_cart', 'page_view'] } }, ...category] } },
      aggs: {
        bought: { filter: { term: { type: 'purchase' } }, aggs: { items: { terms: { field: 'order.itemIds', size: RANKED } } } },
        carted: { filter: { term: { type: 'add_to_cart' } }, aggs: { items: { terms: { field: 'itemId', size: RANKED } } } },
        viewed: { filter: { term: { type: 'page_view' } }, aggs: { items: { terms: { field: 'itemId', size: RANKED } } } },
      },
    });
    const aggs = (res.aggregations ?? {}) as Record<string, { items?: unknown }>;
    const scores = new Map<string, number>();
    // Purchases say most about popularity; views only break ties among items nobody carted or bought.
    for (const [name, weight] of [
      ['bought', 5],
      ['carted', 3],
      ['viewed', 1],
    ] as const) {
      for (const b of buckets(aggs[name]?.items)) scores.set(b.key, (scores.get(b.key) ?? 0) + weight * b.doc_count);
    }
    return [...scores].map(([itemId, score]) => ({ itemId, score })).sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
  }
}

/** The deepest part of a category path (`Outdoor > Tents` -> `Tents`): events keep the path as separate names. */
function lastPart(category: string): string {
  const parts = category.split('>').map((p) => p.trim());
  return parts[parts.length - 1] ?? category;
}

function buckets(agg: unknown): Bucket[] {
  return ((agg as { buckets?: Bucket[] } | undefined)?.buckets ?? []).filter((b) => typeof b.key === 'string');
}

function reasonOf(scope: PopularScope): Reason {
  switch (scope.kind) {
    case 'category':
      return { code: 'popular_in_category', text: `popular in ${scope.category}` };
    case 'segment':
      return { code: 'popular_in_segment', text: `popular in segment ${scope.segmentId}` };
    case 'cluster':
      return { code: 'popular_in_cluster', text: `popular with shoppers like you${scope.label ? ` (${scope.label})` : ''}` };
    case 'trending':
      return { code: 'trending', text: 'trending now' };
    case 'overall':
      return { code: 'popular', text: 'popular right now' };
  }
}
