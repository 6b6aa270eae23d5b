/**
 * Each service's API document against the running service: it serves the document its description builds
 * and a docs page, and every answer it gives is one its document describes, for that route and status,
 * with a body its schema accepts whole (no field the schema does not name).
 */
import { rm } from 'node:fs/promises';
import {
  ERROR_STATUSES,
  ErrorBody,
  HEALTH_ROUTES,
  INDEXER_API,
  JOBS_API,
  INGEST_API,
  buildOpenApiDocument,
  type ApiDescription,
} from '@portrait/shared';
import { QUERY_API } from '../../services/query/src/api';
import { consoleFixture } from '../support/console-fixture';
import { baseEnv, eventually, startStack, testPrefix, type Stack } from '../support/stack';

const prefix = testPrefix('openapi');
let stack: Stack;
let build: Awaited<ReturnType<typeof consoleFixture>>;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

beforeAll(async () => {
  build = await consoleFixture();
  stack = await startStack(prefix, baseEnv(prefix, { CONSOLE_DIR: build.dir }));
});

afterAll(async () => {
  await stack?.stop();
  if (build) await rm(build.dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** `actual` equals `expected` (true by default); the message names the call and what was checked. */
function holds(where: string, what: string, actual: unknown, expected: unknown = true): void {
  expect({ where, what, actual }).toEqual({ where, what, actual: expected });
}

/** Calls `path` (`pattern` with its parameters filled in) and checks the answer against `api`'s description. */
async function call(
  api: ApiDescription,
  base: string,
  method: string,
  pattern: string,
  path: string,
  init: { body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const body = type === 'application/json' ? JSON.parse(text) : text;
  const where = `${method} ${pattern} answered ${res.status}`;
  const route = [...HEALTH_ROUTES, ...api.routes].find((r) => r.method === method.toLowerCase() && r.path === pattern);
  if (!route) throw new Error(`${method} ${pattern} is not in the ${api.title} description`);
  const described = route.responses[res.status];
  if (described) {
    holds(where, 'content type', described.content ? Object.keys(described.content).includes(type) : text === '');
    const schema = described.content?.[type]?.schema;
    if (schema) holds(where, 'body', schema.parse(body), body);
    for (const [name, header] of Object.entries(described.headers?.shape ?? {})) {
      if (!header.safeParse(undefined).success) holds(where, `header ${name}`, res.headers.has(name));
    }
  } else {
    holds(where, 'status', (route.errors as readonly number[]).includes(res.status));
    holds(where, 'error body', ErrorBody.parse(body), body);
    const spec = ERROR_STATUSES[res.status as keyof typeof ERROR_STATUSES];
    holds(where, 'error code', (spec.codes as readonly string[]).includes(body.error));
    holds(where, 'retry-after', res.headers.has('retry-after'), spec.retryAfter);
  }
  return { status: res.status, headers: res.headers, body };
}

describe.each([
  ['ingest', INGEST_API, () => stack.ing.url],
  ['indexer', INDEXER_API, () => stack.idx.url],
  ['jobs', JOBS_API, () => stack.jobs.url],
  ['query', QUERY_API, () => stack.qry.url],
] as const)('the %s service', (_name, api, url) => {
  it('serves the document its description builds, and the docs page', async () => {
    const expected = JSON.parse(JSON.stringify(buildOpenApiDocument({ ...api, routes: [...HEALTH_ROUTES, ...api.routes] })));
    expect((await call(api, url(), 'GET', '/openapi.json', '/openapi.json')).body).toEqual(expected);
    const page = await call(api, url(), 'GET', '/docs', '/docs');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.body).toContain(`<h1>${api.title}</h1>`);
  });

  it('answers its operations routes as described', async () => {
    expect((await call(api, url(), 'GET', '/healthz', '/healthz')).status).toBe(200);
    expect((await call(api, url(), 'GET', '/readyz', '/readyz')).status).toBe(200);
    expect((await call(api, url(), 'GET', '/metrics', '/metrics')).body).toContain('portrait_');
  });
});

describe('answers as described', () => {
  const purchase = (userId: string, orderId: string) => ({
    type: 'purchase',
    userId,
    timestamp: minutesAgo(5),
    order: { orderId, amount: 59, currency: 'EUR', paymentMethod: 'card', lines: [{ itemId: 'sku-1', quantity: 1, unitPrice: 59 }] },
  });

  it('ingest: events, attributes and items, accepted, repeated and refused', async () => {
    const base = stack.ing.url;
    const ev = (path: string, init: Parameters<typeof call>[5]) => call(INGEST_API, base, 'POST', path, path, init);
    const event = { ...purchase('oa-alice', 'o-1'), eventId: 'oa-e-1' };
    expect((await ev('/v1/events', { body: event })).status).toBe(202);
    expect((await ev('/v1/events', { body: event })).status).toBe(200);
    expect((await ev('/v1/events', { body: { ...event, timestamp: 'yesterday' } })).status).toBe(400);
    expect((await ev('/v1/events', { raw: '{"type":', contentType: 'application/json' })).body.error).toBe('malformed_json');
    expect((await ev('/v1/events', { raw: 'hello', contentType: 'text/plain' })).status).toBe(415);
    expect((await ev('/v1/events', { body: { ...event, url: 'x'.repeat(300_000) } })).status).toBe(413);

    const batch = await ev('/v1/events/batch', { body: { events: [purchase('oa-bob', 'o-2'), { type: 'page_view' }] } });
    expect([batch.status, batch.body.accepted, batch.body.rejected]).toEqual([202, 1, 1]);
    expect((await ev('/v1/events/batch', { body: { events: [{ type: 'nope' }] } })).body.results).toHaveLength(1);
    expect((await ev('/v1/events/batch', { body: { events: [] } })).status).toBe(400);

    const attributes = (id: string, body: unknown) =>
      call(INGEST_API, base, 'PUT', '/v1/users/:id/attributes', `/v1/users/${id}/attributes`, { body });
    expect((await attributes('oa-alice', { attributes: { region: 'Bavaria', phone: '+49 (0)170 123-4567' } })).status).toBe(202);
    expect((await attributes('not an id', { attributes: { region: 'Bavaria' } })).status).toBe(400);

    const item = { title: 'Margarine', category: ['food'], price: 2.49 };
    expect((await call(INGEST_API, base, 'PUT', '/v1/items/:id', '/v1/items/sku-1', { body: item })).status).toBe(202);
    expect((await ev('/v1/items/batch', { body: { items: [{ itemId: 'sku-2', ...item }, { title: '' }] } })).status).toBe(202);
    expect((await ev('/v1/items/batch', { body: { items: [{ title: '' }] } })).status).toBe(400);
  });

  it('query: profiles, segments and exports, found, missing and refused', async () => {
    const base = stack.qry.url;
    const q = (method: string, pattern: string, path = pattern, init: Parameters<typeof call>[5] = {}) =>
      call(QUERY_API, base, method, pattern, path, init);
    const ingest = (path: string, body: unknown) => call(INGEST_API, stack.ing.url, 'POST', path, path, { body });
    await ingest('/v1/events', purchase('oa-carol', 'o-3'));
    await eventually(
      async () => (await q('GET', '/v1/users/:id/profile', '/v1/users/oa-carol/profile')).status === 200,
      20_000,
      'a profile',
    );

    expect((await q('GET', '/v1/users/:id/profile', '/v1/users/oa-nobody/profile')).status).toBe(404);
    const search = '/v1/profiles/search?minOrders=1&facets=region,lifecycle&size=5';
    await eventually(async () => (await q('GET', '/v1/profiles/search', search)).body.total > 0, 20_000, 'a searchable profile');
    expect((await q('GET', '/v1/profiles/search', '/v1/profiles/search?size=1000')).status).toBe(400);

    const definition = { field: 'purchases.orders', op: 'range', gte: 1 };
    const body = { segmentId: 'oa-buyers', name: 'Buyers', definition };
    expect((await q('POST', '/v1/segments/preview', undefined, { body: { definition, sampleSize: 2 } })).status).toBe(200);
    expect((await q('POST', '/v1/segments', undefined, { body })).status).toBe(201);
    expect((await q('POST', '/v1/segments', undefined, { body })).status).toBe(409);
    expect(
      (await q('POST', '/v1/segments', undefined, { body: { ...body, segmentId: 'oa-2', definition: { field: 'nope' } } })).status,
    ).toBe(400);
    await q('POST', '/v1/segments', undefined, {
      body: { segmentId: 'oa-all', name: 'All', definition: { field: 'userId', op: 'exists' } },
    });
    expect((await q('GET', '/v1/segments')).body.segments.length).toBeGreaterThan(0);
    const extras = { definition, sampleSize: 0, by: ['region', 'tier'], overlapWith: ['oa-buyers', 'oa-all'] };
    expect((await q('POST', '/v1/segments/preview', undefined, { body: extras })).body.overlaps).toHaveLength(2);
    expect((await q('POST', '/v1/segments/preview', undefined, { body: { definition, overlapWith: ['oa-none'] } })).status).toBe(404);
    const seg = (pattern: string, path: string, method = 'GET', init: Parameters<typeof call>[5] = {}) => q(method, pattern, path, init);
    expect((await seg('/v1/segments/:id', '/v1/segments/oa-buyers')).status).toBe(200);
    expect((await seg('/v1/segments/:id', '/v1/segments/oa-none')).status).toBe(404);
    expect((await seg('/v1/segments/:id/versions/:version', '/v1/segments/oa-buyers/versions/1')).status).toBe(200);
    expect((await seg('/v1/segments/:id/versions/:version', '/v1/segments/oa-buyers/versions/0')).status).toBe(400);
    expect((await seg('/v1/segments/:id', '/v1/segments/oa-buyers', 'PUT', { body: { name: 'Buyers (all)', definition } })).status).toBe(
      200,
    );
    expect((await seg('/v1/segments/:id/count', '/v1/segments/oa-buyers/count')).body.count).toBeGreaterThan(0);
    expect((await seg('/v1/segments/:id/membership', '/v1/segments/oa-buyers/membership')).status).toBe(200);
    expect((await seg('/v1/segments/:id/sample', '/v1/segments/oa-buyers/sample?size=2')).status).toBe(200);
    expect((await seg('/v1/segments/:id/breakdown', '/v1/segments/oa-buyers/breakdown?by=region,lifecycle')).status).toBe(200);
    expect((await seg('/v1/segments/:id/breakdown', '/v1/segments/oa-buyers/breakdown?by=shoeSize')).status).toBe(400);
    expect((await seg('/v1/segments/:id/overlap/:other', '/v1/segments/oa-buyers/overlap/oa-all')).status).toBe(200);
    expect((await q('GET', '/v1/users/:id/segments', '/v1/users/oa-carol/segments')).status).toBe(200);

    const actor = { 'x-portrait-actor': 'openapi-test' };
    const exportBody = { fields: ['userId', 'emailSha256'], hashIdentifiers: true };
    const stream = await seg('/v1/segments/:id/export', '/v1/segments/oa-buyers/export', 'POST', { body: exportBody, headers: actor });
    expect([stream.status, stream.body.split('\n')[0]]).toEqual([200, 'userId,emailSha256']);
    expect((await seg('/v1/segments/:id/export', '/v1/segments/oa-buyers/export', 'POST', { body: exportBody })).status).toBe(400);
    const job = await seg('/v1/segments/:id/exports', '/v1/segments/oa-buyers/exports', 'POST', { body: exportBody, headers: actor });
    expect(job.status).toBe(202);
    const id = job.body.exportId as string;
    // The audit index is searched: the new record shows after its refresh.
    await eventually(
      async () => (await q('GET', '/v1/exports', '/v1/exports?segmentId=oa-buyers')).body.exports.length > 0,
      20_000,
      'a listed export',
    );
    expect((await q('GET', '/v1/exports/:exportId', `/v1/exports/${id}`)).status).toBe(200);
    expect((await q('GET', '/v1/exports/:exportId', '/v1/exports/oa-none')).status).toBe(404);
    // Whether the job has finished yet or not, the answer is a described one.
    await q('GET', '/v1/exports/:exportId/download', `/v1/exports/${id}/download`, { headers: actor });
    await q('DELETE', '/v1/exports/:exportId', `/v1/exports/${id}`, { headers: actor });

    expect((await seg('/v1/segments/:id', '/v1/segments/oa-all', 'DELETE')).status).toBe(204);
  });

  it('query: the console page and its files, found, missing and refused', async () => {
    const base = stack.qry.url;
    const file = (name: string) => call(QUERY_API, base, 'GET', '/console/assets/:file', `/console/assets/${name}`);
    expect((await call(QUERY_API, base, 'GET', '/console', '/console')).body).toContain('Portrait console');
    expect((await file(build.script)).status).toBe(200);
    expect((await file(build.style)).status).toBe(200);
    expect((await file('index-Nope.js')).status).toBe(404);
    expect((await file('..%2Findex.html')).status).toBe(400);
  });
});
