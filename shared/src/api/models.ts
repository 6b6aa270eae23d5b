import { z } from 'zod';
import { AssociationRuleSchema } from '../mining/rules';
import { ClusterLabelSchema } from '../mining/clusters';
import { RFM_GROUPS, RFM_TIERS } from '../mining/rfm';
import { ModelDocSchema, ModelSummarySchema } from '../models/document';
import { ModelTrainProgressSchema, ModelTrainRequestSchema } from '../models/jobs';
import { MODEL_KINDS } from '../models/kinds';
import { json, type ApiRoute } from './route';

/** The models API (train, list, read, promote) and the insights read from the active models. */

const Kind = z.enum(MODEL_KINDS).meta({ description: 'The kind of model' });
const KindParams = z.object({ kind: Kind });
const VersionParams = z.object({
  kind: Kind,
  version: z.coerce.number().int().positive().meta({ description: 'The version number' }),
});
const JobParams = z.object({ kind: Kind, jobId: z.string().min(1).max(200).meta({ description: 'The training job id' }) });

export const ModelListQuery = z.strictObject({ kind: Kind.optional() });
export { KindParams as ModelKindParams, VersionParams as ModelVersionParams, JobParams as ModelJobParams };

export const ModelTrainStarted = z
  .object({ jobId: z.string(), kind: Kind, status: z.literal('queued'), statusUrl: z.string() })
  .meta({ id: 'ModelTrainStarted' });

export const JOB_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'unknown'] as const;

export const ModelTrainStatus = z
  .object({
    jobId: z.string(),
    kind: Kind,
    state: z.enum(JOB_STATES),
    progress: ModelTrainProgressSchema.optional(),
    /** Once completed: the version it stored. */
    model: z.object({ modelId: z.string(), version: z.number().int(), status: z.string() }).optional(),
    /** Once failed: why (an empty index, bad parameters...). */
    failedReason: z.string().optional(),
  })
  .meta({ id: 'ModelTrainStatus' });

export const PromotionAnswer = z
  .object({
    model: ModelSummarySchema,
    previous: z.number().int().optional().meta({ description: 'The version active before, now retired' }),
    rescoreJobId: z.string().optional().meta({ description: 'The job re-scoring every profile with this version' }),
  })
  .meta({ id: 'Promotion' });

const ActiveModelRef = z.object({ modelId: z.string(), version: z.number().int(), promotedAt: z.string().optional() });

export const RfmInsight = z
  .object({
    model: ActiveModelRef,
    /** Profiles scored by this version. */
    profiles: z.number().int(),
    /** The 5 x 5 grid of recency by frequency scores: profiles and their spend in each cell. */
    grid: z.array(z.object({ r: z.number().int(), f: z.number().int(), profiles: z.number().int(), spend: z.number() })),
    tiers: z.array(z.object({ tier: z.enum(RFM_TIERS), profiles: z.number().int(), spend: z.number() })),
    groups: z.array(z.object({ group: z.enum(RFM_GROUPS), profiles: z.number().int(), spend: z.number() })),
  })
  .meta({ id: 'RfmInsight' });

export const ClustersInsight = z
  .object({
    model: ActiveModelRef.extend({ k: z.number().int(), silhouette: z.number(), daviesBouldin: z.number() }),
    clusters: z.array(
      ClusterLabelSchema.extend({
        /** Profiles in the cluster now (the model's `size` is at training). */
        profiles: z.number().int(),
        avgSpend: z.number(),
      }),
    ),
  })
  .meta({ id: 'ClustersInsight' });

const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export const RulesQuery = z
  .strictObject({
    /** Items (or categories, at category level) already bought: rules whose antecedent they hold. */
    item: list.pipe(z.array(z.string().max(512)).max(50)).optional(),
    level: z.enum(['item', 'category']).default('item'),
    minLift: z.coerce.number().min(0).finite().optional(),
    minConfidence: z.coerce.number().min(0).max(1).optional(),
    minSupport: z.coerce.number().int().min(1).optional().meta({ description: 'Fewest baskets holding the rule' }),
    limit: z.coerce.number().int().min(1).max(200).default(20),
  })
  .meta({ id: 'RulesQuery' });

export const RuleView = AssociationRuleSchema.extend({
  /** "bought A -> also buys B, confidence 0.8, lift 3.2, support 120 baskets". */
  text: z.string(),
}).meta({ id: 'Rule' });

export const RulesInsight = z
  .object({ model: ActiveModelRef.extend({ baskets: z.number().int() }), level: z.enum(['item', 'category']), rules: z.array(RuleView) })
  .meta({ id: 'RulesInsight' });

const at = '2026-12-01T09:00:00.000Z';
const summary = {
  modelId: 'rfm-v3',
  kind: 'rfm' as const,
  version: 3,
  status: 'active' as const,
  algorithm: 'rfm-quintiles',
  parameters: { seed: 42 },
  features: ['recency_days', 'orders', 'total_spend'],
  quality: { profiles: 20000, buyers: 12000 },
  training: { rows: 20000, source: 'profiles' as const, asOf: at, seed: 42, durationMs: 1800 },
  createdAt: at,
  promotedAt: at,
};
const rule = {
  antecedent: ['i12'],
  consequent: ['i40'],
  support: 120,
  antecedentSupport: 150,
  consequentSupport: 900,
  confidence: 0.8,
  lift: 3.2,
  text: 'bought i12 -> also buys i40, confidence 0.8, lift 3.2, support 120 baskets',
};

export const MODEL_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/v1/models',
    tag: 'models',
    scope: 'models',
    summary: 'Every stored model version, by kind and newest first',
    request: { query: ModelListQuery },
    responses: {
      200: {
        description: 'Model summaries (without the fitted state)',
        content: json(z.object({ models: z.array(ModelSummarySchema) }), { one: { summary: 'One version', value: { models: [summary] } } }),
      },
    },
    errors: [400, 503],
  },
  {
    method: 'post',
    path: '/v1/models/:kind/train',
    tag: 'models',
    scope: 'models',
    summary: 'Train a new version of a kind of model',
    description:
      'Queues a training job in the jobs process: it reads the profiles (or the purchase events, for rules) as of now, fits the ' +
      'model with the seed (the same data and seed give the same model), and stores it as the next version, `trained`. ' +
      'With `promote: true` it is promoted as soon as it is stored. Parameters are checked here, per kind.',
    request: {
      params: KindParams,
      body: {
        content: json(ModelTrainRequestSchema, {
          clusters: { summary: 'Clusters with k from 3 to 6', value: { seed: 7, parameters: { kMin: 3, kMax: 6 } } },
        }),
      },
    },
    responses: {
      202: {
        description: 'Queued',
        content: json(ModelTrainStarted, {
          queued: {
            summary: 'Queued',
            value: { jobId: '17', kind: 'clusters', status: 'queued', statusUrl: '/v1/models/clusters/train/17' },
          },
        }),
      },
    },
    errors: [400, 415, 503],
  },
  {
    method: 'get',
    path: '/v1/models/:kind/train/:jobId',
    tag: 'models',
    scope: 'models',
    summary: "A training job's state, progress and outcome",
    request: { params: JobParams },
    responses: {
      200: {
        description: 'The job',
        content: json(ModelTrainStatus, {
          done: {
            summary: 'Completed',
            value: {
              jobId: '17',
              kind: 'clusters',
              state: 'completed',
              progress: { phase: 'done', rows: 20000 },
              model: { modelId: 'clusters-v2', version: 2, status: 'trained' },
            },
          },
          empty: {
            summary: 'Failed on an empty index',
            value: {
              jobId: '18',
              kind: 'rfm',
              state: 'failed',
              failedReason: 'rfm training refused: the profile index holds no profiles yet: there is nothing to train on',
            },
          },
        }),
      },
    },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/v1/models/:kind/:version',
    tag: 'models',
    scope: 'models',
    summary: 'One model version, with its fitted state',
    request: { params: VersionParams },
    responses: {
      200: {
        description: 'The model',
        content: json(ModelDocSchema, {
          rfm: {
            summary: 'An RFM model',
            value: {
              ...summary,
              state: {
                boundaries: { recency: [10, 30, 60, 120], frequency: [1, 1, 2, 4], monetary: [40, 90, 180, 400] },
                buyers: 12000,
              },
            },
          },
        }),
      },
    },
    errors: [400, 404, 503],
  },
  {
    method: 'post',
    path: '/v1/models/:kind/:version/promote',
    tag: 'models',
    scope: 'models',
    summary: 'Make a version the active one of its kind',
    description:
      'Checks that profiles can be scored with it (`422` naming the features profiles lack otherwise), marks it active and ' +
      'retires the one before. Profile writers use it from their next write; a re-score job brings every other profile to it, ' +
      'and once that job completes no profile carries a mix of versions (`models.<kind>` on the profile says which scored it).',
    request: { params: VersionParams },
    responses: {
      200: {
        description: 'Promoted',
        content: json(PromotionAnswer, {
          promoted: { summary: 'Promoted', value: { model: summary, previous: 2, rescoreJobId: 'rescore-rfm-v3-1764579600000' } },
        }),
      },
    },
    errors: [400, 404, 422, 503],
  },
];

const ref = { modelId: 'rfm-v3', version: 3, promotedAt: at };

export const INSIGHT_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/v1/insights/rfm',
    tag: 'insights',
    scope: 'read',
    summary: 'The RFM grid: profiles and spend by recency and frequency score, by tier and by group',
    description: 'Counts the profiles scored by the active RFM version. `404` until an RFM model is promoted.',
    responses: {
      200: {
        description: 'The grid',
        content: json(RfmInsight, {
          grid: {
            summary: 'Part of a grid',
            value: {
              model: ref,
              profiles: 20000,
              grid: [{ r: 5, f: 5, profiles: 410, spend: 98000.5 }],
              tiers: [{ tier: 'high', profiles: 2100, spend: 310000 }],
              groups: [{ group: 'champions', profiles: 900, spend: 190000 }],
            },
          },
        }),
      },
    },
    errors: [404, 503],
  },
  {
    method: 'get',
    path: '/v1/insights/clusters',
    tag: 'insights',
    scope: 'read',
    summary: 'The active cluster model: each cluster with its label, traits, summary in original units and live size',
    description: '`404` until a cluster model is promoted.',
    responses: {
      200: {
        description: 'The clusters',
        content: json(ClustersInsight, {
          one: {
            summary: 'One cluster',
            value: {
              model: { modelId: 'clusters-v1', version: 1, promotedAt: at, k: 4, silhouette: 0.41, daviesBouldin: 0.9 },
              clusters: [
                {
                  clusterId: 0,
                  label: 'frequent high-spend shoppers',
                  size: 1200,
                  share: 0.06,
                  traits: [{ feature: 'orders', z: 2.1, phrase: 'frequent' }],
                  summary: [{ feature: 'orders', populationMean: 1.2, mean: 6.5, median: 6, z: 2.1 }],
                  profiles: 1230,
                  avgSpend: 840.2,
                },
              ],
            },
          },
        }),
      },
    },
    errors: [404, 503],
  },
  {
    method: 'get',
    path: '/v1/insights/rules',
    tag: 'insights',
    scope: 'read',
    summary: 'Association rules of the active rules model: top rules overall, or those that follow from items bought',
    description:
      '"Bought A -> also buys B": with `item`, the rules whose antecedent is among the given items and whose consequent is not; ' +
      'without it, the top rules. Ordered by lift, confidence, then support. `404` until a rules model is promoted.',
    request: { query: RulesQuery },
    responses: {
      200: {
        description: 'The rules',
        content: json(RulesInsight, {
          item: {
            summary: 'Rules from one item',
            value: { model: { ...ref, modelId: 'rules-v1', version: 1, baskets: 100000 }, level: 'item', rules: [rule] },
          },
        }),
      },
    },
    errors: [400, 404, 503],
  },
];
