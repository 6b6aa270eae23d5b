import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { z } from 'zod';
import { IdSchema, queueNames } from '@portrait/shared';
import { bullPrefix } from '@portrait/runtime';

export const ExportJobData = z.strictObject({ exportId: IdSchema });
export type ExportJobData = z.infer<typeof ExportJobData>;
/** Export jobs carry `{ exportId }`; the sweep carries nothing. */
export type ExportQueueData = ExportJobData | Record<string, never>;
export type ExportsQueue = Queue<ExportQueueData>;

/** Progress reported by a running export job. */
export interface ExportProgress {
  rows: number;
  total: number;
}

export const EXPORT_JOB_OPTIONS: JobsOptions = {
  // A retry starts over from a new snapshot; an outage longer than the backoff fails the export.
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 7 * 86_400, count: 1000 },
  removeOnFail: { age: 30 * 86_400 },
};

export function createExportsQueue(connection: ConnectionOptions, prefix: string): ExportsQueue {
  return new Queue<ExportQueueData>(queueNames().exports, {
    connection,
    prefix: bullPrefix(prefix),
    defaultJobOptions: EXPORT_JOB_OPTIONS,
  });
}

/** Redis key that asks a running export job to stop at its next page. */
export function cancelKey(prefix: string, exportId: string): string {
  return `${prefix}:exports:cancel:${exportId}`;
}

/** How long a cancel request is kept: longer than any export runs. */
export const CANCEL_KEY_TTL_SECONDS = 7 * 86_400;
