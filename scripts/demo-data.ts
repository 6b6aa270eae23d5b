/**
 * Loads a small demo data set through the ingest API: a synthetic shop (catalogue, 2,000 shoppers,
 * ~30,000 events over the last 120 days) and a real one, the margarine scanner panel in infra/data
 * (516 households with demographics and 4,470 purchases). Event ids are deterministic, so running it
 * twice changes nothing. Waits until the profiles are searchable, showing progress.
 *
 *   npm run demo-data              the shop, the panel and a few segments
 *   npm run demo-data -- feedback  recommendation impressions and clicks for 600 shoppers (after the models are trained)
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { SyntheticShop } from '../bench/synthetic-shop';
import { apiKeyHeaders } from './cli';
import { sendRecommendationFeedback } from './demo/feedback';

const INGEST = process.env.INGEST_URL ?? 'http://127.0.0.1:3001';
const QUERY = process.env.QUERY_URL ?? 'http://127.0.0.1:3003';
const DATA_DIR = process.env.PORTRAIT_DATA_DIR ?? path.resolve(__dirname, '../infra/data');
const DAY = 86_400_000;

async function post(pathname: string, body: unknown, method = 'POST'): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${INGEST}${pathname}`, {
      method,
      headers: { 'content-type': 'application/json', ...apiKeyHeaders() },
      body: JSON.stringify(body),
    });
    if (res.status === 429 || res.status === 503) {
      if (attempt > 60) throw new Error(`${pathname}: still ${res.status} after ${attempt} tries`);
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    const json = await res.json();
    if (res.status >= 400) throw new Error(`${pathname}: ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
    return json;
  }
}

async function sendEvents(label: string, events: Iterable<unknown>, total: number): Promise<{ accepted: number; duplicate: number }> {
  const bar = new SingleBar(
    { format: `  ${label} [{bar}] {value}/{total} events`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 2000 },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  const sum = { accepted: 0, duplicate: 0 };
  let batch: unknown[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const res = await post('/v1/events/batch', { events: batch });
    if (res.rejected > 0) throw new Error(`demo events rejected: ${JSON.stringify(res.results.find((r: any) => r.status === 'rejected'))}`);
    sum.accepted += res.accepted;
    sum.duplicate += res.duplicate;
    bar.increment(batch.length);
    batch = [];
  };
  for (const event of events) {
    batch.push(event);
    if (batch.length === 500) await flush();
  }
  await flush();
  bar.stop();
  return sum;
}

function csv(file: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const keys = header!.split(',').map((k) => k.replace(/"/g, ''));
  return rows.map((row) => Object.fromEntries(row.split(',').map((v, i) => [keys[i]!, v.replace(/"/g, '')])));
}

const MARGARINE = [
  ['PPk_Stk', 'Parkay', 'Stick'],
  ['PBB_Stk', 'Blue Bonnet', 'Stick'],
  ['PFl_Stk', 'Fleischmann’s', 'Stick'],
  ['PHse_Stk', 'House brand', 'Stick'],
  ['PGen_Stk', 'Generic', 'Stick'],
  ['PImp_Stk', 'Imperial', 'Stick'],
  ['PSS_Tub', 'Shedd’s Spread', 'Tub'],
  ['PPk_Tub', 'Parkay', 'Tub'],
  ['PFl_Tub', 'Fleischmann’s', 'Tub'],
  ['PHse_Tub', 'House brand', 'Tub'],
] as const;

async function loadMargarine(now: number): Promise<number> {
  const choicesFile = path.join(DATA_DIR, 'margarine_choices.csv');
  if (!existsSync(choicesFile)) {
    throw new Error(`${choicesFile} not found: the data sets live in infra/data of the repository (or set PORTRAIT_DATA_DIR)`);
  }
  const choices = csv(choicesFile);
  const demos = new Map(csv(path.join(DATA_DIR, 'margarine_demos.csv')).map((d) => [d.hhid!, d]));
  await post('/v1/items/batch', {
    items: MARGARINE.map(([code, brand, form]) => ({
      itemId: `margarine-${code}`,
      title: `${brand} margarine (${form.toLowerCase()})`,
      category: ['Grocery', 'Dairy & Spreads', 'Margarine'],
      brand,
      price: 1,
      tags: ['margarine', form.toLowerCase()],
    })),
  });
  const seq = new Map<string, number>();
  const events: unknown[] = [];
  for (const [hhid, demo] of demos) {
    events.push({
      type: 'user_attributes',
      eventId: `margarine-attr-${hhid}`,
      userId: `hh-${hhid}`,
      timestamp: new Date(now - 400 * DAY).toISOString(),
      attributes: {
        occupation: demo.retired === '1' ? 'retired' : demo.whtcollar === '1' ? 'white collar' : 'blue collar',
        region: 'Springfield panel',
        consents: { email: demo.college === '1', personalization: true },
      },
    });
  }
  const perHousehold = new Map<string, number>();
  for (const row of choices) perHousehold.set(row.hhid!, (perHousehold.get(row.hhid!) ?? 0) + 1);
  for (const row of choices) {
    const n = (seq.get(row.hhid!) ?? 0) + 1;
    seq.set(row.hhid!, n);
    const [code] = MARGARINE[Number(row.choice) - 1]!;
    const price = Number(row[code]);
    // The panel has purchase order but no dates: a household's purchases a week apart, the last one within 30 days.
    const at = now - (Number(row.hhid) % 30) * DAY - (perHousehold.get(row.hhid!)! - n) * 7 * DAY;
    events.push({
      type: 'purchase',
      eventId: `margarine-${row.hhid}-${n}`,
      userId: `hh-${row.hhid}`,
      timestamp: new Date(at).toISOString(),
      order: {
        orderId: `m-${row.hhid}-${n}`,
        amount: price,
        currency: 'EUR',
        paymentMethod: 'cash',
        lines: [{ itemId: `margarine-${code}`, quantity: 1, unitPrice: price }],
      },
    });
  }
  await sendEvents('margarine panel', events, events.length);
  return demos.size;
}

async function main(): Promise<void> {
  const now = Date.now();
  const shop = new SyntheticShop({ seed: 42, users: 2000, items: 500, startMs: now - 120 * DAY, endMs: now - 60_000 });
  process.stderr.write('Loading demo data\n');
  const items = [...shop.items()];
  await post('/v1/items/batch', { items });
  process.stderr.write(`  catalogue: ${items.length} items\n`);
  const total = 30_000;
  const synthetic = await sendEvents('synthetic shop ', shop.events(total), total);
  const households = await loadMargarine(now);
  const expected = shop.stats.usersSeen + households;
  // Events ingest already remembers were accepted for this very data set (its remembered ids live under the
  // data set's id, so a fresh Elasticsearch starts with none): they are applied or still queued, so wait.

  const bar = new SingleBar(
    { format: '  indexing        [{bar}] {value}/{total} profiles', hideCursor: true, noTTYOutput: true, notTTYSchedule: 2000 },
    Presets.shades_classic,
  );
  bar.start(expected, 0);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const res = await fetch(`${QUERY}/v1/profiles/search?size=0&facets=region`, { headers: apiKeyHeaders() });
    const total = res.ok ? ((await res.json()) as { total: number }).total : 0;
    bar.update(Math.min(total, expected));
    if (total >= expected) break;
    if (Date.now() > deadline)
      throw new Error(
        `only ${total} of ${expected} profiles after 5 minutes: check the indexer log (.run/indexer.log) ` +
          `and the dead-letter queue (npm run dlq -- list)`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
  bar.stop();
  const segments = await saveDemoSegments();
  process.stderr.write(`  segments:       ${segments.map((s) => `${s.segmentId} (${s.count})`).join(', ')}\n`);
  process.stderr.write(
    `Demo data ready: ${expected} profiles (${synthetic.accepted} new synthetic events, ${synthetic.duplicate} already loaded; ${households} panel households)\n`,
  );
}

/** A few segments an analyst would start from; saving them again is harmless (same definition, same version). */
const DEMO_SEGMENTS = [
  {
    segmentId: 'high-value',
    name: 'High value',
    description: 'Spent at least 150 in total over at least 2 orders',
    definition: { and: [{ field: 'purchases.totalSpend', op: 'range', gte: 150 }, { event: { type: 'purchase', atLeast: 2 } }] },
  },
  {
    segmentId: 'lapsed-buyers',
    name: 'Lapsed buyers',
    description: 'Bought before, but not in the last 30 days',
    definition: { and: [{ event: { type: 'purchase' } }, { field: 'purchases.lastPurchaseAt', op: 'range', olderThan: { days: 30 } }] },
  },
  {
    segmentId: 'window-shoppers',
    name: 'Window shoppers',
    description: 'Viewed at least 5 products in the last 30 days and never bought',
    definition: {
      and: [{ event: { type: 'page_view', atLeast: 5, inLastDays: 30 } }, { not: { event: { type: 'purchase' } } }],
    },
  },
];

async function saveDemoSegments(): Promise<{ segmentId: string; count: number }[]> {
  const out: { segmentId: string; count: number }[] = [];
  for (const { segmentId, ...body } of DEMO_SEGMENTS) {
    const existing = await fetch(`${QUERY}/v1/segments/${segmentId}`, { headers: apiKeyHeaders() });
    const res = await fetch(existing.ok ? `${QUERY}/v1/segments/${segmentId}` : `${QUERY}/v1/segments`, {
      method: existing.ok ? 'PUT' : 'POST',
      headers: { 'content-type': 'application/json', ...apiKeyHeaders() },
      body: JSON.stringify(existing.ok ? body : { segmentId, ...body }),
    });
    if (!res.ok) throw new Error(`saving segment ${segmentId}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    const count = (await (await fetch(`${QUERY}/v1/segments/${segmentId}/count`, { headers: apiKeyHeaders() })).json()) as {
      count: number;
    };
    out.push({ segmentId, count: count.count });
  }
  return out;
}

/** Impressions and clicks of the recommendations 600 shoppers are shown, strategy by strategy. */
async function feedback(): Promise<void> {
  // Shoppers with at least one order, so most lists are personal rather than popular items.
  const userIds: string[] = [];
  for (let page = 1; page <= 6; page++) {
    const res = await fetch(`${QUERY}/v1/profiles/search?minOrders=1&size=100&page=${page}`, { headers: apiKeyHeaders() });
    if (!res.ok) throw new Error(`profile search: ${res.status} ${(await res.text()).slice(0, 300)}`);
    const items = ((await res.json()) as { items: { userId: string }[] }).items;
    userIds.push(...items.map((p) => p.userId));
    if (items.length < 100) break;
  }
  const report = await sendRecommendationFeedback({
    ingestUrl: INGEST,
    queryUrl: QUERY,
    headers: apiKeyHeaders(),
    userIds,
    strategies: ['hybrid', 'item_cf', 'als', 'content', 'user_cf', 'popular'],
    nowMs: Date.now(),
  });
  process.stderr.write(
    `Recommendation feedback: ${report.lists} lists, ${report.impressions} impressions, ${report.clicks} clicks` +
      `${report.skipped.length > 0 ? ` (no active model for ${report.skipped.join(', ')})` : ''}\n`,
  );
}

(process.argv[2] === 'feedback' ? feedback() : main()).catch((error: unknown) => {
  process.stderr.write(`demo data failed: ${(error as Error).message}\nIs the stack up? Start it with: npm start\n`);
  process.exit(1);
});
