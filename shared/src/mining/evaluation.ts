/**
 * How good a binary classifier is on labelled rows: ROC AUC (exact, ties counted half), log-loss, Brier score,
 * a calibration table by deciles of the prediction, a comparison with a baseline, and a seeded hold-out split.
 * Labels are 0 or 1; predictions are probabilities in [0, 1] (AUC accepts any score).
 */

import { z } from 'zod';
import { ValidationError } from '../errors';
import { mulberry32 } from './random';

/** Clipping for log-loss, so one confident mistake costs a large finite amount instead of infinity. */
export const LOG_LOSS_EPSILON = 1e-15;

export const CalibrationBinSchema = z.object({
  /** 0-based, in increasing order of prediction. */
  bin: z.number().int().min(0),
  count: z.number().int().min(0),
  positives: z.number().int().min(0),
  minPredicted: z.number(),
  maxPredicted: z.number(),
  meanPredicted: z.number(),
  observedRate: z.number(),
});
export type CalibrationBin = z.infer<typeof CalibrationBinSchema>;

export const ClassifierEvaluationSchema = z.object({
  count: z.number().int().min(0),
  positives: z.number().int().min(0),
  /** Share of positives: the log-loss of always predicting it is the no-skill reference. */
  positiveRate: z.number(),
  auc: z.number(),
  logLoss: z.number(),
  brier: z.number(),
  calibration: z.array(CalibrationBinSchema),
  /** Expected calibration error: the count-weighted mean of |mean predicted - observed rate| over the bins. */
  calibrationError: z.number(),
});
export type ClassifierEvaluation = z.infer<typeof ClassifierEvaluationSchema>;

export const BaselineComparisonSchema = z.object({
  model: ClassifierEvaluationSchema,
  baseline: ClassifierEvaluationSchema,
  /** model.auc - baseline.auc: positive when the model ranks better. */
  aucGain: z.number(),
  /** baseline.logLoss - model.logLoss: positive when the model's probabilities are better. */
  logLossGain: z.number(),
});
export type BaselineComparison = z.infer<typeof BaselineComparisonSchema>;

export interface HoldoutSplit {
  /** Row indices, ascending. */
  train: number[];
  holdout: number[];
}

/** Counts the rows and the positives, and refuses labels other than 0 and 1 or lengths that differ. */
function checkLabels(labels: ArrayLike<number>, predictions: ArrayLike<number>, what: string): number {
  if (labels.length !== predictions.length) {
    throw new ValidationError(`${what}: ${labels.length} labels but ${predictions.length} predictions`, [
      { path: 'predictions', reason: `must have one value per label (${labels.length})` },
    ]);
  }
  if (labels.length === 0) throw new ValidationError(`${what} needs at least one row`, [{ path: 'labels', reason: 'is empty' }]);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label !== 0 && label !== 1) {
      throw new ValidationError(`${what}: labels must be 0 or 1`, [{ path: `labels.${i}`, reason: `is ${label}, not 0 or 1` }]);
    }
    positives += label;
  }
  return positives;
}

function checkProbability(p: number, i: number, what: string): void {
  if (!(p >= 0 && p <= 1)) {
    throw new ValidationError(`${what}: predictions must be probabilities`, [
      { path: `predictions.${i}`, reason: `is ${p}, not in [0, 1]` },
    ]);
  }
}

/** Row indices ordered by score, ties by index: the one order every function here agrees on. */
function orderByScore(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[a]! - scores[b]! || a - b);
}

/**
 * ROC AUC: the probability that a random positive scores above a random negative, a tie counting one half
 * (Mann-Whitney U over mid-ranks). Exact, O(n log n). Refuses a set with one class only: the AUC is undefined.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const positives = checkLabels(labels, scores, 'ROC AUC');
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new ValidationError(`ROC AUC needs both classes: got ${positives} positives and ${negatives} negatives`, [
      { path: 'labels', reason: `are all ${positives === 0 ? 0 : 1}` },
    ]);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new ValidationError('ROC AUC: a score is NaN', [{ path: `scores.${i}`, reason: 'is NaN' }]);
  }
  const order = orderByScore(scores);
  // Sum of the positives' mid-ranks (1-based); a run of equal scores shares the mean of its ranks.
  let positiveRankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && scores[order[end]!] === scores[order[start]!]) end++;
    const midRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (labels[order[k]!] === 1) positiveRankSum += midRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood of the labels under the predicted probabilities (natural log), clipped. */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  checkLabels(labels, probabilities, 'log-loss');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    checkProbability(p, i, 'log-loss');
    const clipped = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p));
    sum -= labels[i] === 1 ? Math.log(clipped) : Math.log(1 - clipped);
  }
  return sum / labels.length;
}

/** Mean squared difference between probability and label. */
export function brierScore(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  checkLabels(labels, probabilities, 'Brier score');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    checkProbability(p, i, 'Brier score');
    sum += (p - labels[i]!) ** 2;
  }
  return sum / labels.length;
}

/**
 * Calibration by quantiles of the prediction (deciles by default): rows sorted by prediction, cut into `bins`
 * groups of equal count (the first groups one row smaller when it does not divide), each with its mean prediction
 * and observed positive rate. Equal predictions on a cut may fall on both sides of it; the order is by prediction,
 * then row index, so the table is deterministic.
 */
export function calibrationTable(labels: ArrayLike<number>, probabilities: ArrayLike<number>, bins = 10): CalibrationBin[] {
  checkLabels(labels, probabilities, 'calibration');
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  for (let i = 0; i < probabilities.length; i++) checkProbability(probabilities[i]!, i, 'calibration');
  const order = orderByScore(probabilities);
  const n = order.length;
  const table: CalibrationBin[] = [];
  for (let b = 0; b < Math.min(bins, n); b++) {
    const start = Math.floor((b * n) / Math.min(bins, n));
    const end = Math.floor(((b + 1) * n) / Math.min(bins, n));
    let positives = 0;
    let sum = 0;
    for (let k = start; k < end; k++) {
      positives += labels[order[k]!]!;
      sum += probabilities[order[k]!]!;
    }
    const count = end - start;
    table.push({
      bin: b,
      count,
      positives,
      minPredicted: probabilities[order[start]!]!,
      maxPredicted: probabilities[order[end - 1]!]!,
      meanPredicted: sum / count,
      observedRate: positives / count,
    });
  }
  return table;
}

/** Count-weighted mean gap between predicted and observed rate over a calibration table. */
export function calibrationError(table: readonly CalibrationBin[]): number {
  let total = 0;
  let gap = 0;
  for (const row of table) {
    total += row.count;
    gap += row.count * Math.abs(row.meanPredicted - row.observedRate);
  }
  return total === 0 ? 0 : gap / total;
}

/** Every figure at once, for a model's quality record. */
export function evaluateClassifier(labels: ArrayLike<number>, probabilities: ArrayLike<number>, bins = 10): ClassifierEvaluation {
  const positives = checkLabels(labels, probabilities, 'evaluation');
  const calibration = calibrationTable(labels, probabilities, bins);
  return {
    count: labels.length,
    positives,
    positiveRate: positives / labels.length,
    auc: rocAuc(labels, probabilities),
    logLoss: logLoss(labels, probabilities),
    brier: brierScore(labels, probabilities),
    calibration,
    calibrationError: calibrationError(calibration),
  };
}

/** The model's figures beside a baseline's on the same rows (e.g. a recency-only or tenure-only model). */
export function compareToBaseline(
  labels: ArrayLike<number>,
  modelProbabilities: ArrayLike<number>,
  baselineProbabilities: ArrayLike<number>,
  bins = 10,
): BaselineComparison {
  const model = evaluateClassifier(labels, modelProbabilities, bins);
  const baseline = evaluateClassifier(labels, baselineProbabilities, bins);
  return { model, baseline, aucGain: model.auc - baseline.auc, logLossGain: baseline.logLoss - model.logLoss };
}

/** Takes `take` of `indices` at random (partial Fisher-Yates), in place; returns them. */
function sample(indices: number[], take: number, random: () => number): number[] {
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (indices.length - i));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices.slice(0, take);
}

/**
 * A seeded random hold-out of `round(fraction * n)` rows out of `n`: the same arguments give the same split.
 * With `stratify` (one label per row) each class is held out in the same proportion, rounded per class, so
 * a rare class is represented in both parts. Row order carries no time here: a split by time is the caller's.
 */
export function splitHoldout(n: number, fraction: number, seed: number, options: { stratify?: ArrayLike<number> } = {}): HoldoutSplit {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`fraction must be in [0, 1], got ${fraction}`);
  const random = mulberry32(seed);
  const groups = new Map<number, number[]>();
  const { stratify } = options;
  if (stratify !== undefined) {
    if (stratify.length !== n) throw new RangeError(`stratify has ${stratify.length} labels for ${n} rows`);
    for (let i = 0; i < n; i++) {
      const group = groups.get(stratify[i]!);
      if (group === undefined) groups.set(stratify[i]!, [i]);
      else group.push(i);
    }
  } else {
    groups.set(
      0,
      Array.from({ length: n }, (_, i) => i),
    );
  }
  const inHoldout = new Uint8Array(n);
  // Classes in a fixed order, so the random stream is consumed the same way whatever the label order.
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(key)!;
    for (const i of sample(group, Math.round(fraction * group.length), random)) inHoldout[i] = 1;
  }
  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++) (inHoldout[i] === 1 ? holdout : train).push(i);
  return { train, holdout };
}
