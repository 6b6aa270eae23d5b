import { z } from 'zod';
import { IdSchema, QueuedEventSchema } from './events';
import { QueuedItemSchema } from './items';
import { ItemVectorizeJobSchema, ModelTrainJobSchema, ModelRescoreJobSchema } from './models/jobs';
import { ExportJob, MaintenanceJob, ModelJob } from './names';
import { ErasureSweepJobSchema } from './privacy/erasure';

/**
 * What travels on Portrait's queues, as zod schemas with their inferred types: producers build these
 * payloads and consumers parse them with the same schema, so the two can never drift apart.
 */

/**
 * Event ids whose stage is already taken care of: applied, or handed to the dead-letter queue. A job
 * retried after a partial failure, or replayed from the dead-letter queue, redoes only what is missing,
 * so nothing is counted twice however long it waited (the profile's own memory of applied ids is bounded).
 */
export const StagesDoneSchema = z.object({
  /** The event history write. */
  history: z.array(IdSchema).optional(),
  /** The profile fold. */
  profile: z.array(IdSchema).optional(),
});
export type StagesDone = z.infer<typeof StagesDoneSchema>;

/** `events` on the ingest queue: one request's accepted events. */
export const EventsJobSchema = z.object({ events: z.array(QueuedEventSchema), done: StagesDoneSchema.optional() });
export type EventsJob = z.infer<typeof EventsJobSchema>;

/** `items` on the ingest queue: catalogue upserts. */
export const ItemsJobSchema = z.object({ items: z.array(QueuedItemSchema) });
export type ItemsJob = z.infer<typeof ItemsJobSchema>;

export type IngestJobData = EventsJob | ItemsJob;

export const DEAD_LETTER_STAGES = ['validation', 'fold', 'profile-write', 'event-write', 'item-write', 'attempts-exhausted'] as const;
export type DeadLetterStage = (typeof DEAD_LETTER_STAGES)[number];

/** What a dead-lettered entry holds: the payload that could not be applied, and why. Its payload is kept as sent. */
export const DeadLetterSchema = z.object({
  reason: z.string(),
  stage: z.enum(DEAD_LETTER_STAGES),
  sourceJobId: z.string().optional(),
  failedAt: z.string(),
  events: z.array(z.unknown()).optional(),
  items: z.array(z.unknown()).optional(),
  /** For events: the stages already done for them, so that a replay redoes only the stage that failed. */
  done: StagesDoneSchema.optional(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

/** A job that carries nothing (the scheduled ones; BullMQ stores `{}`). */
export const NoPayloadSchema = z.strictObject({});

/** `segment-backfill` on the maintenance queue. */
export const SegmentBackfillJobSchema = z.strictObject({ segmentId: IdSchema });
export type SegmentBackfillJob = z.infer<typeof SegmentBackfillJobSchema>;

/** `run` on the exports queue. */
export const ExportJobSchema = z.strictObject({ exportId: IdSchema });
export type ExportJobData = z.infer<typeof ExportJobSchema>;

/** What a running export job reports as its progress, read back by `GET /v1/exports/:id`. */
export const ExportProgressSchema = z.object({ rows: z.number().int().nonnegative(), total: z.number().int().nonnegative() });
export type ExportProgress = z.infer<typeof ExportProgressSchema>;

/** The queues that carry batch jobs. */
export type JobQueue = 'maintenance' | 'exports' | 'models';

/**
 * Every batch job the jobs process runs: the queue it travels on, its BullMQ job name there, and the schema
 * of its payload. Producers (the query service, the schedulers) and the jobs process's handlers use the same
 * entry, and a payload that does not parse fails its job at once. A new job is one entry here, one handler
 * file in `services/jobs/src/handlers/` and one line in that folder's registry.
 */
const JOB_TABLE = {
  /** Recomputes the time-relative fields of profiles nobody touched today. */
  refresh: { queue: 'maintenance', name: MaintenanceJob.refresh, payload: NoPayloadSchema },
  /** Deletes monthly event indices past the retention period. */
  retention: { queue: 'maintenance', name: MaintenanceJob.retention, payload: NoPayloadSchema },
  /** Brings one segment's materialized membership in line with its definition (queued on every save). */
  segmentBackfill: { queue: 'maintenance', name: MaintenanceJob.segmentBackfill, payload: SegmentBackfillJobSchema },
  /** Reconciles every segment: relative-time conditions move as time passes. */
  segmentReconcile: { queue: 'maintenance', name: MaintenanceJob.segmentReconcile, payload: NoPayloadSchema },
  /** Records every active segment's member count, for sizes over time. */
  segmentSnapshot: { queue: 'maintenance', name: MaintenanceJob.segmentSnapshot, payload: NoPayloadSchema },
  /** The second pass of an erasure: removes what writes in flight during the first one left behind. */
  erasureSweep: { queue: 'maintenance', name: MaintenanceJob.erasureSweep, payload: ErasureSweepJobSchema },
  /** Writes one audience export file. */
  exportRun: { queue: 'exports', name: ExportJob.run, payload: ExportJobSchema },
  /** Deletes export files past their expiry. */
  exportSweep: { queue: 'exports', name: ExportJob.sweep, payload: NoPayloadSchema },
  /** Trains one kind of model into its next version, promoted at once when asked. */
  modelTrain: { queue: 'models', name: ModelJob.train, payload: ModelTrainJobSchema },
  /** Brings every profile to a kind's active version (queued on promotion). */
  modelRescore: { queue: 'models', name: ModelJob.rescore, payload: ModelRescoreJobSchema },
  /** Gives every item a content vector from the content model's active version (queued on promotion). */
  itemVectorize: { queue: 'models', name: ModelJob.vectorize, payload: ItemVectorizeJobSchema },
  /** Trains every kind again, on a schedule. */
  modelRetrain: { queue: 'models', name: ModelJob.retrain, payload: NoPayloadSchema },
} as const;

export type JobKind = keyof typeof JOB_TABLE;
export type JobPayload<K extends JobKind> = z.infer<(typeof JOB_TABLE)[K]['payload']>;

export interface JobSpec<K extends JobKind> {
  queue: JobQueue;
  /** The BullMQ job name on that queue. */
  name: string;
  payload: z.ZodType<JobPayload<K>>;
}

export const JOBS: { readonly [K in JobKind]: JobSpec<K> } = JOB_TABLE;
