import { Client, errors, type estypes } from '@elastic/elasticsearch';
import { ConfigError, UnavailableError, redactUrl } from '@portrait/shared';

export { Client, errors, type estypes };

export interface EsOptions {
  url: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
}

export function createEsClient(options: EsOptions): Client {
  return new Client({
    node: options.url,
    auth: options.username && options.password ? { username: options.username, password: options.password } : undefined,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: 2,
    compression: false,
  });
}

/** Cluster health; never `ping()`/`info()`, which need a module the minimal distribution lacks. */
export async function esReady(client: Client, timeoutMs = 2000): Promise<boolean> {
  try {
    const health = await client.cluster.health({ timeout: `${timeoutMs}ms` }, { requestTimeout: timeoutMs, maxRetries: 0 });
    return health.status !== 'red';
  } catch {
    return false;
  }
}

/** True for failures that say "Elasticsearch is not reachable right now", as opposed to a bad request. */
export function isConnectionError(error: unknown): boolean {
  return (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    // 429: the cluster is shedding load (rejected executions, circuit breakers); like a 5xx, it passes.
    (error instanceof errors.ResponseError && [429, 500, 502, 503, 504].includes(error.statusCode ?? 0))
  );
}

/** Maps unreachable-cluster errors to UnavailableError so the HTTP layer answers 503. */
export async function withEs<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isConnectionError(error)) throw new UnavailableError('Elasticsearch is unavailable; retry shortly', 'elasticsearch');
    throw error;
  }
}

/**
 * Waits until the cluster answers, logging while it waits; throws with advice after `timeoutMs`, and at once when
 * the cluster refuses the credentials (waiting would not change that). Messages never show a password.
 */
export async function waitForEs(client: Client, url: string, timeoutMs: number, log: (msg: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const shown = redactUrl(url);
  let logged = 0;
  for (;;) {
    try {
      const health = await client.cluster.health({ timeout: '2000ms' }, { requestTimeout: 2000, maxRetries: 0 });
      if (health.status !== 'red') return;
    } catch (error) {
      const status = error instanceof errors.ResponseError ? error.statusCode : undefined;
      if (status === 401 || status === 403)
        throw new ConfigError([
          {
            path: 'ES_PASSWORD',
            reason:
              `Elasticsearch at ${shown} refused ES_USERNAME and ES_PASSWORD (${status}): give a user that may manage the indices ` +
              'of PORTRAIT_PREFIX (for the embedded node: ES_USERNAME=elastic, and the password npm run es -- password prints)',
          },
        ]);
    }
    if (Date.now() > deadline) {
      throw new UnavailableError(
        `Elasticsearch at ${shown} did not become ready within ${Math.round(timeoutMs / 1000)} s; start it (npm run es -- start) or fix ES_URL`,
        'elasticsearch',
      );
    }
    if (Date.now() - logged > 5000) {
      log(`waiting for Elasticsearch at ${shown}`);
      logged = Date.now();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
