import { ValidationError } from '../errors';
import { BEHAVIOUR_TYPES, type BehaviourType } from '../events';
import { DEFAULT_PROFILE_OPTIONS } from '../profile/options';
import type { ProfileDoc } from '../profile/types';
import type { RfmInput } from './rfm';

/**
 * The numeric features the models read of a live profile: one function for training (over a page walk of the
 * profile index) and for scoring (in the indexer's write), so the two can never disagree. Every value is a
 * finite number >= 0; what a profile lacks has a stated stand-in (a profile that never bought has a purchase
 * recency of `NEVER_DAYS`).
 */

/** Stand-in for "never": three years, the longest event history ingest accepts. */
export const NEVER_DAYS = 1095;

const EVENT_FEATURES = BEHAVIOUR_TYPES.map((type) => `events_d90_${type}` as const);
type EventFeature = `events_d90_${BehaviourType}`;

export const PROFILE_FEATURES = [
  /** Days since the last purchase (`NEVER_DAYS` when none). */
  'recency_days',
  /** Days since the last activity of any kind. */
  'days_since_seen',
  /** Days since the first activity. */
  'tenure_days',
  'orders',
  'units',
  'total_spend',
  'avg_order_value',
  'spend_30d',
  'spend_90d',
  'orders_per_month',
  'active_days_30',
  ...EVENT_FEATURES,
  /** Purchases per add-to-cart in the last 90 days (0 without carts). */
  'cart_conversion_d90',
  'reviews',
  /** 0 without reviews. */
  'avg_rating',
  /** The preferred price band as its rank in the configured bands (0: none, 1: the cheapest...). */
  'price_band',
  'payment_methods',
] as const;
export type ProfileFeature = (typeof PROFILE_FEATURES)[number];

const days = (later: string | undefined, earlier: string | undefined): number | undefined => {
  if (later === undefined || earlier === undefined) return undefined;
  const d = (Date.parse(later) - Date.parse(earlier)) / 86_400_000;
  return Number.isFinite(d) ? Math.max(0, d) : undefined;
};
const nonNegative = (value: number | undefined, fallback = 0): number =>
  value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;

/** Every feature of one profile, by name. */
export function profileFeatures(
  doc: ProfileDoc,
  priceBands: readonly { name: string }[] = DEFAULT_PROFILE_OPTIONS.priceBands,
): Record<ProfileFeature, number> {
  const p = doc.purchases;
  const counts = doc.behavior.counts;
  const d90 = (type: BehaviourType): number => nonNegative(counts[type]?.d90);
  const band = p.preferredPriceBand === undefined ? -1 : priceBands.findIndex((b) => b.name === p.preferredPriceBand);
  const events = Object.fromEntries(BEHAVIOUR_TYPES.map((type) => [`events_d90_${type}`, d90(type)])) as Record<EventFeature, number>;
  return {
    recency_days: Math.min(NEVER_DAYS, nonNegative(p.daysSinceLastPurchase, NEVER_DAYS)),
    days_since_seen: Math.min(NEVER_DAYS, nonNegative(doc.lifecycle.daysSinceLastSeen, NEVER_DAYS)),
    tenure_days: Math.min(NEVER_DAYS, nonNegative(days(doc.derivedAt, doc.behavior.firstSeen))),
    orders: nonNegative(p.orders),
    units: nonNegative(p.units),
    total_spend: nonNegative(p.totalSpend),
    avg_order_value: nonNegative(p.avgOrderValue),
    spend_30d: nonNegative(p.spend30d),
    spend_90d: nonNegative(p.spend90d),
    orders_per_month: nonNegative(p.ordersPerMonth),
    active_days_30: nonNegative(doc.behavior.activeDays30),
    ...events,
    cart_conversion_d90: d90('add_to_cart') === 0 ? 0 : d90('purchase') / d90('add_to_cart'),
    reviews: nonNegative(doc.reviews.count),
    avg_rating: nonNegative(doc.reviews.avgRating),
    price_band: band + 1,
    payment_methods: p.paymentMethods.length,
  };
}

/** The named features of a profile in the order a model lists them; a name that is not a feature is refused. */
export function profileFeatureVector(doc: ProfileDoc, features: readonly string[]): number[] {
  const unknown = features.filter((f) => !(PROFILE_FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0) {
    throw new ValidationError(`the model names features profiles do not have: ${unknown.join(', ')}`, [
      { path: 'features', reason: `use names among ${PROFILE_FEATURES.join(', ')}` },
    ]);
  }
  const all = profileFeatures(doc);
  return features.map((f) => all[f as ProfileFeature]);
}

/** Each named category's share of the profile's (decayed) category interest, 0 for one it shows none in. */
export function categoryShares(doc: ProfileDoc, categories: readonly string[]): number[] {
  const scores = new Map<string, number>();
  let total = 0;
  for (const { name, score } of doc.interests.categories) {
    if (!Number.isFinite(score) || score <= 0) continue;
    scores.set(name, (scores.get(name) ?? 0) + score);
    total += score;
  }
  return categories.map((c) => (total === 0 ? 0 : (scores.get(c) ?? 0) / total));
}

/** What RFM reads of a profile. */
export function rfmInput(doc: ProfileDoc): RfmInput {
  return {
    recencyDays: doc.purchases.orders > 0 ? doc.purchases.daysSinceLastPurchase : undefined,
    frequency: doc.purchases.orders,
    monetary: doc.purchases.totalSpend,
  };
}
