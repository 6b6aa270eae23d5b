import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

const DIR = path.resolve(__dirname, '../../infra/data');

/** The rows column of the data README, per file: what a clone is promised. */
function promisedRows(): Map<string, number> {
  const promised = new Map<string, number>();
  for (const line of readFileSync(path.join(DIR, 'README.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const files = [...(cells[1] ?? '').matchAll(/`([^`]+\.csv)`/g)].map((m) => m[1]!);
    const rows = (cells[2] ?? '').split('/').map((r) => Number(r.replace(/,/g, '')));
    files.forEach((file, i) => promised.set(file, rows[i]!));
  }
  return promised;
}

describe('the data sets in infra/data', () => {
  const promised = promisedRows();

  it('are each described in its README, with their source and licence', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.csv'));
    expect(files.length).toBeGreaterThan(0);
    expect([...promised.keys()].sort()).toEqual(files.sort());
  });

  it.each([...promisedRows().keys()])('%s holds the rows the README states', (file) => {
    const rows = parse(readFileSync(path.join(DIR, file)), { columns: true }) as unknown[];
    expect(rows.length).toBe(promised.get(file));
  });
});
