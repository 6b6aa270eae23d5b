/**
 * The dead-letter queue, for operators: see what the indexer could not apply, and put it back once the
 * cause is fixed.
 *
 *   npx tsx scripts/dlq.ts list [--limit <n>]
 *   npx tsx scripts/dlq.ts show <id> [--reveal-contacts]
 *   npx tsx scripts/dlq.ts replay <id>... | --all
 *   npx tsx scripts/dlq.ts purge [<id>...] [--older-than <hours>]
 *
 * It reads two places: the dead-letter queue (events or items the indexer could not apply, with the stage
 * and the reason; batches whose retries ran out land here too) and the ingest queue's failed set (which
 * stays empty unless dead-lettering itself failed). Replay puts a dead-lettered payload back on the ingest
 * queue as one job, the way ingest queues it, with the stages that were already done, so only the failed
 * stage runs again: replaying an event the profile counted long ago cannot count it twice. The replay job's
 * id is derived from the entry's, so a replay interrupted and run again does not queue it twice.
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379), PORTRAIT_PREFIX (default portrait).
 */
import { SingleBar } from 'cli-progress';
import type { Job, JobType, JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import {
  CliError,
  CommonEnv,
  ConfigError,
  JobName,
  maskContacts,
  QueuedEventSchema,
  QueuedItemSchema,
  parseEnv,
  toIssues,
  redactUrl,
} from '@portrait/shared';
import {
  REPLAY_JOB_OPTIONS,
  createDeadLetterQueue,
  createIngestQueue,
  replayJobId,
  type DeadLetter,
  type IngestJobData,
  type Redis,
} from '@portrait/runtime';
import { connectDataSet, parseCliArgs } from './cli';

const USAGE = `Usage: npx tsx scripts/dlq.ts <command>

Commands:
  list [--limit <n>]                     dead-lettered entries and failed ingest batches, newest first (default limit 50 each)
  show <id> [--reveal-contacts]          one entry in full, as JSON (e-mails and phones masked unless revealed)
  replay <id>... | --all                 put entries back on the ingest queue and remove them here
  purge [<id>...] [--older-than <hours>] remove entries for good (all of them unless ids or an age are given)

Environment: REDIS_URL (default redis://127.0.0.1:6379), PORTRAIT_PREFIX (default portrait).`;

const DlqEnv = CommonEnv.pick({ REDIS_URL: true, PORTRAIT_PREFIX: true });
type DlqConfig = z.infer<typeof DlqEnv>;

/** Nobody consumes the dead-letter queue, so entries sit in "waiting"; the other states are read in case one does. */
const DEAD_LETTER_STATES: JobType[] = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'];
const DEAD_LETTER_CLEANABLE = ['wait', 'prioritized', 'delayed', 'completed', 'failed'] as const;

type Source = 'dead-letter' | 'ingest-failed';

interface Row {
  source: Source;
  id: string;
  stage: string;
  reason: string;
  failedAt: string;
  events: number;
  items: number;
}

interface Context {
  config: DlqConfig;
  redis: Redis;
  deadLetter: Queue<DeadLetter>;
  ingest: Queue<IngestJobData>;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv);
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = parseEnv(DlqEnv, process.env);
  const ctx = await connect(config);
  try {
    switch (command) {
      case 'list':
        return await list(ctx, positiveInt('--limit', values.limit ?? '50'));
      case 'show':
        if (args.length !== 1) throw new CliError('show takes exactly one id; run `list` to see them', 2);
        return await show(ctx, args[0]!, values['reveal-contacts'] === true);
      case 'replay':
        if (values.all && args.length > 0) throw new CliError('give either ids or --all to replay, not both', 2);
        if (!values.all && args.length === 0) throw new CliError('replay what? give entry ids (see `list`) or --all', 2);
        return await replay(ctx, values.all ? undefined : args);
      case 'purge':
        return await purge(
          ctx,
          args,
          values['older-than'] === undefined ? undefined : positiveNumber('--older-than', values['older-than']),
        );
      default:
        throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
    }
  } finally {
    await Promise.allSettled([ctx.deadLetter.close(), ctx.ingest.close()]);
    await ctx.redis.quit().catch(() => ctx.redis.disconnect());
  }
}

function parseCli(argv: string[]) {
  return parseCliArgs(
    argv,
    {
      all: { type: 'boolean' },
      'reveal-contacts': { type: 'boolean' },
      'older-than': { type: 'string' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
}

function positiveInt(flag: string, raw: string): number {
  const parsed = z.coerce.number().int().min(1).max(1_000_000).safeParse(raw);
  if (!parsed.success) throw new CliError(`${flag} takes a whole number from 1 to 1000000, got "${raw}"`, 2);
  return parsed.data;
}

function positiveNumber(flag: string, raw: string): number {
  const parsed = z.coerce.number().positive().finite().safeParse(raw);
  if (!parsed.success) throw new CliError(`${flag} takes a positive number of hours (e.g. 24 or 0.5), got "${raw}"`, 2);
  return parsed.data;
}

async function connect(config: DlqConfig): Promise<Context> {
  const { redis, namespace } = await connectDataSet(config.REDIS_URL, config.PORTRAIT_PREFIX, 'there is no dead-letter queue');
  const deadLetter = createDeadLetterQueue(redis, namespace);
  const ingest = createIngestQueue(redis, namespace);
  for (const queue of [deadLetter, ingest]) queue.on('error', () => undefined);
  return { config, redis, deadLetter, ingest };
}

// ---------------------------------------------------------------- list

async function list(ctx: Context, limit: number): Promise<number> {
  const [deadCount, failedCount] = await Promise.all([
    ctx.deadLetter.getJobCountByTypes(...DEAD_LETTER_STATES),
    ctx.ingest.getJobCountByTypes('failed'),
  ]);
  const where = `prefix "${ctx.config.PORTRAIT_PREFIX}" on ${redactUrl(ctx.config.REDIS_URL)}`;
  process.stdout.write(
    `Dead-letter queue: ${plural(deadCount, 'entry', 'entries')}; ingest queue failed set: ${plural(failedCount, 'batch', 'batches')} (${where})\n`,
  );
  if (deadCount + failedCount === 0) {
    process.stdout.write('Nothing to do. (Looking for another deployment? Set PORTRAIT_PREFIX and REDIS_URL.)\n');
    return 0;
  }
  const [dead, failed] = await Promise.all([
    ctx.deadLetter.getJobs(DEAD_LETTER_STATES, 0, limit - 1),
    ctx.ingest.getJobs(['failed'], 0, limit - 1),
  ]);
  const rows = [...uniqueJobs(dead).slice(0, limit).map(deadLetterRow), ...uniqueJobs(failed).slice(0, limit).map(failedBatchRow)].sort(
    (a, b) => b.failedAt.localeCompare(a.failedAt),
  );
  process.stdout.write(`\n${table(rows)}\n`);
  const hidden = deadCount + failedCount - rows.length;
  if (hidden > 0) process.stdout.write(`\n… and ${hidden} more; raise --limit to see them.\n`);
  process.stdout.write('\nNext: `show <id>` for the full payload, `replay <id>...` or `replay --all` once the cause is fixed.\n');
  return 0;
}

function deadLetterRow(job: Job<DeadLetter>): Row {
  const data = job.data ?? ({} as Partial<DeadLetter>);
  return {
    source: 'dead-letter',
    id: job.id ?? '?',
    stage: data.stage ?? job.name,
    reason: data.reason ?? '',
    failedAt: data.failedAt ?? new Date(job.timestamp).toISOString(),
    events: data.events?.length ?? 0,
    items: data.items?.length ?? 0,
  };
}

function failedBatchRow(job: Job<IngestJobData>): Row {
  const data = (job.data ?? {}) as Partial<{ events: unknown[]; items: unknown[] }>;
  return {
    source: 'ingest-failed',
    id: job.id ?? '?',
    stage: 'attempts-exhausted',
    reason: job.failedReason ?? '',
    failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
    events: Array.isArray(data.events) ? data.events.length : 0,
    items: Array.isArray(data.items) ? data.items.length : 0,
  };
}

function table(rows: Row[]): string {
  const header = ['ID', 'SOURCE', 'STAGE', 'FAILED AT', 'EVENTS', 'ITEMS', 'REASON'];
  const cells = rows.map((r) => [r.id, r.source, r.stage, r.failedAt, String(r.events), String(r.items), oneLine(r.reason, 100)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const numeric = new Set([4, 5]);
  const format = (line: string[]) =>
    line.map((cell, i) => (i === line.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ');
  return [format(header), ...cells.map(format)].join('\n');
}

// ---------------------------------------------------------------- show

/** One entry as JSON; contact data in the payload is masked (`maskContacts`) unless `reveal` is asked for. */
async function show(ctx: Context, id: string, reveal: boolean): Promise<number> {
  const found = await find(ctx, id);
  const { job, source } = found;
  const state = await job.getState();
  const out =
    source === 'dead-letter'
      ? { source, id: job.id, state, createdAt: new Date(job.timestamp).toISOString(), ...(job.data as DeadLetter) }
      : {
          source,
          id: job.id,
          name: job.name,
          state,
          createdAt: new Date(job.timestamp).toISOString(),
          failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
          attemptsMade: job.attemptsMade,
          failedReason: job.failedReason,
          stacktrace: job.stacktrace,
          data: job.data,
        };
  process.stdout.write(`${JSON.stringify(reveal ? out : maskContacts(out), null, 2)}\n`);
  return 0;
}

type Found = { source: 'dead-letter'; job: Job<DeadLetter> } | { source: 'ingest-failed'; job: Job<IngestJobData> };

async function find(ctx: Context, id: string): Promise<Found> {
  const dead = await ctx.deadLetter.getJob(id);
  if (dead) return { source: 'dead-letter', job: dead };
  const batch = await ctx.ingest.getJob(id);
  if (batch) return { source: 'ingest-failed', job: batch };
  throw new CliError(
    `no entry "${id}" in the dead-letter queue or the ingest queue (prefix "${ctx.config.PORTRAIT_PREFIX}").\n` +
      'Run `list` to see the ids; if it is empty, check PORTRAIT_PREFIX and REDIS_URL.',
  );
}

// ---------------------------------------------------------------- replay

type Outcome = { replayed: true; events: number; items: number; jobs: string[]; retried: boolean } | { replayed: false; why: string };

async function replay(ctx: Context, ids: string[] | undefined): Promise<number> {
  const targets = ids ?? (await allReplayable(ctx));
  if (targets.length === 0) {
    process.stdout.write('Nothing to replay: the dead-letter queue and the ingest failed set are empty.\n');
    return 0;
  }
  const bar =
    targets.length > 10
      ? new SingleBar({ format: 'replay [{bar}] {value}/{total} entries', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000 })
      : undefined;
  bar?.start(targets.length, 0);
  const problems: string[] = [];
  let entries = 0;
  let retried = 0;
  let events = 0;
  let items = 0;
  for (const id of targets) {
    let outcome: Outcome;
    try {
      outcome = await replayOne(ctx, id);
    } catch (error) {
      outcome = { replayed: false, why: error instanceof CliError ? error.message.split('\n')[0]! : `failed: ${(error as Error).message}` };
    }
    if (outcome.replayed) {
      entries += 1;
      if (outcome.retried) retried += 1;
      events += outcome.events;
      items += outcome.items;
      if (!bar) {
        const what = outcome.retried ? 'failed batch retried' : `queued as ingest job ${outcome.jobs.join(', ')}`;
        process.stdout.write(`${id}: ${what} (${plural(outcome.events, 'event')}, ${plural(outcome.items, 'item')})\n`);
      }
    } else {
      problems.push(`${id}: ${outcome.why}`);
    }
    bar?.increment();
  }
  bar?.stop();
  process.stdout.write(
    `Replayed ${plural(entries, 'entry', 'entries')} (${plural(events, 'event')}, ${plural(items, 'item')}` +
      `${retried > 0 ? `; ${plural(retried, 'failed batch', 'failed batches')} retried in place` : ''}).\n`,
  );
  if (entries > 0) {
    process.stdout.write('The indexer applies them as it takes them; anything that fails again comes back to the dead-letter queue.\n');
  }
  if (problems.length > 0) {
    process.stderr.write(`\nNot replayed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

async function allReplayable(ctx: Context): Promise<string[]> {
  // An active entry is being handled by someone else; leave it alone.
  const [dead, failed] = await Promise.all([
    ctx.deadLetter.getRanges(['waiting', 'prioritized', 'delayed', 'completed', 'failed'], 0, -1, true),
    ctx.ingest.getRanges(['failed'], 0, -1, true),
  ]);
  return [...new Set([...dead, ...failed])];
}

async function replayOne(ctx: Context, id: string): Promise<Outcome> {
  const found = await find(ctx, id);
  if (found.source === 'ingest-failed') {
    const state = await found.job.getState();
    if (state !== 'failed') return { replayed: false, why: `is ${state} in the ingest queue, not failed; nothing to replay` };
    // A fresh set of attempts: the batch had used all of its own.
    await found.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    const data = found.job.data as Partial<{ events: unknown[]; items: unknown[] }>;
    return { replayed: true, retried: true, jobs: [id], events: data.events?.length ?? 0, items: data.items?.length ?? 0 };
  }

  const { job } = found;
  const state = await job.getState();
  if (state === 'active') return { replayed: false, why: 'is being processed by another consumer right now; try again later' };
  const rawEvents = job.data.events ?? [];
  const rawItems = job.data.items ?? [];
  if (rawEvents.length === 0 && rawItems.length === 0) {
    return { replayed: false, why: `holds no events or items, so there is nothing to replay; remove it with \`purge ${id}\`` };
  }
  // Replaying what the indexer would reject again only moves it in a circle: say so instead.
  const parsedEvents = z.array(QueuedEventSchema).safeParse(rawEvents);
  const parsedItems = z.array(QueuedItemSchema).safeParse(rawItems);
  for (const [label, parsed] of [
    ['events', parsedEvents],
    ['items', parsedItems],
  ] as const) {
    if (!parsed.success) {
      const issues = toIssues(parsed.error, [label]).slice(0, 3);
      return {
        replayed: false,
        why:
          `payload still fails validation (${issues.map((i) => `${i.path}: ${i.reason}`).join('; ')}); ` +
          `it would be dead-lettered again. Inspect it with \`show ${id}\`, then remove it with \`purge ${id}\``,
      };
    }
  }
  const jobs: string[] = [];
  // The same job names and payload shapes as the ingest service queues, plus the stages already done.
  const queue = async (jobId: string, add: (opts: JobsOptions) => Promise<Job>): Promise<void> => {
    if (!(await ctx.ingest.getJob(jobId))) await add({ ...REPLAY_JOB_OPTIONS, jobId });
    jobs.push(jobId);
  };
  const done = job.data.done;
  if (parsedEvents.data!.length > 0) {
    await queue(replayJobId(id), (opts) => ctx.ingest.add(JobName.events, { events: parsedEvents.data!, ...(done ? { done } : {}) }, opts));
  }
  if (parsedItems.data!.length > 0) {
    await queue(`${replayJobId(id)}-items`, (opts) => ctx.ingest.add(JobName.items, { items: parsedItems.data! }, opts));
  }
  // Removed only after the payload is queued; a crash in between leaves the entry, and replaying it again finds its job.
  await job.remove();
  return { replayed: true, retried: false, jobs, events: rawEvents.length, items: rawItems.length };
}

// ---------------------------------------------------------------- purge

async function purge(ctx: Context, ids: string[], olderThanHours: number | undefined): Promise<number> {
  if (ids.length > 0 && olderThanHours !== undefined) throw new CliError('give either ids or --older-than to purge, not both', 2);
  if (ids.length > 0) {
    const problems: string[] = [];
    let removed = 0;
    for (const id of ids) {
      const dead = await ctx.deadLetter.getJob(id);
      const job = dead ?? (await ctx.ingest.getJob(id));
      if (!job) {
        problems.push(`${id}: not found; run \`list\` to see the ids`);
        continue;
      }
      // A live ingest batch is not the operator's to delete here.
      const state = dead ? undefined : await job.getState();
      if (state !== undefined && state !== 'failed') {
        problems.push(`${id}: is ${state} in the ingest queue, not failed; left alone`);
        continue;
      }
      await job.remove();
      removed += 1;
    }
    process.stdout.write(`Removed ${plural(removed, 'entry', 'entries')}.\n`);
    if (problems.length > 0) {
      process.stderr.write(`Not removed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    return 0;
  }

  const graceMs = olderThanHours === undefined ? 0 : olderThanHours * 3_600_000;
  let dead = 0;
  for (const state of DEAD_LETTER_CLEANABLE) dead += (await ctx.deadLetter.clean(graceMs, 0, state)).length;
  const failed = (await ctx.ingest.clean(graceMs, 0, 'failed')).length;
  const age = olderThanHours === undefined ? '' : ` older than ${olderThanHours} h`;
  process.stdout.write(
    `Removed ${plural(dead, 'dead-letter entry', 'dead-letter entries')} and ${plural(failed, 'failed ingest batch', 'failed ingest batches')}${age}.\n`,
  );
  return 0;
}

// ---------------------------------------------------------------- helpers

function uniqueJobs<T extends Job>(jobs: (T | undefined)[]): T[] {
  const seen = new Set<string>();
  return jobs.filter((j): j is T => j !== undefined && j.id !== undefined && !seen.has(j.id) && Boolean(seen.add(j.id)));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CliError) {
      process.stderr.write(`dlq: ${error.message}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : 1;
      return;
    }
    process.stderr.write(`dlq: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
