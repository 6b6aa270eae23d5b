import {
  DEFAULT_PROFILE_OPTIONS,
  PROFILE_CLUSTER_FEATURES,
  ProfileInput,
  categoryFeature,
  deriveProfile,
  featureMatrix,
  fitRfm,
  fitRisk,
  foldEvents,
  indexNames,
  rfmInput,
  toQueued,
  trainClusters,
  trainLogistic,
  type ModelKind,
  type ProfileDoc,
  type QueuedEvent,
} from '@portrait/shared';
import { ModelStore, type ModelDraft } from '@portrait/runtime';
import { namespaceOf, progress, type Infra } from './harness';
import { SyntheticShop, type ShopOptions } from './synthetic-shop';

/**
 * Active models for a benchmark that measures what scoring costs the indexer: RFM, clusters, both
 * propensities and risk (labels that only give the fit two classes: the cost is measured, not the quality), fitted on a small shop folded in memory (the same generator as the benchmark's stream) and
 * promoted in the benchmark's models index, so every profile write scores with all five.
 */
export async function promoteBenchModels(infra: Infra, prefix: string, shop: ShopOptions): Promise<string[]> {
  const started = Date.now();
  const fixture = new SyntheticShop({ ...shop, users: 3000, seed: shop.seed + 1 });
  const byUser = new Map<string, QueuedEvent[]>();
  for (const event of fixture.events(40_000)) {
    const queued = toQueued(event, shop.endMs);
    const list = byUser.get(queued.userId);
    if (list) list.push(queued);
    else byUser.set(queued.userId, [queued]);
  }
  const docs: ProfileDoc[] = [...byUser].map(([userId, events]) =>
    deriveProfile(
      userId,
      foldEvents(undefined, events, shop.endMs, DEFAULT_PROFILE_OPTIONS).state,
      shop.endMs,
      shop.endMs,
      DEFAULT_PROFILE_OPTIONS,
    ),
  );
  const features = [...PROFILE_CLUSTER_FEATURES, categoryFeature('Electronics'), categoryFeature('Women Fashion')];
  const x = featureMatrix(docs.map((d) => new ProfileInput(d).vector(features)));
  const label = (f: (d: ProfileDoc) => boolean) => Float64Array.from(docs, (d) => (f(d) ? 1 : 0));
  const states: Partial<Record<ModelKind, { state: unknown; features: string[] }>> = {
    rfm: { state: fitRfm(docs.map(rfmInput)), features: ['recency_days', 'orders', 'total_spend'] },
    clusters: { state: trainClusters(x, { features, seed: 1, kMin: 4, kMax: 4 }).model, features },
    purchase: { state: trainLogistic({ features, x, y: label((d) => d.purchases.orders >= 1) }), features },
    churn: { state: trainLogistic({ features, x, y: label((d) => d.behavior.eventCount <= 5) }), features },
    risk: { state: fitRisk(docs), features: [] },
  };
  const store = new ModelStore(infra.es, indexNames(prefix), infra.redis, await namespaceOf(infra, prefix));
  const promoted: string[] = [];
  for (const [kind, { state, features: names }] of Object.entries(states) as [ModelKind, { state: unknown; features: string[] }][]) {
    const draft: ModelDraft = {
      kind,
      algorithm: 'bench-fixture',
      parameters: {},
      features: names,
      state,
      quality: {},
      training: { rows: docs.length, source: 'profiles', asOf: new Date().toISOString(), seed: 1, durationMs: 0 },
    };
    const saved = await store.save(draft, Date.now());
    await store.promote(kind, saved.version, Date.now());
    promoted.push(saved.modelId);
  }
  progress(`models: promoted ${promoted.join(', ')} (fitted on ${docs.length} folded profiles in ${Date.now() - started} ms)`);
  return promoted;
}
