import { readFileSync } from 'node:fs';
import path from 'node:path';
import { indexNames, type IndexNames } from '@portrait/shared';
import { ensureDataSet, type DataSet } from './dataset';
import { errors, type Client, type estypes } from './elasticsearch';

/** Where the versioned index definitions live (infra/elasticsearch/indices/<name>.json). */
export const INDEX_DEFINITIONS_DIR = path.resolve(__dirname, '../../../infra/elasticsearch/indices');

export interface IndexDefinition {
  version: number;
  description: string;
  settings: estypes.IndicesIndexSettings;
  mappings: estypes.MappingTypeMapping;
}

export type IndexName =
  'profiles' | 'events' | 'items' | 'segments' | 'exports' | 'models' | 'erasures' | 'segment-sizes' | 'item-factors' | 'user-factors';

/** The indices behind a versioned alias (events are monthly indices behind a read alias instead). */
export const ALIASED_INDICES = ['profiles', 'items', 'segments', 'exports', 'models', 'erasures', 'segment-sizes'] as const;
export type AliasedIndex = (typeof ALIASED_INDICES)[number];

const ALIAS_KEYS: { readonly [K in AliasedIndex]: keyof IndexNames } = {
  profiles: 'profiles',
  items: 'items',
  segments: 'segments',
  exports: 'exports',
  models: 'models',
  erasures: 'erasures',
  'segment-sizes': 'segmentSizes',
};

/** The alias of an index by its definition's name (`segment-sizes` is `names.segmentSizes`). */
export function aliasOf(names: IndexNames, logical: AliasedIndex): string {
  return names[ALIAS_KEYS[logical]] as string;
}

export function readDefinition(name: IndexName): IndexDefinition {
  return JSON.parse(readFileSync(path.join(INDEX_DEFINITIONS_DIR, `${name}.json`), 'utf8')) as IndexDefinition;
}

export interface BootstrapReport {
  templates: string[];
  created: string[];
  /** Aliases whose index is older than its definition: run the migration to roll it out. */
  outdated: { alias: string; index: string; definitionVersion: number }[];
  /** The data set these indices hold (see `ensureDataSet`): its Redis keys live under its namespace. */
  dataset: DataSet;
}

/**
 * Idempotent: puts index templates and creates the versioned profile and item indices behind their
 * aliases. Monthly event indices are created on first write from their template, which also adds them to
 * the events read alias. Safe to run from several processes at once.
 */
export async function bootstrapIndices(client: Client, prefix: string): Promise<BootstrapReport> {
  const names = indexNames(prefix);
  const report: BootstrapReport = { templates: [], created: [], outdated: [], dataset: await ensureDataSet(client, prefix) };

  for (const logical of ALIASED_INDICES) {
    const alias = aliasOf(names, logical);
    const def = readDefinition(logical);
    const template = `${prefix}-${logical}`;
    await client.indices.putIndexTemplate({
      name: template,
      index_patterns: [`${alias}-v*`],
      priority: 200,
      version: def.version,
      _meta: { description: def.description, managed_by: 'portrait' },
      template: { settings: def.settings, mappings: def.mappings },
    });
    report.templates.push(template);
    const concrete = `${alias}-v${def.version}`;
    const current = await aliasTargets(client, alias);
    if (current.length === 0) {
      if (await createIndex(client, concrete, { [alias]: { is_write_index: true } })) report.created.push(concrete);
    } else if (!current.includes(concrete)) {
      report.outdated.push({ alias, index: current.join(','), definitionVersion: def.version });
    }
  }

  const events = readDefinition('events');
  const eventsTemplate = `${prefix}-events`;
  await client.indices.putIndexTemplate({
    name: eventsTemplate,
    index_patterns: [names.eventsPattern],
    priority: 200,
    version: events.version,
    _meta: { description: events.description, managed_by: 'portrait' },
    template: { settings: events.settings, mappings: events.mappings, aliases: { [names.events]: {} } },
  });
  report.templates.push(eventsTemplate);
  // Months already written take a new definition's added fields in place (additive only: the template checks the
  // rest), so events of a new kind can land in the current month without a migration.
  await client.indices.putMapping({
    index: names.eventsPattern,
    allow_no_indices: true,
    expand_wildcards: 'open',
    properties: events.mappings.properties,
  });
  return report;
}

async function aliasTargets(client: Client, alias: string): Promise<string[]> {
  try {
    return Object.keys(await client.indices.getAlias({ name: alias }));
  } catch (error) {
    if (error instanceof errors.ResponseError && error.statusCode === 404) return [];
    throw error;
  }
}

async function createIndex(client: Client, index: string, aliases: Record<string, estypes.IndicesAlias>): Promise<boolean> {
  try {
    await client.indices.create({ index, aliases });
    return true;
  } catch (error) {
    if (error instanceof errors.ResponseError && error.body?.error?.type === 'resource_already_exists_exception') return false;
    throw error;
  }
}

/** Deletes every index and template of a prefix: used by tests and `wipe`. */
export async function deletePrefix(client: Client, prefix: string): Promise<void> {
  // Wildcard deletes are refused by default (action.destructive_requires_name), so resolve names first.
  const existing = Object.keys(await client.indices.get({ index: `${prefix}-*`, expand_wildcards: 'all', allow_no_indices: true }));
  if (existing.length > 0) await client.indices.delete({ index: existing, ignore_unavailable: true });
  for (const name of [...ALIASED_INDICES, 'events']) {
    await client.indices.deleteIndexTemplate({ name: `${prefix}-${name}` }).catch(() => undefined);
  }
}
