/**
 * Kibana's saved objects against the real Elasticsearch, without Kibana: on a stack loaded with a synthetic
 * shop, trained models, a segment and recommendation feedback, every field a data view, panel or control uses
 * exists in the real mappings (`_field_caps`) with what the panel needs of it, and the search behind every panel
 * (its filters, terms, date histograms and metrics, as Lens builds it) runs and returns non-empty buckets. The
 * segment dashboard's control filters the profile panels and the size snapshots alike.
 */
import { indexNames, snapshotSlot, type SegmentSize } from '@portrait/shared';
import { snapshotSegmentSizes } from '@portrait/jobs';
import type { Client } from '@portrait/runtime';
import { SyntheticShop } from '../../bench/synthetic-shop';
import { sendRecommendationFeedback } from '../../scripts/demo/feedback';
import { savedObjects } from '../../scripts/kibana/objects';
import { fieldUses, panelSearches, structuralProblems, type FieldNeed } from '../../scripts/kibana/validate';
import { baseEnv, eventually, http, postEvents, startStack, testPrefix, trainModel, type Stack } from '../support/stack';

const prefix = testPrefix('kibana');
const env = baseEnv(prefix, { MODEL_PAGE_SIZE: '200', SEGMENT_RECONCILE_EVERY_MS: '3600000' });
const names = indexNames(prefix);
const DAY = 86_400_000;
let stack: Stack;
let es: Client;
let queryUrl: string;
let users: number;

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float']);

async function profilesScored(kind: string, version: number, expected: number): Promise<true | undefined> {
  await es.indices.refresh({ index: names.profiles });
  const { count } = await es.count({ index: names.profiles, query: { term: { [`models.${kind}`]: version } } });
  return count === expected || undefined;
}

beforeAll(async () => {
  stack = await startStack(prefix, env);
  es = stack.es;
  queryUrl = stack.qry.url;
  const now = Date.now();
  const shop = new SyntheticShop({ seed: 7, users: 300, items: 120, startMs: now - 90 * DAY, endMs: now - 60_000 });
  expect((await http('POST', `${stack.ing.url}/v1/items/batch`, { items: [...shop.items()] })).status).toBe(202);
  await postEvents(stack.ing.url, [...shop.events(6000)]);
  users = shop.stats.usersSeen;
  await eventually(
    async () => {
      await es.indices.refresh({ index: names.profiles });
      return (await es.count({ index: names.profiles })).count === users || undefined;
    },
    90_000,
    'every shopper has a profile',
  );
  for (const [kind, body] of [
    ['rfm', { promote: true }],
    ['clusters', { promote: true, parameters: { kMin: 2, kMax: 5 } }],
    ['purchase', { promote: true }],
  ] as const) {
    const trained = await trainModel(queryUrl, kind, body);
    expect(trained.state).toBe('completed');
    await eventually(() => profilesScored(kind, trained.model.version, users), 60_000, `every profile scored by ${kind}`);
  }
  const segment = await http('POST', `${queryUrl}/v1/segments`, {
    segmentId: 'buyers',
    name: 'Buyers',
    definition: { event: { type: 'purchase' } },
  });
  expect(segment.status).toBe(201);
  await eventually(
    async () => ((await http('GET', `${queryUrl}/v1/segments/buyers/membership`)).body.backfill?.state === 'completed' ? true : undefined),
    60_000,
    'segment membership backfilled',
  );
  const report = await sendRecommendationFeedback({
    ingestUrl: stack.ing.url,
    queryUrl,
    headers: {},
    // Shoppers who have a profile: feedback for anyone else would add profiles.
    userIds: (
      await es.search<{ userId: string }>({ index: names.profiles, size: 60, sort: [{ userId: 'asc' }], _source: ['userId'] })
    ).hits.hits.map((h) => h._source!.userId),
    strategies: ['popular', 'item_cf'],
    nowMs: Date.now(),
  });
  expect(report.impressions).toBeGreaterThan(0);
  expect(report.clicks).toBeGreaterThan(0);
  await eventually(
    async () => {
      await es.indices.refresh({ index: names.events });
      const { count } = await es.count({ index: names.events, query: { term: { type: 'recommendation_click' } } });
      return count === report.clicks || undefined;
    },
    30_000,
    'feedback indexed',
  );
}, 420_000);

afterAll(async () => {
  await stack?.stop();
});

/** Snapshot slots the first test leaves in the segment sizes index, for the control test. */
let slots = new Set<string>();

it('records segment sizes that equal the segment counts: after a backfill, and once per slot', async () => {
  const nowMs = Date.now();
  const count = (await http('GET', `${queryUrl}/v1/segments/buyers/count`)).body.count as number;
  expect(count).toBeGreaterThan(0);
  // The backfill recorded the segment's size as it finished.
  await es.indices.refresh({ index: names.segmentSizes });
  const recorded = (await es.search<SegmentSize>({ index: names.segmentSizes, size: 10 })).hits.hits.map((h) => h._source!);
  expect(recorded).toEqual([expect.objectContaining({ segmentId: 'buyers', size: count, profiles: users })]);
  const iso = (ms: number) => new Date(snapshotSlot(ms, 3_600_000)).toISOString();
  slots = new Set([...recorded.map((r) => r.takenAt), iso(nowMs), iso(nowMs - 3 * 3_600_000)]);
  const first = await snapshotSegmentSizes({ es, names, nowMs, everyMs: 3_600_000, retentionDays: 400 });
  const again = await snapshotSegmentSizes({ es, names, nowMs, everyMs: 3_600_000, retentionDays: 400 });
  expect(first.sizes).toEqual([expect.objectContaining({ segmentId: 'buyers', name: 'Buyers', size: count, profiles: users })]);
  expect(again.sizes).toEqual(first.sizes);
  // An earlier slot, so the line has more than one point; and one past the retention period, which the next run deletes.
  await snapshotSegmentSizes({ es, names, nowMs: nowMs - 3 * 3_600_000, everyMs: 3_600_000, retentionDays: 400 });
  await snapshotSegmentSizes({ es, names, nowMs: nowMs - 500 * DAY, everyMs: 3_600_000, retentionDays: 1000 });
  const swept = await snapshotSegmentSizes({ es, names, nowMs, everyMs: 3_600_000, retentionDays: 400 });
  expect(swept.expired).toBe(1);
  await es.indices.refresh({ index: names.segmentSizes });
  // One document per slot: the backfill's (the current one, unless an hour turned since) and the two written here.
  expect((await es.count({ index: names.segmentSizes })).count).toBe(slots.size);
});

it('uses only fields that exist in the real mappings, aggregatable, numeric or dates where the panels need it', async () => {
  const objects = savedObjects(prefix);
  expect(structuralProblems(objects)).toEqual([]);
  const uses = fieldUses(objects);
  const problems: string[] = [];
  for (const index of new Set(uses.map((u) => u.index))) {
    const caps = (await es.fieldCaps({ index, fields: '*' })).fields;
    for (const use of uses.filter((u) => u.index === index)) {
      const byType = caps[use.field];
      if (!byType) {
        problems.push(`${use.by}: ${use.field} is not a field of ${index}`);
        continue;
      }
      const types = Object.entries(byType);
      const ok: Record<FieldNeed, boolean> = {
        exists: true,
        aggregatable: types.every(([, c]) => c.aggregatable),
        numeric: types.every(([t, c]) => NUMERIC.has(t) && c.aggregatable),
        date: types.every(([t]) => t === 'date' || t === 'date_nanos'),
      };
      if (!ok[use.need]) problems.push(`${use.by}: ${use.field} in ${index} is ${types.map(([t]) => t).join('/')}, not ${use.need}`);
    }
  }
  expect(problems).toEqual([]);
  // The data views read indices that exist (aliases resolve), so Kibana finds their fields.
  for (const view of objects.filter((o) => o.type === 'index-pattern')) {
    expect((await es.indices.exists({ index: view.attributes.title as string })) || view.attributes.title).toBe(true);
  }
});

/** Bucket arrays of an aggregation (terms, histograms) or its keyed buckets (filters). */
function buckets(agg: any): any[] {
  if (!agg) return [];
  return Array.isArray(agg.buckets) ? agg.buckets : Object.values(agg.buckets ?? {});
}

/** Whether a metric holds a value in some bucket: a count is the bucket's doc_count, a filtered one its filter's. */
function anyValue(bucketList: any[], metric: string): boolean {
  return bucketList.some((b) => {
    const m = b[metric];
    if (m === undefined) return b.doc_count > 0;
    if (typeof m.doc_count === 'number') return m.value === undefined ? m.doc_count > 0 : m.value.value !== null;
    return m.value !== null;
  });
}

it('runs every panel’s search on the real data and gets non-empty buckets and values', async () => {
  const empty: string[] = [];
  for (const search of panelSearches(savedObjects(prefix))) {
    const res: any = await es.search({ index: search.index, ...search.body });
    const total = typeof res.hits.total === 'number' ? res.hits.total : res.hits.total.value;
    if (total === 0) {
      empty.push(`${search.lens}: no documents match`);
      continue;
    }
    const metricNames = (aggs: any): string[] =>
      Object.keys(aggs ?? {}).filter((k) => !aggs[k].terms && !aggs[k].date_histogram && !aggs[k].filters);
    if (!search.bucketAgg) {
      for (const m of metricNames(search.body.aggs)) {
        const agg = res.aggregations?.[m];
        if (agg && agg.value === null) empty.push(`${search.lens}: ${m} has no value`);
      }
      continue;
    }
    // Walk down the nested buckets to the innermost level, collecting its buckets.
    let level: any[] = [res.aggregations];
    let aggs: any = search.body.aggs;
    for (;;) {
      const name = Object.keys(aggs).find((k) => aggs[k].terms || aggs[k].date_histogram || aggs[k].filters);
      if (!name) break;
      level = level.flatMap((b) => buckets(b[name])).filter((b) => b.doc_count > 0);
      aggs = aggs[name].aggs ?? {};
    }
    if (level.length === 0) {
      empty.push(`${search.lens}: every bucket is empty`);
      continue;
    }
    for (const m of metricNames(aggs)) {
      if (m.endsWith('_den')) continue;
      if (!anyValue(level, m)) empty.push(`${search.lens}: ${m} is empty in every bucket`);
    }
  }
  expect(empty).toEqual([]);
});

it('filters the segment dashboard’s profile panels and size snapshots by the segment control', async () => {
  const objects = savedObjects(prefix);
  const segment = objects.find((o) => o.id === `${prefix}-segment`)!;
  const control = Object.values(
    JSON.parse((segment.attributes.controlGroupInput as { panelsJSON: string }).panelsJSON) as Record<string, any>,
  )[0];
  const onDashboard = new Set(segment.references.filter((r) => r.type === 'lens').map((r) => r.id));
  const count = (await http('GET', `${queryUrl}/v1/segments/buyers/count`)).body.count as number;
  for (const search of panelSearches(objects).filter((s) => onDashboard.has(s.lens))) {
    // What the control adds to every panel's query when a segment is chosen.
    const query = { bool: { filter: [search.body.query, { term: { [control.explicitInput.fieldName]: 'buyers' } }] } };
    const res: any = await es.search({ index: search.index, ...search.body, query });
    const total = typeof res.hits.total === 'number' ? res.hits.total : res.hits.total.value;
    if (search.index === names.profiles) expect({ lens: search.lens, total }).toEqual({ lens: search.lens, total: count });
    else expect({ lens: search.lens, snapshots: total }).toEqual({ lens: search.lens, snapshots: slots.size });
  }
});
