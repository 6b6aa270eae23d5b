/**
 * Rolls a changed index definition out: when infra/elasticsearch/indices/<name>.json has a higher
 * version than the index behind the alias, creates the new versioned index from the template, copies
 * every document (point in time + search_after + _bulk, since the minimal distribution has no _reindex),
 * and swaps the alias atomically. The ingest queue is paused meanwhile, so no profile write can land in
 * the old index after it was copied; events keep being accepted and are applied once it resumes.
 *
 *   npx tsx scripts/migrate.ts [profiles|items|segments|exports|models] [--keep-old]
 */
import { SingleBar, Presets } from 'cli-progress';
import { CommonEnv, indexNames, parseEnv } from '@portrait/shared';
import {
  bootstrapIndices,
  closeRedis,
  createEsClient,
  createIngestQueue,
  createMaintenanceQueue,
  createRedis,
  migrateIndex,
  ALIASED_INDICES,
  aliasOf,
  type AliasedIndex,
  readDefinition,
} from '@portrait/runtime';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const logical = (args.find((a) => !a.startsWith('--')) ?? 'profiles') as AliasedIndex;
  if (!(ALIASED_INDICES as readonly string[]).includes(logical))
    throw new Error(`unknown index "${logical}": use one of ${ALIASED_INDICES.join(', ')}`);
  const config = parseEnv(CommonEnv, process.env);
  const es = createEsClient({ url: config.ES_URL, username: config.ES_USERNAME, password: config.ES_PASSWORD, requestTimeoutMs: 120_000 });
  const redis = createRedis(config.REDIS_URL, 'worker');
  // Puts the new template; creates nothing when the alias exists.
  const { dataset } = await bootstrapIndices(es, config.PORTRAIT_PREFIX);
  const { namespace } = dataset;
  const queues = [createIngestQueue(redis, namespace), createMaintenanceQueue(redis, namespace)];
  try {
    const names = indexNames(config.PORTRAIT_PREFIX);
    const alias = aliasOf(names, logical);
    const def = readDefinition(logical);
    const bar = new SingleBar(
      { format: '  copying [{bar}] {value}/{total} documents', noTTYOutput: true, notTTYSchedule: 2000 },
      Presets.shades_classic,
    );
    await migrateIndex(
      es,
      alias,
      def,
      queues,
      {
        start: (total) => bar.start(total, 0),
        increment: (n) => bar.increment(n),
        stop: () => bar.stop(),
        say: (line) => process.stderr.write(`${line}\n`),
      },
      { keepOld: args.includes('--keep-old') },
    );
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await closeRedis(redis);
    await es.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${(error as Error).message}\n`);
  process.exit(1);
});
