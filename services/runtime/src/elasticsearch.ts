import { Client, errors, type estypes } from '@elastic/elasticsearch';
import { UnavailableError } from '@portrait/shared';

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

/** Waits until the cluster answers, logging while it waits; throws with advice after `timeoutMs`. */
export async function waitForEs(client: Client, url: string, timeoutMs: number, log: (msg: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let logged = 0;
  while (!(await esReady(client))) {
    if (Date.now() > deadline) {
      throw new UnavailableError(
        `Elasticsearch at ${url} did not become ready within ${Math.round(timeoutMs / 1000)} s; start it (npm run es -- start) or fix ES_URL`,
        'elasticsearch',
      );
    }
    if (Date.now() - logged > 5000) {
      log(`waiting for Elasticsearch at ${url}`);
      logged = Date.now();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
