/**
 * Imports Portrait's Kibana saved objects (data views, visualizations, dashboards) from NDJSON, once Kibana is
 * available. Idempotent: every object is written with its own id, overwriting the one already there.
 *
 *   npm run kibana:import [-- <file.ndjson>]        (default infra/kibana/portrait.ndjson)
 *
 * Environment: KIBANA_URL (default http://127.0.0.1:5601); KIBANA_USERNAME and KIBANA_PASSWORD for basic auth
 * (with Elasticsearch security on, the elastic user); KIBANA_WAIT_SECONDS, how long to wait for Kibana (default 300).
 * Exits 1 when Kibana reports any object it could not import.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CliError, ConfigError, parseEnv, redactUrl } from '@portrait/shared';
import { parseCliArgs, runCli } from './cli';

export const DEFAULT_SAVED_OBJECTS_FILE = path.resolve(__dirname, '../infra/kibana/portrait.ndjson');

const USAGE = `Usage: npm run kibana:import [-- <file.ndjson>]

Imports Kibana saved objects (default ${path.relative(process.cwd(), DEFAULT_SAVED_OBJECTS_FILE)}), overwriting objects with the same id.

Environment: KIBANA_URL (default http://127.0.0.1:5601), KIBANA_USERNAME and KIBANA_PASSWORD (basic auth; with
Elasticsearch security on, the elastic user), KIBANA_WAIT_SECONDS (default 300).`;

export const KibanaImportEnv = z.object({
  KIBANA_URL: z.url().default('http://127.0.0.1:5601'),
  KIBANA_USERNAME: z.string().optional(),
  KIBANA_PASSWORD: z.string().optional(),
  /** How long to wait for Kibana to report itself available before giving up. */
  KIBANA_WAIT_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
});

/** One object Kibana did not import, as the saved-objects import API reports it. */
const ImportFailure = z.looseObject({
  type: z.string(),
  id: z.string(),
  meta: z.looseObject({ title: z.string().optional() }).optional(),
  error: z.looseObject({
    type: z.string(),
    message: z.string().optional(),
    statusCode: z.number().optional(),
    destinationId: z.string().optional(),
    destinations: z.array(z.looseObject({ id: z.string() })).optional(),
    references: z.array(z.looseObject({ type: z.string(), id: z.string() })).optional(),
  }),
});
export type ImportFailure = z.infer<typeof ImportFailure>;

const ImportResponse = z.looseObject({
  success: z.boolean(),
  successCount: z.number(),
  errors: z.array(ImportFailure).optional(),
  warnings: z.array(z.looseObject({ type: z.string(), message: z.string() })).optional(),
});
export type ImportResponse = z.infer<typeof ImportResponse>;

export interface KibanaTarget {
  /** Without a trailing slash. */
  url: string;
  /** Basic auth, when the environment gives a user. */
  authorization?: string;
}

/**
 * The tool: waits for Kibana, imports the file and prints what Kibana reports through `say`. Returns the exit code,
 * 1 when Kibana did not import everything; a problem the operator must fix first (no file, no Kibana, wrong
 * credentials) throws a CliError.
 */
export async function kibanaImport(
  argv: string[],
  env: Record<string, string | undefined>,
  say: (line: string) => void,
  options: { pollMs?: number } = {},
): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { help: { type: 'boolean' } }, USAGE);
  if (values.help) {
    say(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new CliError(`one file at most, got ${positionals.length}\n\n${USAGE}`, 2);
  const config = configOf(env);
  const target = kibanaTarget(config);
  const file = positionals[0] === undefined ? DEFAULT_SAVED_OBJECTS_FILE : path.resolve(positionals[0]);
  const ndjson = await readSavedObjects(file);
  await waitForKibana(target, config.KIBANA_WAIT_SECONDS * 1000, options.pollMs ?? 2000, say);
  say(`importing ${plural(ndjson.objects, 'saved object')} from ${path.relative(process.cwd(), file) || file}`);
  const report = await importSavedObjects(target, ndjson.text, path.basename(file));
  for (const line of describeImport(report)) say(line);
  return report.success ? 0 : 1;
}

function configOf(env: Record<string, string | undefined>): z.infer<typeof KibanaImportEnv> {
  try {
    return parseEnv(KibanaImportEnv, env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

function kibanaTarget(config: z.infer<typeof KibanaImportEnv>): KibanaTarget {
  const username = config.KIBANA_USERNAME || undefined;
  const password = config.KIBANA_PASSWORD || undefined;
  if ((username === undefined) !== (password === undefined))
    throw new CliError('set both KIBANA_USERNAME and KIBANA_PASSWORD, or neither', 2);
  return {
    url: config.KIBANA_URL.replace(/\/+$/, ''),
    authorization: username && password ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined,
  };
}

/** The file's text, checked line by line before Kibana sees it, and how many objects it holds. */
export async function readSavedObjects(file: string): Promise<{ text: string; objects: number }> {
  if (!file.endsWith('.ndjson')) throw new CliError(`${file}: Kibana imports .ndjson files only`, 2);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new CliError(
        `no saved objects file at ${file}. Generate it (npm run kibana -- generate), or give the path of an NDJSON export.`,
      );
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let objects = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new CliError(`${file}:${i + 1} is not a JSON object: every line of an NDJSON file must be one`);
    }
    // An export's last line is a summary (`exportedCount`), not an object.
    if (typeof parsed === 'object' && parsed !== null && 'type' in parsed && 'id' in parsed) objects += 1;
  });
  if (objects === 0) throw new CliError(`${file} holds no saved object (lines with a type and an id)`);
  return { text, objects };
}

/**
 * Polls `GET /api/status` until Kibana reports `status.overall.level` available (it answers 503 until then),
 * saying what it waits for at the first poll, on every change and every 10 s.
 */
export async function waitForKibana(target: KibanaTarget, timeoutMs: number, pollMs: number, say: (line: string) => void): Promise<void> {
  const shown = redactUrl(target.url);
  const deadline = Date.now() + timeoutMs;
  let said = '';
  let saidAt = 0;
  for (;;) {
    const state = await kibanaStatus(target);
    if (state.level === 'available') {
      say(`Kibana at ${shown} is available`);
      return;
    }
    if (state.httpStatus === 401 || state.httpStatus === 403)
      throw new CliError(
        `Kibana at ${shown} refused the credentials (${state.httpStatus}): set KIBANA_USERNAME and KIBANA_PASSWORD to a user ` +
          'that may manage saved objects (with Elasticsearch security on, elastic and ELASTIC_PASSWORD)',
      );
    if (Date.now() >= deadline)
      throw new CliError(
        `Kibana at ${shown} was not available within ${Math.round(timeoutMs / 1000)} s (last: ${state.detail}); ` +
          'check that it runs (docker compose ps kibana) and that KIBANA_URL points at it',
      );
    if (state.detail !== said || Date.now() - saidAt >= 10_000) {
      say(`waiting for Kibana at ${shown}: ${state.detail}`);
      said = state.detail;
      saidAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function kibanaStatus(target: KibanaTarget): Promise<{ level?: string; httpStatus?: number; detail: string }> {
  try {
    const res = await fetch(`${target.url}/api/status`, { headers: authHeaders(target), signal: AbortSignal.timeout(10_000) });
    const body = (await res.json().catch(() => undefined)) as { status?: { overall?: { level?: unknown } } } | undefined;
    const level = body?.status?.overall?.level;
    if (typeof level === 'string') return { level, httpStatus: res.status, detail: `status ${level} (HTTP ${res.status})` };
    return { httpStatus: res.status, detail: `HTTP ${res.status}, no status yet` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return { detail: `not reachable (${cause})` };
  }
}

/** `POST /api/saved_objects/_import?overwrite=true` with the file as multipart field `file`. */
export async function importSavedObjects(target: KibanaTarget, ndjson: string, fileName: string): Promise<ImportResponse> {
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), fileName);
  let res: Response;
  try {
    res = await fetch(`${target.url}/api/saved_objects/_import?overwrite=true`, {
      method: 'POST',
      headers: { 'kbn-xsrf': 'true', ...authHeaders(target) },
      body: form,
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw new CliError(`the import request to Kibana at ${redactUrl(target.url)} failed: ${(error as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new CliError(`Kibana refused the import (HTTP ${res.status}): ${messageOf(text)}`);
  const parsed = ImportResponse.safeParse(safeJson(text));
  if (!parsed.success) throw new CliError(`Kibana answered the import with something unexpected: ${text.slice(0, 500)}`);
  return parsed.data;
}

/** Lines that say what Kibana imported and, for every object it did not, why. */
export function describeImport(report: ImportResponse): string[] {
  const errors = report.errors ?? [];
  const lines = [`imported ${plural(report.successCount, 'saved object')} (objects with the same id overwritten)`];
  for (const warning of report.warnings ?? []) lines.push(`warning: ${warning.message}`);
  for (const failure of errors) {
    const title = failure.meta?.title ? ` "${failure.meta.title}"` : '';
    lines.push(`failed: ${failure.type} ${failure.id}${title}: ${reasonOf(failure.error)}`);
  }
  if (!report.success) lines.push(`import incomplete: ${plural(errors.length, 'object')} not imported`);
  return lines;
}

function reasonOf(error: ImportFailure['error']): string {
  switch (error.type) {
    case 'missing_references':
      return `missing references: ${(error.references ?? []).map((r) => `${r.type} ${r.id}`).join(', ')}`;
    case 'conflict':
      return `conflict${error.destinationId ? ` with ${error.destinationId}` : ''}`;
    case 'ambiguous_conflict':
      return `ambiguous conflict with ${(error.destinations ?? []).map((d) => d.id).join(', ')}`;
    case 'unsupported_type':
      return 'unsupported type (this Kibana does not know it)';
    default:
      return `${error.message ?? error.type}${error.statusCode ? ` (${error.statusCode})` : ''}`;
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function authHeaders(target: KibanaTarget): Record<string, string> {
  return target.authorization ? { authorization: target.authorization } : {};
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function messageOf(text: string): string {
  const body = safeJson(text) as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : text.slice(0, 500);
}

if (require.main === module) {
  runCli('kibana-import', (argv) => kibanaImport(argv, process.env, (line) => process.stdout.write(`${line}\n`)));
}
