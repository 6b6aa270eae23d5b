import path from 'node:path';
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
  /** Items bought within this many days are never recommended to the buyer again. */
  RECOMMEND_BOUGHT_DAYS: envInt(1, 3650).default(365),
  /** Window of the popular ranking (purchases, carts, views). */
  RECOMMEND_POPULAR_DAYS: envInt(1, 3650).default(90),
  /** Window of the trending ranking. */
  RECOMMEND_TRENDING_DAYS: envInt(1, 365).default(7),
  /** The console's build (`npm run console:build`), served at `/console`. */
  CONSOLE_DIR: z.string().min(1).default(path.resolve(__dirname, '../../../console/dist')),
  /** An erasure's second pass runs this long after it, once every write in flight meanwhile has landed. */
  ERASURE_SWEEP_DELAY_SECONDS: envInt(1, 86_400).default(120),
});

export type QueryConfig = z.infer<typeof QueryEnv>;

export function loadQueryConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  return parseEnv(QueryEnv, env);
}
