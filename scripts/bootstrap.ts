/** Applies index templates and creates the versioned indices behind their aliases. Idempotent. */
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
      process.stderr.write(
        `outdated: ${o.alias} -> ${o.index}, definition is v${o.definitionVersion}; run npm run migrate -- ${o.alias.endsWith('-items') ? 'items' : 'profiles'}\n`,
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
