import { checkItem, indexNames, itemDocument, JobName, toQueued, type QueuedEvent } from '@portrait/shared';
import {
  bootstrapIndices,
  createDeadLetterQueue,
  createIngestQueue,
  pointInTimePages,
  readDefinition,
  type estypes,
  type EventsJob,
  type IngestJobData,
} from '@portrait/runtime';
import {
  namespaceOf,
  atLeast,
  checkEvents,
  cleanup,
  cpuBetween,
  cpuSnapshot,
  eventCountTotals,
  finish,
  lanes,
  machineInfo,
  newPrefix,
  procMemoryMb,
  progress,
  round,
  serviceEnv,
  sleep,
  type BenchArgs,
  type BenchResult,
  type Infra,
  type Target,
} from './harness';
import { promoteBenchModels } from './models-fixture';
import { scrapeMetrics, spawnService } from './service-process';
import { SyntheticShop } from './synthetic-shop';

const TARGET_EVENTS_PER_SECOND = 5_000;
const ENQUEUE_CHUNK_JOBS = 20;

/**
 * Indexer throughput: the ingest queue is preloaded with event batches exactly as ingest queues them,
 * then the indexer runs as a child process until the queue is drained; its RSS is sampled from /proc.
 * Then the raw `_bulk` baseline: the resulting profile documents are bulk-indexed into a scratch index
 * with the same template, in bulks of the indexer's typical size. Finally the fold is checked: the sum
 * of behavior.eventCount over all profiles must equal the behaviour events sent.
 */
export async function benchIndexer(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const params = {
    events: args.events ?? 1_000_000,
    users: args.users ?? 100_000,
    items: args.items ?? 20_000,
    batch: args.batch ?? 500,
    seed: args.seed,
    indexerConcurrency: args.indexerConcurrency ?? 'service default (4)',
    indexerProcesses: args.indexers ?? 1,
    inlineFactsShare: args.inlineFacts ?? 1,
    spanDays: args.spanDays ?? 90,
    models: args.models ? 'rfm, clusters, purchase, churn and risk active' : 'none',
  };
  const machine = await machineInfo(infra);
  const prefix = newPrefix('indexer');
  const names = indexNames(prefix);
  const shopOptions = {
    seed: params.seed,
    users: params.users,
    items: params.items,
    startMs: started - 60_000 - params.spanDays * 86_400_000,
    endMs: started - 60_000,
    inlineFactsShare: params.inlineFactsShare,
  };
  progress(
    `indexer: prefix ${prefix}; validated ${checkEvents(new SyntheticShop(shopOptions).events(1000))} synthetic events against EventSchema`,
  );
  const notes: string[] = [];
  let stopChild: (() => Promise<unknown>) | undefined;
  try {
    const shop = new SyntheticShop(shopOptions);
    await bootstrapIndices(infra.es, prefix);
    await loadCatalogue(infra, names.items, shop);
    // With --models, every profile write also scores with five active models: what scoring costs the fold.
    if (args.models) notes.push(`every write scored with ${(await promoteBenchModels(infra, prefix, shopOptions)).join(', ')}`);

    // Preload: one job per batch, name and payload exactly as ingest's Intake.submitEvents queues them.
    const queue = createIngestQueue(infra.redis, await namespaceOf(infra, prefix));
    const enqueueStart = performance.now();
    let jobs = 0;
    let distinctUsersPerJob = 0;
    let pending: { name: string; data: IngestJobData }[] = [];
    let batch: QueuedEvent[] = [];
    const flushBatch = (): void => {
      distinctUsersPerJob += new Set(batch.map((e) => e.userId)).size;
      pending.push({ name: JobName.events, data: { events: batch } satisfies EventsJob });
      jobs++;
      batch = [];
    };
    for (const event of shop.events(params.events)) {
      batch.push(toQueued(event, Date.now()));
      if (batch.length === params.batch) flushBatch();
      if (pending.length === ENQUEUE_CHUNK_JOBS) {
        await queue.addBulk(pending);
        pending = [];
        if (jobs % 200 === 0) progress(`indexer: enqueued ${jobs} jobs (${shop.stats.events} events)`);
      }
    }
    if (batch.length > 0) flushBatch();
    if (pending.length > 0) await queue.addBulk(pending);
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    const typicalBulk = Math.round(distinctUsersPerJob / jobs);
    progress(
      `indexer: ${jobs} jobs with ${shop.stats.events} events (${shop.stats.behaviour} behaviour, ${shop.stats.usersSeen} users) enqueued in ${round(enqueueSeconds)} s; ` +
        `~${typicalBulk} distinct users per job`,
    );

    // The indexer, alone, in its own process (no jobs process: only batches run).
    const env = serviceEnv(prefix, {
      INDEXER_PORT: '0',
      ...(args.indexerConcurrency ? { INDEXER_CONCURRENCY: String(args.indexerConcurrency) } : {}),
    });
    const spawned = performance.now();
    // Several processes scale out on one queue; the first is the one whose CPU is sampled.
    const children = await Promise.all(Array.from({ length: params.indexerProcesses }, () => spawnService('indexer', env)));
    const child = children[0]!;
    stopChild = () => Promise.all(children.map((c) => c.stop()));
    const startupSeconds = (performance.now() - spawned) / 1000;
    const statsBefore = await indexingStats(infra, prefix);
    const cpu0 = await cpuSnapshot(infra, child.pid);
    const t0 = performance.now();
    let peakRss = 0;
    let lastReport = t0;
    const timeline: { s: number; completed: number; rssMb: number }[] = [];
    let counts: Record<string, number>;
    for (;;) {
      counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed');
      const mem = procMemoryMb(child.pid);
      for (const c of children) peakRss = Math.max(peakRss, procMemoryMb(c.pid)?.rss ?? 0);
      const outstanding = (counts.wait ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
      const now = performance.now();
      if (now - lastReport > 5000 || outstanding === 0) {
        lastReport = now;
        const s = (now - t0) / 1000;
        timeline.push({ s: round(s, 1), completed: counts.completed ?? 0, rssMb: mem?.rss ?? 0 });
        progress(
          `indexer: ${counts.completed} / ${jobs} jobs done, ${counts.active} active, ${counts.delayed} delayed, ${counts.failed} failed; ` +
            `~${Math.round(((counts.completed ?? 0) * shop.stats.events) / jobs / s)} events/s; RSS ${mem?.rss} MB`,
        );
      }
      if (outstanding === 0) break;
      await sleep(250);
    }
    const drainSeconds = (performance.now() - t0) / 1000;
    const cpu = cpuBetween(cpu0, await cpuSnapshot(infra, child.pid), 'indexer');
    const memory = procMemoryMb(child.pid);
    const metrics: Record<string, number> = {};
    for (const c of children) {
      for (const [name, value] of Object.entries(await scrapeMetrics(c.url))) metrics[name] = (metrics[name] ?? 0) + value;
    }
    await Promise.all(children.map((c) => c.stop()));
    const statsAfter = await indexingStats(infra, prefix);

    const profileWrites = statsAfter.profiles.indexTotal - statsBefore.profiles.indexTotal;
    const eventWrites = statsAfter.events.indexTotal - statsBefore.events.indexTotal;
    const eventsPerSecond = shop.stats.events / drainSeconds;
    const profileWritesPerSecond = profileWrites / drainSeconds;
    const deadLetters = await deadLetterCount(infra, prefix);

    // Correctness: every behaviour event counted exactly once.
    const { profiles: profileCount, eventCountSum } = await eventCountTotals(infra, names.profiles);

    const baseline = await rawBulkBaseline(infra, prefix, names.profiles, typicalBulk, args.indexerConcurrency ?? 4);
    const batchSeconds = {
      count: metrics.portrait_indexer_batch_seconds_count,
      meanMs: round(
        (1000 * (metrics.portrait_indexer_batch_seconds_sum ?? 0)) / Math.max(1, metrics.portrait_indexer_batch_seconds_count ?? 0),
      ),
    };
    if (counts.failed) notes.push(`${counts.failed} jobs failed`);
    const figures = {
      enqueue: {
        jobs,
        events: shop.stats.events,
        seconds: round(enqueueSeconds),
        eventsByType: shop.stats.byType,
        sessions: shop.stats.sessions,
      },
      indexer: {
        startupSeconds: round(startupSeconds),
        drainSeconds: round(drainSeconds),
        eventsPerSecond: Math.round(eventsPerSecond),
        behaviourEventsPerSecond: Math.round(shop.stats.behaviour / drainSeconds),
        jobsPerSecond: round(jobs / drainSeconds),
        profileWrites,
        profileWritesPerSecond: Math.round(profileWritesPerSecond),
        eventHistoryWrites: eventWrites,
        typicalProfileBulkSize: typicalBulk,
        profileWritesPerEvent: round(profileWrites / shop.stats.events, 3),
        peakRssMb: { sampled: peakRss, vmHWM: memory?.peak },
        finalJobCounts: counts,
        deadLetterEntries: deadLetters,
        metrics: {
          applied: metrics.portrait_indexer_events_applied_total,
          duplicates: metrics.portrait_indexer_events_duplicate_total,
          conflicts: metrics.portrait_indexer_write_conflicts_total,
          retries: metrics.portrait_indexer_batch_retries_total,
          deadLettered: metrics.portrait_indexer_dead_lettered_total,
          batchSeconds,
          heapUsedMbSummedOverProcesses: round((metrics.portrait_nodejs_heap_size_used_bytes ?? 0) / 2 ** 20, 1),
        },
        logs: {
          warn: children.reduce((n, c) => n + c.logs.warn, 0),
          error: children.reduce((n, c) => n + c.logs.error, 0),
          samples: children.flatMap((c) => c.logs.samples).slice(0, 3),
        },
        processes: children.length,
        /** `indexer` is the first process; the others use about as much. */
        cpuCoresUsed: cpu,
        elasticsearch: {
          profilesIndex: statsDelta(statsBefore.profiles, statsAfter.profiles),
          eventsIndex: statsDelta(statsBefore.events, statsAfter.events),
        },
        timeline,
      },
      baselineRawBulk: baseline,
      ratioProfileWritesToRawBulk: round(profileWritesPerSecond / baseline.docsPerSecond, 3),
      correctness: {
        behaviourEventsSent: shop.stats.behaviour,
        eventCountSum,
        usersWithEvents: shop.stats.usersSeen,
        profiles: profileCount,
        equal: eventCountSum === shop.stats.behaviour && profileCount === shop.stats.usersSeen,
      },
    };
    const targets: Target[] = [
      atLeast('indexer events/s', eventsPerSecond, TARGET_EVENTS_PER_SECOND, 'events/s'),
      {
        name: 'sum of behavior.eventCount equals behaviour events sent',
        target: `= ${shop.stats.behaviour}`,
        actual: eventCountSum,
        unit: 'events',
        met: eventCountSum === shop.stats.behaviour,
      },
    ];
    return finish('indexer', started, machine, params, figures, targets, notes);
  } finally {
    await stopChild?.().catch(() => undefined);
    if (!args.keep) await cleanup(infra, prefix);
    else progress(`indexer: kept prefix ${prefix} (delete with: npx tsx bench/run.ts cleanup --prefix ${prefix})`);
  }
}

/** The catalogue, written straight into the items index in the shape the indexer's item writer uses. */
async function loadCatalogue(infra: Infra, alias: string, shop: SyntheticShop): Promise<void> {
  let operations: NonNullable<estypes.BulkRequest['operations']> = [];
  const flush = async (): Promise<void> => {
    if (operations.length === 0) return;
    const res = await infra.es.bulk({ operations });
    if (res.errors) throw new Error(`catalogue load failed: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
    operations = [];
  };
  for (const raw of shop.items()) {
    const checked = checkItem(raw, undefined, Date.now(), { maxFutureSkewMs: 0, maxAgeMs: Number.POSITIVE_INFINITY });
    if (!checked.ok) throw new Error(`synthetic item is invalid: ${JSON.stringify(checked.issues)}`);
    const { itemId, version } = checked.value;
    operations.push({ index: { _index: alias, _id: itemId, version, version_type: 'external_gte' } }, itemDocument(checked.value));
    if (operations.length >= 2000) await flush();
  }
  await flush();
  await infra.es.indices.refresh({ index: alias });
}

/** Entries in the prefix's dead-letter queue. */
export async function deadLetterCount(infra: Infra, prefix: string): Promise<number> {
  const dlq = createDeadLetterQueue(infra.redis, await namespaceOf(infra, prefix));
  const n = await dlq.count();
  await dlq.close();
  return n;
}

interface IndexStats {
  indexTotal: number;
  indexTimeMs: number;
  getTotal: number;
  getTimeMs: number;
  refreshes: number;
  refreshTimeMs: number;
  merges: number;
  mergeTimeMs: number;
  bulkTimeMs: number;
  segments: number;
  storeMb: number;
}

/** Per-index counters from `_stats`; deltas over the drain attribute Elasticsearch's time. */
async function indexingStats(infra: Infra, prefix: string): Promise<{ profiles: IndexStats; events: IndexStats }> {
  const names = indexNames(prefix);
  const one = async (index: string): Promise<IndexStats> => {
    const res = await infra.es.indices.stats({ index, metric: ['indexing', 'get', 'refresh', 'merge', 'bulk', 'segments', 'store'] });
    const p = res._all.primaries;
    return {
      indexTotal: p?.indexing?.index_total ?? 0,
      indexTimeMs: p?.indexing?.index_time_in_millis ?? 0,
      getTotal: p?.get?.total ?? 0,
      getTimeMs: p?.get?.time_in_millis ?? 0,
      refreshes: p?.refresh?.total ?? 0,
      refreshTimeMs: p?.refresh?.total_time_in_millis ?? 0,
      merges: p?.merges?.total ?? 0,
      mergeTimeMs: p?.merges?.total_time_in_millis ?? 0,
      bulkTimeMs: p?.bulk?.total_time_in_millis ?? 0,
      segments: p?.segments?.count ?? 0,
      storeMb: round((p?.store?.size_in_bytes ?? 0) / 2 ** 20, 1),
    };
  };
  return { profiles: await one(names.profiles), events: await one(names.eventsPattern) };
}

function statsDelta(before: IndexStats, after: IndexStats): IndexStats {
  const out = { ...after };
  for (const key of [
    'indexTotal',
    'indexTimeMs',
    'getTotal',
    'getTimeMs',
    'refreshes',
    'refreshTimeMs',
    'merges',
    'mergeTimeMs',
    'bulkTimeMs',
  ] as const) {
    out[key] = after[key] - before[key];
  }
  return out;
}

/**
 * Reads every profile out (point in time + search_after), serializes them into bulks of `bulkSize`
 * documents, then times only the `_bulk` requests into `<prefix>-profiles-v999` (same template).
 */
async function rawBulkBaseline(infra: Infra, prefix: string, alias: string, bulkSize: number, concurrency: number) {
  const scratch = `${prefix}-profiles-v999`;
  const template = readDefinition('profiles');
  await infra.es.indices.create({ index: scratch });
  const bodies: string[] = [];
  let current = '';
  let inCurrent = 0;
  let docs = 0;
  let bytes = 0;
  for await (const hits of pointInTimePages(infra.es, { index: alias, pageSize: 1000 })) {
    for (const hit of hits) {
      const line = `{"index":{"_id":${JSON.stringify(hit._id)}}}\n${JSON.stringify(hit._source)}\n`;
      bytes += line.length;
      current += line;
      docs++;
      if (++inCurrent === bulkSize) {
        bodies.push(current);
        current = '';
        inCurrent = 0;
      }
    }
  }
  if (inCurrent > 0) bodies.push(current);
  progress(
    `raw bulk baseline: ${docs} profile documents (${round(bytes / 2 ** 20, 1)} MiB) in ${bodies.length} bulks of ${bulkSize}, concurrency ${concurrency}`,
  );

  let next = 0;
  let failed = 0;
  const cpu0 = await cpuSnapshot(infra);
  const t0 = performance.now();
  await lanes(concurrency, async () => {
    const i = next++;
    if (i >= bodies.length) return false;
    const res = (await infra.es.transport.request({
      method: 'POST',
      path: `/${scratch}/_bulk`,
      bulkBody: bodies[i]!,
    })) as estypes.BulkResponse;
    if (res.errors) failed += res.items.filter((it) => it.index?.error).length;
    return true;
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuBetween(cpu0, await cpuSnapshot(infra));
  progress(`raw bulk baseline: ${Math.round(docs / seconds)} docs/s`);
  return {
    index: scratch,
    templateVersion: template.version,
    docs,
    failed,
    bulkSize,
    concurrency,
    meanDocKiB: round(bytes / Math.max(1, docs) / 1024, 2),
    seconds: round(seconds),
    docsPerSecond: Math.round(docs / seconds),
    cpuCoresUsed: cpu,
  };
}
