import { indexNames, toEventDoc, type QueuedEvent } from '@portrait/shared';
import type { Client, estypes } from '@portrait/runtime';
import { bulkItemReason, classifyBulkItem, resultOf, TransientError } from './bulk';

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

  /** Returns events that can never be stored, with the reason; throws TransientError to retry. */
  async write(events: readonly QueuedEvent[]): Promise<{ event: QueuedEvent; reason: string }[]> {
    if (events.length === 0) return [];
    const operations: estypes.BulkRequest['operations'] = [];
    for (const event of events) {
      operations.push({ index: { _index: this.names.eventsIndexFor(Date.parse(event.timestamp)), _id: event.eventId } }, toEventDoc(event));
    }
    const res = await this.es.bulk({ operations });
    if (!res.errors) return [];
    const failed: { event: QueuedEvent; reason: string }[] = [];
    let transient: string | undefined;
    res.items.forEach((entry, i) => {
      const item = resultOf(entry);
      const fate = classifyBulkItem(item);
      if (fate === 'permanent') failed.push({ event: events[i]!, reason: bulkItemReason(item) });
      else if (fate !== 'ok') transient ??= bulkItemReason(item);
    });
    if (transient) throw new TransientError(`event history writes rejected for now (${transient})`);
    return failed;
  }
}
