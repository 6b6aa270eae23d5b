/**
 * Applies index templates and creates the versioned indices behind their aliases. Idempotent.
 * With `--list-outdated`, prints on stdout the logical names (profiles, items, segments) whose index is
 * older than its definition, one per line, for `npm start` to migrate them.
 */
import { CommonEnv, parseEnv } from '@portrait/shared';
import { bootstrapIndices, createEsClient, waitForEs } from '@portrait/runtime';

async function main(): Promise<void> {
  const config = parseEnv(CommonEnv, process.env);
  const es = createEsClient({ url: config.ES_URL, username: config.ES_USERNAME, password: config.ES_PASSWORD });
  try {
    await waitForEs(es, config.ES_URL, config.ES_WAIT_SECONDS * 1000, (msg) => process.stderr.write(`${msg}\n`));
    const report = await bootstrapIndices(es, config.PORTRAIT_PREFIX);
    process.stderr.write(`templates: ${report.templates.join(', ')}\ncreated: ${report.created.join(', ') || 'nothing (already there)'}\n`);
    for (const o of report.outdated) {
      if (process.argv.includes('--list-outdated')) process.stdout.write(`${o.alias.slice(config.PORTRAIT_PREFIX.length + 1)}\n`);
      process.stderr.write(
        `outdated: ${o.alias} -> ${o.index}, definition is v${o.definitionVersion}; run npm run migrate -- ${o.alias.slice(config.PORTRAIT_PREFIX.length + 1)}\n`,
      );
    }
  } finally {
    await es.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bootstrap failed: ${(error as Error).message}\n`);
  process.exit(1);
});
