/**
 * The recommendation strategies the query service answers with. `hybrid` blends the others; every item it
 * returns says which strategies produced it and why it is there.
 */
export const BASE_STRATEGIES = ['item_cf', 'als', 'content', 'user_cf', 'popular'] as const;
export type BaseStrategy = (typeof BASE_STRATEGIES)[number];

export const STRATEGIES = [...BASE_STRATEGIES, 'hybrid'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function isStrategy(value: string): value is Strategy {
  return (STRATEGIES as readonly string[]).includes(value);
}

/** Why an item is recommended: a code for programs and a sentence for people. */
export type ReasonCode =
  | 'viewed'
  | 'carted'
  | 'bought'
  | 'similar_shoppers'
  | 'taste'
  | 'popular'
  | 'trending'
  | 'popular_in_segment'
  | 'popular_in_cluster'
  | 'popular_in_category';

export interface Reason {
  code: ReasonCode;
  text: string;
  /** The item of the user's own history the recommendation grew from ("because you viewed X"). */
  itemId?: string;
}

/** One strategy's candidate: higher scores are better; scores are comparable within one strategy's list only. */
export interface Candidate {
  itemId: string;
  score: number;
  reason: Reason;
}
