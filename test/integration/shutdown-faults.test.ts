import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { indexNames } from '@portrait/shared';
import { createDeadLetterQueue, createIngestQueue, type Client, type DeadLetter, type IngestJobData, type Redis } from '@portrait/runtime';
import { REPO_ROOT, baseEnv, cleanup, esClient, eventually, http, redisClient, testPrefix, type Env, namespaceOf } from '../support/stack';

// All four services as OS processes, SIGTERMed together while a client streams batches to ingest;
// after a restart the stream finishes and every profile counter must be exact.

const USERS = 40;
// Many small batches: ingest answers the requests in flight when SIGTERM arrives (each with
// `connection: close`), and the stream must still have a part left for after the restart.
const BATCHES = 600;
const PER_BATCH = 8;
const CLIENTS = 6;
/** Fraction of the stream answered before the SIGTERM. */
const KILL_AT = 0.3;
/** How long a process may take to exit on its own after SIGTERM. */
const EXIT_DEADLINE_MS = 20_000;

type ServiceName = 'ingest' | 'indexer' | 'query' | 'jobs';
const SERVICES: ServiceName[] = ['ingest', 'indexer', 'query', 'jobs'];
const PORT_VAR: Record<ServiceName, string> = { ingest: 'INGEST_PORT', indexer: 'INDEXER_PORT', query: 'QUERY_PORT', jobs: 'JOBS_PORT' };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

interface ServiceProcess {
  name: ServiceName;
  url: string;
  child: ChildProcess;
  exit: Promise<Exit>;
  exited?: Exit;
  /** Tail of the process's stdout and stderr, for failure messages. */
  output: () => string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function spawnService(name: ServiceName, env: Env, port: number): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, `services/${name}/src/main.ts`)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, [PORT_VAR[name]]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const svc: ServiceProcess = {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    exit: new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => {
        svc.exited = { code, signal, at: Date.now() };
        resolve(svc.exited);
      }),
    ),
    output: () => tail,
  };
  return svc;
}

async function ready(svc: ServiceProcess): Promise<void> {
  const up = eventually(async () => (await http('GET', `${svc.url}/readyz`)).status === 200, 45_000, `${svc.name} /readyz 200`);
  const died = svc.exit.then((exit) => {
    throw new Error(`${svc.name} exited before it was ready (${JSON.stringify(exit)}):\n${svc.output()}`);
  });
  await Promise.race([up, died]);
}

/** What the client sends; the stream is fixed in advance, so per-user expectations are known per event. */
interface PlannedEvent {
  eventId: string;
  userId: string;
  purchase: boolean;
  body: Record<string, unknown>;
}

function plan(prefix: string): PlannedEvent[][] {
  const now = Date.now();
  const batches: PlannedEvent[][] = [];
  let n = 0;
  for (let b = 0; b < BATCHES; b++) {
    const batch: PlannedEvent[] = [];
    for (let i = 0; i < PER_BATCH; i++, n++) {
      // Uneven spread, so users end with different counts.
      const userId = `${prefix}-u${(n * 7 + (n >> 3)) % USERS}`;
      const eventId = `${prefix}-e${n}`;
      const timestamp = new Date(now - (n % 3600) * 1000).toISOString();
      const common = { eventId, userId, timestamp };
      const kind = n % 10;
      let body: Record<string, unknown>;
      if (kind < 2) {
        const quantity = 1 + (n % 3);
        const unitPrice = 10 + (n % 5) * 5;
        body = {
          ...common,
          type: 'purchase',
          order: {
            orderId: `o-${n}`,
            amount: quantity * unitPrice,
            currency: 'EUR',
            paymentMethod: n % 2 === 0 ? 'card' : 'paypal',
            lines: [{ itemId: `sku-${n % 13}`, quantity, unitPrice, category: [`cat-${n % 4}`], brand: `brand-${n % 3}` }],
          },
        };
      } else if (kind === 2) {
        body = { ...common, type: 'search', query: `q${n % 17}` };
      } else if (kind === 3) {
        body = { ...common, type: 'add_to_cart', itemId: `sku-${n % 13}`, category: [`cat-${n % 4}`], brand: `brand-${n % 3}`, price: 12 };
      } else {
        body = { ...common, type: 'page_view', category: [`cat-${n % 4}`], brand: `brand-${n % 3}` };
      }
      batch.push({ eventId, userId, purchase: kind < 2, body });
    }
    batches.push(batch);
  }
  return batches;
}

type Attempt = { ok: true; results: { index: number; status: string; eventId: string }[] } | { ok: false; reason: string };

async function postBatch(url: string, batch: PlannedEvent[]): Promise<Attempt> {
  try {
    const res = await fetch(`${url}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: batch.map((e) => e.body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 202) return { ok: true, results: (JSON.parse(text) as { results: [] }).results };
    return { ok: false, reason: `HTTP ${res.status} ${text.slice(0, 200)}` };
  } catch (error) {
    // A broken connection may or may not have queued the batch: the re-send settles it.
    const cause = (error as { cause?: { code?: string } }).cause;
    return { ok: false, reason: `connection: ${cause?.code ?? (error as Error).name}` };
  }
}

/** Adds what the test knows (queue state, service logs) to a failure, so a timeout explains itself. */
async function explained<T>(work: Promise<T>, context: () => Promise<string>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const detail = await context().catch((e: unknown) => `(no context: ${String(e)})`);
    throw new Error(`${(error as Error).message}\n${detail}`, { cause: error });
  }
}

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function closedGate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('every service SIGTERMed at once while events stream in', () => {
  const prefix = testPrefix('sigterm');
  const env = baseEnv(prefix, { LOG_LEVEL: 'warn' });
  let es: Client;
  let redis: Redis;
  let queue: Queue<IngestJobData>;
  let dlq: Queue<DeadLetter>;
  const spawned: ServiceProcess[] = [];
  let aborted = false;
  let outage: Gate | undefined;

  beforeAll(async () => {
    es = esClient();
    redis = redisClient();
    queue = createIngestQueue(redis, await namespaceOf(es, prefix));
    dlq = createDeadLetterQueue(redis, await namespaceOf(es, prefix));
  });

  afterAll(async () => {
    aborted = true;
    outage?.open();
    for (const svc of spawned) if (!svc.exited) svc.child.kill('SIGKILL');
    await Promise.all(spawned.map((svc) => svc.exit));
    await Promise.all([queue.close(), dlq.close()]);
    await cleanup(prefix, es, redis);
    await es.close();
    redis.disconnect();
  });

  it('exits 0 within the deadline, and after a restart every accepted event is counted exactly once', async () => {
    const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const))) as Record<
      ServiceName,
      number
    >;
    const startAll = async (): Promise<Record<ServiceName, ServiceProcess>> => {
      const procs = SERVICES.map((name) => spawnService(name, env, ports[name]));
      spawned.push(...procs);
      await Promise.all(procs.map(ready));
      return Object.fromEntries(procs.map((p) => [p.name, p])) as Record<ServiceName, ServiceProcess>;
    };

    const batches = plan(prefix);
    const ingestUrl = `http://127.0.0.1:${ports.ingest}`;
    /** Answers per event id: how often ingest said accepted / duplicate in a 202. */
    const answers = new Map<string, { accepted: number; duplicate: number }>();
    /** Events whose request failed at least once: their fate was unknown until re-sent. */
    const uncertain = new Set<string>();
    const failures: { batch: number; reason: string }[] = [];
    let answered = 0;
    let answeredDuringShutdown = 0;
    let answeredAfterRestart = 0;
    let restarted = false;
    let nextBatch = 0;

    const client = async (): Promise<void> => {
      for (;;) {
        if (aborted) return;
        const b = nextBatch++;
        if (b >= batches.length) return;
        const batch = batches[b]!;
        for (;;) {
          const attempt = await postBatch(ingestUrl, batch);
          if (attempt.ok) {
            expect(attempt.results.map((r) => r.eventId)).toEqual(batch.map((e) => e.eventId));
            for (const r of attempt.results) {
              const a = answers.get(r.eventId) ?? { accepted: 0, duplicate: 0 };
              if (r.status === 'accepted') a.accepted++;
              else if (r.status === 'duplicate') a.duplicate++;
              else throw new Error(`event ${r.eventId} answered ${r.status}`);
              answers.set(r.eventId, a);
            }
            answered++;
            if (outage) answeredDuringShutdown++;
            if (restarted) answeredAfterRestart++;
            break;
          }
          // Only the shutdown window may fail requests; anything else is a product failure.
          if (!outage) throw new Error(`batch ${b} failed outside the shutdown window: ${attempt.reason}`);
          failures.push({ batch: b, reason: attempt.reason });
          for (const e of batch) uncertain.add(e.eventId);
          await outage.promise;
          if (aborted) return;
        }
      }
    };

    const started = Date.now();
    let stack = await startAll();
    const startupMs = Date.now() - started;
    const clients = Promise.all(Array.from({ length: CLIENTS }, client));
    clients.catch(() => undefined); // awaited after the restart; a client failure must not go unhandled until then

    const context = async (): Promise<string> => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      const logs = spawned.map((svc) => `--- ${svc.name} (${svc.exited ? JSON.stringify(svc.exited) : 'running'}):\n${svc.output()}`);
      return [`answered ${answered}/${BATCHES} batches; ingest queue ${JSON.stringify(counts)}`, ...logs].join('\n');
    };
    await explained(
      eventually(async () => answered >= BATCHES * KILL_AT, 30_000, `${KILL_AT * 100} % of the stream answered`),
      context,
    );
    outage = closedGate();
    const queueAtSigterm = await queue.getJobCounts('waiting', 'active', 'completed');
    const sigtermAt = Date.now();
    for (const svc of Object.values(stack)) svc.child.kill('SIGTERM');
    const answeredAtSigterm = answered;
    expect(answeredAtSigterm).toBeLessThan(BATCHES);

    // Each process must finish on its own: a clean exit code, no signal, within the deadline.
    const exits = await Promise.all(
      Object.values(stack).map(async (svc) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_DEADLINE_MS)));
        const exit = await Promise.race([svc.exit, late]);
        clearTimeout(timer);
        return { name: svc.name, exit, output: svc.output() };
      }),
    );
    for (const { name, exit, output } of exits) {
      if (exit === 'late') throw new Error(`${name} did not exit within ${EXIT_DEADLINE_MS} ms of SIGTERM:\n${output}`);
      expect({ name, code: exit.code, signal: exit.signal }).toEqual({ name, code: 0, signal: null });
      // Exit 0 also follows a shutdown step that timed out or threw; that is not graceful.
      expect({ name, shutdownErrors: output.split('\n').filter((l) => /shutdown step failed|shutdown took too long/.test(l)) }).toEqual({
        name,
        shutdownErrors: [],
      });
    }
    const exitMs = Object.fromEntries(exits.map(({ name, exit }) => [name, (exit as Exit).at - sigtermAt]));

    // The indexer drained: nothing left locked by the stopped worker, nothing failed.
    expect(await queue.getJobCounts('active', 'failed')).toEqual({ active: 0, failed: 0 });

    stack = await startAll();
    const gate = outage;
    outage = undefined;
    restarted = true;
    gate.open();
    await clients;
    // The stream really went on after the restart: the failed requests were re-sent there, plus whatever was left.
    expect(failures.length).toBeGreaterThan(0);
    expect(answeredAfterRestart).toBeGreaterThanOrEqual(failures.length);

    // Every planned event has now been answered 202; a duplicate only where an earlier send was in doubt.
    const all = batches.flat();
    expect(answers.size).toBe(all.length);
    const unexplained = [...answers].filter(([id, a]) => !uncertain.has(id) && (a.accepted !== 1 || a.duplicate !== 0));
    expect(unexplained).toEqual([]);
    const acceptedTwice = [...answers].filter(([, a]) => a.accepted > 1).length;

    // Accepted = answered accepted or duplicate in a 202; every one must count once.
    const expected = new Map<string, { eventCount: number; orders: number }>();
    for (const e of all) {
      if (!answers.has(e.eventId)) continue;
      const x = expected.get(e.userId) ?? { eventCount: 0, orders: 0 };
      x.eventCount++;
      if (e.purchase) x.orders++;
      expected.set(e.userId, x);
    }
    expect(expected.size).toBe(USERS);
    const users = [...expected.keys()].sort();

    await explained(
      eventually(
        async () => {
          const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
          return Object.values(c).every((v) => v === 0);
        },
        60_000,
        'ingest queue drained after restart',
      ),
      context,
    );
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
    expect(await dlq.count()).toBe(0);

    const names = indexNames(prefix);
    await es.indices.refresh({ index: [names.profiles, names.events] });
    const docs = await es.mget<{ behavior: { eventCount: number }; purchases: { orders: number } }>({
      index: names.profiles,
      ids: users,
      _source_includes: ['behavior.eventCount', 'purchases.orders'],
    });
    const stored = new Map(
      docs.docs.map((d) => [
        d._id,
        'found' in d && d.found ? { eventCount: d._source!.behavior.eventCount, orders: d._source!.purchases.orders } : undefined,
      ]),
    );
    expect(stored).toEqual(expected);

    // The same numbers through the query service.
    const served = new Map<string, { eventCount: number; orders: number }>();
    for (const userId of users) {
      const res = await http('GET', `${stack.query.url}/v1/users/${encodeURIComponent(userId)}/profile`);
      expect({ userId, status: res.status }).toEqual({ userId, status: 200 });
      served.set(userId, { eventCount: res.body.behavior.eventCount, orders: res.body.purchases.orders });
    }
    expect(served).toEqual(expected);

    // Event history holds each event once, under its id.
    expect((await es.count({ index: names.events })).count).toBe(all.length);

    const reasons: Record<string, number> = {};
    for (const f of failures) reasons[f.reason] = (reasons[f.reason] ?? 0) + 1;
    // The run's figures, when asked for (TEST_LOG_LEVEL set): how the shutdown went.
    if (process.env.TEST_LOG_LEVEL)
      process.stderr.write(`${JSON.stringify({
        events: all.length,
        startupMs,
        queueAtSigterm,
        answeredAtSigterm,
        answeredDuringShutdown,
        answeredAfterRestart,
        exitMs,
        failedRequests: failures.length,
        reasons,
        uncertainEvents: uncertain.size,
        duplicatesOnResend: [...answers.values()].filter((a) => a.duplicate > 0).length,
        acceptedTwice,
        totalMs: Date.now() - started,
      })}
`);

    for (const svc of Object.values(stack)) svc.child.kill('SIGTERM');
    const finalExits = await Promise.all(Object.values(stack).map(async (svc) => ({ name: svc.name, code: (await svc.exit).code })));
    expect(finalExits).toEqual(SERVICES.map((name) => ({ name, code: 0 })));
  }, 120_000);
});
