/**
 * k-means cluster training: time and peak RSS on synthetic profile feature rows (200,000 and 1,000,000 by
 * default; `--sizes 200000,1000000`), and the quality figures on wa_churn. Prints one JSON document.
 *
 *   node --import tsx bench/mining-clusters.ts [--sizes 200000,1000000] [--seed 1]
 *
 * The synthetic rows are what profile features look like (recency, frequency, monetary, average order value,
 * category shares, views per order, discount share) drawn from six planted personas, so the adjusted Rand index
 * against the personas is reported too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  adjustedRandIndex,
  parseWaChurn,
  trainClusters,
  WA_CHURN_CLUSTER_FEATURES,
  WA_CHURN_PHRASES,
  waChurnFeatures,
  type FeatureMatrix,
} from '@portrait/shared';
import { logNormal, mulberry32, normal } from './prng';

const FEATURES = [
  'recency_days',
  'orders',
  'monetary',
  'avg_order_value',
  'electronics_share',
  'fashion_share',
  'views_per_order',
  'discount_share',
];
const PHRASES = [
  { feature: 'recency_days', high: 'lapsed', low: 'recent' },
  { feature: 'orders', high: 'frequent', low: 'occasional' },
  { feature: 'monetary', high: 'high-spend', low: 'low-spend' },
  { feature: 'avg_order_value', high: 'big-basket', low: 'small-basket' },
  { feature: 'electronics_share', high: 'electronics', low: 'non-electronics' },
  { feature: 'fashion_share', high: 'fashion', low: 'non-fashion' },
  { feature: 'views_per_order', high: 'browsing', low: 'decisive' },
  { feature: 'discount_share', high: 'bargain-hunting', low: 'full-price' },
];
/** recency median (days), orders median, AOV median, electronics share, fashion share, views per order, discount share. */
const PERSONAS = [
  [5, 25, 80, 0.6, 0.1, 4, 0.1],
  [200, 2, 40, 0.1, 0.3, 15, 0.7],
  [20, 8, 300, 0.8, 0.05, 8, 0.05],
  [60, 4, 50, 0.05, 0.8, 20, 0.3],
  [10, 12, 35, 0.2, 0.2, 3, 0.8],
  [120, 1, 500, 0.4, 0.4, 30, 0.0],
];

function syntheticProfiles(n: number, seed: number): { matrix: FeatureMatrix; truth: Uint8Array } {
  const rng = mulberry32(seed);
  const d = FEATURES.length;
  const data = new Float64Array(n * d);
  const truth = new Uint8Array(n);
  const share = (p: number) => Math.min(1, Math.max(0, p + 0.08 * normal(rng)));
  for (let i = 0; i < n; i++) {
    const p = Math.floor(rng() * PERSONAS.length);
    truth[i] = p;
    const [recency, orders, aov, electronics, fashion, views, discount] = PERSONAS[p]!;
    const o = Math.max(1, Math.round(logNormal(rng, orders!, 0.3)));
    const a = logNormal(rng, aov!, 0.25);
    data.set(
      [logNormal(rng, recency!, 0.3), o, o * a, a, share(electronics!), share(fashion!), logNormal(rng, views!, 0.3), share(discount!)],
      i * d,
    );
  }
  return { matrix: { rows: n, cols: d, values: data }, truth };
}

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
function measure<T>(run: () => T): { result: T; seconds: number; peakRssMiB: number; rssBeforeMiB: number } {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  peakRss = before;
  const start = process.hrtime.bigint();
  const result = run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // The timer cannot fire during the synchronous run: read once more at its end.
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { result, seconds: round(seconds, 2), peakRssMiB: mib(peakRss), rssBeforeMiB: mib(before) };
}

const seed = Number(arg('seed', '1'));
const sizes = arg('sizes', '200000,1000000').split(',').map(Number);

const synthetic = sizes.map((n) => {
  const { matrix, truth } = syntheticProfiles(n, seed);
  const { result, seconds, peakRssMiB, rssBeforeMiB } = measure(() =>
    trainClusters(matrix, { features: FEATURES, seed, phrases: PHRASES, noun: 'shoppers' }),
  );
  const { model, assignments } = result;
  return {
    rows: n,
    features: FEATURES.length,
    inputMiB: mib(matrix.values.byteLength),
    seconds,
    rssBeforeMiB,
    peakRssMiB,
    k: model.k,
    plantedK: PERSONAS.length,
    adjustedRandIndex: round(adjustedRandIndex(truth, assignments)),
    silhouette: round(model.quality.chosen.silhouette),
    daviesBouldin: round(model.quality.chosen.daviesBouldin),
    iterations: model.quality.iterations,
    candidates: model.quality.candidates.map((q) => ({ k: q.k, silhouette: round(q.silhouette), daviesBouldin: round(q.daviesBouldin) })),
    labels: model.labels.map((l) => `${l.label} (${l.size})`),
  };
});

const waRows = parseWaChurn(readFileSync(path.resolve(__dirname, '../infra/data/wa_churn.csv'), 'utf8'));
const waMatrix: FeatureMatrix = {
  rows: waRows.length,
  cols: WA_CHURN_CLUSTER_FEATURES.length,
  values: Float64Array.from(waRows.flatMap((r) => waChurnFeatures(r, WA_CHURN_CLUSTER_FEATURES))),
};
const wa = measure(() => trainClusters(waMatrix, { features: WA_CHURN_CLUSTER_FEATURES, seed, kMax: 8, phrases: WA_CHURN_PHRASES }));
const churners = new Array<number>(wa.result.model.k).fill(0);
waRows.forEach((r, i) => (churners[wa.result.assignments[i]!]! += Number(r.churn)));
const waModel = wa.result.model;
clearInterval(sampler);

console.log(
  JSON.stringify(
    {
      seed,
      synthetic,
      waChurn: {
        rows: waRows.length,
        features: WA_CHURN_CLUSTER_FEATURES,
        seconds: wa.seconds,
        k: waModel.k,
        silhouette: round(waModel.quality.chosen.silhouette),
        daviesBouldin: round(waModel.quality.chosen.daviesBouldin),
        meanWithinDistance: round(waModel.quality.chosen.meanWithinDistance),
        meanBetweenDistance: round(waModel.quality.chosen.meanBetweenDistance),
        populationChurnRate: round(waRows.filter((r) => r.churn).length / waRows.length),
        candidates: waModel.quality.candidates.map((q) => ({
          k: q.k,
          silhouette: round(q.silhouette),
          daviesBouldin: round(q.daviesBouldin),
        })),
        clusters: waModel.labels.map((l) => ({
          id: l.clusterId,
          label: l.label,
          size: l.size,
          churnRate: round(churners[l.clusterId]! / l.size),
          means: Object.fromEntries(l.summary.map((s) => [s.feature, round(s.mean, 1)])),
          medians: Object.fromEntries(l.summary.map((s) => [s.feature, round(s.median, 1)])),
        })),
      },
    },
    null,
    2,
  ),
);
