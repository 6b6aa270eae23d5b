import { eventsIndexMonth, indexNames } from '@portrait/shared';
import type { Client } from '@portrait/runtime';

/** Deletes monthly event indices whose whole month is older than the retention period. */
export async function applyRetention(es: Client, prefix: string, retentionDays: number, nowMs: number): Promise<string[]> {
  const names = indexNames(prefix);
  const indices = Object.keys(await es.indices.get({ index: names.eventsPattern, allow_no_indices: true, ignore_unavailable: true }));
  const cutoff = nowMs - retentionDays * 86_400_000;
  const expired = indices.filter((index) => {
    const month = eventsIndexMonth(prefix, index);
    if (!month) return false;
    const monthEnd = Date.UTC(month.year, month.month, 1); // first instant of the next month
    return monthEnd <= cutoff;
  });
  if (expired.length > 0) await es.indices.delete({ index: expired });
  return expired;
}
