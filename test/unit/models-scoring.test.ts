import fc from 'fast-check';
import {
  DEFAULT_PROFILE_OPTIONS as OPTS,
  PROFILE_FEATURES,
  ProfileInput,
  ValidationError,
  applyScores,
  assertProfileFeatures,
  categoryFeature,
  deriveProfile,
  featureMatrix,
  fitRfm,
  foldEvents,
  parseModelState,
  prepareModels,
  rfmInput,
  scoreProfile,
  trainClusters,
  trainLogistic,
  unknownFeatures,
  type ModelDoc,
  type ProfileDoc,
  type QueuedEvent,
} from '@portrait/shared';
import { queued } from '../support/events';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 86_400_000;
const at = (daysAgo: number): string => new Date(NOW - daysAgo * DAY).toISOString();
const profile = (userId: string, events: QueuedEvent[]) =>
  deriveProfile(userId, foldEvents(undefined, events, NOW, OPTS).state, NOW, NOW, OPTS);

const order = (daysAgo: number, amount: number, category = 'Shoes') =>
  queued({
    type: 'purchase',
    timestamp: at(daysAgo),
    order: {
      orderId: `o-${daysAgo}-${amount}`,
      currency: 'EUR',
      amount,
      paymentMethod: 'card',
      lines: [{ itemId: 'i1', quantity: 1, unitPrice: amount, category: [category] }],
    },
  });

/** Buyers with spend and recency that differ, and browsers. */
const population: ProfileDoc[] = Array.from({ length: 40 }, (_, i) =>
  profile(
    `u${i}`,
    i < 8
      ? [queued({ type: 'page_view', timestamp: at(i + 1), itemId: 'i1', category: ['Garden'] })]
      : Array.from({ length: 1 + (i % 4) }, (__, n) => order(((i * 3) % 60) + n * 5, 20 + i * 10, i % 2 ? 'Shoes' : 'Books')),
  ),
);

const FEATURES = ['recency_days', 'orders', 'total_spend', categoryFeature('Shoes')];
const vectors = population.map((doc) => new ProfileInput(doc).vector(FEATURES));
const rfm = fitRfm(population.map(rfmInput));
const clusters = trainClusters(featureMatrix(vectors), { features: FEATURES, seed: 7, kMin: 2, kMax: 3 }).model;
const purchase = trainLogistic({
  features: FEATURES,
  x: featureMatrix(vectors),
  y: Float64Array.from(population, (doc) => (doc.purchases.orders >= 2 ? 1 : 0)),
});

const doc = (kind: ModelDoc['kind'], version: number, state: unknown, extra: Partial<ModelDoc> = {}): ModelDoc => ({
  modelId: `${kind}-v${version}`,
  kind,
  version,
  status: 'active',
  algorithm: 'test',
  parameters: {},
  features: [],
  quality: {},
  training: { rows: 40, source: 'profiles', asOf: at(0), seed: 1, durationMs: 1 },
  createdAt: at(1),
  promotedAt: at(0),
  state: JSON.parse(JSON.stringify(state)),
  ...extra,
});

const stored = [doc('rfm', 1, rfm), doc('clusters', 2, clusters), doc('purchase', 3, purchase)];

describe('scoring a profile with the active models', () => {
  const { models, invalid } = prepareModels(stored);

  it('reads every stored state back through its schema, after a JSON round trip', () => {
    expect(invalid).toEqual([]);
    expect(models.rfm?.version).toBe(1);
    expect(models.clusters?.state.k).toBe(clusters.k);
    expect(parseModelState('purchase', JSON.parse(JSON.stringify(purchase)))).toEqual(purchase);
  });

  it('writes tier, RFM, cluster and propensity, and the version of each model', () => {
    const buyer = population[39]!;
    const scores = scoreProfile(buyer, models);
    expect(scores.value?.tier).toMatch(/^(high|medium|low)$/);
    expect(scores.rfm?.code).toMatch(/^[1-5]{3}$/);
    expect(scores.cluster?.label).toBe(clusters.labels[scores.cluster!.id]!.label);
    expect(scores.propensity?.purchase).toBeGreaterThanOrEqual(0);
    expect(scores.propensity?.purchase).toBeLessThanOrEqual(1);
    expect(scores.models).toEqual({ rfm: 1, clusters: 2, purchase: 3 });
    expect(scoreProfile(population[0]!, models).rfm).toEqual({ group: 'prospect' });
  });

  it('is deterministic: the same profile and models give the same scores', () => {
    for (const p of population) expect(scoreProfile(p, models)).toEqual(scoreProfile(structuredClone(p), prepareModels(stored).models));
  });

  it('keeps what a kind without a usable active version wrote before, and drops nothing else', () => {
    const previous = applyScores(structuredClone(population[20]!), models);
    const onlyRfm = prepareModels([stored[0]!]).models;
    const rescored = applyScores(structuredClone(population[20]!), onlyRfm, previous);
    expect(rescored.cluster).toEqual(previous.cluster);
    expect(rescored.propensity).toEqual(previous.propensity);
    expect(rescored.models).toEqual({ rfm: 1, clusters: 2, purchase: 3 });
    expect(applyScores(structuredClone(population[20]!), {}).models).toBeUndefined();
  });

  it('picks the latest promoted of two active versions, and reports one it cannot use', () => {
    const newer = doc('rfm', 4, rfm, { promotedAt: at(-1) });
    expect(prepareModels([...stored, newer]).models.rfm?.version).toBe(4);
    const broken = doc(
      'purchase',
      5,
      { ...purchase, features: ['loyalty_points'], weights: [1], scaler: { means: [0], deviations: [1] } },
      { promotedAt: at(-1) },
    );
    const set = prepareModels([...stored, broken]);
    expect(set.models.purchase).toBeUndefined();
    expect(set.invalid).toEqual([{ modelId: 'purchase-v5', reason: expect.stringContaining('loyalty_points') }]);
    const malformed = prepareModels([doc('clusters', 6, { kind: 'kmeans', k: 2 }, { promotedAt: at(-1) })]);
    expect(malformed.invalid[0]!.reason).toContain('malformed');
  });
});

describe('model features', () => {
  it('accepts profile features and category shares, and names what it refuses', () => {
    expect(unknownFeatures([...PROFILE_FEATURES, 'category:Shoes', 'category:__proto__'])).toEqual([]);
    expect(unknownFeatures(['category:', 'loyalty_points', 'constructor'])).toEqual(['category:', 'loyalty_points', 'constructor']);
    expect(() => assertProfileFeatures(['loyalty_points'])).toThrow(ValidationError);
  });

  it('reads finite numbers from any folded profile, category names included', () => {
    const hostile = fc.constantFrom('__proto__', 'constructor', 'toString', '\uD800', 'a\uDC00b', 'x'.repeat(500), 'Shoes');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1e9, noNaN: true }), hostile), { maxLength: 6 }),
        hostile,
        (orders, category) => {
          const p = profile(
            'h',
            orders.map(([d, amount, c], n) => ({ ...order(d, amount, c), eventId: `e${n}` })),
          );
          const names = [...PROFILE_FEATURES, categoryFeature(category)];
          const vector = new ProfileInput(p).vector(names);
          expect(vector).toHaveLength(names.length);
          for (const v of vector) expect(Number.isFinite(v)).toBe(true);
          const scores = scoreProfile(p, prepareModels(stored).models);
          for (const v of [scores.cluster!.distance, scores.propensity!.purchase!]) expect(Number.isFinite(v)).toBe(true);
        },
      ),
    );
  });
});
