import {
  compileSegment,
  DEFAULT_PROFILE_OPTIONS,
  deriveProfile,
  foldEvents,
  indexNames,
  parseSegmentDefinition,
  toQueued,
} from '@portrait/shared';
import { bootstrapIndices, type estypes } from '@portrait/runtime';
import {
  atLeast,
  atMost,
  cleanup,
  finish,
  machineInfo,
  newPrefix,
  procMemoryMb,
  progress,
  round,
  serviceEnv,
  sleep,
  summarize,
  type BenchArgs,
  type BenchResult,
  type Infra,
  type Target,
} from './harness';
import { geometric, hashSeed, mulberry32 } from './prng';
import { spawnService, type ServiceProcess } from './service-process';
import { SyntheticShop } from './synthetic-shop';

const DAY = 86_400_000;
const COUNT_REQUESTS = 300;
const COUNT_WARMUP = 30;
const LOAD_BULK_DOCS = 1000;
const LOAD_LANES = 3;

/** Three conditions an analyst would combine: recent buyers in a few regions who like a category. */
export const COUNT_SEGMENT = {
  and: [
    { event: { type: 'purchase', atLeast: 1, inLastDays: 90 } },
    { field: 'attributes.region', op: 'in', values: ['Bayern', 'Nordrhein-Westfalen', 'Baden-Württemberg', 'Berlin'] },
    { field: 'attributes.consents.email', op: 'eq', value: true },
  ],
};

/** A broad audience (about half the shoppers): the backfill and export subject. */
export const AUDIENCE_SEGMENT = { event: { type: 'page_view', atLeast: 6 } };

/**
 * Segments over many profiles. Profiles are built per user from a synthetic shop's sessions with the shared
 * fold (streamed, so memory stays flat) and bulk-loaded. Then, against the query service and jobs process as child
 * processes:
 *  - count: `GET /v1/segments/:id/count` of a 3-condition segment, p50/p95, and the same compiled query sent
 *    straight to Elasticsearch `_count` in the same run (the ratio is the service's overhead);
 *  - backfill: save a broad segment and time its membership backfill (the jobs process's reconciliation job)
 *    until the materialized count equals the live count;
 *  - export: an async CSV export job of that segment (about half the profiles), rows/s from the job's own
 *    start and finish times, the jobs process's RSS sampled from /proc meanwhile, and the file's line count
 *    checked against the snapshot's member count.
 */
export async function benchSegments(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const reuse = args.prefix !== undefined;
  const prefix = args.prefix ?? newPrefix('segments');
  const users = args.users ?? 1_000_000;
  const params = { users: reuse ? 'existing' : users, seed: args.seed, countRequests: COUNT_REQUESTS, reusedPrefix: reuse };
  const machine = await machineInfo(infra);
  const alias = indexNames(prefix).profiles;
  const services: ServiceProcess[] = [];
  const figures: Record<string, unknown> = {};
  const targets: Target[] = [];
  const notes: string[] = [];
  try {
    await bootstrapIndices(infra.es, prefix);
    if (!reuse) figures.load = await loadProfiles(infra, alias, users, args.seed);
    const profiles = (await infra.es.count({ index: alias })).count;
    figures.profiles = profiles;

    const env = serviceEnv(prefix, { QUERY_PORT: '0', JOBS_PORT: '0', SEGMENT_PAGE_SIZE: '2000' });
    const [query, jobs] = await Promise.all([spawnService('query', env), spawnService('jobs', env)]);
    services.push(query, jobs);

    // Count: the service (segment read + compile + _count) against the compiled query sent directly.
    const countId = `count-${Date.now().toString(36)}`;
    await api(query.url, 'POST', '/v1/segments', {
      segmentId: countId,
      name: 'Recent buyers, email, four regions',
      definition: COUNT_SEGMENT,
    });
    const parsed = parseSegmentDefinition(COUNT_SEGMENT);
    if (!parsed.ok) throw new Error('count segment does not validate');
    const serviceMs: number[] = [];
    const directMs: number[] = [];
    let members = 0;
    for (let i = 0; i < COUNT_WARMUP + COUNT_REQUESTS; i++) {
      // Interleaved, so both see the same cache and load.
      let t = performance.now();
      const res = (await api(query.url, 'GET', `/v1/segments/${countId}/count`)) as { count: number };
      const s = performance.now() - t;
      t = performance.now();
      const direct = await infra.es.count({
        index: alias,
        query: compileSegment(parsed.value, Date.now()) as estypes.QueryDslQueryContainer,
      });
      const d = performance.now() - t;
      if (res.count !== direct.count) notes.push(`count mismatch at request ${i}: service ${res.count}, direct ${direct.count}`);
      members = res.count;
      if (i >= COUNT_WARMUP) {
        serviceMs.push(s);
        directMs.push(d);
      }
    }
    const service = summarize(serviceMs);
    const direct = summarize(directMs);
    figures.count = { members, serviceMs: service, directEsMs: direct, p95Ratio: round(service.p95 / direct.p95, 2) };
    targets.push(atMost('segment count p95', service.p95, 100, 'ms'));
    progress(`count: ${members} members, service p95 ${round(service.p95)} ms, direct _count p95 ${round(direct.p95)} ms`);

    // Backfill: a broad new segment, materialized by the jobs process's reconciliation job.
    const audienceId = `audience-${Date.now().toString(36)}`;
    const backfillStart = Date.now();
    await api(query.url, 'POST', '/v1/segments', { segmentId: audienceId, name: 'Browsed 6+ products', definition: AUDIENCE_SEGMENT });
    let status: any;
    let peakJobsRss = 0;
    for (;;) {
      status = await api(query.url, 'GET', `/v1/segments/${audienceId}/membership`);
      peakJobsRss = Math.max(peakJobsRss, procMemoryMb(jobs.pid)?.rss ?? 0);
      const state = status.backfill?.state;
      if (state === 'completed') break;
      if (state === 'failed') throw new Error(`backfill failed: ${status.backfill.failedReason}`);
      if (Date.now() - backfillStart > 3_600_000) throw new Error('backfill did not finish within an hour');
      const p = status.backfill?.progress;
      if (p && typeof p === 'object')
        progress(`backfill: pass ${p.passes}, ${p.scanned}/${p.pending ?? '?'} profiles, ${p.entered} entered`);
      await sleep(1000);
    }
    const seconds = (Date.now() - backfillStart) / 1000;
    const live = (await api(query.url, 'GET', `/v1/segments/${audienceId}/count`)) as { count: number };
    const report = status.backfill.progress;
    figures.backfill = {
      seconds: round(seconds, 1),
      profilesScannedPerSecond: round(report.scanned / seconds),
      membersTaggedPerSecond: round(report.entered / seconds),
      profilesInIndexPerSecond: round(profiles / seconds),
      materialized: status.materialized,
      live: live.count,
      passes: report.passes,
      conflicts: report.conflicts,
      jobsPeakRssMb: peakJobsRss,
    };
    if (status.materialized !== live.count) notes.push(`backfill left ${live.count - status.materialized} members unmaterialized`);
    progress(`backfill: ${report.entered} members tagged over ${profiles} profiles in ${round(seconds, 1)} s`);
    figures.audienceSegmentId = audienceId;
    figures.prefix = prefix;

    // Export: the async job path a large audience takes.
    const exportFields = ['userId', 'emailSha256', 'attributes.region', 'attributes.ageBand', 'purchases.totalSpend', 'lifecycle.stage'];
    // The job runs in the jobs process; the query service only queues it and serves the file.
    const rssBefore = procMemoryMb(jobs.pid)?.rss ?? 0;
    const job = (await api(
      query.url,
      'POST',
      `/v1/segments/${audienceId}/exports`,
      { format: 'csv', fields: exportFields, hashIdentifiers: true },
      { 'x-portrait-actor': 'bench' },
    )) as { exportId: string };
    let record: any;
    let peakExportRss = rssBefore;
    for (;;) {
      record = await api(query.url, 'GET', `/v1/exports/${job.exportId}`);
      peakExportRss = Math.max(peakExportRss, procMemoryMb(jobs.pid)?.rss ?? 0);
      if (record.status === 'completed') break;
      if (['failed', 'cancelled', 'expired', 'deleted'].includes(record.status))
        throw new Error(`export ${record.status}: ${record.error ?? ''}`);
      if (record.rows > 0) progress(`export: ${record.rows}/${record.total ?? '?'} rows`);
      await sleep(500);
    }
    const exportSeconds = (Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000;
    const download = await fetch(`${query.url}/v1/exports/${job.exportId}/download`, { headers: { 'x-portrait-actor': 'bench' } });
    let lines = 0;
    for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) for (const byte of chunk) if (byte === 10) lines++;
    const rowsPerSecond = record.rows / exportSeconds;
    figures.export = {
      rows: record.rows,
      totalAtSnapshot: record.total,
      fileLinesWithHeader: lines,
      fileMiB: round((record.fileBytes ?? 0) / 2 ** 20, 1),
      seconds: round(exportSeconds, 1),
      rowsPerSecond: round(rowsPerSecond),
      jobsRssMb: { before: rssBefore, peak: peakExportRss },
      fields: exportFields,
    };
    if (lines !== record.total + 1) notes.push(`export file has ${lines - 1} rows, the snapshot counted ${record.total}`);
    targets.push(atLeast('CSV export rate', rowsPerSecond, 30_000, 'rows/s'), atMost('jobs RSS during export', peakExportRss, 300, 'MB'));
    progress(`export: ${record.rows} rows in ${round(exportSeconds, 1)} s, jobs RSS peak ${peakExportRss} MB`);

    return finish('segments', started, machine, params, figures, targets, notes);
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    if (!args.keep && !reuse) await cleanup(infra, prefix);
  }
}

async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/**
 * Streams `users` profiles into the index: each user's sessions (1 + geometric, over 120 days) from the
 * synthetic shop, folded with the shared fold and derived as the indexer would. Returns load figures.
 */
async function loadProfiles(infra: Infra, alias: string, users: number, seed: number): Promise<Record<string, number>> {
  const now = Date.now();
  const shop = new SyntheticShop({ seed, users, items: 20_000, startMs: now - 120 * DAY, endMs: now - 60_000 });
  const started = Date.now();
  let next = 0;
  let loaded = 0;
  let lastReport = Date.now();
  const batch = (): estypes.BulkRequest['operations'] => {
    const operations: NonNullable<estypes.BulkRequest['operations']> = [];
    for (; next < users && operations.length < LOAD_BULK_DOCS * 2; next++) {
      const rng = mulberry32(hashSeed(seed, 9, next));
      const sessions = 1 + geometric(rng, 0.45);
      const events = [...shop.eventsForUsers([next], sessions)].map((e) => toQueued(e, now));
      const { state } = foldEvents(undefined, events, now, DEFAULT_PROFILE_OPTIONS);
      const userId = shop.userId(next);
      operations.push({ index: { _index: alias, _id: userId } }, deriveProfile(userId, state, now, now, DEFAULT_PROFILE_OPTIONS));
    }
    return operations;
  };
  const lane = async (): Promise<void> => {
    for (;;) {
      const operations = batch();
      if (!operations || operations.length === 0) return;
      const body = operations;
      const res = await infra.es.bulk({ operations: body, refresh: false });
      if (res.errors) throw new Error(`profile load failed: ${JSON.stringify(res.items.find((i) => i.index?.error)).slice(0, 500)}`);
      loaded += body.length / 2;
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        progress(`loading profiles: ${loaded}/${users} (${round(loaded / ((Date.now() - started) / 1000))}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: LOAD_LANES }, lane));
  await infra.es.indices.refresh({ index: alias });
  const seconds = (Date.now() - started) / 1000;
  progress(`loaded ${loaded} profiles in ${round(seconds, 1)} s`);
  return { profiles: loaded, seconds: round(seconds, 1), profilesPerSecond: round(loaded / seconds) };
}
