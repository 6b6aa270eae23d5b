import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';

const DIR = path.resolve(__dirname, '../../infra/elasticsearch/indices');
const LOCK = path.join(DIR, 'definitions.lock.json');

interface Definition {
  version: number;
  settings: unknown;
  mappings: unknown;
}

/** What decides how documents are indexed; the description may change freely. */
const fingerprint = (d: Definition): string =>
  createHash('sha256')
    .update(stableStringify({ settings: d.settings, mappings: d.mappings }))
    .digest('hex');

describe('versioned index definitions', () => {
  const lock = JSON.parse(readFileSync(LOCK, 'utf8')) as Record<string, { version: number; sha256: string }>;
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== path.basename(LOCK));

  it.each(files)('%s changes its settings or mappings only with a version bump', (file) => {
    const name = path.basename(file, '.json');
    const def = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Definition;
    const locked = lock[name];
    const current = { version: def.version, sha256: fingerprint(def) };
    const fix = `then set "${name}": ${JSON.stringify(current)} in infra/elasticsearch/indices/definitions.lock.json`;
    if (locked === undefined) throw new Error(`${file} is not in the lock; ${fix}`);
    if (locked.sha256 !== current.sha256 && locked.version === current.version) {
      throw new Error(
        `${file} changed its settings or mappings but kept version ${def.version}: existing indices would silently differ ` +
          `from the definition. Raise "version" (indices behind aliases roll over with \`npm run migrate\`), ${fix}`,
      );
    }
    expect(current).toEqual(locked);
  });

  it('locks only definitions that exist', () => {
    expect(Object.keys(lock).sort()).toEqual(files.map((f) => path.basename(f, '.json')).sort());
  });
});
