import { z } from 'zod';
import { CallingCodeEnv, CommonEnv, envInt, parseEnv } from '@portrait/shared';

export const IngestEnv = CommonEnv.extend({
  INGEST_PORT: envInt(0, 65535).default(3001),
  INGEST_HOST: z.string().default('127.0.0.1'),
  /** Largest batch request body. */
  INGEST_BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/, 'a size such as 512kb or 5mb')
    .default('5mb'),
  /** Queued ingest jobs (waiting + delayed) above which requests get 429. */
  INGEST_MAX_QUEUE_DEPTH: envInt(1, 10_000_000).default(20_000),
  INGEST_MAX_FUTURE_SKEW_SECONDS: envInt(0, 86_400).default(300),
  /** Oldest event time accepted, in days back from now (each month of history is an events index). */
  INGEST_MAX_EVENT_AGE_DAYS: envInt(1, 36_500).default(1095),
  /** How long an event id is remembered to answer client re-sends as duplicates. */
  INGEST_DEDUP_TTL_SECONDS: envInt(60, 90 * 86_400).default(7 * 86_400),
  /** Country calling code for phone numbers sent without one (`0170 1234567`); unset, such numbers are refused. */
  INGEST_DEFAULT_CALLING_CODE: CallingCodeEnv.optional(),
});

export type IngestConfig = z.infer<typeof IngestEnv>;

export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  return parseEnv(IngestEnv, env);
}
