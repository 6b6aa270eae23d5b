import { z } from 'zod';
import { IdSchema } from '../events';
import { ErasureRecordSchema, type ErasureRecord } from '../privacy/erasure';
import { json, type ApiRoute } from './route';

/** The right to be forgotten: erase one user, and the audit trail of erasures. */

export const ErasureParams = z.object({ id: IdSchema.meta({ description: 'The user id' }) });

export const ErasureListQuery = z.strictObject({
  userId: IdSchema.optional().meta({ description: "Only this user's erasures (matched by the SHA-256 of the id)" }),
  size: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: 'At most this many, newest first' }),
});

export const ErasureListSchema = z.object({ erasures: z.array(ErasureRecordSchema) }).meta({ id: 'ErasureList' });

const counts = { profile: 1, events: 412, userFactors: 1, queuedEvents: 3, deadLetteredEvents: 0, segmentChanges: 2, dedupKeys: 415 };
const record: ErasureRecord = {
  erasureId: '0b7e3c8e-4d0a-4f5e-9a55-3c1f2b6d7e90',
  subject: '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592',
  actor: 'privacy-desk',
  requestId: 'c0ffee00-0000-4000-8000-000000000001',
  requestedAt: '2026-12-02T10:00:00.000Z',
  finishedAt: '2026-12-02T10:00:01.250Z',
  deleted: counts,
  exports: ['8c1d3a7e-2f4b-4c6d-9e0f-1a2b3c4d5e6f'],
  sweepAt: '2026-12-02T10:02:00.000Z',
};

export const ERASURE_ROUTES: readonly ApiRoute[] = [
  {
    method: 'delete',
    path: '/v1/users/:id',
    tag: 'privacy',
    scope: 'admin',
    summary: 'Erase a user (right to be forgotten): profile, events, vectors, queued events, memberships',
    description:
      'Writes a tombstone first, so events arriving later for the user are dropped and counted, not stored (ingest answers ' +
      'them `erased`). Then removes the profile (with its segment memberships and scores), the event history, the user ' +
      "vectors of every collaborative model, the user's events on the ingest and dead-letter queues, segment change messages " +
      "and ingest's memory of the event ids. Export files still on disk that hold the user are listed in `exports`: re-export " +
      'or delete them. A second pass runs at `sweepAt` for writes that were in flight. The audit record names who erased ' +
      'and when, and holds the SHA-256 of the user id, never the id. Erasing again is safe and answers what was still found.',
    request: { params: ErasureParams },
    responses: {
      200: {
        description: 'Erased: nothing of the user is searchable any more',
        content: json(ErasureRecordSchema, { erased: { summary: 'Erased', value: record } }),
      },
    },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/v1/erasures',
    tag: 'privacy',
    scope: 'admin',
    summary: 'The erasure audit trail, newest first',
    request: { query: ErasureListQuery },
    responses: {
      200: {
        description: 'Erasures (a new one is listed within a second)',
        content: json(ErasureListSchema, {
          one: {
            summary: 'One erasure, swept',
            value: {
              erasures: [
                {
                  ...record,
                  sweptAt: '2026-12-02T10:02:00.410Z',
                  swept: { ...counts, profile: 0, events: 0, userFactors: 0, queuedEvents: 0, segmentChanges: 0, dedupKeys: 0 },
                },
              ],
            },
          },
        }),
      },
    },
    errors: [400, 503],
  },
];
