import { createHash } from 'node:crypto';
import { z } from 'zod';
import { IdSchema } from '../events';

/**
 * Erasure (the right to be forgotten): what `DELETE /v1/users/:id` removes and the audit record it leaves.
 * Neither the record nor the tombstone holds the user id itself: both hold its `erasureSubject`, a SHA-256
 * that confirms a given id was erased without naming it.
 */

/** The one-way name of an erased user: SHA-256 hex of the id. */
export function erasureSubject(userId: string): string {
  return createHash('sha256').update(`portrait-user:${userId}`, 'utf8').digest('hex');
}

const count = () => z.number().int().nonnegative();
const at = () => z.iso.datetime();

/** What one pass removed, by where it was. */
export const ErasureCountsSchema = z
  .object({
    profile: count().meta({ description: 'The profile document, with its segment memberships and scores (0 or 1)' }),
    events: count().meta({ description: 'Documents in the event history' }),
    userFactors: count().meta({ description: "The user's vectors in the collaborative models' user factor indices" }),
    queuedEvents: count().meta({ description: 'Events still on the ingest queue (waiting, delayed, retried or completed)' }),
    deadLetteredEvents: count().meta({ description: 'Events in the dead-letter queue' }),
    segmentChanges: count().meta({ description: 'Segment entry and exit messages not yet expired' }),
    dedupKeys: count().meta({ description: "Ingest's memory of the user's event ids" }),
  })
  .meta({ id: 'ErasureCounts' });
export type ErasureCounts = z.infer<typeof ErasureCountsSchema>;

export const NO_ERASURES: ErasureCounts = {
  profile: 0,
  events: 0,
  userFactors: 0,
  queuedEvents: 0,
  deadLetteredEvents: 0,
  segmentChanges: 0,
  dedupKeys: 0,
};

export function addCounts(a: ErasureCounts, b: ErasureCounts): ErasureCounts {
  const sum = { ...a };
  for (const key of Object.keys(sum) as (keyof ErasureCounts)[]) sum[key] += b[key];
  return sum;
}

/** The audit record of one erasure, in `<prefix>-erasures`; the API answers it as it is. */
export const ErasureRecordSchema = z
  .object({
    erasureId: z.uuid(),
    subject: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .meta({ description: 'SHA-256 of the user id (`erasureSubject`): the record never holds the id' }),
    actor: z.string().meta({ description: 'Who erased: the API key name, else `x-portrait-actor`' }),
    requestId: z.string().optional(),
    requestedAt: at(),
    finishedAt: at(),
    previouslyErasedAt: at().optional().meta({ description: 'Set when the user had been erased before (the tombstone was there)' }),
    deleted: ErasureCountsSchema,
    exports: z
      .array(z.string())
      .meta({ description: 'Export files, still on disk, that hold a row of the user: re-export or delete them' }),
    sweepAt: at().optional().meta({ description: 'When the second pass runs, for anything that was in flight' }),
    sweptAt: at().optional(),
    swept: ErasureCountsSchema.optional().meta({ description: 'What the second pass still found and removed' }),
  })
  .meta({ id: 'ErasureRecord' });
export type ErasureRecord = z.infer<typeof ErasureRecordSchema>;

/** `erasure-sweep` on the maintenance queue: the second pass over one erasure, once in-flight writes have landed. */
export const ErasureSweepJobSchema = z.strictObject({ erasureId: z.uuid(), userId: IdSchema });
export type ErasureSweepJob = z.infer<typeof ErasureSweepJobSchema>;
