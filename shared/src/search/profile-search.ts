import { z } from 'zod';
import { TimestampSchema } from '../events';
import { CONSENT_CHANNELS } from '../consent-channels';
import { Limits } from '../limits';
import {
  FACETS,
  HIDDEN_SOURCE_PATHS,
  SEARCHABLE_FIELDS,
  SEARCH_FILTERS,
  SORTS,
  consentField,
  profileField,
  type Facet,
  type SearchFilter,
} from '../profile-fields';

export { FACETS, SEARCHABLE_FIELDS, type Facet };

const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const num = z.coerce.number().finite();
const date = TimestampSchema;

/** An integer field's filter values: refused at the door when they are not whole numbers, not by Elasticsearch. */
const integers = list.pipe(
  z.array(
    z
      .string()
      .regex(/^\d{1,9}$/, 'must be a whole number')
      .transform(Number),
  ),
);

/** One list parameter per search filter of the field catalogue (`region`, `category`, `segment`, `cluster`...). */
const filterParams = Object.fromEntries(
  Object.entries(SEARCH_FILTERS).map(([name, path]) => [name, (profileField(path)?.type === 'integer' ? integers : list).optional()]),
) as Record<SearchFilter, z.ZodOptional<typeof list | typeof integers>>;

export const ProfileSearchParams = z
  .strictObject({
    q: z.string().trim().max(500).optional(),
    /** Each filter keeps profiles holding any of its values; `segment` reads materialized membership. */
    ...filterParams,
    consent: z.enum(CONSENT_CHANNELS).optional(),
    minOrders: num.int().min(0).max(Limits.maxInteger).optional(),
    minSpend: num.min(0).optional(),
    maxSpend: num.min(0).optional(),
    lastSeenAfter: date.optional(),
    lastSeenBefore: date.optional(),
    sort: z
      .string()
      .regex(
        new RegExp(`^-?(relevance|${Object.keys(SORTS).join('|')})$`),
        `one of relevance, ${Object.keys(SORTS).join(', ')}, with - for descending`,
      )
      .optional(),
    page: z.coerce.number().int().min(1).max(1000).default(1),
    size: z.coerce.number().int().min(0).max(100).default(20),
    cursor: z.string().max(2000).optional(),
    facets: list.pipe(z.array(z.enum(Object.keys(FACETS) as [Facet, ...Facet[]]))).optional(),
  })
  .refine((p) => p.minSpend === undefined || p.maxSpend === undefined || p.minSpend <= p.maxSpend, {
    message: 'minSpend must not exceed maxSpend',
    path: ['minSpend'],
  })
  .refine((p) => (p.page - 1) * p.size + p.size <= 10_000, {
    message: 'page * size must stay within 10000; use cursor to go deeper',
    path: ['page'],
  })
  .refine((p) => p.cursor === undefined || p.page === 1, { message: 'use either page or cursor', path: ['cursor'] });

export type ProfileSearchInput = z.input<typeof ProfileSearchParams>;
export type ProfileSearch = z.output<typeof ProfileSearchParams>;

type Json = Record<string, unknown>;

export function encodeCursor(sort: unknown[]): string {
  return Buffer.from(JSON.stringify(sort)).toString('base64url');
}

/** A cursor is what `encodeCursor` made of a hit's sort values: the sort key (a number, or null when missing) and the user id. */
const CursorSchema = z.tuple([z.number().finite().nullable(), z.string().min(1).max(Limits.maxIdLength)]);

export function decodeCursor(cursor: string): unknown[] | undefined {
  try {
    const parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the Elasticsearch search body for a profile search. Pure. */
export function buildProfileSearch(params: ProfileSearch, searchAfter?: unknown[]): Json {
  const filter: Json[] = [];
  const terms = (field: string, values: readonly (string | number)[] | undefined): void => {
    if (values && values.length > 0) filter.push({ terms: { [field]: values } });
  };
  for (const [name, field] of Object.entries(SEARCH_FILTERS) as [SearchFilter, string][]) terms(field, params[name]);
  if (params.consent) filter.push({ term: { [consentField(params.consent)]: true } });
  if (params.minOrders !== undefined) filter.push({ range: { 'purchases.orders': { gte: params.minOrders } } });
  if (params.minSpend !== undefined || params.maxSpend !== undefined) {
    filter.push({ range: { 'purchases.totalSpend': { gte: params.minSpend, lte: params.maxSpend } } });
  }
  if (params.lastSeenAfter || params.lastSeenBefore) {
    filter.push({ range: { 'behavior.lastSeen': { gte: params.lastSeenAfter, lt: params.lastSeenBefore } } });
  }
  const must: Json[] = params.q
    ? [{ simple_query_string: { query: params.q, fields: [...SEARCHABLE_FIELDS], default_operator: 'and', lenient: true } }]
    : [];

  const sortKey = params.sort ?? (params.q ? 'relevance' : '-lastSeen');
  const desc = sortKey.startsWith('-');
  const key = sortKey.replace(/^-/, '');
  const sort: Json[] =
    key === 'relevance'
      ? [{ _score: { order: 'desc' } }]
      : [{ [SORTS[key as keyof typeof SORTS]]: { order: desc ? 'desc' : 'asc', missing: '_last' } }];
  sort.push({ userId: { order: 'asc' } });

  const facets = params.facets ?? (Object.keys(FACETS) as Facet[]);
  const aggs = Object.fromEntries(facets.map((f) => [f, { terms: { field: FACETS[f], size: 10 } }]));

  return {
    query: { bool: { must, filter } },
    sort,
    size: params.size,
    ...(searchAfter ? { search_after: searchAfter } : { from: (params.page - 1) * params.size }),
    track_total_hits: true,
    aggs,
    _source: { excludes: [...HIDDEN_SOURCE_PATHS] },
  };
}
