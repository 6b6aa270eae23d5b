/**
 * The query service serves the console's build at /console without a key (the page asks for one before it calls /v1),
 * its assets cached for good, nothing outside the build, and a 503 that says how to build it when it is missing.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { QueryService } from '@portrait/query';
import { consoleFixture } from '../support/console-fixture';
import { baseEnv, cleanup, esClient, http, query, redisClient, testPrefix } from '../support/stack';

const prefix = testPrefix('console');
let qry: QueryService;
let build: Awaited<ReturnType<typeof consoleFixture>>;

beforeAll(async () => {
  build = await consoleFixture();
  qry = await query(baseEnv(prefix, { AUTH_REQUIRED: 'true', CONSOLE_DIR: build.dir }));
});

afterAll(async () => {
  await qry?.stop();
  const [es, redis] = [esClient(), redisClient()];
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
  if (build) await rm(build.dir, { recursive: true, force: true });
});

it('serves the page without a key, under a policy that lets it load only its own files, while /v1 still asks for one', async () => {
  for (const target of ['/console', '/console/']) {
    const page = await http('GET', `${qry.url}${target}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.body).toContain(`/console/assets/${build.script}`);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
  }
  expect((await fetch(`${qry.url}/console`, { method: 'HEAD' })).status).toBe(200);
  const api = await http('GET', `${qry.url}/v1/profiles/search`);
  expect([api.status, api.body.error]).toEqual([401, 'unauthorized']);
});

it('serves the build’s scripts and styles with their types, cached for good', async () => {
  const script = await http('GET', `${qry.url}/console/assets/${build.script}`);
  expect(script.status).toBe(200);
  expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(script.headers.get('x-content-type-options')).toBe('nosniff');
  const style = await http('GET', `${qry.url}/console/assets/${build.style}`);
  expect([style.status, style.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
});

it('answers 404 for a file the build lacks and 400 for a name that is not one of its files, and serves nothing outside it', async () => {
  const missing = await http('GET', `${qry.url}/console/assets/index-Nope.js`);
  expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
  for (const name of ['..%2Findex.html', '..%2F..%2Fpackage.json', '.hidden.js', 'index.html', 'x.js%00.css', '%2Fetc%2Fpasswd']) {
    const res = await http('GET', `${qry.url}/console/assets/${name}`);
    expect({ name, status: res.status, error: res.body.error }).toEqual({ name, status: 400, error: 'validation_failed' });
  }
  // Deeper paths are no route at all.
  expect((await http('GET', `${qry.url}/console/assets/../../package.json`)).body.error).toBe('not_found');
  expect((await http('GET', `${qry.url}/console/src/main.tsx`)).status).toBe(404);
});

it('answers 503 naming the command that builds the console while the build is missing, and serves it once it is there', async () => {
  const page = await readFile(path.join(build.dir, 'index.html'));
  await rm(path.join(build.dir, 'index.html'));
  for (const target of ['/console', `/console/assets/${build.script}`]) {
    const res = await http('GET', `${qry.url}${target}`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'unavailable', dependency: 'console' });
    expect(res.body.message).toContain('npm run console:build');
    expect(res.headers.get('retry-after')).toBe('5');
  }
  // Looked for on every request: a build made while the service runs is served without a restart.
  await writeFile(path.join(build.dir, 'index.html'), page);
  expect((await http('GET', `${qry.url}/console`)).status).toBe(200);
});
