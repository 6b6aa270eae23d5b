import { z } from 'zod';

/**
 * The collaborative model: implicit-feedback ALS factors and item co-occurrence neighbours, both fitted on one read
 * of the user x item interactions in the events index. The factors are too large for a model document: each
 * training run writes them to an index pair of its own (`<prefix>-item-factors-<run>` and
 * `<prefix>-user-factors-<run>`), and promotion points the `<prefix>-item-factors` and `<prefix>-user-factors`
 * aliases at the pair. The document keeps what serving needs besides: the Gram matrix that folds in users who acted
 * after the training, and the parameters.
 */

/** How much one event says about a user's taste for an item; events not listed count nothing. */
export const DEFAULT_INTERACTION_WEIGHTS = {
  purchase: 5,
  add_to_cart: 3,
  review: 2,
  page_view: 1,
  recommendation_click: 1,
} as const;

export const INTERACTION_TYPES = Object.keys(DEFAULT_INTERACTION_WEIGHTS) as (keyof typeof DEFAULT_INTERACTION_WEIGHTS)[];

const weight = z.number().min(0).max(100);

export const CollaborativeStateSchema = z.strictObject({
  /** The training run's token in the factor index names. */
  run: z.string().regex(/^[a-z0-9]+$/),
  itemIndex: z.string(),
  userIndex: z.string(),
  factors: z.number().int().min(2).max(256),
  regularization: z.number().positive(),
  alpha: z.number().positive(),
  /** YᵀY of the item factors, row-major f x f. */
  gram: z.array(z.number()),
  weights: z.strictObject({
    purchase: weight,
    add_to_cart: weight,
    review: weight,
    page_view: weight,
    recommendation_click: weight,
  }),
  users: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
  pairs: z.number().int().nonnegative(),
});
export type CollaborativeState = z.infer<typeof CollaborativeStateSchema>;

/** One item's co-occurrence neighbour as stored with its factors. */
export interface StoredNeighbour {
  itemId: string;
  score: number;
  count: number;
  lift: number;
}

/** A document of an item factors index. */
export interface ItemFactorsDoc {
  itemId: string;
  vector: number[];
  neighbours: StoredNeighbour[];
  inStock?: boolean;
  categoryPath?: string[];
  price?: number;
}

export interface UserFactorsDoc {
  userId: string;
  vector: number[];
}
