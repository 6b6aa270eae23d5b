import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Job, JobType, Queue } from 'bullmq';
import { parse } from 'csv-parse';
import {
  ErasureRecordSchema,
  JOBS,
  NO_ERASURES,
  UnavailableError,
  addCounts,
  erasureSubject,
  exportRow,
  type ErasureCounts,
  type ErasureRecord,
  type ExportField,
  type ExportRecord,
  type IndexNames,
} from '@portrait/shared';
import { bulkItemReason, classifyBulkItem, resultOf } from './bulk';
import { errors, isConnectionError, withEs, type Client } from './elasticsearch';
import type { ExportFiles } from './exports';
import type { Logger } from './logger';
import { pointInTimePages } from './pit-walk';
import type { Redis } from './redis';
import { Tombstones } from './tombstones';

/** The queues an erased user's data can sit on, and the one its second pass is queued on. */
export interface ErasureQueues {
  ingest: Queue;
  deadLetter: Queue;
  segmentChanges: Queue;
  maintenance: Queue;
}

export interface EraserDeps {
  es: Client;
  names: IndexNames;
  redis: Redis;
  /** The data set's Redis namespace (`<prefix>:<dataset>`). */
  namespace: string;
  queues: ErasureQueues;
  /** Export files, scanned for rows of the erased user. */
  files: ExportFiles;
  /** How long after an erasure its second pass runs: longer than any write in flight can take to land. */
  sweepDelayMs: number;
  logger: Logger;
}

/** Every state a job can rest in; `active` is left to its worker (which drops erased users' events itself). */
const RESTING: JobType[] = ['waiting', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];
const PAGE = 200;
/** Export columns that identify a shopper: a file with one of them can be searched for the user. */
const IDENTIFYING: readonly ExportField[] = ['userId', 'email', 'phone', 'emailSha256', 'phoneSha256', 'phoneDigitsSha256'];

/**
 * The right to be forgotten. `erase` writes the tombstone first (from then on ingest and the indexer drop the
 * user's events), then removes everything of the user: queued and dead-lettered events, segment change
 * messages, the event history (point in time + bulk deletes), the profile with its memberships and scores,
 * the collaborative vectors, ingest's memory of the event ids. It names the export files still on disk that
 * hold the user, writes an audit record (who, when, what; the user as a SHA-256 only) and queues a second pass
 * (`sweep`) for writes that were in flight meanwhile.
 */
export class Eraser {
  private readonly tombstones: Tombstones;

  constructor(private readonly deps: EraserDeps) {
    this.tombstones = new Tombstones(deps.redis, deps.namespace);
  }

  async erase(userId: string, who: { actor: string; requestId?: string }, nowMs: number): Promise<ErasureRecord> {
    const requestedAt = new Date(nowMs).toISOString();
    const previouslyErasedAt = await unavailableIfRedisDown(() => this.tombstones.mark(userId, requestedAt));
    const profile = await this.profileSource(userId);
    const deleted = await this.purge(userId);
    const exports = await this.exportsHolding(userId, profile);
    const erasureId = randomUUID();
    const sweepAt = new Date(nowMs + this.deps.sweepDelayMs).toISOString();
    const record: ErasureRecord = {
      erasureId,
      subject: erasureSubject(userId),
      actor: who.actor,
      ...(who.requestId ? { requestId: who.requestId } : {}),
      requestedAt,
      finishedAt: new Date().toISOString(),
      ...(previouslyErasedAt ? { previouslyErasedAt } : {}),
      deleted,
      exports,
      sweepAt,
    };
    await withEs(() => this.deps.es.index({ index: this.deps.names.erasures, id: erasureId, document: record, refresh: 'wait_for' }));
    const spec = JOBS.erasureSweep;
    await unavailableIfRedisDown(() =>
      this.deps.queues.maintenance.add(
        spec.name,
        spec.payload.parse({ erasureId, userId }),
        // The payload names the user: it leaves Redis as soon as the pass is done.
        { jobId: `erasure-${erasureId}`, delay: this.deps.sweepDelayMs, removeOnComplete: true, removeOnFail: { age: 7 * 86_400 } },
      ),
    );
    this.deps.logger.info({ erasureId, actor: who.actor, deleted, exports: exports.length }, 'user erased');
    return record;
  }

  /** The second pass: removes what writes in flight during `erase` left behind, and notes it on the record. */
  async sweep(erasureId: string, userId: string, nowMs: number): Promise<ErasureCounts> {
    const swept = await this.purge(userId);
    await withEs(() =>
      this.deps.es.update({
        index: this.deps.names.erasures,
        id: erasureId,
        doc: { sweptAt: new Date(nowMs).toISOString(), swept },
        retry_on_conflict: 5,
      }),
    );
    if (Object.values(swept).some((n) => n > 0)) this.deps.logger.info({ erasureId, swept }, 'erasure sweep removed late writes');
    return swept;
  }

  /** Erasure records, newest first; `userId` narrows them to that user's (by its subject). */
  async list(filter: { userId?: string; size: number }): Promise<ErasureRecord[]> {
    const res = await withEs(() =>
      this.deps.es.search<ErasureRecord>({
        index: this.deps.names.erasures,
        query: filter.userId ? { term: { subject: erasureSubject(filter.userId) } } : { match_all: {} },
        sort: [{ requestedAt: 'desc' }, { erasureId: 'asc' }],
        size: filter.size,
      }),
    );
    return res.hits.hits.map((h) => ErasureRecordSchema.parse(h._source));
  }

  /** How many erased users the file of this export holds (the erasures that named it). */
  async usersErasedFrom(exportId: string): Promise<number> {
    const res = await withEs(() =>
      this.deps.es.count({
        index: this.deps.names.erasures,
        query: { term: { exports: exportId } },
        allow_no_indices: true,
        ignore_unavailable: true,
      }),
    );
    return res.count;
  }

  /** Removes every trace of the user that the platform holds. Idempotent: a second run counts what it still found. */
  async purge(userId: string): Promise<ErasureCounts> {
    const { names } = this.deps;
    const searched = [names.events, names.userFactorsPattern];
    // Searches see what a refresh made visible: the event history and factors written just before count too.
    await withEs(() => this.deps.es.indices.refresh({ index: searched, allow_no_indices: true, ignore_unavailable: true }));
    const eventIds = new Set<string>();
    const queuedEvents = await this.scrubEvents(this.deps.queues.ingest, userId, eventIds);
    const deadLetteredEvents = await this.scrubEvents(this.deps.queues.deadLetter, userId, eventIds);
    const segmentChanges = await this.removeJobs(
      this.deps.queues.segmentChanges,
      (data) => (data as { userId?: unknown }).userId === userId,
    );
    const events = await this.deleteEvents(userId, eventIds);
    const profile = await this.deleteProfile(userId);
    const userFactors = await this.deleteUserFactors(userId);
    const dedupKeys = await this.deleteDedupKeys(eventIds);
    await withEs(() =>
      this.deps.es.indices.refresh({ index: [names.profiles, ...searched], allow_no_indices: true, ignore_unavailable: true }),
    );
    return addCounts(NO_ERASURES, { profile, events, userFactors, queuedEvents, deadLetteredEvents, segmentChanges, dedupKeys });
  }

  private async profileSource(userId: string): Promise<unknown> {
    return withEs(async () => {
      try {
        return (await this.deps.es.get({ index: this.deps.names.profiles, id: userId, _source_includes: ['userId', 'contact'] }))._source;
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404) return undefined;
        throw error;
      }
    });
  }

  /** Takes the user's events out of every resting job of an event queue; a job left with nothing is removed. */
  private async scrubEvents(queue: Queue, userId: string, eventIds: Set<string>): Promise<number> {
    let removed = 0;
    await this.eachResting(queue, async (job) => {
      const data = job.data as { events?: unknown; items?: unknown; done?: { history?: string[]; profile?: string[] } };
      if (!Array.isArray(data.events)) return false;
      const theirs = data.events.filter((e) => (e as { userId?: unknown } | null)?.userId === userId);
      if (theirs.length === 0) return false;
      const ids = new Set(theirs.map((e) => String((e as { eventId?: unknown }).eventId ?? '')));
      for (const id of ids) if (id !== '') eventIds.add(id);
      const rest = data.events.filter((e) => !theirs.includes(e));
      removed += theirs.length;
      const hasItems = Array.isArray(data.items) && data.items.length > 0;
      if (rest.length === 0 && !hasItems && (await removeJob(job))) return true;
      const keep = (list: string[] | undefined) => list?.filter((id) => !ids.has(id));
      const done = data.done ? { history: keep(data.done.history), profile: keep(data.done.profile) } : undefined;
      await job.updateData({ ...data, events: rest, ...(done ? { done } : {}) });
      return false;
    });
    return removed;
  }

  private async removeJobs(queue: Queue, matches: (data: unknown) => boolean): Promise<number> {
    let removed = 0;
    await this.eachResting(queue, async (job) => {
      if (!matches(job.data) || !(await removeJob(job))) return false;
      removed++;
      return true;
    });
    return removed;
  }

  /**
   * Visits every resting job, state by state; `visit` answers whether it removed the job. Removals shift the
   * later jobs of a state down, so pages advance by what was kept. A job that moves meanwhile (taken by a
   * worker, completed) may be seen twice or missed: the tombstone and the second pass cover it.
   */
  private async eachResting(queue: Queue, visit: (job: Job) => Promise<boolean>): Promise<void> {
    await unavailableIfRedisDown(async () => {
      for (const state of RESTING) {
        for (let start = 0; ;) {
          const jobs = (await queue.getJobs([state], start, start + PAGE - 1, true)).filter((j): j is Job => j !== undefined && j !== null);
          let kept = 0;
          for (const job of jobs) if (!(await visit(job))) kept++;
          if (jobs.length < PAGE) break;
          start += kept;
        }
      }
    });
  }

  /** The user's event history, found as of one point in time and deleted in bulk. */
  private async deleteEvents(userId: string, eventIds: Set<string>): Promise<number> {
    let deleted = 0;
    try {
      for await (const hits of pointInTimePages(this.deps.es, {
        index: this.deps.names.events,
        pageSize: 1000,
        query: { term: { userId } },
        request: { _source: false },
      })) {
        for (const hit of hits) eventIds.add(hit._id!);
        deleted += await this.bulkDelete(hits.map((h) => ({ _index: h._index, _id: h._id! })));
      }
    } catch (error) {
      if (isMissingIndex(error)) return deleted;
      if (isConnectionError(error))
        throw new UnavailableError('Elasticsearch is unavailable; retry the erasure, it is idempotent', 'elasticsearch');
      throw error;
    }
    return deleted;
  }

  private async deleteProfile(userId: string): Promise<number> {
    return withEs(async () => {
      try {
        await this.deps.es.delete({ index: this.deps.names.profiles, id: userId });
        return 1;
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404) return 0;
        throw error;
      }
    });
  }

  /** The user's vector in every collaborative version's user factors (active, retired and trained alike). */
  private async deleteUserFactors(userId: string): Promise<number> {
    const res = await withEs(() =>
      this.deps.es.search({
        index: this.deps.names.userFactorsPattern,
        allow_no_indices: true,
        ignore_unavailable: true,
        query: { ids: { values: [userId] } },
        _source: false,
        size: 1000,
      }),
    );
    return this.bulkDelete(res.hits.hits.map((h) => ({ _index: h._index, _id: h._id! })));
  }

  private async deleteDedupKeys(eventIds: Set<string>): Promise<number> {
    const keys = [...eventIds].map((id) => `${this.deps.namespace}:dedup:${id}`);
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      deleted += await unavailableIfRedisDown(() => this.deps.redis.unlink(...chunk));
    }
    return deleted;
  }

  private async bulkDelete(targets: { _index: string; _id: string }[]): Promise<number> {
    if (targets.length === 0) return 0;
    const res = await withEs(() => this.deps.es.bulk({ operations: targets.map((t) => ({ delete: t })) }));
    let deleted = 0;
    for (const entry of res.items) {
      const item = resultOf(entry);
      if (item.status === 404) continue;
      const fate = classifyBulkItem(item);
      if (fate === 'ok') deleted++;
      else throw new UnavailableError(`Elasticsearch refused a delete (${bulkItemReason(item)}); retry the erasure`, 'elasticsearch');
    }
    return deleted;
  }

  /**
   * Completed export files still on disk that hold a row of the user: a row whose identifying column (the user
   * id, or the e-mail or phone, raw or hashed, as that export wrote them) is the user's.
   */
  private async exportsHolding(userId: string, profile: unknown): Promise<string[]> {
    const res = await withEs(() =>
      this.deps.es.search<ExportRecord>({
        index: this.deps.names.exports,
        query: { bool: { filter: [{ term: { status: 'completed' } }, { term: { kind: 'job' } }] } },
        sort: [{ createdAt: 'desc' }],
        size: 10_000,
      }),
    );
    const holding: string[] = [];
    for (const hit of res.hits.hits) {
      const record = hit._source!;
      if (!record.fileName) continue;
      const wanted = identifyingCells(userId, profile, record);
      if (wanted.size === 0) continue;
      const file = await this.deps.files.open(record.fileName);
      if (!file) continue;
      if (await fileHolds(file.stream, record.format, wanted)) holding.push(record.exportId);
    }
    return holding;
  }
}

/** Column → the cell the user's row would have there, for the identifying columns the export wrote. */
function identifyingCells(userId: string, profile: unknown, record: ExportRecord): Map<string, string> {
  const cells = new Map<string, string>();
  const source = profile ?? { userId };
  for (const column of record.columns.filter((c) => IDENTIFYING.includes(c))) {
    const [value] = exportRow(source, [column], record.defaultCallingCode ? { defaultCallingCode: record.defaultCallingCode } : {});
    if (typeof value === 'string' && value !== '') cells.set(column, value);
  }
  return cells;
}

async function fileHolds(stream: Readable, format: ExportRecord['format'], wanted: Map<string, string>): Promise<boolean> {
  try {
    if (format === 'ndjson') {
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        if (line === '') continue;
        const row = JSON.parse(line) as Record<string, unknown>;
        for (const [column, value] of wanted) if (row[column] === value) return true;
      }
      return false;
    }
    let header: string[] | undefined;
    for await (const record of stream.pipe(parse({ relax_column_count: true }))) {
      const cells = record as string[];
      if (!header) {
        header = cells;
        continue;
      }
      for (const [column, value] of wanted) {
        const cell = cells[header.indexOf(column)];
        // A text cell that could start a formula was written with a leading `'`.
        if (cell === value || cell === `'${value}`) return true;
      }
    }
    return false;
  } finally {
    stream.destroy();
  }
}

async function removeJob(job: Job): Promise<boolean> {
  try {
    await job.remove();
    return true;
  } catch {
    // Locked by a worker that took it meanwhile: it is that worker's now (and its events are dropped there).
    return false;
  }
}

function isMissingIndex(error: unknown): boolean {
  return error instanceof errors.ResponseError && error.statusCode === 404;
}

async function unavailableIfRedisDown<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof UnavailableError || error instanceof errors.ResponseError) throw error;
    throw new UnavailableError(`Redis is unavailable (${(error as Error).message}); retry the erasure, it is idempotent`, 'redis');
  }
}
