import { eventsIndexMonth, indexNames } from '@portrait/shared';
import { createDeadLetterQueue, type Client, type Redis } from '@portrait/runtime';
import type { Handler } from '../handler';

export interface RetentionOptions {
  es: Client;
  prefix: string;
  retentionDays: number;
  nowMs: number;
}

/** Deletes monthly event indices whose whole month is older than the retention period; answers their names. */
export async function applyRetention(options: RetentionOptions): Promise<string[]> {
  const { es, prefix } = options;
  const names = indexNames(prefix);
  const indices = Object.keys(await es.indices.get({ index: names.eventsPattern, allow_no_indices: true, ignore_unavailable: true }));
  const cutoff = options.nowMs - options.retentionDays * 86_400_000;
  const expired = indices.filter((index) => {
    const month = eventsIndexMonth(prefix, index);
    if (!month) return false;
    const monthEnd = Date.UTC(month.year, month.month, 1); // first instant of the next month
    return monthEnd <= cutoff;
  });
  if (expired.length > 0) await es.indices.delete({ index: expired });
  return expired;
}

/** Pages of dead letters removed per call; repeated until none is older than the cutoff. */
const DEAD_LETTER_PAGE = 1000;

/**
 * Deletes dead letters dead-lettered more than `retentionDays` ago (by the real clock: BullMQ stamps them with
 * it); answers how many. They hold raw payloads, contact data included, so they do not stay for ever.
 */
export async function expireDeadLetters(options: { redis: Redis; namespace: string; retentionDays: number }): Promise<number> {
  const queue = createDeadLetterQueue(options.redis, options.namespace);
  try {
    let removed = 0;
    for (;;) {
      const page = await queue.clean(options.retentionDays * 86_400_000, DEAD_LETTER_PAGE, 'wait');
      removed += page.length;
      if (page.length < DEAD_LETTER_PAGE) return removed;
    }
  } finally {
    await queue.close();
  }
}

/** The daily deletion of expired event indices and dead letters. */
export const retention: Handler<'retention'> = async ({ deps }) => {
  const deleted = await applyRetention({
    es: deps.es,
    prefix: deps.config.PORTRAIT_PREFIX,
    retentionDays: deps.config.EVENTS_RETENTION_DAYS,
    nowMs: deps.now(),
  });
  if (deleted.length > 0) deps.logger.info({ deleted }, 'expired event indices deleted');
  const deadLetters = await expireDeadLetters({
    redis: deps.redis,
    namespace: deps.namespace,
    retentionDays: deps.config.DEAD_LETTER_RETENTION_DAYS,
  });
  if (deadLetters > 0) deps.logger.info({ deadLetters }, 'expired dead letters deleted');
  return { deleted, deadLetters };
};
