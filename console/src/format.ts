import type { BehaviourType, Breakdown, ExportField, Facet, Strategy } from './api-types';

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

export const count = (n: number | undefined): string => (n === undefined ? '–' : integer.format(n));
export const num = (n: number | undefined): string => (n === undefined ? '–' : decimal.format(n));
export const pct = (n: number | undefined): string => (n === undefined ? '–' : percent.format(n));
export const money = (n: number | undefined, currency = 'EUR'): string =>
  n === undefined ? '–' : new Intl.NumberFormat('en', { style: 'currency', currency, maximumFractionDigits: 2 }).format(n);
export const when = (iso: string | undefined): string => (iso ? dateTime.format(new Date(iso)) : '–');

/** `at_risk` -> `at risk`. */
export const words = (code: string): string => code.replace(/_/g, ' ');

// Records over the API's own unions: adding a facet, a breakdown or an export field to the API fails the type check
// here until the console names it too.

export const FACET_LABELS: Record<Facet, string> = {
  tier: 'Value tier',
  lifecycle: 'Lifecycle',
  segment: 'Segment',
  cluster: 'Cluster',
  rfmGroup: 'RFM group',
  region: 'Region',
  ageBand: 'Age band',
  gender: 'Gender',
  category: 'Top category',
  riskLevel: 'Risk level',
  riskReason: 'Risk signal',
};

export const BREAKDOWN_LABELS: Record<Breakdown, string> = {
  tier: 'Value tier',
  lifecycle: 'Lifecycle',
  region: 'Region',
  ageBand: 'Age band',
  gender: 'Gender',
  category: 'Top category',
  brand: 'Top brand',
  paymentMethod: 'Payment method',
  priceBand: 'Price band',
  rfmGroup: 'RFM group',
  cluster: 'Cluster',
  riskLevel: 'Risk level',
};

export const EVENT_LABELS: Record<BehaviourType, string> = {
  page_view: 'Product views',
  search: 'Searches',
  add_to_cart: 'Added to cart',
  remove_from_cart: 'Removed from cart',
  purchase: 'Purchases',
  review: 'Reviews',
};

export const STRATEGY_LABELS: Record<Strategy, string> = {
  hybrid: 'Hybrid (all blended)',
  item_cf: 'Bought together (item CF)',
  als: 'Taste (ALS)',
  content: 'Similar content',
  user_cf: 'Similar shoppers (user CF)',
  popular: 'Popular',
};

/** Export columns, grouped as a form shows them. */
export const EXPORT_FIELD_GROUPS = [
  { label: 'Identity and contact', fields: ['userId', 'emailSha256', 'phoneSha256', 'phoneDigitsSha256', 'email', 'phone'] },
  {
    label: 'Attributes',
    fields: [
      'attributes.gender',
      'attributes.age',
      'attributes.ageBand',
      'attributes.occupation',
      'attributes.region',
      'attributes.city',
      'attributes.signupDate',
      'attributes.consents.email',
      'attributes.consents.sms',
      'attributes.consents.push',
      'attributes.consents.ads',
      'attributes.consents.personalization',
    ],
  },
  {
    label: 'Behaviour and purchases',
    fields: [
      'behavior.firstSeen',
      'behavior.lastSeen',
      'interests.topCategories',
      'interests.topBrands',
      'items.bought',
      'purchases.orders',
      'purchases.totalSpend',
      'purchases.avgOrderValue',
      'purchases.currency',
      'purchases.firstPurchaseAt',
      'purchases.lastPurchaseAt',
      'lifecycle.stage',
    ],
  },
  {
    label: 'Scores',
    fields: [
      'value.tier',
      'rfm.code',
      'rfm.group',
      'cluster.id',
      'cluster.label',
      'propensity.purchase',
      'propensity.churn',
      'risk.score',
      'risk.level',
      'risk.flagged',
      'risk.reasons',
      'risk.anomaly',
    ],
  },
] as const satisfies readonly { label: string; fields: readonly ExportField[] }[];

type Listed = (typeof EXPORT_FIELD_GROUPS)[number]['fields'][number];
/** Every export field is in a group: the type is `true` only when none is missing. */
export const EVERY_EXPORT_FIELD_LISTED: [Exclude<ExportField, Listed>] extends [never] ? true : Exclude<ExportField, Listed> = true;
