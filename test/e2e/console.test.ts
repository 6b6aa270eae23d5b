/**
 * The console in a real browser (Debian's Chromium, driven by playwright-core) against the four services started in
 * this process with API keys required, on the demo data loaded by the real loader (scripts/demo-data.ts) and the
 * models trained by the real tool (scripts/models.ts ensure). What an analyst does in a day: sign in with a key (a
 * wrong one and one without the scope are refused, and say so), search profiles and narrow by a facet, open a
 * profile and its recommendations, build a segment while its live count follows, save it, watch its membership
 * backfill, export it and download the file, and read the insights. Every number the page shows that is checked here
 * is compared with what the API answers.
 *
 * PORTRAIT_SCREENSHOTS=1 writes the README's pictures to docs/console/.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ApiKeyStore, boundNamespace } from '@portrait/runtime';
import { sendRecommendationFeedback } from '../../scripts/demo/feedback';
import { launchChromium, numberIn, screenshot } from '../support/browser';
import { REPO_ROOT, baseEnv, eventually, http, startStack, testPrefix, type Stack } from '../support/stack';

const run = promisify(execFile);
const prefix = testPrefix('console');
let stack: Stack;
let exportDir: string;
let admin: string;
let reader: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const api = (method: string, route: string, body?: unknown) => http(method, `${stack.qry.url}${route}`, body, auth(admin));
const formatted = (n: number) => new Intl.NumberFormat('en').format(n);

/** A repository tool, as `npm run <tool>` runs it, against this stack with the admin key. */
async function tool(script: string, ...args: string[]): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, INGEST_URL: stack.ing.url, QUERY_URL: stack.qry.url, PORTRAIT_API_KEY: admin },
    maxBuffer: 16 * 1024 * 1024,
  });
}

beforeAll(async () => {
  exportDir = await mkdtemp(path.join(os.tmpdir(), 'portrait-console-'));
  stack = await startStack(prefix, baseEnv(prefix, { AUTH_REQUIRED: 'true', EXPORT_DIR: exportDir }));
  const store = new ApiKeyStore(stack.redis, (await boundNamespace(stack.redis, prefix))!);
  admin = (await store.create({ name: 'e2e-admin', scopes: ['admin'] }, 'e2e', Date.now())).key;
  reader = (await store.create({ name: 'e2e-reader', scopes: ['read'] }, 'e2e', Date.now())).key;

  await tool('scripts/demo-data.ts');
  await tool('scripts/models.ts', 'ensure');
  // What `npm run demo-data -- feedback` sends, for fewer shoppers: every strategy's lists shown, some clicked.
  const buyers = (await api('GET', '/v1/profiles/search?minOrders=1&sort=-orders&size=60')).body.items as { userId: string }[];
  const sent = await sendRecommendationFeedback({
    ingestUrl: stack.ing.url,
    queryUrl: stack.qry.url,
    headers: auth(admin),
    userIds: buyers.map((b) => b.userId),
    strategies: ['hybrid', 'item_cf', 'als', 'content', 'user_cf', 'popular'],
    nowMs: Date.now() - 60_000,
  });
  expect(sent.skipped).toEqual([]);
  // Counted from the event history: once it counts them all, the indexer has applied them and nothing moves any more.
  await eventually(
    async () => {
      const ctr = (await api('GET', '/v1/insights/recommendations?days=30')).body;
      return ctr.impressions === sent.impressions && ctr.clicks === sent.clicks;
    },
    30_000,
    'the feedback in the event history',
  );

  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
  if (exportDir) await rm(exportDir, { recursive: true, force: true });
});

describe('the console', () => {
  it('asks for a key once, and says when a key is not accepted (401) or lacks the scope (403)', async () => {
    await page.goto(`${stack.qry.url}/console`);
    const signIn = page.getByRole('form', { name: 'Sign in with an API key' });
    const keyField = page.getByLabel('API key', { exact: true });
    await keyField.fill(`ptk_0123456789abcdef_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await signIn.getByRole('alert').filter({ hasText: 'API key not accepted (401)' }).waitFor();

    await keyField.fill(reader);
    await page.getByRole('button', { name: 'Use this key' }).click();
    const views = page.getByRole('navigation', { name: 'Views' });
    await views.getByRole('link', { name: 'Segments' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'Not allowed with this key (403)' }).first();
    await refused.waitFor();
    expect(await refused.textContent()).toContain('it needs scope segments');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('portrait.apiKey'))).toBe(reader);

    await page.getByRole('button', { name: 'Change key' }).click();
    await keyField.fill(admin);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await views.waitFor();
    // Kept for the tab: a reload asks for nothing.
    await page.reload();
    await views.waitFor();
    expect(await signIn.count()).toBe(0);
  });

  it('searches profiles, narrows them by a facet, and shows the counts the API answers', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Profiles' }).click();
    await page.getByRole('searchbox', { name: 'Search profiles' }).fill('shoes');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const all = (await api('GET', '/v1/profiles/search?q=shoes&size=0')).body.total as number;
    expect(all).toBeGreaterThan(20);
    await page.getByRole('heading', { name: `${formatted(all)} profiles` }).waitFor();
    await screenshot(page, 'explorer');

    await page
      .getByRole('group', { name: 'Value tier' })
      .getByRole('checkbox', { name: /^high\b/ })
      .check();
    const high = (await api('GET', '/v1/profiles/search?q=shoes&tier=high&size=0')).body.total as number;
    expect(high).toBeGreaterThan(0);
    expect(high).toBeLessThan(all);
    await page.getByRole('heading', { name: `${formatted(high)} profiles` }).waitFor();
    await page.getByRole('button', { name: 'Remove filter Value tier: high' }).waitFor();
    const rows = page.getByRole('table', { name: 'Matching profiles' }).getByRole('row');
    expect(await rows.count()).toBe(Math.min(high, 20) + 1);
  });

  it('opens a profile with its behaviour, scores, segments and recommendations with their reasons', async () => {
    const first = page.getByRole('table', { name: 'Matching profiles' }).getByRole('link').first();
    const userId = (await first.textContent())!;
    await first.click();
    await page.getByRole('heading', { name: `Profile ${userId}` }).waitFor();
    const profile = (await api('GET', `/v1/users/${userId}/profile`)).body;
    expect(profile.value.tier).toBe('high');
    const scores = page.getByRole('region', { name: 'Scores' });
    await scores.getByText(`${profile.cluster.id}: ${profile.cluster.label}`).waitFor();
    const events = page.getByRole('table', { name: 'Events by window' });
    const purchases = events.getByRole('row', { name: /^Purchases/ });
    expect((await purchases.getByRole('cell').allTextContents()).map(numberIn)).toEqual(
      ['d7', 'd30', 'd90', 'lifetime'].map((w) => profile.behavior.counts.purchase[w]),
    );

    const items = page.getByRole('list', { name: 'Recommended items' }).getByRole('listitem');
    await items.first().waitFor();
    const recs = (await api('GET', `/v1/users/${userId}/recommendations?k=8&strategy=hybrid`)).body;
    expect(recs.items.length).toBeGreaterThan(0);
    expect(await items.count()).toBe(recs.items.length);
    const reasons = await page.locator('.recommendations .reason').allTextContents();
    expect(reasons).toEqual(recs.items.map((i: { reason: { text: string } }) => i.reason.text));
    await screenshot(page, 'profile');
  });

  it('builds a segment whose live count is the API count, saves it, watches its backfill, exports and downloads it', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('link', { name: '+ New segment' }).click();
    await page.getByLabel('Segment id').fill('e2e-south-buyers');
    await page.getByLabel('Name', { exact: true }).fill('Cart fillers in Bayern and Berlin');
    const definition = page.getByLabel('Definition (JSON)');
    const live = page.locator('output[aria-label="Live count"][data-fresh="true"]');

    // A typo is answered as the API answers it, pointing at the node.
    await definition.fill('{"field": "attributes.regoin", "op": "in", "values": ["Bayern", "Berlin"]}');
    const refusal = page.getByRole('alert').filter({ hasText: 'definition.field' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('did you mean attributes.region');

    // Fixed, then a condition added with the form helper.
    await definition.fill('{"field": "attributes.region", "op": "in", "values": ["Bayern", "Berlin"]}');
    await live.waitFor();
    const helper = page.getByRole('group', { name: 'Add a condition' });
    await helper.getByLabel('Event').selectOption('add_to_cart');
    await helper.getByLabel('At least').fill('2');
    await helper.getByRole('button', { name: 'Add condition' }).click();
    const wanted = {
      and: [{ field: 'attributes.region', op: 'in', values: ['Bayern', 'Berlin'] }, { event: { type: 'add_to_cart', atLeast: 2 } }],
    };
    expect(JSON.parse(await definition.inputValue())).toEqual(wanted);
    await page.getByRole('group', { name: 'Compare with' }).getByRole('checkbox', { name: 'Lapsed buyers' }).check();

    const preview = (await api('POST', '/v1/segments/preview', { definition: wanted, sampleSize: 0, overlapWith: ['lapsed-buyers'] })).body;
    expect(preview.count).toBeGreaterThan(0);
    await page.getByRole('table', { name: 'Overlap' }).waitFor();
    expect(numberIn(await live.textContent())).toBe(preview.count);
    const overlap = page.getByRole('table', { name: 'Overlap' }).getByRole('row', { name: /^Lapsed buyers/ });
    const [o] = preview.overlaps;
    expect((await overlap.getByRole('cell').allTextContents()).map(numberIn)).toEqual([o.both, o.onlyPreview, o.onlySegment]);
    await page
      .getByRole('region', { name: 'Breakdowns' })
      .getByRole('img', { name: /^Members by Region: / })
      .waitFor();

    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.waitForURL(/#\/segments\/e2e-south-buyers$/);
    const saved = (await api('GET', '/v1/segments/e2e-south-buyers/count')).body;
    expect(saved).toEqual({ segmentId: 'e2e-south-buyers', version: 1, count: preview.count });
    await page.getByRole('heading', { name: 'Edit “Cart fillers in Bayern and Berlin” (version 1)' }).waitFor();
    const backfill = page.getByRole('status', { name: 'Backfill' });
    await backfill.filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 });
    await page.getByText(`${formatted(saved.count)} of ${formatted(saved.count)} members tagged on their profiles`).waitFor();
    expect((await api('GET', '/v1/segments/e2e-south-buyers/membership')).body.materialized).toBe(saved.count);

    const exporting = page.getByRole('region', { name: 'Export' });
    await exporting.getByRole('button', { name: 'Start export' }).click();
    const downloadButton = exporting.getByRole('button', { name: /^Download file/ });
    await downloadButton.waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), downloadButton.click()]);
    expect(download.suggestedFilename()).toMatch(/^e2e-south-buyers-v1-.+\.csv$/);
    const file = path.join(exportDir, 'downloaded.csv');
    await download.saveAs(file);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['userId', 'attributes.region', 'value.tier', 'purchases.orders', 'purchases.totalSpend']);
    expect(rows).toHaveLength(saved.count);
    expect(new Set(rows.map((r) => r.userId)).size).toBe(saved.count);
    for (const row of rows) expect(['Bayern', 'Berlin']).toContain(row['attributes.region']);
    await exporting.getByText(`Downloaded ${download.suggestedFilename()}: ${formatted(saved.count)} rows.`).waitFor();
    const exportId = /^e2e-south-buyers-v1-(.+)\.csv$/.exec(download.suggestedFilename())![1];
    const record = (await api('GET', `/v1/exports/${exportId}`)).body;
    expect(record).toMatchObject({ status: 'completed', actor: 'e2e-admin', rows: saved.count, lastDownloadedBy: 'e2e-admin' });
    await screenshot(page, 'segment-builder');
  });

  it('shows the clusters, the RFM grid, the association rules and the click-through the API answers', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Insights' }).click();
    const clusters = (await api('GET', '/v1/insights/clusters')).body;
    const clusterRows = page.getByRole('table', { name: 'Clusters' }).getByRole('row');
    await clusterRows.nth(1).waitFor();
    expect(await clusterRows.count()).toBe(clusters.clusters.length + 1);
    await page.getByRole('img', { name: /^Cluster map: / }).waitFor();

    const rfm = (await api('GET', '/v1/insights/rfm')).body;
    const top = rfm.grid.find((c: { r: number; f: number }) => c.r === 5 && c.f === 5)?.profiles ?? 0;
    const grid = page.getByRole('table', { name: 'RFM grid' });
    expect(numberIn(await grid.getByRole('row', { name: /^R5/ }).getByRole('cell').last().textContent())).toBe(top);

    const rules = (await api('GET', '/v1/insights/rules?level=item&limit=12')).body;
    expect(rules.rules.length).toBeGreaterThan(0);
    const ruleRows = page.getByRole('table', { name: 'Top association rules' }).getByRole('row');
    await ruleRows.nth(1).waitFor();
    expect(await ruleRows.count()).toBe(rules.rules.length + 1);

    const ctr = (await api('GET', '/v1/insights/recommendations?days=30')).body;
    const byStrategy = page.getByRole('table', { name: 'Click-through by strategy' });
    await byStrategy.waitFor();
    for (const s of ctr.strategies) {
      const cells = await byStrategy
        .getByRole('row', { name: new RegExp(`^${s.strategy}\\b`) })
        .getByRole('cell')
        .allTextContents();
      expect(cells.slice(0, 2).map(numberIn)).toEqual([s.impressions, s.clicks]);
    }
    await screenshot(page, 'insights');
  });
});
