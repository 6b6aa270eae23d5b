import {
  categoryFeature,
  MatrixBuilder,
  PROFILE_CLUSTER_FEATURES,
  PROFILE_CLUSTER_PHRASES,
  ProfileInput,
  trainClusters,
} from '@portrait/shared';
import type { Client } from '@portrait/runtime';
import type { Trainer } from './context';
import { walkProfiles } from './profile-walk';

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
  const features = [...PROFILE_CLUSTER_FEATURES, ...categories.map(categoryFeature)];
  const phrases = [
    ...PROFILE_CLUSTER_PHRASES,
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
