import { createHash } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import {
  EventsJobSchema,
  ItemsJobSchema,
  JobName,
  TransientError,
  enrichEvent,
  itemsToEnrich,
  toIssues,
  type DeadLetter,
  type DeadLetterStage,
  type IngestJobData,
  type QueuedEvent,
  type StagesDone,
} from '@portrait/shared';
import { isConnectionError, type ContentVectors, type Logger, type Tombstones } from '@portrait/runtime';
import type { Catalogue } from './catalogue';
import type { Coalescer } from './coalescer';
import type { EventStore, HistoryWriteReport } from './event-store';
import { writeItems } from './item-writer';
import type { IndexerMetrics } from './metrics';
import type { ProfileWriter, ProfileWriteReport } from './profile-writer';

export interface BatchDeps {
  coalescer: Coalescer<EventGroup, GroupResult>;
  writer: ProfileWriter;
  store: EventStore;
  catalogue: Catalogue;
  itemsAlias: string;
  /** The active content model, for the vectors of upserted items. */
  content: ContentVectors;
  es: import('@portrait/runtime').Client;
  deadLetter: Queue<DeadLetter>;
  /** Erased users: their events are dropped, never stored. */
  tombstones: Tombstones;
  metrics: IndexerMetrics;
  logger: Logger;
}

export interface BatchOutcome {
  events: number;
  items: number;
  deadLettered: number;
}

/**
 * Processes one ingest job. Safe to run again after a crash at any point: event history writes are
 * idempotent by id, profile folds skip applied event ids, item writes are externally versioned.
 *
 * What cannot be applied goes to the dead-letter queue with its stage and reason, alone: one bad event
 * never holds back the others of its job or of the jobs merged with it. What must wait (an outage,
 * overload) is retried with backoff; the job records which stages each event has completed, so a retry
 * redoes only the rest, and when its attempts run out what is left is dead-lettered too. Nothing accepted
 * ends in BullMQ's failed set or expires.
 */
export async function processBatch(job: Job<IngestJobData>, deps: BatchDeps): Promise<BatchOutcome> {
  if (job.name === JobName.items) return processItems(job, deps);
  if (job.name !== JobName.events) {
    await deadLetter(deps, job.id, 'validation', `unknown job name ${job.name}`, { events: eventsOf(job.data) });
    return { events: 0, items: 0, deadLettered: 1 };
  }
  const parsed = EventsJobSchema.safeParse(job.data);
  if (!parsed.success) {
    const issues = toIssues(parsed.error).slice(0, 5);
    const reason = `job ${job.id} payload is invalid: ${issues.map((i) => `${i.path} ${i.reason}`).join('; ')}`;
    await deadLetter(deps, job.id, 'validation', reason, { events: eventsOf(job.data) });
    return { events: 0, items: 0, deadLettered: eventsOf(job.data).length };
  }
  const { events } = parsed.data;
  let result: GroupResult;
  try {
    result = await deps.coalescer.submit({ jobId: job.id, events, done: doneSets(parsed.data.done) });
  } catch (error) {
    deps.logger.error({ jobId: job.id, err: (error as Error).message }, 'applying a batch threw');
    result = { done: doneSets(parsed.data.done), deadLettered: 0, retry: reasonOf(error) };
  }
  if (result.retry === undefined) return { events: events.length, items: 0, deadLettered: result.deadLettered };

  const done = { history: [...result.done.history], profile: [...result.done.profile] };
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (lastAttempt) {
    const left = events.filter((e) => !result.done.history.has(e.eventId) || !result.done.profile.has(e.eventId));
    const ids = new Set(left.map((e) => e.eventId));
    const reason = `gave up after ${job.attemptsMade + 1} attempts: ${result.retry}`;
    await deadLetter(deps, job.id, 'attempts-exhausted', reason, {
      events: left,
      done: { history: done.history.filter((id) => ids.has(id)), profile: done.profile.filter((id) => ids.has(id)) },
    });
    deps.metrics.deadLettered.inc({ stage: 'attempts-exhausted' }, left.length);
    return { events: events.length, items: 0, deadLettered: result.deadLettered + left.length };
  }
  await job.updateData({ events, done });
  deps.metrics.retries.inc();
  deps.logger.warn({ jobId: job.id, attempt: job.attemptsMade + 1, reason: result.retry }, 'batch not fully applied for now; will retry');
  throw new TransientError(`${result.retry}; the batch will be retried`);
}

async function processItems(job: Job<IngestJobData>, deps: BatchDeps): Promise<BatchOutcome> {
  const parsed = ItemsJobSchema.safeParse(job.data);
  if (!parsed.success) {
    const issues = toIssues(parsed.error).slice(0, 5);
    const reason = `job ${job.id} payload is invalid: ${issues.map((i) => `${i.path} ${i.reason}`).join('; ')}`;
    const items = (job.data as { items?: unknown[] }).items ?? [];
    await deadLetter(deps, job.id, 'validation', reason, { items });
    return { events: 0, items: 0, deadLettered: items.length };
  }
  const { items } = parsed.data;
  try {
    const failed = await writeItems(deps.es, deps.itemsAlias, items, await deps.content.active());
    deps.catalogue.forget(items.map((i) => i.itemId));
    if (failed.length > 0) {
      await deadLetter(deps, job.id, 'item-write', failed[0]!.reason, { items: failed.map((f) => f.item) });
      deps.metrics.deadLettered.inc({ stage: 'item-write' }, failed.length);
    }
    return { events: 0, items: items.length - failed.length, deadLettered: failed.length };
  } catch (error) {
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
      await deadLetter(deps, job.id, 'attempts-exhausted', `gave up after ${job.attemptsMade + 1} attempts: ${(error as Error).message}`, {
        items,
      });
      deps.metrics.deadLettered.inc({ stage: 'attempts-exhausted' }, items.length);
      return { events: 0, items: 0, deadLettered: items.length };
    }
    deps.metrics.retries.inc();
    throw error;
  }
}

const eventsOf = (data: unknown): unknown[] => {
  const events = (data as { events?: unknown } | undefined)?.events;
  return Array.isArray(events) ? events : [];
};

interface DoneSets {
  history: Set<string>;
  profile: Set<string>;
}

const doneSets = (done: StagesDone | undefined): DoneSets => ({ history: new Set(done?.history), profile: new Set(done?.profile) });

export interface EventGroup {
  jobId: string | undefined;
  events: QueuedEvent[];
  /** Stages already done per event id; not redone. */
  done: DoneSets;
}

export interface GroupResult {
  /** Stages done (or handed to the dead-letter queue) per event id, after this pass. */
  done: DoneSets;
  deadLettered: number;
  /** Why some stage of some event must be tried again; undefined when the group is fully handled. */
  retry?: string;
}

/** Transient: worth trying again later. Anything else a stage throws is a bug, also retried, and logged. */
function reasonOf(error: unknown): string {
  if (error instanceof TransientError || isConnectionError(error)) return (error as Error).message;
  return `unexpected error: ${(error as Error).message}`;
}

/**
 * Applies the events of several jobs as one: one catalogue lookup, one history bulk, one profile
 * read-fold-write pass. Never throws: reports per job what each stage completed, and why the rest must wait.
 * Events of erased users (queued before their erasure) are dropped and counted: both stages count as done.
 */
export async function applyEventGroups(groups: EventGroup[], deps: Omit<BatchDeps, 'coalescer'>): Promise<GroupResult[]> {
  let erased: Set<string>;
  try {
    erased = await deps.tombstones.erasedAmong(groups.flatMap((g) => g.events.map((e) => e.userId)));
  } catch (error) {
    const retry = `the erased users could not be read (${reasonOf(error)})`;
    return groups.map((g) => ({ done: { history: new Set(g.done.history), profile: new Set(g.done.profile) }, deadLettered: 0, retry }));
  }
  if (erased.size === 0) return applyLiveGroups(groups, deps);
  const dropped = groups.map((g) => g.events.filter((e) => erased.has(e.userId)).map((e) => e.eventId));
  deps.metrics.erasedDropped.inc(dropped.reduce((n, ids) => n + ids.length, 0));
  const results = await applyLiveGroups(
    groups.map((g) => ({ ...g, events: g.events.filter((e) => !erased.has(e.userId)) })),
    deps,
  );
  return results.map((r, i) => {
    for (const id of dropped[i]!) {
      r.done.history.add(id);
      r.done.profile.add(id);
    }
    return r;
  });
}

async function applyLiveGroups(groups: EventGroup[], deps: Omit<BatchDeps, 'coalescer'>): Promise<GroupResult[]> {
  const started = process.hrtime.bigint();
  const events = groups.flatMap((g) => g.events);
  // An id can be in two jobs of one flush (a re-send racing its original): what is done is done for both.
  const groupsOf = new Map<string, number[]>();
  groups.forEach((g, i) =>
    g.events.forEach((e) => {
      const list = groupsOf.get(e.eventId);
      if (list) list.push(i);
      else groupsOf.set(e.eventId, [i]);
    }),
  );
  const firstGroup = (eventId: string): number => groupsOf.get(eventId)![0]!;
  const results: GroupResult[] = groups.map((g) => ({
    done: { history: new Set(g.done.history), profile: new Set(g.done.profile) },
    deadLettered: 0,
  }));

  let enriched: QueuedEvent[];
  try {
    const needed = events.flatMap(itemsToEnrich);
    const lookup = needed.length > 0 ? await deps.catalogue.load(needed) : () => undefined;
    enriched = needed.length > 0 ? events.map((e) => enrichEvent(e, lookup)) : events;
  } catch (error) {
    const retry = `catalogue lookup failed (${reasonOf(error)})`;
    return results.map((r) => ({ ...r, retry }));
  }
  const byId = new Map(enriched.map((e) => [e.eventId, e]));
  const todo = (stage: keyof DoneSets): QueuedEvent[] =>
    groups.flatMap((g) => g.events.filter((e) => !g.done[stage].has(e.eventId)).map((e) => byId.get(e.eventId)!));
  const history = todo('history');
  const toFold = todo('profile');
  const [historyOutcome, profileOutcome] = await Promise.allSettled([
    history.length > 0 ? deps.store.write(history) : Promise.resolve<HistoryWriteReport>({ written: [], failed: [] }),
    toFold.length > 0 ? deps.writer.apply(toFold) : Promise.resolve<ProfileWriteReport | undefined>(undefined),
  ]);

  const mark = (stage: keyof DoneSets, ids: Iterable<string>): void => {
    for (const id of ids) for (const i of groupsOf.get(id) ?? []) results[i]!.done[stage].add(id);
  };

  // Each dead-letter entry redoes only its own stage when replayed: the other stage is the job's (or another entry's).
  const parked: { stage: DeadLetterStage; events: QueuedEvent[]; reason: string; redo: keyof DoneSets }[] = [];
  let historyRetry: string | undefined;
  if (historyOutcome.status === 'fulfilled') {
    const report = historyOutcome.value;
    mark('history', report.written);
    for (const f of report.failed) parked.push({ stage: 'event-write', events: [f.event], reason: f.reason, redo: 'history' });
    historyRetry = report.retry;
  } else {
    historyRetry = `event history write failed (${reasonOf(historyOutcome.reason)})`;
  }
  let profileRetry: string | undefined;
  let report: ProfileWriteReport | undefined;
  if (profileOutcome.status === 'fulfilled') {
    report = profileOutcome.value;
    if (report) {
      mark('profile', report.completed);
      for (const f of report.failed) parked.push({ stage: f.stage, events: f.events, reason: f.reason, redo: 'profile' });
      profileRetry = report.retry;
    }
  } else {
    profileRetry = `profile write failed (${reasonOf(profileOutcome.reason)})`;
  }

  // Parked per source job and stage (as sent, not enriched), each entry with the reason of its first event.
  const original = new Map(events.map((e) => [e.eventId, e]));
  const entries = new Map<
    string,
    { jobId: string | undefined; stage: DeadLetterStage; redo: keyof DoneSets; reason: string; events: QueuedEvent[] }
  >();
  for (const p of parked) {
    for (const event of p.events) {
      const jobId = groups[firstGroup(event.eventId)]!.jobId;
      const key = `${jobId}|${p.stage}`;
      const entry = entries.get(key) ?? { jobId, stage: p.stage, redo: p.redo, reason: p.reason, events: [] };
      entry.events.push(original.get(event.eventId) ?? event);
      entries.set(key, entry);
    }
  }
  let parkRetry: string | undefined;
  for (const entry of entries.values()) {
    const ids = entry.events.map((e) => e.eventId);
    const other: keyof DoneSets = entry.redo === 'history' ? 'profile' : 'history';
    try {
      await deadLetter(deps, entry.jobId, entry.stage, entry.reason, { events: entry.events, done: { [other]: ids } });
      deps.metrics.deadLettered.inc({ stage: entry.stage }, ids.length);
      mark(entry.redo, ids);
      results[firstGroup(ids[0]!)]!.deadLettered += ids.length;
    } catch (error) {
      parkRetry ??= `dead-lettering failed (${(error as Error).message})`;
    }
  }

  if (report) {
    deps.metrics.applied.inc(report.applied);
    deps.metrics.duplicates.inc(report.duplicates);
    deps.metrics.conflicts.inc(report.conflicts);
    deps.metrics.segmentChanges.inc({ source: 'events' }, report.segmentChanges);
  }
  deps.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  deps.metrics.flushEvents.observe(events.length);
  const newest = events.reduce((max, e) => Math.max(max, e.receivedAt), 0);
  deps.metrics.lagSeconds.set((Date.now() - newest) / 1000);

  const retry = [historyRetry, profileRetry, parkRetry].filter((r) => r !== undefined).join('; ') || undefined;
  return groups.map((g, i) => {
    const r = results[i]!;
    const complete = g.events.every((e) => r.done.history.has(e.eventId) && r.done.profile.has(e.eventId));
    return complete ? r : { ...r, retry: retry ?? 'some events were not applied' };
  });
}

async function deadLetter(
  deps: Pick<BatchDeps, 'logger' | 'deadLetter'>,
  sourceJobId: string | undefined,
  stage: DeadLetterStage,
  reason: string,
  payload: Pick<DeadLetter, 'events' | 'items' | 'done'>,
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
