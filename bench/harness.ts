import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pino from 'pino';
import { CommonEnv, EventSchema, parseEnv } from '@portrait/shared';
import {
  createEsClient,
  createRedis,
  deletePrefix,
  ensureDataSet,
  type Client,
  type Logger,
  type Redis,
  type estypes,
} from '@portrait/runtime';

/** Options every benchmark understands; each benchmark reads the ones it needs. */
export interface BenchArgs {
  events?: number;
  users?: number;
  items?: number;
  seed: number;
  concurrency?: number;
  batch?: number;
  duration?: number;
  requests?: number;
  rate?: number;
  /** Reuse this prefix (read benchmark) instead of creating and loading a fresh one. */
  prefix?: string;
  /** Keep indices and Redis keys after the run (for inspection or reuse). */
  keep: boolean;
  indexerConcurrency?: number;
  /** Indexer processes sharing the queue (indexer benchmark). */
  indexers?: number;
  inlineFacts?: number;
  /** Event-time span of the indexer's synthetic stream in days: short spans interleave more sessions per batch. */
  spanDays?: number;
  /** indexer: promote models first, so every profile write is scored. */
  models?: boolean;
  /** Where ingest and query run (the indexer benchmark always runs the indexer as a child). */
  servicesIn: 'process' | 'child';
}

export interface Target {
  name: string;
  /** e.g. ">= 10000 events/s" */
  target: string;
  actual: number;
  unit: string;
  met: boolean;
}

export interface BenchResult {
  benchmark: string;
  startedAt: string;
  durationSeconds: number;
  parameters: Record<string, unknown>;
  machine: MachineInfo;
  figures: Record<string, unknown>;
  targets: Target[];
  met: boolean;
  notes: string[];
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  elasticsearch?: string;
  redis?: string;
}

export function atLeast(name: string, actual: number, min: number, unit: string): Target {
  return { name, target: `>= ${min} ${unit}`, actual: round(actual), unit, met: actual >= min };
}

export function atMost(name: string, actual: number, max: number, unit: string): Target {
  return { name, target: `<= ${max} ${unit}`, actual: round(actual), unit, met: actual <= max };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Progress goes to stderr so stdout carries only the final JSON. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Service logs to stderr at warn and above: stdout is reserved for the result. */
export function benchLogger(service: string): Logger {
  return pino({ name: service, level: process.env.BENCH_LOG_LEVEL ?? 'error', base: { service } }, pino.destination(2));
}

export function newPrefix(kind: string): string {
  return `bench-${kind}-${randomBytes(3).toString('hex')}`;
}

/**
 * The environment a service started by the benchmark sees: the caller's, plus the benchmark's own settings. The
 * services ask for no API key (`AUTH_REQUIRED=true` in the caller's environment measures them with the check, but
 * the benchmark's clients send none yet).
 */
export function serviceEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { AUTH_REQUIRED: 'false', ...process.env, PORTRAIT_PREFIX: prefix, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error', ...extra };
}

export interface Infra {
  es: Client;
  redis: Redis;
  esUrl: string;
  redisUrl: string;
  close: () => Promise<void>;
}

export function connectInfra(): Infra {
  const common = parseEnv(CommonEnv, process.env);
  const es = createEsClient({ url: common.ES_URL, username: common.ES_USERNAME, password: common.ES_PASSWORD, requestTimeoutMs: 120_000 });
  const redis = createRedis(common.REDIS_URL, 'worker');
  redis.on('error', (err) => progress(`redis error: ${err.message}`));
  return {
    es,
    redis,
    esUrl: common.ES_URL,
    redisUrl: common.REDIS_URL,
    close: async () => {
      await es.close();
      await redis.quit();
    },
  };
}

/** Deletes a prefix's indices, templates and Redis keys. */
/** The Redis namespace of a prefix's data set (created with its id when the services have not run yet). */
export async function namespaceOf(infra: Infra, prefix: string): Promise<string> {
  return (await ensureDataSet(infra.es, prefix)).namespace;
}

export async function cleanup(infra: Infra, prefix: string): Promise<void> {
  await deletePrefix(infra.es, prefix);
  let cursor = '0';
  do {
    const [next, keys] = await infra.redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await infra.redis.unlink(...keys);
  } while (cursor !== '0');
}

export async function machineInfo(infra: Infra): Promise<MachineInfo> {
  const cpus = os.cpus();
  const info: MachineInfo = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  try {
    const nodes = await infra.es.nodes.info({ filter_path: 'nodes.*.version,nodes.*.jvm.version,nodes.*.jvm.mem.heap_max_in_bytes' });
    const node = Object.values(nodes.nodes)[0];
    if (node)
      info.elasticsearch = `${node.version} (JVM ${node.jvm?.version}, heap ${round((node.jvm?.mem?.heap_max_in_bytes ?? 0) / 2 ** 30, 2)} GiB)`;
  } catch {
    // Informational only.
  }
  try {
    const server = await infra.redis.info('server');
    info.redis = /redis_version:(\S+)/.exec(server)?.[1];
  } catch {
    // Informational only.
  }
  return info;
}

/** Nearest-rank percentiles of a sample, in its unit. */
export function summarize(values: number[]): {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return {
    count: sorted.length,
    min: round(at(0)),
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(mean),
  };
}

/** Runs `worker` on `concurrency` lanes until it returns false. */
export async function lanes(concurrency: number, worker: (lane: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (await worker(lane));
    }),
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fails loudly if the generator produces events the ingest API would reject. */
export function checkEvents(events: Iterable<unknown>, limit = 1000): number {
  let checked = 0;
  for (const event of events) {
    const parsed = EventSchema.safeParse(event);
    if (!parsed.success) {
      throw new Error(`synthetic event ${checked} is invalid: ${JSON.stringify(parsed.error.issues)}\n${JSON.stringify(event)}`);
    }
    if (++checked >= limit) break;
  }
  return checked;
}

/** CPU seconds used so far by the pieces that share the machine, to attribute load between them. */
export interface CpuSnapshot {
  at: number;
  elasticsearchMs?: number;
  redisMs?: number;
  benchProcessMs: number;
  childMs?: number;
}

let esPid: Promise<number | undefined> | undefined;

/** The local Elasticsearch process id, when the node runs on this machine (its /proc entry is readable). */
function localEsPid(infra: Infra): Promise<number | undefined> {
  esPid ??= infra.es.nodes
    .info({ metric: 'process', filter_path: 'nodes.*.process.id' })
    .then((info) => {
      const pid = Object.values(info.nodes)[0]?.process?.id;
      return pid !== undefined && procCpuMs(pid) !== undefined ? pid : undefined;
    })
    .catch(() => undefined);
  return esPid;
}

export async function cpuSnapshot(infra: Infra, childPid?: number): Promise<CpuSnapshot> {
  const snap: CpuSnapshot = { at: Date.now(), benchProcessMs: cpuMsOfSelf() };
  // /proc is exact; the nodes-stats figure is cached by Elasticsearch for about a second.
  const pid = await localEsPid(infra);
  if (pid !== undefined) snap.elasticsearchMs = procCpuMs(pid);
  else {
    try {
      const stats = await infra.es.nodes.stats({ metric: 'process', filter_path: 'nodes.*.process.cpu.total_in_millis' });
      snap.elasticsearchMs = Object.values(stats.nodes)[0]?.process?.cpu?.total_in_millis;
    } catch {
      // Left out when the cluster does not report it.
    }
  }
  try {
    const info = await infra.redis.info('cpu');
    const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
    const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
    if (Number.isFinite(sys) && Number.isFinite(user)) snap.redisMs = (sys + user) * 1000;
  } catch {
    // Informational only.
  }
  if (childPid !== undefined) snap.childMs = procCpuMs(childPid);
  return snap;
}

/** Share of one core each component used between two snapshots (1.0 = one core busy). */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, childName = 'child'): Record<string, number> {
  const wall = Math.max(1, b.at - a.at);
  const out: Record<string, number> = {};
  const share = (name: string, x?: number, y?: number): void => {
    if (x !== undefined && y !== undefined) out[name] = round((y - x) / wall, 2);
  };
  share('elasticsearch', a.elasticsearchMs, b.elasticsearchMs);
  share('redis', a.redisMs, b.redisMs);
  share('benchProcess', a.benchProcessMs, b.benchProcessMs);
  share(childName, a.childMs, b.childMs);
  return out;
}

function cpuMsOfSelf(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const CLOCK_TICKS = 100;

/** utime + stime of a process from /proc, in ms; undefined once it is gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is index 0, utime 11, stime 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak RSS as tracked by the kernel) of a process, in MB. */
export function procMemoryMb(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
    return { rss: round(kb('VmRSS') / 1024, 1), peak: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return undefined;
  }
}

export function finish(
  benchmark: string,
  started: number,
  machine: MachineInfo,
  parameters: Record<string, unknown>,
  figures: Record<string, unknown>,
  targets: Target[],
  notes: string[] = [],
): BenchResult {
  return {
    benchmark,
    startedAt: new Date(started).toISOString(),
    durationSeconds: round((Date.now() - started) / 1000, 1),
    parameters,
    machine,
    figures,
    targets,
    met: targets.every((t) => t.met),
    notes,
  };
}

/** The correctness check of the runs that fold events: profiles in the index and the sum of their `eventCount`. */
export async function eventCountTotals(infra: Infra, alias: string): Promise<{ profiles: number; eventCountSum: number }> {
  await infra.es.indices.refresh({ index: alias });
  const agg = await infra.es.search({
    index: alias,
    size: 0,
    track_total_hits: true,
    aggs: { events: { sum: { field: 'behavior.eventCount' } } },
  });
  const eventCountSum = (agg.aggregations?.events as estypes.AggregationsSumAggregate | undefined)?.value ?? 0;
  const profiles = typeof agg.hits.total === 'number' ? agg.hits.total : (agg.hits.total?.value ?? 0);
  return { profiles, eventCountSum };
}
