import { BEHAVIOUR_TYPES, Gender, type BehaviourType } from '../events';
import type { LifecycleStage } from '../profile/types';

/**
 * The profile fields segments may use: the one place to add one. A field's name is its path in the
 * profile index; its kind decides the operators it takes and how values compare. The mapping in
 * infra/elasticsearch/indices/profiles.json must give it the matching type (a unit test checks).
 */

export type FieldKind = 'keyword' | 'number' | 'date' | 'boolean';
export type Operator = 'eq' | 'in' | 'range' | 'exists' | 'prefix';

export interface FieldSpec {
  kind: FieldKind;
  /** Number fields: mapped as `integer` (32-bit) rather than `double`. */
  integer?: boolean;
  /** Keyword fields with a closed vocabulary: values outside it are rejected as typos. */
  values?: readonly string[];
}

export const OPERATORS: Record<FieldKind, readonly Operator[]> = {
  keyword: ['eq', 'in', 'prefix', 'exists'],
  number: ['eq', 'in', 'range', 'exists'],
  date: ['range', 'exists'],
  boolean: ['eq', 'exists'],
};

const keyword = (values?: readonly string[]): FieldSpec => (values ? { kind: 'keyword', values } : { kind: 'keyword' });
const integer = (): FieldSpec => ({ kind: 'number', integer: true });
const double = (): FieldSpec => ({ kind: 'number' });
const date = (): FieldSpec => ({ kind: 'date' });
const boolean = (): FieldSpec => ({ kind: 'boolean' });

const LIFECYCLE_STAGES = Object.keys({
  registered: 1,
  new: 1,
  active: 1,
  at_risk: 1,
  dormant: 1,
} satisfies Record<LifecycleStage, 1>) as LifecycleStage[];

const BASE_FIELDS = {
  userId: keyword(),
  'attributes.gender': keyword(Gender.options),
  'attributes.ageBand': keyword(),
  'attributes.age': integer(),
  'attributes.birthYear': integer(),
  'attributes.occupation': keyword(),
  'attributes.region': keyword(),
  'attributes.city': keyword(),
  'attributes.signupDate': date(),
  'attributes.consents.email': boolean(),
  'attributes.consents.sms': boolean(),
  'attributes.consents.push': boolean(),
  'attributes.consents.ads': boolean(),
  'attributes.consents.personalization': boolean(),
  'behavior.eventCount': integer(),
  'behavior.firstSeen': date(),
  'behavior.lastSeen': date(),
  'behavior.activeDays30': integer(),
  'interests.topCategories': keyword(),
  'interests.topBrands': keyword(),
  'purchases.orders': integer(),
  'purchases.units': integer(),
  'purchases.totalSpend': double(),
  'purchases.avgOrderValue': double(),
  'purchases.spend30d': double(),
  'purchases.spend90d': double(),
  'purchases.firstPurchaseAt': date(),
  'purchases.lastPurchaseAt': date(),
  'purchases.daysSinceLastPurchase': integer(),
  'purchases.ordersPerMonth': double(),
  'purchases.paymentMethods': keyword(),
  'purchases.preferredPaymentMethod': keyword(),
  'purchases.preferredPriceBand': keyword(),
  'reviews.count': integer(),
  'reviews.avgRating': double(),
  'lifecycle.stage': keyword(LIFECYCLE_STAGES),
  'lifecycle.daysSinceLastSeen': integer(),
} satisfies Record<string, FieldSpec>;

/** The keys of a profile's per-behaviour window counts (`behavior.counts.<type>.<window>`). */
export const COUNT_WINDOWS = ['d7', 'd30', 'd90', 'lifetime'] as const;
export type CountWindow = (typeof COUNT_WINDOWS)[number];
export type CountField = `behavior.counts.${BehaviourType}.${CountWindow}`;

export function countField(type: BehaviourType, window: CountWindow): CountField {
  return `behavior.counts.${type}.${window}`;
}

export type SegmentField = keyof typeof BASE_FIELDS | CountField;

export const SEGMENT_FIELDS: Readonly<Record<SegmentField, FieldSpec>> = {
  ...BASE_FIELDS,
  ...(Object.fromEntries(BEHAVIOUR_TYPES.flatMap((t) => COUNT_WINDOWS.map((w) => [countField(t, w), integer()]))) as Record<
    CountField,
    FieldSpec
  >),
};

export function fieldSpec(name: string): FieldSpec | undefined {
  return Object.hasOwn(SEGMENT_FIELDS, name) ? SEGMENT_FIELDS[name as SegmentField] : undefined;
}

/** Nested interest lists (`{ name, score }` objects) that `interest` conditions look into. */
export const INTEREST_PATHS = { category: 'interests.categories', brand: 'interests.brands' } as const;
export type InterestKind = keyof typeof INTEREST_PATHS;

/** Catalogue fields closest to a misspelt name, best first. */
export function closeFields(name: string, max = 3): SegmentField[] {
  const lower = name.toLowerCase();
  const last = lower.split('.').pop() ?? lower;
  const scored = (Object.keys(SEGMENT_FIELDS) as SegmentField[]).map((field) => {
    const f = field.toLowerCase();
    const fLast = f.split('.').pop() ?? f;
    const distance = Math.min(editDistance(lower, f), editDistance(last, fLast) + (f.endsWith(`.${last}`) ? 0 : 1));
    return { field, distance, limit: Math.max(2, Math.floor(Math.min(last.length, fLast.length) / 3)) };
  });
  return scored
    .filter((s) => s.distance <= s.limit)
    .sort((a, b) => a.distance - b.distance || (a.field < b.field ? -1 : 1))
    .slice(0, max)
    .map((s) => s.field);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
