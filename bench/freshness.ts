import { randomBytes } from 'node:crypto';
import {
  namespaceOf,
  atMost,
  checkEvents,
  cleanup,
  cpuBetween,
  cpuSnapshot,
  finish,
  machineInfo,
  newPrefix,
  progress,
  round,
  serviceEnv,
  sleep,
  summarize,
  type BenchArgs,
  type BenchResult,
  type Infra,
} from './harness';
import { createIngestQueue } from '@portrait/runtime';
import { scrapeMetrics, spawnService, startService } from './service-process';
import { SyntheticShop, type ShopEvent } from './synthetic-shop';

const TICK_MS = 100;
const PROBE_EVERY_MS = 200;
const POLL_EVERY_MS = 50;
const PROBE_DEADLINE_MS = 30_000;
const WARMUP_SECONDS = 5;

interface Probe {
  n: number;
  /** Seconds since the probes started. */
  sentAtS: number;
  /** From just before the probe POST to the 202. */
  acceptMs?: number;
  /** Until GET /v1/users/:id/profile returns it (real-time get: indexed, not yet searchable). */
  readableMs?: number;
  /** Until GET /v1/profiles/search?q=<its query> finds it (indexed and refreshed). */
  searchableMs?: number;
  error?: string;
}

/**
 * Freshness under load: a steady background of events through ingest, and every 200 ms a probe event
 * for a new user with a unique search query; each probe is polled every 50 ms until the profile search
 * finds it. Ingest and query run in this process, the indexer in a child process.
 */
export async function benchFreshness(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const params = {
    durationSeconds: args.duration ?? 60,
    warmupSeconds: WARMUP_SECONDS,
    backgroundEventsPerSecond: args.rate ?? 1000,
    backgroundBatch: Math.max(1, Math.round(((args.rate ?? 1000) * TICK_MS) / 1000)),
    tickMs: TICK_MS,
    probeEveryMs: PROBE_EVERY_MS,
    pollEveryMs: POLL_EVERY_MS,
    users: args.users ?? 20_000,
    items: args.items ?? 5_000,
    seed: args.seed,
    indexerConcurrency: args.indexerConcurrency ?? 'service default (4)',
    servicesIn: args.servicesIn,
  };
  const machine = await machineInfo(infra);
  const prefix = newPrefix('fresh');
  const tag = randomBytes(3).toString('hex');
  const shopOptions = { seed: params.seed, users: params.users, items: params.items, startMs: started - 3_600_000, endMs: started };
  progress(
    `freshness: prefix ${prefix}; validated ${checkEvents(new SyntheticShop(shopOptions).events(1000))} synthetic events against EventSchema`,
  );

  const stops: (() => Promise<unknown>)[] = [];
  try {
    const query = await startService('query', serviceEnv(prefix, { QUERY_PORT: '0' }), args.servicesIn);
    stops.push(query.stop);
    const ingest = await startService('ingest', serviceEnv(prefix, { INGEST_PORT: '0' }), args.servicesIn);
    stops.push(ingest.stop);
    const indexer = await spawnService(
      'indexer',
      serviceEnv(prefix, {
        INDEXER_PORT: '0',
        ...(args.indexerConcurrency ? { INDEXER_CONCURRENCY: String(args.indexerConcurrency) } : {}),
      }),
    );
    stops.push(() => indexer.stop());

    const totalSeconds = params.warmupSeconds + params.durationSeconds;
    const shop = new SyntheticShop(shopOptions);
    const stream = shop.events(Math.ceil(params.backgroundEventsPerSecond * (totalSeconds + 60)));
    const background = { sent: 0, accepted: 0, statuses: {} as Record<string, number>, lateTicks: 0, maxInFlight: 0 };
    const inFlight = new Set<Promise<void>>();
    const sendBatch = (): void => {
      const events: ShopEvent[] = [];
      for (let i = 0; i < params.backgroundBatch; i++) {
        const next = stream.next();
        if (next.done) break;
        events.push(next.value);
      }
      if (events.length === 0) return;
      background.sent += events.length;
      const p = fetch(`${ingest.url}/v1/events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      })
        .then(async (res) => {
          background.statuses[res.status] = (background.statuses[res.status] ?? 0) + 1;
          const body = (await res.json()) as { accepted?: number };
          background.accepted += body.accepted ?? 0;
        })
        .catch((error: unknown) => {
          background.statuses.error = (background.statuses.error ?? 0) + 1;
          progress(`freshness: background batch failed: ${(error as Error).message}`);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      background.maxInFlight = Math.max(background.maxInFlight, inFlight.size);
    };

    const probes: Probe[] = [];
    const probeTasks: Promise<void>[] = [];
    const runProbe = async (probe: Probe): Promise<void> => {
      const userId = `probe-${tag}-${probe.n}`;
      const token = `pq${tag}n${probe.n}`;
      const t0 = performance.now();
      const res = await fetch(`${ingest.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          eventId: `probe-${tag}-${probe.n}`,
          userId,
          type: 'search',
          query: token,
          timestamp: new Date().toISOString(),
        }),
      });
      await res.arrayBuffer();
      if (res.status !== 202) {
        probe.error = `ingest answered ${res.status}`;
        return;
      }
      probe.acceptMs = performance.now() - t0;
      const deadline = t0 + PROBE_DEADLINE_MS;
      while (performance.now() < deadline) {
        if (probe.readableMs === undefined) {
          const r = await fetch(`${query.url}/v1/users/${encodeURIComponent(userId)}/profile`);
          await r.arrayBuffer();
          if (r.status === 200) probe.readableMs = performance.now() - t0;
        }
        if (probe.readableMs !== undefined) {
          const r = await fetch(`${query.url}/v1/profiles/search?q=${token}&size=1`);
          const body = (await r.json()) as { items?: { userId: string }[] };
          if (r.status === 200 && body.items?.[0]?.userId === userId) {
            probe.searchableMs = performance.now() - t0;
            return;
          }
        }
        await sleep(POLL_EVERY_MS);
      }
      probe.error = 'not searchable within the deadline';
    };

    progress(
      `freshness: ${params.backgroundEventsPerSecond} events/s background for ${params.warmupSeconds} s warm-up + ${params.durationSeconds} s with probes`,
    );
    const t0 = performance.now();
    let tick = 0;
    let nextProbeAt = params.warmupSeconds * 1000;
    let cpu0: Awaited<ReturnType<typeof cpuSnapshot>> | undefined;
    let lastReport = 0;
    const queue = createIngestQueue(infra.redis, await namespaceOf(infra, prefix));
    const backlog = { samples: 0, sum: 0, max: 0 };
    let lastSample = 0;
    while (performance.now() - t0 < totalSeconds * 1000) {
      const elapsed = performance.now() - t0;
      sendBatch();
      if (elapsed - lastSample >= 1000) {
        lastSample = elapsed;
        void queue.getJobCounts('wait').then((c) => {
          backlog.samples++;
          backlog.sum += c.wait ?? 0;
          backlog.max = Math.max(backlog.max, c.wait ?? 0);
        });
      }
      tick++;
      if (elapsed >= nextProbeAt) {
        cpu0 ??= await cpuSnapshot(infra, indexer.pid);
        while (nextProbeAt <= elapsed) {
          const probe: Probe = { n: probes.length, sentAtS: round((nextProbeAt - params.warmupSeconds * 1000) / 1000, 1) };
          probes.push(probe);
          probeTasks.push(runProbe(probe).catch((error: unknown) => void (probe.error = (error as Error).message)));
          nextProbeAt += PROBE_EVERY_MS;
        }
      }
      if (elapsed - lastReport > 10_000) {
        lastReport = elapsed;
        const done = probes.filter((p) => p.searchableMs !== undefined).map((p) => p.searchableMs!);
        progress(
          `freshness: ${Math.round(elapsed / 1000)} s, ${background.accepted} background events accepted, ${done.length} probes found, p50 ${summarize(done).p50} ms`,
        );
      }
      const wait = t0 + tick * TICK_MS - performance.now();
      if (wait > 0) await sleep(wait);
      else background.lateTicks++;
    }
    const loadSeconds = (performance.now() - t0) / 1000;
    const cpu = cpu0 ? cpuBetween(cpu0, await cpuSnapshot(infra, indexer.pid), 'indexer') : {};
    await Promise.all(probeTasks);
    await Promise.all([...inFlight]);
    await queue.close();
    const metrics = await scrapeMetrics(indexer.url).catch(() => ({}) as Record<string, number>);

    const searchable = probes.filter((p) => p.searchableMs !== undefined).map((p) => p.searchableMs!);
    const readable = probes.filter((p) => p.readableMs !== undefined).map((p) => p.readableMs!);
    const accept = probes.filter((p) => p.acceptMs !== undefined).map((p) => p.acceptMs!);
    const failures = probes.filter((p) => p.error);
    const searchSummary = summarize(searchable);
    const figures = {
      probes: {
        sent: probes.length,
        found: searchable.length,
        failed: failures.length,
        failures: failures.slice(0, 5).map((p) => p.error),
      },
      ingestToSearchableMs: searchSummary,
      searchableByInterval: byInterval(probes, 10),
      ingestToReadableByIdMs: summarize(readable),
      probeAcceptMs: summarize(accept),
      background: {
        ...background,
        achievedEventsPerSecond: Math.round(background.accepted / loadSeconds),
      },
      queueBacklogJobs: { mean: round(backlog.sum / Math.max(1, backlog.samples), 1), max: backlog.max, samples: backlog.samples },
      indexer: {
        applied: metrics.portrait_indexer_events_applied_total,
        conflicts: metrics.portrait_indexer_write_conflicts_total,
        retries: metrics.portrait_indexer_batch_retries_total,
        meanBatchMs: round(
          (1000 * (metrics.portrait_indexer_batch_seconds_sum ?? 0)) / Math.max(1, metrics.portrait_indexer_batch_seconds_count ?? 0),
        ),
        logs: { warn: indexer.logs.warn, error: indexer.logs.error },
      },
      cpuCoresUsed: cpu,
    };
    // Probes that never became visible count as worst cases, not as absent.
    const penalized = summarize([...searchable, ...failures.map(() => PROBE_DEADLINE_MS)]);
    return finish('freshness', started, machine, params, figures, [
      atMost('ingest-to-searchable p50', penalized.p50, 1500, 'ms'),
      atMost('ingest-to-searchable p95', penalized.p95, 3000, 'ms'),
    ]);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (!args.keep) await cleanup(infra, prefix);
  }
}

/** p50/p95 of searchable latency per window of probe send time, to show drift over the run. */
function byInterval(probes: Probe[], seconds: number): { fromS: number; count: number; p50: number; p95: number; max: number }[] {
  const buckets = new Map<number, number[]>();
  for (const p of probes) {
    if (p.searchableMs === undefined) continue;
    const key = Math.floor(p.sentAtS / seconds) * seconds;
    const list = buckets.get(key);
    if (list) list.push(p.searchableMs);
    else buckets.set(key, [p.searchableMs]);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([fromS, values]) => {
      const s = summarize(values);
      return { fromS, count: s.count, p50: s.p50, p95: s.p95, max: s.max };
    });
}
