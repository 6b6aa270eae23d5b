import { z } from 'zod';
import {
  ConfigError,
  ConflictError,
  GoneError,
  LimitExceededError,
  NotFoundError,
  QueueFullError,
  TransientError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
  parseOrThrow,
} from '@portrait/shared';

describe('errors', () => {
  it('each carries its HTTP status, a stable code and what its answer adds', () => {
    const table = [
      [new ValidationError('v', [{ path: 'a', reason: 'r' }]), 400, 'validation_failed', { issues: [{ path: 'a', reason: 'r' }] }],
      [new NotFoundError('n'), 404, 'not_found', {}],
      [new ConflictError('c'), 409, 'conflict', {}],
      [new GoneError('g'), 410, 'gone', {}],
      [new LimitExceededError('l', 10, 11), 413, 'too_large', { limit: 10, actual: 11 }],
      [new UnsupportedMediaTypeError('u'), 415, 'unsupported_media_type', {}],
      [new QueueFullError('q', 7), 429, 'queue_full', { retryAfterSeconds: 7 }],
      [new UnavailableError('d', 'redis'), 503, 'unavailable', { dependency: 'redis' }],
      [new TransientError('t'), 503, 'unavailable', {}],
    ] as const;
    for (const [error, status, code, details] of table) {
      expect({ name: error.name, status: error.status, code: error.code, details: error.details() }).toEqual({
        name: error.constructor.name,
        status,
        code,
        details,
      });
    }
    expect(new QueueFullError('q', 7).retryAfterSeconds()).toBe(7);
    expect(new UnavailableError('d', 'es').retryAfterSeconds()).toBe(5);
    expect(new NotFoundError('n').retryAfterSeconds()).toBeUndefined();
    expect(new ConfigError([{ path: 'ES_URL', reason: 'bad' }]).message).toContain('ES_URL: bad');
  });

  it('validates input in one way: unknown keys are reported at the key itself, under the base path', () => {
    const schema = z.strictObject({ a: z.number(), nested: z.strictObject({ b: z.string() }) });
    try {
      parseOrThrow(schema, { a: 'x', extra: 1, nested: { b: 'ok', typo: 2 } }, 'thing', ['body']);
      throw new Error('expected a ValidationError');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toBe('invalid thing');
      expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual(['body.a', 'body.extra', 'body.nested.typo']);
    }
    expect(parseOrThrow(schema, { a: 1, nested: { b: 'x' } }, 'thing')).toEqual({ a: 1, nested: { b: 'x' } });
  });
});
