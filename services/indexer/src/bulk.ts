import type { estypes } from '@portrait/runtime';

export type ItemFate = 'ok' | 'conflict' | 'transient' | 'permanent';

/** What to do about one bulk item: done, re-read and retry, retry later, or dead-letter. */
export function classifyBulkItem(item: estypes.BulkResponseItem): ItemFate {
  const status = item.status;
  if (status >= 200 && status < 300) return 'ok';
  if (status === 409) return 'conflict';
  if (status === 429 || status >= 500) return 'transient';
  return 'permanent';
}

export function bulkItemReason(item: estypes.BulkResponseItem): string {
  const error = item.error;
  if (!error) return `status ${item.status}`;
  return `${error.type}: ${error.reason ?? ''}`.trim();
}

/** The single result of a bulk line, whatever the operation was. */
export function resultOf(entry: Partial<Record<estypes.BulkOperationType, estypes.BulkResponseItem>>): estypes.BulkResponseItem {
  const item = entry.index ?? entry.create ?? entry.update ?? entry.delete;
  if (!item) throw new Error('bulk response entry without an operation');
  return item;
}

/** Thrown for failures worth retrying the whole batch for (cluster overloaded or unreachable). */
export class TransientError extends Error {}
