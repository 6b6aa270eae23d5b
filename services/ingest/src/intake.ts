import type { Queue } from 'bullmq';
import { JobName, QueueFullError, UnavailableError, type IncomingEvent, type QueuedEvent, type QueuedItem } from '@portrait/shared';
import { Tombstones, type IngestJobData, type Redis } from '@portrait/runtime';
import { toQueued } from '@portrait/shared';

export type EventOutcome = { eventId: string; status: 'accepted' | 'duplicate' | 'erased' };

export interface IntakeOptions {
  /** The data set's Redis namespace (`<prefix>:<dataset>`). */
  namespace: string;
  maxQueueDepth: number;
  dedupTtlSeconds: number;
  /** Longest wait for Redis before answering 503. */
  redisTimeoutMs: number;
}

/**
 * Puts validated events on the ingest queue, one BullMQ job per request. Returns only after Redis has
 * the job (202 means queued in Redis). Event ids already queued within the dedup TTL are answered as
 * duplicates and not queued again; the profile fold drops any redelivery that slips past (e.g. two
 * concurrent sends of one id), so the effect is always that of one. Events of erased users are answered
 * `erased` and dropped: nothing of them is queued.
 */
export class Intake {
  private depth = { value: 0, at: 0 };
  private readonly tombstones: Tombstones;

  constructor(
    private readonly queue: Queue<IngestJobData>,
    private readonly redis: Redis,
    private readonly options: IntakeOptions,
  ) {
    this.tombstones = new Tombstones(redis, options.namespace);
  }

  async submitEvents(events: IncomingEvent[], receivedAtMs: number): Promise<EventOutcome[]> {
    if (events.length === 0) return [];
    await this.checkDepth();
    const queued = events.map((e) => toQueued(e, receivedAtMs));
    const keys = queued.map((e) => this.dedupKey(e.eventId));
    const [known, erased] = await this.unavailableIfDown(() =>
      Promise.all([this.redis.mget(...keys), this.tombstones.erasedAmong(queued.map((e) => e.userId))]),
    );
    const fresh: QueuedEvent[] = [];
    const inBatch = new Set<string>();
    const outcomes = queued.map((event, i): EventOutcome => {
      if (erased.has(event.userId)) return { eventId: event.eventId, status: 'erased' };
      if (known[i] !== null || inBatch.has(event.eventId)) return { eventId: event.eventId, status: 'duplicate' };
      inBatch.add(event.eventId);
      fresh.push(event);
      return { eventId: event.eventId, status: 'accepted' };
    });
    if (fresh.length === 0) return outcomes;
    await this.unavailableIfDown(() => this.queue.add(JobName.events, { events: fresh }));
    // Marked after queueing: a crash in between at worst lets one re-send through, which the fold drops.
    const mark = this.redis.pipeline();
    for (const event of fresh) mark.set(this.dedupKey(event.eventId), '1', 'EX', this.options.dedupTtlSeconds);
    await mark.exec().catch(() => undefined);
    return outcomes;
  }

  async submitItems(items: QueuedItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.checkDepth();
    await this.unavailableIfDown(() => this.queue.add(JobName.items, { items }));
  }

  /** Waiting + delayed jobs, read at most every 250 ms. */
  async queueDepth(): Promise<number> {
    const now = Date.now();
    if (now - this.depth.at > 250) {
      this.depth = { value: await this.queue.count(), at: now };
    }
    return this.depth.value;
  }

  private async checkDepth(): Promise<void> {
    const depth = await this.unavailableIfDown(() => this.queueDepth());
    if (depth >= this.options.maxQueueDepth) {
      throw new QueueFullError(
        `the ingest queue holds ${depth} batches (limit ${this.options.maxQueueDepth}); retry after the indicated delay`,
        Math.min(30, 1 + Math.ceil((depth - this.options.maxQueueDepth) / 1000)),
      );
    }
  }

  private dedupKey(eventId: string): string {
    return `${this.options.namespace}:dedup:${eventId}`;
  }

  /** Any Redis step failing, or taking longer than the timeout, becomes a 503: nothing hangs on a dead Redis. */
  private async unavailableIfDown<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.options.redisTimeoutMs} ms`)), this.options.redisTimeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (error) {
      if (error instanceof QueueFullError) throw error;
      // After a timeout the job may still have reached Redis: a retry is safe, because every event has an id (the
      // client's, or one derived from its content) that ingest and the profile fold recognise.
      throw new UnavailableError(
        `Redis is unavailable (${(error as Error).message}); the events may or may not be queued: retry the request, ` +
          'events are recognised by their eventId (or, without one, by their content) and never counted twice',
        'redis',
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
