/** The names risk speaks in, apart from the model (so the field catalogue and profile types need nothing else). */

export const RISK_SIGNALS = [
  'review_burst',
  'duplicate_reviews',
  'extreme_ratings',
  'purchase_velocity',
  'payment_methods',
  'order_amount_outlier',
  'cart_abuse',
] as const;
export type RiskSignal = (typeof RISK_SIGNALS)[number];

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
