import type { ProfileDoc } from '../profile/types';
import { segmentPredicate } from './predicate';
import { parseSegmentDefinition } from './schema';
import type { SegmentRecord } from './document';
import type { SegmentDefinition } from './types';

/**
 * An entry into or exit from a segment, as published for marketing tools. `changeId` is the same every
 * time the same transition is published again (after a crash or retry), so consumers dedupe by it.
 */
export interface SegmentChange {
  changeId: string;
  userId: string;
  segmentId: string;
  segmentVersion: number;
  change: 'entered' | 'exited';
  /** ISO 8601: when the transition was materialized. */
  at: string;
}

/** The membership part of a profile document. */
export interface MembershipFields {
  /** Ids of the segments the profile is in, sorted. */
  segments?: string[];
  /** Recent transitions, kept so a publish lost to a crash can be sent again (stored, not indexed). */
  segmentOutbox?: SegmentChange[];
}

/** A profile document as stored: the derived profile and its membership. */
export type StoredProfile = ProfileDoc & MembershipFields;

/** How long, and how many, transitions a profile keeps for re-publication. */
export const OUTBOX_LIMITS = { retentionMs: 24 * 3_600_000, maxEntries: 50 } as const;

/** Active segments compiled to predicates for one "now", plus the ids of deleted ones. */
export interface MembershipCatalog {
  nowMs: number;
  active: { segmentId: string; version: number; test: (profile: object) => boolean }[];
  deleted: ReadonlySet<string>;
}

/** Saved segments validated once (when they are loaded), ready to be compiled for any "now". */
export interface PreparedSegments {
  active: { segmentId: string; version: number; definition: SegmentDefinition }[];
  deleted: ReadonlySet<string>;
  /** Stored definitions that no longer validate (a field was removed): left out, so they never stop profile writes. */
  invalid: { segmentId: string; reason: string }[];
}

export function prepareSegments(segments: readonly SegmentRecord[]): PreparedSegments {
  const deleted = new Set<string>();
  const prepared: PreparedSegments = { active: [], deleted, invalid: [] };
  for (const s of segments) {
    if (s.status === 'deleted') {
      deleted.add(s.segmentId);
      continue;
    }
    const parsed = parseSegmentDefinition(s.definition);
    if (parsed.ok) prepared.active.push({ segmentId: s.segmentId, version: s.version, definition: parsed.value });
    else prepared.invalid.push({ segmentId: s.segmentId, reason: parsed.issues.map((i) => `${i.path} ${i.reason}`).join('; ') });
  }
  return prepared;
}

/** The prepared segments as predicates at `nowMs` (relative dates resolved): cheap, done per write. */
export function membershipCatalog(prepared: PreparedSegments, nowMs: number): MembershipCatalog {
  return {
    nowMs,
    active: prepared.active.map((s) => ({ segmentId: s.segmentId, version: s.version, test: segmentPredicate(s.definition, nowMs) })),
    deleted: prepared.deleted,
  };
}

/** `prepareSegments` and `membershipCatalog` in one step. */
export function buildMembershipCatalog(
  segments: readonly SegmentRecord[],
  nowMs: number,
): { catalog: MembershipCatalog; invalid: { segmentId: string; reason: string }[] } {
  const prepared = prepareSegments(segments);
  return { catalog: membershipCatalog(prepared, nowMs), invalid: prepared.invalid };
}

export function changeId(userId: string, segmentId: string, change: SegmentChange['change'], atMs: number): string {
  // Ids never contain '/', so the parts cannot run into each other.
  return `${segmentId}/${change}/${atMs}/${userId}`;
}

/**
 * Membership of `profile` in every segment of the catalog, with the transitions from `previous`.
 * Segments the catalog does not know (saved after it was loaded) keep their previous membership: the
 * segment's reconciliation decides them. Deleted segments are dropped without an exit.
 * `only`, when given, limits re-evaluation to those segment ids (reconciling one segment).
 */
export function evaluateMembership(
  profile: object,
  userId: string,
  previous: MembershipFields,
  catalog: MembershipCatalog,
  only?: ReadonlySet<string>,
): { fields: Required<MembershipFields>; changes: SegmentChange[] } {
  const before = new Set(previous.segments ?? []);
  const after = new Set<string>();
  const known = new Set<string>();
  const changes: SegmentChange[] = [];
  const at = new Date(catalog.nowMs).toISOString();
  for (const segment of catalog.active) {
    if (only && !only.has(segment.segmentId)) continue;
    known.add(segment.segmentId);
    const isIn = segment.test(profile);
    const wasIn = before.has(segment.segmentId);
    if (isIn) after.add(segment.segmentId);
    if (isIn !== wasIn) {
      const change = isIn ? 'entered' : 'exited';
      changes.push({
        changeId: changeId(userId, segment.segmentId, change, catalog.nowMs),
        userId,
        segmentId: segment.segmentId,
        segmentVersion: segment.version,
        change,
        at,
      });
    }
  }
  for (const id of before) if (!known.has(id) && !catalog.deleted.has(id)) after.add(id);
  const cutoff = catalog.nowMs - OUTBOX_LIMITS.retentionMs;
  const kept = (previous.segmentOutbox ?? []).filter((c) => Date.parse(c.at) >= cutoff);
  const outbox = [...kept, ...changes].slice(-OUTBOX_LIMITS.maxEntries);
  return { fields: { segments: [...after].sort(), segmentOutbox: outbox }, changes };
}

/** Outbox entries recent enough to publish again after a redelivery, newest last. */
export function recentChanges(previous: MembershipFields, nowMs: number, withinMs: number): SegmentChange[] {
  return (previous.segmentOutbox ?? []).filter((c) => Date.parse(c.at) >= nowMs - withinMs);
}
