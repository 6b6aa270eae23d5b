/**
 * Propensity benchmark: churn on `infra/data/wa_churn.csv` (30 % held out, stratified, fixed seed) with the
 * hold-out AUC, log-loss and calibration table beside a tenure-only baseline, then the training time of the
 * same logistic regression on synthetic rows (1,000,000 x 20 by default). Prints one JSON document.
 *
 *   node --import tsx bench/mining-propensity.ts [--rows 1000000] [--features 20]
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  rocAuc,
  trainLogistic,
  parseWaChurn,
  waChurnPropensityRows,
  trainWithHoldout,
  predictProbaMatrix,
  type FeatureMatrix,
  type LabelledRows,
} from '@portrait/shared';
import { mulberry32, normal } from './prng';

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

const rows = argument('rows', 1_000_000);
const cols = argument('features', 20);
const result = { waChurn: waChurn(), synthetic: large(rows, cols), peakRssMb: peakRssMb() };
console.log(JSON.stringify(result, null, 2));
