/**
 * Exports a segment's audience to a file through the query service's export jobs: starts a job, shows
 * its progress, then downloads the file. Ctrl-C cancels the job.
 *
 *   npm run export -- <segmentId> --fields userId,emailSha256 [--format csv|ndjson] [--consent email[,ads]]
 *                     [--hash] [--default-calling-code 49] [--out file.csv] --actor alice [--query-url http://127.0.0.1:3003]
 *
 * Environment: QUERY_URL (default http://127.0.0.1:3003), PORTRAIT_ACTOR (instead of --actor).
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Presets, SingleBar } from 'cli-progress';
import { CliError } from '@portrait/shared';
import { fetchQueryService, parseCliArgs, QUERY_SERVICE_OPTIONS, queryService, runCli } from './cli';

const USAGE = `Usage: npm run export -- <segmentId> --fields <a,b,…> --actor <name> [options]

Options:
  --fields <list>               columns, e.g. userId,emailSha256,phoneSha256,attributes.region (required)
  --format csv|ndjson           file format (default csv)
  --consent <list>              keep only members who gave these consents: email, sms, push, ads, personalization
  --hash                        write e-mail and phone only as SHA-256 hashes (email -> emailSha256, phone -> phoneSha256)
  --default-calling-code <cc>   country calling code for phones stored without one, e.g. 49
  --out <file>                  where to write (default <segmentId>.<format>)
  --actor <name>                who is exporting, for the audit trail (or PORTRAIT_ACTOR)
  --query-url <url>             the query service (default QUERY_URL or http://127.0.0.1:3003)
  --poll-ms <n>                 how often to ask for progress (default 500)

Ctrl-C while the job runs cancels it.`;

const FINISHED = ['completed', 'failed', 'cancelled', 'expired', 'deleted'];

interface Options {
  segmentId: string;
  body: Record<string, unknown>;
  out: string;
  actor: string;
  queryUrl: string;
  pollMs: number;
}

function options(argv: string[]): Options | undefined {
  const parsed = parseCliArgs(
    argv,
    {
      fields: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      consent: { type: 'string' },
      hash: { type: 'boolean', default: false },
      'default-calling-code': { type: 'string' },
      out: { type: 'string' },
      actor: { type: 'string' },
      ...QUERY_SERVICE_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length !== 1) throw new CliError(`give exactly one segment id\n\n${USAGE}`, 2);
  if (!values.fields) throw new CliError('--fields is required, e.g. --fields userId,emailSha256', 2);
  const actor = values.actor ?? process.env.PORTRAIT_ACTOR;
  if (!actor) throw new CliError('--actor is required (or set PORTRAIT_ACTOR): exports are recorded with who made them', 2);
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const segmentId = positionals[0]!;
  return {
    segmentId,
    body: {
      format: values.format,
      fields: list(values.fields),
      ...(values.consent ? { consent: list(values.consent) } : {}),
      hashIdentifiers: values.hash,
      ...(values['default-calling-code'] ? { defaultCallingCode: values['default-calling-code'] } : {}),
    },
    out: values.out ?? `${segmentId}.${values.format}`,
    actor,
    ...queryService(values),
  };
}

/** The request options the API documents map to these flags, so a 400 can name the flag to fix. */
const FLAG_OF: Record<string, string> = {
  format: '--format',
  fields: '--fields',
  consent: '--consent',
  hashIdentifiers: '--hash',
  defaultCallingCode: '--default-calling-code',
  'headers.x-portrait-actor': '--actor',
};

async function call(o: Options, method: string, path: string, body?: unknown): Promise<Response> {
  return fetchQueryService(o.queryUrl, path, {
    method,
    headers: { 'x-portrait-actor': o.actor, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Turns an error answer into advice. */
async function failure(o: Options, res: Response, what: string): Promise<CliError> {
  const body = (await res.json().catch(() => ({}))) as { message?: string; issues?: { path: string; reason: string }[] };
  if (res.status === 400 && body.issues) {
    const lines = body.issues.map((i) => {
      const flag = FLAG_OF[i.path] ?? FLAG_OF[i.path.split('.')[0]!];
      return `  ${flag ? `${flag} (${i.path})` : i.path}: ${i.reason}`;
    });
    return new CliError(`${what} was refused:\n${lines.join('\n')}\nFix the options above and run again.`, 2);
  }
  if (res.status === 404) {
    return new CliError(`${body.message ?? 'not found'}; list the segments with: curl -s ${o.queryUrl}/v1/segments`);
  }
  if (res.status === 503)
    return new CliError(`${body.message ?? 'a dependency is down'}; retry shortly (npm start brings Elasticsearch and Redis up)`);
  return new CliError(`${what} failed: HTTP ${res.status} ${body.message ?? res.statusText}`);
}

interface Status {
  status: string;
  rows: number;
  total?: number;
  error?: string;
  progress: { rows: number; total?: number };
}

async function main(argv: string[]): Promise<number> {
  const o = options(argv);
  if (!o) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = await call(o, 'POST', `/v1/segments/${encodeURIComponent(o.segmentId)}/exports`, o.body);
  if (started.status !== 202) throw await failure(o, started, 'the export');
  const { exportId, columns } = (await started.json()) as { exportId: string; columns: string[] };
  process.stderr.write(`export ${exportId} of segment ${o.segmentId} as ${o.actor}: ${columns.join(', ')}\n`);

  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  const bar = new SingleBar(
    { format: '  {status} [{bar}] {value}/{total} rows ({percentage}%)', noTTYOutput: true, notTTYSchedule: 2000, hideCursor: true },
    Presets.shades_classic,
  );
  let status: Status;
  let barStarted = false;
  try {
    for (;;) {
      if (interrupted) {
        bar.stop();
        const cancel = await call(o, 'DELETE', `/v1/exports/${exportId}`);
        process.stderr.write(
          cancel.ok
            ? `cancelled export ${exportId}; no file was written\n`
            : `could not cancel export ${exportId} (HTTP ${cancel.status})\n`,
        );
        return 130;
      }
      const res = await call(o, 'GET', `/v1/exports/${exportId}`);
      if (!res.ok) throw await failure(o, res, 'reading the export status');
      status = (await res.json()) as Status;
      const total = status.progress.total ?? 0;
      if (!barStarted && status.progress.total !== undefined) {
        bar.start(total, status.progress.rows, { status: status.status });
        barStarted = true;
      } else if (barStarted) {
        bar.update(status.progress.rows, { status: status.status });
      }
      if (FINISHED.includes(status.status)) break;
      await new Promise((r) => setTimeout(r, o.pollMs));
    }
  } finally {
    if (barStarted) bar.stop();
    process.off('SIGINT', onSigint);
  }
  if (status.status !== 'completed') {
    throw new CliError(
      `export ${exportId} ended ${status.status}${status.error ? `: ${status.error}` : ''}; see GET ${o.queryUrl}/v1/exports/${exportId}`,
    );
  }

  const download = await call(o, 'GET', `/v1/exports/${exportId}/download`);
  if (!download.ok || !download.body) throw await failure(o, download, 'the download');
  const partial = `${o.out}.partial`;
  try {
    await pipeline(Readable.fromWeb(download.body as WebReadableStream<Uint8Array>), createWriteStream(partial));
    await rename(partial, o.out);
  } catch (error) {
    await rm(partial, { force: true });
    throw new CliError(`could not write ${o.out}: ${(error as Error).message}`);
  }
  process.stderr.write(`wrote ${status.rows} rows to ${o.out} (export ${exportId}; the file is kept on the server until it expires)\n`);
  return 0;
}

runCli('export', main);
