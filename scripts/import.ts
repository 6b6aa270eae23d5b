/**
 * Loads historical interactions (and optionally a catalogue) into Portrait through the ingest API, as live events
 * would arrive, with progress:
 *
 *   npm run import -- <interactions.csv> [--items items.csv] [--ingest-url URL] [--batch 500] [--skip-invalid]
 *
 * The columns are documented in scripts/interactions.ts and the README. Old timestamps are accepted when the
 * services run with an evaluation clock after them (`PORTRAIT_CLOCK`) and `INGEST_MAX_EVENT_AGE_DAYS` covers them.
 * Event ids are digests of the rows: importing the same file twice adds nothing.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError } from '@portrait/shared';
import { runCli } from './cli';
import { sendEvents, sendItems } from './ingest-client';
import { catalogueItem, interactionEvent, readCsv, type MappedRow } from './interactions';

const USAGE = 'Usage: npm run import -- <interactions.csv> [--items items.csv] [--ingest-url URL] [--batch 500] [--skip-invalid]';

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 2);
  }
}

/** The mapped values; invalid rows stop the import (listing the first ones) unless `skip` is set. */
function valid<T>(file: string, rows: MappedRow<T>[], skip: boolean): T[] {
  const bad = rows.filter((r) => r.error !== undefined);
  if (bad.length > 0) {
    const lines = bad
      .slice(0, 10)
      .map((r) => `\n  line ${r.line}: ${r.error}`)
      .join('');
    if (!skip)
      throw new CliError(
        `${bad.length} rows of ${file} cannot be imported:${lines}\nfix them, or pass --skip-invalid to import the rest`,
        2,
      );
    process.stderr.write(`skipping ${bad.length} invalid rows of ${file}:${lines}\n`);
  }
  return rows.flatMap((r) => (r.value === undefined ? [] : [r.value]));
}

runCli('import', async (argv) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      items: { type: 'string' },
      'ingest-url': { type: 'string' },
      batch: { type: 'string', default: '500' },
      'skip-invalid': { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [file] = positionals;
  if (!file) throw new CliError(USAGE, 2);
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 1000) throw new CliError('--batch must be a whole number from 1 to 1000', 2);
  const ingestUrl = (values['ingest-url'] ?? process.env.INGEST_URL ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
  const skip = values['skip-invalid'] ?? false;

  const prices = new Map<string, number>();
  if (values.items) {
    const items = valid(
      values.items,
      readCsv(read(values.items)).map((row, i) => catalogueItem(row, i + 2)),
      skip,
    );
    for (const item of items) prices.set(item.itemId as string, item.price as number);
    process.stderr.write(`catalogue: ${await sendItems(ingestUrl, items)} items\n`);
  }
  const events = valid(
    file,
    readCsv(read(file)).map((row, i) => interactionEvent(row, i + 2, prices)),
    skip,
  );
  const report = await sendEvents(ingestUrl, 'interactions', events, batch);
  process.stderr.write(`interactions: ${report.accepted} accepted, ${report.duplicate} already there, ${report.rejected} refused\n`);
  if (report.rejected > 0) {
    process.stderr.write(`first refusals: ${JSON.stringify(report.rejections)}\n`);
    process.stderr.write(
      'old timestamps need the services started with PORTRAIT_CLOCK after them and INGEST_MAX_EVENT_AGE_DAYS covering them\n',
    );
    return 1;
  }
  return 0;
});
