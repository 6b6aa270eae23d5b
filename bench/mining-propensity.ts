/**
 * Propensity benchmark: churn on `infra/data/wa_churn.csv` (30 % held out, stratified, fixed seed) with the
 * hold-out AUC, log-loss and calibration table beside a tenure-only baseline; the training time of the same
 * logistic regression on synthetic rows (1,000,000 x 20 by default); and the purchase and churn propensities
 * with labels from later behaviour on a synthetic shop (20,000 users, 180 days by default), split by time at the
 * end of its history, beside recency-only baselines. Prints one JSON document.
 *
 *   node --import tsx bench/mining-propensity.ts [--rows 1000000] [--features 20]
 *     [--shop-users 20000] [--shop-events 1000000] [--shop-days 180] [--shop-seed 20260801]
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PROFILE_FEATURES,
  PROPENSITY_FEATURES,
  TimeSplitRows,
  rocAuc,
  selectFeatures,
  timeSplitCutoffs,
  trainLogistic,
  trainTimeSplit,
  parseWaChurn,
  waChurnPropensityRows,
  trainWithHoldout,
  predictProbaMatrix,
  type CalibrationBin,
  type ClassifierEvaluation,
  type FeatureMatrix,
  type LabelledRows,
  type PropensityTarget,
  type TimeSplitRowSet,
} from '@portrait/shared';
import { mulberry32, normal } from './prng';
import { shopHistories } from './shop-history';
import { SyntheticShop } from './synthetic-shop';

const SEED = 20_260_801;
const HOLDOUT = 0.3;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));
const rssMb = (): number => round(process.memoryUsage().rss / 1048576, 1);
const peakRssMb = (): number => round(process.resourceUsage().maxRSS / 1024, 1);

function waChurn() {
  const data = waChurnPropensityRows(parseWaChurn(readFileSync(join(__dirname, '../infra/data/wa_churn.csv'), 'utf8')));
  const started = performance.now();
  const { model, split } = trainWithHoldout(data, { fraction: HOLDOUT, seed: SEED, stratified: true, baselineFeatures: ['tenure'] });
  const ms = performance.now() - started;
  const { comparison } = model.quality.holdout!;
  const figures = (e: typeof comparison.model) => ({
    auc: round(e.auc),
    logLoss: round(e.logLoss),
    brier: round(e.brier),
    calibrationError: round(e.calibrationError),
  });
  return {
    rows: data.x.rows,
    features: data.features.length,
    split,
    holdoutChurnRate: round(comparison.model.positiveRate),
    trainAndEvaluateMs: round(ms, 1),
    iterations: model.quality.iterations,
    converged: model.quality.converged,
    model: figures(comparison.model),
    baselineTenureOnly: figures(comparison.baseline),
    aucGain: round(comparison.aucGain),
    calibration: comparison.model.calibration.map((bin) => ({
      bin: bin.bin,
      count: bin.count,
      meanPredicted: round(bin.meanPredicted),
      observedRate: round(bin.observedRate),
    })),
  };
}

/** Rows of standard normal features, labels drawn from a logistic model with planted weights. */
function synthetic(rows: number, cols: number, seed: number): LabelledRows & { weights: number[] } {
  const rng = mulberry32(seed);
  const weights = Array.from({ length: cols }, (_, j) => (j % 2 === 0 ? 1 : -1) * (0.2 + (j % 5) * 0.2));
  const x: FeatureMatrix = { rows, cols, values: new Float64Array(rows * cols) };
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let eta = -1;
    for (let j = 0; j < cols; j++) {
      const value = normal(rng);
      x.values[i * cols + j] = value;
      eta += weights[j]! * value;
    }
    y[i] = rng() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  return { features: weights.map((_, j) => `x${j}`), x, y, weights };
}

function large(rows: number, cols: number) {
  const data = synthetic(rows, cols, SEED);
  const rssAfterData = rssMb();
  const started = performance.now();
  const model = trainLogistic(data);
  const trainMs = performance.now() - started;
  const scoreStarted = performance.now();
  const probabilities = predictProbaMatrix(model, data.x);
  const scoreMs = performance.now() - scoreStarted;
  // Weights on the original scale, to compare with the planted ones (features are standard normal, so close to it).
  const recovered = model.weights.map((w, j) => w / model.scaler.deviations[j]!);
  const maxWeightError = Math.max(...recovered.map((w, j) => Math.abs(w - data.weights[j]!)));
  return {
    rows,
    features: cols,
    trainMs: round(trainMs, 1),
    iterations: model.quality.iterations,
    scoreMs: round(scoreMs, 1),
    scoreNsPerRow: round((scoreMs * 1e6) / rows, 1),
    trainAuc: round(rocAuc(data.y, probabilities)),
    maxWeightError: round(maxWeightError),
    rssAfterDataMb: rssAfterData,
  };
}

const DAY_MS = 86_400_000;
const SHOP_START_MS = Date.UTC(2026, 0, 1);

/** Hanley & McNeil's standard error of an AUC: the scale of a difference that is more than noise. */
function aucStandardError(auc: number, positives: number, negatives: number): number {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  return Math.sqrt((auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives));
}

const figures = (e: ClassifierEvaluation) => ({
  auc: round(e.auc),
  aucStandardError: round(aucStandardError(e.auc, e.positives, e.count - e.positives)),
  logLoss: round(e.logLoss),
  brier: round(e.brier),
  calibrationError: round(e.calibrationError),
});
const table = (bins: readonly CalibrationBin[]) =>
  bins.map((bin) => ({ bin: bin.bin, count: bin.count, meanPredicted: round(bin.meanPredicted), observedRate: round(bin.observedRate) }));
/** The log-loss of predicting the base rate for everyone: what a model must beat to know anything. */
const noSkillLogLoss = (rate: number): number => round(-(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate)));

function propensity(split: TimeSplitRowSet, target: PropensityTarget) {
  const started = performance.now();
  const { comparison, rows, model, evaluated } = trainTimeSplit(split, target);
  const ms = performance.now() - started;
  const rate = (r: { rows: number; positives: number }) => ({ ...r, positiveRate: round(r.positives / r.rows) });
  const strongest = evaluated.features
    .map((feature, j) => ({ feature, weight: round(evaluated.weights[j]!, 3) }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || (a.feature < b.feature ? -1 : 1))
    .slice(0, 6);
  return {
    train: { ...rate(rows.train), cutoff: new Date(rows.train.cutoff).toISOString() },
    evaluate: { ...rate(rows.evaluate), cutoff: new Date(rows.evaluate.cutoff).toISOString() },
    trainAndEvaluateMs: round(ms, 1),
    noSkillLogLoss: noSkillLogLoss(comparison.model.positiveRate),
    model: figures(comparison.model),
    baselineRecencyOnly: { feature: model.quality.timeSplit!.baselineFeatures[0], ...figures(comparison.baseline) },
    aucGain: round(comparison.aucGain),
    logLossGain: round(comparison.logLossGain),
    strongestWeights: strongest,
    calibration: table(comparison.model.calibration),
    baselineCalibration: table(comparison.baseline.calibration),
  };
}

function shopPropensity(users: number, events: number, days: number, seed: number) {
  const endMs = SHOP_START_MS + days * DAY_MS;
  const shop = new SyntheticShop({ seed, users, items: 5000, startMs: SHOP_START_MS, endMs });
  const historyStarted = performance.now();
  const history = shopHistories(shop, events);
  const historySeconds = (performance.now() - historyStarted) / 1000;
  const rssAfterHistory = rssMb();
  const rowsStarted = performance.now();
  // Built with every profile feature once, to compare the default set with all of them on the same rows.
  const builder = new TimeSplitRows({ cutoffs: timeSplitCutoffs(endMs), features: PROFILE_FEATURES });
  for (const [userId, userEvents] of history.users) builder.addUser(userId, userEvents);
  const all = builder.result();
  const rowsSeconds = (performance.now() - rowsStarted) / 1000;
  const split = selectFeatures(all, PROPENSITY_FEATURES);
  const replayed = history.events - history.notReplayed;
  const brief = (target: PropensityTarget) => {
    const { comparison } = trainTimeSplit(all, target);
    return {
      auc: round(comparison.model.auc),
      aucGain: round(comparison.aucGain),
      logLoss: round(comparison.model.logLoss),
      logLossGain: round(comparison.logLossGain),
      calibrationError: round(comparison.model.calibrationError),
    };
  };
  return {
    shop: {
      seed,
      users,
      days,
      start: new Date(SHOP_START_MS).toISOString(),
      end: new Date(endMs).toISOString(),
      lastEventAt: new Date(history.lastEventMs).toISOString(),
      events: history.events,
      purchases: shop.stats.purchases,
      usersWithEvents: history.users.length,
    },
    replay: {
      path: 'EventSchema -> toQueued -> toEventDoc -> JSON _source -> eventFromDoc, grouped per user in user id order',
      replayedEvents: replayed,
      attributeUpdatesNotReplayed: history.notReplayed,
      historySeconds: round(historySeconds, 1),
      rssAfterHistoryMb: rssAfterHistory,
      rowsSeconds: round(rowsSeconds, 1),
      foldMicrosecondsPerUserAndCutoff: round((rowsSeconds * 1e6) / (history.users.length * split.cutoffs.length), 1),
    },
    horizonDays: split.horizonDays,
    activeDays: split.activeDays,
    features: split.features,
    purchase: propensity(split, 'purchase'),
    churn: propensity(split, 'churn'),
    /** The same split with tenure_days and orders_per_month too (every profile feature). */
    allProfileFeatures: { purchase: brief('purchase'), churn: brief('churn') },
    notes: [
      'users differ only in a fixed activity weight (log-normal) and sessions arrive as one Poisson stream, so each ' +
        "user's sessions are a Poisson process at a constant rate, and a session's chance of a purchase does not depend on the user",
      'both labels are functions of that one rate: the counts of the last 90 days estimate it better than a single recency ' +
        '(most profiles never bought, so recency_days is mostly the never value), hence the AUC gain over the baseline',
      'nobody leaves or ramps up in this shop: a churned profile had a quiet month by chance, which caps what any model can reach',
      'tenure here is days since the first session after the shop opened, so it grows with the cutoff: with it the model is ' +
        'better at ranking and worse in level one window later (allProfileFeatures); the default features leave it out',
    ],
  };
}

const rows = argument('rows', 1_000_000);
const cols = argument('features', 20);
const shopUsers = argument('shop-users', 20_000);
const result = {
  waChurn: waChurn(),
  synthetic: large(rows, cols),
  syntheticShop:
    shopUsers > 0
      ? shopPropensity(shopUsers, argument('shop-events', 1_000_000), argument('shop-days', 180), argument('shop-seed', SEED))
      : undefined,
  peakRssMb: peakRssMb(),
};
console.log(JSON.stringify(result, null, 2));
