import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { JobName, type QueuedEvent } from '@portrait/shared';
import type { Client, IngestJobData } from '@portrait/runtime';

/** `jobs` batches of `perJob` page views spread round-robin over `users`; returns expected counts per user. */
export function pageViewBatches(
  jobs: number,
  perJob: number,
  users: string[],
): { batches: QueuedEvent[][]; expected: Map<string, number> } {
  const expected = new Map<string, number>();
  const batches: QueuedEvent[][] = [];
  let n = 0;
  for (let j = 0; j < jobs; j++) {
    const batch: QueuedEvent[] = [];
    for (let i = 0; i < perJob; i++) {
      const userId = users[n++ % users.length]!;
      expected.set(userId, (expected.get(userId) ?? 0) + 1);
      batch.push({
        type: 'page_view',
        eventId: randomUUID(),
        userId,
        timestamp: new Date(Date.now() - (n % 600) * 1000).toISOString(),
        receivedAt: Date.now(),
        category: [`cat-${n % 7}`],
      });
    }
    batches.push(batch);
  }
  return { batches, expected };
}

export async function enqueue(queue: Queue<IngestJobData>, batches: QueuedEvent[][]): Promise<void> {
  await queue.addBulk(batches.map((events) => ({ name: JobName.events, data: { events } })));
}

/** Reads lifetime event counts of the given users straight from the profile index. */
export async function eventCounts(es: Client, prefix: string, users: string[]): Promise<Map<string, number>> {
  await es.indices.refresh({ index: `${prefix}-profiles` });
  const res = await es.mget<{ behavior: { eventCount: number } }>({
    index: `${prefix}-profiles`,
    ids: users,
    _source_includes: ['behavior.eventCount'],
  });
  const out = new Map<string, number>();
  for (const doc of res.docs) {
    if ('found' in doc && doc.found) out.set(doc._id, doc._source!.behavior.eventCount);
  }
  return out;
}

/** How many of the `total` batches enqueued are done: no longer waiting, delayed or running (applied ones leave the queue). */
export async function processedOf(queue: Queue<IngestJobData>, total: number): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return total - Object.values(counts).reduce((sum, n) => sum + n, 0);
}

export async function drained(queue: Queue<IngestJobData>, total: number): Promise<boolean> {
  return (await processedOf(queue, total)) >= total;
}
