/**
 * Contact data stays where it is needed: after a run that sends e-mails and phones (valid and refused ones),
 * searches for them, and exports them, no raw e-mail or phone is in any log line of any service (at debug
 * level), any metric, any error body or profile answer, any Redis key of the data set, or the profile's state.
 * They are in the profile's `contact` and in the export file, where they belong.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { indexNames } from '@portrait/shared';
import type { Client, Redis } from '@portrait/runtime';
import type { IngestService } from '@portrait/ingest';
import type { IndexerService } from '@portrait/indexer';
import type { QueryService } from '@portrait/query';
import type { JobsService } from '@portrait/jobs';
import {
  baseEnv,
  cleanup,
  esClient,
  eventually,
  http,
  loggedServices,
  redisClient,
  redisDump,
  testPrefix,
  type Env,
} from '../support/stack';

const prefix = testPrefix('pii');
const names = indexNames(prefix);
const tag = prefix.slice(-8).replace(/[^0-9a-f]/g, '0');
const digits = (n: number) => String(parseInt(tag.slice(0, 6), 16) % 1_000_000).padStart(6, '0') + String(n);
/** As shops send them; `stored` is what the profile keeps. */
const PEOPLE = [0, 1, 2, 3].map((i) => ({
  userId: `pii-${i}`,
  email: `Shopper.${tag}.${i}@Example.COM`,
  stored: { email: `shopper.${tag}.${i}@example.com`, phone: `+49151${digits(i)}` },
  phone: i % 2 === 0 ? `0151 ${digits(i)}` : `+49 151 ${digits(i)}`,
}));
/** Refused at intake: they must not come back in the error that refuses them. */
const REFUSED = { email: `not an address ${tag}@example.com`, phone: `+49 151 ${digits(9)} ext. 7 ${tag}` };
const actor = { 'x-portrait-actor': 'crm' };

const lines: string[] = [];
let env: Env;
let exportDir: string;
let es: Client;
let redis: Redis;
let services: { ing: IngestService; idx: IndexerService; qry: QueryService; jobs: JobsService };
/** Bodies of every answer that is an error or a profile read. */
const answers: string[] = [];

async function call(method: string, url: string, body?: unknown, headers?: Record<string, string>) {
  const res = await http(method, url, body, headers);
  answers.push(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  return res;
}

/** Every form of a contact value someone could search a log for. */
function forms(): string[] {
  return [
    ...PEOPLE.flatMap((p) => [p.email, p.email.toLowerCase(), p.stored.email, p.phone, p.stored.phone, p.stored.phone.slice(1)]),
    REFUSED.email,
    REFUSED.phone,
    `${tag}@example.com`,
    `${tag}.0@example.com`,
  ];
}

function mentions(where: string, text: string): string[] {
  const lower = text.toLowerCase();
  return forms()
    .filter((f) => lower.includes(f.toLowerCase()))
    .map((f) => `${where} holds ${f}`);
}

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  exportDir = await mkdtemp(path.join(os.tmpdir(), 'portrait-pii-'));
  env = baseEnv(prefix, {
    EXPORT_DIR: exportDir,
    INGEST_DEFAULT_CALLING_CODE: '49',
    EXPORT_DEFAULT_CALLING_CODE: '49',
    LOG_LEVEL: 'debug',
  });
  services = await loggedServices(env, lines);
});

afterAll(async () => {
  if (services) await Promise.all(Object.values(services).map((s) => s.stop()));
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
  await rm(exportDir, { recursive: true, force: true });
});

it('keeps raw e-mails and phones out of logs, metrics, errors, Redis and the profile state', async () => {
  const { ing, idx, qry, jobs } = services;
  for (const p of PEOPLE) {
    const res = await call('PUT', `${ing.url}/v1/users/${p.userId}/attributes`, {
      attributes: { region: 'Privacyland', email: p.email, phone: p.phone, consents: { email: true, sms: true } },
    });
    expect(res.status).toBe(202);
  }
  // Refused contact data, alone and in a batch beside valid events.
  const refused = await call('PUT', `${ing.url}/v1/users/pii-x/attributes`, { attributes: { email: REFUSED.email } });
  expect(refused.status).toBe(400);
  const batch = await call('POST', `${ing.url}/v1/events/batch`, {
    events: [
      { type: 'user_attributes', userId: 'pii-y', timestamp: new Date().toISOString(), attributes: { phone: REFUSED.phone } },
      { type: 'page_view', userId: 'pii-0', timestamp: new Date().toISOString(), itemId: 'sku-1' },
    ],
  });
  expect(batch.body).toMatchObject({ accepted: 1, rejected: 1 });
  const malformed = await call('POST', `${ing.url}/v1/events`, `{"type":"user_attributes","email":"${PEOPLE[0]!.email}"`, {
    'content-type': 'application/json',
  });
  expect(malformed.status).toBe(400);

  await eventually(
    async () => {
      await es.indices.refresh({ index: names.profiles });
      const { count } = await es.count({ index: names.profiles, query: { exists: { field: 'contact.emailSha256' } } });
      return count === PEOPLE.length;
    },
    30_000,
    'contact data folded',
  );
  // Searched for and read back: the search's `q` is an e-mail address.
  const search = await call('GET', `${qry.url}/v1/profiles/search?q=${encodeURIComponent(PEOPLE[1]!.email)}&region=Privacyland`);
  expect(search.status).toBe(200);
  for (const p of PEOPLE) expect((await call('GET', `${qry.url}/v1/users/${p.userId}/profile`)).status).toBe(200);
  // Exported as a file: the one place besides the profile's `contact` where they belong.
  const segment = await http('POST', `${qry.url}/v1/segments`, {
    name: 'Privacyland',
    definition: { field: 'attributes.region', op: 'eq', value: 'Privacyland' },
  });
  const started = await http(
    'POST',
    `${qry.url}/v1/segments/${segment.body.segmentId}/exports`,
    { fields: ['userId', 'email', 'phone'] },
    actor,
  );
  expect(started.status).toBe(202);
  const done = await eventually(
    async () => {
      const res = await http('GET', `${qry.url}/v1/exports/${started.body.exportId}`);
      return res.body.status === 'completed' ? res.body : undefined;
    },
    60_000,
    'export file',
  );
  const file = await readFile(path.join(exportDir, done.fileName), 'utf8');
  for (const p of PEOPLE) expect(file).toContain(`${p.stored.email},${p.stored.phone}`);

  // The profile keeps them once, in `contact`; its state holds none of them.
  for (const p of PEOPLE) {
    const stored = (await es.get<any>({ index: names.profiles, id: p.userId }))._source;
    expect(stored.contact).toMatchObject(p.stored);
    expect(mentions(`${p.userId} state`, JSON.stringify(stored.state))).toEqual([]);
  }

  const metrics = await Promise.all([ing, idx, qry, jobs].map(async (s) => (await http('GET', `${s.url}/metrics`)).body as string));
  const findings = [
    ...mentions('logs', lines.join('')),
    ...metrics.flatMap((m, i) => mentions(`metrics of ${['ingest', 'indexer', 'query', 'jobs'][i]}`, m)),
    ...answers.flatMap((a, i) => mentions(`answer ${i}`, a)),
    ...[...(await redisDump(redis, es, prefix))].flatMap(([key, content]) => mentions(`redis ${key}`, `${key} ${content}`)),
  ];
  expect(findings).toEqual([]);
  // The run did log: requests at debug level, the refusals as warnings.
  expect(lines.filter((l) => l.includes('"url":"/v1/profiles/search?q=…&region=…"'))).toHaveLength(1);
  expect(lines.length).toBeGreaterThan(20);
}, 120_000);
