import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, redactUrl } from '@portrait/shared';
import { boundNamespace, createRedis, type Redis } from '@portrait/runtime';

/**
 * Runs a command-line tool's `main` and sets the exit code: a `CliError` prints its advice alone (no stack) with
 * its code, anything else is a bug and prints its stack with code 1.
 */
export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof CliError) {
        process.stderr.write(`${name}: ${error.message}\n`);
        process.exitCode = error.exitCode;
        return;
      }
      process.stderr.write(`${name}: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

/** The options of a tool that talks to the query service and polls a job. */
export const QUERY_SERVICE_OPTIONS = {
  'query-url': { type: 'string' },
  'poll-ms': { type: 'string', default: '500' },
} as const;

/** Where the query service is (`--query-url`, `QUERY_URL`, or the local default) and how often to poll it. */
export function queryService(values: { 'query-url'?: string; 'poll-ms'?: string }): { queryUrl: string; pollMs: number } {
  const pollMs = Number(values['poll-ms']);
  if (!Number.isInteger(pollMs) || pollMs < 50) throw new CliError('--poll-ms must be a whole number of milliseconds, at least 50', 2);
  return { queryUrl: (values['query-url'] ?? process.env.QUERY_URL ?? 'http://127.0.0.1:3003').replace(/\/$/, ''), pollMs };
}

/**
 * The API key the tools send (`PORTRAIT_API_KEY`, which `npm start` prints), as request headers; none without it
 * (a platform started with AUTH_REQUIRED=false asks for none).
 */
export function apiKeyHeaders(): Record<string, string> {
  const key = process.env.PORTRAIT_API_KEY?.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** `fetch` on the query service with the API key; a connection failure says how to bring it up. */
export async function fetchQueryService(queryUrl: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${queryUrl}${path}`, {
      ...init,
      headers: { ...apiKeyHeaders(), ...(init.headers as Record<string, string> | undefined) },
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    throw new CliError(
      `the query service is not reachable at ${queryUrl}${code ? ` (${code})` : ''}: start it with \`npm start\`, or point --query-url at it`,
    );
  }
}

/** A tool's flags and positionals; an unknown or malformed flag is a usage error (exit 2) followed by the usage. */
export function parseCliArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${usage}`, 2);
  }
}

/** The URL without its password, for messages. */

/**
 * The Redis the services use and the namespace the prefix's data set is bound to. One try, then a clear message: a
 * tool should not wait forever for a Redis that is not there, nor act on a prefix no service has started on
 * (`nothing` says what the tool would find missing).
 */
export async function connectDataSet(url: string, prefix: string, nothing: string): Promise<{ redis: Redis; namespace: string }> {
  const redis = createRedis(url, 'worker', { lazyConnect: true, retryStrategy: () => null, connectTimeout: 5000 });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new CliError(
      `cannot reach Redis at ${redactUrl(url)} (${(lastError ?? (error as Error)).message}).\n` +
        'Start it (bash scripts/redis.sh ensure) or point REDIS_URL at the Redis the services use.',
    );
  }
  const namespace = await boundNamespace(redis, prefix);
  if (namespace === undefined) {
    redis.disconnect();
    throw new CliError(
      `Redis at ${redactUrl(url)} holds no data set of prefix '${prefix}': no service has started on it yet, so ${nothing}. ` +
        'Start the platform (npm start), or check PORTRAIT_PREFIX and REDIS_URL.',
    );
  }
  return { redis, namespace };
}
