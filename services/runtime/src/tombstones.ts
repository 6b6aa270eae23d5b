import { erasureSubject } from '@portrait/shared';
import type { Redis } from './redis';

/** The Redis hash of erased users: field `erasureSubject(userId)`, value the ISO time of the first erasure. */
export function tombstonesKey(namespace: string): string {
  return `${namespace}:erased`;
}

/**
 * Tombstones of erased users. Ingest drops their new events and the indexer drops those queued before the
 * erasure, so nothing brings a profile back. The hash holds SHA-256 subjects only, never a user id.
 */
export class Tombstones {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    namespace: string,
  ) {
    this.key = tombstonesKey(namespace);
  }

  /** Marks the user erased; answers when an earlier erasure marked it, if one did (that time is kept). */
  async mark(userId: string, atIso: string): Promise<string | undefined> {
    const subject = erasureSubject(userId);
    const [[setError, set], [getError, first]] = (await this.redis
      .multi()
      .hsetnx(this.key, subject, atIso)
      .hget(this.key, subject)
      .exec()) as [[Error | null, number], [Error | null, string | null]];
    if (setError) throw setError;
    if (getError) throw getError;
    return set === 1 ? undefined : (first ?? undefined);
  }

  /** The users among these that were erased. */
  async erasedAmong(userIds: Iterable<string>): Promise<Set<string>> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return new Set();
    const found = await this.redis.hmget(this.key, ...ids.map(erasureSubject));
    return new Set(ids.filter((_, i) => found[i] !== null));
  }
}
