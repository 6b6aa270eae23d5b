import type { SegmentChange } from '@portrait/shared';
import type { Client, estypes } from './elasticsearch';

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

export interface ConditionalWriteResult {
  written: number;
  /** Lost to a concurrent writer (`if_seq_no` no longer matched). */
  conflicts: number;
  failed: { id: string; reason: string }[];
  /** The segment transitions of the documents that were written, to publish. */
  changes: SegmentChange[];
}

/**
 * Sends conditional writes (one operation per document, each with `if_seq_no`) that carry segment
 * transitions, `changesOf[i]` for the i-th document, and sorts out what landed.
 */
export async function conditionalWrites(
  es: Client,
  operations: NonNullable<estypes.BulkRequest['operations']>,
  changesOf: readonly SegmentChange[][],
): Promise<ConditionalWriteResult> {
  const result: ConditionalWriteResult = { written: 0, conflicts: 0, failed: [], changes: [] };
  if (operations.length === 0) return result;
  const res = await es.bulk({ operations });
  res.items.forEach((entry, i) => {
    const item = resultOf(entry);
    const fate = classifyBulkItem(item);
    if (fate === 'ok') {
      result.written++;
      result.changes.push(...changesOf[i]!);
    } else if (fate === 'conflict') {
      result.conflicts++;
    } else {
      result.failed.push({ id: item._id ?? '?', reason: bulkItemReason(item) });
    }
  });
  return result;
}
