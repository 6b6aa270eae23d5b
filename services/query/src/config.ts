import path from 'node:path';
import { z } from 'zod';
import { CallingCodeEnv, CommonEnv, envBoolean, envInt, parseEnv } from '@portrait/shared';

/** `<repo>/exports`, git-ignored. */
export const DEFAULT_EXPORT_DIR = path.resolve(__dirname, '../../../exports');

export const QueryEnv = CommonEnv.extend({
  QUERY_PORT: envInt(0, 65535).default(3003),
  QUERY_HOST: z.string().default('127.0.0.1'),
  /** Largest audience a streamed export may hold; larger ones go through an export job. */
  EXPORT_STREAM_MAX_ROWS: envInt(1, 10_000_000).default(50_000),
  /** Profiles read per page of the point-in-time walk. */
  EXPORT_PAGE_SIZE: envInt(1, 10_000).default(1000),
  /** Pause between pages, to spare Elasticsearch during big exports (0: none). */
  EXPORT_PAGE_PAUSE_MS: envInt(0, 60_000).default(0),
  /** Where export jobs write their files; every query process that serves downloads must see it. */
  EXPORT_DIR: z.string().min(1).default(DEFAULT_EXPORT_DIR),
  /** Export files are deleted this long after they were finished. */
  EXPORT_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  /** How often expired export files are swept. */
  EXPORT_SWEEP_EVERY_MS: envInt(1000, 86_400_000).default(600_000),
  /** Run the export job worker in this process. */
  EXPORT_WORKER: envBoolean.default(true),
  EXPORT_CONCURRENCY: envInt(1, 16).default(1),
  /** Country calling code for phones stored without one (e.g. 49); unset: such phones are left out. */
  EXPORT_DEFAULT_CALLING_CODE: CallingCodeEnv.optional(),
});

export type QueryConfig = z.infer<typeof QueryEnv>;

export function loadQueryConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  return parseEnv(QueryEnv, env);
}
