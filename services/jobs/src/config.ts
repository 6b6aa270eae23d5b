import { z } from 'zod';
import { CommonEnv, envBoolean, envInt, parseEnv } from '@portrait/shared';
import { ExportEnv } from '@portrait/runtime';

export const JobsEnv = CommonEnv.extend({
  /** Port of the health/metrics endpoint. */
  JOBS_PORT: envInt(0, 65535).default(3004),
  JOBS_HOST: z.string().default('127.0.0.1'),
  /** How often time-relative fields are recomputed for profiles nobody touched. */
  REFRESH_EVERY_MS: envInt(10_000, 86_400_000).default(3_600_000),
  REFRESH_PAGE_SIZE: envInt(10, 10_000).default(1000),
  EVENTS_RETENTION_DAYS: envInt(1, 3650).default(400),
  /**
   * Dead-lettered events and items (raw payloads, contact data included) are deleted this long after they were
   * dead-lettered: long enough to fix the cause and replay them, not kept for ever.
   */
  DEAD_LETTER_RETENTION_DAYS: envInt(1, 365).default(14),
  /** How often every segment's materialized membership is reconciled (relative-time conditions drift). */
  SEGMENT_RECONCILE_EVERY_MS: envInt(10_000, 86_400_000).default(600_000),
  /** How often every active segment's member count is recorded (`<prefix>-segment-sizes`), and for how long. */
  SEGMENT_SNAPSHOT_EVERY_MS: envInt(60_000, 86_400_000).default(3_600_000),
  SEGMENT_SIZES_RETENTION_DAYS: envInt(1, 3650).default(400),
  /** Profiles per page and passes per segment when backfilling or reconciling membership. */
  SEGMENT_PAGE_SIZE: envInt(10, 10_000).default(1000),
  SEGMENT_MAX_PASSES: envInt(1, 100).default(10),
  /** Where export files are written (the query service serves them from there), and the walk's page size and pause. */
  ...ExportEnv,
  /** Export files are deleted this long after they were finished. */
  EXPORT_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  /** How often expired export files are swept. */
  EXPORT_SWEEP_EVERY_MS: envInt(1000, 86_400_000).default(600_000),
  /** Export jobs run at once per process. */
  EXPORT_CONCURRENCY: envInt(1, 16).default(1),
  /** Profiles (or purchase events) per page when a model is trained or profiles are re-scored. */
  MODEL_PAGE_SIZE: envInt(10, 10_000).default(2000),
  /** Passes of a re-score after a promotion before it reports what is left (profiles written meanwhile). */
  MODEL_RESCORE_MAX_PASSES: envInt(1, 100).default(5),
  /** How often every kind of model is trained again on the data as it is (stored, not promoted unless below). */
  MODEL_TRAIN_EVERY_MS: envInt(60_000, 30 * 86_400_000).default(7 * 86_400_000),
  /** Promote every scheduled training at once (off: versions wait for an explicit promotion). */
  MODEL_AUTO_PROMOTE: envBoolean.default(false),
});

export type JobsConfig = z.infer<typeof JobsEnv>;

export function loadJobsConfig(env: Record<string, string | undefined> = process.env): JobsConfig {
  return parseEnv(JobsEnv, env);
}
