import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { indexNames } from '@portrait/shared';
import { bootstrapIndices, createIngestQueue } from '@portrait/runtime';
import {
  namespaceOf,
  atMost,
  checkEvents,
  cleanup,
  cpuBetween,
  cpuSnapshot,
  eventCountTotals,
  finish,
  lanes,
  machineInfo,
  newPrefix,
  procCpuMs,
  procMemoryMb,
  progress,
  round,
  serviceEnv,
  summarize,
  type BenchArgs,
  type BenchResult,
  type Infra,
  type Target,
} from './harness';
import { deadLetterCount } from './indexer';
import { intBetween, mulberry32, pick, type Rng } from './prng';
import { AUDIENCE_SEGMENT, COUNT_SEGMENT } from './segments';
import { scrapeMetrics, spawnService, type ServiceName, type ServiceProcess } from './service-process';
import { SyntheticShop, type ShopEvent, type ShopItem } from './synthetic-shop';

export interface SoakArgs extends BenchArgs {
  /** Length of the load phase [5]; the drain and the checks come after it. */
  minutes?: number;
}

/** The soak is bounded: it refuses to run longer than this. */
export const MAX_SOAK_MINUTES = 240;
const RSS_EVERY_MS = 2000;
/** A second-half RSS slope above this is called out in the notes (not a target: a short run's GC sawtooth is noisy). */
const RSS_SLOPE_NOTE_MB_PER_MIN = 5;
const PROGRESS_EVERY_MS = 10_000;
const SERIES_EVERY_S = 30;
const WARMUP_EVENTS = 10_000;
const SETUP_BATCH = 500;
const DRAIN_DEADLINE_MS = 15 * 60_000;
const BACKFILL_DEADLINE_MS = 5 * 60_000;
const JOB_DEADLINE_MS = 5 * 60_000;
const JOB_POLL_MS = 500;
const PROFILE_POOL_MAX = 20_000;
const ERROR_SAMPLES = 5;
const ACTOR = { 'x-portrait-actor': 'soak' };
const SERVICES: readonly ServiceName[] = ['ingest', 'indexer', 'query', 'jobs'];

/** Buyers who gave e-mail consent: small enough for streamed exports. */
const BUYERS_SEGMENT = {
  and: [{ event: { type: 'purchase', atLeast: 1 } }, { field: 'attributes.consents.email', op: 'eq', value: true }],
};
const SEGMENTS = [
  { segmentId: 'soak-buyers', name: 'Buyers with e-mail consent', definition: BUYERS_SEGMENT },
  { segmentId: 'soak-audience', name: 'Browsed 6+ products', definition: AUDIENCE_SEGMENT },
  { segmentId: 'soak-regions', name: 'Recent buyers, email, four regions', definition: COUNT_SEGMENT },
] as const;
const STREAM_SEGMENT = 'soak-buyers';
const JOB_SEGMENT = 'soak-audience';
const STREAM_CSV = {
  format: 'csv',
  fields: ['userId', 'emailSha256', 'phoneSha256', 'attributes.region', 'interests.topCategories'],
  consent: ['email'],
  hashIdentifiers: true,
  defaultCallingCode: '49',
};
const STREAM_NDJSON = {
  format: 'ndjson',
  fields: ['userId', 'attributes.ageBand', 'purchases.orders', 'purchases.totalSpend', 'lifecycle.stage', 'behavior.lastSeen'],
};
const JOB_EXPORT = {
  format: 'csv',
  fields: ['userId', 'emailSha256', 'attributes.region', 'attributes.ageBand', 'purchases.totalSpend', 'lifecycle.stage'],
  hashIdentifiers: true,
};

/** Every call the soak makes, with its endpoint; the report lists them in this order. */
const ENDPOINTS = {
  'ingest.eventsBatch': 'POST /v1/events/batch',
  'ingest.event': 'POST /v1/events',
  'ingest.attributes': 'PUT /v1/users/:id/attributes',
  'ingest.item': 'PUT /v1/items/:id',
  'ingest.itemsBatch': 'POST /v1/items/batch',
  'query.profile': 'GET /v1/users/:id/profile',
  'query.search': 'GET /v1/profiles/search',
  'segments.create': 'POST /v1/segments',
  'segments.count': 'GET /v1/segments/:id/count',
  'segments.membership': 'GET /v1/segments/:id/membership',
  'exports.streamCsv': 'POST /v1/segments/:id/export (csv)',
  'exports.streamNdjson': 'POST /v1/segments/:id/export (ndjson)',
  'exports.jobCreate': 'POST /v1/segments/:id/exports',
  'exports.jobStatus': 'GET /v1/exports/:id',
  'exports.jobDownload': 'GET /v1/exports/:id/download',
  'exports.jobDelete': 'DELETE /v1/exports/:id',
} as const;
type CallType = keyof typeof ENDPOINTS;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

interface CallStats {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  latencyMs: number[];
  checkFailures: number;
  samples: string[];
}

/** Records every request by call type: status, latency (until the whole body is read), failed checks. */
class CallLog {
  private readonly stats = new Map<CallType, CallStats>();

  /** Once `quiet` aborts (Ctrl-C: the services are going away), failures are still counted but not echoed. */
  constructor(private readonly quiet?: AbortSignal) {}

  private of(type: CallType): CallStats {
    let s = this.stats.get(type);
    if (!s) this.stats.set(type, (s = { requests: 0, errors: 0, statuses: {}, latencyMs: [], checkFailures: 0, samples: [] }));
    return s;
  }

  /** Any non-2xx answer or transport failure is an error; the reply is returned either way (undefined on transport failure). */
  async send(
    type: CallType,
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply | undefined> {
    const s = this.of(type);
    const t0 = performance.now();
    try {
      const res = await fetch(url, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      s.latencyMs.push(performance.now() - t0);
      s.requests++;
      s.statuses[res.status] = (s.statuses[res.status] ?? 0) + 1;
      if (res.status < 200 || res.status > 299) {
        s.errors++;
        this.sample(s, `${method} ${new URL(url).pathname}${new URL(url).search} -> ${res.status} ${text.slice(0, 300)}`);
      }
      return { status: res.status, headers: res.headers, text };
    } catch (error) {
      s.latencyMs.push(performance.now() - t0);
      s.requests++;
      s.errors++;
      s.statuses.network = (s.statuses.network ?? 0) + 1;
      this.sample(s, `${method} ${new URL(url).pathname}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** A 2xx answer whose content is wrong (row counts, duplicates, rejected events, a missing profile field). */
  fail(type: CallType, message: string): void {
    const s = this.of(type);
    s.checkFailures++;
    this.sample(s, `check: ${message}`);
  }

  ok(reply: Reply | undefined): reply is Reply {
    return reply !== undefined && reply.status >= 200 && reply.status <= 299;
  }

  totals(): { requests: number; errors: number; checkFailures: number } {
    let requests = 0;
    let errors = 0;
    let checkFailures = 0;
    for (const s of this.stats.values()) {
      requests += s.requests;
      errors += s.errors;
      checkFailures += s.checkFailures;
    }
    return { requests, errors, checkFailures };
  }

  count(type: CallType): number {
    return this.stats.get(type)?.requests ?? 0;
  }

  report(seconds: number, targets: Partial<Record<CallType, number>> = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const type of Object.keys(ENDPOINTS) as CallType[]) {
      const s = this.stats.get(type);
      if (!s) continue;
      const l = summarize(s.latencyMs);
      out[type] = {
        endpoint: ENDPOINTS[type],
        requests: s.requests,
        perSecond: round(s.requests / seconds),
        ...(targets[type] !== undefined ? { targetPerSecond: round(targets[type], 3) } : {}),
        errors: s.errors,
        errorRate: round(s.errors / Math.max(1, s.requests), 6),
        statuses: s.statuses,
        latencyMs: { p50: l.p50, p95: l.p95, p99: l.p99, max: l.max, mean: l.mean },
        checkFailures: s.checkFailures,
        ...(s.samples.length > 0 ? { samples: s.samples } : {}),
      };
    }
    return out;
  }

  private sample(s: CallStats, message: string): void {
    if (s.samples.length < ERROR_SAMPLES) s.samples.push(message);
    if (s.errors + s.checkFailures <= 3 && !this.quiet?.aborted) progress(`soak: ${message}`);
  }
}

/** What ingest accepted, for the exact-count check at the end. */
interface Accepted {
  events: number;
  /** Every type but user_attributes: what profiles count in behavior.eventCount. */
  behaviour: number;
  byType: Record<string, number>;
  users: Set<string>;
  items: number;
}

interface RssPoint {
  s: number;
  mb: number;
}

/** Least-squares slope of RSS over time, in MB per minute. */
export function slopeMbPerMinute(points: readonly RssPoint[]): number | undefined {
  if (points.length < 3) return undefined;
  const mx = points.reduce((a, p) => a + p.s, 0) / points.length;
  const my = points.reduce((a, p) => a + p.mb, 0) / points.length;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.s - mx) * (p.mb - my);
    sxx += (p.s - mx) ** 2;
  }
  return sxx === 0 ? undefined : round((sxy / sxx) * 60, 3);
}

interface MemoryTrend {
  samples: number;
  firstMb?: number;
  lastMb?: number;
  maxMb?: number;
  slopeMbPerMinSecondHalf?: number;
  slopeMbPerMinWholeRun?: number;
  /**
   * The lowest sample of each half: garbage comes and goes with the collector (a major GC may be minutes
   * apart), what a leak retains raises the floor.
   */
  minFirstHalfMb?: number;
  minSecondHalfMb?: number;
  /** One sample every SERIES_EVERY_S seconds. */
  series: RssPoint[];
}

function thin<T extends { s: number }>(points: readonly T[]): T[] {
  const series: T[] = [];
  for (const p of points) if (series.length === 0 || p.s >= series[series.length - 1]!.s + SERIES_EVERY_S) series.push(p);
  return series;
}

const lowest = (points: readonly RssPoint[]): number | undefined => (points.length > 0 ? Math.min(...points.map((p) => p.mb)) : undefined);

function memoryTrend(points: readonly RssPoint[], loadSeconds: number): MemoryTrend {
  const mbs = points.map((p) => p.mb);
  return {
    samples: points.length,
    firstMb: mbs[0],
    lastMb: mbs[mbs.length - 1],
    maxMb: mbs.length > 0 ? Math.max(...mbs) : undefined,
    slopeMbPerMinSecondHalf: slopeMbPerMinute(points.filter((p) => p.s >= loadSeconds / 2)),
    slopeMbPerMinWholeRun: slopeMbPerMinute(points),
    minFirstHalfMb: lowest(points.filter((p) => p.s < loadSeconds / 2)),
    minSecondHalfMb: lowest(points.filter((p) => p.s >= loadSeconds / 2)),
    series: thin(points),
  };
}

const heapMb = (metrics: Record<string, number> | undefined): number | undefined =>
  metrics?.portrait_nodejs_heap_size_used_bytes === undefined
    ? undefined
    : round(metrics.portrait_nodejs_heap_size_used_bytes / 2 ** 20, 1);

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Sleeps `ms`, returning early (without throwing) when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * `call` on `concurrency` lanes at about `perSecond` in total, until `until` (performance.now()) or the signal.
 * A lane that falls behind goes on at once without catching up, so the achieved rate shows the shortfall.
 */
async function paced(
  { perSecond, lanes: concurrency }: { perSecond: number; lanes: number },
  until: number,
  signal: AbortSignal,
  call: () => Promise<void>,
): Promise<void> {
  const interval = (1000 * concurrency) / perSecond;
  const start = performance.now();
  const next = Array.from({ length: concurrency }, (_, lane) => start + (lane * interval) / concurrency);
  await lanes(concurrency, async (lane) => {
    await pause(Math.min(next[lane]!, until) - performance.now(), signal);
    if (signal.aborted || performance.now() >= until) return false;
    await call();
    next[lane] = Math.max(next[lane]! + interval, performance.now());
    return true;
  });
}

/**
 * Soak: the four services as child processes on their own prefix, and for `--minutes` (5) at once: mixed
 * ingest (event batches and single events from the synthetic shop, attribute updates, item upserts and
 * batches), profile GETs and searches, segment counts after creating the segments, streamed CSV/NDJSON
 * exports and export jobs (create, poll, download, delete). Reports per call type throughput, errors
 * (any non-2xx) with the statuses seen, p50/p95 latency, each service's RSS trend from /proc, and, after
 * the indexer has drained everything ingest accepted, whether the sum of behavior.eventCount equals the
 * behaviour events accepted. Loopback only; the prefix is deleted at the end.
 */
export async function benchSoak(args: SoakArgs, infra: Infra, interrupt?: AbortSignal): Promise<BenchResult> {
  const started = Date.now();
  const minutes = args.minutes ?? (args.duration !== undefined ? args.duration / 60 : 5);
  if (!(minutes > 0 && minutes <= MAX_SOAK_MINUTES)) throw new Error(`--minutes must be in (0, ${MAX_SOAK_MINUTES}], got ${minutes}`);
  for (const url of [infra.esUrl, infra.redisUrl])
    if (!isLoopback(url)) throw new Error(`the soak runs on loopback only; ${url} is not a loopback address`);
  const rate = args.rate ?? 500;
  const batch = args.batch ?? 100;
  // Every single-event request is a job of its own: the indexer holds INDEXER_CONCURRENCY jobs at once, so
  // they, not events, bound its rate; 2 % of the events go singly.
  const singlesPerSecond = Math.max(1, Math.round(rate * 0.02));
  const params = {
    minutes,
    seed: args.seed,
    users: args.users ?? 20_000,
    items: args.items ?? 5_000,
    warmupEvents: WARMUP_EVENTS,
    inlineFactsShare: args.inlineFacts ?? 0.5,
    eventsPerSecond: rate,
    rates: {
      'ingest.eventsBatch': { perSecond: round(Math.max(0.1, (rate - singlesPerSecond) / batch), 2), lanes: 2, eventsPerBatch: batch },
      'ingest.event': { perSecond: singlesPerSecond, lanes: 4 },
      'ingest.attributes': { perSecond: 5, lanes: 1 },
      'ingest.item': { perSecond: 2, lanes: 1 },
      'ingest.itemsBatch': { perSecond: 0.2, lanes: 1, itemsPerBatch: 100 },
      'query.profile': { perSecond: 50, lanes: 4 },
      'query.search': { perSecond: 10, lanes: 2 },
      'segments.count': { perSecond: 5, lanes: 2 },
      'exports.stream': { perSecond: 0.2, lanes: 1, formats: 'csv and ndjson alternately' },
      'exports.job': { perSecond: 1 / 15, lanes: 1, steps: 'create, poll every 500 ms, download, delete' },
    },
  };
  const machine = await machineInfo(infra);
  const prefix = newPrefix('soak');
  const names = indexNames(prefix);
  const exportDir = mkdtempSync(path.join(os.tmpdir(), `portrait-${prefix}-`));
  const shopOptions = {
    seed: params.seed,
    users: params.users,
    items: params.items,
    startMs: started - 3 * 86_400_000,
    endMs: started,
    inlineFactsShare: params.inlineFactsShare,
  };
  progress(
    `soak: prefix ${prefix}, ${minutes} min; validated ${checkEvents(new SyntheticShop(shopOptions).events(1000))} synthetic events against EventSchema`,
  );

  // The soak's own stop: Ctrl-C (from run.ts) or a service process that died.
  const stopLoad = new AbortController();
  const signal = interrupt ? AbortSignal.any([interrupt, stopLoad.signal]) : stopLoad.signal;
  // Every paced lane waits on it at once.
  setMaxListeners(100, signal);
  const services: ServiceProcess[] = [];
  const queue = createIngestQueue(infra.redis, await namespaceOf(infra, prefix));
  const notes: string[] = [];
  try {
    await bootstrapIndices(infra.es, prefix);
    const env = serviceEnv(prefix, {
      INGEST_PORT: '0',
      INDEXER_PORT: '0',
      QUERY_PORT: '0',
      JOBS_PORT: '0',
      INGEST_HOST: '127.0.0.1',
      INDEXER_HOST: '127.0.0.1',
      QUERY_HOST: '127.0.0.1',
      JOBS_HOST: '127.0.0.1',
      EXPORT_DIR: exportDir,
      ...(args.indexerConcurrency ? { INDEXER_CONCURRENCY: String(args.indexerConcurrency) } : {}),
    });
    // Pushed as each comes up, so a failed start still stops the others.
    await Promise.all(SERVICES.map(async (name) => services.push(await spawnService(name, env))));
    services.sort((a, b) => SERVICES.indexOf(a.name) - SERVICES.indexOf(b.name));
    const service = (name: ServiceName): ServiceProcess => services.find((s) => s.name === name)!;
    const [ingest, indexer, query] = [service('ingest'), service('indexer'), service('query')];
    for (const s of services) if (!isLoopback(s.url)) throw new Error(`${s.name} listens on ${s.url}, not on loopback`);

    const shop = new SyntheticShop(shopOptions);
    const catalogue = [...shop.items()];
    const loadMs = minutes * 60_000;
    const stream = shop.events(Math.ceil(WARMUP_EVENTS + (rate * loadMs * 2) / 1000));
    const accepted: Accepted = { events: 0, behaviour: 0, byType: {}, users: new Set(), items: 0 };
    const ingestAnomalies = { duplicate: 0, rejected: 0 };
    const count = (type: string, userId: string): void => {
      accepted.events++;
      accepted.byType[type] = (accepted.byType[type] ?? 0) + 1;
      if (type !== 'user_attributes') accepted.behaviour++;
      accepted.users.add(userId);
    };
    const take = (n: number): ShopEvent[] => {
      const out: ShopEvent[] = [];
      for (let i = 0; i < n; i++) {
        const next = stream.next();
        if (next.done) break;
        out.push(next.value);
      }
      return out;
    };

    // Calls outside the measured phase (catalogue, warm-up, final checks) are kept apart from it.
    const setupLog = new CallLog(signal);
    const log = new CallLog(signal);
    const sendBatch = async (l: CallLog, events: ShopEvent[]): Promise<void> => {
      if (events.length === 0) return;
      const reply = await l.send('ingest.eventsBatch', 'POST', `${ingest.url}/v1/events/batch`, { events });
      if (!l.ok(reply)) return;
      const body = JSON.parse(reply.text) as { results: { index: number; status: string; issues?: unknown }[] };
      for (const r of body.results) {
        const event = events[r.index]!;
        if (r.status === 'accepted') count(event.type, event.userId);
        else {
          ingestAnomalies[r.status === 'duplicate' ? 'duplicate' : 'rejected']++;
          l.fail('ingest.eventsBatch', `event ${event.eventId} ${r.status} ${JSON.stringify(r.issues ?? '')}`);
        }
      }
    };
    const sendItems = async (l: CallLog, items: ShopItem[]): Promise<void> => {
      const reply = await l.send('ingest.itemsBatch', 'POST', `${ingest.url}/v1/items/batch`, { items });
      if (!l.ok(reply)) return;
      const body = JSON.parse(reply.text) as { accepted: number; rejected: number };
      accepted.items += body.accepted;
      if (body.rejected > 0) l.fail('ingest.itemsBatch', `${body.rejected} of ${items.length} items rejected: ${reply.text.slice(0, 300)}`);
    };

    // Catalogue and a first slice of events, drained, so reads, counts and exports have profiles to find.
    for (let i = 0; i < catalogue.length; i += 1000) await sendItems(setupLog, catalogue.slice(i, i + 1000));
    for (let sent = 0; sent < WARMUP_EVENTS; sent += SETUP_BATCH) await sendBatch(setupLog, take(SETUP_BATCH));
    const warmupDrain = await drain(queue, DRAIN_DEADLINE_MS, signal, 'warm-up');
    if (interrupt?.aborted) throw new Error('soak interrupted');
    if (!warmupDrain.drained) throw new Error(`the warm-up events were not indexed within ${DRAIN_DEADLINE_MS / 60_000} min`);
    await infra.es.indices.refresh({ index: names.profiles });
    const warmupEvents = accepted.events;
    progress(`soak: warm-up done, ${accepted.events} events and ${accepted.items} items accepted, ${accepted.users.size} users`);

    // RSS of each service every few seconds, from /proc; a service that is gone stops the load.
    const rss = new Map<ServiceName, RssPoint[]>(SERVICES.map((n) => [n, []]));
    // V8 heap in use, from each service's /metrics: RSS rarely shrinks, a retained leak shows here too.
    const heap = new Map<ServiceName, RssPoint[]>(SERVICES.map((n) => [n, []]));
    const backlog: { s: number; waiting: number; delayed: number }[] = [];
    const loadAverage = { atStart: os.loadavg().map((l) => round(l)), atEndOfLoad: [] as number[] };
    const cpuStart = new Map(services.map((s) => [s.name, procCpuMs(s.pid)]));
    const cpu0 = await cpuSnapshot(infra);
    const rng: Rng = mulberry32(args.seed + 1);
    const pool: string[] = [];
    const inPool = new Set<string>();
    const segmentIds: string[] = [];
    const exportTotals = { streamRows: 0, jobs: 0, jobRows: 0, jobSeconds: [] as number[], jobEndToEndSeconds: [] as number[] };
    const t0 = performance.now();
    const until = t0 + loadMs;
    const elapsedS = (): number => (performance.now() - t0) / 1000;

    const sampler = (async () => {
      let lastProgress = Number.NEGATIVE_INFINITY;
      while (!signal.aborted && performance.now() < until) {
        for (const s of services) {
          const mem = procMemoryMb(s.pid);
          if (!mem) {
            notes.push(`${s.name} (pid ${s.pid}) exited during the soak at ${round(elapsedS(), 1)} s`);
            stopLoad.abort();
            return;
          }
          rss.get(s.name)!.push({ s: round(elapsedS(), 1), mb: mem.rss });
        }
        await Promise.all(
          services.map(async (s) => {
            const mb = heapMb(await scrapeMetrics(s.url).catch(() => undefined));
            if (mb !== undefined) heap.get(s.name)!.push({ s: round(elapsedS(), 1), mb });
          }),
        );
        if (performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = performance.now();
          const at = round(elapsedS(), 1);
          const c = await queue.getJobCounts('wait', 'active', 'delayed');
          backlog.push({ s: at, waiting: c.wait ?? 0, delayed: c.delayed ?? 0 });
          const t = log.totals();
          progress(
            `soak: ${Math.round(elapsedS())}/${Math.round(loadMs / 1000)} s; ${t.requests} requests, ${t.errors} errors, ${t.checkFailures} failed checks; ` +
              `${accepted.events} events accepted; queue ${c.wait} waiting, ${c.delayed} delayed; ` +
              `profile ${log.count('query.profile')}, search ${log.count('query.search')}, count ${log.count('segments.count')}, ` +
              `streams ${log.count('exports.streamCsv') + log.count('exports.streamNdjson')}, jobs ${exportTotals.jobs}; ` +
              `RSS ${services.map((s) => `${s.name} ${rss.get(s.name)!.at(-1)?.mb} MB (heap ${heap.get(s.name)!.at(-1)?.mb})`).join(', ')}`,
          );
        }
        await pause(RSS_EVERY_MS, signal);
      }
    })();

    // Segments first: counts and exports need them.
    for (const segment of SEGMENTS) {
      const reply = await log.send('segments.create', 'POST', `${query.url}/v1/segments`, segment);
      if (log.ok(reply)) segmentIds.push(segment.segmentId);
    }
    if (segmentIds.length !== SEGMENTS.length) throw new Error('could not create the soak segments; see the samples above');

    const searches = searchVariants(started);
    let searchTurn = 0;
    let streamTurn = 0;
    let countTurn = 0;
    const addToPool = (userId: string): void => {
      if (pool.length >= PROFILE_POOL_MAX || inPool.has(userId)) return;
      inPool.add(userId);
      pool.push(userId);
    };
    const r = params.rates;
    // A lane never dies of an answer it did not expect: that is a failed check of its call type.
    const run = (type: CallType, rate: { perSecond: number; lanes: number }, call: () => Promise<void>): Promise<void> =>
      paced(rate, until, signal, () => call().catch((error: unknown) => log.fail(type, `unexpected: ${(error as Error).message}`)));
    const load = [
      run('ingest.eventsBatch', r['ingest.eventsBatch'], () => sendBatch(log, take(batch))),
      run('ingest.event', r['ingest.event'], async () => {
        const [event] = take(1);
        if (!event) return;
        const reply = await log.send('ingest.event', 'POST', `${ingest.url}/v1/events`, event);
        if (!log.ok(reply)) return;
        const body = JSON.parse(reply.text) as { status: string };
        if (body.status === 'accepted') count(event.type, event.userId);
        else {
          ingestAnomalies.duplicate++;
          log.fail('ingest.event', `event ${event.eventId} answered ${reply.status} ${reply.text.slice(0, 200)}`);
        }
      }),
      run('ingest.attributes', r['ingest.attributes'], async () => {
        const user = intBetween(rng, 0, params.users - 1);
        const attributes = {
          ...shop.attributes(user),
          consents: { email: rng() < 0.6, sms: rng() < 0.2, push: rng() < 0.4, ads: rng() < 0.4, personalization: rng() < 0.7 },
        };
        const userId = shop.userId(user);
        const reply = await log.send('ingest.attributes', 'PUT', `${ingest.url}/v1/users/${userId}/attributes`, { attributes });
        if (!log.ok(reply)) return;
        if ((JSON.parse(reply.text) as { status: string }).status === 'accepted') count('user_attributes', userId);
        else log.fail('ingest.attributes', `attribute update of ${userId} answered ${reply.text.slice(0, 200)}`);
      }),
      run('ingest.item', r['ingest.item'], async () => {
        const { itemId, ...item } = repriced(pick(rng, catalogue), rng);
        const reply = await log.send('ingest.item', 'PUT', `${ingest.url}/v1/items/${itemId}`, item);
        if (log.ok(reply)) accepted.items++;
      }),
      run('ingest.itemsBatch', r['ingest.itemsBatch'], () =>
        sendItems(
          log,
          Array.from({ length: r['ingest.itemsBatch'].itemsPerBatch }, () => repriced(pick(rng, catalogue), rng)),
        ),
      ),
      run('query.profile', r['query.profile'], async () => {
        // Only users a search has returned: their profile exists, so anything but 200 is wrong.
        if (pool.length === 0) return;
        const userId = pool[Math.floor(rng() * pool.length)]!;
        const reply = await log.send('query.profile', 'GET', `${query.url}/v1/users/${userId}/profile`);
        if (!log.ok(reply)) return;
        const body = JSON.parse(reply.text) as { userId?: string; behavior?: { eventCount?: number }; state?: unknown; contact?: unknown };
        if (body.userId !== userId) log.fail('query.profile', `profile of ${userId} came back as ${body.userId}`);
        if (body.state !== undefined || body.contact !== undefined)
          log.fail('query.profile', `profile of ${userId} exposes state or contact`);
      }),
      run('query.search', r['query.search'], async () => {
        const variant = searches[searchTurn++ % searches.length]!;
        let cursor: string | undefined;
        for (let page = 0; page < (variant.pages ?? 1); page++) {
          const qs = new URLSearchParams({ ...variant.params, ...(cursor ? { cursor } : {}) });
          const reply = await log.send('query.search', 'GET', `${query.url}/v1/profiles/search?${qs}`);
          if (!log.ok(reply)) return;
          const body = JSON.parse(reply.text) as { total: number; items: { userId: string }[]; nextCursor?: string };
          const size = Number(variant.params.size ?? 20);
          if (!Array.isArray(body.items) || body.items.length > size || typeof body.total !== 'number')
            log.fail('query.search', `search ${qs} answered ${reply.text.slice(0, 200)}`);
          for (const item of body.items ?? []) addToPool(item.userId);
          cursor = body.nextCursor;
          if (!cursor) break;
        }
      }),
      run('segments.count', r['segments.count'], async () => {
        const segmentId = segmentIds[countTurn++ % segmentIds.length]!;
        const reply = await log.send('segments.count', 'GET', `${query.url}/v1/segments/${segmentId}/count`);
        if (log.ok(reply) && typeof (JSON.parse(reply.text) as { count?: unknown }).count !== 'number')
          log.fail('segments.count', `count of ${segmentId} answered ${reply.text.slice(0, 200)}`);
      }),
      run('exports.streamCsv', r['exports.stream'], async () => {
        const csv = streamTurn++ % 2 === 0;
        const type = csv ? 'exports.streamCsv' : 'exports.streamNdjson';
        const reply = await log.send(
          type,
          'POST',
          `${query.url}/v1/segments/${STREAM_SEGMENT}/export`,
          csv ? STREAM_CSV : STREAM_NDJSON,
          ACTOR,
        );
        if (!log.ok(reply)) return;
        const rows = Number(reply.headers.get('x-portrait-row-count'));
        const lines = reply.text.split('\n');
        if (lines.pop() !== '') log.fail(type, 'the export does not end with a newline (truncated?)');
        const got = csv ? lines.length - 1 : lines.length;
        if (got !== rows) log.fail(type, `${got} rows streamed, x-portrait-row-count says ${rows}`);
        if (!csv && lines.length > 0 && !('userId' in (JSON.parse(lines[0]!) as object))) log.fail(type, `first row ${lines[0]}`);
        exportTotals.streamRows += got;
      }),
      run('exports.jobCreate', r['exports.job'], async () => {
        const sent = performance.now();
        const created = await log.send('exports.jobCreate', 'POST', `${query.url}/v1/segments/${JOB_SEGMENT}/exports`, JOB_EXPORT, ACTOR);
        if (!log.ok(created)) return;
        const { exportId } = JSON.parse(created.text) as { exportId: string };
        let record: { status: string; rows: number; total?: number; startedAt?: string; finishedAt?: string; error?: string } | undefined;
        const deadline = performance.now() + JOB_DEADLINE_MS;
        while (performance.now() < deadline && !signal.aborted) {
          const reply = await log.send('exports.jobStatus', 'GET', `${query.url}/v1/exports/${exportId}`);
          if (log.ok(reply)) {
            record = JSON.parse(reply.text) as NonNullable<typeof record>;
            if (record.status !== 'queued' && record.status !== 'running') break;
          }
          await pause(JOB_POLL_MS, signal);
        }
        if (signal.aborted) return;
        if (record?.status !== 'completed') {
          log.fail('exports.jobStatus', `export ${exportId} ended ${record?.status ?? 'unknown'} ${record?.error ?? ''}`);
          return;
        }
        exportTotals.jobEndToEndSeconds.push((performance.now() - sent) / 1000);
        if (record.startedAt && record.finishedAt)
          exportTotals.jobSeconds.push((Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000);
        const file = await log.send('exports.jobDownload', 'GET', `${query.url}/v1/exports/${exportId}/download`, undefined, ACTOR);
        if (log.ok(file)) {
          const lines = file.text.split('\n').length - 2;
          if (lines !== record.rows || record.rows !== record.total)
            log.fail('exports.jobDownload', `export ${exportId}: file ${lines} rows, record ${record.rows} rows of ${record.total}`);
          exportTotals.jobs++;
          exportTotals.jobRows += lines;
        }
        const removed = await log.send('exports.jobDelete', 'DELETE', `${query.url}/v1/exports/${exportId}`, undefined, ACTOR);
        if (log.ok(removed) && (JSON.parse(removed.text) as { status?: string }).status !== 'deleted')
          log.fail('exports.jobDelete', `deleting ${exportId} answered ${removed.text.slice(0, 200)}`);
      }),
    ];
    await Promise.all(load);
    const loadSeconds = elapsedS();
    await sampler;
    loadAverage.atEndOfLoad = os.loadavg().map((l) => round(l));
    const cpu = cpuBetween(cpu0, await cpuSnapshot(infra));
    for (const s of services) {
      const a = cpuStart.get(s.name);
      const b = procCpuMs(s.pid);
      if (a !== undefined && b !== undefined) cpu[s.name] = round((b - a) / (loadSeconds * 1000), 2);
    }
    if (interrupt?.aborted) throw new Error('soak interrupted');
    if (stopLoad.signal.aborted) throw new Error(`the soak stopped early: ${notes.join('; ')}`);
    const totals = log.totals();
    progress(`soak: load done after ${round(loadSeconds, 1)} s: ${totals.requests} requests, ${totals.errors} errors; draining`);

    // Exact counts: once the indexer has applied every accepted batch, every behaviour event is counted once.
    const final = await drain(queue, DRAIN_DEADLINE_MS, signal, 'final');
    if (interrupt?.aborted) throw new Error('soak interrupted');
    const { profiles, eventCountSum } = await eventCountTotals(infra, names.profiles);
    const deadLetters = await deadLetterCount(infra, prefix);
    const metrics = await scrapeMetrics(indexer.url).catch(() => ({}) as Record<string, number>);
    const afterDrain = Object.fromEntries(services.map((s) => [s.name, procMemoryMb(s.pid)]));
    const heapAfterDrain = Object.fromEntries(
      await Promise.all(services.map(async (s) => [s.name, heapMb(await scrapeMetrics(s.url).catch(() => undefined))] as const)),
    );

    // Materialized membership after the drain (informational): backfills done, then tagged = live count.
    const segments: Record<string, unknown>[] = [];
    for (const segmentId of segmentIds) {
      const deadline = performance.now() + BACKFILL_DEADLINE_MS;
      let status: { materialized?: number; backfill?: { state?: string } | null } = {};
      while (performance.now() < deadline && !signal.aborted) {
        const reply = await setupLog.send('segments.membership', 'GET', `${query.url}/v1/segments/${segmentId}/membership`);
        if (setupLog.ok(reply)) status = JSON.parse(reply.text) as typeof status;
        if (status.backfill?.state === 'completed' || status.backfill?.state === 'failed') break;
        await pause(1000, signal);
      }
      const live = await setupLog.send('segments.count', 'GET', `${query.url}/v1/segments/${segmentId}/count`);
      const liveCount = setupLog.ok(live) ? (JSON.parse(live.text) as { count: number }).count : undefined;
      segments.push({ segmentId, live: liveCount, materialized: status.materialized, backfill: status.backfill?.state });
      if (liveCount !== status.materialized)
        notes.push(`segment ${segmentId}: ${status.materialized} materialized, live count ${liveCount}`);
    }

    const exactCounts = {
      behaviourEventsAccepted: accepted.behaviour,
      eventCountSum,
      usersWithAcceptedEvents: accepted.users.size,
      profiles,
      equal: eventCountSum === accepted.behaviour && profiles === accepted.users.size,
    };
    const loadTotals = log.totals();
    const setupTotals = setupLog.totals();
    const rssFigures = Object.fromEntries(
      services.map((s) => [
        s.name,
        {
          pid: s.pid,
          ...memoryTrend(rss.get(s.name)!, loadSeconds),
          vmHwmMb: afterDrain[s.name]?.peak,
          afterDrainMb: afterDrain[s.name]?.rss,
          heapUsed: { ...memoryTrend(heap.get(s.name)!, loadSeconds), afterDrainMb: heapAfterDrain[s.name] },
        },
      ]),
    );
    const figures = {
      prefix,
      loadSeconds: round(loadSeconds, 1),
      calls: log.report(loadSeconds, {
        'ingest.eventsBatch': r['ingest.eventsBatch'].perSecond,
        'ingest.event': r['ingest.event'].perSecond,
        'ingest.attributes': r['ingest.attributes'].perSecond,
        'ingest.item': r['ingest.item'].perSecond,
        'ingest.itemsBatch': r['ingest.itemsBatch'].perSecond,
        'query.profile': r['query.profile'].perSecond,
        'query.search': r['query.search'].perSecond,
        'segments.count': r['segments.count'].perSecond,
        'exports.streamCsv': r['exports.stream'].perSecond / 2,
        'exports.streamNdjson': r['exports.stream'].perSecond / 2,
        'exports.jobCreate': r['exports.job'].perSecond,
      }),
      totals: { ...loadTotals, errorRate: round(loadTotals.errors / Math.max(1, loadTotals.requests), 6) },
      ingest: {
        eventsAccepted: accepted.events,
        behaviourEventsAccepted: accepted.behaviour,
        acceptedByType: accepted.byType,
        eventsPerSecondDuringLoad: round((accepted.events - warmupEvents) / loadSeconds),
        itemsAccepted: accepted.items,
        duplicates: ingestAnomalies.duplicate,
        rejected: ingestAnomalies.rejected,
      },
      exports: {
        streamedRows: exportTotals.streamRows,
        jobsCompleted: exportTotals.jobs,
        jobRows: exportTotals.jobRows,
        jobSeconds: summarize(exportTotals.jobSeconds),
        jobEndToEndSeconds: summarize(exportTotals.jobEndToEndSeconds),
      },
      rss: rssFigures,
      ingestQueue: {
        maxWaiting: Math.max(0, ...backlog.map((b) => b.waiting)),
        waitingAtEndOfLoad: backlog.at(-1)?.waiting,
        series: thin(backlog),
      },
      loadAverage,
      cpuCoresUsed: cpu,
      drain: {
        seconds: round(final.seconds, 1),
        drained: final.drained,
        jobCounts: final.counts,
        deadLetters,
        indexer: {
          applied: metrics.portrait_indexer_events_applied_total,
          duplicates: metrics.portrait_indexer_events_duplicate_total,
          conflicts: metrics.portrait_indexer_write_conflicts_total,
          retries: metrics.portrait_indexer_batch_retries_total,
          deadLettered: metrics.portrait_indexer_dead_lettered_total,
        },
      },
      exactCounts,
      segments,
      setupAndChecks: { ...setupTotals, calls: setupLog.report(Math.max(1, (Date.now() - started) / 1000 - loadSeconds)) },
      serviceLogs: Object.fromEntries(services.map((s) => [s.name, s.logs])),
    };
    const maxSlope = Math.max(...Object.values(rssFigures).map((f) => f.slopeMbPerMinSecondHalf ?? 0));
    for (const [name, f] of Object.entries(rssFigures))
      if ((f.slopeMbPerMinSecondHalf ?? 0) > RSS_SLOPE_NOTE_MB_PER_MIN)
        notes.push(
          `${name} RSS rose ${f.slopeMbPerMinSecondHalf} MB/min over the second half (${f.firstMb} -> ${f.lastMb} MB, ${f.afterDrainMb} MB after the drain); ` +
            `heap used ${f.heapUsed.firstMb} -> ${f.heapUsed.lastMb} MB (${f.heapUsed.afterDrainMb} MB after the drain), lowest ${f.heapUsed.minFirstHalfMb} MB in the first half, ${f.heapUsed.minSecondHalfMb} MB in the second`,
        );
    const targets: Target[] = [
      atMost('non-2xx or failed requests (valid requests only)', loadTotals.errors + setupTotals.errors, 0, 'requests'),
      atMost('answers that failed their checks', loadTotals.checkFailures + setupTotals.checkFailures, 0, 'answers'),
      {
        name: 'sum of behavior.eventCount equals behaviour events accepted',
        target: `= ${accepted.behaviour}`,
        actual: eventCountSum,
        unit: 'events',
        met: eventCountSum === accepted.behaviour && final.drained,
      },
      {
        name: 'profiles equal users with accepted events',
        target: `= ${accepted.users.size}`,
        actual: profiles,
        unit: 'profiles',
        met: profiles === accepted.users.size,
      },
      atMost('dead-lettered batches', deadLetters, 0, 'batches'),
    ];
    progress(
      `soak: drained in ${round(final.seconds, 1)} s; eventCount sum ${eventCountSum} vs ${accepted.behaviour} accepted; ` +
        `largest RSS slope over the second half ${maxSlope} MB/min`,
    );
    return finish('soak', started, machine, params, figures, targets, notes);
  } finally {
    stopLoad.abort();
    await Promise.all(services.map((s) => s.stop(interrupt?.aborted ? 15_000 : 90_000).catch(() => undefined)));
    await queue.close().catch(() => undefined);
    if (!args.keep) {
      await cleanup(infra, prefix).catch((error: unknown) =>
        progress(`soak: cleanup of ${prefix} failed (${(error as Error).message}); run: npx tsx bench/run.ts cleanup --prefix ${prefix}`),
      );
      progress(`soak: deleted indices and Redis keys of ${prefix}`);
    } else progress(`soak: kept prefix ${prefix} (delete with: npx tsx bench/run.ts cleanup --prefix ${prefix})`);
    rmSync(exportDir, { recursive: true, force: true });
  }
}

type IngestQueue = ReturnType<typeof createIngestQueue>;

/** Waits until the ingest queue holds no batch that is waiting, running or due for a retry. */
async function drain(
  queue: IngestQueue,
  deadlineMs: number,
  signal: AbortSignal,
  label: string,
): Promise<{ drained: boolean; seconds: number; counts: Record<string, number> }> {
  const t0 = performance.now();
  let last = t0;
  for (;;) {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'failed');
    const outstanding = sum(['wait', 'active', 'delayed', 'prioritized'].map((k) => counts[k] ?? 0));
    const seconds = (performance.now() - t0) / 1000;
    if (outstanding === 0) return { drained: true, seconds, counts };
    if (signal.aborted || performance.now() - t0 > deadlineMs) return { drained: false, seconds, counts };
    if (performance.now() - last >= PROGRESS_EVERY_MS) {
      last = performance.now();
      progress(`soak: ${label} drain, ${outstanding} batches outstanding (${counts.active} active, ${counts.delayed} delayed)`);
    }
    await pause(250, signal);
  }
}

interface SearchVariant {
  params: Record<string, string>;
  /** Pages to follow with nextCursor. */
  pages?: number;
}

/** Valid searches over what the synthetic shop produces: free text, filters, facets, sorts, cursor paging. */
function searchVariants(nowMs: number): SearchVariant[] {
  return [
    { params: { q: 'berlin' } },
    { params: { q: 'sneakers', facets: 'category,gender' } },
    { params: { region: 'Bayern,Berlin', facets: 'gender,ageBand', size: '10' } },
    { params: { lifecycle: 'active', sort: '-lastSeen', size: '50' }, pages: 3 },
    { params: { minOrders: '1', sort: '-totalSpend' } },
    { params: { consent: 'email', gender: 'female', facets: 'region,category,lifecycle' } },
    { params: { segment: JOB_SEGMENT, facets: 'segment' } },
    { params: { category: 'Electronics', minSpend: '50', sort: '-orders', page: '2', size: '25' } },
    { params: { lastSeenAfter: new Date(nowMs - 2 * 86_400_000).toISOString(), sort: '-eventCount', size: '100' }, pages: 2 },
    { params: { sort: '-updatedAt', size: '100' } },
  ];
}

/** A catalogue item as the shop would re-send it: new price and stock, stamped now. */
function repriced(item: ShopItem, rng: Rng): ShopItem {
  return {
    ...item,
    price: Math.max(0.49, Math.round(item.price * (0.9 + 0.2 * rng()) * 100) / 100),
    inStock: rng() < 0.94,
    updatedAt: new Date().toISOString(),
  };
}
