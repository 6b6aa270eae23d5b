import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  adjustedRandIndex,
  assignCluster,
  clusterFeatureVector,
  featureMatrix,
  fitStandardizer,
  parseCsvRecords,
  parseWaChurn,
  standardize,
  trainClusters,
  unstandardize,
  ValidationError,
  WA_CHURN_CLUSTER_FEATURES,
  WA_CHURN_FEATURES,
  WA_CHURN_PHRASES,
  waChurnFeatures,
  type FeatureMatrix,
} from '@portrait/shared';
import { mulberry32, normal, sampleIndexes } from '../../shared/src/mining/random';

/** Gaussian blobs with planted labels: centres drawn in a cube, each blob its own spread. */
function blobs(seed: number, n: number, d: number, k: number): { matrix: FeatureMatrix; truth: number[] } {
  const rng = mulberry32(seed);
  // Centres at least 7 units apart (about 5 spreads), so that the planted k is the right answer.
  const centres: number[][] = [];
  while (centres.length < k) {
    const c = Array.from({ length: d }, () => (rng() * 2 - 1) * 6);
    if (centres.every((o) => Math.hypot(...o.map((x, j) => x - c[j]!)) >= 7)) centres.push(c);
  }
  const spreads = Array.from({ length: k }, () => 0.8 + rng() * 0.6);
  const truth: number[] = [];
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng() * k);
    truth.push(c);
    // Different units per column, as real features have: standardization must undo it.
    rows.push(centres[c]!.map((x, j) => (x + normal(rng) * spreads[c]!) * 10 ** (j % 3)));
  }
  return { matrix: featureMatrix(rows), truth };
}

const names = (d: number) => Array.from({ length: d }, (_, j) => `f${j}`);

describe('adjusted Rand index', () => {
  it('matches known values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714, 9);
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(0.5714285714, 9);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 9);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(0.2424242424, 9);
  });

  it('is 1 for any relabeling of the same partition, and symmetric', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 40, maxLength: 40 }),
        (a, b) => {
          expect(
            adjustedRandIndex(
              a,
              a.map((x) => 7 - x),
            ),
          ).toBeCloseTo(1, 12);
          const b2 = b.slice(0, a.length);
          expect(adjustedRandIndex(a, b2)).toBeCloseTo(adjustedRandIndex(b2, a), 12);
        },
      ),
    );
  });
});

describe('seeded sampling', () => {
  it('draws distinct sorted indexes in range, the same for the same seed', () => {
    const s = sampleIndexes(1000, 100, mulberry32(5));
    expect(new Set(s).size).toBe(100);
    expect([...s].every((x, i) => x < 1000 && (i === 0 || x > s[i - 1]!))).toBe(true);
    expect(sampleIndexes(1000, 100, mulberry32(5))).toEqual(s);
  });
});

describe('standardizer', () => {
  it('stores means and deviations and round-trips a vector', () => {
    const m = featureMatrix([
      [1, 10, 5],
      [3, 30, 5],
      [5, 50, 5],
    ]);
    const scaler = fitStandardizer(m);
    expect(scaler.means).toEqual([3, 30, 5]);
    expect(scaler.deviations[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(scaler.deviations[2]).toBe(0);
    expect(standardize(scaler, [5, 50, 5])[2]).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 2 }), ([a, b]) => {
        const back = unstandardize(scaler, standardize(scaler, [a!, b!, 5]));
        expect(back[0]).toBeCloseTo(a!, 6);
        expect(back[1]).toBeCloseTo(b!, 6);
        expect(back[2]).toBe(5);
      }),
    );
  });

  it('refuses NaN, naming the feature and row', () => {
    const m = featureMatrix([
      [1, 2],
      [3, NaN],
    ]);
    expect(() => fitStandardizer(m, ['orders', 'spend'])).toThrow(ValidationError);
    expect(() => fitStandardizer(m, ['orders', 'spend'])).toThrow(/feature "spend" of row 1 is NaN/);
    expect(() => trainClusters(m, { features: ['orders', 'spend'], seed: 1 })).toThrow(/finite numbers/);
  });
});

describe('k-means clusters on planted blobs', () => {
  const cases = [
    { seed: 11, d: 5, k: 4 },
    { seed: 12, d: 6, k: 5 },
    { seed: 13, d: 8, k: 6 },
  ];

  it.each(cases)('finds the planted k and partition (seed $seed, $d dims, $k clusters): ARI >= 0.9', ({ seed, d, k }) => {
    const { matrix, truth } = blobs(seed, 2400, d, k);
    const { model, assignments } = trainClusters(matrix, { features: names(d), seed: 42, kMax: 9, restarts: 2 });
    expect(model.k).toBe(k);
    expect(adjustedRandIndex(truth, assignments)).toBeGreaterThanOrEqual(0.9);
    expect(model.quality.candidates.map((q) => q.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const chosen = model.quality.candidates.find((q) => q.k === k)!;
    expect(chosen.silhouette).toBe(Math.max(...model.quality.candidates.map((q) => q.silhouette)));
    expect(chosen.daviesBouldin).toBe(Math.min(...model.quality.candidates.map((q) => q.daviesBouldin)));
    expect(model.quality.chosen.minBetweenDistance).toBeGreaterThan(model.quality.chosen.meanWithinDistance);
    expect(model.labels.map((l) => l.size).reduce((a, b) => a + b)).toBe(2400);
  });

  it('refines on every row when the search runs on a sample, and still recovers the blobs', () => {
    const { matrix, truth } = blobs(21, 6000, 5, 4);
    const { model, assignments } = trainClusters(matrix, {
      features: names(5),
      seed: 3,
      kMax: 6,
      searchSampleSize: 1500,
      silhouetteSampleSize: 500,
      restarts: 2,
    });
    expect(model.quality.searchRows).toBe(1500);
    expect(model.quality.silhouetteRows).toBe(500);
    expect(model.quality.trainingRows).toBe(6000);
    expect(model.k).toBe(4);
    expect(adjustedRandIndex(truth, assignments)).toBeGreaterThanOrEqual(0.9);
  });

  it('gives the identical model for the same data and seed, JSON and all', () => {
    const { matrix } = blobs(31, 1500, 5, 4);
    const options = { features: names(5), seed: 9, kMax: 6 };
    const a = trainClusters(matrix, options);
    const b = trainClusters(matrix, options);
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(a.assignments).toEqual(b.assignments);
    expect(JSON.parse(JSON.stringify(a.model))).toEqual(a.model);
  });

  it('assigns a stored model exactly as training did, with the distance to the centroid', () => {
    const { matrix } = blobs(41, 1200, 5, 4);
    const { model, assignments } = trainClusters(matrix, { features: names(5), seed: 2, kMax: 6 });
    const stored = JSON.parse(JSON.stringify(model)) as typeof model;
    for (let i = 0; i < matrix.rows; i += 37) {
      const row = matrix.values.subarray(i * 5, i * 5 + 5);
      const { clusterId, distance } = assignCluster(stored, row);
      expect(clusterId).toBe(assignments[i]);
      expect(distance).toBeGreaterThanOrEqual(0);
    }
    const centre = assignCluster(stored, unstandardize(stored.scaler, stored.centroids[1]!));
    expect(centre).toEqual({ clusterId: 1, distance: expect.closeTo(0, 9) });
    expect(() => assignCluster(stored, [1, 2, 3])).toThrow(/takes 5 features \(f0, f1, f2, f3, f4\), got 3/);
    expect(() => assignCluster(stored, [1, 2, 3, NaN, 5])).toThrow(/"f3" is NaN/);
    expect(() => clusterFeatureVector(stored, { f0: 1, f1: 2 })).toThrow(/not given: f2, f3, f4/);
    expect(clusterFeatureVector(stored, { f4: 5, f3: 4, f2: 3, f1: 2, f0: 1, extra: 9 })).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('cluster labels', () => {
  it('names clusters by how their centroids differ from the population, with summaries in original units', () => {
    const rng = mulberry32(8);
    // Three planted groups over orders, spend and days since the last order.
    const groups = [
      { orders: 20, spend: 900, recency: 20 },
      { orders: 2, spend: 60, recency: 200 },
      { orders: 3, spend: 300, recency: 30 },
    ];
    const rows = Array.from({ length: 900 }, (_, i) => {
      const g = groups[i % 3]!;
      return [g.orders * (1 + 0.1 * normal(rng)), g.spend * (1 + 0.1 * normal(rng)), g.recency * (1 + 0.1 * normal(rng)), 4];
    });
    const { model } = trainClusters(featureMatrix(rows), {
      features: ['orders', 'spend', 'recency', 'constant'],
      seed: 1,
      kMax: 5,
      noun: 'buyers',
      phrases: [
        { feature: 'orders', high: 'frequent', low: 'occasional' },
        { feature: 'spend', high: 'high-spend', low: 'low-spend' },
        { feature: 'recency', high: 'lapsed', low: 'recent' },
      ],
    });
    expect(model.k).toBe(3);
    const byOrders = [...model.labels].sort((a, b) => b.summary[0]!.mean - a.summary[0]!.mean);
    expect(byOrders[0]!.label).toBe('frequent high-spend buyers');
    expect(byOrders[2]!.label).toMatch(/lapsed/);
    expect(byOrders[2]!.label).toMatch(/low-spend/);
    expect(new Set(model.labels.map((l) => l.label)).size).toBe(3);
    for (const l of model.labels) {
      expect(l.size).toBe(300);
      expect(l.share).toBeCloseTo(1 / 3, 9);
      expect(l.traits.every((t) => t.feature !== 'constant')).toBe(true);
      expect(l.summary[3]).toEqual({ feature: 'constant', populationMean: 4, mean: 4, median: 4, z: 0 });
    }
    const frequent = byOrders[0]!.summary;
    expect(frequent[0]!.mean).toBeCloseTo(20, 0);
    expect(frequent[0]!.median).toBeCloseTo(20, 0);
    expect(frequent[1]!.mean).toBeGreaterThan(frequent[1]!.populationMean);
  });
});

describe('degenerate inputs', () => {
  it('refuses fewer rows than k + 1, and clips the k range to the rows there are', () => {
    const two = featureMatrix([
      [1, 2],
      [3, 4],
    ]);
    expect(() => trainClusters(two, { features: ['a', 'b'], seed: 1, kMin: 2 })).toThrow(/2 rows are too few for 2 clusters/);
    const five = featureMatrix([[0], [0.1], [5], [5.1], [10]]);
    const { model } = trainClusters(five, { features: ['a'], seed: 1 });
    expect(model.quality.candidates.map((q) => q.k)).toEqual([2, 3, 4]);
    expect(model.k).toBeGreaterThanOrEqual(2);
  });

  it('refuses constant data, and skips a k the distinct points cannot fill', () => {
    const constant = featureMatrix(Array.from({ length: 10 }, () => [3, 3]));
    expect(() => trainClusters(constant, { features: ['a', 'b'], seed: 1 })).toThrow(/every feature is constant/);
    const threePoints = featureMatrix(Array.from({ length: 30 }, (_, i) => [i % 3, 7]));
    const { model, assignments } = trainClusters(threePoints, { features: ['a', 'b'], seed: 1, kMax: 5 });
    expect(model.k).toBe(3);
    expect(model.quality.skipped).toEqual([4, 5]);
    expect(
      adjustedRandIndex(
        assignments,
        Array.from({ length: 30 }, (_, i) => i % 3),
      ),
    ).toBe(1);
    expect(model.scaler.deviations[1]).toBe(0);
  });
});

describe('wa_churn', () => {
  const csv = readFileSync(path.resolve(__dirname, '../../infra/data/wa_churn.csv'), 'utf8');
  const rows = parseWaChurn(csv);

  it('parses every customer with typed fields', () => {
    expect(rows).toHaveLength(7043);
    expect(rows.filter((r) => r.churn)).toHaveLength(1869);
    expect(rows.filter((r) => r.totalCharges === null).every((r) => r.tenure === 0)).toBe(true);
    expect(rows[1]).toMatchObject({ churn: false, tenure: 34, contract: 'one-year', paymentMethod: 'mailed-check', totalCharges: 1889.5 });
    expect(waChurnFeatures(rows[1]!)).toHaveLength(WA_CHURN_FEATURES.length);
    expect(waChurnFeatures(rows[1]!, ['tenure', 'contract', 'services', 'automatic_payment', 'pay_mailed_check'])).toEqual([
      34, 1, 4, 0, 1,
    ]);
  });

  it('refuses a value it does not know, naming line and column', () => {
    const bad = csv.split('\n').slice(0, 3).join('\n').replace('"One year"', '"Three years"');
    expect(() => parseWaChurn(bad)).toThrow(/line 3: "Three years" is not a valid contract/);
    expect(parseCsvRecords('a,"b ""c"", d"\r\n\r\n1,2\n')).toEqual([
      ['a', 'b "c", d'],
      ['1', '2'],
    ]);
  });

  // Seed 1 gives k = 5 with churn rates from 1.4 % (long-contract, low-paying) to 56 % (fiber, month-to-month):
  // a spread of 0.55. The threshold of 0.4 leaves room for another seed yet fails if the clusters stop separating.
  it('clusters customers so that churn rates differ across clusters by at least 0.4', () => {
    const matrix = featureMatrix(rows.map((r) => waChurnFeatures(r, WA_CHURN_CLUSTER_FEATURES)));
    const { model, assignments } = trainClusters(matrix, {
      features: WA_CHURN_CLUSTER_FEATURES,
      seed: 1,
      kMax: 8,
      phrases: WA_CHURN_PHRASES,
    });
    const churners = new Array<number>(model.k).fill(0);
    rows.forEach((r, i) => (churners[assignments[i]!]! += Number(r.churn)));
    const rates = model.labels.map((l) => churners[l.clusterId]! / l.size);
    expect(model.k).toBeGreaterThanOrEqual(3);
    expect(model.quality.chosen.silhouette).toBeGreaterThan(0.35);
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThanOrEqual(0.4);
  });
});
