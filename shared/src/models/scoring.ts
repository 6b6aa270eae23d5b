import { ValidationError } from '../errors';
import { assignCluster } from '../mining/clusters';
import { predictProba } from '../mining/propensity';
import { scoreRisk } from '../mining/risk';
import { scoreRfm } from '../mining/rfm';
import { rfmInput } from '../mining/features';
import type { ProfileDoc } from '../profile/types';
import { parseModelState, type ModelDoc, type ModelStates } from './document';
import { assertProfileFeatures, ProfileInput } from './inputs';
import { SCORED_MODEL_KINDS, type ScoredModelKind } from './kinds';
import type { ProfileScores } from './scores';

/**
 * Scoring: the active models applied to one profile, a pure function of the profile and the models. The
 * indexer calls it in the same conditional write that folds the profile (before segment membership, so
 * segments can use tiers, clusters and propensities); the jobs process calls it when time moves and when a
 * promotion re-scores everyone.
 */

export interface ActiveModel<K extends ScoredModelKind> {
  version: number;
  state: ModelStates[K];
}

/** The active version of each scored kind, checked once when loaded. */
export type PreparedModels = { readonly [K in ScoredModelKind]?: ActiveModel<K> };

export interface PreparedModelSet {
  models: PreparedModels;
  /** Active versions that could not be used, with the reason (they are left out: their fields stay as they are). */
  invalid: { modelId: string; reason: string }[];
}

export const NO_MODELS: PreparedModels = {};

/** Checks a model's state and features against what profiles have; throws a ValidationError naming the fault. */
export function prepareModel<K extends ScoredModelKind>(kind: K, doc: Pick<ModelDoc, 'version' | 'state' | 'features'>): ActiveModel<K> {
  const state = parseModelState(kind, doc.state);
  if ('features' in state) assertProfileFeatures(state.features, `${kind} model v${doc.version}`);
  return { version: doc.version, state };
}

/** The active version of each kind among `docs` (the latest promoted when a race left two active), checked. */
export function prepareModels(docs: readonly ModelDoc[]): PreparedModelSet {
  const models: { [K in ScoredModelKind]?: ActiveModel<K> } = {};
  const invalid: PreparedModelSet['invalid'] = [];
  for (const kind of SCORED_MODEL_KINDS) {
    const active = docs
      .filter((d) => d.kind === kind && d.status === 'active')
      .sort((a, b) => (b.promotedAt ?? '').localeCompare(a.promotedAt ?? '') || b.version - a.version)[0];
    if (!active) continue;
    try {
      (models as Record<ScoredModelKind, ActiveModel<ScoredModelKind>>)[kind] = prepareModel(kind, active);
    } catch (error) {
      const issues = error instanceof ValidationError ? error.issues.map((i) => `${i.path}: ${i.reason}`) : [];
      invalid.push({ modelId: active.modelId, reason: [(error as Error).message, ...issues].join('; ') });
    }
  }
  return { models, invalid };
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The scores of one profile under the given models; empty when none is active. */
export function scoreProfile(doc: ProfileDoc, models: PreparedModels): ProfileScores {
  const scores: ProfileScores = {};
  const versions: NonNullable<ProfileScores['models']> = {};
  const input = new ProfileInput(doc);
  if (models.rfm) {
    const score = scoreRfm(models.rfm.state, rfmInput(doc));
    scores.value = { tier: score.tier };
    scores.rfm = 'code' in score ? { r: score.r, f: score.f, m: score.m, code: score.code, group: score.group } : { group: score.group };
    versions.rfm = models.rfm.version;
  }
  if (models.clusters) {
    const model = models.clusters.state;
    const { clusterId, distance } = assignCluster(model, input.vector(model.features));
    scores.cluster = { id: clusterId, label: model.labels[clusterId]?.label ?? `cluster ${clusterId}`, distance: round(distance, 4) };
    versions.clusters = models.clusters.version;
  }
  for (const kind of ['purchase', 'churn'] as const) {
    const active = models[kind];
    if (!active) continue;
    (scores.propensity ??= {})[kind] = round(predictProba(active.state, input.vector(active.state.features)), 4);
    versions[kind] = active.version;
  }
  if (models.risk) {
    scores.risk = scoreRisk(models.risk.state, doc, input.features());
    versions.risk = models.risk.version;
  }
  if (Object.keys(versions).length > 0) scores.models = versions;
  return scores;
}

/** The score fields of a profile document. */
export const SCORE_FIELDS = ['value', 'rfm', 'cluster', 'propensity', 'risk', 'models'] as const satisfies readonly (keyof ProfileScores)[];

/** Copies what `kind` wrote on `from` into `to`. */
function carry(kind: ScoredModelKind, from: ProfileScores, to: ProfileScores): void {
  const version = from.models?.[kind];
  if (version === undefined) return;
  switch (kind) {
    case 'rfm':
      if (from.value) to.value = from.value;
      if (from.rfm) to.rfm = from.rfm;
      break;
    case 'clusters':
      if (from.cluster) to.cluster = from.cluster;
      break;
    case 'risk':
      if (from.risk) to.risk = from.risk;
      break;
    case 'purchase':
    case 'churn': {
      const p = from.propensity?.[kind];
      if (p !== undefined) (to.propensity ??= {})[kind] = p;
      break;
    }
  }
  (to.models ??= {})[kind] = version;
}

/**
 * Writes the scores of `models` on a freshly derived profile (in place; returns it). A kind with no usable
 * active version keeps what the previous document carried, so a model that fails to load never wipes scores.
 */
export function applyScores<T extends ProfileDoc>(doc: T, models: PreparedModels, previous?: ProfileScores): T {
  const target = doc as T & ProfileScores;
  for (const field of SCORE_FIELDS) delete target[field];
  const scores = scoreProfile(doc, models);
  if (previous) for (const kind of SCORED_MODEL_KINDS) if (!models[kind]) carry(kind, previous, scores);
  return Object.assign(target, scores);
}
