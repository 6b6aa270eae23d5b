/**
 * Audience exports against the real Elasticsearch and Redis: streamed CSV/NDJSON, consent, hashing,
 * snapshot consistency while profiles change, export jobs (progress, download, cancel, delete, expiry)
 * and the audit trail.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { parse } from 'csv-parse/sync';
import type { IngestService } from '@portrait/ingest';
import type { IndexerService } from '@portrait/indexer';
import type { JobsService } from '@portrait/jobs';
import type { QueryService } from '@portrait/query';
import { ExportJob, indexNames, queueNames } from '@portrait/shared';
import { bullPrefix, type Client, type Redis } from '@portrait/runtime';
import {
  baseEnv,
  cleanup,
  esClient,
  eventually,
  http,
  indexer,
  ingest,
  jobs,
  query,
  redisClient,
  testPrefix,
  type Env,
  namespaceOf,
} from '../support/stack';

const prefix = testPrefix('export');
const names = indexNames(prefix);
const STREAM_LIMIT = 25;
let exportDir: string;
let env: Env;
let es: Client;
let redis: Redis;
let ing: IngestService;
let idx: IndexerService;
/** Streams and serves the job API; export jobs run in the jobs processes each test starts. */
let qry: QueryService;
let bavaria: string;
let nurses: string;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const pad = (i: number) => String(i).padStart(2, '0');
const USERS = Array.from({ length: 40 }, (_, i) => `u-${pad(i)}`);
/** Region Bavaria for the first 30, nurses the first 20; e-mail for 3 in 4 (mixed case), phone for 4 in 5. */
const person = (i: number) => ({
  userId: `u-${pad(i)}`,
  region: i < 30 ? 'Bavaria' : 'Hesse',
  occupation: i < 20 ? 'nurse' : 'teacher',
  email: i % 4 === 3 ? undefined : `User.${pad(i)}@Example.COM`,
  phone: i % 5 === 4 ? undefined : `+49151000000${pad(i)}`,
  consents: { email: i % 2 === 0, ads: i % 3 === 0 },
});
const PEOPLE = USERS.map((_, i) => person(i));
const inBavaria = PEOPLE.filter((p) => p.region === 'Bavaria');
const actor = { 'x-portrait-actor': 'alice' };

function csvRows(text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: false }) as Record<string, string>[];
}

function ndjsonRows(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function createSegment(name: string, definition: unknown): Promise<string> {
  const res = await http('POST', `${qry.url}/v1/segments`, { name, definition });
  expect(res.status).toBe(201);
  return res.body.segmentId as string;
}

async function liveCount(segmentId: string): Promise<number> {
  await es.indices.refresh({ index: names.profiles });
  return (await http('GET', `${qry.url}/v1/segments/${segmentId}/count`)).body.count as number;
}

async function exportFilesOf(exportId: string): Promise<string[]> {
  return (await readdir(exportDir)).filter((f) => f.includes(exportId));
}

async function statusOf(exportId: string): Promise<any> {
  const res = await http('GET', `${qry.url}/v1/exports/${exportId}`);
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  exportDir = await mkdtemp(path.join(os.tmpdir(), 'portrait-exports-'));
  env = baseEnv(prefix, { EXPORT_DIR: exportDir, EXPORT_PAGE_SIZE: '3', EXPORT_STREAM_MAX_ROWS: String(STREAM_LIMIT) });
  [ing, idx, qry] = await Promise.all([ingest(env), indexer(env), query(env)]);
  for (const p of PEOPLE) {
    const res = await http('PUT', `${ing.url}/v1/users/${p.userId}/attributes`, {
      attributes: { region: p.region, occupation: p.occupation, email: p.email, phone: p.phone, consents: p.consents },
    });
    expect(res.status).toBe(202);
  }
  const at = new Date(Date.now() - 60_000).toISOString();
  // Odd users look at shoes and bags (two top categories), even ones at books.
  await http('POST', `${ing.url}/v1/events/batch`, {
    events: PEOPLE.flatMap((p, i) =>
      (i % 2 ? ['Shoes', 'Bags'] : ['Books']).map((c) => ({ type: 'page_view', userId: p.userId, timestamp: at, category: [c] })),
    ),
  });
  await eventually(
    async () => {
      await es.indices.refresh({ index: names.profiles });
      const { count } = await es.count({
        index: names.profiles,
        query: { bool: { filter: [{ exists: { field: 'attributes.region' } }, { exists: { field: 'interests.topCategories' } }] } },
      });
      return count === PEOPLE.length;
    },
    30_000,
    'profiles folded',
  );
  bavaria = await createSegment('Bavaria', { field: 'attributes.region', op: 'eq', value: 'Bavaria' });
  nurses = await createSegment('Nurses', { field: 'attributes.occupation', op: 'eq', value: 'nurse' });
  expect(await liveCount(bavaria)).toBe(30);
  expect(await liveCount(nurses)).toBe(20);
});

afterAll(async () => {
  await Promise.all([ing?.stop(), idx?.stop(), qry?.stop()]);
  const queue = new Queue(queueNames().exports, { connection: redis, prefix: bullPrefix(await namespaceOf(es, prefix)) });
  await queue.obliterate({ force: true });
  await queue.close();
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
  await rm(exportDir, { recursive: true, force: true });
});

describe('streamed export', () => {
  it('streams a CSV of the chosen fields for every member, with the count and segment version in headers', async () => {
    const res = await fetch(`${qry.url}/v1/segments/${nurses}/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...actor },
      body: JSON.stringify({ format: 'csv', fields: ['userId', 'attributes.occupation', 'emailSha256', 'interests.topCategories'] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('x-portrait-row-count')).toBe('20');
    expect(res.headers.get('x-portrait-segment-version')).toBe('1');
    expect(res.headers.get('x-portrait-export-id')).toMatch(/^[0-9a-f-]{36}$/);
    const text = await res.text();
    expect(text.split('\n')[0]).toBe('userId,attributes.occupation,emailSha256,interests.topCategories');
    const rows = csvRows(text);
    expect(rows).toHaveLength(20);
    expect(new Set(rows.map((r) => r.userId))).toEqual(new Set(PEOPLE.filter((p) => p.occupation === 'nurse').map((p) => p.userId)));
    for (const row of rows) {
      const p = PEOPLE.find((x) => x.userId === row.userId)!;
      expect(row['attributes.occupation']).toBe('nurse');
      expect(row.emailSha256).toBe(p.email ? sha256(p.email.toLowerCase()) : '');
      expect(row['interests.topCategories']!.split('|').sort()).toEqual(Number(p.userId.slice(2)) % 2 ? ['Bags', 'Shoes'] : ['Books']);
    }
  });

  it('reads doc values when they serve every column, writing exactly what the _source path writes', async () => {
    await http('PUT', `${ing.url}/v1/users/u-01/attributes`, { attributes: { signupDate: '2024-03-01T08:00:00+01:00' } });
    await eventually(
      async () => (await es.get<any>({ index: names.profiles, id: 'u-01' }))._source.attributes.signupDate !== undefined,
      20_000,
      'signup date folded',
    );
    await es.indices.refresh({ index: names.profiles });
    const fast = [
      'userId',
      'emailSha256',
      'attributes.region',
      'attributes.signupDate',
      'attributes.consents.email',
      'behavior.lastSeen',
      'purchases.totalSpend',
      'lifecycle.stage',
    ];
    const exportCsv = async (fields: string[]) => {
      const res = await http('POST', `${qry.url}/v1/segments/${nurses}/export`, { format: 'csv', fields }, actor);
      expect(res.status).toBe(200);
      return new Map(csvRows(res.body).map((r) => [r.userId, r]));
    };
    const viaDocValues = await exportCsv(fast);
    // A ranked list needs _source, which takes the whole export down the _source path.
    const viaSource = await exportCsv([...fast, 'interests.topCategories']);
    expect(viaDocValues.size).toBe(20);
    for (const [userId, row] of viaDocValues) {
      const { ['interests.topCategories']: _ranked, ...common } = viaSource.get(userId)!;
      expect(row).toEqual(common);
    }
    expect(viaDocValues.get('u-01')!['attributes.signupDate']).toBe('2024-03-01T07:00:00.000Z');
    expect(viaDocValues.get('u-00')!.emailSha256).toBe(sha256('user.00@example.com'));
    expect(viaDocValues.get('u-00')!['attributes.consents.email']).toBe('true');
  });

  it('writes normalized contact data as NDJSON, and only SHA-256 hashes once identifiers are hashed', async () => {
    const fields = ['userId', 'email', 'phone', 'emailSha256', 'phoneSha256', 'phoneDigitsSha256'];
    const plain = await http('POST', `${qry.url}/v1/segments/${nurses}/export`, { format: 'ndjson', fields }, actor);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const rows = ndjsonRows(plain.body);
    expect(rows).toHaveLength(20);
    for (const row of rows) {
      const p = PEOPLE.find((x) => x.userId === row.userId)!;
      expect(Object.keys(row)).toEqual(fields);
      expect(row.email).toBe(p.email ? p.email.toLowerCase() : null);
      expect(row.phone).toBe(p.phone ?? null);
      expect(row.emailSha256).toBe(p.email ? sha256(p.email.trim().toLowerCase()) : null);
      expect(row.phoneSha256).toBe(p.phone ? sha256(p.phone) : null);
      expect(row.phoneDigitsSha256).toBe(p.phone ? sha256(p.phone.slice(1)) : null);
    }

    const hashed = await http(
      'POST',
      `${qry.url}/v1/segments/${nurses}/export`,
      { format: 'ndjson', fields: ['userId', 'email', 'phone'], hashIdentifiers: true },
      actor,
    );
    expect(hashed.status).toBe(200);
    const hashedRows = ndjsonRows(hashed.body);
    expect(hashedRows).toHaveLength(20);
    expect(Object.keys(hashedRows[0]!)).toEqual(['userId', 'emailSha256', 'phoneSha256']);
    expect(hashed.body).not.toMatch(/@example\.com/i);
    expect(hashed.body).not.toContain('+49151');
  });

  it('keeps only members who gave every required consent', async () => {
    const email = await http('POST', `${qry.url}/v1/segments/${bavaria}/export`, { fields: ['userId'], consent: 'email' }, actor);
    expect(email.status).toBe(200);
    const expected = inBavaria.filter((p) => p.consents.email).map((p) => p.userId);
    expect(email.headers.get('x-portrait-row-count')).toBe(String(expected.length));
    expect(
      csvRows(email.body)
        .map((r) => r.userId)
        .sort(),
    ).toEqual(expected.sort());

    const both = await http('POST', `${qry.url}/v1/segments/${bavaria}/export`, { fields: ['userId'], consent: ['email', 'ads'] }, actor);
    expect(
      csvRows(both.body)
        .map((r) => r.userId)
        .sort(),
    ).toEqual(inBavaria.filter((p) => p.consents.email && p.consents.ads).map((p) => p.userId));
  });

  it('refuses a streamed export larger than the limit with 413 and points to export jobs', async () => {
    const res = await http('POST', `${qry.url}/v1/segments/${bavaria}/export`, { fields: ['userId'] }, actor);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'too_large', limit: STREAM_LIMIT, actual: 30 });
    expect(res.body.message).toContain(`POST /v1/segments/${bavaria}/exports`);
  });

  it('answers 400 naming the field for an unknown field, a bad format or a missing actor', async () => {
    const url = `${qry.url}/v1/segments/${nurses}/export`;
    const unknown = await http('POST', url, { fields: ['userId', 'state.days'] }, actor);
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([{ path: 'fields.1', reason: expect.stringContaining('"state.days" is not an exportable field') }]);
    const format = await http('POST', url, { format: 'xlsx', fields: ['userId'] }, actor);
    expect(format.status).toBe(400);
    expect(format.body.issues).toEqual([{ path: 'format', reason: 'must be one of csv, ndjson' }]);
    const noActor = await http('POST', url, { fields: ['userId'] });
    expect(noActor.status).toBe(400);
    expect(noActor.body.issues).toEqual([{ path: 'headers.x-portrait-actor', reason: expect.stringContaining('is required') }]);
    const both = await http('POST', `${qry.url}/v1/segments/${nurses}/exports`, { fields: [], extra: true }, { 'x-portrait-actor': ' ' });
    expect(both.body.issues.map((i: any) => i.path).sort()).toEqual(['extra', 'fields', 'headers.x-portrait-actor']);
  });

  it('answers 404 for an unknown segment or export', async () => {
    expect((await http('POST', `${qry.url}/v1/segments/no-such-segment/export`, { fields: ['userId'] }, actor)).status).toBe(404);
    expect((await http('POST', `${qry.url}/v1/segments/no-such-segment/exports`, { fields: ['userId'] }, actor)).status).toBe(404);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await http('GET', `${qry.url}/v1/exports/${unknown}`)).status).toBe(404);
    expect((await http('GET', `${qry.url}/v1/exports/${unknown}/download`, undefined, actor)).status).toBe(404);
    // Downloading is exporting: it names who, like the export itself.
    expect((await http('GET', `${qry.url}/v1/exports/${unknown}/download`)).status).toBe(400);
    expect((await http('DELETE', `${qry.url}/v1/exports/${unknown}`, undefined, actor)).status).toBe(404);
  });
});

describe('export jobs', () => {
  /** The only jobs process while these tests run: slow enough to watch progress and cancel mid-way. */
  let worker: JobsService;

  beforeAll(async () => {
    worker = await jobs({ ...env, EXPORT_PAGE_PAUSE_MS: '200', EXPORT_PAGE_SIZE: '3' });
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it('runs a job to completion with progress while profiles change, and downloads the file', async () => {
    const start = await http(
      'POST',
      `${qry.url}/v1/segments/${bavaria}/exports`,
      { format: 'csv', fields: ['userId', 'attributes.region', 'phoneSha256'], consent: [] },
      actor,
    );
    expect(start.status).toBe(202);
    const { exportId } = start.body;
    expect(start.body).toMatchObject({
      status: 'queued',
      statusUrl: `/v1/exports/${exportId}`,
      downloadUrl: `/v1/exports/${exportId}/download`,
    });
    expect(start.headers.get('location')).toBe(`/v1/exports/${exportId}`);

    // Members keep getting events while the job walks its snapshot.
    let ingesting = true;
    const load = (async () => {
      while (ingesting) {
        const at = new Date().toISOString();
        await http('POST', `${ing.url}/v1/events/batch`, {
          events: inBavaria.map((p) => ({ type: 'page_view', userId: p.userId, timestamp: at })),
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const seen: number[] = [];
    const done = await eventually(
      async () => {
        const s = await statusOf(exportId);
        if (s.status === 'running') seen.push(s.progress.rows);
        return s.status === 'completed' || s.status === 'failed' ? s : undefined;
      },
      60_000,
      'export job finished',
    );
    ingesting = false;
    await load;
    expect(done).toMatchObject({
      status: 'completed',
      kind: 'job',
      actor: 'alice',
      total: 30,
      rows: 30,
      progress: { rows: 30, total: 30, percent: 100 },
    });
    expect(seen.some((rows) => rows > 0 && rows < 30)).toBe(true);
    expect(Date.parse(done.expiresAt) - Date.parse(done.finishedAt)).toBe(24 * 3_600_000);

    const download = await fetch(`${qry.url}${done.downloadUrl}`, { headers: actor });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(download.headers.get('x-portrait-row-count')).toBe('30');
    const text = await download.text();
    expect(Number(download.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(done.fileBytes).toBe(Buffer.byteLength(text));
    const rows = csvRows(text);
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.userId)).size).toBe(30);
    for (const row of rows) {
      const p = PEOPLE.find((x) => x.userId === row.userId)!;
      expect(row.phoneSha256).toBe(p.phone ? sha256(p.phone) : '');
    }
    expect(await exportFilesOf(exportId)).toEqual([`${prefix}-${exportId}.csv`]);
    expect((await statusOf(exportId)).lastDownloadedBy).toBe('alice');

    // Deleting a finished export removes its file; the download is then gone for good.
    const del = await http('DELETE', `${qry.url}/v1/exports/${exportId}`, undefined, { 'x-portrait-actor': 'bob' });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ status: 'deleted', deletedBy: 'bob' });
    expect(await exportFilesOf(exportId)).toEqual([]);
    expect((await http('GET', `${qry.url}/v1/exports/${exportId}/download`, undefined, actor)).status).toBe(410);
  });

  it('cancels a running job: it stops, its partial file is removed and its status is cancelled', async () => {
    const start = await http('POST', `${qry.url}/v1/segments/${bavaria}/exports`, { format: 'ndjson', fields: ['userId'] }, actor);
    expect(start.status).toBe(202);
    const { exportId } = start.body;
    await eventually(
      async () => {
        const s = await statusOf(exportId);
        return s.status === 'running' && s.progress.rows > 0 && (await exportFilesOf(exportId)).some((f) => f.endsWith('.partial'));
      },
      30_000,
      'job running with rows written',
    );
    expect((await http('GET', `${qry.url}/v1/exports/${exportId}/download`, undefined, actor)).status).toBe(409);
    expect((await http('DELETE', `${qry.url}/v1/exports/${exportId}`)).status).toBe(400);

    const cancel = await http('DELETE', `${qry.url}/v1/exports/${exportId}`, undefined, actor);
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ cancelledBy: 'alice' });
    const final = await eventually(
      async () => {
        const s = await statusOf(exportId);
        return s.status === 'running' ? undefined : s;
      },
      30_000,
      'job stopped',
    );
    expect(final.status).toBe('cancelled');
    expect(final.rows).toBeLessThan(30);
    expect(await exportFilesOf(exportId)).toEqual([]);
    const download = await http('GET', `${qry.url}/v1/exports/${exportId}/download`, undefined, actor);
    expect(download.status).toBe(409);
    expect(download.body.message).toContain('cancelled');
  });

  it('cancels a queued job before it starts', async () => {
    // The worker holds one job at a time: the second waits in the queue.
    const first = await http('POST', `${qry.url}/v1/segments/${bavaria}/exports`, { fields: ['userId'] }, actor);
    const second = await http('POST', `${qry.url}/v1/segments/${bavaria}/exports`, { fields: ['userId'] }, actor);
    const cancel = await http('DELETE', `${qry.url}/v1/exports/${second.body.exportId}`, undefined, actor);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    const firstDone = await eventually(
      async () => {
        const s = await statusOf(first.body.exportId);
        return s.status === 'completed' ? s : undefined;
      },
      60_000,
      'first job completed',
    );
    expect(firstDone.rows).toBe(30);
    expect((await statusOf(second.body.exportId)).status).toBe('cancelled');
    expect(await exportFilesOf(second.body.exportId)).toEqual([]);
  });
});

describe('a jobs process that stops mid-export', () => {
  it('puts the job back on the queue, removes its partial file, and another jobs process completes it from a new snapshot', async () => {
    const first = await jobs({ ...env, EXPORT_PAGE_PAUSE_MS: '300', EXPORT_PAGE_SIZE: '2' });
    const start = await http('POST', `${qry.url}/v1/segments/${bavaria}/exports`, { fields: ['userId'] }, actor);
    const { exportId } = start.body;
    await eventually(
      async () => {
        const s = await statusOf(exportId);
        return s.status === 'running' && s.progress.rows > 0;
      },
      30_000,
      'job running',
    );
    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping).toBeLessThan(10_000);
    const requeued = await statusOf(exportId);
    expect(requeued).toMatchObject({ status: 'queued', error: expect.stringContaining('shutdown') });
    expect(await exportFilesOf(exportId)).toEqual([]);

    const second = await jobs(env);
    try {
      const done = await eventually(
        async () => {
          const s = await statusOf(exportId);
          return s.status === 'completed' ? s : undefined;
        },
        30_000,
        'job completed by the second jobs process',
      );
      expect(done).toMatchObject({ rows: 30, total: 30, attempts: 1 });
      expect(done.error).toBeUndefined();
    } finally {
      await second.stop();
    }
  });
});

describe('expiry', () => {
  /** A jobs process whose files expire about a second after they are finished. */
  let worker: JobsService;

  beforeAll(async () => {
    worker = await jobs({ ...env, EXPORT_TTL_HOURS: '0.0003' });
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it('deletes files past their expiry at the sweep; their download answers 410', async () => {
    const start = await http('POST', `${qry.url}/v1/segments/${nurses}/exports`, { fields: ['userId'] }, actor);
    const { exportId } = start.body;
    const done = await eventually(
      async () => {
        const s = await statusOf(exportId);
        return s.status === 'completed' ? s : undefined;
      },
      30_000,
      'job completed',
    );
    const file = path.join(exportDir, `${prefix}-${exportId}.csv`);
    expect(existsSync(file)).toBe(true);
    await eventually(async () => Date.now() > Date.parse(done.expiresAt), 10_000, 'expiry passed');
    expect((await http('GET', `${qry.url}/v1/exports/${exportId}/download`, undefined, actor)).status).toBe(410);

    const queue = new Queue(queueNames().exports, { connection: redis, prefix: bullPrefix(await namespaceOf(es, prefix)) });
    await queue.add(ExportJob.sweep, {});
    await queue.close();
    const expired = await eventually(
      async () => {
        const s = await statusOf(exportId);
        return s.status === 'expired' ? s : undefined;
      },
      30_000,
      'export expired by the sweep',
    );
    expect(expired.rows).toBe(20);
    expect(existsSync(file)).toBe(false);
    const gone = await http('GET', `${qry.url}/v1/exports/${exportId}/download`, undefined, actor);
    expect(gone.status).toBe(410);
    expect(gone.body.message).toContain('expired');
  });
});

describe('snapshot consistency', () => {
  /** Walks two profiles per page with a pause, so the export spans seconds of changes. */
  let slow: QueryService;

  beforeAll(async () => {
    slow = await query({ ...env, EXPORT_PAGE_SIZE: '2', EXPORT_PAGE_PAUSE_MS: '700' });
  });

  afterAll(async () => {
    await slow?.stop();
  });

  it('exports exactly the members at the snapshot, once each, while profiles and membership change underneath', async () => {
    const before = PEOPLE.filter((p) => p.occupation === 'nurse').map((p) => p.userId);
    const res = await fetch(`${slow.url}/v1/segments/${nurses}/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...actor },
      body: JSON.stringify({ format: 'csv', fields: ['userId', 'attributes.occupation'] }),
    });
    expect(res.status).toBe(200);
    const snapshotCount = Number(res.headers.get('x-portrait-row-count'));
    expect(snapshotCount).toBe(20);
    let text = '';
    let streamDone = false;
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
      streamDone = true;
    })();

    // Five nurses leave, eight teachers join, and every nurse keeps getting events.
    const leave = before.slice(0, 5);
    const join = PEOPLE.filter((p) => p.occupation === 'teacher')
      .slice(0, 8)
      .map((p) => p.userId);
    let ingesting = true;
    const load = (async () => {
      while (ingesting) {
        const at = new Date().toISOString();
        await http('POST', `${ing.url}/v1/events/batch`, { events: before.map((u) => ({ type: 'page_view', userId: u, timestamp: at })) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    for (const u of leave) await http('PUT', `${ing.url}/v1/users/${u}/attributes`, { attributes: { occupation: 'teacher' } });
    for (const u of join) await http('PUT', `${ing.url}/v1/users/${u}/attributes`, { attributes: { occupation: 'nurse' } });
    await eventually(async () => (await liveCount(nurses)) === 23, 20_000, 'membership changed');
    const changedWhileStreaming = !streamDone;
    await reading;
    ingesting = false;
    await load;

    expect(changedWhileStreaming).toBe(true);
    const rows = csvRows(text);
    expect(rows).toHaveLength(snapshotCount);
    expect(new Set(rows.map((r) => r.userId)).size).toBe(snapshotCount);
    expect(rows.map((r) => r.userId).sort()).toEqual([...before].sort());
    // Values are those of the snapshot too: the five who left are still nurses in the file.
    expect(rows.every((r) => r['attributes.occupation'] === 'nurse')).toBe(true);
  });
});

describe('a client that hangs up', () => {
  let slow: QueryService;

  beforeAll(async () => {
    slow = await query({ ...env, EXPORT_PAGE_SIZE: '2', EXPORT_PAGE_PAUSE_MS: '300' });
  });

  afterAll(async () => {
    await slow?.stop();
  });

  it('stops the walk and records the streamed export as cancelled with the rows sent', async () => {
    const abort = new AbortController();
    const res = await fetch(`${slow.url}/v1/segments/${nurses}/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...actor },
      body: JSON.stringify({ fields: ['userId'] }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const exportId = res.headers.get('x-portrait-export-id')!;
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => undefined);
    const record = await eventually(
      async () => {
        const s = await statusOf(exportId);
        return s.status === 'running' ? undefined : s;
      },
      20_000,
      'streamed export stopped',
    );
    expect(record).toMatchObject({ kind: 'stream', status: 'cancelled', total: Number(res.headers.get('x-portrait-row-count')) });
    expect(record.rows).toBeLessThan(record.total);
    expect(record.error).toContain('client disconnected');
  });
});

describe('audit trail', () => {
  it('records every export of a segment: who, version, definition, fields, consent, hashing and rows', async () => {
    await es.indices.refresh({ index: names.exports });
    const res = await http('GET', `${qry.url}/v1/exports?segmentId=${bavaria}`);
    expect(res.status).toBe(200);
    const records: any[] = res.body.exports;
    expect(records.every((r) => r.segmentId === bavaria && r.segmentVersion === 1)).toBe(true);
    const streamed = records.filter((r) => r.kind === 'stream' && r.status === 'completed');
    expect(streamed.map((r) => r.rows).sort((a, b) => a - b)).toEqual([5, 15]);
    const consented = streamed.find((r) => r.rows === 5)!;
    expect(consented).toMatchObject({
      actor: 'alice',
      format: 'csv',
      fields: ['userId'],
      consent: ['email', 'ads'],
      hashIdentifiers: false,
      total: 5,
      definition: { field: 'attributes.region', op: 'eq', value: 'Bavaria' },
    });
    expect(Date.parse(consented.finishedAt)).toBeGreaterThanOrEqual(Date.parse(consented.snapshotAt));
    const jobs = records.filter((r) => r.kind === 'job');
    expect(jobs.map((r) => r.status).sort()).toEqual(['cancelled', 'cancelled', 'completed', 'completed', 'deleted']);
    expect(jobs.find((r) => r.status === 'deleted')).toMatchObject({
      rows: 30,
      total: 30,
      columns: ['userId', 'attributes.region', 'phoneSha256'],
      containsContactData: true,
    });
    // The refused stream left no record: nothing was exported.
    expect(records.some((r) => r.kind === 'stream' && r.total === 30)).toBe(false);

    const hashed = (await http('GET', `${qry.url}/v1/exports?segmentId=${nurses}&status=completed`)).body.exports.find(
      (r: any) => r.hashIdentifiers,
    );
    expect(hashed).toMatchObject({ fields: ['userId', 'email', 'phone'], columns: ['userId', 'emailSha256', 'phoneSha256'], rows: 20 });
    const doc = await es.get<any>({ index: names.exports, id: hashed.exportId });
    expect(doc._source.actor).toBe('alice');
  });
});

describe('Redis down when an export job is asked for', () => {
  it('answers 503 with Retry-After and records the export as failed, not queued', async () => {
    const offline = await query({ ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await http(
        'POST',
        `${offline.url}/v1/segments/${nurses}/exports`,
        { format: 'csv', fields: ['userId', 'emailSha256'] },
        actor,
      );
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body).toMatchObject({ error: 'unavailable' });
      await es.indices.refresh({ index: names.exports });
      const listed = await http('GET', `${qry.url}/v1/exports?segmentId=${nurses}&status=failed`);
      expect(listed.body.exports).toEqual(
        expect.arrayContaining([expect.objectContaining({ status: 'failed', error: 'could not be queued: Redis unavailable' })]),
      );
    } finally {
      await offline.stop();
    }
  });
});
