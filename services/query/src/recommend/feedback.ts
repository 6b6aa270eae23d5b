import type { RecommendationCtr } from '@portrait/shared';
import type { Client } from '@portrait/runtime';

interface Bucket {
  key: string | number;
  doc_count: number;
}
type Terms<T = object> = { buckets: (Bucket & T)[] };
type ByType = { types: Terms };

const rate = (impressions: number, clicks: number) => ({
  impressions,
  clicks,
  ctr: impressions === 0 ? 0 : Math.round((clicks / impressions) * 10_000) / 10_000,
});

function counts(types: Terms): { impressions: number; clicks: number } {
  const of = (type: string) => types.buckets.find((b) => b.key === type)?.doc_count ?? 0;
  return { impressions: of('recommendation_impression'), clicks: of('recommendation_click') };
}

/** Click-through of the recommendations shown, by strategy and position, counted from the feedback events. */
export async function recommendationCtr(es: Client, events: string, days: number, nowMs: number): Promise<RecommendationCtr> {
  const from = new Date(nowMs - days * 86_400_000).toISOString();
  const to = new Date(nowMs).toISOString();
  const types = { terms: { field: 'type', size: 2 } };
  const res = await es.search({
    index: events,
    size: 0,
    allow_no_indices: true,
    ignore_unavailable: true,
    query: {
      bool: {
        filter: [
          { terms: { type: ['recommendation_impression', 'recommendation_click'] } },
          { range: { timestamp: { gte: from, lte: to } } },
        ],
      },
    },
    aggs: {
      types,
      strategies: {
        terms: { field: 'strategy', size: 20 },
        aggs: { types, positions: { terms: { field: 'position', size: 100, order: { _key: 'asc' } }, aggs: { types } } },
      },
    },
  });
  const aggs = (res.aggregations ?? {}) as { types?: Terms; strategies?: Terms<ByType & { positions: Terms<ByType> }> };
  const total = counts(aggs.types ?? { buckets: [] });
  return {
    from,
    to,
    ...rate(total.impressions, total.clicks),
    strategies: (aggs.strategies?.buckets ?? []).map((s) => {
      const c = counts(s.types);
      return {
        strategy: String(s.key),
        ...rate(c.impressions, c.clicks),
        positions: s.positions.buckets.map((p) => {
          const pc = counts(p.types);
          return { position: Number(p.key), ...rate(pc.impressions, pc.clicks) };
        }),
      };
    }),
  };
}
