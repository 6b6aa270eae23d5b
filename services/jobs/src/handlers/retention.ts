import { eventsIndexMonth, indexNames } from '@portrait/shared';
import type { Client } from '@portrait/runtime';
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

/** The daily deletion of expired event indices. */
export const retention: Handler<'retention'> = async ({ deps }) => {
  const deleted = await applyRetention({
    es: deps.es,
    prefix: deps.config.PORTRAIT_PREFIX,
    retentionDays: deps.config.EVENTS_RETENTION_DAYS,
    nowMs: deps.now(),
  });
  if (deleted.length > 0) deps.logger.info({ deleted }, 'expired event indices deleted');
  return { deleted };
};
