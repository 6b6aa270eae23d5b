import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliError } from '@portrait/shared';
import { kibanaImport } from '../../scripts/kibana-import';

const PASSWORD = 'kibana-test-password-1234';
const OBJECTS = [
  { type: 'index-pattern', id: 'portrait-dv-profiles', attributes: { title: 'portrait-profiles' }, references: [] },
  {
    type: 'dashboard',
    id: 'portrait-overview',
    attributes: { title: 'Portrait overview' },
    references: [{ type: 'index-pattern', id: 'portrait-dv-profiles', name: 'p' }],
  },
];
const NDJSON = `${OBJECTS.map((o) => JSON.stringify(o)).join('\n')}\n{"exportedCount":2,"missingRefCount":0}\n`;

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Stands in for Kibana: `/api/status` answers `statuses` in turn (then the last one), the import answers `importAnswer`. */
async function fakeKibana(
  statuses: { code: number; level?: string }[],
  importAnswer: { code: number; body: unknown },
): Promise<{ url: string; requests: Received[]; server: Server }> {
  const requests: Received[] = [];
  let polls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/status') {
        const status = statuses[Math.min(polls++, statuses.length - 1)]!;
        res.statusCode = status.code;
        res.end(
          status.level ? JSON.stringify({ status: { overall: { level: status.level } } }) : '{"message":"Kibana server is not ready yet"}',
        );
        return;
      }
      if (req.url!.startsWith('/api/saved_objects/_import')) {
        res.statusCode = importAnswer.code;
        res.end(JSON.stringify(importAnswer.body));
        return;
      }
      res.statusCode = 404;
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

/** The multipart body as the server received it, parsed the way a browser's FormData would be. */
async function formOf(request: Received): Promise<FormData> {
  return new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
}

describe('kibana-import', () => {
  let dir: string;
  let file: string;
  let server: Server | undefined;
  let lines: string[];
  const say = (line: string): void => {
    lines.push(line);
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kibana-import-'));
    file = path.join(dir, 'portrait.ndjson');
    writeFileSync(file, NDJSON);
    lines = [];
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (server) await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });

  it('waits while Kibana answers 503, then posts the file as multipart with overwrite, kbn-xsrf and basic auth, and exits 0', async () => {
    const kibana = await fakeKibana([{ code: 503 }, { code: 503, level: 'unavailable' }, { code: 200, level: 'available' }], {
      code: 200,
      body: { success: true, successCount: 2, successResults: [], warnings: [] },
    });
    server = kibana.server;
    const env = { KIBANA_URL: `${kibana.url}/`, KIBANA_USERNAME: 'elastic', KIBANA_PASSWORD: PASSWORD };

    const code = await kibanaImport([file], env, say, { pollMs: 10 });

    expect(code).toBe(0);
    const statusPolls = kibana.requests.filter((r) => r.url === '/api/status');
    expect(statusPolls).toHaveLength(3);
    const post = kibana.requests.find((r) => r.url.startsWith('/api/saved_objects/'))!;
    expect(post.method).toBe('POST');
    expect(post.url).toBe('/api/saved_objects/_import?overwrite=true');
    expect(post.headers['kbn-xsrf']).toBe('true');
    expect(post.headers.authorization).toBe(`Basic ${Buffer.from(`elastic:${PASSWORD}`).toString('base64')}`);
    expect(statusPolls.every((r) => r.headers.authorization === post.headers.authorization)).toBe(true);
    expect(post.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const uploaded = (await formOf(post)).get('file') as File;
    expect(uploaded.name).toBe('portrait.ndjson');
    expect(await uploaded.text()).toBe(NDJSON);

    expect(lines[0]).toMatch(/^waiting for Kibana at http:\/\/127\.0\.0\.1:\d+: HTTP 503, no status yet$/);
    expect(lines).toContainEqual(expect.stringMatching(/waiting for Kibana .*: status unavailable \(HTTP 503\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Kibana at .* is available$/));
    expect(lines).toContainEqual('importing 2 saved objects from ' + path.relative(process.cwd(), file));
    expect(lines.at(-1)).toBe('imported 2 saved objects (objects with the same id overwritten)');
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  it('prints every object Kibana could not import, with its type, id and reason, and exits 1', async () => {
    const kibana = await fakeKibana([{ code: 200, level: 'available' }], {
      code: 200,
      body: {
        success: false,
        successCount: 1,
        warnings: [{ type: 'simple', message: 'one of the objects is deprecated' }],
        errors: [
          {
            id: 'portrait-overview',
            type: 'dashboard',
            meta: { title: 'Portrait overview', icon: 'dashboardApp' },
            error: { type: 'missing_references', references: [{ type: 'lens', id: 'portrait-lens-tiers' }] },
          },
          { id: 'portrait-dv-events', type: 'index-pattern', meta: {}, error: { type: 'conflict', destinationId: 'another-view' } },
          { id: 'portrait-lens-x', type: 'lens', meta: {}, error: { type: 'unknown', message: 'Document is malformed', statusCode: 400 } },
          { id: 'portrait-canvas', type: 'canvas-workpad', meta: {}, error: { type: 'unsupported_type' } },
        ],
      },
    });
    server = kibana.server;

    const code = await kibanaImport([file], { KIBANA_URL: kibana.url }, say, { pollMs: 10 });

    expect(code).toBe(1);
    expect(kibana.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(lines.slice(-7)).toEqual([
      'imported 1 saved object (objects with the same id overwritten)',
      'warning: one of the objects is deprecated',
      'failed: dashboard portrait-overview "Portrait overview": missing references: lens portrait-lens-tiers',
      'failed: index-pattern portrait-dv-events: conflict with another-view',
      'failed: lens portrait-lens-x: Document is malformed (400)',
      'failed: canvas-workpad portrait-canvas: unsupported type (this Kibana does not know it)',
      'import incomplete: 4 objects not imported',
    ]);
  });

  it('fails with a clear message, before calling Kibana, when the file is not there', async () => {
    const kibana = await fakeKibana([{ code: 200, level: 'available' }], { code: 200, body: { success: true, successCount: 0 } });
    server = kibana.server;
    const missing = path.join(dir, 'nothing.ndjson');

    const run = kibanaImport([missing], { KIBANA_URL: kibana.url }, say);

    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toThrow(`no saved objects file at ${missing}`);
    expect(kibana.requests).toEqual([]);
  });

  it('gives up after KIBANA_WAIT_SECONDS when Kibana never becomes available', async () => {
    const kibana = await fakeKibana([{ code: 503, level: 'degraded' }], { code: 200, body: { success: true, successCount: 0 } });
    server = kibana.server;

    const run = kibanaImport([file], { KIBANA_URL: kibana.url, KIBANA_WAIT_SECONDS: '0' }, say, { pollMs: 10 });

    await expect(run).rejects.toThrow(/was not available within 0 s \(last: status degraded \(HTTP 503\)\)/);
    expect(kibana.requests.some((r) => r.url.startsWith('/api/saved_objects/'))).toBe(false);
  });

  it('stops at once when Kibana refuses the credentials, without showing the password', async () => {
    const kibana = await fakeKibana([{ code: 401 }], { code: 200, body: { success: true, successCount: 0 } });
    server = kibana.server;

    const run = kibanaImport([file], { KIBANA_URL: kibana.url, KIBANA_USERNAME: 'elastic', KIBANA_PASSWORD: PASSWORD }, say, {
      pollMs: 10,
    });

    const error = (await run.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toMatch(/refused the credentials \(401\)/);
    expect(error.message).not.toContain(PASSWORD);
    expect(kibana.requests).toHaveLength(1);
  });

  it('reports the reason when Kibana refuses the import request itself', async () => {
    const kibana = await fakeKibana([{ code: 200, level: 'available' }], {
      code: 415,
      body: { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type' },
    });
    server = kibana.server;

    await expect(kibanaImport([file], { KIBANA_URL: kibana.url }, say, { pollMs: 10 })).rejects.toThrow(
      'Kibana refused the import (HTTP 415): Unsupported Media Type',
    );
  });

  it('refuses half a set of credentials, and a file that is not NDJSON', async () => {
    await expect(kibanaImport([file], { KIBANA_USERNAME: 'elastic' }, say)).rejects.toThrow('set both KIBANA_USERNAME and KIBANA_PASSWORD');
    writeFileSync(file, '{"type":"dashboard","id":"a"}\nnot json\n');
    await expect(kibanaImport([file], {}, say)).rejects.toThrow(`${file}:2 is not a JSON object`);
    await expect(kibanaImport([path.join(dir, 'objects.json')], {}, say)).rejects.toThrow('Kibana imports .ndjson files only');
  });
});
