/**
 * A synthetic shop's event stream as the events index would give it back to a training job: each event validated
 * as ingest does (`EventSchema`, then `toQueued` with a receive time a second after the event), stored as
 * `toEventDoc` shapes it, read back from its JSON `_source` with `eventFromDoc`, and grouped per user in user id
 * order, each user's events in time order (the job's point-in-time walk sorted by user, then time).
 */
import { EventSchema, eventFromDoc, toEventDoc, toQueued, type EventDoc, type QueuedEvent } from '@portrait/shared';
import type { SyntheticShop } from './synthetic-shop';

export interface ShopHistories {
  /** Users in user id order, each with their behaviour events in time order. */
  users: [userId: string, events: QueuedEvent[]][];
  events: number;
  /** Events the history keeps no values of (attribute updates): not replayed. */
  notReplayed: number;
  /** Epoch ms of the newest event. */
  lastEventMs: number;
}

export function shopHistories(shop: SyntheticShop, count: number): ShopHistories {
  const byUser = new Map<string, QueuedEvent[]>();
  let events = 0;
  let notReplayed = 0;
  let lastEventMs = -Infinity;
  for (const raw of shop.events(count)) {
    events++;
    const incoming = EventSchema.parse(raw);
    const at = Date.parse(incoming.timestamp);
    lastEventMs = Math.max(lastEventMs, at);
    const source = JSON.parse(JSON.stringify(toEventDoc(toQueued(incoming, at + 1000)))) as EventDoc;
    const event = eventFromDoc(source);
    if (event === undefined) {
      notReplayed++;
      continue;
    }
    const list = byUser.get(event.userId);
    if (list) list.push(event);
    else byUser.set(event.userId, [event]);
  }
  // The shop's stream is in time order already; ties keep their stream order.
  const users = [...byUser].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { users, events, notReplayed, lastEventMs };
}
