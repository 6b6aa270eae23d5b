import { createHash } from 'node:crypto';
import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import {
  JOBS,
  UnavailableError,
  queueNames,
  type DeadLetter,
  type ExportJobData,
  type IngestJobData,
  type JobKind,
  type JobPayload,
  type SegmentChange,
} from '@portrait/shared';

// The payload contracts live in shared (zod schemas); re-exported for the services that only need their types.
export type { DeadLetter, EventsJob, IngestJobData, ItemsJob, StagesDone } from '@portrait/shared';

/**
 * BullMQ key prefix, under the data set's Redis namespace (`<prefix>:<dataset>`, see `bindRedisToDataset`):
 * several Portraits and test runs share one Redis safely, and queued batches belong to one data set.
 */
export function bullPrefix(namespace: string): string {
  return `${namespace}:bull`;
}

export const INGEST_JOB_OPTIONS: JobsOptions = {
  // Effectively "until it works" for outages; permanent per-item failures are dead-lettered, not retried.
  attempts: 1000,
  backoff: { type: 'capped-exponential' },
  // An applied batch leaves Redis at once: its payload holds contact data, which the profile keeps from then on.
  removeOnComplete: true,
  // Nothing accepted expires: a batch that could not be applied is dead-lettered, and anything that still
  // ends up failed stays until a person replays or purges it (`npm run dlq`).
  removeOnFail: false,
};

/** A replayed dead-letter entry is kept a month after it completed: its id proves it was replayed. */
export const REPLAY_JOB_OPTIONS: JobsOptions = { removeOnComplete: { age: 30 * 86_400 } };

/** The ingest job id a dead-letter entry is replayed as: replaying it again finds that job and adds nothing. */
export function replayJobId(deadLetterId: string): string {
  return `replay-${deadLetterId}`;
}

export function createIngestQueue(connection: ConnectionOptions, namespace: string): Queue<IngestJobData> {
  return new Queue<IngestJobData>(queueNames().ingest, {
    connection,
    prefix: bullPrefix(namespace),
    defaultJobOptions: INGEST_JOB_OPTIONS,
  });
}

export function createDeadLetterQueue(connection: ConnectionOptions, namespace: string): Queue<DeadLetter> {
  return new Queue<DeadLetter>(queueNames().deadLetter, {
    connection,
    prefix: bullPrefix(namespace),
    defaultJobOptions: { removeOnComplete: false, removeOnFail: false },
  });
}

export function createMaintenanceQueue(connection: ConnectionOptions, namespace: string): Queue {
  return new Queue(queueNames().maintenance, {
    connection,
    prefix: bullPrefix(namespace),
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: 100, removeOnFail: 100 },
  });
}

/**
 * Queues a batch job for the jobs process under its name from shared's `JOBS`, its payload parsed with the
 * schema the handler parses it with. BullMQ waits for a lost connection to come back; a request does not:
 * after `timeoutMs` this answers `UnavailableError` (503), though the job may still reach Redis later.
 */
export async function addJob<K extends JobKind>(
  queue: Queue,
  kind: K,
  data: JobPayload<K>,
  opts?: JobsOptions,
  timeoutMs = 5000,
): Promise<Job> {
  const spec = JOBS[kind];
  const expected = queueNames()[spec.queue];
  if (queue.name !== expected) throw new Error(`${kind} jobs go on the ${expected} queue, not on ${queue.name}`);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UnavailableError(`Redis did not take the ${kind} job within ${timeoutMs} ms; retry shortly`, 'redis')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([queue.add(spec.name, spec.payload.parse(data), opts), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Delay before retry `attemptsMade` (1-based): 500 ms doubling, capped. */
export function cappedBackoff(attemptsMade: number, capMs: number): number {
  return Math.min(capMs, 500 * 2 ** Math.min(20, Math.max(0, attemptsMade - 1)));
}

/** Segment entries and exits for marketing tools; kept a week after they were consumed. */
export function createSegmentChangesQueue(connection: ConnectionOptions, namespace: string): Queue<SegmentChange> {
  return new Queue<SegmentChange>(queueNames().segmentChanges, {
    connection,
    prefix: bullPrefix(namespace),
    defaultJobOptions: { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } },
  });
}

/**
 * Publishes transitions. The job id is the SHA-256 of the change id, so a transition published again after a
 * crash or retry is not queued twice while the first is kept (consumers dedupe by `changeId` beyond that), and
 * the queue's event stream, which outlives the jobs, never names a user.
 */
export async function publishSegmentChanges(queue: Queue<SegmentChange>, changes: readonly SegmentChange[]): Promise<void> {
  if (changes.length === 0) return;
  await queue.addBulk(changes.map((c) => ({ name: c.change, data: c, opts: { jobId: segmentChangeJobId(c.changeId) } })));
}

export function segmentChangeJobId(changeId: string): string {
  return createHash('sha256').update(changeId, 'utf8').digest('hex');
}

/** Training and re-scoring: a failed training keeps its reason a month, for `GET /v1/models/:kind/train/:jobId`. */
export function createModelsQueue(connection: ConnectionOptions, namespace: string): Queue {
  return new Queue(queueNames().models, {
    connection,
    prefix: bullPrefix(namespace),
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 7 * 86_400, count: 1000 },
      removeOnFail: { age: 30 * 86_400 },
    },
  });
}

/** Export jobs carry `{ exportId }`; the expiry sweep carries nothing. */
export type ExportQueueData = ExportJobData | Record<string, never>;
export type ExportsQueue = Queue<ExportQueueData>;

export const EXPORT_JOB_OPTIONS: JobsOptions = {
  // A retry starts over from a new snapshot; an outage longer than the backoff fails the export.
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 7 * 86_400, count: 1000 },
  removeOnFail: { age: 30 * 86_400 },
};

export function createExportsQueue(connection: ConnectionOptions, namespace: string): ExportsQueue {
  return new Queue<ExportQueueData>(queueNames().exports, {
    connection,
    prefix: bullPrefix(namespace),
    defaultJobOptions: EXPORT_JOB_OPTIONS,
  });
}
