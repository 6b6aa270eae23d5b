/**
 * Typed errors shared by every service. The HTTP layer maps each class to one status;
 * domain code throws them and never knows about HTTP.
 */

export interface Issue {
  /** JSON path of the offending value, e.g. "events.3.order.lines.0.quantity". */
  path: string;
  /** What is wrong, in words a client developer can act on. */
  reason: string;
}

export class PortraitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends PortraitError {
  constructor(
    message: string,
    readonly issues: Issue[],
  ) {
    super(message);
  }
}

export class NotFoundError extends PortraitError {}

export class ConflictError extends PortraitError {}

export class QueueFullError extends PortraitError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A dependency (Elasticsearch, Redis) cannot be reached; the client may retry. */
export class UnavailableError extends PortraitError {
  constructor(
    message: string,
    readonly dependency: string,
  ) {
    super(message);
  }
}

/** It existed but is gone for good (an expired or deleted export file). */
export class GoneError extends PortraitError {}

/** The answer would be larger than a limit allows; the message says what to do instead. */
export class LimitExceededError extends PortraitError {
  constructor(
    message: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super(message);
  }
}
