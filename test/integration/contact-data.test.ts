/**
 * Messy contact data through the ingest API, against the real Elasticsearch and Redis: e-mails and phones as
 * shops send them are stored normalized on the profile and exported as stored; what cannot be normalized is
 * refused with its field and reason, and nothing else in the batch is lost.
 */
import { createHash } from 'node:crypto';
import type { IngestService } from '@portrait/ingest';
import { loadIngestConfig } from '@portrait/ingest';
import type { IndexerService } from '@portrait/indexer';
import type { QueryService } from '@portrait/query';
import { ConfigError, indexNames } from '@portrait/shared';
import type { Client, Redis } from '@portrait/runtime';
import { baseEnv, cleanup, esClient, eventually, http, indexer, ingest, query, redisClient, testPrefix } from '../support/stack';

const prefix = testPrefix('contact');
const names = indexNames(prefix);
const env = baseEnv(prefix, { INGEST_DEFAULT_CALLING_CODE: '49' });
let es: Client;
let redis: Redis;
let ing: IngestService;
let idx: IndexerService;
let qry: QueryService;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const at = () => new Date(Date.now() - 60_000).toISOString();
const attributes = (userId: string, attrs: Record<string, unknown>) => ({
  type: 'user_attributes',
  userId,
  timestamp: at(),
  attributes: { region: 'Contactland', ...attrs },
});

/** The stored profile document once `until` holds for it (contact data is stored, never returned by the API). */
async function storedProfile(userId: string, until: (doc: any) => boolean): Promise<any> {
  return eventually(
    async () => {
      const res = await es.get<any>({ index: names.profiles, id: userId }, { ignore: [404] });
      return res.found && until(res._source) ? res._source : undefined;
    },
    20_000,
    `profile ${userId}`,
  );
}

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  [ing, idx, qry] = await Promise.all([ingest(env), indexer(env), query({ ...env, EXPORT_WORKER: 'false' })]);
});

afterAll(async () => {
  await Promise.all([ing?.stop(), idx?.stop(), qry?.stop()]);
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

it('refuses a default calling code that is not 1 to 3 digits at start-up, naming the variable', () => {
  expect(loadIngestConfig(env).INGEST_DEFAULT_CALLING_CODE).toBe('49');
  expect(loadIngestConfig(baseEnv(prefix)).INGEST_DEFAULT_CALLING_CODE).toBeUndefined();
  for (const bad of ['+49', '0049', '1234', '', 'DE']) {
    expect(() => loadIngestConfig({ ...env, INGEST_DEFAULT_CALLING_CODE: bad })).toThrow(ConfigError);
    expect(() => loadIngestConfig({ ...env, INGEST_DEFAULT_CALLING_CODE: bad })).toThrow(/INGEST_DEFAULT_CALLING_CODE/);
  }
});

it('stores messy e-mails and phones normalized, refuses the unnormalizable one by field and reason, and keeps the rest of the batch', async () => {
  const res = await http('POST', `${ing.url}/v1/events/batch`, {
    events: [
      attributes('c-jane', { email: ' Jane.Doe@Example.COM ', phone: '+49 (0)170 123-4567' }),
      attributes('c-joerg', { email: 'JÖRG@XN--MLLER-KVA.DE', phone: '0049 170 7654321' }),
      attributes('c-nat', { phone: '(0170) 1112223' }),
      attributes('c-ext', { email: 'ext@example.com', phone: '+49 30 1234567 ext. 12' }),
      { type: 'page_view', userId: 'c-ext', timestamp: at(), category: ['Books'] },
      attributes('c-space', { email: 'jane doe@example.com' }),
    ],
  });
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ accepted: 4, duplicate: 0, rejected: 2 });
  expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
    'accepted',
    'accepted',
    'accepted',
    'rejected',
    'accepted',
    'rejected',
  ]);
  expect(res.body.results[3].issues).toEqual([{ path: 'events.3.attributes.phone', reason: expect.stringContaining('extension') }]);
  expect(res.body.results[5].issues).toEqual([{ path: 'events.5.attributes.email', reason: 'contains whitespace' }]);

  const jane = await storedProfile('c-jane', (d) => d.contact?.phone !== undefined);
  expect(jane.contact).toEqual({ email: 'jane.doe@example.com', phone: '+491701234567', emailSha256: sha256('jane.doe@example.com') });
  const joerg = await storedProfile('c-joerg', (d) => d.contact?.phone !== undefined);
  expect(joerg.contact).toEqual({ email: 'jörg@müller.de', phone: '+491707654321', emailSha256: sha256('jörg@müller.de') });
  expect((await storedProfile('c-nat', (d) => d.contact?.phone !== undefined)).contact.phone).toBe('+491701112223');
  // The refused attribute update took nothing with it: the page view of the same user is on the profile.
  const ext = await storedProfile('c-ext', (d) => d.behavior?.eventCount === 1);
  expect(ext.contact ?? {}).toEqual({});
  expect(ext.attributes.region).toBeUndefined();
  expect(ext.interests.topCategories).toEqual(['Books']);
});

it('normalizes the attributes endpoint the same way and answers 400 with the field for what it cannot normalize', async () => {
  const ok = await http('PUT', `${ing.url}/v1/users/c-put/attributes`, {
    attributes: { email: '\tPut@Example.com', phone: '0170/9998887' },
  });
  expect(ok.status).toBe(202);
  const put = await storedProfile('c-put', (d) => d.contact?.phone !== undefined);
  expect(put.contact).toMatchObject({ email: 'put@example.com', phone: '+491709998887' });

  const bad = await http('PUT', `${ing.url}/v1/users/c-put/attributes`, {
    attributes: { email: 'put@example..com', phone: '+49 170 CALL-ME' },
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toBe('validation_failed');
  expect(bad.body.issues).toEqual(
    expect.arrayContaining([
      { path: 'attributes.email', reason: expect.stringContaining('empty label') },
      { path: 'attributes.phone', reason: expect.stringContaining('may contain only digits') },
    ]),
  );
  const single = await http('POST', `${ing.url}/v1/events`, attributes('c-put', { phone: '+49 12' }));
  expect(single.status).toBe(400);
  expect(single.body.issues).toEqual([{ path: 'attributes.phone', reason: expect.stringMatching(/^has 4 digits with its country code/) }]);
});

it('exports what ingest stored, hashed by the same normalization', async () => {
  await storedProfile('c-jane', (d) => d.contact?.phone !== undefined);
  const created = await http('POST', `${qry.url}/v1/segments`, {
    name: 'Contactland',
    definition: { field: 'attributes.region', op: 'eq', value: 'Contactland' },
  });
  expect(created.status).toBe(201);
  await es.indices.refresh({ index: names.profiles });
  const fields = ['userId', 'email', 'phone', 'emailSha256', 'phoneSha256'];
  const res = await http(
    'POST',
    `${qry.url}/v1/segments/${created.body.segmentId}/export`,
    { format: 'ndjson', fields },
    {
      'x-portrait-actor': 'contact-test',
    },
  );
  expect(res.status).toBe(200);
  const rows = (res.body as string)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const jane = rows.find((r) => r.userId === 'c-jane');
  expect(jane).toEqual({
    userId: 'c-jane',
    email: 'jane.doe@example.com',
    phone: '+491701234567',
    emailSha256: sha256('jane.doe@example.com'),
    phoneSha256: sha256('+491701234567'),
  });
  expect(rows.find((r) => r.userId === 'c-joerg')).toMatchObject({ email: 'jörg@müller.de', phoneSha256: sha256('+491707654321') });
});
