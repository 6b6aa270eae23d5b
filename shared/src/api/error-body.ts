import { z } from 'zod';

/**
 * The body of every error answer, described once: what `errorHandler` in services/runtime writes for a
 * `PortraitError` (`error` is its code, the rest its details) and for what Express and the body parser refuse.
 */
export const IssueSchema = z
  .object({
    path: z.string().meta({ description: 'JSON path of the offending value, e.g. `events.3.order.lines.0.quantity`' }),
    reason: z.string().meta({ description: 'What is wrong, in words a client developer can act on' }),
  })
  .meta({ id: 'Issue' });

export const ErrorBody = z
  .object({
    error: z.string().meta({ description: 'Stable, machine-readable code: branch on it, never on the message' }),
    message: z.string(),
    issues: z
      .array(IssueSchema)
      .optional()
      .meta({ description: '`validation_failed`, `malformed_json` and `unprocessable`: every problem found' }),
    limit: z.number().optional().meta({ description: '`too_large`: the limit' }),
    actual: z.number().optional().meta({ description: '`too_large`: what the request would have exceeded it with' }),
    retryAfterSeconds: z.number().int().optional().meta({ description: '`queue_full`: as in `Retry-After`' }),
    dependency: z
      .string()
      .optional()
      .meta({ description: '`unavailable`: `elasticsearch` or `redis` (`console`: the console page is not built)' }),
    scope: z.string().optional().meta({ description: '`forbidden`: the API key scope the route needs' }),
  })
  .meta({ id: 'Error' });
export type ErrorBodyShape = z.infer<typeof ErrorBody>;

export interface ErrorStatusSpec {
  description: string;
  /** The `error` codes answered with this status. */
  codes: readonly string[];
  /** Answered with a `Retry-After` header (seconds). */
  retryAfter: boolean;
  example: ErrorBodyShape;
}

/** Every error status a route may answer, with its codes: a route lists the ones it gives. */
export const ERROR_STATUSES = {
  400: {
    description:
      'The request is invalid: `validation_failed` (with `issues`), `malformed_json` (the body is not JSON) or ' +
      '`bad_request` (an undecodable path parameter, a body that does not match its content-encoding)',
    codes: ['validation_failed', 'malformed_json', 'bad_request'],
    retryAfter: false,
    example: {
      error: 'validation_failed',
      message: 'invalid event',
      issues: [{ path: 'timestamp', reason: 'must be an ISO 8601 date-time, e.g. 2026-11-23T10:15:00Z' }],
    },
  },
  401: {
    description:
      'No valid API key (`unauthorized`): none sent, or malformed, unknown, revoked or expired; send `Authorization: Bearer <key>`',
    codes: ['unauthorized'],
    retryAfter: false,
    example: { error: 'unauthorized', message: 'this route needs an API key with scope read: send Authorization: Bearer <key>' },
  },
  403: {
    description: 'The key is valid but lacks the scope the route needs (`forbidden`, naming the `scope`)',
    codes: ['forbidden'],
    retryAfter: false,
    example: { error: 'forbidden', message: 'key ops-dashboard (scopes read) may not do this: it needs scope export', scope: 'export' },
  },
  404: {
    description: 'Nothing with that id (`not_found`)',
    codes: ['not_found'],
    retryAfter: false,
    example: { error: 'not_found', message: 'no profile for user alice' },
  },
  409: {
    description: 'The request conflicts with the current state (`conflict`); the message says what to do',
    codes: ['conflict'],
    retryAfter: false,
    example: { error: 'conflict', message: 'segment vip already exists' },
  },
  410: {
    description: 'It existed but is gone for good (`gone`): an expired or deleted export file',
    codes: ['gone'],
    retryAfter: false,
    example: { error: 'gone', message: 'the file of export 3f0c… expired at 2026-11-24T10:00:00.000Z; start a new export' },
  },
  413: {
    description:
      'Too large: the request body exceeds the limit (`payload_too_large`), or the answer would (`too_large`, with `limit` and `actual`)',
    codes: ['payload_too_large', 'too_large'],
    retryAfter: false,
    example: { error: 'payload_too_large', message: 'request body exceeds 262144 bytes; split it into smaller batches' },
  },
  415: {
    description: 'The body is not `application/json` (`unsupported_media_type`)',
    codes: ['unsupported_media_type'],
    retryAfter: false,
    example: { error: 'unsupported_media_type', message: 'expected content-type application/json, got text/plain' },
  },
  422: {
    description: 'Well-formed but not usable as it is (`unprocessable`, with `issues`): a model reading features profiles do not have',
    codes: ['unprocessable'],
    retryAfter: false,
    example: {
      error: 'unprocessable',
      message: 'churn-v4 cannot be promoted: churn model v4 reads features profiles do not have: loyalty_points',
      issues: [{ path: 'features.loyalty_points', reason: 'not a profile feature' }],
    },
  },
  429: {
    description:
      'The ingest queue is full (`queue_full`), or the API key sent more requests than its rate limit allows (`rate_limited`); retry after `Retry-After` seconds',
    codes: ['queue_full', 'rate_limited'],
    retryAfter: true,
    example: {
      error: 'queue_full',
      message: 'the ingest queue holds 100000 batches (limit 100000); retry after the indicated delay',
      retryAfterSeconds: 1,
    },
  },
  500: {
    description: 'A bug (`internal`): the `x-request-id` of the answer identifies it in the logs',
    codes: ['internal'],
    retryAfter: false,
    example: { error: 'internal', message: 'internal error; the request id in x-request-id identifies it in the logs' },
  },
  503: {
    description:
      'Elasticsearch or Redis cannot be reached or sheds load (`unavailable`, naming the `dependency`); retry after `Retry-After` seconds',
    codes: ['unavailable'],
    retryAfter: true,
    example: { error: 'unavailable', message: 'Elasticsearch is unavailable; retry shortly', dependency: 'elasticsearch' },
  },
} as const satisfies Record<number, ErrorStatusSpec>;

export type ErrorStatus = keyof typeof ERROR_STATUSES;
