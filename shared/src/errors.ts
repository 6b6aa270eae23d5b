/**
 * Every error Portrait raises on purpose, in one place. An error that can reach a client carries its
 * HTTP status and a stable `code` (the `error` field of the JSON answer); the one error middleware
 * (`errorHandler` in services/runtime) maps them, so domain code throws them and never knows about HTTP.
 */

export interface Issue {
  /** JSON path of the offending value, e.g. "events.3.order.lines.0.quantity". */
  path: string;
  /** What is wrong, in words a client developer can act on. */
  reason: string;
}

export abstract class PortraitError extends Error {
  /** The HTTP status it is answered with, when it reaches a client. */
  abstract readonly status: number;
  /** Stable, machine-readable: clients branch on it, never on the message. */
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** Fields the answer carries beside `error` and `message`. */
  details(): Record<string, unknown> {
    return {};
  }

  /** Seconds a client should wait before retrying, when retrying can help. */
  retryAfterSeconds(): number | undefined {
    return undefined;
  }
}

/** An error that lists what is wrong, one issue per field. */
abstract class IssuesError extends PortraitError {
  constructor(
    message: string,
    readonly issues: Issue[],
  ) {
    super(message);
  }
  override details(): Record<string, unknown> {
    return { issues: this.issues };
  }
}

export class ValidationError extends IssuesError {
  readonly status = 400;
  readonly code = 'validation_failed';
}

/** No API key, or one that is malformed, unknown, revoked or expired (`unauthorized`): which of them is not said. */
export class UnauthorizedError extends PortraitError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

/** A valid key without the scope the route needs (`forbidden`, naming the scope). */
export class ForbiddenError extends PortraitError {
  readonly status = 403;
  readonly code = 'forbidden';

  constructor(
    message: string,
    readonly scope: string,
  ) {
    super(message);
  }

  override details(): Record<string, unknown> {
    return { scope: this.scope };
  }
}

export class NotFoundError extends PortraitError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class ConflictError extends PortraitError {
  readonly status = 409;
  readonly code = 'conflict';
}

/** Well-formed, but cannot be used as it is (a stored model whose features profiles do not have). */
export class UnprocessableError extends IssuesError {
  readonly status = 422;
  readonly code = 'unprocessable';
}

/** It existed but is gone for good (an expired or deleted export file). */
export class GoneError extends PortraitError {
  readonly status = 410;
  readonly code = 'gone';
}

/** The answer would be larger than a limit allows; the message says what to do instead. */
export class LimitExceededError extends PortraitError {
  readonly status = 413;
  readonly code = 'too_large';
  constructor(
    message: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super(message);
  }
  override details(): Record<string, unknown> {
    return { limit: this.limit, actual: this.actual };
  }
}

export class UnsupportedMediaTypeError extends PortraitError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** Too many requests for now (`429`): retry after `Retry-After` seconds. */
abstract class RetryLaterError extends PortraitError {
  readonly status = 429;
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
  }
  override details(): Record<string, unknown> {
    return { retryAfterSeconds: this.retryAfter };
  }
  override retryAfterSeconds(): number {
    return this.retryAfter;
  }
}

/** An API key sent more requests than its rate limit allows (`rate_limited`). */
export class RateLimitedError extends RetryLaterError {
  readonly code = 'rate_limited';
}

export class QueueFullError extends RetryLaterError {
  readonly code = 'queue_full';
}

/** A dependency (Elasticsearch, Redis) cannot be reached or sheds load; the client may retry. */
export class UnavailableError extends PortraitError {
  readonly status = 503;
  readonly code = 'unavailable';
  constructor(
    message: string,
    readonly dependency: string,
  ) {
    super(message);
  }
  override details(): Record<string, unknown> {
    return { dependency: this.dependency };
  }
  override retryAfterSeconds(): number {
    return 5;
  }
}

/** Worth trying again later (the cluster is overloaded or unreachable); the indexer retries the batch. */
export class TransientError extends PortraitError {
  readonly status = 503;
  readonly code = 'unavailable';
  override retryAfterSeconds(): number {
    return 5;
  }
}

/** Bad configuration: lists every bad variable; the process exits without a stack trace. */
export class ConfigError extends PortraitError {
  readonly status = 500;
  readonly code = 'invalid_configuration';
  constructor(readonly issues: Issue[]) {
    super(
      `invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.reason}`).join('\n')}\n` +
        'Fix the environment variables above and start again.',
    );
  }
}

/** A command-line mistake the operator can fix; printed without a stack trace, exiting with `exitCode`. */
export class CliError extends PortraitError {
  readonly status = 400;
  readonly code = 'usage';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
