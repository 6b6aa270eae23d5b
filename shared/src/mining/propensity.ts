/**
 * Propensity: L2-regularized logistic regression on standardized features, fitted by Newton's method (IRLS)
 * with step halving, so the same rows give the same model bit for bit. The fitted model is plain JSON (feature
 * names, scaler, weights, intercept, quality figures): stored with a version, then applied by `predictProba`.
 *
 * Objective: mean log-loss + (l2 / 2) * |weights|^2 over standardized features; the intercept is not penalized.
 * Each Newton step costs one pass over the rows and O(d^2) memory, so a million rows of 20 features fit in a
 * few passes without a copy of the data.
 */

import { z } from 'zod';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../validation';
import { BaselineComparisonSchema, compareToBaseline, splitHoldout } from './evaluation';
import { fitStandardizer, selectColumns, selectRows, StandardizerSchema, type FeatureMatrix, type Standardizer } from './matrix';

export * from './evaluation';

/** Labelled training rows: one name per column, one 0/1 label per row. */
export interface LabelledRows {
  features: readonly string[];
  x: FeatureMatrix;
  y: ArrayLike<number>;
}

export interface LogisticOptions {
  /** Ridge penalty on the standardized weights; > 0 keeps collinear features (one-hot groups) solvable. */
  l2?: number;
  /** Newton steps at most; each is one pass over the rows. */
  maxIterations?: number;
  /** Converged when no coefficient moves more than this in a step. */
  tolerance?: number;
}

export const DEFAULT_LOGISTIC_OPTIONS: Required<LogisticOptions> = { l2: 1e-4, maxIterations: 50, tolerance: 1e-8 };

/**
 * Means and (population) standard deviations per feature. A constant feature keeps deviation 0 and standardizes
 * to 0, so it carries no weight instead of dividing by zero.
 */

export const LogisticQualitySchema = z.object({
  /** Training rows and positives among them. */
  rows: z.number().int().min(0),
  positives: z.number().int().min(0),
  l2: z.number(),
  iterations: z.number().int().min(0),
  converged: z.boolean(),
  /** Mean log-loss on the training rows (optimistic: see `holdout`). */
  trainLogLoss: z.number(),
  /** Figures on rows the model did not see, beside a baseline model, when trained by `trainWithHoldout`. */
  holdout: z
    .object({
      fraction: z.number(),
      seed: z.number().int(),
      stratified: z.boolean(),
      baselineFeatures: z.array(z.string()),
      comparison: BaselineComparisonSchema,
    })
    .optional(),
  /**
   * Figures of a split by time, when trained by `trainTimeSplit`: a model fitted on the features as of
   * `trainCutoff` with labels from the horizon after it, scored on the features as of `evalCutoff` with labels
   * from the horizon after that, beside a baseline fitted the same way. The model carrying this record was then
   * refitted on the evaluation rows (the most recent complete window), so `rows` above are `evalRows`.
   */
  timeSplit: z
    .object({
      trainCutoff: z.iso.datetime(),
      evalCutoff: z.iso.datetime(),
      horizonDays: z.number().positive(),
      trainRows: z.number().int().min(0),
      trainPositives: z.number().int().min(0),
      evalRows: z.number().int().min(0),
      evalPositives: z.number().int().min(0),
      baselineFeatures: z.array(z.string()),
      comparison: BaselineComparisonSchema,
    })
    .optional(),
});
export type LogisticQuality = z.infer<typeof LogisticQualitySchema>;

export const LogisticModelSchema = z
  .object({
    kind: z.literal('logistic-regression'),
    features: z.array(z.string().min(1)).min(1),
    scaler: StandardizerSchema,
    /** One per feature, on the standardized scale. */
    weights: z.array(z.number()),
    intercept: z.number(),
    quality: LogisticQualitySchema,
  })
  .superRefine((model, ctx) => {
    const d = model.features.length;
    for (const [path, length] of [
      [['weights'], model.weights.length],
      [['scaler', 'means'], model.scaler.means.length],
      [['scaler', 'deviations'], model.scaler.deviations.length],
    ] as const) {
      if (length !== d) ctx.addIssue({ code: 'custom', path: [...path], message: `has ${length} values for ${d} features` });
    }
  });
export type LogisticModel = z.infer<typeof LogisticModelSchema>;

/** A stored model, checked: every array has one value per feature. */
export function parseLogisticModel(raw: unknown): LogisticModel {
  return parseOrThrow(LogisticModelSchema, raw, 'logistic regression model');
}

function sigmoid(t: number): number {
  if (t >= 0) return 1 / (1 + Math.exp(-t));
  const e = Math.exp(t);
  return e / (1 + e);
}

/** log(1 + e^t) without overflow. */
function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/** Solves `a * s = b` for a symmetric positive definite `a` (n x n, row-major) by Cholesky; undefined when `a` is not. */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(sum > 0)) return undefined;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j]!;
      }
    }
  }
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * n + k]! * s[k]!;
    s[i] = sum / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = s[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * s[k]!;
    s[i] = sum / l[i * n + i]!;
  }
  return s;
}

interface Pass {
  objective: number;
  logLoss: number;
  gradient: Float64Array;
  hessian: Float64Array;
}

/**
 * One pass over the rows at coefficients `beta` (d standardized weights, then the intercept): the objective,
 * its gradient and its Hessian. Sums run in row order, so the result is the same on every run.
 */
function pass(x: FeatureMatrix, y: ArrayLike<number>, scaler: Standardizer, beta: Float64Array, l2: number): Pass {
  const d = x.cols;
  const m = d + 1;
  const z = new Float64Array(m);
  z[d] = 1;
  const gradient = new Float64Array(m);
  const hessian = new Float64Array(m * m);
  let loss = 0;
  for (let i = 0; i < x.rows; i++) {
    let eta = beta[d]!;
    for (let j = 0; j < d; j++) {
      const deviation = scaler.deviations[j]!;
      z[j] = deviation > 0 ? (x.values[i * d + j]! - scaler.means[j]!) / deviation : 0;
      eta += beta[j]! * z[j]!;
    }
    const label = y[i]!;
    loss += softplus(eta) - label * eta;
    const p = sigmoid(eta);
    const residual = p - label;
    const weight = p * (1 - p);
    for (let j = 0; j < m; j++) {
      gradient[j]! += residual * z[j]!;
      const wz = weight * z[j]!;
      for (let k = 0; k <= j; k++) hessian[j * m + k]! += wz * z[k]!;
    }
  }
  const n = x.rows;
  let penalty = 0;
  for (let j = 0; j < m; j++) {
    gradient[j] = gradient[j]! / n + (j < d ? l2 * beta[j]! : 0);
    for (let k = 0; k <= j; k++) {
      const h = hessian[j * m + k]! / n + (j === k && j < d ? l2 : 0);
      hessian[j * m + k] = h;
      hessian[k * m + j] = h;
    }
    if (j < d) penalty += beta[j]! ** 2;
  }
  return { objective: loss / n + (l2 / 2) * penalty, logLoss: loss / n, gradient, hessian };
}

function checkRows(data: LabelledRows): number {
  const { features, x, y } = data;
  if (features.length !== x.cols) {
    throw new ValidationError(`${features.length} feature names for ${x.cols} columns`, [
      { path: 'features', reason: `must name each of the ${x.cols} columns` },
    ]);
  }
  if (new Set(features).size !== features.length)
    throw new ValidationError('feature names repeat', [{ path: 'features', reason: 'must be unique' }]);
  if (x.values.length !== x.rows * x.cols) throw new RangeError(`matrix holds ${x.values.length} values, not ${x.rows} x ${x.cols}`);
  if (y.length !== x.rows)
    throw new ValidationError(`${y.length} labels for ${x.rows} rows`, [{ path: 'y', reason: 'must have one label per row' }]);
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new ValidationError('labels must be 0 or 1', [{ path: `y.${i}`, reason: `is ${y[i]}` }]);
    positives += y[i]!;
  }
  if (positives === 0 || positives === x.rows) {
    throw new ValidationError(`training needs both classes: got ${positives} positives and ${x.rows - positives} negatives`, [
      { path: 'y', reason: x.rows === 0 ? 'is empty' : `is all ${positives === 0 ? 0 : 1}` },
    ]);
  }
  for (let k = 0; k < x.values.length; k++) {
    if (!Number.isFinite(x.values[k]!)) {
      const row = Math.floor(k / x.cols);
      throw new ValidationError('features must be finite numbers', [
        { path: `x.${row}.${features[k % x.cols]}`, reason: `is ${x.values[k]}` },
      ]);
    }
  }
  return positives;
}

/** Fits the model on all the rows given. Throws a ValidationError on one-class labels or non-finite features. */
export function trainLogistic(data: LabelledRows, options: LogisticOptions = {}): LogisticModel {
  const { l2, maxIterations, tolerance } = { ...DEFAULT_LOGISTIC_OPTIONS, ...options };
  if (!(l2 >= 0)) throw new RangeError(`l2 must be >= 0, got ${l2}`);
  const positives = checkRows(data);
  const { x, y, features } = data;
  const d = x.cols;
  const scaler = fitStandardizer(x);
  // Start from the base rate: the intercept alone is already the best constant model.
  let beta = new Float64Array(d + 1);
  beta[d] = Math.log(positives / (x.rows - positives));
  let current = pass(x, y, scaler, beta, l2);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    iterations++;
    const step = solveSpd(current.hessian, current.gradient, d + 1);
    if (step === undefined) {
      throw new ValidationError('the features are collinear or the classes separate perfectly: no unique fit', [
        { path: 'l2', reason: `is ${l2}; a positive ridge penalty (e.g. 1e-4) makes the fit unique` },
      ]);
    }
    // Newton's step, halved until the objective does not increase (it always does for a convex objective near the optimum).
    let scale = 1;
    let accepted = false;
    while (scale > 1e-10) {
      const candidate = beta.map((b, j) => b - scale * step[j]!);
      const next = pass(x, y, scaler, candidate, l2);
      if (next.objective <= current.objective) {
        beta = candidate;
        current = next;
        accepted = true;
        break;
      }
      scale /= 2;
    }
    let largest = 0;
    for (let j = 0; j <= d; j++) largest = Math.max(largest, Math.abs(scale * step[j]!));
    converged = !accepted || largest < tolerance;
  }
  return {
    kind: 'logistic-regression',
    features: [...features],
    scaler,
    weights: Array.from(beta.subarray(0, d)),
    intercept: beta[d]!,
    quality: { rows: x.rows, positives, l2, iterations, converged, trainLogLoss: current.logLoss },
  };
}

/** P(label = 1) for one feature vector in the model's feature order (original units). */
export function predictProba(model: LogisticModel, vector: ArrayLike<number>): number {
  const { weights, scaler } = model;
  if (vector.length !== weights.length) {
    throw new ValidationError(`the model takes ${weights.length} features, got ${vector.length}`, [
      { path: 'features', reason: `must be ${model.features.join(', ')}` },
    ]);
  }
  let eta = model.intercept;
  for (let j = 0; j < weights.length; j++) {
    const deviation = scaler.deviations[j]!;
    if (deviation > 0) eta += (weights[j]! * (vector[j]! - scaler.means[j]!)) / deviation;
  }
  return sigmoid(eta);
}

/** P(label = 1) for every row of a matrix whose columns are the model's features. */
export function predictProbaMatrix(model: LogisticModel, x: FeatureMatrix): Float64Array {
  if (x.cols !== model.features.length) {
    throw new ValidationError(`the model takes ${model.features.length} features, got ${x.cols} columns`, [
      { path: 'features', reason: `must be ${model.features.join(', ')}` },
    ]);
  }
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = predictProba(model, x.values.subarray(i * x.cols, (i + 1) * x.cols));
  return out;
}

/**
 * The model's feature vector from named values (a profile's features). A name the model needs and the record
 * lacks, or a value that is not a finite number, is refused with every such name listed: a model trained on
 * other features must not score silently.
 */
export function featureVector(model: LogisticModel, record: Readonly<Record<string, number | undefined>>): number[] {
  const issues = model.features.flatMap((name) => {
    const value = record[name];
    if (value === undefined) return [{ path: name, reason: 'is required by the model and missing' }];
    if (!Number.isFinite(value)) return [{ path: name, reason: `is ${value}, not a finite number` }];
    return [];
  });
  if (issues.length > 0) throw new ValidationError('the features do not match the model', issues);
  return model.features.map((name) => record[name]!);
}

export interface HoldoutOptions extends LogisticOptions {
  /** Share of rows held out for evaluation. */
  fraction: number;
  seed: number;
  /** Hold out the same share of each class (default true). */
  stratified?: boolean;
  /** Features of the baseline model (e.g. recency only), fitted the same way on the same training rows. */
  baselineFeatures: readonly string[];
  /** Calibration bins (default 10: deciles). */
  bins?: number;
}

export interface HoldoutResult {
  /** Fitted on the training rows, with the hold-out figures in `quality.holdout`. */
  model: LogisticModel;
  baseline: LogisticModel;
  split: { train: number; holdout: number };
}

/**
 * Splits the rows with a seed, fits the model and a baseline on the training part, and evaluates both on the
 * held-out part: what a training job stores. Row order carries no time: for a split by time, pass the earlier
 * rows to `trainLogistic` and evaluate on the later ones with `compareToBaseline`.
 */
export function trainWithHoldout(data: LabelledRows, options: HoldoutOptions): HoldoutResult {
  const { fraction, seed, stratified = true, baselineFeatures, bins = 10, ...fit } = options;
  const baselineColumns = baselineFeatures.map((name) => {
    const column = data.features.indexOf(name);
    if (column < 0)
      throw new ValidationError(`baseline feature ${name} is not a feature`, [{ path: 'baselineFeatures', reason: `${name} is unknown` }]);
    return column;
  });
  if (baselineColumns.length === 0)
    throw new ValidationError('the baseline needs a feature', [{ path: 'baselineFeatures', reason: 'is empty' }]);
  const split = splitHoldout(data.x.rows, fraction, seed, stratified ? { stratify: data.y } : {});
  const labels = (indices: number[]) => Float64Array.from(indices, (i) => data.y[i]!);
  const trainX = selectRows(data.x, split.train);
  const holdoutX = selectRows(data.x, split.holdout);
  const trainY = labels(split.train);
  const holdoutY = labels(split.holdout);
  const model = trainLogistic({ features: data.features, x: trainX, y: trainY }, fit);
  const baseline = trainLogistic({ features: baselineFeatures, x: selectColumns(trainX, baselineColumns), y: trainY }, fit);
  const comparison = compareToBaseline(
    holdoutY,
    predictProbaMatrix(model, holdoutX),
    predictProbaMatrix(baseline, selectColumns(holdoutX, baselineColumns)),
    bins,
  );
  model.quality.holdout = { fraction, seed, stratified, baselineFeatures: [...baselineFeatures], comparison };
  return { model, baseline, split: { train: split.train.length, holdout: split.holdout.length } };
}
