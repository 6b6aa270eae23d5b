import { indexNames, toEventDoc, type QueuedEvent } from '@portrait/shared';
import { bulkItemReason, classifyBulkItem, resultOf, type Client, type estypes } from '@portrait/runtime';

export interface HistoryWriteReport {
  /** Ids of the events now in the history. */
  written: string[];
  /** Events that can never be stored, with the reason. */
  failed: { event: QueuedEvent; reason: string }[];
  /** Set when some events were turned away for now (overload): those are in neither list. */
  retry?: string;
}

/**
 * Keeps the event history: each event indexed once under its id in its month's index, so a re-run
 * overwrites the same document instead of adding a copy.
 */
export class EventStore {
  private readonly names;

  constructor(
    private readonly es: Client,
    prefix: string,
  ) {
    this.names = indexNames(prefix);
  }

  /** Throws only when the cluster cannot be reached at all (then nothing is known to be written). */
  async write(events: readonly QueuedEvent[]): Promise<HistoryWriteReport> {
    const report: HistoryWriteReport = { written: [], failed: [] };
    const operations: estypes.BulkRequest['operations'] = [];
    const sent: QueuedEvent[] = [];
    for (const event of events) {
      try {
        operations.push(
          { index: { _index: this.names.eventsIndexFor(Date.parse(event.timestamp)), _id: event.eventId } },
          toEventDoc(event),
        );
        sent.push(event);
      } catch (error) {
        report.failed.push({ event, reason: `cannot shape the history document: ${(error as Error).message}` });
      }
    }
    if (sent.length === 0) return report;
    const res = await this.es.bulk({ operations });
    res.items.forEach((entry, i) => {
      const item = resultOf(entry);
      const event = sent[i]!;
      switch (classifyBulkItem(item)) {
        case 'ok':
          report.written.push(event.eventId);
          break;
        case 'permanent':
          report.failed.push({ event, reason: bulkItemReason(item) });
          break;
        default:
          report.retry ??= `event history writes rejected for now (${bulkItemReason(item)})`;
      }
    });
    return report;
  }
}
