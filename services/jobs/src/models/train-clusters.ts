import { categoryFeature, MatrixBuilder, ProfileInput, trainClusters, type FeaturePhrase, type ProfileFeature } from '@portrait/shared';
import type { Client } from '@portrait/runtime';
import type { Trainer } from './context';
import { walkProfiles } from './profile-walk';

/** The behaviour a cluster is told apart by, besides the interest shares of the most common categories. */
export const CLUSTER_FEATURES: readonly ProfileFeature[] = [
  'recency_days',
  'days_since_seen',
  'orders',
  'total_spend',
  'avg_order_value',
  'events_d90_page_view',
  'events_d90_search',
  'events_d90_add_to_cart',
  'cart_conversion_d90',
  'price_band',
];

const PHRASES: FeaturePhrase[] = [
  { feature: 'recency_days', high: 'lapsed', low: 'recent' },
  { feature: 'days_since_seen', high: 'inactive', low: 'active' },
  { feature: 'orders', high: 'frequent', low: 'occasional' },
  { feature: 'total_spend', high: 'high-spend', low: 'low-spend' },
  { feature: 'avg_order_value', high: 'big-basket', low: 'small-basket' },
  { feature: 'events_d90_page_view', high: 'browsing', low: 'few-views' },
  { feature: 'events_d90_search', high: 'searching', low: 'non-searching' },
  { feature: 'events_d90_add_to_cart', high: 'cart-filling', low: 'no-cart' },
  { feature: 'cart_conversion_d90', high: 'converting', low: 'cart-abandoning' },
  { feature: 'price_band', high: 'premium', low: 'bargain-hunting' },
];

/** The root categories most profiles are interested in, most common first. */
async function commonCategories(es: Client, alias: string, size: number): Promise<string[]> {
  if (size === 0) return [];
  const res = await es.search({ index: alias, size: 0, aggs: { top: { terms: { field: 'interests.topCategories', size } } } });
  const buckets = (res.aggregations?.top as { buckets?: { key: string }[] } | undefined)?.buckets ?? [];
  return buckets.map((b) => String(b.key));
}

/** k-means++ over standardized behaviour and category-share features, k by silhouette, clusters named by their centroids. */
export const trainClustersModel: Trainer<'clusters'> = async ({ deps, parameters, seed, progress }) => {
  const categories = await commonCategories(deps.es, deps.names.profiles, parameters.categories);
  const features = [...CLUSTER_FEATURES, ...categories.map(categoryFeature)];
  const phrases = [
    ...PHRASES,
    ...categories.map((c) => ({ feature: categoryFeature(c), high: `${c.toLowerCase()}-minded`, low: `non-${c.toLowerCase()}` })),
  ];
  const matrix = new MatrixBuilder(features.length, 4096);
  const rows = await walkProfiles(
    deps.es,
    deps.names.profiles,
    deps.config.MODEL_PAGE_SIZE,
    (doc) => matrix.push(new ProfileInput(doc).vector(features)),
    progress,
  );
  await progress({ phase: 'fitting', rows });
  const { model } = trainClusters(matrix.build(), {
    features,
    seed,
    ...(parameters.k === undefined ? { kMin: parameters.kMin, kMax: parameters.kMax } : { k: parameters.k }),
    phrases,
    noun: 'shoppers',
  });
  const { chosen } = model.quality;
  return {
    algorithm: 'kmeans++',
    features,
    state: model,
    quality: {
      k: model.k,
      silhouette: chosen.silhouette,
      daviesBouldin: chosen.daviesBouldin,
      meanWithinDistance: chosen.meanWithinDistance,
      meanBetweenDistance: chosen.meanBetweenDistance,
      minBetweenDistance: chosen.minBetweenDistance,
      withinSumOfSquares: chosen.withinSumOfSquares,
      betweenSumOfSquares: chosen.betweenSumOfSquares,
      sizes: chosen.sizes,
      labels: model.labels.map((l) => ({ clusterId: l.clusterId, label: l.label, size: l.size, share: l.share })),
      candidates: model.quality.candidates.map((c) => ({ k: c.k, silhouette: c.silhouette, daviesBouldin: c.daviesBouldin })),
    },
    training: { rows, source: 'profiles' },
  };
};
