/**
 * The jobs process against the real Redis and Elasticsearch: several processes side by side run each
 * scheduled job once per interval, and a job whose payload does not fit its schema (or that nobody
 * handles) fails at once, without retries, kept for inspection.
 */
import type { Queue } from 'bullmq';
import type { JobsService } from '@portrait/jobs';
import { JOBS, queueNames } from '@portrait/shared';
import { createExportsQueue, createMaintenanceQueue, type Client, type Redis } from '@portrait/runtime';
import { baseEnv, cleanup, esClient, eventually, http, jobs, redisClient, testPrefix, namespaceOf } from '../support/stack';

const prefix = testPrefix('jobs');
const env = baseEnv(prefix, { EXPORT_SWEEP_EVERY_MS: '1000' });
let es: Client;
let redis: Redis;
let maintenance: Queue;
let exportsQueue: Queue;
const running: JobsService[] = [];

/** The sum, over the given processes, of one counter series (`name{labels}`) in their /metrics. */
async function counter(services: readonly JobsService[], series: string): Promise<number> {
  let total = 0;
  for (const service of services) {
    const text: string = (await http('GET', `${service.url}/metrics`)).body;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${series} `)) total += Number(line.slice(series.length + 1));
    }
  }
  return total;
}

beforeAll(async () => {
  es = esClient();
  redis = redisClient();
  maintenance = createMaintenanceQueue(redis, await namespaceOf(es, prefix));
  exportsQueue = createExportsQueue(redis, await namespaceOf(es, prefix));
  running.push(...(await Promise.all([jobs(env), jobs(env)])));
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await Promise.all([maintenance?.close(), exportsQueue?.close()]);
  await cleanup(prefix, es, redis);
  await es.close();
  redis.disconnect();
});

it('two jobs processes keep one scheduler per scheduled job and run each interval of it once', async () => {
  const schedulers = [...(await maintenance.getJobSchedulers()), ...(await exportsQueue.getJobSchedulers())].map((s) => s.key).sort();
  expect(schedulers).toEqual(['event-retention', 'export-sweep', 'refresh-profiles', 'segment-reconcile', 'segment-snapshot']);

  const started = Date.now();
  const sweeps = async () => (await exportsQueue.getJobs(['completed'])).filter((j) => j.name === JOBS.exportSweep.name);
  // The sweep is scheduled every second: wait for several ticks, while both processes poll the queue.
  await eventually(async () => (await sweeps()).length >= 5, 20_000, 'five sweeps completed');
  const elapsedTicks = Math.ceil((Date.now() - started) / 1000);
  const runs = await counter(running, 'portrait_jobs_total{job="exportSweep",outcome="completed",service="jobs"}');
  const completed = await sweeps();
  const slots = completed.map((j) => j.id);

  // Each run is a distinct tick: a scheduled job run twice would count more runs than jobs.
  expect(new Set(slots).size).toBe(slots.length);
  expect(slots.every((id) => id?.startsWith('repeat:export-sweep:'))).toBe(true);
  expect(runs).toBeGreaterThanOrEqual(5);
  expect(runs).toBeLessThanOrEqual(completed.length + 1); // one may have finished between the two reads
  // And no more ticks than seconds passed (plus the run at start and one in flight).
  expect(completed.length).toBeLessThanOrEqual(elapsedTicks + 2);
  // Neither process is stuck on the scheduler: each still answers ready.
  for (const service of running) expect((await http('GET', `${service.url}/readyz`)).status).toBe(200);
});

it('fails a job whose payload does not fit its schema at once, naming the field, and keeps it', async () => {
  const job = await maintenance.add(JOBS.segmentBackfill.name, { segmentId: 42 }, { attempts: 5 });
  const failed = await eventually(
    async () => ((await job.getState()) === 'failed' ? await maintenance.getJob(job.id!) : undefined),
    15_000,
    'invalid job failed',
  );
  expect(failed!.attemptsMade).toBe(1);
  expect(failed!.failedReason).toMatch(/invalid payload: segmentId: /);
  expect(failed!.data).toEqual({ segmentId: 42 });
  expect(await counter(running, 'portrait_jobs_total{job="segmentBackfill",outcome="invalid",service="jobs"}')).toBe(1);

  const extra = await exportsQueue.add(JOBS.exportRun.name, { exportId: 'e-1', extra: true }, { attempts: 3 });
  await eventually(async () => (await extra.getState()) === 'failed', 15_000, 'job with an unknown key failed');
  expect((await exportsQueue.getJob(extra.id!))!.failedReason).toMatch(/invalid payload: .*extra/);
});

it('fails a job nobody handles at once', async () => {
  const job = await maintenance.add('train-the-model', {}, { attempts: 5 });
  await eventually(async () => (await job.getState()) === 'failed', 15_000, 'unknown job failed');
  const failed = (await maintenance.getJob(job.id!))!;
  expect(failed.attemptsMade).toBe(1);
  expect(failed.failedReason).toBe(`no handler for job train-the-model on the ${queueNames().maintenance} queue`);
});

it('exposes the metrics the moved jobs had, under their names', async () => {
  const text: string = (await http('GET', `${running[0]!.url}/metrics`)).body;
  for (const name of [
    'portrait_indexer_profiles_refreshed_total',
    'portrait_segment_changes_total',
    'portrait_exports_total',
    'portrait_export_rows_total',
    'portrait_export_seconds',
    'portrait_jobs_total',
    'portrait_jobs_waiting',
  ]) {
    expect(text).toContain(`# TYPE ${name} `);
  }
});
