import { z } from 'zod';
import { CallingCodeEnv, CommonEnv, envInt, parseEnv } from '@portrait/shared';
import { ExportEnv } from '@portrait/runtime';

export const QueryEnv = CommonEnv.extend({
  QUERY_PORT: envInt(0, 65535).default(3003),
  QUERY_HOST: z.string().default('127.0.0.1'),
  /** Largest audience a streamed export may hold; larger ones go through an export job. */
  EXPORT_STREAM_MAX_ROWS: envInt(1, 10_000_000).default(50_000),
  /** EXPORT_DIR (downloads are served from it); page size and pause of streamed exports. */
  ...ExportEnv,
  /** Country calling code for phones stored without one (e.g. 49); unset: such phones are left out. */
  EXPORT_DEFAULT_CALLING_CODE: CallingCodeEnv.optional(),
});

export type QueryConfig = z.infer<typeof QueryEnv>;

export function loadQueryConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  return parseEnv(QueryEnv, env);
}
