import { DelayedError, UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { z } from 'zod';
import { JOBS, queueNames, type JobKind, type JobQueue } from '@portrait/shared';
import { bullPrefix, closeRedis, createRedis, type Redis } from '@portrait/runtime';
import type { JobsConfig } from './config';
import type { Handlers, JobsDeps } from './handler';

const KINDS = Object.keys(JOBS) as JobKind[];

/** The job kind a job name on a queue stands for. */
export function kindOf(queue: JobQueue, name: string): JobKind | undefined {
  return KINDS.find((kind) => JOBS[kind].queue === queue && JOBS[kind].name === name);
}

/** Where the job's payload does not fit its schema, as `path: reason` pairs. */
function payloadIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}

export interface Dispatch {
  handlers: Handlers;
  deps: JobsDeps;
  stopping: () => boolean;
}

/**
 * Runs one job through its handler: the kind from the job's name on its queue, the payload parsed with the
 * kind's schema. A name no kind has, or a payload that does not parse, fails the job for good
 * (UnrecoverableError: not retried, kept in the failed set for inspection); whatever else a handler throws
 * is retried with the queue's backoff while attempts remain.
 */
export async function dispatch(queue: JobQueue, job: Job, token: string | undefined, context: Dispatch): Promise<unknown> {
  const { deps } = context;
  const kind = kindOf(queue, job.name);
  if (!kind) {
    deps.metrics.runs.inc({ job: 'unknown', outcome: 'invalid' });
    throw new UnrecoverableError(`no handler for job ${job.name} on the ${queue} queue`);
  }
  const started = performance.now();
  let outcome = 'completed';
  try {
    return await runKind(kind, job, token, context);
  } catch (error) {
    outcome = error instanceof DelayedError ? 'requeued' : error instanceof InvalidPayload ? 'invalid' : 'failed';
    throw error;
  } finally {
    deps.metrics.runs.inc({ job: kind, outcome });
    deps.metrics.seconds.observe({ job: kind }, (performance.now() - started) / 1000);
  }
}

class InvalidPayload extends UnrecoverableError {}

function runKind<K extends JobKind>(kind: K, job: Job, token: string | undefined, context: Dispatch): Promise<unknown> {
  const parsed = JOBS[kind].payload.safeParse(job.data);
  if (!parsed.success) throw new InvalidPayload(`${job.name} job ${job.id} has an invalid payload: ${payloadIssues(parsed.error)}`);
  const entry = context.handlers[kind];
  return entry.run({ data: parsed.data, job, token, stopping: context.stopping, deps: context.deps });
}

export type WorkerSettings = Pick<WorkerOptions, 'concurrency' | 'lockDuration'>;

/** How each queue's worker runs. */
export function workerSettings(config: JobsConfig): Record<JobQueue, WorkerSettings> {
  return {
    // Two at once, so a segment backfill does not wait behind a long refresh; both write conditionally.
    maintenance: { concurrency: 2, lockDuration: 120_000 },
    exports: { concurrency: config.EXPORT_CONCURRENCY },
    // One at a time: fitting is CPU-bound and holds the event loop in long stretches, hence the long lock.
    models: { concurrency: 1, lockDuration: 600_000 },
  };
}

export interface Workers {
  /** Tells running jobs the process is stopping, then waits for them; safe to call twice. */
  close: () => Promise<void>;
}

/** One BullMQ worker per queue that carries jobs, each on its own connection, all handing jobs to `dispatch`. */
export function startWorkers(options: {
  redisUrl: string;
  /** The data set's Redis namespace. */
  namespace: string;
  settings: Record<JobQueue, WorkerSettings>;
  handlers: Handlers;
  deps: JobsDeps;
}): Workers {
  const { deps } = options;
  let stopping = false;
  const context: Dispatch = { handlers: options.handlers, deps, stopping: () => stopping };
  const queues = [...new Set(KINDS.map((kind) => JOBS[kind].queue))];
  const running: { worker: Worker; connection: Redis }[] = queues.map((queue) => {
    // A worker connection waits for Redis instead of failing, so the process starts (and reports not ready) without it.
    const connection = createRedis(options.redisUrl, 'worker');
    connection.on('error', () => undefined);
    const worker = new Worker(queueNames()[queue], (job, token) => dispatch(queue, job, token, context), {
      connection,
      prefix: bullPrefix(options.namespace),
      ...options.settings[queue],
    });
    worker.on('error', (err) => deps.logger.error({ err: err.message, queue }, 'jobs worker error'));
    worker.on('failed', (job, err) => {
      if (job) deps.logger.warn({ queue, job: job.name, jobId: job.id, attempt: job.attemptsMade, err: err.message }, 'job failed');
    });
    return { worker, connection };
  });
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        try {
          await Promise.all(running.map(({ worker }) => worker.close()));
        } finally {
          await Promise.all(running.map(({ connection }) => closeRedis(connection)));
        }
      })()),
  };
}
