import { ValidationError } from '../errors';
import { categoryShares, PROFILE_FEATURES, profileFeatures, type ProfileFeature } from '../mining/features';
import type { ProfileDoc } from '../profile/types';

/**
 * The names a model may list as features: every profile feature (`recency_days`, `orders`...), and
 * `category:<name>`, the profile's share of interest in that root category. One reading of a profile for
 * training and for scoring, so a model sees at scoring exactly what it was fitted on.
 */

const CATEGORY = 'category:';

/** The feature name of a category's interest share. */
export function categoryFeature(category: string): string {
  return `${CATEGORY}${category}`;
}

/** The features among `names` that profiles do not have (empty when the model fits the profile). */
export function unknownFeatures(names: readonly string[]): string[] {
  return names.filter(
    (name) => !(PROFILE_FEATURES as readonly string[]).includes(name) && !(name.startsWith(CATEGORY) && name.length > CATEGORY.length),
  );
}

/** Refuses a feature list with a name profiles do not have, naming each one and what names are accepted. */
export function assertProfileFeatures(names: readonly string[], what = 'the model'): void {
  const unknown = unknownFeatures(names);
  if (unknown.length === 0) return;
  throw new ValidationError(
    `${what} reads features profiles do not have: ${unknown.join(', ')}`,
    unknown.map((name) => ({
      path: `features.${name}`,
      reason: `not a profile feature; use one of ${PROFILE_FEATURES.join(', ')} or category:<name>`,
    })),
  );
}

/**
 * Reads a profile's features once for several models: `vector(names)` returns them in the given order. The
 * names must have passed `assertProfileFeatures` (a model is checked when it is loaded, not on every write).
 */
export class ProfileInput {
  private values: Record<ProfileFeature, number> | undefined;

  constructor(readonly doc: ProfileDoc) {}

  /** Every profile feature by name, read once. */
  features(): Readonly<Record<ProfileFeature, number>> {
    return (this.values ??= profileFeatures(this.doc));
  }

  vector(names: readonly string[]): number[] {
    this.values ??= profileFeatures(this.doc);
    const categories = names.filter((n) => n.startsWith(CATEGORY));
    const shares =
      categories.length === 0
        ? []
        : categoryShares(
            this.doc,
            categories.map((n) => n.slice(CATEGORY.length)),
          );
    let next = 0;
    return names.map((name) => (name.startsWith(CATEGORY) ? shares[next++]! : this.values![name as ProfileFeature]));
  }
}
