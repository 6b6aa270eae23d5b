import type { Job, Queue } from 'bullmq';
import type { IndexNames, JobKind, JobPayload, ProfileOptions } from '@portrait/shared';
import type {
  Client,
  Eraser,
  ExportAudit,
  ExportFiles,
  Logger,
  ModelStore,
  Redis,
  Scoring,
  SegmentRegistry,
  Tombstones,
} from '@portrait/runtime';
import type { JobsConfig } from './config';
import type { JobsMetrics } from './metrics';

/** What every handler may use: the process's clients, settings and metrics. */
export interface JobsDeps {
  config: JobsConfig;
  es: Client;
  /** Flags other processes set for a running job (an export's cancel request). */
  redis: Redis;
  names: IndexNames;
  /** The data set's Redis namespace (`<prefix>:<dataset>`): every Redis key this process touches lives under it. */
  namespace: string;
  /** The saved segments, for evaluating and publishing membership. */
  segments: SegmentRegistry;
  /** The stored models, and the active ones as profile writers use them. */
  models: ModelStore;
  scoring: Scoring;
  /** Queues handlers add jobs to (a promotion queues its re-score). */
  queues: { models: Queue };
  profileOptions: ProfileOptions;
  /** The process's clock: the system's, or the evaluation clock (`PORTRAIT_CLOCK`). */
  now: () => number;
  audit: ExportAudit;
  files: ExportFiles;
  /** Runs the second pass of an erasure. */
  eraser: Eraser;
  /** Erased users: trainings write no vector for them. */
  tombstones: Tombstones;
  metrics: JobsMetrics;
  logger: Logger;
}

/** One run of a job, as its handler sees it. */
export interface JobContext<K extends JobKind> {
  /** The payload, parsed with the job's schema in shared's `JOBS`. */
  data: JobPayload<K>;
  /** The BullMQ job: progress, attempts made, and moving it back to the queue. */
  job: Job;
  /** The worker's lock on the job, needed to move it. */
  token: string | undefined;
  /** True once the process is stopping: a handler that can stop early does so and puts its job back. */
  stopping: () => boolean;
  deps: JobsDeps;
}

export type Handler<K extends JobKind> = (context: JobContext<K>) => Promise<unknown>;

export interface JobEntry<K extends JobKind> {
  run: Handler<K>;
  /** A scheduled job's interval: one run per interval however many jobs processes there are. Unset: a producer queues it. */
  every?: (config: JobsConfig) => number;
  /** The scheduler's id in Redis where it predates the registry; the job's name otherwise. */
  schedulerId?: string;
}

/** One entry per job kind: the compiler refuses a kind without a handler. */
export type Handlers = { [K in JobKind]: JobEntry<K> };
