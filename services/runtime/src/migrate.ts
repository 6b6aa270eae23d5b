import type { Queue } from 'bullmq';
import type { Client } from './elasticsearch';
import type { IndexDefinition } from './bootstrap';
import { pointInTimePages } from './pit-walk';

export interface MigrationProgress {
  start(total: number): void;
  increment(n: number): void;
  stop(): void;
  say(line: string): void;
}

/**
 * Copies the index behind `alias` into `<alias>-v<definition.version>` and swaps the alias atomically.
 * The given queues are paused first (and resumed after, whatever happens), so no write can land in the
 * old index once it has been copied; events keep being accepted meanwhile. Returns the new index name,
 * or undefined when the alias already points at it.
 */
export async function migrateIndex(
  es: Client,
  alias: string,
  definition: IndexDefinition,
  queues: Queue[],
  progress: MigrationProgress,
  options: { keepOld?: boolean } = {},
): Promise<string | undefined> {
  const [current] = Object.keys(await es.indices.getAlias({ name: alias }));
  const target = `${alias}-v${definition.version}`;
  if (current === target) {
    progress.say(`${alias} already points at ${target}; nothing to migrate`);
    return undefined;
  }
  progress.say(`Migrating ${alias}: ${current} -> ${target}`);
  progress.say('  pausing the ingest and maintenance queues (events are still accepted)');
  await Promise.all(queues.map((q) => q.pause()));
  try {
    const active = async (): Promise<number> => (await Promise.all(queues.map((q) => q.getActiveCount()))).reduce((a, b) => a + b, 0);
    while ((await active()) > 0) await new Promise((r) => setTimeout(r, 200));
    await es.indices.create({ index: target, settings: definition.settings, mappings: definition.mappings });
    await es.indices.refresh({ index: current! });
    const total = (await es.count({ index: current! })).count;
    progress.start(total);
    // Vectors are left out of `_source` by default (Elasticsearch 9.2+ keeps them apart): copy them too.
    const pages = pointInTimePages(es, { index: current!, pageSize: 2000, keepAlive: '5m', request: { _source_exclude_vectors: false } });
    for await (const hits of pages) {
      const res = await es.bulk({ operations: hits.flatMap((h) => [{ create: { _index: target, _id: h._id! } }, h._source as object]) });
      const failed = res.items.map((i) => i.create!).filter((i) => i.status >= 300);
      if (failed.length > 0)
        throw new Error(
          `${failed.length} documents did not copy, e.g. ${JSON.stringify(failed[0]!.error)}; ${target} is left for inspection, the alias is unchanged`,
        );
      progress.increment(hits.length);
    }
    progress.stop();
    await es.indices.updateAliases({
      actions: [{ remove: { index: current!, alias } }, { add: { index: target, alias, is_write_index: true } }],
    });
    progress.say(`  ${alias} now points at ${target}`);
    if (!options.keepOld) {
      await es.indices.delete({ index: current! });
      progress.say(`  deleted ${current}`);
    }
  } finally {
    await Promise.all(queues.map((q) => q.resume()));
    progress.say('  queues resumed');
  }
  return target;
}
