import { createHash } from 'node:crypto';
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import { z } from 'zod';
import {
  JobName,
  QueuedEventSchema,
  QueuedItemSchema,
  enrichEvent,
  itemsToEnrich,
  toIssues,
  type QueuedEvent,
  type QueuedItem,
} from '@portrait/shared';
import { isConnectionError, type DeadLetter, type IngestJobData, type Logger } from '@portrait/runtime';
import { TransientError } from './bulk';
import type { Catalogue } from './catalogue';
import type { Coalescer } from './coalescer';
import type { EventStore } from './event-store';
import { writeItems } from './item-writer';
import type { IndexerMetrics } from './metrics';
import type { ProfileWriter } from './profile-writer';

const EventsPayload = z.object({ events: z.array(QueuedEventSchema) });
const ItemsPayload = z.object({ items: z.array(QueuedItemSchema) });

export interface BatchDeps {
  coalescer: Coalescer<EventGroup, GroupResult>;
  writer: ProfileWriter;
  store: EventStore;
  catalogue: Catalogue;
  itemsAlias: string;
  es: import('@portrait/runtime').Client;
  deadLetter: Queue<DeadLetter>;
  metrics: IndexerMetrics;
  logger: Logger;
}

/**
 * Processes one ingest job. Safe to run again after a crash at any point: event history writes are
 * idempotent by id, profile folds skip applied event ids, item writes are externally versioned.
 * Permanent failures (bad payload, rejected document) go to the dead-letter queue with their reason;
 * outages are thrown so BullMQ retries the job with backoff.
 */
export async function processBatch(job: Job<IngestJobData>, deps: BatchDeps): Promise<GroupResult> {
  try {
    if (job.name === JobName.items) {
      const items = parsePayload(ItemsPayload, job.data, job.id).items as QueuedItem[];
      const failed = await writeItems(deps.es, deps.itemsAlias, items);
      deps.catalogue.forget(items.map((i) => i.itemId));
      if (failed.length > 0) {
        await deadLetter(deps, job.id, 'item-write', failed[0]!.reason, { items: failed.map((f) => f.item) });
      }
      return { applied: items.length - failed.length, duplicates: 0 };
    }
    if (job.name !== JobName.events) {
      await deadLetter(deps, job.id, 'validation', `unknown job name ${job.name}`, { events: [] });
      throw new UnrecoverableError(`unknown job name ${job.name}`);
    }
    const events = parsePayload(EventsPayload, job.data, job.id).events as QueuedEvent[];
    return await deps.coalescer.submit({ jobId: job.id, events });
  } catch (error) {
    if (error instanceof PayloadError) {
      await deadLetter(deps, job.id, 'validation', error.message, { events: (job.data as { events?: unknown[] }).events ?? [] });
      deps.metrics.deadLettered.inc({ stage: 'validation' }, 1);
      throw new UnrecoverableError(error.message);
    }
    if (error instanceof TransientError || isConnectionError(error)) {
      deps.metrics.retries.inc();
      deps.logger.warn(
        { jobId: job.id, attempt: job.attemptsMade + 1, reason: (error as Error).message },
        'batch failed for now; will retry',
      );
    }
    throw error;
  }
}

export interface EventGroup {
  jobId: string | undefined;
  events: QueuedEvent[];
}

export type GroupResult = { applied: number; duplicates: number };

/**
 * Applies the events of several jobs as one: one catalogue lookup, one history bulk, one profile
 * read-fold-write pass. Returns per-job counts; throws (failing every job, each retried) on an outage.
 */
export async function applyEventGroups(groups: EventGroup[], deps: Omit<BatchDeps, 'coalescer'>): Promise<GroupResult[]> {
  const started = process.hrtime.bigint();
  const events = groups.flatMap((g) => g.events);
  const jobOf = new Map<string, string | undefined>();
  for (const g of groups) for (const e of g.events) jobOf.set(e.eventId, g.jobId);
  const needed = events.flatMap(itemsToEnrich);
  const lookup = needed.length > 0 ? await deps.catalogue.load(needed) : () => undefined;
  const enriched = needed.length > 0 ? events.map((e) => enrichEvent(e, lookup)) : events;

  const [historyFailures, report] = await Promise.all([deps.store.write(enriched), deps.writer.apply(enriched)]);

  for (const failure of report.failed) {
    await deadLetter(deps, jobOf.get(failure.events[0]!.eventId), 'profile-write', failure.reason, { events: failure.events });
  }
  if (report.failed.length > 0) {
    deps.metrics.deadLettered.inc(
      { stage: 'profile-write' },
      report.failed.reduce((n, f) => n + f.events.length, 0),
    );
  }
  if (historyFailures.length > 0) {
    await deadLetter(deps, jobOf.get(historyFailures[0]!.event.eventId), 'event-write', historyFailures[0]!.reason, {
      events: historyFailures.map((f) => f.event),
    });
    deps.metrics.deadLettered.inc({ stage: 'event-write' }, historyFailures.length);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  deps.metrics.applied.inc(report.applied);
  deps.metrics.duplicates.inc(report.duplicates);
  deps.metrics.conflicts.inc(report.conflicts);
  deps.metrics.segmentChanges.inc({ source: 'events' }, report.segmentChanges);
  deps.metrics.batchSeconds.observe(seconds);
  deps.metrics.flushEvents.observe(events.length);
  const newest = events.reduce((max, e) => Math.max(max, e.receivedAt), 0);
  deps.metrics.lagSeconds.set((Date.now() - newest) / 1000);
  // The writer reports totals; per job, what matters is that its events are in (or skipped as seen).
  return groups.map((g) => ({ applied: g.events.length, duplicates: 0 }));
}

class PayloadError extends Error {}

function parsePayload<S extends z.ZodType>(schema: S, data: unknown, jobId: string | undefined): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = toIssues(parsed.error).slice(0, 5);
    throw new PayloadError(`job ${jobId} payload is invalid: ${issues.map((i) => `${i.path} ${i.reason}`).join('; ')}`);
  }
  return parsed.data;
}

async function deadLetter(
  deps: Pick<BatchDeps, 'logger' | 'deadLetter'>,
  sourceJobId: string | undefined,
  stage: string,
  reason: string,
  payload: Pick<DeadLetter, 'events' | 'items'>,
): Promise<void> {
  deps.logger.error({ jobId: sourceJobId, stage, reason, events: payload.events?.length, items: payload.items?.length }, 'dead-lettered');
  // A deterministic id: a retried job that dead-letters the same thing again does not duplicate it.
  const first = payload.events?.[0] as { eventId?: string } | undefined;
  const firstItem = payload.items?.[0] as { itemId?: string } | undefined;
  await deps.deadLetter.add(
    stage,
    { stage, reason, sourceJobId, failedAt: new Date().toISOString(), ...payload },
    {
      jobId: createHash('sha1')
        .update(`${sourceJobId}|${stage}|${first?.eventId ?? firstItem?.itemId ?? 'all'}`)
        .digest('hex'),
    },
  );
}
