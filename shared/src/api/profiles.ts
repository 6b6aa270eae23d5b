import { z } from 'zod';
import { BEHAVIOUR_TYPES, IdSchema } from '../events';
import { CONSENT_CHANNELS } from '../consent-channels';
import { LIFECYCLE_STAGES } from '../profile-fields';
import { RISK_LEVELS, RISK_SIGNALS } from '../mining/risk-vocabulary';
import { RFM_GROUPS, RFM_TIERS } from '../mining/rfm';
import { SCORED_MODEL_KINDS } from '../models/kinds';
import { ProfileSearchParams } from '../search/profile-search';
import { json, type ApiRoute } from './route';

/**
 * A profile as the API returns it: the stored document without contact data and internal state. A
 * type-level test holds it equal to `ProfileDoc` minus those, so a field added to one is added to the other.
 */

const Window = z.object({ d7: z.number().int(), d30: z.number().int(), d90: z.number().int(), lifetime: z.number().int() });
const Interest = z.object({ name: z.string(), score: z.number() });
const date = () => z.iso.datetime();

export const PublicProfileSchema = z
  .object({
    userId: IdSchema,
    attributes: z.object({
      gender: z.string().optional(),
      birthYear: z.number().int().optional(),
      age: z.number().int().optional(),
      ageBand: z.string().optional(),
      occupation: z.string().optional(),
      region: z.string().optional(),
      city: z.string().optional(),
      signupDate: date().optional(),
      consents: z.object(
        Object.fromEntries(CONSENT_CHANNELS.map((c) => [c, z.boolean()])) as Record<(typeof CONSENT_CHANNELS)[number], z.ZodBoolean>,
      ),
    }),
    behavior: z.object({
      counts: z.record(z.enum(BEHAVIOUR_TYPES), Window).meta({ description: 'Events by type in the last 7, 30 and 90 UTC days and ever' }),
      eventCount: z.number().int(),
      firstSeen: date().optional(),
      lastSeen: date().optional(),
      activeDays30: z.number().int(),
      recentSearches: z.array(z.string()),
    }),
    interests: z.object({
      categories: z.array(Interest).meta({ description: 'Time-decayed interest scores' }),
      brands: z.array(Interest),
      topCategories: z.array(z.string()),
      topBrands: z.array(z.string()),
    }),
    purchases: z.object({
      orders: z.number().int(),
      units: z.number().int(),
      totalSpend: z.number(),
      avgOrderValue: z.number(),
      spend30d: z.number(),
      spend90d: z.number(),
      currency: z.string().meta({ description: 'The base currency spend is counted in' }),
      otherCurrencies: z.array(z.string()),
      firstPurchaseAt: date().optional(),
      lastPurchaseAt: date().optional(),
      daysSinceLastPurchase: z.number().int().optional(),
      ordersPerMonth: z.number(),
      paymentMethods: z.array(z.string()),
      preferredPaymentMethod: z.string().optional(),
      preferredPriceBand: z.string().optional(),
    }),
    reviews: z.object({ count: z.number().int(), avgRating: z.number().optional() }),
    items: z
      .object({
        recent: z.array(z.string()).meta({ description: 'Items viewed, carted, bought or reviewed, newest first (at most 20)' }),
        bought: z.array(z.string()).meta({ description: 'Items bought in the last 90 days, newest first' }),
      })
      .meta({ description: "The shopper's own items, which recommendations start from and never repeat when bought" }),
    lifecycle: z.object({
      stage: z.enum(LIFECYCLE_STAGES),
      daysSinceLastSeen: z.number().int().optional(),
    }),
    updatedAt: date().meta({ description: 'When the fold last applied events' }),
    derivedAt: date().meta({ description: 'The "now" the time-relative fields were computed for' }),
    segments: z.array(z.string()).optional().meta({ description: 'Materialized segment membership' }),
    value: z
      .object({ tier: z.enum(RFM_TIERS) })
      .optional()
      .meta({ description: 'Value tier from the active RFM model' }),
    rfm: z
      .object({
        r: z.number().int().min(1).max(5).optional(),
        f: z.number().int().min(1).max(5).optional(),
        m: z.number().int().min(1).max(5).optional(),
        code: z.string().optional(),
        group: z.enum(RFM_GROUPS),
      })
      .optional()
      .meta({ description: 'RFM scores 1-5 by population quintiles (absent for a profile that never bought) and the named group' }),
    cluster: z
      .object({ id: z.number().int(), label: z.string(), distance: z.number() })
      .optional()
      .meta({ description: 'The nearest behaviour cluster of the active cluster model; distance in standard deviations' }),
    propensity: z
      .object({ purchase: z.number().min(0).max(1).optional(), churn: z.number().min(0).max(1).optional() })
      .optional()
      .meta({ description: 'Probabilities for the next 30 days from the active propensity models' }),
    risk: z
      .object({
        score: z.number().min(0).max(1),
        level: z.enum(RISK_LEVELS),
        flagged: z.boolean(),
        reasons: z.array(z.enum(RISK_SIGNALS)),
        anomaly: z.number().min(0),
      })
      .optional()
      .meta({ description: 'Risk from the active risk model, with the signals that fired, and the anomaly score' }),
    models: z
      .partialRecord(z.enum(SCORED_MODEL_KINDS), z.number().int())
      .optional()
      .meta({ description: 'The version of every model that scored the profile' }),
  })
  .meta({ id: 'Profile' });
export type PublicProfileShape = z.infer<typeof PublicProfileSchema>;

const Bucket = z.object({ value: z.string(), count: z.number().int() });
export const BucketsSchema = z.record(z.string(), z.array(Bucket));

export const ProfileSearchAnswer = z
  .object({
    total: z.number().int(),
    items: z.array(PublicProfileSchema),
    facets: BucketsSchema.meta({ description: 'The ten most frequent values of each facet asked for' }),
    nextCursor: z.string().optional().meta({ description: 'Pass as `cursor` for the next page; absent on the last page' }),
  })
  .meta({ id: 'ProfileSearchAnswer' });

/** A small, whole profile: what the examples show. */
export const PROFILE_EXAMPLE: PublicProfileShape = {
  userId: 'alice',
  attributes: {
    gender: 'female',
    birthYear: 1990,
    age: 36,
    ageBand: '35-44',
    region: 'Bavaria',
    city: 'Munich',
    consents: { email: true, sms: false, push: false, ads: true, personalization: true },
  },
  behavior: {
    counts: Object.fromEntries(
      BEHAVIOUR_TYPES.map((t) => [t, { d7: 0, d30: 0, d90: 0, lifetime: 0 }]),
    ) as PublicProfileShape['behavior']['counts'],
    eventCount: 3,
    firstSeen: '2026-11-20T09:00:00.000Z',
    lastSeen: '2026-11-23T10:05:00.000Z',
    activeDays30: 2,
    recentSearches: ['margarine'],
  },
  interests: {
    categories: [{ name: 'spreads', score: 1.8 }],
    brands: [{ name: 'Flora', score: 1.2 }],
    topCategories: ['spreads'],
    topBrands: ['Flora'],
  },
  purchases: {
    orders: 1,
    units: 1,
    totalSpend: 59,
    avgOrderValue: 59,
    spend30d: 59,
    spend90d: 59,
    currency: 'EUR',
    otherCurrencies: [],
    firstPurchaseAt: '2026-11-23T10:05:00.000Z',
    lastPurchaseAt: '2026-11-23T10:05:00.000Z',
    daysSinceLastPurchase: 0,
    ordersPerMonth: 1,
    paymentMethods: ['card'],
    preferredPaymentMethod: 'card',
    preferredPriceBand: '50-100',
  },
  reviews: { count: 0 },
  items: { recent: ['sku-123'], bought: ['sku-123'] },
  lifecycle: { stage: 'new', daysSinceLastSeen: 0 },
  updatedAt: '2026-11-23T10:05:01.120Z',
  derivedAt: '2026-11-23T10:05:01.120Z',
  segments: ['spread-lovers'],
};

export const PROFILE_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/v1/users/:id/profile',
    tag: 'profiles',
    scope: 'read',
    summary: "A user's profile",
    description: 'Contact data and internal state are never returned.',
    request: { params: z.object({ id: IdSchema.meta({ description: 'The user id' }) }) },
    responses: {
      200: { description: 'The profile', content: json(PublicProfileSchema, { alice: { summary: 'A profile', value: PROFILE_EXAMPLE } }) },
    },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/v1/profiles/search',
    tag: 'profiles',
    scope: 'read',
    summary: 'Search profiles with free text, filters and facets',
    description:
      'List filters take comma-separated values (any of them matches). Page with `page`/`size` within the first 10,000 ' +
      'results, or with `cursor` (from `nextCursor`) beyond. `sort` is a field name, `-` in front for descending.',
    request: { query: ProfileSearchParams },
    responses: {
      200: {
        description: 'One page of matching profiles',
        content: json(ProfileSearchAnswer, {
          page: {
            summary: 'One match with its facets',
            value: { total: 1, items: [PROFILE_EXAMPLE], facets: { region: [{ value: 'Bavaria', count: 1 }] } },
          },
        }),
      },
    },
    errors: [400, 503],
  },
];
