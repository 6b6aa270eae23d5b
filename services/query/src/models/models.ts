import { Job, type Queue } from 'bullmq';
import {
  JOBS,
  ModelTrainProgressSchema,
  ModelTrainRequestSchema,
  NotFoundError,
  parseOrThrow,
  TRAIN_PARAMETERS,
  type ModelDoc,
  type ModelKind,
  type ModelSummary,
} from '@portrait/shared';
import { addJob, promoteAndRescore, type ModelStore, type Promotion } from '@portrait/runtime';

export interface TrainStarted {
  jobId: string;
  kind: ModelKind;
  status: 'queued';
  statusUrl: string;
}

export interface TrainStatus {
  jobId: string;
  kind: ModelKind;
  state: 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';
  progress?: ReturnType<typeof ModelTrainProgressSchema.parse>;
  model?: { modelId: string; version: number; status: string };
  failedReason?: string;
}

const STATES = new Set(['waiting', 'delayed', 'active', 'completed', 'failed']);

/** The models as the API sees them: stored versions, training jobs queued for the jobs process, promotion. */
export class Models {
  constructor(
    private readonly store: ModelStore,
    private readonly queue: Queue,
  ) {}

  list(kind?: ModelKind): Promise<ModelSummary[]> {
    return this.store.list(kind);
  }

  get(kind: ModelKind, version: number): Promise<ModelDoc> {
    return this.store.get(kind, version);
  }

  /** Checks the request and the kind's parameters here, so a bad one is a 400 now rather than a failed job later. */
  async train(kind: ModelKind, body: unknown): Promise<TrainStarted> {
    const request = parseOrThrow(ModelTrainRequestSchema, body ?? {}, 'training request', ['body']);
    parseOrThrow(TRAIN_PARAMETERS[kind], request.parameters, `${kind} training parameters`, ['body', 'parameters']);
    const job = await addJob(this.queue, 'modelTrain', { kind, ...request });
    return { jobId: job.id!, kind, status: 'queued', statusUrl: `/v1/models/${kind}/train/${job.id}` };
  }

  async trainStatus(kind: ModelKind, jobId: string): Promise<TrainStatus> {
    let job = await Job.fromId(this.queue, jobId);
    const data = job?.data as { kind?: string } | undefined;
    if (!job || job.name !== JOBS.modelTrain.name || data?.kind !== kind)
      throw new NotFoundError(`no ${kind} training job ${jobId} (finished jobs are kept for a week)`);
    const state = await job.getState();
    // The job may have finished between the two reads: read it again, so a finished state comes with its result.
    if (state === 'completed' || state === 'failed') job = (await Job.fromId(this.queue, jobId)) ?? job;
    const progress = ModelTrainProgressSchema.safeParse(job.progress);
    const result = job.returnvalue as { model?: TrainStatus['model'] } | null | undefined;
    return {
      jobId,
      kind,
      state: STATES.has(state) ? (state as TrainStatus['state']) : 'unknown',
      ...(progress.success ? { progress: progress.data } : {}),
      ...(result?.model ? { model: { modelId: result.model.modelId, version: result.model.version, status: result.model.status } } : {}),
      ...(state === 'failed' && job.failedReason ? { failedReason: job.failedReason } : {}),
    };
  }

  promote(kind: ModelKind, version: number): Promise<Promotion & { rescoreJobId?: string }> {
    return promoteAndRescore(this.store, this.queue, kind, version, Date.now());
  }
}
