import {
  applyScores,
  compareEvents,
  deriveProfile,
  evaluateMembership,
  foldEvents,
  recentChanges,
  TransientError,
  type MembershipCatalog,
  type PreparedModels,
  type ProfileOptions,
  type QueuedEvent,
  type SegmentChange,
  type StoredProfile,
} from '@portrait/shared';
import {
  bulkItemReason,
  classifyBulkItem,
  isConnectionError,
  resultOf,
  type Client,
  type estypes,
  type Membership,
  type Scoring,
} from '@portrait/runtime';

export interface ProfileWriteReport {
  users: number;
  applied: number;
  duplicates: number;
  /** Writes lost to a concurrent writer and redone. */
  conflicts: number;
  /** Segment entries and exits published. */
  segmentChanges: number;
  /** Ids of the events that are now in their profile (applied now or before). */
  completed: string[];
  /** Events that can never be applied, with the reason: `fold` when folding them throws, `profile-write` when Elasticsearch refuses the document. */
  failed: { userId: string; events: QueuedEvent[]; reason: string; stage: 'fold' | 'profile-write' }[];
  /** Set when some users' events must wait (overload, outage, contention): those events are in neither list. */
  retry?: string;
}

/** What a write round scores and evaluates profiles with: the segments and the active models as of its start. */
interface WriteContext {
  catalog: MembershipCatalog;
  models: PreparedModels;
}

/** What one user's events make of their stored profile. */
interface Folded {
  applied: number;
  duplicates: number;
  /** Undefined when nothing was applied (all duplicates): there is nothing to write. */
  doc?: StoredProfile;
  changes: SegmentChange[];
  /** The events folded (in isolation, the poison ones are left out). */
  events: QueuedEvent[];
}

type Stored = { doc?: StoredProfile; seqNo?: number; primaryTerm?: number };

/**
 * Applies events to profiles with optimistic concurrency: read each profile with its sequence number,
 * fold, write back conditionally (`if_seq_no`/`if_primary_term`, or `create` for a new profile). A write
 * that lost a race is re-read and re-folded; the fold skips event ids the profile already holds, so a
 * redelivered batch or a retried round never counts anything twice.
 *
 * The active models score the folded profile, and segment membership is evaluated on the scored profile,
 * both written in the same document, so neither can disagree with the fields it was computed from. Its entries and exits are kept in the profile's outbox and
 * published after the write; a redelivered batch (the process died between the two) publishes them again.
 */
export class ProfileWriter {
  /** Per-user tail of the flushes in this process that touch the user: they take turns instead of colliding. */
  private readonly userTurns = new Map<string, Promise<void>>();

  constructor(
    private readonly es: Client,
    private readonly alias: string,
    private readonly options: ProfileOptions,
    private readonly conflictRounds: number,
    private readonly membership: Membership,
    private readonly scoring: Scoring,
    private readonly now: () => number = Date.now,
  ) {}

  async apply(events: readonly QueuedEvent[]): Promise<ProfileWriteReport> {
    const byUser = new Map<string, QueuedEvent[]>();
    for (const event of events) {
      const list = byUser.get(event.userId);
      if (list) list.push(event);
      else byUser.set(event.userId, [event]);
    }
    const report: ProfileWriteReport = {
      users: byUser.size,
      applied: 0,
      duplicates: 0,
      conflicts: 0,
      segmentChanges: 0,
      completed: [],
      failed: [],
    };
    // Within one process, a flush waits for earlier flushes that hold any of its users (registered in one
    // synchronous step, so waits only ever point backwards). Other processes are kept honest by if_seq_no.
    const earlier = new Set<Promise<void>>();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    for (const userId of byUser.keys()) {
      const previous = this.userTurns.get(userId);
      if (previous) earlier.add(previous);
      this.userTurns.set(userId, mine);
    }
    try {
      await Promise.all(earlier);
      let pending = [...byUser.keys()];
      const isolate = new Set<string>();
      const split = new Map<string, number>();
      for (let round = 0; pending.length > 0; round++) {
        if (round >= this.conflictRounds) {
          report.retry = `${pending.length} profiles still contended after ${round} rounds`;
          break;
        }
        try {
          pending = await this.round(pending, byUser, report, isolate, split);
        } catch (error) {
          if (!(error instanceof TransientError) && !isConnectionError(error)) throw error;
          report.retry = (error as Error).message;
          break;
        }
      }
      return report;
    } finally {
      release();
      for (const userId of byUser.keys()) if (this.userTurns.get(userId) === mine) this.userTurns.delete(userId);
    }
  }

  /** One read-fold-write pass; returns the users to try again. */
  private async round(
    userIds: string[],
    byUser: Map<string, QueuedEvent[]>,
    report: ProfileWriteReport,
    isolate: Set<string>,
    /** Users whose document Elasticsearch refused: how many of their events (canonical order) to write this round. */
    split: Map<string, number>,
  ): Promise<string[]> {
    const stored = await this.read(userIds);
    const now = this.now();
    const context: WriteContext = { catalog: await this.membership.catalog(now), models: await this.scoring.models() };
    const operations: estypes.BulkRequest['operations'] = [];
    const written: string[] = [];
    const foldedOf = new Map<string, Folded>();
    const republish: SegmentChange[] = [];
    const retry: string[] = [];
    const landed: QueuedEvent[] = [];
    const tried = new Map<string, QueuedEvent[]>();
    for (const userId of userIds) {
      const current = stored.get(userId) ?? {};
      const limit = split.get(userId);
      const events = limit === undefined ? byUser.get(userId)! : [...byUser.get(userId)!].sort(compareEvents).slice(0, limit);
      tried.set(userId, events);
      let folded: Folded;
      try {
        folded = isolate.has(userId)
          ? this.foldIsolating(userId, current.doc, events, now, context, report)
          : this.fold(userId, current.doc?.state, current.doc, events, now, context, true);
      } catch {
        // The fold consumed the stored state it threw on: read it again and find the events at fault one by one.
        isolate.add(userId);
        retry.push(userId);
        continue;
      }
      foldedOf.set(userId, folded);
      // Events seen before mean a redelivery: their write happened, its publish may not have.
      if (folded.duplicates > 0 && current.doc) republish.push(...recentChanges(current.doc, now, this.options.dedupHorizonMs));
      if (!folded.doc) {
        report.duplicates += folded.duplicates;
        landed.push(...folded.events);
        continue;
      }
      operations.push(
        current.doc
          ? { index: { _index: this.alias, _id: userId, if_seq_no: current.seqNo, if_primary_term: current.primaryTerm } }
          : { create: { _index: this.alias, _id: userId } },
        folded.doc,
      );
      written.push(userId);
    }
    if (written.length === 0) {
      await this.publish(republish, report, 0);
      report.completed.push(...landed.map((e) => e.eventId));
      return retry;
    }
    const res = await this.es.bulk({ operations, refresh: false });
    const published = [...republish];
    let transient: string | undefined;
    res.items.forEach((entry, i) => {
      const userId = written[i]!;
      const item = resultOf(entry);
      const folded = foldedOf.get(userId)!;
      switch (classifyBulkItem(item)) {
        case 'ok':
          report.applied += folded.applied;
          report.duplicates += folded.duplicates;
          landed.push(...folded.events);
          published.push(...folded.changes);
          if (split.has(userId) && this.moveOn(userId, tried.get(userId)!, byUser, split)) retry.push(userId);
          break;
        case 'conflict':
          report.conflicts++;
          retry.push(userId);
          break;
        case 'transient':
          transient ??= bulkItemReason(item);
          break;
        case 'permanent': {
          // The document is refused: find the event that makes it so by halving what is written, round by round.
          const events = tried.get(userId)!;
          if (events.length > 1) {
            split.set(userId, Math.ceil(events.length / 2));
            retry.push(userId);
          } else {
            report.failed.push({ userId, events, reason: bulkItemReason(item), stage: 'profile-write' });
            if (this.moveOn(userId, events, byUser, split)) retry.push(userId);
          }
          break;
        }
      }
    });
    // Before a transient failure is thrown: what was written must be announced (a retry would find it applied).
    await this.publish(published, report, republish.length);
    // Complete only once published: if publishing fails, the retry finds the events applied and publishes again.
    report.completed.push(...landed.map((e) => e.eventId));
    if (transient) throw new TransientError(`profile writes rejected for now (${transient})`);
    return retry;
  }

  /** Drops the events just handled from a split user's pending ones; true when some remain to write. */
  private moveOn(userId: string, handled: QueuedEvent[], byUser: Map<string, QueuedEvent[]>, split: Map<string, number>): boolean {
    const done = new Set(handled);
    const rest = byUser.get(userId)!.filter((e) => !done.has(e));
    byUser.set(userId, rest);
    if (rest.length === 0) {
      split.delete(userId);
      return false;
    }
    split.set(userId, rest.length);
    return true;
  }

  /** Folds, derives, scores and evaluates membership for one user; throws whatever any of those throws. */
  private fold(
    userId: string,
    state: StoredProfile['state'] | undefined,
    previous: StoredProfile | undefined,
    events: QueuedEvent[],
    now: number,
    context: WriteContext,
    consume: boolean,
  ): Folded {
    const result = foldEvents(state, events, now, this.options, consume);
    if (result.applied === 0) return { applied: 0, duplicates: result.duplicates, changes: [], events };
    const doc: StoredProfile = applyScores(deriveProfile(userId, result.state, now, now, this.options, previous), context.models, previous);
    const membership = evaluateMembership(doc, userId, previous ?? {}, context.catalog);
    Object.assign(doc, membership.fields);
    return { applied: result.applied, duplicates: result.duplicates, doc, changes: membership.changes, events };
  }

  /**
   * Folds a user's events one at a time (canonical order), leaving out each event whose fold throws: those
   * are reported as failed with the error, the others are applied as usual. Only reached after a fold threw.
   */
  private foldIsolating(
    userId: string,
    previous: StoredProfile | undefined,
    events: QueuedEvent[],
    now: number,
    context: WriteContext,
    report: ProfileWriteReport,
  ): Folded {
    const good: QueuedEvent[] = [];
    let state = previous?.state;
    for (const event of [...events].sort(compareEvents)) {
      try {
        const next = this.fold(userId, state, previous, [event], now, context, false);
        if (next.doc) state = next.doc.state;
        good.push(event);
      } catch (error) {
        report.failed.push({ userId, events: [event], reason: `the fold throws: ${(error as Error).message}`, stage: 'fold' });
      }
    }
    if (good.length === 0) return { applied: 0, duplicates: 0, changes: [], events: [] };
    return this.fold(userId, previous?.state, previous, good, now, context, false);
  }

  private async publish(changes: SegmentChange[], report: ProfileWriteReport, republished: number): Promise<void> {
    if (changes.length === 0) return;
    try {
      await this.membership.publish(changes);
    } catch (error) {
      // The profiles hold these in their outbox: the retried batch is a redelivery and publishes them again.
      throw new TransientError(
        `publishing ${changes.length} segment changes failed (${(error as Error).message}); the batch will be retried`,
      );
    }
    report.segmentChanges += changes.length - republished;
  }

  private async read(userIds: string[]): Promise<Map<string, Stored>> {
    const res = await this.es.mget<StoredProfile>({ index: this.alias, ids: userIds, realtime: true });
    const out = new Map<string, Stored>();
    for (const doc of res.docs) {
      if ('error' in doc && doc.error)
        throw new TransientError(`reading profile ${doc._id} failed: ${doc.error.type} ${doc.error.reason ?? ''}`);
      if ('found' in doc && doc.found) {
        out.set(doc._id, { doc: doc._source, seqNo: doc._seq_no, primaryTerm: doc._primary_term });
      }
    }
    return out;
  }
}
