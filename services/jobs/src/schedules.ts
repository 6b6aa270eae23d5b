import type { Queue } from 'bullmq';
import { JOBS, type JobKind, type JobQueue } from '@portrait/shared';
import type { JobsConfig } from './config';
import type { Handlers, JobEntry } from './handler';

/**
 * Creates or updates the schedulers of the scheduled jobs; answers their ids. Every jobs process does this
 * at start, and it is idempotent: BullMQ keeps one scheduler per id, and its next run is a single delayed
 * job whose id is the scheduler's id and the run's time slot, so however many processes upsert the
 * scheduler or poll the queue, each interval's job exists, and runs, once. The last process to start
 * sets the interval.
 */
export async function scheduleJobs(queues: Record<JobQueue, Queue>, handlers: Handlers, config: JobsConfig): Promise<string[]> {
  const ids: string[] = [];
  for (const kind of Object.keys(handlers) as JobKind[]) {
    const entry: Pick<JobEntry<JobKind>, 'every' | 'schedulerId'> = handlers[kind];
    if (!entry.every) continue;
    const spec = JOBS[kind];
    const id = entry.schedulerId ?? spec.name;
    await queues[spec.queue].upsertJobScheduler(id, { every: entry.every(config) }, { name: spec.name, data: spec.payload.parse({}) });
    ids.push(id);
  }
  return ids;
}
