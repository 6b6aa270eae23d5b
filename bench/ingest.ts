import { Queue } from 'bullmq';
import { JobName, toQueued, type QueuedEvent } from '@portrait/shared';
import { INGEST_JOB_OPTIONS, bullPrefix, createIngestQueue, createRedis, type EventsJob } from '@portrait/runtime';
import {
  namespaceOf,
  atLeast,
  checkEvents,
  cleanup,
  cpuBetween,
  cpuSnapshot,
  finish,
  lanes,
  machineInfo,
  newPrefix,
  progress,
  round,
  serviceEnv,
  summarize,
  type BenchArgs,
  type BenchResult,
  type Infra,
} from './harness';
import { startService } from './service-process';
import { SyntheticShop, type ShopEvent } from './synthetic-shop';

const TARGET_EVENTS_PER_SECOND = 10_000;

/**
 * Ingest throughput: batches of events POSTed to /v1/events/batch by concurrent keep-alive clients,
 * no indexer running (the queue just grows). Then, in the same run and on the same Redis, the raw
 * BullMQ baselines: one `add` per batch (what ingest does per request) and `addBulk` with one job per
 * event (the design ingest avoided).
 */
export async function benchIngest(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const params = {
    events: args.events ?? 200_000,
    batch: args.batch ?? 500,
    concurrency: args.concurrency ?? 8,
    users: args.users ?? 20_000,
    items: args.items ?? 5_000,
    seed: args.seed,
    servicesIn: args.servicesIn,
  };
  const machine = await machineInfo(infra);
  const prefix = newPrefix('ingest');
  const shopOptions = {
    seed: params.seed,
    users: params.users,
    items: params.items,
    startMs: started - 30 * 86_400_000,
    endMs: started - 60_000,
  };
  progress(
    `ingest: prefix ${prefix}; validated ${checkEvents(new SyntheticShop(shopOptions).events(1000))} synthetic events against EventSchema`,
  );

  // Bodies are serialized up front so the timed loop costs the client only the HTTP exchange.
  const warmupBatches = 10;
  const shop = new SyntheticShop(shopOptions);
  const bodies: string[] = [];
  let batch: ShopEvent[] = [];
  const total = params.events + warmupBatches * params.batch;
  for (const event of shop.events(total)) {
    batch.push(event);
    if (batch.length === params.batch) {
      bodies.push(JSON.stringify({ events: batch }));
      batch = [];
    }
  }
  if (batch.length > 0) bodies.push(JSON.stringify({ events: batch }));
  const bodyBytes = bodies.reduce((s, b) => s + Buffer.byteLength(b), 0);
  progress(`ingest: ${bodies.length} request bodies ready (${round(bodyBytes / 2 ** 20, 1)} MiB)`);

  const env = serviceEnv(prefix, { INGEST_PORT: '0', INGEST_MAX_QUEUE_DEPTH: '10000000' });
  const service = await startService('ingest', env, params.servicesIn);
  const { url, pid: childPid } = service;
  const stopIngest = service.stop;

  const notes: string[] = [];
  try {
    const post = async (body: string): Promise<{ accepted: number; status: number }> => {
      const res = await fetch(`${url}/v1/events/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { accepted?: number };
      return { accepted: json.accepted ?? 0, status: res.status };
    };
    for (let i = 0; i < warmupBatches; i++) await post(bodies[i]!);

    const statuses: Record<string, number> = {};
    const latencies: number[] = [];
    let accepted = 0;
    let next = warmupBatches;
    const cpu0 = await cpuSnapshot(infra, childPid);
    const t0 = performance.now();
    let lastReport = t0;
    await lanes(params.concurrency, async () => {
      const i = next++;
      if (i >= bodies.length) return false;
      const sent = performance.now();
      const r = await post(bodies[i]!);
      latencies.push(performance.now() - sent);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      accepted += r.accepted;
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        progress(`ingest: ${accepted} accepted, ${Math.round(accepted / ((lastReport - t0) / 1000))} events/s`);
      }
      return true;
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuBetween(cpu0, await cpuSnapshot(infra, childPid), 'ingestChild');
    const ingestRate = accepted / seconds;
    progress(`ingest: ${accepted} events accepted in ${round(seconds)} s = ${Math.round(ingestRate)} events/s`);

    const queue = createIngestQueue(infra.redis, await namespaceOf(infra, prefix));
    const queued = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    await queue.close();
    await stopIngest();

    // Baselines use the payloads ingest queued (ids and receive times assigned), already parsed.
    const payloads: QueuedEvent[][] = bodies
      .slice(warmupBatches)
      .map((b) => (JSON.parse(b) as { events: ShopEvent[] }).events.map((e) => toQueued(e, Date.now())));
    const perBatch = await baselineAddPerBatch(infra, prefix, payloads, params.concurrency);
    const perEvent = await baselineAddBulkPerEvent(infra, prefix, payloads, params.concurrency, params.batch);

    if (params.servicesIn === 'process')
      notes.push(
        'ingest ran in the benchmark process, sharing its event loop with the HTTP clients; --services-in child runs it separately',
      );
    const figures = {
      ingest: {
        acceptedEvents: accepted,
        seconds: round(seconds),
        eventsPerSecond: Math.round(ingestRate),
        requestsPerSecond: round((bodies.length - warmupBatches) / seconds),
        httpStatuses: statuses,
        requestLatencyMs: summarize(latencies),
        queuedJobs: queued,
        cpuCoresUsed: cpu,
      },
      baselineBullmqAddPerBatch: perBatch,
      baselineBullmqAddBulkPerEvent: perEvent,
      ratioIngestToAddPerBatch: round(ingestRate / perBatch.eventsPerSecond, 3),
      ratioIngestToAddBulkPerEvent: round(ingestRate / perEvent.eventsPerSecond, 3),
      requestBodyKiB: round(bodyBytes / bodies.length / 1024, 1),
    };
    return finish(
      'ingest',
      started,
      machine,
      params,
      figures,
      [atLeast('ingest events/s', ingestRate, TARGET_EVENTS_PER_SECOND, 'events/s')],
      notes,
    );
  } finally {
    await stopIngest().catch(() => undefined);
    if (!args.keep) await cleanup(infra, prefix);
  }
}

/** Same connection style (producer), key prefix and job options as ingest's queue; another name. */
function baselineQueue(infra: Infra, prefix: string, name: string): { queue: Queue; close: () => Promise<void> } {
  const connection = createRedis(infra.redisUrl, 'producer');
  const queue = new Queue(name, { connection, prefix: bullPrefix(prefix), defaultJobOptions: INGEST_JOB_OPTIONS });
  return {
    queue,
    close: async () => {
      await queue.close();
      await connection.quit();
    },
  };
}

async function baselineAddPerBatch(infra: Infra, prefix: string, payloads: QueuedEvent[][], concurrency: number) {
  const { queue, close } = baselineQueue(infra, prefix, 'baseline-add');
  await queue.waitUntilReady();
  let next = 0;
  let events = 0;
  const cpu0 = await cpuSnapshot(infra);
  const t0 = performance.now();
  await lanes(concurrency, async () => {
    const i = next++;
    if (i >= payloads.length) return false;
    await queue.add(JobName.events, { events: payloads[i]! } satisfies EventsJob);
    events += payloads[i]!.length;
    return true;
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuBetween(cpu0, await cpuSnapshot(infra));
  await close();
  progress(`baseline add (one job per ${payloads[0]?.length} events): ${Math.round(events / seconds)} events/s`);
  return {
    events,
    jobs: payloads.length,
    seconds: round(seconds),
    eventsPerSecond: Math.round(events / seconds),
    jobsPerSecond: Math.round(payloads.length / seconds),
    cpuCoresUsed: cpu,
  };
}

async function baselineAddBulkPerEvent(infra: Infra, prefix: string, payloads: QueuedEvent[][], concurrency: number, batch: number) {
  const { queue, close } = baselineQueue(infra, prefix, 'baseline-addbulk');
  await queue.waitUntilReady();
  let next = 0;
  let events = 0;
  const cpu0 = await cpuSnapshot(infra);
  const t0 = performance.now();
  await lanes(concurrency, async () => {
    const i = next++;
    if (i >= payloads.length) return false;
    await queue.addBulk(payloads[i]!.map((event) => ({ name: JobName.events, data: { events: [event] } })));
    events += payloads[i]!.length;
    return true;
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuBetween(cpu0, await cpuSnapshot(infra));
  await close();
  progress(`baseline addBulk (one job per event, ${batch} per call): ${Math.round(events / seconds)} events/s`);
  return { events, jobs: events, seconds: round(seconds), eventsPerSecond: Math.round(events / seconds), cpuCoresUsed: cpu };
}
