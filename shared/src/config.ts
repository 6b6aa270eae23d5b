import { z } from 'zod';
import { ConfigError } from './errors';
import { DEFAULT_PROFILE_OPTIONS, type ProfileOptions } from './profile/options';

/** Booleans from the environment: only the usual spellings, anything else is an error. */
export const envBoolean = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * An evaluation clock: with `PORTRAIT_CLOCK` set (an ISO date-time), the process's clock reads that instant when it
 * starts and runs on from there, so a data set from another decade is ingested, folded, windowed and trained on as
 * if it were now. Unset, the clock is the system's. Every process of one stack must be given the same value.
 */
export const ClockEnv = z.object({
  PORTRAIT_CLOCK: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2001-06-01T00:00:00Z' }).optional(),
});

/** Settings every process shares: where Elasticsearch and Redis are, and the name prefix. */
export const CommonEnv = z.object({
  ES_URL: z.url().default('http://127.0.0.1:9200'),
  ES_USERNAME: z.string().optional(),
  ES_PASSWORD: z.string().optional(),
  /** How long a service waits for Elasticsearch at start-up before giving up. */
  ES_WAIT_SECONDS: z.coerce.number().int().min(0).max(3600).default(120),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  PORTRAIT_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _ only (it prefixes index names)')
    .default('portrait'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PROFILE_HALF_LIFE_DAYS: z.coerce.number().positive().max(3650).default(30),
  BASE_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('EUR'),
  /**
   * Whether the HTTP services ask for an API key on every route that has a scope (`npm run keys` makes keys).
   * On unless turned off: a service started without configuration serves no profile to anyone who can reach it.
   */
  AUTH_REQUIRED: envBoolean.default(true),
  /** Whether `/metrics` of every service asks for a key with scope `metrics` (or `admin`), as a Prometheus scrape can send. */
  METRICS_REQUIRE_KEY: envBoolean.default(false),
  /** Requests an API key may send per window, across every process, unless the key has a limit of its own. */
  API_KEY_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  API_KEY_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
  ...ClockEnv.shape,
});

export type CommonConfig = z.infer<typeof CommonEnv>;

export function clockOf(config: { PORTRAIT_CLOCK?: string }, startedAt = Date.now()): () => number {
  if (config.PORTRAIT_CLOCK === undefined) return Date.now;
  const offset = Date.parse(config.PORTRAIT_CLOCK) - startedAt;
  return () => Date.now() + offset;
}

/** The profile options every process that derives profiles uses: interest half-life and base currency from the environment. */
export function profileOptionsOf(config: Pick<CommonConfig, 'PROFILE_HALF_LIFE_DAYS' | 'BASE_CURRENCY'>): ProfileOptions {
  return { ...DEFAULT_PROFILE_OPTIONS, halfLifeDays: config.PROFILE_HALF_LIFE_DAYS, baseCurrency: config.BASE_CURRENCY };
}

/** Parses `env` with `schema`, throwing one ConfigError that lists every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => ({
        path: i.path.join('.'),
        reason: `${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`,
      })),
    );
  }
  return result.data;
}
