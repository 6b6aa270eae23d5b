import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: credentials and shopper PII. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.password',
  '*.email',
  '*.phone',
  'attributes.email',
  'attributes.phone',
];

export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}
