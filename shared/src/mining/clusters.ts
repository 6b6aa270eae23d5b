/**
 * Behaviour clusters: k-means on standardized features, k chosen by silhouette, each cluster named after how
 * its centroid differs from the population. Pure and seeded: the same rows and seed give the same model, a
 * plain JSON object that is stored as it is and applied by `assignCluster`.
 *
 * Memory: the rows stay in the caller's one Float64Array and are never copied whole. Distances are taken in
 * standardized units by weighting each column with 1/deviation² instead of standardizing a copy; the search
 * over k runs on a seeded sample of bounded size, and only the chosen k is refined on every row.
 */

import { z } from 'zod';
import { ValidationError } from '../errors';
import { fitStandardizer, selectRows, standardize, StandardizerSchema, type FeatureMatrix, type Standardizer } from './matrix';
import { hashSeed, mulberry32, sampleIndexes, type Rng } from './random';

// Module-level copies of globals used in hot loops: a global lookup is slow inside a vm context (as under jest).
const { sqrt, min } = Math;
const INFINITY = Number.POSITIVE_INFINITY;

export type Scaler = Standardizer;

// ---------------------------------------------------------------------------------------------------------------
// k-means

/** Weighted squared distance between row `i` of `data` and centroid `c` of `centroids` (original units). */
function distance2(data: Float64Array, i: number, centroids: Float64Array, c: number, weights: Float64Array, d: number): number {
  let s = 0;
  const a = i * d;
  const b = c * d;
  for (let j = 0; j < d; j++) {
    const diff = data[a + j]! - centroids[b + j]!;
    s += weights[j]! * diff * diff;
  }
  return s;
}

/**
 * k-means++ seeding, greedy as in scikit-learn: each new centre is the best of 2 + ln k candidates drawn with
 * probability proportional to the squared distance to the nearest centre so far. Null when the rows have fewer
 * than k distinct points.
 */
function seedCentroids(m: FeatureMatrix, k: number, weights: Float64Array, rng: Rng): Float64Array | null {
  const { rows: n, cols: d, values: data } = m;
  const centroids = new Float64Array(k * d);
  const setCentroid = (c: number, i: number) => centroids.set(data.subarray(i * d, i * d + d), c * d);
  setCentroid(0, Math.floor(rng() * n));
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) potential += closest[i] = distance2(data, i, centroids, 0, weights, d);
  const cumulative = new Float64Array(n);
  const candidate = new Float64Array(n);
  const trials = 2 + Math.floor(Math.log(k));
  for (let c = 1; c < k; c++) {
    if (!(potential > 0)) return null;
    let sum = 0;
    for (let i = 0; i < n; i++) cumulative[i] = sum += closest[i]!;
    let bestIndex = -1;
    let bestPotential = INFINITY;
    for (let t = 0; t < trials; t++) {
      const target = rng() * sum;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid]! > target) hi = mid;
        else lo = mid + 1;
      }
      setCentroid(c, lo);
      let p = 0;
      for (let i = 0; i < n; i++) p += min(closest[i]!, distance2(data, i, centroids, c, weights, d));
      if (p < bestPotential) {
        bestPotential = p;
        bestIndex = lo;
      }
    }
    setCentroid(c, bestIndex);
    potential = 0;
    for (let i = 0; i < n; i++) {
      candidate[i] = min(closest[i]!, distance2(data, i, centroids, c, weights, d));
      potential += candidate[i]!;
    }
    closest.set(candidate);
  }
  return centroids;
}

interface Fit {
  k: number;
  /** k x d, original units. */
  centroids: Float64Array;
  assignments: Uint16Array;
  /** Within-cluster sum of squares in standardized units. */
  inertia: number;
  iterations: number;
  converged: boolean;
}

const UNASSIGNED = 0xffff;

/** Lloyd iterations from the given centroids (updated in place) until no row changes cluster. */
function lloyd(m: FeatureMatrix, k: number, centroids: Float64Array, weights: Float64Array, maxIterations: number): Fit {
  const { rows: n, cols: d, values: data } = m;
  const assignments = new Uint16Array(n).fill(UNASSIGNED);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  let inertia = 0;
  let iterations = 0;
  let converged = false;
  const assign = (): number => {
    let changed = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      // The nearest centroid, inlined: training spends its time in this loop.
      let c = 0;
      let dc = INFINITY;
      const a = i * d;
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = data[a + j]! - centroids[b * d + j]!;
          s += weights[j]! * diff * diff;
        }
        if (s < dc) {
          dc = s;
          c = b;
        }
      }
      inertia += dc;
      if (assignments[i] !== c) {
        assignments[i] = c;
        changed++;
      }
    }
    return changed;
  };
  while (iterations < maxIterations) {
    iterations++;
    if (assign() === 0) {
      converged = true;
      break;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assignments[i]!;
      counts[c]!++;
      for (let j = 0; j < d; j++) sums[c * d + j]! += data[i * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // An emptied cluster restarts at the row farthest from its centre, which always lowers the inertia.
        let far = 0;
        let farD = -1;
        for (let i = 0; i < n; i++) {
          const a = assignments[i]!;
          if (counts[a]! <= 1) continue;
          const di = distance2(data, i, centroids, a, weights, d);
          if (di > farD) {
            farD = di;
            far = i;
          }
        }
        const from = assignments[far]!;
        counts[from]!--;
        for (let j = 0; j < d; j++) sums[from * d + j]! -= data[far * d + j]!;
        assignments[far] = c;
        counts[c] = 1;
        for (let j = 0; j < d; j++) sums[c * d + j] = data[far * d + j]!;
      }
    }
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j]! / counts[c]!;
  }
  if (!converged) assign();
  return { k, centroids, assignments, inertia, iterations, converged };
}

/** The best of `restarts` seeded k-means++ runs (lowest inertia); null when the rows have fewer than k distinct points. */
function kmeans(m: FeatureMatrix, k: number, weights: Float64Array, seed: number, restarts: number, maxIterations: number): Fit | null {
  let best: Fit | null = null;
  for (let r = 0; r < restarts; r++) {
    const centroids = seedCentroids(m, k, weights, mulberry32(hashSeed(seed, k, r)));
    if (centroids === null) return null;
    const fit = lloyd(m, k, centroids, weights, maxIterations);
    if (best === null || fit.inertia < best.inertia) best = fit;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Quality

/** How well a partition fits, all distances Euclidean in standardized units. */
export const ClusterQualitySchema = z.object({
  k: z.number().int().positive(),
  /** Mean silhouette on the seeded sample, -1..1, higher is better. */
  silhouette: z.number(),
  /** Davies-Bouldin index, lower is better. */
  daviesBouldin: z.number(),
  /** Within-cluster sum of squared distances to the centroid (the k-means objective). */
  withinSumOfSquares: z.number(),
  /** Between-cluster sum of squares: size-weighted squared distances of the centroids to the population mean. */
  betweenSumOfSquares: z.number(),
  /** Mean distance of a row to its centroid (intra-cluster distance). */
  meanWithinDistance: z.number(),
  /** Mean and smallest distance between two centroids (inter-cluster distance). */
  meanBetweenDistance: z.number(),
  minBetweenDistance: z.number(),
  sizes: z.array(z.number().int().nonnegative()),
});
export type ClusterQuality = z.infer<typeof ClusterQualitySchema>;

function quality(
  m: FeatureMatrix,
  fit: Fit,
  weights: Float64Array,
  means: ArrayLike<number>,
  silhouetteRows: Uint32Array,
  silhouetteLabels: ArrayLike<number>,
): ClusterQuality {
  const { rows: n, cols: d, values: data } = m;
  const { k, centroids, assignments } = fit;
  const sizes = new Array<number>(k).fill(0);
  const spread = new Float64Array(k);
  let within = 0;
  for (let i = 0; i < n; i++) {
    const c = assignments[i]!;
    sizes[c]!++;
    const dist = sqrt(distance2(data, i, centroids, c, weights, d));
    spread[c]! += dist;
    within += dist;
  }
  for (let c = 0; c < k; c++) spread[c] = sizes[c]! > 0 ? spread[c]! / sizes[c]! : 0;
  const centroidDistance = (a: number, b: number) => sqrt(distance2(centroids, a, centroids, b, weights, d));
  let between = 0;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += weights[j]! * (centroids[c * d + j]! - means[j]!) ** 2;
    between += sizes[c]! * s;
  }
  let pairSum = 0;
  let pairMin = INFINITY;
  let db = 0;
  for (let a = 0; a < k; a++) {
    let worst = 0;
    for (let b = 0; b < k; b++) {
      if (a === b) continue;
      const m_ab = centroidDistance(a, b);
      if (b > a) {
        pairSum += m_ab;
        pairMin = min(pairMin, m_ab);
      }
      worst = Math.max(worst, m_ab > 0 ? (spread[a]! + spread[b]!) / m_ab : INFINITY);
    }
    db += worst;
  }
  return {
    k,
    silhouette: silhouette(m, silhouetteRows, silhouetteLabels, k, weights),
    daviesBouldin: db / k,
    withinSumOfSquares: fit.inertia,
    betweenSumOfSquares: between,
    meanWithinDistance: within / n,
    meanBetweenDistance: k > 1 ? pairSum / ((k * (k - 1)) / 2) : 0,
    minBetweenDistance: k > 1 ? pairMin : 0,
    sizes,
  };
}

/** Mean silhouette of the given rows, against each other only (O(rows²), so keep the sample small). */
function silhouette(m: FeatureMatrix, rows: Uint32Array, labels: ArrayLike<number>, k: number, weights: Float64Array): number {
  const { cols: d, values: data } = m;
  const s = rows.length;
  const sums = new Float64Array(s * k);
  const counts = new Float64Array(k);
  for (let a = 0; a < s; a++) {
    counts[labels[a]!]!++;
    for (let b = a + 1; b < s; b++) {
      const dist = sqrt(distance2(data, rows[a]!, data, rows[b]!, weights, d));
      sums[a * k + labels[b]!]! += dist;
      sums[b * k + labels[a]!]! += dist;
    }
  }
  let total = 0;
  for (let a = 0; a < s; a++) {
    const own = labels[a]!;
    if (counts[own]! <= 1) continue; // a singleton's silhouette is 0 by convention
    const inner = sums[a * k + own]! / (counts[own]! - 1);
    let outer = INFINITY;
    for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) outer = min(outer, sums[a * k + c]! / counts[c]!);
    const denominator = Math.max(inner, outer);
    if (Number.isFinite(outer) && denominator > 0) total += (outer - inner) / denominator;
  }
  return s > 0 ? total / s : 0;
}

/**
 * Adjusted Rand index of two labelings of the same items (Hubert & Arabie): 1 for the same partition whatever
 * the label names, about 0 for independent ones, negative for worse than chance.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`labelings of ${a.length} and ${b.length} items`);
  const n = a.length;
  const pairs = (x: number) => (x * (x - 1)) / 2;
  const cells = new Map<string, number>();
  const rowsA = new Map<number, number>();
  const colsB = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]}|${b[i]}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rowsA.set(a[i]!, (rowsA.get(a[i]!) ?? 0) + 1);
    colsB.set(b[i]!, (colsB.get(b[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const count of cells.values()) index += pairs(count);
  let sumA = 0;
  for (const count of rowsA.values()) sumA += pairs(count);
  let sumB = 0;
  for (const count of colsB.values()) sumB += pairs(count);
  const expected = pairs(n) > 0 ? (sumA * sumB) / pairs(n) : 0;
  const max = (sumA + sumB) / 2;
  // Both partitions trivial (all in one, or all apart) and equal: a perfect match, as scikit-learn says.
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

// ---------------------------------------------------------------------------------------------------------------
// Labels

/** How to speak of a feature in a cluster's name, e.g. `{ feature: 'orders', high: 'frequent', low: 'occasional' }`. */
export interface FeaturePhrase {
  feature: string;
  high: string;
  low: string;
}

export const ClusterTraitSchema = z.object({
  feature: z.string(),
  /** Centroid minus population mean, in standard deviations. */
  z: z.number(),
  phrase: z.string(),
});
export type ClusterTrait = z.infer<typeof ClusterTraitSchema>;

export const FeatureSummarySchema = z.object({
  feature: z.string(),
  /** Population mean, and the cluster's mean and median, in original units. */
  populationMean: z.number(),
  mean: z.number(),
  median: z.number(),
  /** The centroid in standard deviations from the population mean. */
  z: z.number(),
});
export type FeatureSummary = z.infer<typeof FeatureSummarySchema>;

export const ClusterLabelSchema = z.object({
  clusterId: z.number().int().nonnegative(),
  /** E.g. "frequent high-spend buyers". */
  label: z.string(),
  size: z.number().int().nonnegative(),
  share: z.number().min(0).max(1),
  /** The features that set the cluster apart (|z| at least the threshold), strongest first. */
  traits: z.array(ClusterTraitSchema),
  summary: z.array(FeatureSummarySchema),
});
export type ClusterLabel = z.infer<typeof ClusterLabelSchema>;

function describe(feature: string, z: number, phrases: ReadonlyMap<string, FeaturePhrase>): string {
  const phrase = phrases.get(feature);
  if (phrase !== undefined) return z > 0 ? phrase.high : phrase.low;
  return `${z > 0 ? 'high' : 'low'} ${feature.replaceAll('_', ' ')}`;
}

/** Names from the strongest traits; a name two clusters would share takes more traits, then the cluster number. */
function nameClusters(traits: ClusterTrait[][], noun: string, maxTraits: number): string[] {
  const name = (t: ClusterTrait[], count: number) =>
    t.length === 0 ? `typical ${noun}` : [...t.slice(0, count).map((x) => x.phrase), noun].join(' ');
  const counts = traits.map(() => maxTraits);
  let names = traits.map((t, c) => name(t, counts[c]!));
  for (let round = 0; round < 8; round++) {
    const seen = new Map<string, number>();
    for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
    let grew = false;
    names = names.map((n, c) => {
      if (seen.get(n)! > 1 && counts[c]! < traits[c]!.length) {
        counts[c]!++;
        grew = true;
        return name(traits[c]!, counts[c]!);
      }
      return n;
    });
    if (!grew) break;
  }
  const seen = new Map<string, number>();
  for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
  return names.map((n, c) => (seen.get(n)! > 1 ? `${n} (cluster ${c})` : n));
}

// ---------------------------------------------------------------------------------------------------------------
// Training and scoring

export interface ClusterOptions {
  /** Column names, in the matrix's order: the model's feature list. */
  features: readonly string[];
  seed: number;
  /** Range of k searched (inclusive); `k` fixes it. Defaults 2..10. */
  kMin?: number;
  kMax?: number;
  k?: number;
  /** k-means++ restarts per k, the lowest inertia kept (default 3). */
  restarts?: number;
  maxIterations?: number;
  /** Rows the search over k runs on (default 20,000); more rows get a seeded sample. */
  searchSampleSize?: number;
  /** Rows the silhouette is measured on, a seeded part of the search sample (default 2,000). */
  silhouetteSampleSize?: number;
  /** Phrases for the cluster names; a feature without one reads "high <feature>" / "low <feature>". */
  phrases?: readonly FeaturePhrase[];
  /** Last word of a cluster name (default "customers"). */
  noun?: string;
  /** |z| from which a feature counts as a trait (default 0.5) and how many traits a name uses (default 2). */
  traitThreshold?: number;
  traitsInName?: number;
}

/** The fitted model: plain JSON, stored as it is and read back with this schema. */
export const ClusterModelSchema = z
  .object({
    kind: z.literal('kmeans'),
    features: z.array(z.string().min(1)).min(1),
    scaler: StandardizerSchema,
    k: z.number().int().positive(),
    /** k rows of standardized coordinates. */
    centroids: z.array(z.array(z.number().finite())),
    quality: z.object({
      /** The chosen k, refined on every training row (silhouette on the seeded sample of them). */
      chosen: ClusterQualitySchema,
      /** Every k searched, on the search sample. */
      candidates: z.array(ClusterQualitySchema),
      /** k values skipped because the rows hold fewer distinct points. */
      skipped: z.array(z.number().int()),
      trainingRows: z.number().int(),
      searchRows: z.number().int(),
      silhouetteRows: z.number().int(),
      iterations: z.number().int(),
      converged: z.boolean(),
      seed: z.number().int(),
    }),
    labels: z.array(ClusterLabelSchema),
  })
  .superRefine((model, ctx) => {
    const d = model.features.length;
    if (model.centroids.length !== model.k)
      ctx.addIssue({ code: 'custom', path: ['centroids'], message: `has ${model.centroids.length} rows for k = ${model.k}` });
    model.centroids.forEach((c, i) => {
      if (c.length !== d) ctx.addIssue({ code: 'custom', path: ['centroids', i], message: `has ${c.length} values for ${d} features` });
    });
    for (const [key, values] of [
      ['means', model.scaler.means],
      ['deviations', model.scaler.deviations],
    ] as const)
      if (values.length !== d)
        ctx.addIssue({ code: 'custom', path: ['scaler', key], message: `has ${values.length} values for ${d} features` });
  });
export type ClusterModel = z.infer<typeof ClusterModelSchema>;

export interface ClusterTraining {
  model: ClusterModel;
  /** The cluster of every training row, in row order. */
  assignments: Uint16Array;
}

/** Picks rows of `m` into a new matrix (the bounded search sample). */
function takeRows(m: FeatureMatrix, rows: Uint32Array): FeatureMatrix {
  return rows.length === m.rows ? m : selectRows(m, rows);
}

/** Trains the cluster model; refuses non-finite values, fewer rows than k + 1 and constant data with a ValidationError. */
export function trainClusters(matrix: FeatureMatrix, options: ClusterOptions): ClusterTraining {
  const features = [...options.features];
  const scaler = fitStandardizer(matrix, features);
  const { rows: n, cols: d } = matrix;
  const kMin = options.k ?? options.kMin ?? 2;
  const kMax = min(options.k ?? options.kMax ?? 10, n - 1);
  if (!Number.isInteger(kMin) || kMin < 1 || kMin > 0xfffe) throw new ValidationError(`k must be an integer from 1, got ${kMin}`, []);
  if (kMax < kMin)
    throw new ValidationError(`${n} rows are too few for ${kMin} clusters: clustering needs at least k + 1 rows`, [
      { path: 'rows', reason: 'too few' },
    ]);
  const weights = Float64Array.from(scaler.deviations, (sd) => (sd === 0 ? 0 : 1 / (sd * sd)));
  if (kMin > 1 && weights.every((w) => w === 0))
    throw new ValidationError('every feature is constant over the rows: there is nothing to cluster on', [
      { path: 'features', reason: 'no variance' },
    ]);
  const seed = options.seed >>> 0;
  const restarts = options.restarts ?? 3;
  const maxIterations = options.maxIterations ?? 100;

  const searchRows = sampleIndexes(n, options.searchSampleSize ?? 20_000, mulberry32(hashSeed(seed, 1)));
  const search = takeRows(matrix, searchRows);
  // Positions in the search sample (and so, through searchRows, in the matrix) of the silhouette rows.
  const silhouetteAt = sampleIndexes(search.rows, options.silhouetteSampleSize ?? 2_000, mulberry32(hashSeed(seed, 2)));

  const candidates: { fit: Fit; quality: ClusterQuality }[] = [];
  const skipped: number[] = [];
  for (let k = kMin; k <= kMax; k++) {
    const fit = kmeans(search, k, weights, seed, restarts, maxIterations);
    if (fit === null) {
      skipped.push(k);
      continue;
    }
    const labels = Array.from(silhouetteAt, (p) => fit.assignments[p]!);
    candidates.push({ fit, quality: quality(search, fit, weights, scaler.means, silhouetteAt, labels) });
  }
  if (candidates.length === 0)
    throw new ValidationError(`the rows hold fewer than ${kMin} distinct points: there is nothing to cluster`, [
      { path: 'rows', reason: 'too few distinct' },
    ]);
  // Highest silhouette; on a tie the smaller k.
  const best = candidates.reduce((a, b) => (b.quality.silhouette > a.quality.silhouette ? b : a));

  let final = best.fit;
  let chosen = best.quality;
  if (search !== matrix) {
    final = lloyd(matrix, best.fit.k, Float64Array.from(best.fit.centroids), weights, maxIterations);
    const silhouetteRows = Uint32Array.from(silhouetteAt, (p) => searchRows[p]!);
    const labels = Array.from(silhouetteRows, (r) => final.assignments[r]!);
    chosen = quality(matrix, final, weights, scaler.means, silhouetteRows, labels);
  }

  const { k, centroids } = final;
  const standardized = Array.from({ length: k }, (_, c) => standardize(scaler, centroids.subarray(c * d, c * d + d)));
  const labels = summarize(matrix, final, scaler, standardized, features, options);
  const model: ClusterModel = {
    kind: 'kmeans',
    features,
    scaler,
    k,
    centroids: standardized,
    quality: {
      chosen,
      candidates: candidates.map((c) => c.quality),
      skipped,
      trainingRows: n,
      searchRows: search.rows,
      silhouetteRows: silhouetteAt.length,
      iterations: final.iterations,
      converged: final.converged,
      seed,
    },
    labels,
  };
  return { model, assignments: final.assignments };
}

/** Sizes, traits, names and per-feature mean and median (exact, one column at a time) of every cluster. */
function summarize(
  m: FeatureMatrix,
  fit: Fit,
  scaler: Scaler,
  standardized: number[][],
  features: string[],
  options: ClusterOptions,
): ClusterLabel[] {
  const { rows: n, cols: d, values: data } = m;
  const { k, assignments, centroids } = fit;
  const sizes = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) sizes[assignments[i]!]!++;
  const offsets = new Array<number>(k).fill(0);
  for (let c = 1; c < k; c++) offsets[c] = offsets[c - 1]! + sizes[c - 1]!;
  const medians = Array.from({ length: k }, () => new Array<number>(d).fill(0));
  const column = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    const fill = [...offsets];
    for (let i = 0; i < n; i++) column[fill[assignments[i]!]!++] = data[i * d + j]!;
    for (let c = 0; c < k; c++) {
      const part = column.subarray(offsets[c]!, offsets[c]! + sizes[c]!).sort();
      const mid = part.length >> 1;
      medians[c]![j] = part.length === 0 ? NaN : part.length % 2 ? part[mid]! : (part[mid - 1]! + part[mid]!) / 2;
    }
  }
  const phrases = new Map((options.phrases ?? []).map((p) => [p.feature, p]));
  const threshold = options.traitThreshold ?? 0.5;
  const traits = standardized.map((z) =>
    z
      .map((zj, j) => ({ feature: features[j]!, z: zj, phrase: describe(features[j]!, zj, phrases) }))
      .filter((t) => Math.abs(t.z) >= threshold)
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z)),
  );
  const names = nameClusters(traits, options.noun ?? 'customers', options.traitsInName ?? 2);
  return standardized.map((z, c) => ({
    clusterId: c,
    label: names[c]!,
    size: sizes[c]!,
    share: sizes[c]! / n,
    traits: traits[c]!,
    summary: features.map((feature, j) => ({
      feature,
      populationMean: scaler.means[j]!,
      mean: centroids[c * d + j]!,
      median: medians[c]![j]!,
      z: z[j]!,
    })),
  }));
}

/** The nearest centroid of a feature vector (in the model's feature order), distance in standardized units. */
export function assignCluster(model: ClusterModel, featureVector: ArrayLike<number>): { clusterId: number; distance: number } {
  if (featureVector.length !== model.features.length)
    throw new ValidationError(
      `the cluster model takes ${model.features.length} features (${model.features.join(', ')}), got ${featureVector.length}`,
      [{ path: 'features', reason: 'length mismatch' }],
    );
  for (let j = 0; j < featureVector.length; j++)
    if (!Number.isFinite(featureVector[j]!))
      throw new ValidationError(`feature "${model.features[j]}" is ${featureVector[j]}: a cluster needs finite numbers`, [
        { path: model.features[j]!, reason: 'not a finite number' },
      ]);
  const z = standardize(model.scaler, featureVector);
  let clusterId = 0;
  let best = INFINITY;
  model.centroids.forEach((centroid, c) => {
    let s = 0;
    for (let j = 0; j < z.length; j++) s += (z[j]! - centroid[j]!) ** 2;
    if (s < best) {
      best = s;
      clusterId = c;
    }
  });
  return { clusterId, distance: sqrt(best) };
}

/** The model's feature vector from named values; a missing feature is refused, naming it. */
export function clusterFeatureVector(model: ClusterModel, values: Readonly<Record<string, number>>): number[] {
  const missing = model.features.filter((f) => !Object.hasOwn(values, f));
  if (missing.length > 0)
    throw new ValidationError(
      `the cluster model needs features it was not given: ${missing.join(', ')}`,
      missing.map((f) => ({ path: f, reason: 'missing' })),
    );
  return model.features.map((f) => values[f]!);
}
