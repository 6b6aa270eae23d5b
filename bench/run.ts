/**
 * Portrait benchmarks.
 *
 *   npx tsx bench/run.ts [ingest|indexer|freshness|read|segments|mining|recommend|all ...] [options]
 *   npx tsx bench/run.ts soak [--minutes N]   (npm run soak; not part of `all`)
 *   npx tsx bench/run.ts cleanup --prefix <prefix>
 *
 * Options (each benchmark uses the ones that apply; defaults in brackets are per benchmark):
 *   --events N              events to send            [ingest 200000, indexer 1000000, read 10 per user]
 *   --users N               distinct users            [ingest 20000, indexer 100000, freshness 20000, read 20000, segments 1000000, recommend 200000]
 *   --items N               catalogue size            [ingest 5000, indexer 20000, recommend 50000, others 5000]
 *   --seed N                generator seed            [42]
 *   --batch N               events per batch / job    [500; soak 100]
 *   --concurrency N         concurrent clients        [ingest 8, read 8]
 *   --duration S            freshness run length      [60]
 *   --rate N                freshness background load, soak ingest rate [freshness 1000, soak 500 events/s]
 *   --minutes N             soak: length of the load phase, at most 240 [5]
 *   --requests N            read requests; recommend: requests per strategy [read 5000, recommend 300]
 *   --indexer-concurrency N INDEXER_CONCURRENCY       [the service default]
 *   --indexers N            indexer: processes sharing the queue (they scale out) [1]
 *   --span-days D           indexer: event-time span of the stream; sessions interleave more when short [90]
 *   --models                indexer: promote RFM, cluster, propensity and risk models first (scoring in every write)
 *   --inline-facts X        share of events carrying item facts inline (rest enriched from the catalogue) [1; soak 0.5]
 *   --services-in process|child where ingest and query run; the indexer always runs as a child [process]
 *   --prefix P              read: reuse profiles under this prefix; cleanup: the prefix to delete
 *   --keep                  keep indices and Redis keys afterwards
 *
 * recommend: loads a synthetic shop's catalogue, about 8 events per user over 60 days and the folded profiles
 * straight into Elasticsearch; trains and promotes the content model (until every item is vectorized) and the
 * collaborative model through the query API with the jobs process as a child (wall time, peak RSS, quality); then
 * per strategy sequential GET /v1/users/:id/recommendations with filters (p50/p95/p99, target p95 <= 50 ms) against
 * a bare kNN query on the items index; and the average profile _source size.
 *
 * Progress goes to stderr; the final JSON goes to stdout and bench/results/latest.json (plus
 * bench/results/<benchmark>-latest.json per benchmark). Needs Elasticsearch (ES_URL) and Redis (REDIS_URL).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cleanup, connectInfra, progress, type BenchResult, type Infra } from './harness';
import { benchFreshness } from './freshness';
import { benchIndexer } from './indexer';
import { benchIngest } from './ingest';
import { benchMining } from './mining';
import { benchRead } from './read';
import { benchRecommend } from './recommend';
import { benchSegments } from './segments';
import { killAll } from './service-process';
import { benchSoak, MAX_SOAK_MINUTES, type SoakArgs } from './soak';

const BENCHMARKS: Record<string, (args: SoakArgs, infra: Infra, interrupt: AbortSignal) => Promise<BenchResult>> = {
  ingest: benchIngest,
  indexer: benchIndexer,
  freshness: benchFreshness,
  read: benchRead,
  segments: benchSegments,
  mining: benchMining,
  recommend: benchRecommend,
  soak: benchSoak,
};
/** Run only when named: `all` leaves them out. */
const NOT_IN_ALL = new Set(['soak']);
/** Stop their load and clean up on the first Ctrl-C (they watch the signal); the others are killed at once. */
const CLEAN_UP_ON_INTERRUPT = new Set(['soak']);
const interrupt = new AbortController();

const RESULTS_DIR = path.resolve(__dirname, 'results');

function parse(): { names: string[]; args: SoakArgs; cleanupOnly: boolean } {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      events: { type: 'string' },
      users: { type: 'string' },
      items: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      minutes: { type: 'string' },
      rate: { type: 'string' },
      requests: { type: 'string' },
      'indexer-concurrency': { type: 'string' },
      indexers: { type: 'string' },
      'inline-facts': { type: 'string' },
      'span-days': { type: 'string' },
      models: { type: 'boolean' },
      'services-in': { type: 'string' },
      prefix: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stderr.write(
      'usage: npx tsx bench/run.ts [ingest|indexer|freshness|read|segments|mining|recommend|soak|all|cleanup] [--events N --users N ...]; see bench/run.ts\n',
    );
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, min = 1): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  const servicesIn = values['services-in'] ?? 'process';
  if (servicesIn !== 'process' && servicesIn !== 'child') throw new Error(`--services-in must be process or child, got ${servicesIn}`);
  const inlineFacts = values['inline-facts'] === undefined ? undefined : Number(values['inline-facts']);
  if (inlineFacts !== undefined && !(inlineFacts >= 0 && inlineFacts <= 1)) throw new Error('--inline-facts must be between 0 and 1');
  const spanDays = values['span-days'] === undefined ? undefined : Number(values['span-days']);
  if (spanDays !== undefined && !(spanDays > 0 && spanDays <= 3650)) throw new Error('--span-days must be a positive number of days');
  const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
  if (minutes !== undefined && !(minutes > 0 && minutes <= MAX_SOAK_MINUTES))
    throw new Error(`--minutes must be a number of minutes in (0, ${MAX_SOAK_MINUTES}], got ${values.minutes}`);
  if (values.batch !== undefined && (int('batch', values.batch) ?? 0) > 1000)
    throw new Error('--batch must be at most 1000 (the ingest batch limit)');
  const args: SoakArgs = {
    events: int('events', values.events),
    users: int('users', values.users),
    items: int('items', values.items),
    seed: int('seed', values.seed, 0) ?? 42,
    batch: int('batch', values.batch),
    concurrency: int('concurrency', values.concurrency),
    duration: int('duration', values.duration),
    minutes,
    rate: int('rate', values.rate),
    requests: int('requests', values.requests),
    indexerConcurrency: int('indexer-concurrency', values['indexer-concurrency']),
    indexers: int('indexers', values.indexers),
    inlineFacts,
    spanDays,
    models: values.models,
    servicesIn,
    prefix: values.prefix,
    keep: values.keep ?? false,
  };
  const requested = positionals.length === 0 ? ['all'] : positionals;
  if (requested.includes('cleanup')) return { names: [], args, cleanupOnly: true };
  const names = requested.flatMap((n) => (n === 'all' ? Object.keys(BENCHMARKS).filter((b) => !NOT_IN_ALL.has(b)) : [n]));
  for (const n of names)
    if (!BENCHMARKS[n]) throw new Error(`unknown benchmark ${n}; choose from ${Object.keys(BENCHMARKS).join(', ')}, all`);
  return { names: [...new Set(names)], args, cleanupOnly: false };
}

async function main(): Promise<void> {
  const { names, args, cleanupOnly } = parse();
  const infra = connectInfra();
  let running: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (running !== undefined && CLEAN_UP_ON_INTERRUPT.has(running) && !interrupt.signal.aborted) {
      progress(`${signal}: ${running} stops its load, its child processes and deletes its prefix (again to kill at once)`);
      interrupt.abort();
      return;
    }
    progress(`${signal}: stopping child processes (indices of this run may remain; delete with \`cleanup --prefix\`)`);
    killAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (cleanupOnly) {
      if (!args.prefix) throw new Error('cleanup needs --prefix');
      await cleanup(infra, args.prefix);
      progress(`deleted indices, templates and Redis keys of ${args.prefix}`);
      return;
    }
    const started = new Date().toISOString();
    const results: Record<string, BenchResult> = {};
    for (const name of names) {
      progress(`=== ${name} ===`);
      running = name;
      results[name] = await BENCHMARKS[name]!(args, infra, interrupt.signal);
      running = undefined;
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(path.join(RESULTS_DIR, `${name}-latest.json`), `${JSON.stringify(results[name], null, 2)}\n`);
      progress(
        `${name}: ${results[name]!.targets.map((t) => `${t.name} ${t.actual} (${t.target}) ${t.met ? 'met' : 'NOT met'}`).join('; ')}`,
      );
    }
    const summary = {
      startedAt: started,
      command: process.argv.slice(2).join(' '),
      met: Object.values(results).every((r) => r.met),
      results,
    };
    const json = JSON.stringify(summary, null, 2);
    writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${json}\n`);
    process.stdout.write(`${json}\n`);
  } finally {
    killAll();
    await infra.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(interrupt.signal.aborted ? 'interrupted\n' : `${(error as Error).stack ?? String(error)}\n`);
  killAll();
  process.exit(interrupt.signal.aborted ? 130 : 1);
});
