import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { HEALTH_ROUTES, INGEST_API, SCOPES, type ApiRoute, type Scope } from '@portrait/shared';
import { ApiKeyStore, boundNamespace } from '@portrait/runtime';
import { QUERY_API } from '../../services/query/src/api';
import { baseEnv, eventually, http, indexer, ingest, query, REDIS_URL, startStack, testPrefix, type Stack } from '../support/stack';

/**
 * API keys on the real services with AUTH_REQUIRED: every described route of ingest and query, table-driven from
 * the route descriptions (a new route cannot be left out: it has to declare its scope to be described at all).
 */

const prefix = testPrefix('keys');
let stack: Stack;
let store: ApiKeyStore;
let admin: string;
const keys = new Map<Scope, string>();

const auth = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { authorization: `Bearer ${key}` });

/** A value for each path parameter that passes its schema, so the answer is the route's own, not a 400 on the path. */
const SAMPLE: Record<string, string> = {
  id: 'u-1',
  other: 'seg-2',
  kind: 'churn',
  version: '1',
  jobId: '1',
  exportId: 'e-1',
  keyId: '0123456789abcdef',
};
const urlOf = (route: ApiRoute) => route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => SAMPLE[name] ?? 'x');
const baseOf = (service: 'ingest' | 'query') => (service === 'ingest' ? stack.ing.url : stack.qry.url);
const DESCRIBED = [
  ...INGEST_API.routes.map((route) => ({ service: 'ingest' as const, route })),
  ...QUERY_API.routes.map((route) => ({ service: 'query' as const, route })),
];
/** Every route that asks for a key. */
const ROUTES = DESCRIBED.filter((r) => r.route.scope !== 'open');
const call = (service: 'ingest' | 'query', route: ApiRoute, key?: string) =>
  http(route.method.toUpperCase(), `${baseOf(service)}${urlOf(route)}`, ['post', 'put'].includes(route.method) ? {} : undefined, auth(key));
const name = ({ service, route }: { service: string; route: ApiRoute }) => `${service} ${route.method.toUpperCase()} ${route.path}`;

beforeAll(async () => {
  stack = await startStack(prefix, baseEnv(prefix, { AUTH_REQUIRED: 'true' }));
  const namespace = await boundNamespace(stack.redis, prefix);
  store = new ApiKeyStore(stack.redis, namespace!);
  admin = (await store.create({ name: 'test-admin', scopes: ['admin'] }, 'test', Date.now())).key;
  for (const scope of SCOPES) {
    const res = await http('POST', `${stack.qry.url}/v1/keys`, { name: `only-${scope}`, scopes: [scope] }, auth(admin));
    expect(res.status).toBe(201);
    keys.set(scope, res.body.key);
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('describes a scope for every route, and leaves only health, the API description and the console page open', () => {
  const open = [...HEALTH_ROUTES, ...DESCRIBED.map((r) => r.route)].filter((r) => r.scope === 'open').map((r) => r.path);
  // The console holds no data: it asks for a key before it calls the API.
  expect(open.sort()).toEqual(['/console', '/console/assets/:file', '/docs', '/healthz', '/metrics', '/openapi.json', '/readyz']);
});

it('answers 401 without a valid key on every scoped route, and lets the open ones through', async () => {
  const wrongKeys = [
    undefined,
    'not-a-key',
    `ptk_0123456789abcdef_${'A'.repeat(43)}`,
    admin.slice(0, -1) + (admin.endsWith('A') ? 'B' : 'A'),
  ];
  for (const entry of ROUTES) {
    for (const key of wrongKeys) {
      const res = await call(entry.service, entry.route, key);
      expect({ route: name(entry), key: key?.slice(0, 12), status: res.status, error: res.body.error }).toEqual({
        route: name(entry),
        key: key?.slice(0, 12),
        status: 401,
        error: 'unauthorized',
      });
      expect(res.headers.get('www-authenticate')).toContain(`scope="${entry.route.scope}"`);
    }
  }
  for (const route of HEALTH_ROUTES.filter((r) => r.path !== '/readyz'))
    for (const url of [stack.ing.url, stack.qry.url]) expect((await http('GET', `${url}${route.path}`)).status).toBe(200);
});

it('answers 403 naming the scope to a key without it, and the documented answer to one with it', async () => {
  for (const entry of ROUTES) {
    const needed = entry.route.scope as Scope;
    const other = SCOPES.find((s) => s !== needed && s !== 'admin')!;
    const refused = await call(entry.service, entry.route, keys.get(other));
    expect({ route: name(entry), status: refused.status, scope: refused.body.scope }).toEqual({
      route: name(entry),
      status: 403,
      scope: needed,
    });
    const documented = new Set([...Object.keys(entry.route.responses).map(Number), ...entry.route.errors]);
    for (const key of [keys.get(needed)!, admin]) {
      const allowed = await call(entry.service, entry.route, key);
      expect({ route: name(entry), status: allowed.status, documented: documented.has(allowed.status) }).toEqual({
        route: name(entry),
        status: allowed.status,
        documented: true,
      });
      expect([401, 403, 500]).not.toContain(allowed.status);
    }
  }
});

it('refuses a revoked key at once in another process, and an expired one', async () => {
  const created = await http('POST', `${stack.qry.url}/v1/keys`, { name: 'storefront', scopes: ['ingest'] }, auth(admin));
  const event = { type: 'page_view', userId: 'u-keys', eventId: 'kv-1', timestamp: new Date().toISOString(), url: '/' };
  expect((await http('POST', `${stack.ing.url}/v1/events`, event, auth(created.body.key))).status).toBe(202);
  const revoked = await http('DELETE', `${stack.qry.url}/v1/keys/${created.body.keyId}`, undefined, auth(admin));
  expect(revoked.body).toMatchObject({ keyId: created.body.keyId, revokedBy: 'test-admin' });
  const after = await http('POST', `${stack.ing.url}/v1/events`, { ...event, eventId: 'kv-2' }, auth(created.body.key));
  expect(after.status).toBe(401);

  const expired = await store.create({ name: 'old', scopes: ['read'], expiresInDays: 1 }, 'test', Date.now() - 2 * 86_400_000);
  expect((await http('GET', `${stack.qry.url}/v1/users/u-1/profile`, undefined, auth(expired.key))).status).toBe(401);
  const listed = (await http('GET', `${stack.qry.url}/v1/keys`, undefined, auth(admin))).body.keys;
  expect(listed.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['test-admin', 'storefront', 'old']));
  for (const key of listed) expect(JSON.stringify(key)).not.toMatch(/ptk_|hash/);
  const bad = await http('POST', `${stack.qry.url}/v1/keys`, { name: 'x', scopes: ['root'], expiresInDays: 0 }, auth(admin));
  expect(bad.status).toBe(400);
  expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.expiresInDays', 'body.scopes.0']);
});

it('names the key, not the header a client sends, as the actor of an audit record', async () => {
  const segment = await http(
    'POST',
    `${stack.qry.url}/v1/segments`,
    { name: 'Keyed', definition: { field: 'attributes.region', op: 'eq', value: 'Bavaria' } },
    auth(keys.get('segments')),
  );
  expect(segment.status).toBe(201);
  const started = await http(
    'POST',
    `${stack.qry.url}/v1/segments/${segment.body.segmentId}/exports`,
    { format: 'csv', fields: ['userId'] },
    {
      ...auth(keys.get('export')),
      'x-portrait-actor': 'mallory',
    },
  );
  expect(started.status).toBe(202);
  const record = await eventually(async () => {
    const res = await http('GET', `${stack.qry.url}/v1/exports/${started.body.exportId}`, undefined, auth(keys.get('export')));
    return res.status === 200 ? res.body : undefined;
  });
  expect(record.actor).toBe('only-export');
});

it('creates, lists and revokes keys from the command line', async () => {
  const keysCli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../scripts/keys.ts'), ...args], {
      env: { ...process.env, REDIS_URL, PORTRAIT_PREFIX: prefix },
    });
  const { stdout: key } = await keysCli(
    'create',
    '--name',
    'ops-cli',
    '--scopes',
    'admin',
    '--expires-days',
    '7',
    '--rate-limit',
    '500/60',
  );
  expect(key.trim()).toMatch(/^ptk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const listed = await http('GET', `${stack.qry.url}/v1/keys`, undefined, auth(key.trim()));
  expect(listed.status).toBe(200);
  expect(listed.body.keys.find((k: { name: string }) => k.name === 'ops-cli')).toMatchObject({
    scopes: ['admin'],
    createdBy: expect.stringMatching(/^cli:/),
    rateLimit: { requests: 500, perSeconds: 60 },
  });
  const { stdout: list } = await keysCli('list');
  expect(list).toContain('ops-cli');
  expect(list).not.toContain('ptk_');
  await keysCli('revoke', key.trim().split('_')[1]!);
  expect((await http('GET', `${stack.qry.url}/v1/keys`, undefined, auth(key.trim()))).status).toBe(401);
  await expect(keysCli('create', '--name', 'x', '--scopes', 'root')).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--scopes'),
  });
  await expect(keysCli('create', '--name', 'x', '--scopes', 'read', '--rate-limit', 'fast')).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--rate-limit'),
  });
}, 60_000);

it('holds a key’s rate limit across two query services, answering 429 with Retry-After', async () => {
  const second = await query(baseEnv(prefix, { AUTH_REQUIRED: 'true' }));
  try {
    const created = await http(
      'POST',
      `${stack.qry.url}/v1/keys`,
      { name: 'limited', scopes: ['read'], rateLimit: { requests: 10, perSeconds: 60 } },
      auth(admin),
    );
    expect(created.body.rateLimit).toEqual({ requests: 10, perSeconds: 60 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await http('GET', `${[stack.qry.url, second.url][i % 2]}/v1/users/u-1/profile`, undefined, auth(created.body.key));
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toMatchObject({ error: 'rate_limited', retryAfterSeconds: expect.any(Number) });
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses).toEqual([...Array<number>(10).fill(404), 429, 429]);
    // Another key is not held back by this one's count.
    expect((await http('GET', `${second.url}/v1/users/u-1/profile`, undefined, auth(keys.get('read')))).status).toBe(404);
  } finally {
    await second.stop();
  }
});

it('protects /metrics of every service when asked, for a key with scope metrics, and only /metrics when keys are off', async () => {
  const keyed = baseEnv(prefix, { AUTH_REQUIRED: 'true', METRICS_REQUIRE_KEY: 'true' });
  const metricsOnly = baseEnv(prefix, { AUTH_REQUIRED: 'false', METRICS_REQUIRE_KEY: 'true' });
  const [idx, qry, ing] = await Promise.all([indexer(keyed), query(keyed), ingest(metricsOnly)]);
  try {
    for (const url of [idx.url, qry.url, ing.url]) {
      const none = await http('GET', `${url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('scope="metrics"');
      expect((await http('GET', `${url}/metrics`, undefined, auth(keys.get('read')))).body).toMatchObject({
        error: 'forbidden',
        scope: 'metrics',
      });
      for (const key of [keys.get('metrics'), admin]) {
        const scraped = await http('GET', `${url}/metrics`, undefined, auth(key));
        expect(scraped.status).toBe(200);
        expect(scraped.body).toContain('process_cpu_seconds_total');
      }
      expect((await http('GET', `${url}/healthz`)).status).toBe(200);
    }
    // With keys off, the scoped routes stay open: an invalid event is refused for what it is, not for a key.
    expect((await http('POST', `${ing.url}/v1/events`, { type: 'page_view' })).status).toBe(400);
    // The stack's own services do not protect it.
    expect((await http('GET', `${stack.idx.url}/metrics`)).status).toBe(200);
  } finally {
    await Promise.all([idx.stop(), qry.stop(), ing.stop()]);
  }
});
