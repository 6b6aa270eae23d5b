import { z } from 'zod';
import { IdSchema, QueuedEventSchema } from './events';
import { QueuedItemSchema } from './items';

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

/** `segment-backfill` on the maintenance queue. */
export const SegmentBackfillJobSchema = z.strictObject({ segmentId: IdSchema });
export type SegmentBackfillJob = z.infer<typeof SegmentBackfillJobSchema>;

/** `run` on the exports queue. */
export const ExportJobSchema = z.strictObject({ exportId: IdSchema });
export type ExportJobData = z.infer<typeof ExportJobSchema>;
