/**
 * Trains, lists and promotes models through the query service's models API, with a progress bar while a
 * training job runs in the jobs process.
 *
 *   npm run models -- list [--kind rfm]
 *   npm run models -- train <kind> [--seed 42] [--promote] [--param kMax=6 --param minLift=2]
 *   npm run models -- promote <kind> <version>
 *   npm run models -- show <kind> <version>
 *   npm run models -- ensure        (train and promote every kind that has no active version: what npm start runs)
 *
 * Environment: QUERY_URL (default http://127.0.0.1:3003).
 */
import { Presets, SingleBar } from 'cli-progress';
import { CliError, MODEL_KINDS, isModelKind } from '@portrait/shared';
import { fetchQueryService, parseCliArgs, QUERY_SERVICE_OPTIONS, queryService, runCli } from './cli';

const USAGE = `Usage: npm run models -- <command> [options]

Commands:
  list [--kind <kind>]                      every stored version, newest first
  train <kind> [--seed N] [--promote] [--param name=value ...]
                                            train a new version (kinds: ${MODEL_KINDS.join(', ')})
  promote <kind> <version>                  make a version the active one; every profile is re-scored
  show <kind> <version>                     one version with its quality figures (without the fitted state)
  ensure                                    train and promote every kind that has no active version yet

Options:
  --query-url <url>   the query service (default QUERY_URL or http://127.0.0.1:3003)
  --poll-ms <n>       how often to ask for progress (default 500)`;

interface Context {
  queryUrl: string;
  pollMs: number;
  /** Only the one-line outcome of each training (ensure). */
  quiet?: boolean;
}

async function call(c: Context, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetchQueryService(c.queryUrl, path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = (await res.json().catch(() => ({}))) as any;
  if (res.status >= 400) {
    const issues = (parsed.issues ?? []).map((i: { path: string; reason: string }) => `\n  ${i.path}: ${i.reason}`).join('');
    const advice =
      res.status === 503
        ? '; retry shortly (npm start brings Elasticsearch and Redis up)'
        : res.status === 400
          ? '; fix the options and run again'
          : '';
    throw new CliError(
      `${method} ${path} answered ${res.status}: ${parsed.message ?? res.statusText}${issues}${advice}`,
      res.status === 400 ? 2 : 1,
    );
  }
  return { status: res.status, body: parsed };
}

/** `name=value` pairs as training parameters: numbers and booleans as such, the rest as text. */
function parameters(pairs: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new CliError(`--param takes name=value, got "${pair}"`, 2);
      const raw = pair.slice(at + 1);
      const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
      return [pair.slice(0, at), value];
    }),
  );
}

function kindOf(value: string | undefined): string {
  if (value === undefined || !isModelKind(value)) throw new CliError(`give a model kind: one of ${MODEL_KINDS.join(', ')}\n\n${USAGE}`, 2);
  return value;
}

async function train(c: Context, kind: string, body: Record<string, unknown>): Promise<number> {
  const started = await call(c, 'POST', `/v1/models/${kind}/train`, body);
  process.stderr.write(`training ${kind} (job ${started.body.jobId})\n`);
  const bar = new SingleBar(
    { format: '  {phase} [{bar}] {value}/{total} rows', noTTYOutput: true, notTTYSchedule: 2000, hideCursor: true },
    Presets.shades_classic,
  );
  let barStarted = false;
  let status: any;
  try {
    for (;;) {
      status = (await call(c, 'GET', started.body.statusUrl)).body;
      const p = status.progress;
      if (p?.total !== undefined) {
        if (!barStarted) bar.start(p.total, p.rows, { phase: p.phase });
        else bar.update(p.rows, { phase: p.phase });
        barStarted = true;
      }
      if (status.state === 'completed' || status.state === 'failed') break;
      await new Promise((r) => setTimeout(r, c.pollMs));
    }
  } finally {
    if (barStarted) bar.stop();
  }
  if (status.state === 'failed') throw new CliError(`training ${kind} failed: ${status.failedReason ?? 'no reason given'}`);
  const model = (await call(c, 'GET', `/v1/models/${kind}/${status.model.version}`)).body;
  if (!c.quiet)
    process.stdout.write(
      `${JSON.stringify({ modelId: model.modelId, status: model.status, training: model.training, quality: model.quality }, null, 2)}\n`,
    );
  process.stderr.write(
    model.status === 'active'
      ? `${model.modelId} is active${kind === 'rules' ? '' : '; profiles are being re-scored'}\n`
      : `${model.modelId} stored; promote it with: npm run models -- promote ${kind} ${model.version}\n`,
  );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      kind: { type: 'string' },
      seed: { type: 'string' },
      promote: { type: 'boolean', default: false },
      param: { type: 'string', multiple: true, default: [] },
      ...QUERY_SERVICE_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const c: Context = {
    ...queryService(values),
    quiet: command === 'ensure',
  };
  const version = (value: string | undefined): number => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < 1) throw new CliError(`give a version number (1, 2, ...), got "${value ?? ''}"`, 2);
    return v;
  };
  switch (command) {
    case 'list': {
      const query = values.kind ? `?kind=${encodeURIComponent(kindOf(values.kind))}` : '';
      const { models } = (await call(c, 'GET', `/v1/models${query}`)).body;
      for (const m of models)
        process.stdout.write(`${m.modelId.padEnd(16)} ${m.status.padEnd(8)} ${String(m.training.rows).padStart(9)} rows  ${m.createdAt}\n`);
      if (models.length === 0) process.stderr.write('no model stored yet; train one with: npm run models -- train rfm --promote\n');
      return 0;
    }
    case 'train': {
      const seed = values.seed === undefined ? undefined : Number(values.seed);
      if (seed !== undefined && !Number.isInteger(seed)) throw new CliError('--seed must be a whole number', 2);
      return train(c, kindOf(rest[0]), {
        ...(seed === undefined ? {} : { seed }),
        promote: values.promote,
        parameters: parameters(values.param),
      });
    }
    case 'promote': {
      const kind = kindOf(rest[0]);
      const answer = (await call(c, 'POST', `/v1/models/${kind}/${version(rest[1])}/promote`)).body;
      process.stderr.write(
        `${answer.model.modelId} is active${answer.previous ? ` (v${answer.previous} retired)` : ''}${
          answer.rescoreJobId ? `; re-scoring every profile (job ${answer.rescoreJobId})` : ''
        }\n`,
      );
      return 0;
    }
    case 'show': {
      const kind = kindOf(rest[0]);
      const { state: _state, ...model } = (await call(c, 'GET', `/v1/models/${kind}/${version(rest[1])}`)).body;
      process.stdout.write(`${JSON.stringify(model, null, 2)}\n`);
      return 0;
    }
    case 'ensure': {
      const { models } = (await call(c, 'GET', '/v1/models')).body;
      const active = new Set(models.filter((m: { status: string }) => m.status === 'active').map((m: { kind: string }) => m.kind));
      for (const kind of MODEL_KINDS) {
        if (active.has(kind)) {
          process.stderr.write(`${kind}: an active version is there\n`);
          continue;
        }
        // The demo's orders are mostly of one product: its rules come from what each household bought over time.
        const parameters = kind === 'rules' ? { basket: 'user' } : {};
        try {
          await train(c, kind, { promote: true, parameters });
        } catch (error) {
          // One kind the data cannot support (no purchases yet, one class only) leaves the others to train.
          if (!(error instanceof CliError)) throw error;
          process.stderr.write(`${kind}: not trained: ${error.message}\n`);
        }
      }
      return 0;
    }
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

runCli('models', main);
