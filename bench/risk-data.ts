import {
  DEFAULT_PROFILE_OPTIONS,
  deriveProfile,
  foldEvents,
  type ProfileDoc,
  type ProfileState,
  type QueuedEvent,
  type RiskScore,
} from '@portrait/shared';
import { ABUSER_KINDS, SyntheticShop, type AbuserKind } from './synthetic-shop';

/**
 * Profiles of a synthetic shop with planted abusers, folded in memory as the indexer would (each user's events in
 * batches, in stream order), and how well risk flags find the abusers among them.
 */

export interface ShopProfilesOptions {
  seed: number;
  users: number;
  /** Events in the stream per user of the shop (default 20). */
  eventsPerUser?: number;
  abuserShare?: number;
  /** Event-time span ending at `endMs`; within the 90 days profiles keep per day (default 60). */
  spanDays?: number;
  items?: number;
  endMs?: number;
}

export interface ShopProfiles {
  profiles: ProfileDoc[];
  /** Per profile: the abuse it committed (a planted abuser with no abusive session yet counts as ordinary). */
  truth: (AbuserKind | undefined)[];
  events: number;
  endMs: number;
}

const DAY_MS = 86_400_000;
const BATCH = 50;

export function shopProfiles(options: ShopProfilesOptions): ShopProfiles {
  const endMs = options.endMs ?? Date.parse('2026-11-01T00:00:00.000Z');
  const shop = new SyntheticShop({
    seed: options.seed,
    users: options.users,
    items: options.items ?? 5000,
    startMs: endMs - (options.spanDays ?? 60) * DAY_MS,
    endMs,
    abuserShare: options.abuserShare ?? 0.03,
  });
  const states = new Map<string, ProfileState>();
  const pending = new Map<string, QueuedEvent[]>();
  const flush = (userId: string, events: QueuedEvent[]): void => {
    states.set(userId, foldEvents(states.get(userId), events, endMs, DEFAULT_PROFILE_OPTIONS, true).state);
    pending.delete(userId);
  };
  const count = options.users * (options.eventsPerUser ?? 20);
  for (const event of shop.events(count)) {
    let batch = pending.get(event.userId);
    if (batch === undefined) pending.set(event.userId, (batch = []));
    batch.push({ ...event, receivedAt: Date.parse(event.timestamp) + 1000 } as QueuedEvent);
    if (batch.length >= BATCH) flush(event.userId, batch);
  }
  for (const [userId, batch] of [...pending]) flush(userId, batch);

  const profiles: ProfileDoc[] = [];
  const truth: (AbuserKind | undefined)[] = [];
  const users = [...states.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  for (const userId of users) {
    const index = Number(userId.slice(1));
    profiles.push(deriveProfile(userId, states.get(userId)!, endMs, endMs, DEFAULT_PROFILE_OPTIONS));
    truth.push(shop.hasAbused(index) ? shop.abuserKind(index) : undefined);
  }
  return { profiles, truth, events: shop.stats.events, endMs };
}

export interface RiskReport {
  users: number;
  abusers: number;
  flagged: number;
  precision: number;
  recall: number;
  perKind: Record<AbuserKind, { abusers: number; flagged: number; recall: number; reasons: Record<string, number> }>;
  /** Ordinary profiles flagged, by their first reason. */
  falsePositives: Record<string, number>;
}

/** Precision and recall of `flagged` against the planted truth, overall and per kind of abuse. */
export function riskReport(scores: readonly RiskScore[], truth: readonly (AbuserKind | undefined)[]): RiskReport {
  const perKind = Object.fromEntries(
    ABUSER_KINDS.map((kind) => [kind, { abusers: 0, flagged: 0, recall: 0, reasons: {} as Record<string, number> }]),
  ) as RiskReport['perKind'];
  const falsePositives: Record<string, number> = {};
  let abusers = 0;
  let flagged = 0;
  let caught = 0;
  scores.forEach((score, i) => {
    const kind = truth[i];
    if (score.flagged) flagged++;
    if (kind === undefined) {
      if (score.flagged) falsePositives[score.reasons[0]!] = (falsePositives[score.reasons[0]!] ?? 0) + 1;
      return;
    }
    abusers++;
    const k = perKind[kind];
    k.abusers++;
    if (score.flagged) {
      caught++;
      k.flagged++;
    }
    for (const reason of score.reasons) k.reasons[reason] = (k.reasons[reason] ?? 0) + 1;
  });
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : Math.round((a / b) * 1e4) / 1e4);
  for (const k of Object.values(perKind)) k.recall = ratio(k.flagged, k.abusers);
  return {
    users: scores.length,
    abusers,
    flagged,
    precision: ratio(caught, flagged),
    recall: ratio(caught, abusers),
    perKind,
    falsePositives,
  };
}
