import type { FeaturePhrase } from '../mining/clusters';
import type { ProfileFeature } from '../mining/features';

/** The behaviour a cluster is told apart by, besides the interest shares of the most common categories. */
export const PROFILE_CLUSTER_FEATURES: readonly ProfileFeature[] = [
  'recency_days',
  'days_since_seen',
  'orders',
  'total_spend',
  'avg_order_value',
  'events_d90_page_view',
  'events_d90_search',
  'events_d90_add_to_cart',
  'cart_conversion_d90',
  'price_band',
];

/** How a cluster's name speaks of each of them. */
export const PROFILE_CLUSTER_PHRASES: readonly FeaturePhrase[] = [
  { feature: 'recency_days', high: 'lapsed', low: 'recent' },
  { feature: 'days_since_seen', high: 'inactive', low: 'active' },
  { feature: 'orders', high: 'frequent', low: 'occasional' },
  { feature: 'total_spend', high: 'high-spend', low: 'low-spend' },
  { feature: 'avg_order_value', high: 'big-basket', low: 'small-basket' },
  { feature: 'events_d90_page_view', high: 'browsing', low: 'few-views' },
  { feature: 'events_d90_search', high: 'searching', low: 'non-searching' },
  { feature: 'events_d90_add_to_cart', high: 'cart-filling', low: 'no-cart' },
  { feature: 'cart_conversion_d90', high: 'converting', low: 'cart-abandoning' },
  { feature: 'price_band', high: 'premium', low: 'bargain-hunting' },
];
