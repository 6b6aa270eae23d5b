/**
 * No secret in logs, metrics or answers: after a run with API keys (sent as `Authorization` and `x-api-key`, in a
 * query string by mistake, tampered with) and, on a secured Elasticsearch, its password (in ES_PASSWORD, in the
 * URL, and a wrong one), no key secret and no password appears in any log line of any service at debug level, in
 * any metric or in any answer but the one that creates a key.
 */
import { createLogger, type Client, type Redis } from '@portrait/runtime';
import { loadIngestConfig, startIngest, type IngestService } from '@portrait/ingest';
import type { IndexerService } from '@portrait/indexer';
import { loadQueryConfig, startQuery, type QueryService } from '@portrait/query';
import type { JobsService } from '@portrait/jobs';
import { ApiKeyStore, boundNamespace } from '@portrait/runtime';
import {
  ES_CREDENTIALS,
  ES_URL,
  baseEnv,
  cleanup,
  esClient,
  http,
  loggedServices,
  redisClient,
  testPrefix,
  type Env,
} from '../support/stack';

const prefix = testPrefix('secrets');
const lines: string[] = [];
const destination = { write: (line: string) => void lines.push(line) };
const log = (name: string) => createLogger(name, 'debug', destination);
const secured = ES_CREDENTIALS.ES_PASSWORD !== undefined;
let env: Env;
let es: Client;
let redis: Redis;
let services: { ing: IngestService; idx: IndexerService; qry: QueryService; jobs: JobsService };
/** Every answer but the one that creates a key (which shows it, once, by design). */
const answers: string[] = [];
const secrets: string[] = [];

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await http(method, url, body, headers);
  answers.push(`${method} ${url.replace(/\?.*/, '')} ${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`);
  return res;
}

/** The secret part of `ptk_<id>_<secret>`, and the whole key. */
const keySecrets = (key: string) => [key, key.split('_').slice(2).join('_')];

function findings(where: string, text: string): string[] {
  return secrets.filter((s) => s.length >= 8 && text.includes(s)).map((s) => `${where} holds ${s.slice(0, 4)}…`);
}

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  env = baseEnv(prefix, { AUTH_REQUIRED: 'true', METRICS_REQUIRE_KEY: 'true', LOG_LEVEL: 'debug' });
  services = await loggedServices(env, lines);
  if (secured) secrets.push(ES_CREDENTIALS.ES_PASSWORD!);
});

afterAll(async () => {
  if (services) await Promise.all(Object.values(services).map((s) => s.stop()));
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

it('writes no API key secret to logs, metrics or answers', async () => {
  const { ing, idx, qry, jobs } = services;
  const store = new ApiKeyStore(redis, (await boundNamespace(redis, prefix))!);
  const admin = (await store.create({ name: 'secrets-admin', scopes: ['admin'] }, 'test', Date.now())).key;
  secrets.push(...keySecrets(admin));
  const created = await http(
    'POST',
    `${qry.url}/v1/keys`,
    { name: 'shop', scopes: ['ingest', 'read', 'metrics'] },
    { authorization: `Bearer ${admin}` },
  );
  expect(created.status).toBe(201);
  const key = created.body.key as string;
  secrets.push(...keySecrets(key));
  const tampered = `${key.slice(0, -4)}AAAA`;
  secrets.push(...keySecrets(tampered));

  expect(
    (
      await call(
        'POST',
        `${ing.url}/v1/events`,
        { type: 'page_view', userId: 's-1', timestamp: new Date().toISOString() },
        { authorization: `Bearer ${key}` },
      )
    ).status,
  ).toBe(202);
  expect((await call('GET', `${qry.url}/v1/users/s-1/profile`, undefined, { 'x-api-key': key })).status).not.toBe(401);
  expect(
    (await call('GET', `${qry.url}/v1/profiles/search?api_key=${key}&q=x`, undefined, { authorization: `Bearer ${key}` })).status,
  ).toBe(400);
  expect((await call('GET', `${qry.url}/v1/profiles/search`, undefined, { authorization: `Bearer ${tampered}` })).status).toBe(401);
  expect((await call('GET', `${qry.url}/v1/keys`, undefined, { authorization: `Bearer ${key}` })).status).toBe(403);
  expect((await call('GET', `${qry.url}/v1/keys`, undefined, { authorization: `Bearer ${admin}` })).status).toBe(200);
  expect((await call('POST', `${qry.url}/v1/keys`, { name: 'bad name!', scopes: ['read'] }, { 'x-api-key': admin })).status).toBe(400);
  expect((await call('DELETE', `${qry.url}/v1/keys/${created.body.keyId}`, undefined, { authorization: `Bearer ${admin}` })).status).toBe(
    200,
  );
  expect((await call('GET', `${qry.url}/v1/profiles/search`, undefined, { authorization: `Bearer ${key}` })).status).toBe(401);

  const metrics = await Promise.all(
    [ing, idx, qry, jobs].map(
      async (s) => (await http('GET', `${s.url}/metrics`, undefined, { authorization: `Bearer ${admin}` })).body as string,
    ),
  );
  expect(metrics.every((m) => m.includes('process_cpu_seconds_total'))).toBe(true);
  expect([
    ...findings('logs', lines.join('')),
    ...metrics.flatMap((m, i) => findings(`metrics ${i}`, m)),
    ...answers.flatMap((a) => findings(a.slice(0, 60), a)),
  ]).toEqual([]);
  // The run did log the requests, with their keys redacted.
  expect(lines.some((l) => l.includes('"authorization":"[redacted]"'))).toBe(true);
  expect(lines.some((l) => l.includes('"x-api-key":"[redacted]"'))).toBe(true);
});

(secured ? it : it.skip)(
  'writes no Elasticsearch password, right or wrong, to logs or errors, and refuses a wrong one at once',
  async () => {
    const wrong = `wrong-${prefix.slice(-8)}-password`;
    secrets.push(wrong);
    const before = lines.length;
    const started = Date.now();
    const error = await startQuery(loadQueryConfig({ ...env, ES_PASSWORD: wrong }), log('query-wrong')).then(
      (s) => s.stop().then(() => undefined),
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/ES_PASSWORD: Elasticsearch at .* refused ES_USERNAME and ES_PASSWORD \(401\)/);
    // At once, not after ES_WAIT_SECONDS.
    expect(Date.now() - started).toBeLessThan(30_000);
    // The password in the URL instead, as some deployments give it: it works and is never shown.
    const url = new URL(ES_URL);
    url.username = ES_CREDENTIALS.ES_USERNAME!;
    url.password = ES_CREDENTIALS.ES_PASSWORD!;
    const inUrl = await startIngest(
      loadIngestConfig({ ...env, ES_URL: url.toString(), ES_USERNAME: '', ES_PASSWORD: '' }),
      log('ingest-url'),
    );
    expect((await http('GET', `${inUrl.url}/readyz`)).status).toBe(200);
    await inUrl.stop();
    expect([...findings('logs', lines.slice(before).join('')), ...findings('error', `${error?.message} ${error?.stack}`)]).toEqual([]);
  },
);
