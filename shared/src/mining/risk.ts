import { z } from 'zod';
import { ValidationError } from '../errors';
import { DAY_MS, dayKey, startOfDay } from '../profile/time';
import type { ProfileDoc } from '../profile/types';
import { parseOrThrow } from '../validation';
import { PROFILE_FEATURES, profileFeatures, type ProfileFeature } from './features';
import { fitStandardizer, StandardizerSchema, type Standardizer } from './matrix';
import { hashSeed, mulberry32 } from './random';
import { quantile } from './rfm';
import { RISK_LEVELS, RISK_SIGNALS, type RiskLevel, type RiskSignal } from './risk-vocabulary';

export { RISK_LEVELS, RISK_SIGNALS, type RiskLevel, type RiskSignal };

/**
 * Risk: how likely a profile is an abuser's (fraud, abusive reviews), the signals that say so, and how unusual
 * the profile is among all. The population thresholds are the model: fitted on the profiles, stored as plain
 * JSON and applied to each profile as it changes.
 *
 * Rules (the numbers are the defaults of `RiskOptionsSchema` and `RISK_SIGNAL_RULES`):
 * - Signals (`RISK_SIGNALS`) are numbers read off one profile by `riskSignals`; `RISK_SIGNAL_RULES` says what
 *   each measures, its floor and its weight. Per-day signals look at the last 90 days, `cart_abuse` at the 90-day
 *   counts, the others at what the profile's state has kept.
 * - A signal's threshold is the larger of its floor and the population's 0.99 quantile of it (over every profile):
 *   it fires only on the population's top values, and a small or quiet population does not make ordinary
 *   behaviour suspect. The thresholds are fitted twice, the second time without the profiles the first ones flag,
 *   so that many abusers sharing one abuse do not lift its quantile over themselves.
 * - A signal fires when its value reaches its threshold; `order_amount_outlier` also needs the largest order to
 *   reach the buyers' 0.99 quantile of largest orders. A fired signal's strength is value / threshold, at most 3.
 * - Score: 1 − 2^−(sum of weight × strength over the fired signals), rounded to 4 digits: one signal of weight 1
 *   at its threshold scores 0.5. Alone, `payment_methods` (0.5) flags from twice its threshold, while
 *   `extreme_ratings` (0.5, a share that cannot pass 1) and `order_amount_outlier` (0.3) never flag on their own.
 * - Level: `high`, and flagged, from a score of 0.5; `medium` from 0.25; `low` below.
 * - Reasons: the fired signals, largest weight × strength first (the order of `RISK_SIGNALS` breaks ties).
 * - Anomaly: each of `PROFILE_FEATURES` as log(1 + x), standardized with the population's means and deviations
 *   and clamped to ±10; their root mean square, divided by the population's 0.99 quantile of it. 1 is as unusual
 *   as the most unusual 1 % of the population the model was fitted on. Reported beside the score, not in it.
 * - Fitted on a seeded uniform sample of at most `maxSample` (200,000) profiles, every profile when fewer: the
 *   same profiles in the same order with the same options give the same model.
 */

export interface RiskSignalRule {
  /** One line for the README. */
  description: string;
  /** The threshold is never below this, whatever the population. */
  floor: number;
  /** Weight of the signal's strength in the score. */
  weight: number;
}

/** Reviews a profile needs before the share of extreme ratings says anything. */
export const MIN_RATINGS_FOR_EXTREMES = 5;

export const RISK_SIGNAL_RULES: Record<RiskSignal, RiskSignalRule> = {
  review_burst: { description: 'most reviews written in one day', floor: 3, weight: 1 },
  duplicate_reviews: {
    description: 'reviews repeating an earlier review text of the user (copy-paste; case, spacing and punctuation ignored)',
    floor: 3,
    weight: 1,
  },
  extreme_ratings: {
    description: `share of 1- and 5-star ratings, once the user has rated ${MIN_RATINGS_FOR_EXTREMES} times (0 before)`,
    floor: 0.9,
    weight: 0.5,
  },
  purchase_velocity: { description: 'most orders placed in one day', floor: 4, weight: 1 },
  payment_methods: { description: 'distinct payment methods used', floor: 5, weight: 0.5 },
  order_amount_outlier: {
    description:
      "the largest order against the user's other orders, in their deviations (at least half their mean), from 3 orders in the base currency",
    floor: 6,
    weight: 0.3,
  },
  cart_abuse: { description: 'removals from the cart per order (plus one)', floor: 8, weight: 1 },
};

/** Signal values are clamped to this, so one absurd count cannot make arithmetic overflow. */
const MAX_SIGNAL = 1e9;
/** Standardized features are clamped to ±this in the anomaly distance. */
const MAX_Z = 10;
/** The anomaly reference distance is at least this, so a population of near-identical profiles still divides safely. */
const MIN_REFERENCE = 0.1;
const WINDOW_DAYS = 90;

const perSignal = <S extends z.ZodType>(schema: S) =>
  z.strictObject(Object.fromEntries(RISK_SIGNALS.map((s) => [s, schema])) as Record<RiskSignal, S>);
const partialPerSignal = <S extends z.ZodType>(schema: S) =>
  z.strictObject(Object.fromEntries(RISK_SIGNALS.map((s) => [s, schema.optional()])) as Record<RiskSignal, z.ZodOptional<S>>);
const Fraction = z.number().gt(0).lt(1);

export const RiskOptionsSchema = z
  .strictObject({
    /** Population quantile a threshold is taken at (when above the floor). */
    quantile: Fraction.default(0.99),
    /** Floors instead of `RISK_SIGNAL_RULES`' ones. */
    floors: partialPerSignal(z.number().positive().finite()).default({}),
    /** Weights instead of `RISK_SIGNAL_RULES`' ones; 0 turns a signal off. */
    weights: partialPerSignal(z.number().min(0).max(10)).default({}),
    flagThreshold: Fraction.default(0.5),
    mediumThreshold: Fraction.default(0.25),
    /** Largest strength (value / threshold) a signal counts with. */
    strengthCap: z.number().min(1).max(100).default(3),
    /** Quantile of the population's anomaly distance that anomaly 1 stands for. */
    anomalyQuantile: Fraction.default(0.99),
    /** Profiles the model is fitted on at most (a seeded uniform sample of them beyond). */
    maxSample: z.number().int().min(100).max(10_000_000).default(200_000),
    seed: z.number().int().default(1),
  })
  .refine((o) => o.mediumThreshold <= o.flagThreshold, {
    message: 'mediumThreshold must not exceed flagThreshold',
    path: ['mediumThreshold'],
  });
export type RiskOptions = z.input<typeof RiskOptionsSchema>;

export const RiskSignalModelSchema = z.strictObject({
  floor: z.number().positive(),
  /** The population's quantile of the signal. */
  population: z.number().min(0),
  /** max(floor, population). */
  threshold: z.number().positive(),
  weight: z.number().min(0),
  /** Share of the fitted profiles it fires on. */
  firedShare: z.number().min(0).max(1),
});

/** The fitted state: plain JSON, stored as a model version and read back with `parseRiskModel`. */
export const RiskModelSchema = z
  .strictObject({
    algorithm: z.literal('risk-signals'),
    parameters: z.strictObject({
      quantile: Fraction,
      flagThreshold: Fraction,
      mediumThreshold: Fraction,
      strengthCap: z.number().min(1),
      anomalyQuantile: Fraction,
      maxSample: z.number().int().positive(),
      seed: z.number().int(),
    }),
    /** Profiles seen, and how many of them the model was fitted on. */
    profiles: z.number().int().positive(),
    sampled: z.number().int().positive(),
    signals: perSignal(RiskSignalModelSchema),
    /** The population's quantile of buyers' largest orders (base currency): `order_amount_outlier` fires only from it. */
    largeOrder: z.number().min(0),
    anomaly: z.strictObject({
      features: z.array(z.enum(PROFILE_FEATURES)).min(1),
      /** Of log(1 + feature). */
      standardizer: StandardizerSchema,
      /** The distance anomaly 1 stands for. */
      reference: z.number().positive(),
    }),
    /** Share of the fitted profiles flagged. */
    flaggedShare: z.number().min(0).max(1),
  })
  .refine(
    (m) =>
      m.anomaly.standardizer.means.length === m.anomaly.features.length &&
      m.anomaly.standardizer.deviations.length === m.anomaly.features.length,
    { message: 'the standardizer must have one mean and one deviation per feature', path: ['anomaly', 'standardizer'] },
  );
export type RiskModel = z.infer<typeof RiskModelSchema>;

export interface RiskScore {
  /** 0..1, 4 digits. */
  score: number;
  level: RiskLevel;
  flagged: boolean;
  /** Fired signals, strongest first. */
  reasons: RiskSignal[];
  /** 1 = the fitted population's 0.99 quantile of unusualness; 3 digits. */
  anomaly: number;
}

export function parseRiskModel(raw: unknown): RiskModel {
  return parseOrThrow(RiskModelSchema, raw, 'risk model');
}

/** A finite count >= 0, clamped; anything else (a corrupt stored value) counts as 0. */
const clean = (value: unknown): number => (typeof value === 'number' && value > 0 ? Math.min(value, MAX_SIGNAL) : 0);

/** The signal values of one profile (see `RISK_SIGNAL_RULES`); every value is finite and >= 0. */
export function riskSignals(doc: ProfileDoc): Record<RiskSignal, number> {
  const state = doc.state;
  const derivedAt = Date.parse(doc.derivedAt);
  const oldestDay = Number.isFinite(derivedAt) ? dayKey(startOfDay(derivedAt) - (WINDOW_DAYS - 1) * DAY_MS) : '';
  let reviewsInADay = 0;
  let ordersInADay = 0;
  for (const [day, counts] of Object.entries(state.days)) {
    if (day < oldestDay) continue;
    reviewsInADay = Math.max(reviewsInADay, clean(counts.review));
    ordersInADay = Math.max(ordersInADay, clean(counts.purchase));
  }

  let repeats = 0;
  for (const entry of Object.values(state.reviews.texts ?? {})) repeats += Math.max(0, clean(entry[0]) - 1);

  const ratings = (state.reviews.ratings ?? []).map(clean);
  const rated = ratings.reduce((sum, n) => sum + n, 0);
  const extremes = rated >= MIN_RATINGS_FOR_EXTREMES ? Math.min(1, ((ratings[0] ?? 0) + (ratings[4] ?? 0)) / rated) : 0;

  const counts = doc.behavior.counts;
  const d90 = (type: keyof typeof counts): number => clean(counts[type]?.d90);

  return {
    review_burst: reviewsInADay,
    duplicate_reviews: Math.min(repeats, MAX_SIGNAL),
    extreme_ratings: extremes,
    purchase_velocity: ordersInADay,
    payment_methods: clean(doc.purchases.paymentMethods.length),
    order_amount_outlier: amountOutlier(state.orders.amounts),
    cart_abuse: Math.min(MAX_SIGNAL, d90('remove_from_cart') / (1 + d90('purchase'))),
  };
}

/** How far the largest order lies above the mean of the others, in their deviations (at least half their mean, at least 1). */
function amountOutlier(amounts: ProfileDoc['state']['orders']['amounts']): number {
  if (amounts === undefined) return 0;
  const count = clean(amounts.count);
  if (count < 3) return 0;
  const max = clean(amounts.max);
  const others = count - 1;
  const mean = Math.max(0, (clean(amounts.sum) - max) / others);
  const variance = Math.max(0, (clean(amounts.sumSquares) - max * max) / others - mean * mean);
  const spread = Math.max(Math.sqrt(variance), mean / 2, 1);
  const z = (max - mean) / spread;
  return Number.isFinite(z) ? Math.min(MAX_SIGNAL, Math.max(0, z)) : 0;
}

const largestOrder = (doc: ProfileDoc): number => clean(doc.state.orders.amounts?.max);

/** log(1 + x) of each feature: counts and amounts are heavy-tailed, and the logarithm keeps a huge one finite and modest. */
function anomalyInput(
  doc: ProfileDoc,
  features: readonly ProfileFeature[],
  out: Float64Array,
  offset: number,
  known?: Readonly<Record<ProfileFeature, number>>,
): void {
  const values = known ?? profileFeatures(doc);
  for (let j = 0; j < features.length; j++) out[offset + j] = Math.log1p(clean(values[features[j]!]));
}

function anomalyDistance(standardizer: Standardizer, values: ArrayLike<number>, offset: number): number {
  const d = standardizer.means.length;
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const deviation = standardizer.deviations[j]!;
    if (!(deviation > 0)) continue;
    const z = Math.min(MAX_Z, Math.abs((values[offset + j]! - standardizer.means[j]!) / deviation));
    sum += Number.isFinite(z) ? z * z : MAX_Z * MAX_Z;
  }
  return Math.sqrt(sum / d);
}

/** Rows kept for fitting, grown by doubling up to the sample size. */
class Reservoir {
  rows = 0;
  values: Float64Array;
  constructor(
    readonly cols: number,
    private readonly capacity: number,
  ) {
    this.values = new Float64Array(Math.min(capacity, 1024) * cols);
  }
  /** Where the next row goes: appended while there is room, then replacing a random row or nowhere (-1). */
  slot(seen: number, random: () => number): number {
    if (this.rows < this.capacity) {
      if ((this.rows + 1) * this.cols > this.values.length) {
        const grown = new Float64Array(Math.min(this.capacity, this.rows * 2) * this.cols);
        grown.set(this.values);
        this.values = grown;
      }
      return this.rows++;
    }
    const j = Math.floor(random() * seen);
    return j < this.capacity ? j : -1;
  }
}

/**
 * Fits thresholds and the anomaly reference on the population. `docs` may be any iterable, read once; memory is
 * one Float64Array of at most `maxSample` rows of signals and features. Throws ValidationError on bad options or
 * no profiles. For an asynchronous walk (the profile index, a page at a time), use `RiskFitter`.
 */
export function fitRisk(docs: Iterable<ProfileDoc>, options: RiskOptions = {}): RiskModel {
  const fitter = new RiskFitter(options);
  for (const doc of docs) fitter.add(doc);
  return fitter.fit();
}

/** `fitRisk` a profile at a time: `add` each (only its signals and features are kept), then `fit`. */
export class RiskFitter {
  private readonly parameters: z.output<typeof RiskOptionsSchema>;
  private readonly features: ProfileFeature[] = [...PROFILE_FEATURES];
  private readonly sample: Reservoir;
  private readonly random: () => number;
  private seen = 0;

  constructor(options: RiskOptions = {}) {
    this.parameters = parseOrThrow(RiskOptionsSchema, options, 'risk model options');
    // A row: the signals, the largest order, then the log features.
    this.sample = new Reservoir(RISK_SIGNALS.length + 1 + this.features.length, this.parameters.maxSample);
    this.random = mulberry32(hashSeed(this.parameters.seed, 0x5a5a));
  }

  add(doc: ProfileDoc): void {
    const s = RISK_SIGNALS.length;
    const cols = this.sample.cols;
    this.seen++;
    const row = this.sample.slot(this.seen, this.random);
    if (row < 0) return;
    const base = row * cols;
    const signals = riskSignals(doc);
    RISK_SIGNALS.forEach((name, k) => (this.sample.values[base + k] = signals[name]));
    this.sample.values[base + s] = largestOrder(doc);
    anomalyInput(doc, this.features, this.sample.values, base + s + 1);
  }

  fit(): RiskModel {
    return fitSample(this.sample, this.seen, this.features, this.parameters);
  }
}

function fitSample(sample: Reservoir, seen: number, features: ProfileFeature[], parameters: z.output<typeof RiskOptionsSchema>): RiskModel {
  const s = RISK_SIGNALS.length;
  const f = features.length;
  const cols = sample.cols;
  if (seen === 0)
    throw new ValidationError('no profiles to fit the risk model on', [{ path: 'profiles', reason: 'fit on at least one profile' }]);
  const n = sample.rows;
  const { values } = sample;

  // Quantiles over the rows not excluded: the first fit uses every row, the second leaves out what the first flags.
  const excluded = new Uint8Array(n);
  const column = (k: number, positiveOnly = false): Float64Array => {
    const out = new Float64Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i * cols + k]!;
      if (excluded[i] === 0 && (!positiveOnly || v > 0)) out[m++] = v;
    }
    return out.subarray(0, m).sort();
  };
  const signals = {} as RiskModel['signals'];
  let largeOrder = 0;
  const fitThresholds = (): void => {
    RISK_SIGNALS.forEach((name, k) => {
      const floor = parameters.floors[name] ?? RISK_SIGNAL_RULES[name].floor;
      const population = quantile(column(k), parameters.quantile);
      signals[name] = {
        floor,
        population,
        threshold: Math.max(floor, population),
        weight: parameters.weights[name] ?? RISK_SIGNAL_RULES[name].weight,
        firedShare: 0,
      };
    });
    const buyersLargest = column(s, true);
    largeOrder = buyersLargest.length === 0 ? 0 : quantile(buyersLargest, parameters.quantile);
  };
  const rowSignals = {} as Record<RiskSignal, number>;
  const scoreRow = (i: number) => {
    RISK_SIGNALS.forEach((name, k) => (rowSignals[name] = values[i * cols + k]!));
    return combine(signals, largeOrder, parameters.strengthCap, rowSignals, values[i * cols + s]!);
  };
  fitThresholds();
  // Abusers are part of the population: where many share one abuse, they lift its quantile over themselves. The
  // second fit leaves out the profiles the first flags (unless that is every profile).
  let kept = n;
  for (let i = 0; i < n; i++) {
    if (scoreRow(i).score >= parameters.flagThreshold) {
      excluded[i] = 1;
      kept--;
    }
  }
  if (kept < n && kept > 0) fitThresholds();

  const logFeatures = new Float64Array(n * f);
  for (let i = 0; i < n; i++) logFeatures.set(values.subarray(i * cols + s + 1, (i + 1) * cols), i * f);
  const standardizer = fitStandardizer({ rows: n, cols: f, values: logFeatures }, features);
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) distances[i] = anomalyDistance(standardizer, logFeatures, i * f);
  distances.sort();
  const reference = Math.max(MIN_REFERENCE, quantile(distances, parameters.anomalyQuantile));

  const { quantile: q, flagThreshold, mediumThreshold, strengthCap, anomalyQuantile, maxSample, seed } = parameters;
  const model: RiskModel = {
    algorithm: 'risk-signals',
    parameters: { quantile: q, flagThreshold, mediumThreshold, strengthCap, anomalyQuantile, maxSample, seed },
    profiles: seen,
    sampled: n,
    signals,
    largeOrder,
    anomaly: { features, standardizer, reference },
    flaggedShare: 0,
  };
  const fired = new Float64Array(s);
  let flagged = 0;
  for (let i = 0; i < n; i++) {
    const { score, reasons } = scoreRow(i);
    for (const reason of reasons) fired[RISK_SIGNALS.indexOf(reason)]!++;
    if (score >= flagThreshold) flagged++;
  }
  RISK_SIGNALS.forEach((name, k) => (signals[name].firedShare = fired[k]! / n));
  model.flaggedShare = flagged / n;
  return model;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The score and the fired signals, strongest first, from signal values and the largest order. */
function combine(
  signals: RiskModel['signals'],
  largeOrder: number,
  strengthCap: number,
  values: Record<RiskSignal, number>,
  largest: number,
): { score: number; reasons: RiskSignal[] } {
  const fired: { name: RiskSignal; contribution: number; rank: number }[] = [];
  let sum = 0;
  RISK_SIGNALS.forEach((name, rank) => {
    const signal = signals[name];
    const strength = values[name] / signal.threshold;
    if (!(strength >= 1) || signal.weight === 0) return;
    if (name === 'order_amount_outlier' && largest < largeOrder) return;
    const contribution = signal.weight * Math.min(strengthCap, strength);
    sum += contribution;
    fired.push({ name, contribution, rank });
  });
  fired.sort((a, b) => b.contribution - a.contribution || a.rank - b.rank);
  return { score: round(1 - 2 ** -sum, 4), reasons: fired.map((r) => r.name) };
}

/** Scores one profile with a fitted model (see the rules above); never NaN, whatever the profile holds. */
export function scoreRisk(
  model: RiskModel,
  doc: ProfileDoc,
  /** The profile's features when the caller has them already (scoring several models reads them once). */
  features?: Readonly<Record<ProfileFeature, number>>,
): RiskScore {
  const { score, reasons } = combine(model.signals, model.largeOrder, model.parameters.strengthCap, riskSignals(doc), largestOrder(doc));
  const { flagThreshold, mediumThreshold } = model.parameters;
  const level: RiskLevel = score >= flagThreshold ? 'high' : score >= mediumThreshold ? 'medium' : 'low';
  const input = new Float64Array(model.anomaly.features.length);
  anomalyInput(doc, model.anomaly.features, input, 0, features);
  const anomaly = round(anomalyDistance(model.anomaly.standardizer, input, 0) / model.anomaly.reference, 3);
  return { score, level, flagged: level === 'high', reasons, anomaly };
}
