import type { Queue } from 'bullmq';
import { segmentsGenerationKey } from '@portrait/shared';
import { addJob, withEs, withRedis, type Client, type Redis } from '@portrait/runtime';
import type { Segment } from './store';

export interface MembershipStatus {
  segmentId: string;
  version: number;
  /** Profiles tagged with the segment (`segments` field). */
  materialized: number;
  backfill: { jobId: string; state: string; progress: unknown; finishedAt?: string; failedReason?: string } | null;
}

/**
 * Keeps materialized membership moving with segment changes: after a save or delete it tells the profile
 * writers to reload definitions (a Redis generation counter) and queues the segment's backfill, a
 * reconciliation job on the maintenance queue that the jobs process runs with progress.
 */
export class MembershipJobs {
  constructor(
    private readonly es: Client,
    private readonly profiles: string,
    private readonly redis: Redis,
    private readonly maintenance: Queue,
    /** The data set's Redis namespace. */
    private readonly namespace: string,
  ) {}

  /** One job per segment version (or deletion): saving the same version again does not queue it twice. */
  static jobId(segment: Pick<Segment, 'segmentId' | 'version' | 'status'>): string {
    // BullMQ job ids may not contain ':', which segment ids may.
    const id = encodeURIComponent(segment.segmentId);
    return segment.status === 'deleted' ? `backfill-${id}-deleted` : `backfill-${id}-v${segment.version}`;
  }

  async changed(segment: Segment): Promise<string> {
    const jobId = MembershipJobs.jobId(segment);
    await withRedis(async () => {
      await this.redis.incr(segmentsGenerationKey(this.namespace));
      await addJob(this.maintenance, 'segmentBackfill', { segmentId: segment.segmentId }, { jobId, attempts: 5 });
    });
    return jobId;
  }

  async status(segment: Segment): Promise<MembershipStatus> {
    const jobId = MembershipJobs.jobId(segment);
    const [count, job] = await Promise.all([
      withEs(() => this.es.count({ index: this.profiles, query: { term: { segments: segment.segmentId } } })),
      withRedis(() => this.maintenance.getJob(jobId)),
    ]);
    let backfill: MembershipStatus['backfill'] = null;
    if (job) {
      backfill = {
        jobId,
        state: await withRedis(() => job.getState()),
        progress: job.progress,
        ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
        ...(job.failedReason ? { failedReason: job.failedReason } : {}),
      };
    }
    return { segmentId: segment.segmentId, version: segment.version, materialized: count.count, backfill };
  }
}
