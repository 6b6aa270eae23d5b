import { z } from 'zod';
import { ValidationError } from '../errors';
import { ClusterModelSchema, type ClusterModel } from '../mining/clusters';
import { LogisticModelSchema, type LogisticModel } from '../mining/propensity';
import { RfmModelSchema, type RfmModel } from '../mining/rfm';
import { RiskModelSchema, type RiskModel } from '../mining/risk';
import { RulesModelSchema } from '../mining/rules';
import { ContentStateSchema, type ContentState } from '../recommend/content';
import { CollaborativeStateSchema, type CollaborativeState } from './collaborative';
import { toIssues } from '../validation';
import { MODEL_KINDS, type ModelKind } from './kinds';

/**
 * A model version as stored in `<prefix>-models` (one document per kind and version) and as the API returns
 * it. The jobs process writes it when training ends; promotion flips `status`; the indexer, the jobs process
 * and the query service read the active version of each kind.
 */

const at = () => z.iso.datetime();

/** `trained`: stored, never used yet; `active`: the version profiles are scored with; `retired`: active once. */
export const MODEL_STATUSES = ['trained', 'active', 'retired'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export const ModelTrainingSchema = z
  .object({
    /** Rows the model was fitted on (profiles, or baskets for rules). */
    rows: z.number().int().nonnegative(),
    /** Where the rows came from. */
    source: z.enum(['profiles', 'events', 'items']),
    /** The instant the training data was read as of. */
    asOf: at(),
    /** The event-time window the rows cover, when the kind reads events. */
    from: at().optional(),
    to: at().optional(),
    seed: z.number().int(),
    durationMs: z.number().nonnegative(),
  })
  .meta({ id: 'ModelTraining' });
export type ModelTraining = z.infer<typeof ModelTrainingSchema>;

export const ModelSummarySchema = z
  .object({
    modelId: z.string(),
    kind: z.enum(MODEL_KINDS),
    version: z.number().int().positive(),
    status: z.enum(MODEL_STATUSES),
    algorithm: z.string(),
    /** The training options the job ran with (seed, ranges, thresholds), defaults filled in. */
    parameters: z.record(z.string(), z.unknown()),
    /** The profile features the model reads, in its order (empty for rules). */
    features: z.array(z.string()),
    /** Quality figures measured at training (hold-out AUC, silhouette, rules found...). */
    quality: z.record(z.string(), z.unknown()),
    training: ModelTrainingSchema,
    createdAt: at(),
    promotedAt: at().optional(),
    retiredAt: at().optional(),
  })
  .meta({ id: 'ModelSummary' });
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const ModelDocSchema = ModelSummarySchema.extend({
  /** The fitted state, in the kind's own schema (boundaries, centroids and scaler, weights and scaler, rules). */
  state: z.unknown(),
}).meta({ id: 'Model' });
export type ModelDoc = z.infer<typeof ModelDocSchema>;

/** The `_source` fields of a summary (what lists read: never the fitted state, which may be large). */
export const MODEL_SUMMARY_FIELDS = Object.keys(ModelSummarySchema.shape) as (keyof ModelSummary)[];

/** A rules model: the rules mined from the same baskets at item level and at root-category level. */
export const RulesStateSchema = z.object({ item: RulesModelSchema, category: RulesModelSchema });
export type RulesState = z.infer<typeof RulesStateSchema>;

export interface ModelStates {
  rfm: RfmModel;
  clusters: ClusterModel;
  purchase: LogisticModel;
  churn: LogisticModel;
  risk: RiskModel;
  rules: RulesState;
  content: ContentState;
  collaborative: CollaborativeState;
}

const STATE_SCHEMAS: { readonly [K in ModelKind]: z.ZodType<ModelStates[K]> } = {
  rfm: RfmModelSchema,
  clusters: ClusterModelSchema,
  purchase: LogisticModelSchema,
  churn: LogisticModelSchema,
  risk: RiskModelSchema,
  rules: RulesStateSchema,
  content: ContentStateSchema,
  collaborative: CollaborativeStateSchema,
};

/** A stored model's fitted state, checked against its kind's schema; a ValidationError names what is wrong. */
export function parseModelState<K extends ModelKind>(kind: K, state: unknown): ModelStates[K] {
  const parsed = STATE_SCHEMAS[kind].safeParse(state);
  if (!parsed.success) throw new ValidationError(`the stored ${kind} model is malformed`, toIssues(parsed.error, ['state']));
  return parsed.data;
}
