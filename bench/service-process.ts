import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadIngestConfig, startIngest } from '@portrait/ingest';
import { loadIndexerConfig, startIndexer } from '@portrait/indexer';
import { loadQueryConfig, startQuery } from '@portrait/query';
import { loadJobsConfig, startJobs } from '@portrait/jobs';
import { benchLogger, progress } from './harness';

const REPO_ROOT = path.resolve(__dirname, '..');

/** The log line each service prints once it listens, with its URL. */
const READY = {
  ingest: 'ingest listening',
  indexer: 'indexer running',
  query: 'query listening',
  jobs: 'jobs running',
} as const;

export type ServiceName = keyof typeof READY;

export interface ServiceProcess {
  name: ServiceName;
  /** The node process itself (spawned directly, not through npx, so /proc/<pid> is the service). */
  pid: number;
  url: string;
  logs: { warn: number; error: number; samples: string[] };
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop: (graceMs?: number) => Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kills every service process still running (for interrupted runs). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * Starts `services/<name>/src/main.ts` as `node --import tsx` with `env` (port 0 is fine: the URL is
 * read from the service's start-up log line). Warnings and errors are counted and echoed to stderr.
 * BENCH_CHILD_NODE_ARGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a service.
 */
/** Mirrors scripts/up.sh and docker-compose.yml. */
const INDEXER_NODE_OPTIONS = '--max-old-space-size=256';

export async function spawnService(
  name: ServiceName,
  env: Record<string, string | undefined>,
  timeoutMs = 120_000,
): Promise<ServiceProcess> {
  const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', `services/${name}/src/main.ts`], {
    cwd: REPO_ROOT,
    // The indexer runs with the heap cap the product starts it with (scripts/up.sh, docker-compose.yml).
    env: { ...(name === 'indexer' ? { NODE_OPTIONS: INDEXER_NODE_OPTIONS } : {}), ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const logs = { warn: 0, error: 0, samples: [] as string[] };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { level?: number; msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        process.stderr.write(`[${name}] ${line}\n`);
        return;
      }
      if (entry.msg === READY[name] && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
      if ((entry.level ?? 0) >= 40) {
        if ((entry.level ?? 0) >= 50) logs.error++;
        else logs.warn++;
        if (logs.samples.length < 10) logs.samples.push(line.slice(0, 500));
        if (logs.warn + logs.error <= 5) process.stderr.write(`[${name}] ${line.slice(0, 500)}\n`);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name} stderr] ${line}\n`));
  });
  progress(`${name} child process ${child.pid} ready at ${url}`);
  return {
    name,
    pid: child.pid!,
    url,
    logs,
    stop: async (graceMs = 90_000) => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface RunningService {
  url: string;
  /** Set when the service runs in its own process. */
  pid?: number;
  stop: () => Promise<unknown>;
}

/** Starts a service in this process (port 0, logs to stderr) or as a child process. */
export async function startService(
  name: ServiceName,
  env: Record<string, string | undefined>,
  where: 'process' | 'child',
): Promise<RunningService> {
  if (where === 'child') {
    const child = await spawnService(name, env);
    return { url: child.url, pid: child.pid, stop: () => child.stop() };
  }
  switch (name) {
    case 'ingest':
      return startIngest(loadIngestConfig(env), benchLogger(name));
    case 'query':
      return startQuery(loadQueryConfig(env), benchLogger(name));
    case 'indexer':
      return startIndexer(loadIndexerConfig(env), benchLogger(name));
    case 'jobs':
      return startJobs(loadJobsConfig(env), benchLogger(name));
  }
}

/** Prometheus text from `<url>/metrics`, summed per series name (labels dropped). */
export async function scrapeMetrics(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    // Histogram buckets are cumulative; summing them across labels would mean nothing.
    if (m[1]!.endsWith('_bucket')) continue;
    out[m[1]!] = (out[m[1]!] ?? 0) + value;
  }
  return out;
}
