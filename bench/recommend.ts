import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Queue } from 'bullmq';
import {
  checkItem,
  DEFAULT_PROFILE_OPTIONS,
  deriveProfile,
  foldEvents,
  indexNames,
  itemDocument,
  STRATEGIES,
  toEventDoc,
  queueNames,
  toQueued,
  type Strategy,
} from '@portrait/shared';
import { bootstrapIndices, bullPrefix, type estypes } from '@portrait/runtime';
import {
  atMost,
  cleanup,
  cpuBetween,
  cpuSnapshot,
  finish,
  machineInfo,
  namespaceOf,
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
import { geometric, hashSeed, mulberry32, pick } from './prng';
import { startService, type RunningService } from './service-process';
import { ROOT_CATEGORIES } from './shop-data';
import { SyntheticShop } from './synthetic-shop';

const DAY = 86_400_000;
const HISTORY_DAYS = 60;
/** Extra sessions per user beyond the first: geometric with this success rate (mean 0.43), about 8 events per user. */
const EXTRA_SESSION_P = 0.7;
const USERS_PER_BULK = 250;
const ITEMS_PER_BULK = 2000;
const LOAD_LANES = 3;
const WARMUP_REQUESTS = 100;
const PROFILE_SAMPLE = 1000;
const MEMORY_SAMPLE_MS = 250;
const POLL_MS = 250;
/** How long Elasticsearch's CPU is watched before the requests, to tell other clients' load from ours. */
const IDLE_SAMPLE_MS = 5000;
const P95_TARGET_MS = 50;
/** The order the strategies are measured in: the blend first, as a storefront asks for it. */
const MEASURED: readonly Strategy[] = ['hybrid', 'item_cf', 'als', 'content', 'user_cf', 'popular'];

interface RecommendationRequest {
  userId: string;
  maxPrice?: number;
  category?: string;
}

/**
 * Recommendations over a synthetic shop, with the jobs process and the query service as child processes. A fresh
 * prefix holds the catalogue (written straight to the items index), each user's sessions (written straight to the
 * monthly event indices) and the profiles the shared fold makes of them, streamed per user batch. Then:
 *  - jobs: the content model trained and promoted through the query API and every item vectorized, then the
 *    collaborative model; wall time, the model's own training time and the jobs process's peak RSS of each, and
 *    the collaborative model's held-out quality against popularity;
 *  - latency: `GET /v1/users/:id/recommendations` per strategy for seeded random users, one request at a time,
 *    with in-stock implied, half of them under the median price, a quarter in a root category; and the bare kNN
 *    query over content vectors sent straight to Elasticsearch as the baseline;
 *  - the size of a profile's `_source`, which now carries the user's item traces.
 */
export async function benchRecommend(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const prefix = newPrefix('recommend');
  const items = args.items ?? 50_000;
  const users = args.users ?? 200_000;
  const requests = args.requests ?? 300;
  const params = { items, users, requests, seed: args.seed, warmupRequests: WARMUP_REQUESTS, historyDays: HISTORY_DAYS, k: 10 };
  const machine = await machineInfo(infra);
  const names = indexNames(prefix);
  const services: RunningService[] = [];
  const figures: Record<string, unknown> = { prefix };
  const targets: Target[] = [];
  const notes: string[] = [];
  try {
    progress(`recommend: prefix ${prefix}, ${items} items, ${users} users`);
    await bootstrapIndices(infra.es, prefix);
    // Started before the load: the jobs process queues the training of every kind as it starts (the retrain
    // scheduler's first run), which finds nothing to train on yet, so the trainings measured below run alone.
    const env = serviceEnv(prefix, { QUERY_PORT: '0', JOBS_PORT: '0' });
    const jobs = await startService('jobs', env, 'child');
    services.push(jobs);
    const query = await startService('query', env, 'child');
    services.push(query);
    figures.startupTrainingsSeconds = round((await modelsQueueIdle(infra, prefix)) / 1000, 1);
    figures.jobsRssIdleMb = procMemoryMb(jobs.pid!)?.rss;

    const now = Date.now();
    const shop = new SyntheticShop({ seed: args.seed, users, items, startMs: now - HISTORY_DAYS * DAY, endMs: now - 60_000 });
    const catalogue = await loadCatalogue(infra, names.items, shop);
    const history = await loadHistory(infra, prefix, shop, now);
    figures.load = {
      items: catalogue.items,
      inStock: catalogue.inStock,
      ...history,
      seconds: round(catalogue.seconds + history.seconds, 1),
    };

    const content = await train(query.url, 'content', jobs.pid!, async (version) => {
      const pending: estypes.QueryDslQueryContainer = { bool: { must_not: [{ term: { contentModel: version } }] } };
      let last = Date.now();
      for (;;) {
        await infra.es.indices.refresh({ index: names.items });
        const left = (await infra.es.count({ index: names.items, query: pending })).count;
        if (left === 0) return;
        if (Date.now() - last > 10_000) {
          last = Date.now();
          progress(`content: ${left} items still without a v${version} vector`);
        }
        await sleep(POLL_MS);
      }
    });
    figures.content = content;
    const collaborative = await train(query.url, 'collaborative', jobs.pid!);
    figures.collaborative = collaborative;
    for (const [kind, result] of Object.entries({ content, collaborative }))
      if (result.failed) notes.push(`${kind} training failed, the strategies it serves answer 409: ${result.failed}`);
    const models = (await api(query.url, 'GET', '/v1/models')) as { models: { modelId: string; status: string }[] };
    figures.modelsStored = models.models.map((m) => `${m.modelId} ${m.status}`);

    // The same requests for every strategy, so they are compared on the same users and filters.
    const medianPrice = Math.round(catalogue.medianPrice);
    const roots = ROOT_CATEGORIES.map((r) => r.name);
    const draw = (stream: number, n: number): RecommendationRequest[] => {
      const rng = mulberry32(hashSeed(args.seed, 21, stream));
      return Array.from({ length: n }, () => ({
        userId: shop.userId(Math.floor(rng() * users)),
        ...(rng() < 0.5 ? { maxPrice: medianPrice } : {}),
        ...(rng() < 0.25 ? { category: pick(rng, roots) } : {}),
      }));
    };
    const warmup = draw(1, WARMUP_REQUESTS);
    // Each strategy its own shoppers: one measured after another on the same ones would find their documents warm.
    const measuredBy = new Map(MEASURED.map((strategy, i) => [strategy, draw(2 + i, requests)]));
    const all = [...measuredBy.values()].flat();
    figures.requestMix = {
      medianPrice,
      perStrategy: requests,
      withMaxPrice: round(all.filter((r) => r.maxPrice !== undefined).length / all.length, 3),
      withCategory: round(all.filter((r) => r.category !== undefined).length / all.length, 3),
    };

    // Elasticsearch and the machine may be shared: their load colours every latency below.
    figures.loadAverageAtLatencyStart = os.loadavg().map((l) => round(l, 2));
    const idle0 = await cpuSnapshot(infra);
    await sleep(IDLE_SAMPLE_MS);
    figures.elasticsearchCoresBusyBeforeRequests = cpuBetween(idle0, await cpuSnapshot(infra)).elasticsearch;
    // Without content vectors there is no kNN to compare with.
    const baseline = content.failed ? undefined : await bareKnn(infra, names.items, items, requests, args.seed);
    figures.bareKnn = baseline ?? 'not measured: no content model';
    if (baseline) progress(`bare kNN: p50 ${baseline.latencyMs.p50} ms, p95 ${baseline.latencyMs.p95} ms`);

    // Every strategy warms up before any is measured: right after the jobs, Elasticsearch's search path is cold
    // (JIT, caches), and the strategy measured first would pay for it alone.
    for (const strategy of MEASURED) for (const r of warmup) await recommend(query.url, strategy, r);
    progress(`recommend: warmed up with ${warmup.length} requests per strategy`);
    const strategies: Record<string, unknown> = {};
    for (const strategy of MEASURED) {
      const latencies: number[] = [];
      const statuses: Record<string, number> = {};
      let returned = 0;
      let empty = 0;
      let violations = 0;
      let failure: string | undefined;
      const cpu0 = await cpuSnapshot(infra, query.pid);
      for (const r of measuredBy.get(strategy)!) {
        const t0 = performance.now();
        const answer = await recommend(query.url, strategy, r);
        latencies.push(performance.now() - t0);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status !== 200) {
          failure ??= JSON.stringify(answer.body).slice(0, 300);
          continue;
        }
        const got = answer.body.items ?? [];
        returned += got.length;
        if (got.length === 0) empty++;
        for (const item of got)
          if ((r.maxPrice !== undefined && item.price > r.maxPrice) || (r.category !== undefined && item.category[0] !== r.category))
            violations++;
      }
      const cpu1 = await cpuSnapshot(infra, query.pid);
      const latencyMs = summarize(latencies);
      const ok = statuses['200'] ?? 0;
      const perRequest = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : round((b - a) / requests, 1));
      strategies[strategy] = {
        latencyMs,
        ...(baseline ? { p95OverBareKnn: round(latencyMs.p95 / baseline.latencyMs.p95, 1) } : {}),
        statuses,
        meanItems: round(returned / Math.max(1, ok), 2),
        emptyAnswers: empty,
        // Raw process CPU over the requests: Elasticsearch's includes other clients' (elasticsearchCoresBusyBeforeRequests).
        cpuMsPerRequest: {
          elasticsearch: perRequest(cpu0.elasticsearchMs, cpu1.elasticsearchMs),
          query: perRequest(cpu0.childMs, cpu1.childMs),
        },
      };
      if (ok !== requests) notes.push(`${strategy}: ${requests - ok} requests did not answer 200, e.g. ${failure}`);
      if (violations > 0) notes.push(`${strategy}: ${violations} recommended items broke the request's price or category filter`);
      // An error answers fast: a strategy meets its target only when every request was answered.
      const target = atMost(`${strategy} p95`, latencyMs.p95, P95_TARGET_MS, 'ms');
      targets.push({ ...target, met: target.met && ok === requests });
      progress(
        `${strategy}: p50 ${latencyMs.p50} ms, p95 ${latencyMs.p95} ms, p99 ${latencyMs.p99} ms, ${round(returned / Math.max(1, ok), 1)} items per answer`,
      );
    }
    figures.strategies = strategies;
    const unmeasured = STRATEGIES.filter((s) => !MEASURED.includes(s));
    if (unmeasured.length > 0) notes.push(`strategies not measured: ${unmeasured.join(', ')}`);
    figures.queryRssMb = procMemoryMb(query.pid!);
    figures.profileSource = await profileSizes(infra, names.profiles, shop, users, args.seed);
    return finish('recommend', started, machine, params, figures, targets, notes);
  } finally {
    for (const service of services.reverse()) await service.stop().catch(() => undefined);
    if (!args.keep) await cleanup(infra, prefix);
    else progress(`recommend: kept prefix ${prefix} (delete with: npx tsx bench/run.ts cleanup --prefix ${prefix})`);
  }
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

async function recommend(
  base: string,
  strategy: Strategy,
  r: RecommendationRequest,
): Promise<{ status: number; body: { items?: { price: number; category: string[] }[] } }> {
  const query = new URLSearchParams({ k: '10', strategy });
  if (r.maxPrice !== undefined) query.set('maxPrice', String(r.maxPrice));
  if (r.category !== undefined) query.set('category', r.category);
  const res = await fetch(`${base}/v1/users/${encodeURIComponent(r.userId)}/recommendations?${query}`);
  return { status: res.status, body: (await res.json()) as { items?: { price: number; category: string[] }[] } };
}

/**
 * Samples a process's RSS until stopped. The kernel's peak (VmHWM) is reset first where /proc allows it
 * (`clear_refs` 5), so it is the exact peak of the watched stretch; otherwise it is the peak of the process's life.
 */
function watchMemory(pid: number): () => { peakRssMb: number; kernelPeakMb?: number; kernelPeakSince: 'watch' | 'process start' } {
  let reset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    reset = false;
  }
  let peak = procMemoryMb(pid)?.rss ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, procMemoryMb(pid)?.rss ?? 0)), MEMORY_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    const last = procMemoryMb(pid);
    return { peakRssMb: Math.max(peak, last?.rss ?? 0), kernelPeakMb: last?.peak, kernelPeakSince: reset ? 'watch' : 'process start' };
  };
}

/** Waits until the models queue has nothing waiting or running and nothing due within a minute; answers the wait. */
async function modelsQueueIdle(infra: Infra, prefix: string, timeoutMs = 600_000): Promise<number> {
  const queue = new Queue(queueNames().models, { connection: infra.redis, prefix: bullPrefix(await namespaceOf(infra, prefix)) });
  const t0 = Date.now();
  let last = t0;
  try {
    for (let quiet = 0; quiet < 2;) {
      const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children');
      const busy = Object.values(counts).reduce((a, b) => a + b, 0);
      const due = (await queue.getDelayed()).filter((j) => j.timestamp + (j.opts.delay ?? 0) < Date.now() + 60_000).length;
      quiet = busy + due === 0 ? quiet + 1 : 0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`the models queue did not go quiet within ${timeoutMs / 1000} s`);
      if (Date.now() - last > 10_000) {
        last = Date.now();
        progress(`waiting for the jobs process's start-up trainings: ${busy + due} jobs left`);
      }
      await sleep(500);
    }
    return Date.now() - t0 - 1000;
  } finally {
    await queue.close();
  }
}

/**
 * Trains `kind` through the query API with promotion and waits for the job; then for `after` (the vectorize job of
 * a content model). The jobs process's RSS is sampled throughout.
 */
async function train(
  queryUrl: string,
  kind: 'content' | 'collaborative',
  jobsPid: number,
  after?: (version: number) => Promise<void>,
): Promise<Record<string, unknown> & { failed?: string }> {
  progress(`training ${kind}`);
  const stopWatch = watchMemory(jobsPid);
  const t0 = Date.now();
  try {
    const job = (await api(queryUrl, 'POST', `/v1/models/${kind}/train`, { promote: true })) as { statusUrl: string };
    let status: any;
    let last = Date.now();
    for (;;) {
      status = await api(queryUrl, 'GET', job.statusUrl);
      // A status read while the job finishes may say completed before it carries the model: ask again.
      if ((status.state === 'completed' && status.model) || status.state === 'failed') break;
      if (Date.now() - last > 10_000 && status.progress) {
        last = Date.now();
        progress(`${kind}: ${status.progress.phase} ${status.progress.rows}/${status.progress.total ?? '?'}`);
      }
      await sleep(POLL_MS);
    }
    const trainedSeconds = (Date.now() - t0) / 1000;
    if (status.state === 'failed') {
      const failed = String(status.failedReason ?? 'no reason given');
      progress(`${kind} training failed after ${round(trainedSeconds, 1)} s: ${failed}`);
      return { failed, trainingWallSeconds: round(trainedSeconds, 1), jobsPeakRssMb: stopWatch().peakRssMb };
    }
    const version = status.model.version as number;
    if (after) await after(version);
    const totalSeconds = (Date.now() - t0) / 1000;
    const memory = stopWatch();
    const model = await api(queryUrl, 'GET', `/v1/models/${kind}/${version}`);
    if (model.status !== 'active') throw new Error(`${kind} v${version} is ${model.status} after a training with promotion`);
    const figures: Record<string, unknown> = {
      version,
      trainingWallSeconds: round(trainedSeconds, 1),
      ...(after ? { vectorizeWallSeconds: round(totalSeconds - trainedSeconds, 1), totalWallSeconds: round(totalSeconds, 1) } : {}),
      trainingDurationMs: model.training.durationMs,
      trainingRows: model.training.rows,
      jobsPeakRssMb: memory.peakRssMb,
      jobsKernelPeakRssMb: memory.kernelPeakMb,
      jobsKernelPeakSince: memory.kernelPeakSince,
      quality: model.quality,
    };
    progress(
      `${kind} v${version}: trained in ${round(trainedSeconds, 1)} s${after ? `, items vectorized ${round(totalSeconds - trainedSeconds, 1)} s later` : ''}; jobs RSS peak ${memory.peakRssMb} MB`,
    );
    return figures;
  } finally {
    stopWatch();
  }
}

/** The catalogue straight into the items index, as the indexer's item writer shapes it (no vector yet). */
async function loadCatalogue(
  infra: Infra,
  alias: string,
  shop: SyntheticShop,
): Promise<{ items: number; inStock: number; medianPrice: number; seconds: number }> {
  const t0 = Date.now();
  const prices: number[] = [];
  let inStock = 0;
  let operations: NonNullable<estypes.BulkRequest['operations']> = [];
  const flush = async (): Promise<void> => {
    if (operations.length === 0) return;
    const res = await infra.es.bulk({ operations });
    if (res.errors) throw new Error(`catalogue load failed: ${JSON.stringify(res.items.find((i) => i.index?.error)).slice(0, 500)}`);
    operations = [];
  };
  for (const raw of shop.items()) {
    const checked = checkItem(raw, undefined, Date.now(), { maxFutureSkewMs: 0, maxAgeMs: Number.POSITIVE_INFINITY });
    if (!checked.ok) throw new Error(`synthetic item is invalid: ${JSON.stringify(checked.issues)}`);
    const { itemId, version } = checked.value;
    prices.push(checked.value.price);
    if (checked.value.inStock) inStock++;
    operations.push({ index: { _index: alias, _id: itemId, version, version_type: 'external_gte' } }, itemDocument(checked.value));
    if (operations.length >= ITEMS_PER_BULK * 2) await flush();
  }
  await flush();
  await infra.es.indices.refresh({ index: alias });
  prices.sort((a, b) => a - b);
  const seconds = (Date.now() - t0) / 1000;
  progress(`loaded ${prices.length} items in ${round(seconds, 1)} s`);
  return { items: prices.length, inStock, medianPrice: prices[Math.floor(prices.length / 2)] ?? 0, seconds };
}

/**
 * Each user's sessions over the history window into the monthly event indices, and the profile the shared fold
 * derives from them into the profiles alias, a batch of users per bulk request (memory stays flat).
 */
async function loadHistory(
  infra: Infra,
  prefix: string,
  shop: SyntheticShop,
  now: number,
): Promise<{ users: number; events: number; eventsByType: Record<string, number>; eventIndices: string[]; seconds: number }> {
  const names = indexNames(prefix);
  const users = shop.options.users;
  const t0 = Date.now();
  const indices = new Set<string>();
  let next = 0;
  let loadedUsers = 0;
  let events = 0;
  let lastReport = Date.now();
  // Synchronous, so the shop's shared generator is drawn in user order whatever the lanes' timing.
  const batch = (): { operations: NonNullable<estypes.BulkRequest['operations']>; users: number; events: number } => {
    const operations: NonNullable<estypes.BulkRequest['operations']> = [];
    const first = next;
    let count = 0;
    for (; next < users && next - first < USERS_PER_BULK; next++) {
      const sessions = 1 + geometric(mulberry32(hashSeed(shop.options.seed, 9, next)), EXTRA_SESSION_P);
      const queued = [...shop.eventsForUsers([next], sessions)].map((e) => toQueued(e, now));
      for (const event of queued) {
        const index = names.eventsIndexFor(Date.parse(event.timestamp));
        indices.add(index);
        operations.push({ index: { _index: index, _id: event.eventId } }, toEventDoc(event));
      }
      count += queued.length;
      const { state } = foldEvents(undefined, queued, now, DEFAULT_PROFILE_OPTIONS);
      const userId = shop.userId(next);
      operations.push({ index: { _index: names.profiles, _id: userId } }, deriveProfile(userId, state, now, now, DEFAULT_PROFILE_OPTIONS));
    }
    return { operations, users: next - first, events: count };
  };
  const lane = async (): Promise<void> => {
    for (;;) {
      const { operations, users: batchUsers, events: batchEvents } = batch();
      if (operations.length === 0) return;
      const res = await infra.es.bulk({ operations, refresh: false });
      if (res.errors) throw new Error(`history load failed: ${JSON.stringify(res.items.find((i) => i.index?.error)).slice(0, 500)}`);
      loadedUsers += batchUsers;
      events += batchEvents;
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        progress(
          `loading history: ${loadedUsers}/${users} users, ${events} events (${round(loadedUsers / ((Date.now() - t0) / 1000))} users/s)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: LOAD_LANES }, lane));
  await infra.es.indices.refresh({ index: [names.profiles, names.events] });
  const seconds = (Date.now() - t0) / 1000;
  const stored = (await infra.es.count({ index: names.events })).count;
  if (stored !== events) throw new Error(`the events index holds ${stored} events, ${events} were written`);
  progress(`loaded ${loadedUsers} users' profiles and ${events} events in ${round(seconds, 1)} s`);
  return {
    users: loadedUsers,
    events,
    eventsByType: shop.stats.byType,
    eventIndices: [...indices].sort(),
    seconds: round(seconds, 1),
  };
}

/**
 * The baseline: the kNN query a content recommendation rests on, straight to Elasticsearch: a random item's content
 * vector (read beforehand), in-stock filter, k 10 of 100 candidates, no source.
 */
async function bareKnn(
  infra: Infra,
  alias: string,
  items: number,
  requests: number,
  seed: number,
): Promise<{ latencyMs: ReturnType<typeof summarize>; meanHits: number }> {
  const rng = mulberry32(hashSeed(seed, 22));
  const ids = Array.from({ length: WARMUP_REQUESTS + requests }, () => `i${Math.floor(rng() * items)}`);
  const vectors: number[][] = [];
  for (let start = 0; start < ids.length; start += 500) {
    const res = await infra.es.mget<{ content?: number[] }>({
      index: alias,
      ids: ids.slice(start, start + 500),
      _source_includes: ['content'],
    });
    for (const doc of res.docs) {
      const vector = 'found' in doc && doc.found ? doc._source?.content : undefined;
      if (!vector) throw new Error(`item ${doc._id} has no content vector`);
      vectors.push(vector);
    }
  }
  const latencies: number[] = [];
  let hits = 0;
  for (const [i, vector] of vectors.entries()) {
    const t0 = performance.now();
    const res = await infra.es.search({
      index: alias,
      knn: { field: 'content', query_vector: vector, k: 10, num_candidates: 100, filter: { term: { inStock: true } } },
      _source: false,
    });
    if (i < WARMUP_REQUESTS) continue;
    latencies.push(performance.now() - t0);
    hits += res.hits.hits.length;
  }
  return { latencyMs: summarize(latencies), meanHits: round(hits / Math.max(1, requests), 2) };
}

/** Sizes of sampled profiles' `_source` as stored (JSON bytes), with the share their item traces take. */
async function profileSizes(
  infra: Infra,
  alias: string,
  shop: SyntheticShop,
  users: number,
  seed: number,
): Promise<Record<string, unknown>> {
  const rng = mulberry32(hashSeed(seed, 23));
  const picked = new Set<string>();
  while (picked.size < Math.min(PROFILE_SAMPLE, users)) picked.add(shop.userId(Math.floor(rng() * users)));
  const ids = [...picked];
  const bytes: number[] = [];
  const itemBytes: number[] = [];
  const traces: number[] = [];
  for (let start = 0; start < ids.length; start += 200) {
    const res = await infra.es.mget<{ state?: { items?: Record<string, unknown> } }>({ index: alias, ids: ids.slice(start, start + 200) });
    for (const doc of res.docs) {
      if (!('found' in doc) || !doc.found || !doc._source) continue;
      bytes.push(Buffer.byteLength(JSON.stringify(doc._source)));
      const items = doc._source.state?.items ?? {};
      itemBytes.push(Buffer.byteLength(JSON.stringify(items)));
      traces.push(Object.keys(items).length);
    }
  }
  // Lucene's document count includes nested documents: the profiles are counted.
  const stats = await infra.es.indices.stats({ index: alias, metric: ['store'] });
  const store = stats._all.primaries?.store?.size_in_bytes ?? 0;
  const docs = (await infra.es.count({ index: alias })).count;
  const size = summarize(bytes);
  const mean = (xs: number[]) => round(xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length), 1);
  progress(`profiles: ${size.mean} bytes of _source on average, ${mean(itemBytes)} of them item traces`);
  return {
    sampled: bytes.length,
    sourceBytes: size,
    itemTracesBytesMean: mean(itemBytes),
    itemTracesShare: round(mean(itemBytes) / Math.max(1, size.mean), 3),
    itemTracesPerProfile: summarize(traces),
    storeBytesPerProfile: docs === 0 ? 0 : Math.round(store / docs),
  };
}
