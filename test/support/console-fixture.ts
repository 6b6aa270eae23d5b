import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A stand-in for the console's build (`CONSOLE_DIR`), for tests of how the query service serves it whether or not
 * `npm run console:build` ran: a page and one script and one style sheet named as Vite names them.
 */
export const CONSOLE_FIXTURE_FILES = { script: 'index-T3stH4sh.js', style: 'index-T3stH4sh.css' } as const;

export async function consoleFixture(): Promise<{ dir: string; script: string; style: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portrait-console-build-'));
  await mkdir(path.join(dir, 'assets'));
  const { script, style } = CONSOLE_FIXTURE_FILES;
  await writeFile(
    path.join(dir, 'index.html'),
    `<!doctype html><html lang="en"><head><title>Portrait console</title><script type="module" src="/console/assets/${script}"></script>` +
      `<link rel="stylesheet" href="/console/assets/${style}"></head><body><div id="app"></div></body></html>\n`,
  );
  await writeFile(path.join(dir, 'assets', script), 'document.getElementById("app").textContent = "console";\n');
  await writeFile(path.join(dir, 'assets', style), 'body { margin: 0; }\n');
  return { dir, script, style };
}
