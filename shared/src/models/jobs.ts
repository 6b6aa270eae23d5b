import { z } from 'zod';
import { RiskOptionsSchema } from '../mining/risk';
import { AlsParametersSchema } from '../mining/als';
import { CooccurrenceParametersSchema } from '../mining/cooccurrence';
import { RuleMiningOptionsSchema } from '../mining/rules';
import { ContentParametersSchema } from '../recommend/content';
import { CONTENT_VECTOR_DIMS } from '../recommend/vectors';
import { DEFAULT_INTERACTION_WEIGHTS, INTERACTION_TYPES } from './collaborative';
import { MODEL_KINDS, SCORED_MODEL_KINDS, type ModelKind } from './kinds';

/**
 * What a training run takes, per kind: the API's `POST /v1/models/:kind/train` body, the CLI's flags and the
 * training job's payload are all this. Parameters are checked per kind before the job is queued, with their
 * defaults filled in, and stored with the model.
 */

export const DEFAULT_MODEL_SEED = 42;

export const TRAIN_PARAMETERS = {
  rfm: z.strictObject({}),
  clusters: z
    .strictObject({
      /** Range of k searched by silhouette; `k` fixes it. */
      kMin: z.number().int().min(2).max(30).default(2),
      kMax: z.number().int().min(2).max(30).default(8),
      k: z.number().int().min(1).max(30).optional(),
      /** Root categories whose interest shares become features (the most common ones). */
      categories: z.number().int().min(0).max(20).default(6),
    })
    .refine((p) => p.kMin <= p.kMax, { message: 'kMin must not exceed kMax', path: ['kMin'] }),
  purchase: z.strictObject({
    /** Days after the cutoff the label looks at. */
    horizonDays: z.number().int().min(1).max(180).default(30),
    l2: z.number().min(0).max(100).default(1e-4),
  }),
  churn: z.strictObject({
    horizonDays: z.number().int().min(1).max(180).default(30),
    /** A profile counts for churn when it was active in this many days before the cutoff. */
    activeDays: z.number().int().min(1).max(365).default(90),
    l2: z.number().min(0).max(100).default(1e-4),
  }),
  /** Thresholds, floors and weights of the risk signals; the request's seed draws the sample. */
  risk: RiskOptionsSchema,
  rules: RuleMiningOptionsSchema.extend({
    /** A basket is one order, or everything one user bought within the window. */
    basket: z.enum(['order', 'user']).default('order'),
    /** Only purchases within this many days before training are mined. */
    windowDays: z.number().int().min(1).max(3650).default(365),
    /** Higher default than the miner's: a rule should hold in at least 0.5 % of the baskets. */
    minSupport: RuleMiningOptionsSchema.shape.minSupport.default(0.005),
    maxItemsetSize: z.number().int().min(2).max(6).default(3),
    maxRules: z.number().int().min(1).max(100_000).default(5000),
  }),
  /** Fitted on the whole catalogue; `dims` must match the items mapping's `content` vector. */
  content: ContentParametersSchema.refine((p) => p.dims === CONTENT_VECTOR_DIMS, {
    message: `must be ${CONTENT_VECTOR_DIMS}, the dimension of the items index's content vector`,
    path: ['dims'],
  }),
  collaborative: z.strictObject({
    /** Only interactions within this many days before training count. */
    windowDays: z.number().int().min(1).max(3650).default(365),
    weights: z
      .strictObject(
        Object.fromEntries(INTERACTION_TYPES.map((t) => [t, z.number().min(0).max(100).default(DEFAULT_INTERACTION_WEIGHTS[t])])) as {
          [T in (typeof INTERACTION_TYPES)[number]]: z.ZodDefault<z.ZodNumber>;
        },
      )
      .default(DEFAULT_INTERACTION_WEIGHTS),
    als: AlsParametersSchema.default(AlsParametersSchema.parse({})),
    cooccurrence: CooccurrenceParametersSchema.default(CooccurrenceParametersSchema.parse({})),
  }),
} satisfies Record<ModelKind, z.ZodType>;

export type TrainParameters<K extends ModelKind> = z.output<(typeof TRAIN_PARAMETERS)[K]>;

export const ModelTrainRequestSchema = z
  .strictObject({
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(DEFAULT_MODEL_SEED),
    /** Promote the new version as soon as it is stored (and re-score every profile with it). */
    promote: z.boolean().default(false),
    /** The kind's training options; see `TRAIN_PARAMETERS`. */
    parameters: z.record(z.string(), z.unknown()).default({}),
  })
  .meta({ id: 'ModelTrainRequest' });
export type ModelTrainRequest = z.input<typeof ModelTrainRequestSchema>;

export const ModelTrainJobSchema = z.strictObject({
  kind: z.enum(MODEL_KINDS),
  seed: z.number().int().min(0),
  promote: z.boolean(),
  parameters: z.record(z.string(), z.unknown()),
});
export type ModelTrainJob = z.infer<typeof ModelTrainJobSchema>;

export const ModelRescoreJobSchema = z.strictObject({ kind: z.enum(SCORED_MODEL_KINDS), version: z.number().int().positive() });
export type ModelRescoreJob = z.infer<typeof ModelRescoreJobSchema>;

export const ItemVectorizeJobSchema = z.strictObject({ version: z.number().int().positive() });
export type ItemVectorizeJob = z.infer<typeof ItemVectorizeJobSchema>;

/** What a training job reports while it runs. */
export const ModelTrainProgressSchema = z.object({
  phase: z.enum(['reading', 'fitting', 'storing', 'done']),
  /** Rows read so far (profiles, or purchase events). */
  rows: z.number().int().nonnegative(),
  /** Rows there are to read, when known. */
  total: z.number().int().nonnegative().optional(),
});
export type ModelTrainProgress = z.infer<typeof ModelTrainProgressSchema>;
