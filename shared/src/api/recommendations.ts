import { z } from 'zod';
import { IdSchema } from '../events';
import { Limits } from '../limits';
import { SERVED_MODEL_KINDS, type ServedModelKind } from '../models/kinds';
import { BASE_STRATEGIES, STRATEGIES } from '../recommend/strategies';
import { json, type ApiRoute } from './route';

/** The recommendation API: per shopper, per item (similar, also bought), and the click-through of what was shown. */

const REASON_CODES = [
  'viewed',
  'carted',
  'bought',
  'similar_shoppers',
  'taste',
  'popular',
  'trending',
  'popular_in_segment',
  'popular_in_cluster',
  'popular_in_category',
] as const;

const ids = z
  .string()
  .max(20_000)
  .transform((text, ctx) => {
    const list = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (list.length > 500) ctx.addIssue({ code: 'custom', message: 'at most 500 ids' });
    for (const id of list) {
      const checked = IdSchema.safeParse(id);
      if (!checked.success)
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(id.slice(0, 40))} ${checked.error.issues[0]?.message}` });
    }
    return list;
  });

/** Model versions to answer with instead of the active ones: `collaborative:4,rules:2`. */
export type ModelPins = Partial<Record<ServedModelKind, number>>;

const pins = z
  .string()
  .max(200)
  .transform((text, ctx): ModelPins => {
    const out: ModelPins = {};
    for (const part of text.split(',').map((s) => s.trim())) {
      if (part === '') continue;
      const match = /^([a-z]+):([0-9]{1,9})$/.exec(part);
      const kind = match?.[1] as ServedModelKind | undefined;
      if (!match || !kind || !(SERVED_MODEL_KINDS as readonly string[]).includes(kind) || Number(match[2]) < 1) {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(part.slice(0, 40))} is not kind:version with kind one of ${SERVED_MODEL_KINDS.join(', ')} and a version from 1`,
        });
        continue;
      }
      if (out[kind] !== undefined) ctx.addIssue({ code: 'custom', message: `${kind} is pinned twice` });
      out[kind] = Number(match[2]);
    }
    return out;
  });

const price = z.coerce.number().finite().nonnegative().max(1e9);

const Filters = {
  k: z.coerce
    .number()
    .int()
    .min(1)
    .max(Limits.maxRecommendations)
    .default(10)
    .meta({ description: `How many items (1 to ${Limits.maxRecommendations})` }),
  category: z
    .string()
    .min(1)
    .max(700)
    .optional()
    .meta({ description: 'Only items in this category: a root (`Outdoor`) or a path (`Outdoor > Tents`)' }),
  minPrice: price.optional(),
  maxPrice: price.optional(),
  exclude: ids.optional().meta({ description: 'Comma-separated item ids never to return (already on the page, say)' }),
  models: pins.optional().meta({
    description:
      'Model versions to answer with instead of the active ones, as `kind:version` pairs (`collaborative:4,rules:2`): try a trained version before promoting it, or compare with a retired one. `404` for a version that does not exist, `409` for one that cannot be served (a content version other than the active one: items carry only its vectors; a collaborative version whose factor indices were deleted).',
  }),
};

const priceOrder = (q: { minPrice?: number; maxPrice?: number }) =>
  q.minPrice === undefined || q.maxPrice === undefined || q.minPrice <= q.maxPrice;

export const RecommendationQuery = z
  .strictObject({
    ...Filters,
    strategy: z.enum(STRATEGIES).default('hybrid').meta({
      description:
        'Which recommender answers. `hybrid` blends the others, leaving out `als` and `user_cf` when the collaborative model lost to popularity on its own hold-out (its `quality.ndcg` against `quality.popularNdcg`)',
    }),
    diversity: z.coerce
      .number()
      .min(0)
      .max(1)
      .default(0)
      .meta({ description: '0: by relevance only; up to 1: more spread over categories (maximal marginal relevance)' }),
    segment: IdSchema.optional().meta({ description: 'For `popular`: popular among this segment’s members' }),
  })
  .refine(priceOrder, { message: 'minPrice must not exceed maxPrice', path: ['minPrice'] });
export type RecommendationRequest = z.output<typeof RecommendationQuery>;

export const ItemRecommendationQuery = z
  .strictObject(Filters)
  .refine(priceOrder, { message: 'minPrice must not exceed maxPrice', path: ['minPrice'] });
export type ItemRecommendationRequest = z.output<typeof ItemRecommendationQuery>;

export const RecommendationUserParams = z.object({ id: IdSchema.meta({ description: 'The user id' }) });
export const RecommendationItemParams = z.object({ id: IdSchema.meta({ description: 'The item id' }) });

const ReasonSchema = z.object({
  code: z.enum(REASON_CODES),
  text: z.string(),
  itemId: z.string().optional().meta({ description: 'The item of the shopper’s history it grew from' }),
});

export const RecommendedItemSchema = z
  .object({
    itemId: z.string(),
    position: z.number().int().min(1),
    score: z.number(),
    strategies: z.array(z.enum(BASE_STRATEGIES)).meta({ description: 'Every strategy that proposed it, strongest first' }),
    reason: ReasonSchema,
    title: z.string(),
    category: z.array(z.string()),
    brand: z.string().optional(),
    price: z.number(),
  })
  .meta({ id: 'RecommendedItem' });
export type RecommendedItem = z.infer<typeof RecommendedItemSchema>;

const ModelVersions = z
  .object({ content: z.number().int().optional(), collaborative: z.number().int().optional(), rules: z.number().int().optional() })
  .meta({ description: 'The model versions that answered' });

export const RecommendationsSchema = z
  .object({
    userId: z.string(),
    requestId: z.string().meta({ description: 'Send it back with the impression and click events of these items' }),
    strategy: z.enum(STRATEGIES),
    /** Set when the shopper has no history yet and popular items answered instead. */
    fallback: z.enum(['cold_start']).optional(),
    items: z.array(RecommendedItemSchema),
    models: ModelVersions,
  })
  .meta({ id: 'Recommendations' });
export type Recommendations = z.infer<typeof RecommendationsSchema>;

export const ItemRecommendationsSchema = z
  .object({ itemId: z.string(), requestId: z.string(), items: z.array(RecommendedItemSchema), models: ModelVersions })
  .meta({ id: 'ItemRecommendations' });
export type ItemRecommendations = z.infer<typeof ItemRecommendationsSchema>;

export const CtrQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).default(30).meta({ description: 'Feedback events of the last this many days' }),
});

const Rate = {
  impressions: z.number().int(),
  clicks: z.number().int(),
  ctr: z.number().meta({ description: 'clicks / impressions (0 without impressions)' }),
};

export const RecommendationCtrSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    ...Rate,
    strategies: z.array(z.object({ strategy: z.string(), ...Rate, positions: z.array(z.object({ position: z.number().int(), ...Rate })) })),
  })
  .meta({ id: 'RecommendationCtr' });
export type RecommendationCtr = z.infer<typeof RecommendationCtrSchema>;

const item: RecommendedItem = {
  itemId: 'sku-42',
  position: 1,
  score: 0.81,
  strategies: ['item_cf', 'content'],
  reason: { code: 'viewed', text: 'because you viewed Trail tent 2P', itemId: 'sku-7' },
  title: 'Trail tent 3P',
  category: ['Outdoor', 'Tents'],
  brand: 'Northwind',
  price: 189,
};
const models = { content: 2, collaborative: 3, rules: 1 };

export const RECOMMENDATION_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/v1/users/:id/recommendations',
    tag: 'recommendations',
    scope: 'read',
    summary: 'What this shopper should see next, each item with its score, strategies and reason',
    description:
      'Never returns an item the shopper bought within the configured window (`RECOMMEND_BOUGHT_DAYS`), one already in their recent history, an out-of-stock item or an `exclude`d one. Items shown often without a click are damped. A shopper with no history, or unknown, gets popular items (`fallback: cold_start`). `409` when the strategy needs a model that is not active, or a pinned version (`models`) cannot be served; `404` for a pinned version that does not exist.',
    request: { params: RecommendationUserParams, query: RecommendationQuery },
    responses: {
      200: {
        description: 'The recommendations',
        content: json(RecommendationsSchema, {
          hybrid: { summary: 'A hybrid answer', value: { userId: 'u-1', requestId: 'r-5f0c', strategy: 'hybrid', items: [item], models } },
        }),
      },
    },
    errors: [400, 404, 409, 503],
  },
  {
    method: 'get',
    path: '/v1/items/:id/similar',
    tag: 'recommendations',
    scope: 'read',
    summary: 'Items whose content (title, description, category, brand, tags, price band) is closest to this one',
    description:
      'kNN over the content vectors of the active content model. `404` for an unknown item, `409` without an active content model.',
    request: { params: RecommendationItemParams, query: ItemRecommendationQuery },
    responses: {
      200: {
        description: 'Similar items',
        content: json(ItemRecommendationsSchema, {
          similar: {
            summary: 'Similar items',
            value: {
              itemId: 'sku-7',
              requestId: 'r-77aa',
              items: [{ ...item, strategies: ['content'], reason: { code: 'viewed', text: 'similar to Trail tent 2P', itemId: 'sku-7' } }],
              models,
            },
          },
        }),
      },
    },
    errors: [400, 404, 409, 503],
  },
  {
    method: 'get',
    path: '/v1/items/:id/also-bought',
    tag: 'recommendations',
    scope: 'read',
    summary: 'Items bought together with this one: co-occurrence neighbours and association rules',
    description: '`404` for an unknown item, `409` without an active collaborative or rules model.',
    request: { params: RecommendationItemParams, query: ItemRecommendationQuery },
    responses: {
      200: {
        description: 'Items bought with it',
        content: json(ItemRecommendationsSchema, {
          alsoBought: {
            summary: 'Also bought',
            value: {
              itemId: 'sku-7',
              requestId: 'r-88bb',
              items: [
                { ...item, strategies: ['item_cf'], reason: { code: 'bought', text: 'often bought with Trail tent 2P', itemId: 'sku-7' } },
              ],
              models,
            },
          },
        }),
      },
    },
    errors: [400, 404, 409, 503],
  },
  {
    method: 'get',
    path: '/v1/insights/recommendations',
    tag: 'insights',
    scope: 'read',
    summary: 'Click-through of the recommendations shown: by strategy and by position',
    description: 'Counted from the `recommendation_impression` and `recommendation_click` events in the history.',
    request: { query: CtrQuery },
    responses: {
      200: {
        description: 'Click-through rates',
        content: json(RecommendationCtrSchema, {
          ctr: {
            summary: 'Two strategies',
            value: {
              from: '2026-11-01T00:00:00.000Z',
              to: '2026-12-01T00:00:00.000Z',
              impressions: 2000,
              clicks: 90,
              ctr: 0.045,
              strategies: [
                {
                  strategy: 'hybrid',
                  impressions: 1500,
                  clicks: 75,
                  ctr: 0.05,
                  positions: [{ position: 1, impressions: 150, clicks: 20, ctr: 0.1333 }],
                },
                {
                  strategy: 'popular',
                  impressions: 500,
                  clicks: 15,
                  ctr: 0.03,
                  positions: [{ position: 1, impressions: 50, clicks: 4, ctr: 0.08 }],
                },
              ],
            },
          },
        }),
      },
    },
    errors: [400, 503],
  },
];
