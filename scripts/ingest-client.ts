import { SingleBar, Presets } from 'cli-progress';
import { CliError } from '@portrait/shared';
import { apiKeyHeaders } from './cli';

/** POSTs to the ingest service, waiting out back-pressure (429, 503) as a client should. */
export async function postIngest(ingestUrl: string, pathname: string, body: unknown): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${ingestUrl}${pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...apiKeyHeaders() },
        body: JSON.stringify(body),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new CliError(
        `the ingest service is not reachable at ${ingestUrl}${code ? ` (${code})` : ''}: start it with \`npm start\`, or point --ingest-url at it`,
      );
    }
    if (res.status === 429 || res.status === 503) {
      if (attempt > 120) throw new CliError(`${pathname}: still ${res.status} after ${attempt} tries; is the indexer running?`);
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    const json = (await res.json().catch(() => ({}))) as any;
    if (res.status >= 400) throw new CliError(`${pathname} answered ${res.status}: ${JSON.stringify(json).slice(0, 500)}`);
    return json;
  }
}

export interface SendReport {
  accepted: number;
  duplicate: number;
  rejected: number;
  /** The first rejections, with the reason ingest gave. */
  rejections: { eventId?: string; issues: unknown }[];
}

/** Sends events in batches through `POST /v1/events/batch`, with a progress bar on stderr. */
export async function sendEvents(ingestUrl: string, label: string, events: readonly unknown[], batch = 500): Promise<SendReport> {
  const bar = new SingleBar(
    {
      format: `  ${label} [{bar}] {value}/{total} events`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  bar.start(events.length, 0);
  const report: SendReport = { accepted: 0, duplicate: 0, rejected: 0, rejections: [] };
  try {
    for (let i = 0; i < events.length; i += batch) {
      const slice = events.slice(i, i + batch);
      const res = await postIngest(ingestUrl, '/v1/events/batch', { events: slice });
      report.accepted += res.accepted;
      report.duplicate += res.duplicate;
      report.rejected += res.rejected;
      for (const r of res.results ?? [])
        if (r.status === 'rejected' && report.rejections.length < 5) report.rejections.push({ eventId: r.eventId, issues: r.issues });
      bar.increment(slice.length);
    }
  } finally {
    bar.stop();
  }
  return report;
}

/** Upserts catalogue items through `POST /v1/items/batch`; a rejected item stops the import with its reason. */
export async function sendItems(ingestUrl: string, items: readonly unknown[], batch = 1000): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < items.length; i += batch) {
    const res = await postIngest(ingestUrl, '/v1/items/batch', { items: items.slice(i, i + batch) });
    if (res.rejected > 0) {
      const first = res.results.find((r: { status: string }) => r.status === 'rejected');
      throw new CliError(`item ${i + first.index + 1} of the catalogue was refused: ${JSON.stringify(first.issues)}`, 2);
    }
    accepted += res.accepted;
  }
  return accepted;
}
