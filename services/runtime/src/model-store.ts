import {
  checkContentState,
  isScoredKind,
  ModelDocSchema,
  MODEL_SUMMARY_FIELDS,
  ModelSummarySchema,
  modelId,
  modelsGenerationKey,
  NotFoundError,
  parseModelState,
  prepareModel,
  UnprocessableError,
  ValidationError,
  type CollaborativeState,
  type IndexNames,
  type ModelDoc,
  type ModelKind,
  type ModelSummary,
} from '@portrait/shared';
import type { Queue } from 'bullmq';
import { errors, type Client, type estypes } from './elasticsearch';
import { addJob } from './queues';
import type { Redis } from './redis';

/** What a training job hands over: everything but the identity, which the store assigns. */
export type ModelDraft = Omit<ModelDoc, 'modelId' | 'version' | 'status' | 'createdAt' | 'promotedAt' | 'retiredAt'>;

export interface Promotion {
  model: ModelSummary;
  /** The version that was active before, now retired. */
  previous?: number;
}

/**
 * The models index: numbered versions per kind, one of them active. Saving assigns the next version with a
 * `create` (two trainings that finish together get two versions, never one overwritten). Promotion checks
 * the model against what profiles have, marks it active, retires the one before and bumps the generation
 * counter, so every profile writer scores with it from its next write.
 */
export class ModelStore {
  private readonly alias: string;

  constructor(
    private readonly es: Client,
    private readonly names: Pick<IndexNames, 'models' | 'itemFactors' | 'userFactors' | 'factorsPattern'>,
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {
    this.alias = names.models;
  }

  async list(kind?: ModelKind): Promise<ModelSummary[]> {
    const res = await this.es.search({
      index: this.alias,
      size: 1000,
      _source: MODEL_SUMMARY_FIELDS,
      query: kind ? { term: { kind } } : { match_all: {} },
      sort: [{ kind: 'asc' }, { version: 'desc' }],
    });
    return res.hits.hits.map((h) => ModelSummarySchema.parse(h._source));
  }

  async get(kind: ModelKind, version: number): Promise<ModelDoc> {
    try {
      const res = await this.es.get({ index: this.alias, id: modelId(kind, version) });
      return ModelDocSchema.parse(res._source);
    } catch (error) {
      if (error instanceof errors.ResponseError && error.statusCode === 404)
        throw new NotFoundError(`no ${kind} model version ${version}; GET /v1/models?kind=${kind} lists the versions there are`);
      throw error;
    }
  }

  /** Every active version (normally one per kind), with its fitted state. */
  async active(kind?: ModelKind): Promise<ModelDoc[]> {
    const res = await this.es.search({
      index: this.alias,
      size: 100,
      query: { bool: { filter: [{ term: { status: 'active' } }, ...(kind ? [{ term: { kind } }] : [])] } },
      sort: [{ promotedAt: { order: 'desc', unmapped_type: 'date' } }],
    });
    return res.hits.hits.map((h) => ModelDocSchema.parse(h._source));
  }

  /** Stores a trained model as the next version of its kind, `trained` (not used until promoted). */
  async save(draft: ModelDraft, nowMs: number): Promise<ModelDoc> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const version = (await this.latestVersion(draft.kind)) + 1 + attempt;
      const doc: ModelDoc = {
        ...draft,
        modelId: modelId(draft.kind, version),
        version,
        status: 'trained',
        createdAt: new Date(nowMs).toISOString(),
      };
      try {
        await this.es.create({ index: this.alias, id: doc.modelId, document: doc, refresh: 'wait_for' });
        return doc;
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 409) continue;
        throw error;
      }
    }
    throw new Error(`could not find a free version for the ${draft.kind} model after 20 attempts`);
  }

  /**
   * Makes a version the active one of its kind. A model whose state or features profiles cannot be scored
   * with is refused (422) and nothing changes.
   */
  async promote(kind: ModelKind, version: number, nowMs: number): Promise<Promotion> {
    const doc = await this.get(kind, version);
    try {
      if (isScoredKind(kind)) prepareModel(kind, doc);
      else if (kind === 'content') checkContentState(parseModelState(kind, doc.state));
      else if (kind === 'collaborative') await this.checkFactors(parseModelState(kind, doc.state));
      else parseModelState(kind, doc.state);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new UnprocessableError(`${doc.modelId} cannot be promoted: ${error.message}`, error.issues);
    }
    const at = new Date(nowMs).toISOString();
    const before = (await this.active(kind)).filter((d) => d.version !== version);
    const operations: estypes.BulkRequest<ModelDoc, Partial<ModelDoc>>['operations'] = [
      { update: { _index: this.alias, _id: doc.modelId } },
      { doc: { status: 'active', promotedAt: at } },
      ...before.flatMap((d) => [
        { update: { _index: this.alias, _id: d.modelId } },
        { doc: { status: 'retired' as const, retiredAt: at } },
      ]),
    ];
    const res = await this.es.bulk({ refresh: 'wait_for', operations });
    const failed = res.items.map((i) => i.update).find((u) => u?.error);
    if (failed) throw new Error(`promoting ${doc.modelId} failed on ${failed._id}: ${failed.error?.type} ${failed.error?.reason ?? ''}`);
    if (kind === 'collaborative') await this.pointFactorAliases(parseModelState(kind, doc.state));
    await this.redis.incr(modelsGenerationKey(this.namespace));
    return {
      model: ModelSummarySchema.parse({ ...doc, status: 'active', promotedAt: at }),
      previous: before[0]?.version,
    };
  }

  /** A collaborative version serves from its factor indices: both must still be there. */
  private async checkFactors(state: CollaborativeState): Promise<void> {
    for (const [path, index] of [
      ['state.itemIndex', state.itemIndex],
      ['state.userIndex', state.userIndex],
    ] as const) {
      if (!(await this.es.indices.exists({ index })))
        throw new ValidationError(`its factors index ${index} is gone (factors of old retired versions are deleted); train a new version`, [
          { path, reason: `index ${index} does not exist` },
        ]);
    }
  }

  /** Points the serving aliases at the promoted run's factor indices, in one atomic alias change. */
  private async pointFactorAliases(state: CollaborativeState): Promise<void> {
    await this.es.indices.updateAliases({
      actions: [
        { remove: { index: this.names.factorsPattern, alias: this.names.itemFactors, must_exist: false } },
        { remove: { index: this.names.factorsPattern, alias: this.names.userFactors, must_exist: false } },
        { add: { index: state.itemIndex, alias: this.names.itemFactors } },
        { add: { index: state.userIndex, alias: this.names.userFactors } },
      ],
    });
  }

  private async latestVersion(kind: ModelKind): Promise<number> {
    const res = await this.es.search({
      index: this.alias,
      size: 0,
      query: { term: { kind } },
      aggs: { latest: { max: { field: 'version' } } },
    });
    const latest = (res.aggregations?.latest as { value: number | null } | undefined)?.value;
    return latest ?? 0;
  }
}

/**
 * Promotes a version and queues the re-score that brings every profile to it (one job per kind and version:
 * promoting the same version twice queues it once while it waits). New writes use it from the generation
 * bump on; the job fixes the profiles nobody writes.
 */
export async function promoteAndRescore(
  store: ModelStore,
  queue: Queue,
  kind: ModelKind,
  version: number,
  nowMs: number,
): Promise<Promotion & { rescoreJobId?: string }> {
  const promotion = await store.promote(kind, version, nowMs);
  if (kind === 'content') {
    const job = await addJob(queue, 'itemVectorize', { version }, { jobId: `vectorize-v${version}-${nowMs}` });
    return { ...promotion, rescoreJobId: job.id };
  }
  if (!isScoredKind(kind)) return promotion;
  const job = await addJob(queue, 'modelRescore', { kind, version }, { jobId: `rescore-${kind}-v${version}-${nowMs}` });
  return { ...promotion, rescoreJobId: job.id };
}
