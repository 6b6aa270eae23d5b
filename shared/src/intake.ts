import { hash } from 'node:crypto';
import { eventSchemas, type ContactRules, type IncomingEvent, type QueuedEvent } from './events';
import type { Issue } from './errors';
import { ItemBatchEntry, ItemSchema, type QueuedItem } from './items';
import { malformedStrings, toIssues } from './validation';

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** How far from the server clock event and item times may lie. */
export interface TimeBounds {
  /** A time more than this ahead of the clock would sit in "the future" of every window. */
  maxFutureSkewMs: number;
  /** A time further back than this is refused: each month of history is an index of its own. */
  maxAgeMs: number;
}

/** What an incoming event is held to: the time bounds, and how its contact data is read. */
export type EventRules = TimeBounds & ContactRules;

/** The earliest time anything may carry, whatever `maxAgeMs` allows. */
export const EARLIEST_TIME_MS = Date.UTC(2000, 0, 1);

function timeIssue(at: number, nowMs: number, bounds: TimeBounds, path: string): Issue | undefined {
  if (at > nowMs + bounds.maxFutureSkewMs) {
    return {
      path,
      reason: `is ${Math.round((at - nowMs) / 1000)} s in the future; at most ${Math.round(bounds.maxFutureSkewMs / 1000)} s of clock skew is accepted`,
    };
  }
  const earliest = Math.max(EARLIEST_TIME_MS, nowMs - bounds.maxAgeMs);
  if (at < earliest) return { path, reason: `is before ${new Date(earliest).toISOString()}, the earliest time accepted` };
  return undefined;
}

/** Validates one incoming event against the shared schema and the clock; contact data comes out normalized. */
export function checkEvent(raw: unknown, nowMs: number, rules: EventRules, base: (string | number)[] = []): Checked<IncomingEvent> {
  const malformed = malformedStrings(raw, base);
  if (malformed.length > 0) return { ok: false, issues: malformed };
  const parsed = eventSchemas(rules).EventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, base) };
  const event = parsed.data;
  const issue = timeIssue(Date.parse(event.timestamp), nowMs, rules, [...base, 'timestamp'].join('.'));
  return issue ? { ok: false, issues: [issue] } : { ok: true, value: event };
}

/**
 * The id of an event the client sent without one: a digest of its content. A retried request (the
 * client saw a timeout or a 503 while the first attempt had in fact been queued) carries the same
 * events, gets the same ids and is dropped as a duplicate; two events that differ in nothing, not even
 * the millisecond of their timestamp, are taken to be one. `event` is the validated event: the schema's
 * output has its own key order and normalized timestamps, so the JSON text is the same however the
 * client ordered or spelled it (a unit test holds this).
 */
export function contentEventId(event: IncomingEvent): string {
  // JSON.stringify leaves out an undefined eventId: the id never hashes itself.
  const content = event.eventId === undefined ? event : { ...event, eventId: undefined };
  return `h-${hash('sha256', JSON.stringify(content), 'hex').slice(0, 32)}`;
}

/** Gives the event its id (the client's, or one derived from its content) and its receive time. */
export function toQueued(event: IncomingEvent, receivedAtMs: number): QueuedEvent {
  return { ...event, eventId: event.eventId ?? contentEventId(event), receivedAt: receivedAtMs };
}

export function checkItem(
  raw: unknown,
  itemId: string | undefined,
  receivedAtMs: number,
  bounds: TimeBounds,
  base: (string | number)[] = [],
): Checked<QueuedItem> {
  const malformed = malformedStrings(raw, base);
  if (malformed.length > 0) return { ok: false, issues: malformed };
  const parsed = itemId === undefined ? ItemBatchEntry.safeParse(raw) : ItemSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, base) };
  const data = parsed.data as typeof parsed.data & { itemId?: string };
  const id = itemId ?? data.itemId;
  if (id === undefined) return { ok: false, issues: [{ path: [...base, 'itemId'].join('.'), reason: 'is required' }] };
  const version = data.updatedAt ? Date.parse(data.updatedAt) : receivedAtMs;
  if (data.updatedAt) {
    // The version is Elasticsearch's external version: never negative, and a far-future one would block every later update.
    const issue = timeIssue(version, receivedAtMs, { ...bounds, maxAgeMs: Number.POSITIVE_INFINITY }, [...base, 'updatedAt'].join('.'));
    if (issue) return { ok: false, issues: [issue] };
  }
  return { ok: true, value: { ...data, itemId: id, version } };
}
