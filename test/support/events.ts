import { randomUUID } from 'node:crypto';
import type { QueuedEvent } from '@portrait/shared';

let counter = 0;

/** A queued event with sensible defaults; override anything. */
export function queued<T extends Partial<QueuedEvent>>(partial: T & Pick<QueuedEvent, 'type'>): QueuedEvent {
  counter++;
  return {
    eventId: `e-${counter}-${randomUUID().slice(0, 8)}`,
    userId: 'u1',
    timestamp: '2026-11-20T10:00:00.000Z',
    receivedAt: Date.parse('2026-11-20T10:00:01.000Z'),
    ...partial,
  } as QueuedEvent;
}
