import { DEFAULT_PROFILE_OPTIONS, deriveProfile, foldEvents, indexNames, toQueued, type QueuedEvent } from '@portrait/shared';
import { ApiKeyStore, bootstrapIndices, pointInTimePages, type estypes } from '@portrait/runtime';
import {
  atMost,
  checkEvents,
  cleanup,
  cpuBetween,
  cpuSnapshot,
  finish,
  lanes,
  machineInfo,
  namespaceOf,
  newPrefix,
  progress,
  round,
  serviceEnv,
  summarize,
  type BenchArgs,
  type BenchResult,
  type Infra,
} from './harness';
import { mulberry32 } from './prng';
import { startService } from './service-process';
import { SyntheticShop } from './synthetic-shop';

const WARMUP_REQUESTS = 500;
const EVENTS_PER_USER = 10;

/**
 * Profile read latency: GET /v1/users/:id/profile for random existing users with concurrent clients,
 * against the query service in this process; then the same reads straight from Elasticsearch for
 * reference, and through a query service that checks an API key on every request. Profiles come from `--prefix` (e.g. one kept by the indexer benchmark) or are built here
 * by folding synthetic events with the shared fold and bulk-writing the documents.
 */
export async function benchRead(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const reuse = args.prefix !== undefined;
  const prefix = args.prefix ?? newPrefix('read');
  const params = {
    requests: args.requests ?? 5000,
    concurrency: args.concurrency ?? 8,
    warmupRequests: WARMUP_REQUESTS,
    users: reuse ? 'existing' : (args.users ?? 20_000),
    events: reuse ? 'existing' : (args.events ?? (args.users ?? 20_000) * EVENTS_PER_USER),
    seed: args.seed,
    reusedPrefix: reuse,
    servicesIn: args.servicesIn,
  };
  const machine = await machineInfo(infra);
  const alias = indexNames(prefix).profiles;
  const stops: (() => Promise<unknown>)[] = [];
  try {
    if (!reuse) await loadProfiles(infra, prefix, args.users ?? 20_000, Number(params.events), args.seed, args.items ?? 5_000);
    const userIds = await profileIds(infra, alias);
    if (userIds.length === 0) throw new Error(`no profiles under ${alias}`);
    const docSize = round((await storeBytes(infra, alias)) / userIds.length / 1024, 2);
    progress(`read: ${userIds.length} profiles under ${alias} (${docSize} KiB of store per profile)`);

    const query = await startService('query', serviceEnv(prefix, { QUERY_PORT: '0' }), args.servicesIn);
    stops.push(query.stop);
    const rng = mulberry32(args.seed);
    const randomUser = (): string => userIds[Math.floor(rng() * userIds.length)]!;

    const viaQuery = async (userId: string): Promise<number> => {
      const res = await fetch(`${query.url}/v1/users/${encodeURIComponent(userId)}/profile`);
      await res.arrayBuffer();
      return res.status;
    };
    const viaEs = async (userId: string): Promise<number> => {
      await infra.es.get({ index: alias, id: userId, _source_excludes: ['state', 'contact'] });
      return 200;
    };
    const run = async (label: string, get: (userId: string) => Promise<number>, childPid?: number) => {
      let remaining = WARMUP_REQUESTS;
      await lanes(params.concurrency, async () => {
        if (remaining-- <= 0) return false;
        await get(randomUser());
        return true;
      });
      const latencies: number[] = [];
      const statuses: Record<string, number> = {};
      remaining = params.requests;
      const cpu0 = await cpuSnapshot(infra, childPid);
      const t0 = performance.now();
      await lanes(params.concurrency, async () => {
        if (remaining-- <= 0) return false;
        const sent = performance.now();
        const status = await get(randomUser());
        latencies.push(performance.now() - sent);
        statuses[status] = (statuses[status] ?? 0) + 1;
        return true;
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuBetween(cpu0, await cpuSnapshot(infra, childPid), 'queryChild');
      const summary = summarize(latencies);
      progress(
        `read ${label}: p50 ${summary.p50} ms, p95 ${summary.p95} ms, p99 ${summary.p99} ms, ${Math.round(params.requests / seconds)} req/s`,
      );
      return { latencyMs: summary, requestsPerSecond: Math.round(params.requests / seconds), statuses, cpuCoresUsed: cpu };
    };
    const service = await run('GET /v1/users/:id/profile', viaQuery, query.pid);
    const direct = await run('Elasticsearch get (reference)', viaEs);

    // The same reads through a query service that checks an API key on every request (record read, rate limit).
    const keyed = await startService('query', serviceEnv(prefix, { QUERY_PORT: '0', AUTH_REQUIRED: 'true' }), args.servicesIn);
    stops.push(keyed.stop);
    const store = new ApiKeyStore(infra.redis, await namespaceOf(infra, prefix));
    const { key, keyId } = await store.create(
      { name: 'bench-read', scopes: ['read'], rateLimit: { requests: 1_000_000, perSeconds: 1 } },
      'bench',
      Date.now(),
    );
    const viaKeyedQuery = async (userId: string): Promise<number> => {
      const res = await fetch(`${keyed.url}/v1/users/${encodeURIComponent(userId)}/profile`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await res.arrayBuffer();
      return res.status;
    };
    // Interleaved, request by request, so both see the same machine and the same warm caches.
    const paired = { open: [] as number[], keyed: [] as number[], keyedStatuses: {} as Record<string, number> };
    // The keyed service starts cold: both get a long warm-up (JIT, connections) before anything is measured.
    let pairedLeft = 4 * WARMUP_REQUESTS + 2 * params.requests;
    await lanes(params.concurrency, async () => {
      const n = pairedLeft--;
      if (n <= 0) return false;
      const keyedTurn = n % 2 === 0;
      const sent = performance.now();
      const status = await (keyedTurn ? viaKeyedQuery : viaQuery)(randomUser());
      if (n > 2 * params.requests) return true; // warm-up
      (keyedTurn ? paired.keyed : paired.open).push(performance.now() - sent);
      if (keyedTurn) paired.keyedStatuses[status] = (paired.keyedStatuses[status] ?? 0) + 1;
      return true;
    });
    await store.revoke(keyId, 'bench', Date.now());
    const withKey = { open: summarize(paired.open), keyed: summarize(paired.keyed), keyedStatuses: paired.keyedStatuses };
    progress(
      `read interleaved: open p50 ${withKey.open.p50} / p95 ${withKey.open.p95} ms, with a key p50 ${withKey.keyed.p50} / p95 ${withKey.keyed.p95} ms`,
    );
    const figures = {
      profiles: userIds.length,
      storeKiBPerProfile: docSize,
      queryService: service,
      elasticsearchGet: direct,
      p95OverheadOfServiceMs: round(service.latencyMs.p95 - direct.latencyMs.p95),
      /** Two query services, one asking for an API key, sent the same reads interleaved. */
      apiKeyCheck: {
        openLatencyMs: withKey.open,
        withKeyLatencyMs: withKey.keyed,
        overheadMs: { p50: round(withKey.keyed.p50 - withKey.open.p50), p95: round(withKey.keyed.p95 - withKey.open.p95) },
        p50Ratio: round(withKey.keyed.p50 / withKey.open.p50),
      },
    };
    const notes =
      args.servicesIn === 'process'
        ? ['the HTTP clients run in the same process as the query service (shared event loop); --services-in child separates them']
        : [];
    if (service.statuses['200'] !== params.requests) notes.push(`not every request answered 200: ${JSON.stringify(service.statuses)}`);
    if (withKey.keyedStatuses['200'] !== params.requests)
      notes.push(`not every keyed request answered 200: ${JSON.stringify(withKey.keyedStatuses)}`);
    return finish('read', started, machine, params, figures, [atMost('GET profile p95', service.latencyMs.p95, 20, 'ms')], notes);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (!reuse && !args.keep) await cleanup(infra, prefix);
  }
}

/** Folds a synthetic shop's events per user with the shared pure fold and bulk-writes the profiles. */
async function loadProfiles(infra: Infra, prefix: string, users: number, events: number, seed: number, items: number): Promise<void> {
  const now = Date.now();
  const shopOptions = { seed, users, items, startMs: now - 90 * 86_400_000, endMs: now - 60_000 };
  progress(
    `read: prefix ${prefix}; validated ${checkEvents(new SyntheticShop(shopOptions).events(1000))} synthetic events against EventSchema`,
  );
  await bootstrapIndices(infra.es, prefix);
  const byUser = new Map<string, QueuedEvent[]>();
  for (const event of new SyntheticShop(shopOptions).events(events)) {
    const queued = toQueued(event, now);
    const list = byUser.get(queued.userId);
    if (list) list.push(queued);
    else byUser.set(queued.userId, [queued]);
  }
  const alias = indexNames(prefix).profiles;
  let operations: NonNullable<estypes.BulkRequest['operations']> = [];
  const flush = async (): Promise<void> => {
    if (operations.length === 0) return;
    const res = await infra.es.bulk({ operations });
    if (res.errors) throw new Error(`profile load failed: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
    operations = [];
  };
  for (const [userId, list] of byUser) {
    const folded = foldEvents(undefined, list, now, DEFAULT_PROFILE_OPTIONS);
    operations.push({ index: { _index: alias, _id: userId } }, deriveProfile(userId, folded.state, now, now, DEFAULT_PROFILE_OPTIONS));
    if (operations.length >= 1000) await flush();
  }
  await flush();
  await infra.es.indices.refresh({ index: alias });
  progress(`read: loaded ${byUser.size} profiles from ${events} events`);
}

async function profileIds(infra: Infra, alias: string, limit = 200_000): Promise<string[]> {
  const ids: string[] = [];
  for await (const hits of pointInTimePages(infra.es, { index: alias, pageSize: 5000, keepAlive: '1m', request: { _source: false } })) {
    for (const hit of hits) ids.push(hit._id!);
    if (ids.length >= limit) break;
  }
  return ids;
}

async function storeBytes(infra: Infra, alias: string): Promise<number> {
  const res = await infra.es.indices.stats({ index: alias, metric: ['store'] });
  return res._all.primaries?.store?.size_in_bytes ?? 0;
}
