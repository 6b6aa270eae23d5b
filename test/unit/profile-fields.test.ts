import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BREAKDOWNS,
  EXPORT_FIELDS,
  EXPORTABLE_FIELDS,
  FACETS,
  HIDDEN_SOURCE_PATHS,
  INTEREST_PATHS,
  PROFILE_FIELDS,
  SEARCHABLE_FIELDS,
  SEARCH_FILTERS,
  SEGMENT_FIELDS,
  SORTS,
  buildProfileSearch,
  ProfileSearchParams,
  type ProfileField,
} from '@portrait/shared';

interface Mapped {
  type?: string;
  enabled?: boolean;
  properties?: Record<string, Mapped>;
  fields?: Record<string, Mapped>;
}

const mapping: Mapped = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../infra/elasticsearch/indices/profiles.json'), 'utf8'),
).mappings;
const catalogue = PROFILE_FIELDS as Readonly<Record<string, ProfileField>>;

function mappedAt(field: string): Mapped | undefined {
  let node: Mapped | undefined = mapping;
  for (const part of field.split('.')) node = node?.properties?.[part];
  return node;
}

/** Every mapped field that holds values: leaves, nested lists and disabled objects (not their insides). */
function mappedFields(node: Mapped, prefix = ''): { path: string; node: Mapped }[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const p = prefix ? `${prefix}.${name}` : name;
    const isContainer = child.properties !== undefined && child.type !== 'nested';
    return isContainer ? mappedFields(child, p) : [{ path: p, node: child }];
  });
}

describe('the profile field catalogue', () => {
  it('names only mapped fields, each with its mapping type', () => {
    for (const [field, spec] of Object.entries(catalogue)) {
      const node = mappedAt(field);
      const type = node?.type ?? (node?.enabled === false ? 'object' : undefined);
      expect({ field, type }).toEqual({ field, type: spec.type });
      if (spec.type === 'object') expect({ field, enabled: node?.enabled }).toEqual({ field, enabled: false });
    }
  });

  it('catalogues every mapped field, and every multi-field it maps', () => {
    for (const { path: field, node } of mappedFields(mapping)) {
      const spec = catalogue[field];
      expect({ field, catalogued: spec !== undefined }).toEqual({ field, catalogued: true });
      const subfields = Object.keys(node.fields ?? {}).sort();
      const named = [...(spec?.text === 'text' ? ['text'] : []), ...(spec?.subfields ?? [])].sort();
      expect({ field, subfields }).toEqual({ field, subfields: named });
    }
  });

  it('maps interest lists as nested name/score entries with double scores', () => {
    for (const p of Object.values(INTEREST_PATHS)) {
      expect(mappedAt(`${p}.name`)?.type).toBe('keyword');
      expect(mappedAt(`${p}.score`)?.type).toBe('double');
    }
  });

  it('keeps personal and internal fields out of every use but the contact columns', () => {
    for (const [field, spec] of Object.entries(catalogue)) {
      if (!spec.personal && !spec.internal) continue;
      const uses = ['segment', 'filter', 'facet', 'breakdown', 'sort', 'text', 'export', 'interest'] as const;
      expect({ field, uses: uses.filter((u) => spec[u] !== undefined) }).toEqual({ field, uses: [] });
      expect(HIDDEN_SOURCE_PATHS.some((p) => field === p || field.startsWith(`${p}.`))).toBe(true);
    }
    for (const p of HIDDEN_SOURCE_PATHS) {
      const covered = Object.entries(catalogue).filter(([f]) => f === p || f.startsWith(`${p}.`));
      expect(covered.length).toBeGreaterThan(0);
      expect(covered.every(([, s]) => s.personal || s.internal)).toBe(true);
    }
    expect([...HIDDEN_SOURCE_PATHS].sort()).toEqual(['contact', 'segmentOutbox', 'state']);
  });

  it('gives each role name to one field, and only to fields that can serve it', () => {
    // Integer fields serve too: facet keys are printed, filter values are checked to be whole numbers.
    const keywordLike = new Set(['keyword', 'integer']);
    for (const [name, field] of Object.entries({ ...FACETS, ...BREAKDOWNS, ...SEARCH_FILTERS })) {
      expect({ name, type: catalogue[field]!.type, keyword: keywordLike.has(catalogue[field]!.type) }).toMatchObject({
        name,
        keyword: true,
      });
    }
    for (const [name, field] of Object.entries(SORTS)) {
      expect({ name, sortable: ['integer', 'double', 'date', 'keyword'].includes(catalogue[field]!.type) }).toEqual({
        name,
        sortable: true,
      });
    }
    for (const role of ['facet', 'breakdown', 'sort', 'filter', 'interest'] as const) {
      const names = Object.values(catalogue).flatMap((s) => (s[role] === undefined ? [] : [s[role]]));
      expect({ role, duplicates: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({ role, duplicates: [] });
    }
  });

  it('derives the segment fields, the export columns and what free text searches', () => {
    expect(Object.keys(SEGMENT_FIELDS).sort()).toEqual(
      Object.entries(catalogue)
        .filter(([, s]) => s.segment)
        .map(([f]) => f)
        .sort(),
    );
    for (const field of EXPORTABLE_FIELDS) expect(Object.keys(EXPORT_FIELDS)).toContain(field);
    expect([...SEARCHABLE_FIELDS].sort()).toEqual(
      [
        'userId',
        'attributes.region.text',
        'attributes.city.text',
        'attributes.occupation.text',
        'behavior.recentSearches',
        'cluster.label.text',
        'interests.topCategories.text',
        'interests.topBrands.text',
      ].sort(),
    );
  });

  it('turns every search filter into a terms filter on its field', () => {
    const integer = (field: string) => catalogue[field]!.type === 'integer';
    const value = (name: string, field: string) => (integer(field) ? '3' : `v-${name}`);
    const params = ProfileSearchParams.parse(
      Object.fromEntries(Object.entries(SEARCH_FILTERS).map(([name, field]) => [name, value(name, field)])),
    );
    const body = buildProfileSearch(params) as { query: { bool: { filter: unknown[] } } };
    expect(body.query.bool.filter).toEqual(
      Object.entries(SEARCH_FILTERS).map(([name, field]) => ({ terms: { [field]: [integer(field) ? 3 : `v-${name}`] } })),
    );
    for (const [name] of Object.entries(SEARCH_FILTERS).filter(([, f]) => integer(f)))
      expect(ProfileSearchParams.safeParse({ [name]: 'abc' }).success).toBe(false);
  });
});
