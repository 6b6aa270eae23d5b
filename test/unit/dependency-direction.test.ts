import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** The restricted-import messages the project's ESLint reports for `code` as if it were the file at `file`. */
function violations(file: string, code: string, rule = 'no-restricted-imports'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', file, '--format', 'json'],
      { cwd: ROOT },
      (error, stdout) => {
        // ESLint exits 1 when it reports problems: that is the point here.
        if (error && error.code !== 1) return reject(error);
        const [result] = JSON.parse(stdout) as { messages: { ruleId: string | null; message: string }[] }[];
        resolve(result!.messages.filter((m) => m.ruleId === rule).map((m) => m.message));
      },
    );
    child.stdin!.end(code);
  });
}

describe('the direction of dependencies, enforced by lint', () => {
  jest.setTimeout(60_000);

  it('refuses a service importing another service, by package or by path', async () => {
    expect(
      await violations('services/query/src/x.ts', "import { startIndexer } from '@portrait/indexer';\nexport { startIndexer };\n"),
    ).toEqual([expect.stringContaining('services never import each other')]);
    expect(await violations('services/runtime/src/x.ts', "import { x } from '../../ingest/src/intake';\nexport { x };\n")).toHaveLength(1);
    expect(
      await violations('services/jobs/src/x.ts', "import { startQuery } from '@portrait/query';\nexport { startQuery };\n"),
    ).toHaveLength(1);
    expect(
      await violations('services/indexer/src/x.ts', "import { handlers } from '../../jobs/src/handlers';\nexport { handlers };\n"),
    ).toHaveLength(1);
    expect(await violations('services/query/src/x.ts', "import { Limits } from '@portrait/shared';\nexport { Limits };\n")).toEqual([]);
  });

  it('refuses I/O packages and services in shared/', async () => {
    expect(await violations('shared/src/x.ts', "import { Queue } from 'bullmq';\nexport { Queue };\n")).toEqual([
      expect.stringContaining('shared/ is pure'),
    ]);
    expect(await violations('shared/src/x.ts', "import { Client } from '@elastic/elasticsearch';\nexport { Client };\n")).toHaveLength(1);
    expect(await violations('shared/src/x.ts', "import { createApp } from '@portrait/runtime';\nexport { createApp };\n")).toHaveLength(1);
  });

  it("refuses scripts and benchmarks reaching into a service's internals", async () => {
    expect(await violations('scripts/x.ts', "import { Intake } from '../services/ingest/src/intake';\nexport { Intake };\n")).toEqual([
      expect.stringContaining('package entry'),
    ]);
    expect(await violations('bench/x.ts', "import { startIngest } from '@portrait/ingest';\nexport { startIngest };\n")).toEqual([]);
  });

  it('lets the console take only types from the shared package, and nothing of Node', async () => {
    const rule = '@typescript-eslint/no-restricted-imports';
    expect(await violations('console/src/x.tsx', "import { Limits } from '@portrait/shared';\nexport { Limits };\n", rule)).toEqual([
      expect.stringContaining('types only'),
    ]);
    expect(await violations('console/src/x.tsx', "import type { Facet } from '@portrait/shared';\nexport type { Facet };\n", rule)).toEqual(
      [],
    );
    expect(await violations('console/src/x.ts', "import { readFile } from 'node:fs';\nexport { readFile };\n", rule)).toEqual([
      expect.stringContaining('browser'),
    ]);
  });
});
