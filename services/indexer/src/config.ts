import { z } from 'zod';
import { CommonEnv, envInt, parseEnv } from '@portrait/shared';

export const IndexerEnv = CommonEnv.extend({
  /** Port of the health/metrics endpoint. */
  INDEXER_PORT: envInt(0, 65535).default(3002),
  INDEXER_HOST: z.string().default('127.0.0.1'),
  /** Ingest jobs held at once by this process; their events are merged into shared flushes. */
  INDEXER_CONCURRENCY: envInt(1, 1024).default(16),
  /** Largest merged flush, in events. */
  INDEXER_FLUSH_EVENTS: envInt(1, 50_000).default(2500),
  /** How long the first waiting event waits for others to join its flush. */
  INDEXER_LINGER_MS: envInt(0, 5000).default(20),
  /** Flushes (read-fold-write passes) running at once per process. */
  INDEXER_PARALLEL_FLUSHES: envInt(1, 16).default(2),
  /** A job whose worker stops heart-beating for this long is handed to another worker. */
  INDEXER_LOCK_MS: envInt(1000, 600_000).default(30_000),
  INDEXER_STALLED_CHECK_MS: envInt(500, 600_000).default(15_000),
  /** Upper bound of the delay between retries of a failing batch. */
  INDEXER_RETRY_CAP_MS: envInt(100, 600_000).default(30_000),
  /** Rounds of read-fold-write per batch when other writers win the race for a profile. */
  INDEXER_CONFLICT_ROUNDS: envInt(1, 100).default(20),
  /** How long applied event ids are remembered per profile to drop redeliveries. */
  INDEXER_DEDUP_HORIZON_HOURS: envInt(1, 24 * 30).default(24),
});

export type IndexerConfig = z.infer<typeof IndexerEnv>;

export function loadIndexerConfig(env: Record<string, string | undefined> = process.env): IndexerConfig {
  return parseEnv(IndexerEnv, env);
}
