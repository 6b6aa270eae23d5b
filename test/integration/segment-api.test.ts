/**
 * The segment API over HTTP on the real stack: CRUD with versions, preview, live count, sample,
 * breakdowns, overlap, "which segments is user U in", and the errors an analyst can run into.
 */
import type { IngestService } from '@portrait/ingest';
import type { QueryService } from '@portrait/query';
import type { Client } from '@portrait/runtime';
import { baseEnv, eventually, http, startStack, testPrefix, type Stack } from '../support/stack';

const prefix = testPrefix('segapi');
const env = baseEnv(prefix);
let es: Client;
let ing: IngestService;
let qry: QueryService;
let stack: Stack;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** Six shoppers: three in Bavaria, two of them big spenders; three in Hamburg, one a big spender. */
const SHOPPERS = [
  { userId: 'a1', region: 'Bavaria', gender: 'female', spend: 300 },
  { userId: 'a2', region: 'Bavaria', gender: 'male', spend: 250 },
  { userId: 'a3', region: 'Bavaria', gender: 'female', spend: 20 },
  { userId: 'b1', region: 'Hamburg', gender: 'female', spend: 400 },
  { userId: 'b2', region: 'Hamburg', gender: 'male', spend: 15 },
  { userId: 'b3', region: 'Hamburg', gender: 'male', spend: 0 },
];
const BIG = { field: 'purchases.totalSpend', op: 'range', gte: 200 };
const BAVARIA = { field: 'attributes.region', op: 'eq', value: 'Bavaria' };

beforeAll(async () => {
  stack = await startStack(prefix, env);
  ({ es, ing, qry } = stack);
  const events = SHOPPERS.flatMap((s, i) => [
    { type: 'page_view', userId: s.userId, timestamp: minutesAgo(10), category: ['Shoes'] },
    ...(s.spend > 0
      ? [
          {
            type: 'purchase',
            userId: s.userId,
            timestamp: minutesAgo(5),
            order: {
              orderId: `o-${i}`,
              amount: s.spend,
              currency: 'EUR',
              paymentMethod: i % 2 ? 'card' : 'paypal',
              lines: [{ itemId: 'sku', quantity: 1, unitPrice: s.spend }],
            },
          },
        ]
      : []),
  ]);
  expect((await http('POST', `${ing.url}/v1/events/batch`, { events })).body.rejected).toBe(0);
  for (const s of SHOPPERS) {
    await http('PUT', `${ing.url}/v1/users/${s.userId}/attributes`, { attributes: { region: s.region, gender: s.gender } });
  }
  await eventually(
    async () => {
      await es.indices.refresh({ index: `${prefix}-profiles` });
      const res = await es.count({ index: `${prefix}-profiles`, query: { exists: { field: 'attributes.gender' } } });
      return res.count === SHOPPERS.length || undefined;
    },
    20_000,
    'six profiles with attributes',
  );
});

afterAll(async () => {
  await stack?.stop();
});

it('previews a definition without saving it: count and a sample without private fields', async () => {
  const res = await http('POST', `${qry.url}/v1/segments/preview`, { definition: { and: [BIG, BAVARIA] }, sampleSize: 5 });
  expect(res.status).toBe(200);
  expect(res.body.count).toBe(2);
  expect(res.body.sample.map((p: any) => p.userId).sort()).toEqual(['a1', 'a2']);
  for (const p of res.body.sample) {
    expect(p.state).toBeUndefined();
    expect(p.contact).toBeUndefined();
  }
  expect((await http('GET', `${qry.url}/v1/segments`)).body.segments).toEqual([]);
});

it('creates, versions, counts, samples and breaks down a segment', async () => {
  const created = await http('POST', `${qry.url}/v1/segments`, { segmentId: 'big', name: 'Big spenders', definition: BIG });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ segmentId: 'big', version: 1, status: 'active' });
  expect((await http('POST', `${qry.url}/v1/segments`, { segmentId: 'big', name: 'Again', definition: BIG })).status).toBe(409);

  expect((await http('GET', `${qry.url}/v1/segments/big/count`)).body).toEqual({ segmentId: 'big', version: 1, count: 3 });
  const sample = await http('GET', `${qry.url}/v1/segments/big/sample?size=2`);
  expect(sample.body.count).toBe(3);
  expect(sample.body.sample).toHaveLength(2);

  const breakdown = await http('GET', `${qry.url}/v1/segments/big/breakdown?by=region,gender,paymentMethod`);
  expect(breakdown.status).toBe(200);
  expect(breakdown.body.breakdowns.region).toEqual([
    { value: 'Bavaria', count: 2 },
    { value: 'Hamburg', count: 1 },
  ]);
  expect(breakdown.body.breakdowns.gender).toEqual([
    { value: 'female', count: 2 },
    { value: 'male', count: 1 },
  ]);

  // Renaming keeps the version; a new definition makes version 2 and keeps version 1 readable.
  expect((await http('PUT', `${qry.url}/v1/segments/big`, { name: 'Big', definition: BIG })).body.version).toBe(1);
  const v2 = await http('PUT', `${qry.url}/v1/segments/big`, { name: 'Big in Bavaria', definition: { and: [BIG, BAVARIA] } });
  expect(v2.body.version).toBe(2);
  expect((await http('GET', `${qry.url}/v1/segments/big/count`)).body.count).toBe(2);
  const v1 = await http('GET', `${qry.url}/v1/segments/big/versions/1`);
  expect(v1.body).toMatchObject({ version: 1, definition: BIG });
  expect((await http('GET', `${qry.url}/v1/segments/big/versions/3`)).status).toBe(404);
});

it('answers overlap of two segments and which segments a user is in', async () => {
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'bavaria', name: 'Bavaria', definition: BAVARIA });
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'spenders', name: 'Spenders', definition: BIG });
  const overlap = await http('GET', `${qry.url}/v1/segments/bavaria/overlap/spenders`);
  expect(overlap.body).toEqual({ a: 'bavaria', b: 'spenders', both: 2, onlyA: 1, onlyB: 1 });

  const member = await eventually(
    async () => {
      const res = await http('GET', `${qry.url}/v1/users/a1/segments`);
      return res.body.materialized?.length === 3 ? res.body : undefined;
    },
    20_000,
    'a1 materialized in three segments',
  );
  expect(member.segments.map((s: any) => s.segmentId).sort()).toEqual(['bavaria', 'big', 'spenders']);
  expect(member.materialized).toEqual(['bavaria', 'big', 'spenders']);
  expect((await http('GET', `${qry.url}/v1/users/b3/segments`)).body.segments).toEqual([]);
});

it('previews a definition with its breakdowns and its overlap with saved segments, from one search', async () => {
  const res = await http('POST', `${qry.url}/v1/segments/preview`, {
    definition: BIG,
    sampleSize: 0,
    by: ['region', 'gender'],
    overlapWith: ['bavaria', 'spenders'],
  });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    count: 3,
    sample: [],
    breakdowns: {
      region: [
        { value: 'Bavaria', count: 2 },
        { value: 'Hamburg', count: 1 },
      ],
      gender: [
        { value: 'female', count: 2 },
        { value: 'male', count: 1 },
      ],
    },
    overlaps: [
      // The definition against a segment it half covers, and against the same definition saved.
      { segmentId: 'bavaria', version: 1, both: 2, onlyPreview: 1, onlySegment: 1 },
      { segmentId: 'spenders', version: 1, both: 3, onlyPreview: 0, onlySegment: 0 },
    ],
  });
  // Without them, the answer is the count and sample it always was.
  expect(Object.keys((await http('POST', `${qry.url}/v1/segments/preview`, { definition: BIG })).body).sort()).toEqual(['count', 'sample']);

  const unknown = await http('POST', `${qry.url}/v1/segments/preview`, { definition: BIG, overlapWith: ['nope'] });
  expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
  const bad = await http('POST', `${qry.url}/v1/segments/preview`, {
    definition: BIG,
    by: ['shoeSize'],
    overlapWith: Array(11).fill('big'),
  });
  expect(bad.status).toBe(400);
  expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['by.0', 'overlapWith']);
});

it('points a bad definition at the offending node with a 400', async () => {
  const cases: [unknown, string, RegExp][] = [
    [{ field: 'purchases.totalSpnd', op: 'range', gte: 1 }, 'definition.field', /unknown field.*did you mean purchases.totalSpend/],
    [{ and: [BAVARIA, { field: 'attributes.region', op: 'range', gte: 1 }] }, 'definition.and.1.op', /not valid.*keyword field/],
    [{ field: 'attributes.region', op: 'in', values: [] }, 'definition.values', /must not be empty/],
    [{ field: 'purchases.totalSpend', op: 'range', gte: 10, lte: 5 }, 'definition.gte', /range is empty/],
  ];
  for (const [definition, path, reason] of cases) {
    const res = await http('POST', `${qry.url}/v1/segments`, { name: 'Bad', definition });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path, reason: expect.stringMatching(reason) })]));
  }
  expect((await http('POST', `${qry.url}/v1/segments`, '{"name": "x", "definition": ')).status).toBe(400);
  expect((await http('POST', `${qry.url}/v1/segments`, { name: '', definition: BIG })).status).toBe(400);
  expect((await http('GET', `${qry.url}/v1/segments/big/breakdown?by=shoeSize`)).status).toBe(400);
});

it('answers 404 for unknown or deleted segments and users', async () => {
  for (const path of ['/v1/segments/nope', '/v1/segments/nope/count', '/v1/segments/nope/membership', '/v1/segments/big/overlap/nope']) {
    expect((await http('GET', `${qry.url}${path}`)).status).toBe(404);
  }
  expect((await http('GET', `${qry.url}/v1/users/nobody/segments`)).status).toBe(404);
  expect((await http('PUT', `${qry.url}/v1/segments/nope`, { name: 'x', definition: BIG })).status).toBe(404);
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'temp', name: 'Temp', definition: BIG });
  expect((await http('DELETE', `${qry.url}/v1/segments/temp`)).status).toBe(204);
  expect((await http('GET', `${qry.url}/v1/segments/temp`)).status).toBe(404);
  expect((await http('GET', `${qry.url}/v1/segments`)).body.segments.map((s: any) => s.segmentId)).not.toContain('temp');
});
