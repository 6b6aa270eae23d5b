import { randomUUID } from 'node:crypto';
import { EventSchema, type IncomingEvent, type QueuedEvent } from './events';
import type { Issue } from './errors';
import { ItemBatchEntry, ItemSchema, type QueuedItem } from './items';
import { toIssues } from './validation';

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/**
 * Validates one incoming event against the shared schema and the clock: a timestamp more than
 * `maxFutureSkewMs` ahead of `nowMs` is rejected (it would sit in "the future" of every window).
 */
export function checkEvent(raw: unknown, nowMs: number, maxFutureSkewMs: number, base: (string | number)[] = []): Checked<IncomingEvent> {
  const parsed = EventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, base) };
  const event = parsed.data;
  const at = Date.parse(event.timestamp);
  if (at > nowMs + maxFutureSkewMs) {
    return {
      ok: false,
      issues: [
        {
          path: [...base, 'timestamp'].join('.'),
          reason: `is ${Math.round((at - nowMs) / 1000)} s in the future; at most ${Math.round(maxFutureSkewMs / 1000)} s of clock skew is accepted`,
        },
      ],
    };
  }
  if (at < Date.UTC(2000, 0, 1)) {
    return { ok: false, issues: [{ path: [...base, 'timestamp'].join('.'), reason: 'is before 2000-01-01' }] };
  }
  return { ok: true, value: event };
}

/** Gives the event its id (a client's, or a new UUID) and its receive time. */
export function toQueued(event: IncomingEvent, receivedAtMs: number): QueuedEvent {
  return { ...event, eventId: event.eventId ?? randomUUID(), receivedAt: receivedAtMs };
}

export function checkItem(
  raw: unknown,
  itemId: string | undefined,
  receivedAtMs: number,
  base: (string | number)[] = [],
): Checked<QueuedItem> {
  const parsed = itemId === undefined ? ItemBatchEntry.safeParse(raw) : ItemSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, base) };
  const data = parsed.data as typeof parsed.data & { itemId?: string };
  const id = itemId ?? data.itemId;
  if (id === undefined) return { ok: false, issues: [{ path: [...base, 'itemId'].join('.'), reason: 'is required' }] };
  const version = data.updatedAt ? Date.parse(data.updatedAt) : receivedAtMs;
  return { ok: true, value: { ...data, itemId: id, version } };
}
