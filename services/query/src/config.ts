import { z } from 'zod';
import { CommonEnv, envInt, parseEnv } from '@portrait/shared';

export const QueryEnv = CommonEnv.extend({
  QUERY_PORT: envInt(0, 65535).default(3003),
  QUERY_HOST: z.string().default('127.0.0.1'),
});

export type QueryConfig = z.infer<typeof QueryEnv>;

export function loadQueryConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  return parseEnv(QueryEnv, env);
}
