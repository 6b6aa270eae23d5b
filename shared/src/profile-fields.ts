import { CONSENT_CHANNELS, type ConsentChannel } from './consent-channels';
import { BEHAVIOUR_TYPES, Gender, type BehaviourType } from './events';
import { RISK_LEVELS, RISK_SIGNALS } from './mining/risk-vocabulary';
import { RFM_GROUPS, RFM_TIERS } from './mining/rfm';
import { SCORED_MODEL_KINDS, type ScoredModelKind } from './models/kinds';

/**
 * The catalogue of profile fields: each field of the profile document once, with its Elasticsearch
 * mapping type and what it may be used for. Segment fields, search filters, facets, sorts and text
 * fields, segment breakdowns, export columns and what the API never returns are all derived from it.
 *
 * Adding a field is one line here plus its mapping in infra/elasticsearch/indices/profiles.json; a unit
 * test holds the two together (every field catalogued is mapped with this type, every mapped field is
 * catalogued).
 */

export type MappingType = 'keyword' | 'integer' | 'double' | 'date' | 'boolean' | 'text' | 'nested' | 'object';

export interface ProfileField {
  /** The field's type in the profile mapping. */
  type: MappingType;
  /** Keyword fields with a closed vocabulary: segment values outside it are rejected as typos. */
  values?: readonly string[];
  /** May be used in segment conditions (`{ field, op, value }`). */
  segment?: true;
  /** Nested `{ name, score }` list that `interest` segment conditions look into, by this kind. */
  interest?: string;
  /** Profile search filter parameter: `?<filter>=a,b` keeps profiles holding any of the values. */
  filter?: string;
  /** Profile search facet (a terms aggregation) by this name. */
  facet?: string;
  /** Segment breakdown dimension by this name. */
  breakdown?: string;
  /** Profile search sort key (`sort=<key>` or `-<key>`). */
  sort?: string;
  /** Free-text search reads this field (`self`) or its `text` sub-field. */
  text?: 'self' | 'text';
  /** Multi-fields the mapping adds besides the `text` one (kept for Kibana and ad-hoc queries). */
  subfields?: readonly string[];
  /** An export column of the same name: one value, a list of strings, or a date printed in UTC. */
  export?: 'value' | 'list' | 'date';
  /** Personal data: never returned by the API nor searchable; exports read it only through the contact columns. */
  personal?: true;
  /** Internal to the fold: never returned, never queried. */
  internal?: true;
}

export const LIFECYCLE_STAGES = ['registered', 'new', 'active', 'at_risk', 'dormant', 'churned'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** The keys of a profile's per-behaviour window counts (`behavior.counts.<type>.<window>`). */
export const COUNT_WINDOWS = ['d7', 'd30', 'd90', 'lifetime'] as const;
export type CountWindow = (typeof COUNT_WINDOWS)[number];
export type CountField = `behavior.counts.${BehaviourType}.${CountWindow}`;
export type ConsentField = `attributes.consents.${ConsentChannel}`;

export function countField(type: BehaviourType, window: CountWindow): CountField {
  return `behavior.counts.${type}.${window}`;
}

export function consentField(channel: ConsentChannel): ConsentField {
  return `attributes.consents.${channel}`;
}

const COUNT_FIELDS = Object.fromEntries(
  BEHAVIOUR_TYPES.flatMap((t) => COUNT_WINDOWS.map((w) => [countField(t, w), { type: 'integer', segment: true }])),
) as Record<CountField, { readonly type: 'integer'; readonly segment: true }>;

const CONSENT_FIELDS = Object.fromEntries(
  CONSENT_CHANNELS.map((c) => [consentField(c), { type: 'boolean', segment: true, export: 'value' }]),
) as Record<ConsentField, { readonly type: 'boolean'; readonly segment: true; readonly export: 'value' }>;

const MODEL_VERSION_FIELDS = Object.fromEntries(SCORED_MODEL_KINDS.map((k) => [`models.${k}`, { type: 'integer' }])) as Record<
  `models.${ScoredModelKind}`,
  { readonly type: 'integer' }
>;

const FIELDS = {
  userId: { type: 'keyword', segment: true, text: 'self', export: 'value' },
  'attributes.gender': {
    type: 'keyword',
    values: Gender.options,
    segment: true,
    filter: 'gender',
    facet: 'gender',
    breakdown: 'gender',
    export: 'value',
  },
  'attributes.birthYear': { type: 'integer', segment: true },
  'attributes.age': { type: 'integer', segment: true, export: 'value' },
  'attributes.ageBand': { type: 'keyword', segment: true, filter: 'ageBand', facet: 'ageBand', breakdown: 'ageBand', export: 'value' },
  'attributes.occupation': { type: 'keyword', segment: true, text: 'text', export: 'value' },
  'attributes.region': {
    type: 'keyword',
    segment: true,
    filter: 'region',
    facet: 'region',
    breakdown: 'region',
    text: 'text',
    export: 'value',
  },
  'attributes.city': { type: 'keyword', segment: true, filter: 'city', text: 'text', export: 'value' },
  'attributes.signupDate': { type: 'date', segment: true, export: 'date' },
  ...CONSENT_FIELDS,
  'contact.email': { type: 'keyword', personal: true },
  'contact.phone': { type: 'keyword', personal: true },
  'contact.emailSha256': { type: 'keyword', personal: true },
  ...COUNT_FIELDS,
  'behavior.eventCount': { type: 'integer', segment: true, sort: 'eventCount' },
  'behavior.firstSeen': { type: 'date', segment: true, sort: 'firstSeen', export: 'date' },
  'behavior.lastSeen': { type: 'date', segment: true, sort: 'lastSeen', export: 'date' },
  'behavior.activeDays30': { type: 'integer', segment: true },
  'behavior.recentSearches': { type: 'text', text: 'self', subfields: ['keyword'] },
  'interests.categories': { type: 'nested', interest: 'category' },
  'interests.brands': { type: 'nested', interest: 'brand' },
  'interests.topCategories': {
    type: 'keyword',
    segment: true,
    filter: 'category',
    facet: 'category',
    breakdown: 'category',
    text: 'text',
    export: 'list',
  },
  'interests.topBrands': { type: 'keyword', segment: true, filter: 'brand', breakdown: 'brand', text: 'text', export: 'list' },
  'items.recent': { type: 'keyword', segment: true, filter: 'recentItem' },
  'items.bought': { type: 'keyword', segment: true, filter: 'boughtItem', export: 'list' },
  'purchases.orders': { type: 'integer', segment: true, sort: 'orders', export: 'value' },
  'purchases.units': { type: 'integer', segment: true },
  'purchases.totalSpend': { type: 'double', segment: true, sort: 'totalSpend', export: 'value' },
  'purchases.avgOrderValue': { type: 'double', segment: true, export: 'value' },
  'purchases.spend30d': { type: 'double', segment: true },
  'purchases.spend90d': { type: 'double', segment: true },
  'purchases.currency': { type: 'keyword', export: 'value' },
  'purchases.otherCurrencies': { type: 'keyword' },
  'purchases.firstPurchaseAt': { type: 'date', segment: true, export: 'date' },
  'purchases.lastPurchaseAt': { type: 'date', segment: true, export: 'date' },
  'purchases.daysSinceLastPurchase': { type: 'integer', segment: true },
  'purchases.ordersPerMonth': { type: 'double', segment: true },
  'purchases.paymentMethods': { type: 'keyword', segment: true, filter: 'paymentMethod', breakdown: 'paymentMethod' },
  'purchases.preferredPaymentMethod': { type: 'keyword', segment: true },
  'purchases.preferredPriceBand': { type: 'keyword', segment: true, breakdown: 'priceBand' },
  'reviews.count': { type: 'integer', segment: true },
  'reviews.avgRating': { type: 'double', segment: true },
  'lifecycle.stage': {
    type: 'keyword',
    values: LIFECYCLE_STAGES,
    segment: true,
    filter: 'lifecycle',
    facet: 'lifecycle',
    breakdown: 'lifecycle',
    export: 'value',
  },
  'lifecycle.daysSinceLastSeen': { type: 'integer', segment: true },
  'value.tier': { type: 'keyword', values: RFM_TIERS, segment: true, filter: 'tier', facet: 'tier', breakdown: 'tier', export: 'value' },
  'rfm.r': { type: 'integer', segment: true },
  'rfm.f': { type: 'integer', segment: true },
  'rfm.m': { type: 'integer', segment: true },
  'rfm.code': { type: 'keyword', segment: true, export: 'value' },
  'rfm.group': {
    type: 'keyword',
    values: RFM_GROUPS,
    segment: true,
    filter: 'rfmGroup',
    facet: 'rfmGroup',
    breakdown: 'rfmGroup',
    export: 'value',
  },
  'cluster.id': { type: 'integer', segment: true, filter: 'cluster', facet: 'cluster', breakdown: 'cluster', export: 'value' },
  'cluster.label': { type: 'keyword', text: 'text', export: 'value' },
  'cluster.distance': { type: 'double', segment: true },
  'propensity.purchase': { type: 'double', segment: true, sort: 'purchasePropensity', export: 'value' },
  'propensity.churn': { type: 'double', segment: true, sort: 'churnPropensity', export: 'value' },
  'risk.score': { type: 'double', segment: true, sort: 'risk', export: 'value' },
  'risk.level': {
    type: 'keyword',
    values: RISK_LEVELS,
    segment: true,
    filter: 'riskLevel',
    facet: 'riskLevel',
    breakdown: 'riskLevel',
    export: 'value',
  },
  'risk.flagged': { type: 'boolean', segment: true, export: 'value' },
  'risk.reasons': { type: 'keyword', values: RISK_SIGNALS, segment: true, filter: 'riskReason', facet: 'riskReason', export: 'list' },
  'risk.anomaly': { type: 'double', segment: true, sort: 'anomaly', export: 'value' },
  ...MODEL_VERSION_FIELDS,
  updatedAt: { type: 'date', sort: 'updatedAt' },
  derivedAt: { type: 'date' },
  segments: { type: 'keyword', filter: 'segment', facet: 'segment' },
  segmentOutbox: { type: 'object', internal: true },
  state: { type: 'object', internal: true },
} as const satisfies Record<string, ProfileField>;

type Catalogue = typeof FIELDS;

/** Every profile field by its path in the profile index. */
export const PROFILE_FIELDS: Readonly<Catalogue> = FIELDS;
export type ProfileFieldPath = keyof Catalogue;

type Role = 'filter' | 'facet' | 'breakdown' | 'sort' | 'interest';
/** The paths whose entry has `key` set to `value`. */
type PathsWith<K extends keyof ProfileField, V> = {
  [P in keyof Catalogue]: Catalogue[P] extends Record<K, V> ? P : never;
}[keyof Catalogue];
/** The names a role gives fields (`facet: 'region'` → `'region'`). */
type NamesOf<R extends Role> = {
  [P in keyof Catalogue]: Catalogue[P] extends Record<R, infer N extends string> ? N : never;
}[keyof Catalogue];

const entries = Object.entries(PROFILE_FIELDS) as [ProfileFieldPath, ProfileField][];

/** Role name → field path, e.g. `byRole('facet')` → `{ region: 'attributes.region', ... }`, in catalogue order. */
function byRole<R extends Role>(role: R): Readonly<Record<NamesOf<R>, ProfileFieldPath>> {
  const out: Record<string, ProfileFieldPath> = {};
  for (const [path, field] of entries) {
    const name = field[role];
    if (name !== undefined) out[name] = path;
  }
  return out as Record<NamesOf<R>, ProfileFieldPath>;
}

export type SegmentField = PathsWith<'segment', true>;
export type SearchFilter = NamesOf<'filter'>;
export type Facet = NamesOf<'facet'>;
export type Breakdown = NamesOf<'breakdown'>;
export type SortKey = NamesOf<'sort'>;
export type InterestKind = NamesOf<'interest'>;
export type ExportableField = PathsWith<'export', string>;

export const SEARCH_FILTERS = byRole('filter');
export const FACETS = byRole('facet');
export const BREAKDOWNS = byRole('breakdown');
export const SORTS = byRole('sort');
export const INTEREST_PATHS = byRole('interest');

export const SEGMENT_FIELD_PATHS = entries.filter(([, f]) => f.segment).map(([p]) => p) as SegmentField[];
export const EXPORTABLE_FIELDS = entries.filter(([, f]) => f.export).map(([p]) => p) as ExportableField[];

/** The paths free-text search queries: the field itself or its `text` sub-field. */
export const SEARCHABLE_FIELDS: readonly string[] = entries.flatMap(([path, f]) =>
  f.text === undefined || f.personal || f.internal ? [] : [f.text === 'self' ? path : `${path}.text`],
);

/**
 * What the API never returns: personal and internal fields, each object whose catalogued fields are all
 * hidden named once (`contact`, not its three paths), for `_source` excludes.
 */
export const HIDDEN_SOURCE_PATHS: readonly string[] = (() => {
  const hidden = (f: ProfileField): boolean => f.personal === true || f.internal === true;
  const out: string[] = [];
  for (const [path, field] of entries) {
    if (!hidden(field)) continue;
    const top = path.split('.')[0]!;
    const allHidden = entries.every(([p, f]) => (p === top || p.startsWith(`${top}.`) ? hidden(f) : true));
    const name = allHidden ? top : path;
    if (!out.includes(name)) out.push(name);
  }
  return out;
})();

export function profileField(path: string): ProfileField | undefined {
  return Object.hasOwn(PROFILE_FIELDS, path) ? (PROFILE_FIELDS as Record<string, ProfileField>)[path] : undefined;
}
